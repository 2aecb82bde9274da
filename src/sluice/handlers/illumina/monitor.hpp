#pragma once
/// `sluice monitor` and `sluice upload` as library calls (issue 4; s3_upload's behaviour in
/// research/s3_upload.md §1.2–§1.4, without its bugs §1.11). One pass, as a cron tick runs it:
/// find the complete, eligible and stable runs of every monitor section, upload them all
/// through one engine (run_upload.hpp), write each run's state log (§1.6) and send the Slack
/// messages (§1.9). A fully uploaded run can also become a "RunUploaded" event for the engine's
/// routes (e.g. one that starts analysis). The caller (app/) holds the lock and sets up logging.

#include <atomic>
#include <chrono>
#include <functional>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/handlers/illumina/monitor_config.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {
class ProgressSink;
}

namespace sluice::illumina {

/// How a pass reaches the world; tests replace any of it.
struct MonitorEnvironment {
  /// Opens the bucket named `bucket`, its uploads drawing on the pass's one request budget.
  std::function<Result<std::shared_ptr<ObjectStore>>(const std::string& bucket)> open_bucket;
  /// POSTs a JSON body to a webhook URL; a failure is logged (without the URL: it holds a
  /// secret) and never stops the pass. Null: no messages are sent.
  std::function<Status(const std::string& url, const std::string& json_body)> post_json;
  /// The clock of max_age. Default: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
  /// Waits between the two looks of the stability check. Default: sleep_for.
  std::function<void(std::chrono::seconds)> sleep;
  /// Hands a "RunUploaded" event for a fully uploaded run to the engine (MonitorConfig::pipeline):
  /// store = the bucket name, key = the run's prefix ("…/<run>/"), size = the run's bytes, detail
  /// = {run, bucket, prefix, run_path, files}. A failure is logged. Null: no events.
  std::function<Status(Event event)> emit;
  ProgressSink* progress = nullptr;           ///< upload progress; may be null
  const std::atomic<bool>* cancel = nullptr;  ///< stops the uploads; may be null
};

/// What one pass did, run folder names in each list.
struct MonitorReport {
  std::vector<std::string> uploaded;    ///< every file of the run is in the bucket
  std::vector<std::string> failed;      ///< some files failed (state log says which)
  std::vector<std::string> held;        ///< complete but not uploaded: samplesheets disagree,
                                        ///< Manifest.tsv lists missing files
  std::vector<std::string> unstable;    ///< files changed between the two looks: next time
  std::vector<std::string> would_upload;  ///< dry run: what would have been uploaded
  std::uint64_t bytes_sent = 0;  ///< bytes uploaded in this pass (not those already there)

  /// 0 when nothing failed, else 1 (issue 4's exit codes).
  [[nodiscard]] int ExitCode() const { return failed.empty() ? 0 : 1; }
};

/// s3_upload's own credential variables (research/s3_upload.md §1.8), honoured besides the
/// standard AWS chain: `AWS_DEFAULT_PROFILE` names a profile; `AWS_ACCESS_KEY` and
/// `AWS_SECRET_KEY` are static keys (both needed).
struct LegacyCredentials {
  std::string profile;     ///< AWS_DEFAULT_PROFILE, or empty
  std::string access_key;  ///< AWS_ACCESS_KEY, or empty
  std::string secret_key;  ///< AWS_SECRET_KEY, or empty (a secret: never log it)
};

/// Reads the variables through `getenv`. InvalidArgument with s3_upload's message when a profile
/// and keys are both given, or only one of the two keys. Unlike s3_upload, none at all is fine:
/// the standard chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, instance roles, …) applies. Thread-safe.
Result<LegacyCredentials> ReadLegacyCredentials(
    const std::function<std::optional<std::string>(std::string_view)>& getenv);

/// `s3_upload.log.YYYY-MM-DD` in `log_dir` for `today` (monitor mode's daily log file).
std::filesystem::path DailyLogPath(const std::filesystem::path& log_dir,
                                   std::chrono::year_month_day today);

/// Deletes the daily log files of `log_dir` older than `keep_days` days before `today`
/// (s3_upload's clear_old_logs, backup_count 5). Files it cannot parse or delete are left alone.
void RemoveOldDailyLogs(const std::filesystem::path& log_dir, std::chrono::year_month_day today,
                        int keep_days = 5);

/// One monitor pass over `config` (already validated; its log_dir exists). With `dry_run`
/// nothing is uploaded or written. Errors that stop the pass (the alert webhook is told first):
/// a bucket that cannot be listed (NotFound/PermissionDenied naming it), a monitored directory
/// that cannot be read. Per-run problems are logged and reported, never fatal.
Result<MonitorReport> RunMonitorPass(const MonitorConfig& config, bool dry_run,
                                     MonitorEnvironment& environment);

/// `sluice upload`: one folder to `bucket_store` below `remote_path`. Unless `skip_check`, the
/// folder must be a complete run (CheckRunCompletion with the per-instrument policy), else
/// InvalidArgument with the reason. Files go `concurrency` at a time; already uploaded ones
/// (same size and ETag) are skipped. Returns the report (uploaded or failed holds the run).
Result<MonitorReport> UploadOneRun(const std::filesystem::path& run_dir, ObjectStore& bucket_store,
                                   std::string_view remote_path, bool skip_check, int concurrency,
                                   MonitorEnvironment& environment);

}  // namespace sluice::illumina
