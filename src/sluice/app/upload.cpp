// `sluice upload` and `sluice monitor`: s3_upload's two modes (issue 4), with its flags and its
// JSON config. The work is in handlers/illumina/monitor.hpp; this file wires the command line,
// credentials, lock, log file, progress bar and webhooks.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "sluice/app/commands.hpp"
#include "sluice/aws/credentials.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/http_client.hpp"
#include "sluice/core/lock_file.hpp"
#include "sluice/core/log.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/core/signals.hpp"
#include "sluice/handlers/illumina/monitor.hpp"

namespace sluice::app {

namespace {

constexpr int kExitLocked = 4;  ///< `sluice monitor`: another monitor holds the lock

/// Store options for s3_upload's buckets: the credential variables it used, one shared budget
/// of `requests` uploads in flight over every bucket.
Result<StoreOptions> BucketOptions(int requests, const std::optional<std::string>& profile,
                                   const std::string& checksum,
                                   const std::optional<std::string>& storage_class) {
  SLUICE_ASSIGN_OR_RETURN(const auto legacy, illumina::ReadLegacyCredentials(aws::ProcessEnv));
  StoreOptions options;
  if (!legacy.access_key.empty()) {
    // The standard chain reads these; s3_upload's names only fill them when they are unset.
    ::setenv("AWS_ACCESS_KEY_ID", legacy.access_key.c_str(), 0);
    ::setenv("AWS_SECRET_ACCESS_KEY", legacy.secret_key.c_str(), 0);
  }
  options.profile = profile.value_or(legacy.profile);
  options.checksum = checksum;
  options.storage_class = storage_class.value_or("");
  options.parallelism = requests;
  options.upload_slots = std::make_shared<std::counting_semaphore<>>(requests);
  return options;
}

/// POSTs JSON to a webhook (Slack's incoming webhooks answer 200 "ok").
Status PostJson(HttpClient& http, const std::string& url, const std::string& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body;
  SLUICE_ASSIGN_OR_RETURN(const auto response, http.Send(request));
  if (response.status < 200 || response.status >= 300) {
    return Fail(ErrorCode::Transient, fmt::format("the webhook answered HTTP {}", response.status));
  }
  return Ok();
}

int DefaultCores() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

}  // namespace

void AddUploadCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "upload",
      "Upload one sequencing run folder to S3 (s3_upload's `upload` mode; same flags).\n"
      "Keys are <remote_path>/<run folder name>/<path in the run>. Files go up largest first,\n"
      "--cores × --threads at a time, parts of large files in parallel, completion markers\n"
      "last; objects already in the bucket with the same bytes are skipped, so a re-run\n"
      "resumes. Every ETag is checked against the local MD5.\n"
      "  sluice upload --local_path /seq/RUN --bucket lab-runs --remote_path /novaseq\n"
      "  sluice upload /seq/RUN s3://lab-runs/novaseq\n"
      "Exit 0 when every file is in the bucket; 1 when the folder is not a complete run\n"
      "(see --skip_check) or any file failed; 2 on a usage error.");
  struct Args {
    std::string local_path;
    std::string bucket;
    std::string remote_path = "/";
    std::vector<std::string> positional;
    bool skip_check = false;
    int cores = DefaultCores();
    int threads = 8;
    bool no_progress = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--local_path", args->local_path, "the run folder to upload");
  cmd->add_option("--bucket", args->bucket, "destination bucket");
  cmd->add_option("--remote_path", args->remote_path, "key prefix in the bucket")
      ->capture_default_str();
  cmd->add_option("DIR_AND_URI", args->positional, "short form: DIR s3://BUCKET[/PREFIX]")
      ->expected(0, 2);
  cmd->add_flag("--skip_check", args->skip_check, "upload any folder, complete run or not");
  cmd->add_option("--cores", args->cores, "with --threads: files in flight = cores × threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "see --cores")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_flag("--no-progress", args->no_progress, "never draw the progress bar");
  cmd->callback([args, &exit_code] {
    if (args->positional.size() == 2) {
      const std::string& uri = args->positional[1];
      if (!uri.starts_with("s3://") || uri.size() == 5) {
        exit_code = ReportError(Error{ErrorCode::InvalidArgument,
                                      "the destination must be s3://BUCKET[/PREFIX]", uri});
        return;
      }
      const std::string rest = uri.substr(5);
      const auto slash = rest.find('/');
      args->local_path = args->positional[0];
      args->bucket = rest.substr(0, slash);
      args->remote_path = slash == std::string::npos ? "/" : rest.substr(slash);
    } else if (!args->positional.empty() || args->local_path.empty() || args->bucket.empty()) {
      exit_code = ReportError(Error{ErrorCode::InvalidArgument,
                                    "give --local_path and --bucket, or DIR s3://BUCKET[/PREFIX]",
                                    "upload"});
      return;
    }
    const int requests = args->cores * args->threads;
    auto options = BucketOptions(requests, std::nullopt, "md5", std::nullopt);
    if (!options) {
      exit_code = ReportError(options.error());
      return;
    }
    auto store = MakeObjectStore("s3://" + args->bucket, *options);
    if (!store) {
      exit_code = ReportError(store.error());
      return;
    }
    const ShutdownSignals signals;
    ProgressSink progress;
    ProgressBar bar(progress, ProgressBarOptions{.enabled = !args->no_progress});
    illumina::MonitorEnvironment environment;
    environment.progress = &progress;
    environment.cancel = &signals.Requested();
    auto report = illumina::UploadOneRun(args->local_path, **store, args->remote_path,
                                         args->skip_check, requests, environment);
    bar.Finish();
    if (!report) {
      spdlog::error("{}", report.error().ToString());
      exit_code = kExitFailure;  // not a complete run is a runtime condition, not a usage error
      return;
    }
    exit_code = report->ExitCode();
  });
}

void AddMonitorCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "monitor",
      "Upload every new complete run of the monitored folders (s3_upload's `monitor` mode;\n"
      "its JSON config unchanged, run it from cron). Writes <log_dir>/uploads/<run>.upload.log.json\n"
      "as s3_upload did, journals each file as it lands (a killed pass loses only files in\n"
      "flight), holds runs whose samplesheets disagree and posts s3_upload's Slack messages.\n"
      "Config keys and sluice's additions: docs/monitor.md.\n"
      "Exit 0 when done or nothing to do; 1 when some uploads failed; 2 on a usage or config\n"
      "error (every config error is listed); 4 when another monitor holds the lock.");
  struct Args {
    std::string config;
    bool dry_run = false;
    bool no_progress = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--config", args->config, "s3_upload's JSON config")->required();
  cmd->add_flag("--dry_run", args->dry_run, "find and check the runs, upload nothing");
  cmd->add_flag("--no-progress", args->no_progress, "never draw the progress bar");
  cmd->callback([args, &exit_code] {
    auto config = illumina::LoadMonitorConfig(args->config);
    if (!config) {
      spdlog::error("{}", config.error().ToString());
      exit_code = kExitUsage;
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(config->log_dir, ec);  // before the lock (bug B2)
    const auto lock_path = config->log_dir / "s3_upload.lock";
    auto lock = LockFile::TryAcquire(lock_path);
    if (!lock) {
      if (lock.error().code == ErrorCode::AlreadyExists) {
        spdlog::warn("Could not acquire exclusive lock on {}, assuming another upload process is "
                     "currently running. Exiting now.",
                     lock_path.string());
        exit_code = kExitLocked;
      } else {
        exit_code = ReportError(lock.error());
      }
      return;
    }
    const std::chrono::year_month_day today{
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
    if (auto added = AddLogFile(illumina::DailyLogPath(config->log_dir, today).string()); !added) {
      spdlog::warn("{}", added.error().ToString());
    }
    illumina::RemoveOldDailyLogs(config->log_dir, today);
    if (auto level = SetLogLevel(config->log_level); !level) spdlog::warn("{}", level.error().message);

    const int requests = config->max_cores.value_or(DefaultCores()) * config->max_threads;
    auto options = BucketOptions(
        requests, config->aws_profile,
        config->checksum == illumina::ChecksumMode::Md5 ? "md5" : "none", config->storage_class);
    if (!options) {
      exit_code = ReportError(options.error());
      return;
    }
    // RunUploaded events go to the pipeline's queue, the store named after the bucket's URL.
    std::unique_ptr<Engine> engine;
    std::map<std::string, std::pair<std::string, std::string>> store_of_bucket;  // → name, prefix
    if (!config->pipeline.empty()) {
      auto pipeline = LoadConfig(config->pipeline);
      auto opened = pipeline ? OpenEngine(config->pipeline.string())
                             : Result<std::unique_ptr<Engine>>(std::unexpected(pipeline.error()));
      if (!opened) {
        spdlog::error("pipeline: {}", opened.error().ToString());
        exit_code = kExitUsage;
        return;
      }
      engine = std::move(*opened);
      for (const auto& [name, store] : pipeline->stores) {
        if (!store.url.starts_with("s3://")) continue;
        const auto slash = store.url.find('/', 5);
        const std::string bucket = store.url.substr(5, slash - 5);
        std::string prefix = slash == std::string::npos ? "" : store.url.substr(slash + 1);
        if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
        store_of_bucket.emplace(bucket, std::pair(name, prefix));
      }
    }
    HttpClient http(HttpClientOptions{.connect_timeout = std::chrono::seconds(10),
                                      .total_timeout = std::chrono::seconds(30)});
    const ShutdownSignals signals;
    ProgressSink progress;
    ProgressBar bar(progress, ProgressBarOptions{.enabled = !args->no_progress});
    illumina::MonitorEnvironment environment;
    environment.open_bucket = [&](const std::string& bucket) -> Result<std::shared_ptr<ObjectStore>> {
      StoreOptions bucket_options = *options;
      for (const auto& section : config->monitor) {
        if (section.bucket == bucket && section.storage_class) {
          bucket_options.storage_class = *section.storage_class;
        }
      }
      SLUICE_ASSIGN_OR_RETURN(auto store, MakeObjectStore("s3://" + bucket, bucket_options));
      return std::shared_ptr<ObjectStore>(std::move(store));
    };
    environment.post_json = [&](const std::string& url, const std::string& body) {
      return PostJson(http, url, body);
    };
    if (engine) {
      environment.emit = [&](Event event) -> Status {
        // Keys are relative to the store, as the routes see them.
        if (const auto it = store_of_bucket.find(event.store); it != store_of_bucket.end()) {
          event.store = it->second.first;
          if (event.key.starts_with(it->second.second)) {
            event.key.erase(0, it->second.second.size());
          }
        }
        SLUICE_ASSIGN_OR_RETURN(const int jobs, engine->Submit({std::move(event)}));
        spdlog::info("RunUploaded event queued for {} route(s)", jobs);
        return Ok();
      };
    }
    environment.progress = &progress;
    environment.cancel = &signals.Requested();
    auto report = illumina::RunMonitorPass(*config, args->dry_run, environment);
    bar.Finish();
    if (!report) {
      exit_code = ReportError(report.error());
      return;
    }
    exit_code = report->ExitCode();
  });
}

}  // namespace sluice::app
