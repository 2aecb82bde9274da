#include "sluice/handlers/illumina/monitor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "sluice/handlers/illumina/run_folder.hpp"
#include "sluice/handlers/illumina/run_journal.hpp"
#include "sluice/handlers/illumina/run_log.hpp"
#include "sluice/handlers/illumina/run_upload.hpp"
#include "sluice/handlers/illumina/samplesheet.hpp"
#include "sluice/handlers/illumina/slack.hpp"

namespace sluice::illumina {

namespace {

/// "Xm Ys", as s3_upload logs durations.
std::string MinutesSeconds(std::chrono::steady_clock::duration elapsed) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  return fmt::format("{}m {}s", seconds / 60, seconds % 60);
}

void Post(MonitorEnvironment& environment, const std::string& url, const std::string& body) {
  if (url.empty() || !environment.post_json) return;
  if (auto posted = environment.post_json(url, body); !posted) {
    // The URL itself is a secret (a Slack webhook): only the error's message is logged.
    spdlog::warn("could not post to the webhook: {}", posted.error().message);
  }
}

void Alert(const MonitorConfig& config, MonitorEnvironment& environment, const std::string& text) {
  Post(environment, config.AlertWebhook(), SlackPayload(text));
}

/// Paths Manifest.tsv (NovaSeq X: `relative path<TAB>checksum` per line) lists that the run
/// does not hold, unless the exclude patterns removed them on purpose. Its checksums are not
/// checked: their algorithm is not documented (research/s3_upload.md §7).
std::vector<std::string> MissingFromManifest(const std::filesystem::path& run_dir,
                                             const RunListing& listing) {
  auto text = ReadTextFile(run_dir / "Manifest.tsv", 64 * 1024 * 1024);
  if (!text) return {};
  std::set<std::string, std::less<>> present;
  for (const auto& file : listing.files) present.insert(file.relative_path);
  for (const auto& path : listing.excluded) present.insert(path);
  std::vector<std::string> missing;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view path = line.substr(0, line.find('\t'));
    if (path.empty()) continue;
    if (!present.contains(path)) missing.emplace_back(path);
  }
  return missing;
}

/// A run that passed every check, waiting for its stability look and upload.
struct Candidate {
  const MonitorSection* section = nullptr;
  std::filesystem::path run_dir;
  std::string run_name;
  std::string key_prefix;
  RunListing listing;
  std::optional<RunLog> log;
};

/// Why a complete run of `section` is not a candidate, or nullopt when it is one. Held runs
/// alert once.
class Planner {
 public:
  Planner(const MonitorConfig& config, MonitorEnvironment& environment, MonitorReport& report,
          bool dry_run)
      : config_(config), environment_(environment), report_(report), dry_run_(dry_run) {}

  /// Adds the candidate runs of `monitored_dir` to `out`.
  Status Scan(const MonitorSection& section, const std::filesystem::path& monitored_dir,
              std::vector<Candidate>& out, std::set<std::string>& seen_runs) {
    SLUICE_ASSIGN_OR_RETURN(const auto folders, ListRunFolders(monitored_dir));
    for (const auto& run_dir : folders) {
      auto candidate = Consider(section, run_dir);
      if (!candidate) continue;
      // State is keyed by run name (§1.4): a run matched twice is uploaded once (bug B11).
      if (!seen_runs.insert(candidate->run_name).second) {
        spdlog::warn("{}: matched by more than one monitor section; uploading it once, with "
                     "the first",
                     candidate->run_name);
        continue;
      }
      out.push_back(std::move(*candidate));
    }
    return Ok();
  }

 private:
  std::optional<Candidate> Consider(const MonitorSection& section,
                                    const std::filesystem::path& run_dir) {
    const auto name = RunFolderName(run_dir);
    if (!name) return std::nullopt;
    const auto completion = CheckRunCompletion(run_dir, config_.completion);
    if (!completion) {
      spdlog::warn("{}: {}", run_dir.string(), completion.error().ToString());
      return std::nullopt;
    }
    if (!completion->is_run) {
      spdlog::debug("{}: not a run folder (no RunInfo.xml)", run_dir.string());
      return std::nullopt;
    }
    if (!completion->complete) {
      spdlog::info("{}: not complete yet: {}", *name, completion->reason);
      return std::nullopt;
    }
    auto log = ReadRunLogFile(config_.log_dir, *name);
    if (!log) {
      spdlog::error("{}: cannot read its state log: {}", *name, log.error().ToString());
      return std::nullopt;
    }
    const auto run_info_mtime = RunInfoMtime(run_dir);
    const auto eligibility =
        DecideEligibility(StateOf(*log), run_info_mtime.value_or(environment_.now()),
                          environment_.now(), config_.max_age);
    if (eligibility == RunEligibility::AlreadyUploaded || eligibility == RunEligibility::TooOld) {
      spdlog::debug("{}: {}", *name, ToString(eligibility));
      return std::nullopt;
    }
    if (!SamplesAllowed(section, run_dir, *name)) return std::nullopt;
    auto listing = EnumerateRunFiles(run_dir, section.exclude);
    if (!listing) {
      spdlog::error("{}: cannot list its files: {}", *name, listing.error().ToString());
      return std::nullopt;
    }
    if (const auto missing = MissingFromManifest(run_dir, *listing); !missing.empty()) {
      Hold(*name, fmt::format("Manifest.tsv lists {} file(s) the run folder does not hold, e.g. {}",
                              missing.size(), missing.front()));
      return std::nullopt;
    }
    auto prefix = RunKeyPrefix(section.remote_path, *name);
    if (!prefix) {
      spdlog::error("{}: {}", *name, prefix.error().ToString());
      return std::nullopt;
    }
    return Candidate{&section, run_dir, *name, *prefix, std::move(*listing), std::move(*log)};
  }

  /// The samplesheet rules (§1.5): differing sheets hold the run (one alert); with a
  /// sample_regex every sample must match it, else the run belongs to another section.
  bool SamplesAllowed(const MonitorSection& section, const std::filesystem::path& run_dir,
                      const std::string& name) {
    auto sheets = ReadSamplesheets(run_dir);
    if (!sheets) {
      spdlog::error("{}: cannot read its samplesheets: {}", name, sheets.error().ToString());
      return false;
    }
    const SamplesheetChoice choice = ChooseSamplesheet(*sheets);
    if (choice.kind == SamplesheetChoiceKind::Held) {
      Hold(name, choice.reason);
      return false;
    }
    if (!section.sample_regex) return true;
    if (choice.kind == SamplesheetChoiceKind::Missing) {
      spdlog::info("{}: no samplesheet to check against sample_regex; not uploaded", name);
      return false;
    }
    const auto chosen = std::find_if(sheets->begin(), sheets->end(),
                                     [&](const SamplesheetFile& f) { return f.name == choice.chosen; });
    auto parsed = ParseSamplesheet(chosen->content);
    if (!parsed) {
      spdlog::error("{}: {}: {}", name, choice.chosen, parsed.error().ToString());
      return false;
    }
    if (const auto outliers = SamplesNotMatching(*parsed, *section.sample_regex); !outliers.empty()) {
      spdlog::debug("{}: {} sample(s) do not match sample_regex of bucket {}, e.g. {}", name,
                    outliers.size(), section.bucket, outliers.front());
      return false;
    }
    return true;
  }

  /// Logs a held run and alerts once per run (remembered in its journal).
  void Hold(const std::string& name, const std::string& reason) {
    spdlog::warn("{}: held: {}", name, reason);
    report_.held.push_back(name);
    if (dry_run_) return;
    auto journal = RunJournal::Open(RunJournal::PathFor(config_.log_dir, name));
    if (journal && (*journal)->AlertSent("held")) return;
    Alert(config_, environment_, HeldRunMessage(name, reason));
    if (journal) (void)(*journal)->RecordAlert("held");
  }

  const MonitorConfig& config_;
  MonitorEnvironment& environment_;
  MonitorReport& report_;
  bool dry_run_;
};

/// Drops the candidates whose files changed between two looks `interval` apart.
std::vector<Candidate> KeepStable(std::vector<Candidate> candidates, const MonitorConfig& config,
                                  MonitorEnvironment& environment, MonitorReport& report) {
  if (candidates.empty() || config.stable_interval.count() == 0) return candidates;
  environment.sleep(config.stable_interval);
  std::vector<Candidate> stable;
  for (auto& candidate : candidates) {
    auto again = EnumerateRunFiles(candidate.run_dir, candidate.section->exclude);
    const auto diff = again ? CompareSnapshots(candidate.listing.files, again->files) : SnapshotDiff{};
    if (!again || !diff.Stable()) {
      spdlog::info("{}: files still changing ({} changed, {} appeared, {} gone); next time",
                   candidate.run_name, diff.changed.size(), diff.appeared.size(),
                   diff.disappeared.size());
      report.unstable.push_back(candidate.run_name);
      continue;
    }
    stable.push_back(std::move(candidate));
  }
  return stable;
}

/// The state-log pass of one run (§1.6): local paths are absolute, as s3_upload wrote them.
/// Files found already in the bucket count as uploaded unless the log has them already, so
/// total_uploaded_files never counts a file twice.
UploadPass PassOf(const Candidate& candidate, const RunResult& result) {
  UploadPass pass;
  pass.run_id = candidate.run_name;
  pass.run_path = std::filesystem::absolute(candidate.run_dir).lexically_normal().string();
  if (pass.run_path.ends_with('/')) pass.run_path.pop_back();
  pass.local_files = static_cast<std::int64_t>(result.files.size());
  std::set<std::string, std::less<>> logged;
  if (candidate.log) {
    for (const auto& [path, etag] : candidate.log->uploaded_files) logged.insert(path);
  }
  for (const auto& file : result.files) {
    const std::string local = pass.run_path + "/" + file.relative_path;
    if (file.error) {
      pass.failed.push_back(local);
    } else if (!file.already_there || !logged.contains(local)) {
      pass.uploaded.emplace_back(local, file.etag);
    }
  }
  return pass;
}

}  // namespace

Result<LegacyCredentials> ReadLegacyCredentials(
    const std::function<std::optional<std::string>(std::string_view)>& getenv) {
  LegacyCredentials credentials{getenv("AWS_DEFAULT_PROFILE").value_or(""),
                                getenv("AWS_ACCESS_KEY").value_or(""),
                                getenv("AWS_SECRET_KEY").value_or("")};
  const bool keys = !credentials.access_key.empty() || !credentials.secret_key.empty();
  if (!credentials.profile.empty() && keys) {
    return Fail(ErrorCode::InvalidArgument,
                "Both `AWS_DEFAULT_PROFILE` provided as well as `AWS_ACCESS_KEY` and / or "
                "`AWS_SECRET_KEY`. Only one authentication method may be used.",
                "credentials");
  }
  if (keys && (credentials.access_key.empty() || credentials.secret_key.empty())) {
    return Fail(ErrorCode::InvalidArgument,
                "`AWS_ACCESS_KEY` and `AWS_SECRET_KEY` must be given together", "credentials");
  }
  return credentials;
}

std::filesystem::path DailyLogPath(const std::filesystem::path& log_dir,
                                   std::chrono::year_month_day today) {
  return log_dir / fmt::format("s3_upload.log.{:04d}-{:02d}-{:02d}", static_cast<int>(today.year()),
                               static_cast<unsigned>(today.month()),
                               static_cast<unsigned>(today.day()));
}

void RemoveOldDailyLogs(const std::filesystem::path& log_dir, std::chrono::year_month_day today,
                        int keep_days) {
  const auto cutoff = std::chrono::sys_days(today) - std::chrono::days(keep_days);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir, ec)) {
    const std::string name = entry.path().filename().string();
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (std::sscanf(name.c_str(), "s3_upload.log.%4d-%2u-%2u", &y, &m, &d) != 3) continue;
    const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(m),
                                           std::chrono::day(d)};
    if (date.ok() && std::chrono::sys_days(date) < cutoff) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

Result<MonitorReport> RunMonitorPass(const MonitorConfig& config, bool dry_run,
                                     MonitorEnvironment& environment) {
  if (!environment.now) environment.now = [] { return std::chrono::system_clock::now(); };
  if (!environment.sleep) environment.sleep = [](std::chrono::seconds s) { std::this_thread::sleep_for(s); };
  MonitorReport report;

  // Buckets first (s3_upload's check_buckets_exist, without ListAllMyBuckets): one listing each.
  std::map<std::string, std::shared_ptr<ObjectStore>> buckets;
  std::vector<std::string> bad_buckets;
  for (const auto& section : config.monitor) {
    if (buckets.contains(section.bucket)) continue;
    auto store = environment.open_bucket(section.bucket);
    Status reachable = store ? Status(Ok()) : Status(Fail(store.error()));
    if (store) {
      ListOptions probe;
      probe.max_keys = 1;
      if (auto page = (*store)->List(probe); !page) reachable = Fail(std::move(page).error());
    }
    if (!reachable) {
      spdlog::error("bucket {}: {}", section.bucket, reachable.error().ToString());
      bad_buckets.push_back(section.bucket);
      continue;
    }
    buckets.emplace(section.bucket, std::move(*store));
  }
  if (!bad_buckets.empty()) {
    Alert(config, environment, BucketErrorMessage(bad_buckets));
    return Fail(ErrorCode::NotFound,
                fmt::format("{} bucket(s) not accessible or do not exist: {}", bad_buckets.size(),
                            fmt::join(bad_buckets, ", ")),
                "monitor");
  }

  std::vector<Candidate> candidates;
  std::set<std::string> seen_runs;
  Planner planner(config, environment, report, dry_run);
  for (const auto& section : config.monitor) {
    for (const auto& folder : section.monitored_directories) {
      SLUICE_RETURN_IF_ERROR(planner.Scan(section, folder, candidates, seen_runs));
    }
  }
  candidates = KeepStable(std::move(candidates), config, environment, report);
  if (candidates.empty()) {
    spdlog::info("No sequencing runs requiring upload found. Exiting now.");
    return report;
  }
  if (dry_run) {
    for (const auto& c : candidates) {
      spdlog::info("{} would be uploaded to {}:{}", c.run_dir.string(), c.section->bucket,
                   c.key_prefix);
      report.would_upload.push_back(c.run_name);
    }
    return report;
  }

  std::vector<std::unique_ptr<RunJournal>> journals;
  std::vector<RunUpload> uploads;
  for (auto& c : candidates) {
    auto journal = RunJournal::Open(RunJournal::PathFor(config.log_dir, c.run_name));
    if (!journal) spdlog::warn("{}: no journal: {}", c.run_name, journal.error().ToString());
    RunUpload upload{c.run_dir, c.run_name, c.key_prefix, buckets.at(c.section->bucket).get(),
                     c.listing.files, journal ? journal->get() : nullptr};
    if (journal) journals.push_back(std::move(*journal));
    spdlog::info("{}: {} files found to upload totalling {} bytes, to {}:{}", c.run_name,
                 c.listing.files.size(), c.listing.total_bytes, c.section->bucket, c.key_prefix);
    uploads.push_back(std::move(upload));
  }
  const int cores = config.max_cores.value_or(static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  const auto started = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      const auto results,
      UploadRuns(uploads, UploadRunsOptions{.concurrency = cores * config.max_threads,
                                            .progress = environment.progress,
                                            .cancel = environment.cancel}));

  for (std::size_t i = 0; i < results.size(); ++i) {
    const RunResult& result = results[i];
    const Candidate& candidate = candidates[i];
    report.bytes_sent += result.bytes_sent;
    const RunLog log = MergeUploadPass(candidate.log, PassOf(candidate, result));
    if (auto written = WriteRunLogFile(config.log_dir, log); !written) {
      spdlog::error("{}: cannot write its state log: {}", result.run_name, written.error().ToString());
    }
    const bool complete = result.Succeeded() && log.completed;
    const auto already = std::count_if(result.files.begin(), result.files.end(),
                                       [](const FileResult& f) { return f.already_there; });
    spdlog::info("{} uploaded {} in {} ({} bytes sent; {} of {} files were already in the "
                 "bucket; {} failed)",
                 complete ? "Fully" : "Partially", result.run_name,
                 MinutesSeconds(std::chrono::steady_clock::now() - started), result.bytes_sent,
                 already, result.files.size(), result.FailedCount());
    (complete ? report.uploaded : report.failed).push_back(result.run_name);
    if (complete && environment.emit) {
      Event event;
      event.kind = "RunUploaded";
      event.store = candidate.section->bucket;
      event.key = candidate.key_prefix;
      event.size_bytes = candidate.listing.total_bytes;
      event.time = environment.now();
      event.detail = {{"run", result.run_name},
                      {"bucket", candidate.section->bucket},
                      {"prefix", candidate.key_prefix},
                      {"run_path", log.run_path},
                      {"files", result.files.size()}};
      if (auto emitted = environment.emit(std::move(event)); !emitted) {
        spdlog::error("{}: could not emit the RunUploaded event: {}", result.run_name,
                      emitted.error().ToString());
      }
    }
  }
  spdlog::info("Completed uploading all runs, {} successfully uploaded, {} failed upload",
               report.uploaded.size(), report.failed.size());

  if (!report.uploaded.empty()) Post(environment, config.LogWebhook(), SlackPayload(SuccessMessage(report.uploaded)));
  // A run that keeps failing alerts once, not at every cron tick.
  std::vector<std::string> newly_failed;
  for (std::size_t i = 0; i < uploads.size(); ++i) {
    RunJournal* journal = uploads[i].journal;
    const std::string& name = uploads[i].run_name;
    if (std::find(report.failed.begin(), report.failed.end(), name) == report.failed.end()) continue;
    if (journal != nullptr && journal->AlertSent("failed")) continue;
    newly_failed.push_back(name);
    if (journal != nullptr) (void)journal->RecordAlert("failed");
  }
  if (!newly_failed.empty()) Alert(config, environment, FailureMessage(newly_failed));
  if (!config.webhook.empty() && (!report.uploaded.empty() || !newly_failed.empty())) {
    Post(environment, config.webhook, GenericWebhookPayload(report.uploaded, newly_failed));
  }
  return report;
}

Result<MonitorReport> UploadOneRun(const std::filesystem::path& run_dir, ObjectStore& bucket_store,
                                   std::string_view remote_path, bool skip_check, int concurrency,
                                   MonitorEnvironment& environment) {
  SLUICE_ASSIGN_OR_RETURN(const std::string name, RunFolderName(run_dir));
  if (!skip_check) {
    SLUICE_ASSIGN_OR_RETURN(const auto completion, CheckRunCompletion(run_dir));
    if (!completion.complete) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("not a complete run: {} (use --skip_check to upload it anyway)",
                              completion.is_run ? completion.reason : "no RunInfo.xml"),
                  run_dir.string());
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto listing, EnumerateRunFiles(run_dir));
  SLUICE_ASSIGN_OR_RETURN(auto prefix, RunKeyPrefix(remote_path, name));
  spdlog::info("{}: {} files found to upload totalling {} bytes, to {}", name, listing.files.size(),
               listing.total_bytes, prefix);
  RunUpload upload{run_dir, name, prefix, &bucket_store, std::move(listing.files), nullptr};
  const auto started = std::chrono::steady_clock::now();
  SLUICE_ASSIGN_OR_RETURN(
      const auto results,
      UploadRuns(std::span(&upload, 1), UploadRunsOptions{.concurrency = concurrency,
                                                          .progress = environment.progress,
                                                          .cancel = environment.cancel}));
  MonitorReport report;
  report.bytes_sent = results[0].bytes_sent;
  (results[0].Succeeded() ? report.uploaded : report.failed).push_back(name);
  spdlog::info("Uploaded {} in {}{}", run_dir.string(),
               MinutesSeconds(std::chrono::steady_clock::now() - started),
               results[0].Succeeded() ? "" : fmt::format("; {} file(s) failed", results[0].FailedCount()));
  return report;
}

}  // namespace sluice::illumina
