#pragma once
/// s3_upload's JSON monitor config, read unchanged (research/s3_upload.md §1.10, seed README
/// "Config"), validated fully, with every problem reported at once.
///
/// Keys (top level): `max_cores` (int ≥ 1; default: all cores — s3_upload bug B1 crashed
/// instead), `max_threads` (int ≥ 1, default 4), `max_age` (hours, int ≥ 1, default 72),
/// `log_level` (NOTSET/DEBUG/INFO/WARN/WARNING/ERROR/FATAL/CRITICAL in any case, or an int
/// 0–50), `log_dir` (default "/var/log/s3_upload"), `slack_log_webhook`,
/// `slack_alert_webhook` (strings), `monitor` (non-empty list).
/// Per monitor section: `monitored_directories` (non-empty list of non-empty strings), `bucket`
/// (non-empty string), `remote_path` (non-empty string, "/" for the bucket root; no ".."),
/// `sample_regex` (Python regex), `exclude_patterns` (list of Python regexes).
/// sluice additions (not in s3_upload): top-level `checksum` ("md5" default | "none"),
/// `storage_class` (S3 storage class, also per section, the section's wins), `webhook`
/// (http(s) URL receiving GenericWebhookPayload), `aws_profile` (as the NT fork's config),
/// `completion` ("instrument" default | "any": CompletionPolicy), `stable_seconds` (int 0–3600,
/// default 10), `pipeline` (path of a pipeline TOML that gets a RunUploaded event per run).
///
/// Stricter than s3_upload's `verify_config` (research §1.10 "Not validated"): unknown keys,
/// the types of every key, regexes compile (py_regex.hpp: Python-only syntax is reported),
/// booleans are not integers, counts must be positive, and (optionally) directories exist.
/// Every problem names its JSON path, e.g. `$.monitor[1].bucket`.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/py_regex.hpp"
#include "sluice/handlers/illumina/run_rules.hpp"

namespace sluice::illumina {

/// One `monitor[]` section.
struct MonitorSection {
  std::vector<std::string> monitored_directories;  ///< folders whose sub-folders are runs
  std::string bucket;                              ///< destination bucket
  std::string remote_path;  ///< as written ("/" = bucket root); normalise with NormaliseRemotePath
  std::optional<PyRegex> sample_regex;        ///< every sample must match, when set
  std::vector<std::string> exclude_patterns;  ///< as written
  ExcludeFilter exclude;                      ///< exclude_patterns compiled
  std::optional<std::string> storage_class;   ///< this section's, else MonitorConfig's
};

/// Whether uploads are verified with a locally computed MD5 (sluice addition).
enum class ChecksumMode { Md5, None };

/// A validated monitor config.
struct MonitorConfig {
  std::optional<int> max_cores;  ///< unset: use every core
  int max_threads = 4;           ///< s3_upload's default in monitor mode
  std::chrono::hours max_age = kDefaultMaxAge;
  std::string log_level = "INFO";  ///< upper-case name ("WARN" → "WARNING", int → name)
  std::filesystem::path log_dir = "/var/log/s3_upload";
  std::string slack_log_webhook;    ///< "" when unset
  std::string slack_alert_webhook;  ///< "" when unset
  std::string webhook;              ///< generic JSON webhook URL, "" when unset
  ChecksumMode checksum = ChecksumMode::Md5;
  std::optional<std::string> storage_class;
  std::optional<std::string> aws_profile;
  CompletionPolicy completion = CompletionPolicy::PerInstrument;
  /// `stable_seconds` (sluice addition, 0–3600): the wait between the two looks at a run's files
  /// (sizes and mtimes); a run whose files changed in between is left for the next invocation.
  std::chrono::seconds stable_interval{10};
  /// `pipeline` (sluice addition): a pipeline config (TOML) whose routes get a "RunUploaded"
  /// event for every run fully uploaded (monitor.hpp); empty for none.
  std::filesystem::path pipeline;
  std::vector<MonitorSection> monitor;

  /// Where success messages go: slack_log_webhook, else slack_alert_webhook (§1.3 step 1).
  [[nodiscard]] const std::string& LogWebhook() const {
    return slack_log_webhook.empty() ? slack_alert_webhook : slack_log_webhook;
  }
  /// Where failure alerts go: slack_alert_webhook, else slack_log_webhook (§1.3 step 1).
  [[nodiscard]] const std::string& AlertWebhook() const {
    return slack_alert_webhook.empty() ? slack_log_webhook : slack_alert_webhook;
  }
};

/// One validation problem.
struct ConfigProblem {
  std::string path;     ///< JSON path, e.g. "$.monitor[0].sample_regex"
  std::string message;  ///< e.g. "does not compile: …", "unknown key (did you mean 'bucket'?)"
};

/// Validation options.
struct ConfigCheckOptions {
  /// Check that monitored directories exist and that log_dir exists or can be created (its
  /// nearest existing ancestor is writable). Off for checking a config meant for another host.
  bool check_directories = true;
};

/// The config, when valid, and every problem found.
struct ConfigCheck {
  std::optional<MonitorConfig> config;  ///< set only when `problems` is empty
  std::vector<ConfigProblem> problems;  ///< in document order
};

/// Validates the JSON text of a config and returns every problem at once. Reads the filesystem
/// only with `check_directories` (through run_folder.hpp). Thread-safe.
ConfigCheck CheckMonitorConfig(std::string_view json_text, const ConfigCheckOptions& options = {});

/// CheckMonitorConfig as a Result: InvalidArgument whose message lists every problem,
/// "N errors found in config:\n\t$.a: …\n\t$.b: …" (s3_upload's layout, §1.10). Thread-safe.
Result<MonitorConfig> ParseMonitorConfig(std::string_view json_text,
                                         const ConfigCheckOptions& options = {});

/// Reads `path` (at most 1 MiB) and ParseMonitorConfig's it; the error context names the file.
/// NotFound / PermissionDenied when it cannot be read.
Result<MonitorConfig> LoadMonitorConfig(const std::filesystem::path& path,
                                        const ConfigCheckOptions& options = {});

}  // namespace sluice::illumina
