#include "sluice/handlers/illumina/monitor_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "sluice/handlers/illumina/run_folder.hpp"

namespace sluice::illumina {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 15> kTopKeys{
    "max_cores", "max_threads", "max_age", "log_level", "log_dir", "slack_log_webhook",
    "slack_alert_webhook", "monitor",
    // sluice additions
    "checksum", "storage_class", "webhook", "aws_profile", "completion",
    "stable_seconds", "pipeline"};

constexpr std::array<std::string_view, 6> kSectionKeys{
    "monitored_directories", "bucket", "remote_path", "sample_regex", "exclude_patterns",
    // sluice addition
    "storage_class"};

// PutObject x-amz-storage-class values (Amazon S3 API Reference, PutObject).
constexpr std::array<std::string_view, 11> kStorageClasses{
    "STANDARD",       "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER",        "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", "SNOW",
    "EXPRESS_ONEZONE"};

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string TypeName(const Json& value) {
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "a list";
  if (value.is_object()) return "an object";
  return "null";
}

std::string ToUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

class Checker {
 public:
  explicit Checker(const ConfigCheckOptions& options) : options_(options) {}

  ConfigCheck Run(std::string_view json_text) {
    Json json;
    try {
      json = Json::parse(json_text);
    } catch (const Json::parse_error& e) {
      Problem("$", fmt::format("not valid JSON: {}", e.what()));
      return Finish();
    }
    if (!json.is_object()) {
      Problem("$", fmt::format("must be an object, found {}", TypeName(json)));
      return Finish();
    }
    Top(json);
    return Finish();
  }

 private:
  void Problem(std::string path, std::string message) {
    check_.problems.push_back({std::move(path), std::move(message)});
  }

  ConfigCheck Finish() {
    if (check_.problems.empty()) check_.config = std::move(config_);
    return std::move(check_);
  }

  template <std::size_t N>
  void UnknownKeys(const Json& object, const std::string& path,
                   const std::array<std::string_view, N>& known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string message = "unknown key";
      std::size_t best = 3;
      for (std::string_view candidate : known) {
        const std::size_t distance = EditDistance(key, candidate);
        if (distance < best) {
          best = distance;
          message = fmt::format("unknown key (did you mean '{}'?)", candidate);
        }
      }
      Problem(fmt::format("{}.{}", path, key), std::move(message));
    }
  }

  /// A positive integer; booleans are rejected (Python accepted them as ints).
  std::optional<int> PositiveInt(const Json& value, const std::string& path) {
    if (!value.is_number_integer()) {
      Problem(path, fmt::format("must be a positive integer, found {}", TypeName(value)));
      return std::nullopt;
    }
    const auto number = value.get<std::int64_t>();
    if (number < 1 || number > 1'000'000) {
      Problem(path, fmt::format("must be a positive integer, found {}", number));
      return std::nullopt;
    }
    return static_cast<int>(number);
  }

  std::optional<std::string> String(const Json& value, const std::string& path, bool non_empty) {
    if (!value.is_string()) {
      Problem(path, fmt::format("must be a string, found {}", TypeName(value)));
      return std::nullopt;
    }
    std::string text = value.get<std::string>();
    if (non_empty && text.empty()) {
      Problem(path, "must not be empty");
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> StorageClass(const Json& value, const std::string& path) {
    auto text = String(value, path, true);
    if (!text) return std::nullopt;
    if (std::find(kStorageClasses.begin(), kStorageClasses.end(), *text) == kStorageClasses.end()) {
      Problem(path, fmt::format("'{}' is not an S3 storage class ({})", *text,
                                fmt::join(kStorageClasses, ", ")));
      return std::nullopt;
    }
    return text;
  }

  void LogLevel(const Json& value, const std::string& path) {
    if (value.is_number_integer()) {
      const auto level = value.get<std::int64_t>();
      if (level < 0 || level > 50) {
        Problem(path, fmt::format("integer log level must be 0–50, found {}", level));
        return;
      }
      const int rounded = static_cast<int>(level / 10 * 10);
      static constexpr std::array<std::string_view, 6> kNames{"NOTSET",  "DEBUG", "INFO",
                                                              "WARNING", "ERROR", "CRITICAL"};
      config_.log_level = std::string(kNames[static_cast<std::size_t>(rounded / 10)]);
      return;
    }
    if (!value.is_string()) {
      Problem(path, fmt::format("must be a level name or an integer, found {}", TypeName(value)));
      return;
    }
    std::string name = ToUpper(value.get<std::string>());
    if (name == "WARN") name = "WARNING";
    if (name == "FATAL") name = "CRITICAL";
    static constexpr std::array<std::string_view, 6> kValid{"NOTSET",  "DEBUG", "INFO",
                                                            "WARNING", "ERROR", "CRITICAL"};
    if (std::find(kValid.begin(), kValid.end(), name) == kValid.end()) {
      Problem(path, fmt::format("'{}' is not a log level (NOTSET, DEBUG, INFO, WARNING, ERROR, "
                                "CRITICAL)",
                                value.get<std::string>()));
      return;
    }
    config_.log_level = std::move(name);
  }

  std::optional<PyRegex> Regex(const Json& value, const std::string& path) {
    auto text = String(value, path, true);
    if (!text) return std::nullopt;
    auto compiled = PyRegex::Compile(*text);
    if (!compiled) {
      Problem(path, compiled.error().message);
      return std::nullopt;
    }
    return std::move(*compiled);
  }

  void Top(const Json& json) {
    UnknownKeys(json, "$", kTopKeys);
    if (const auto it = json.find("max_cores"); it != json.end()) {
      config_.max_cores = PositiveInt(*it, "$.max_cores");
    }
    if (const auto it = json.find("max_threads"); it != json.end()) {
      if (auto n = PositiveInt(*it, "$.max_threads")) config_.max_threads = *n;
    }
    if (const auto it = json.find("max_age"); it != json.end()) {
      if (auto n = PositiveInt(*it, "$.max_age")) config_.max_age = std::chrono::hours(*n);
    }
    if (const auto it = json.find("log_level"); it != json.end()) LogLevel(*it, "$.log_level");
    if (const auto it = json.find("log_dir"); it != json.end()) {
      if (auto dir = String(*it, "$.log_dir", true)) config_.log_dir = *dir;
    }
    if (options_.check_directories) {
      switch (InspectDirectory(config_.log_dir, true)) {
        case DirectoryStatus::Exists:
          if (!IsWritableDirectory(config_.log_dir)) {
            Problem("$.log_dir", fmt::format("'{}' is not writable", config_.log_dir.string()));
          }
          break;
        case DirectoryStatus::Creatable:
          break;
        case DirectoryStatus::NotDirectory:
          Problem("$.log_dir", fmt::format("'{}' is not a directory", config_.log_dir.string()));
          break;
        case DirectoryStatus::Missing:
          Problem("$.log_dir", fmt::format("'{}' does not exist and cannot be created",
                                           config_.log_dir.string()));
          break;
      }
    }
    for (const char* key : {"slack_log_webhook", "slack_alert_webhook"}) {
      if (const auto it = json.find(key); it != json.end()) {
        auto url = String(*it, fmt::format("$.{}", key), false);
        if (url)
          (std::string_view(key) == "slack_log_webhook" ? config_.slack_log_webhook
                                                        : config_.slack_alert_webhook) = *url;
      }
    }
    if (const auto it = json.find("webhook"); it != json.end()) {
      if (auto url = String(*it, "$.webhook", true)) {
        if (url->starts_with("http://") || url->starts_with("https://")) {
          config_.webhook = *url;
        } else {
          Problem("$.webhook", "must be an http:// or https:// URL");
        }
      }
    }
    if (const auto it = json.find("checksum"); it != json.end()) {
      if (auto mode = String(*it, "$.checksum", true)) {
        if (*mode == "md5") {
          config_.checksum = ChecksumMode::Md5;
        } else if (*mode == "none") {
          config_.checksum = ChecksumMode::None;
        } else {
          Problem("$.checksum", fmt::format("must be \"md5\" or \"none\", found \"{}\"", *mode));
        }
      }
    }
    if (const auto it = json.find("storage_class"); it != json.end()) {
      config_.storage_class = StorageClass(*it, "$.storage_class");
    }
    if (const auto it = json.find("aws_profile"); it != json.end()) {
      config_.aws_profile = String(*it, "$.aws_profile", true);
    }
    if (const auto it = json.find("pipeline"); it != json.end()) {
      if (auto path = String(*it, "$.pipeline", true)) config_.pipeline = *path;
    }
    if (const auto it = json.find("stable_seconds"); it != json.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
          it->get<std::int64_t>() > 3600) {
        Problem("$.stable_seconds", "must be an integer from 0 to 3600 (seconds)");
      } else {
        config_.stable_interval = std::chrono::seconds(it->get<std::int64_t>());
      }
    }
    if (const auto it = json.find("completion"); it != json.end()) {
      if (auto mode = String(*it, "$.completion", true)) {
        if (*mode == "instrument") {
          config_.completion = CompletionPolicy::PerInstrument;
        } else if (*mode == "any") {
          config_.completion = CompletionPolicy::AnyMarker;
        } else {
          Problem("$.completion",
                  fmt::format("must be \"instrument\" or \"any\", found \"{}\"", *mode));
        }
      }
    }
    const auto monitor = json.find("monitor");
    if (monitor == json.end()) {
      Problem("$.monitor", "required key missing");
    } else if (!monitor->is_array()) {
      Problem("$.monitor", fmt::format("must be a list, found {}", TypeName(*monitor)));
    } else if (monitor->empty()) {
      Problem("$.monitor", "must hold at least one section");
    } else {
      for (std::size_t i = 0; i < monitor->size(); ++i) {
        Section((*monitor)[i], fmt::format("$.monitor[{}]", i));
      }
    }
  }

  void Section(const Json& json, const std::string& path) {
    if (!json.is_object()) {
      Problem(path, fmt::format("must be an object, found {}", TypeName(json)));
      return;
    }
    UnknownKeys(json, path, kSectionKeys);
    MonitorSection section;
    const auto dirs = json.find("monitored_directories");
    const std::string dirs_path = path + ".monitored_directories";
    if (dirs == json.end()) {
      Problem(dirs_path, "required key missing");
    } else if (!dirs->is_array()) {
      Problem(dirs_path, fmt::format("must be a list, found {}", TypeName(*dirs)));
    } else if (dirs->empty()) {
      Problem(dirs_path, "must hold at least one directory");
    } else {
      for (std::size_t i = 0; i < dirs->size(); ++i) {
        const std::string item_path = fmt::format("{}[{}]", dirs_path, i);
        auto dir = String((*dirs)[i], item_path, true);
        if (!dir) continue;
        if (options_.check_directories) {
          switch (InspectDirectory(*dir)) {
            case DirectoryStatus::Exists:
            case DirectoryStatus::Creatable:
              break;
            case DirectoryStatus::NotDirectory:
              Problem(item_path, fmt::format("'{}' is not a directory", *dir));
              break;
            case DirectoryStatus::Missing:
              Problem(item_path, fmt::format("'{}' does not exist", *dir));
              break;
          }
        }
        section.monitored_directories.push_back(std::move(*dir));
      }
    }
    for (const char* key : {"bucket", "remote_path"}) {
      const std::string key_path = fmt::format("{}.{}", path, key);
      const auto it = json.find(key);
      if (it == json.end()) {
        Problem(key_path, "required key missing");
        continue;
      }
      auto value = String(*it, key_path, true);
      if (!value) continue;
      if (std::string_view(key) == "bucket") {
        section.bucket = std::move(*value);
      } else {
        if (auto normalised = NormaliseRemotePath(*value); !normalised) {
          Problem(key_path, normalised.error().message);
        }
        section.remote_path = std::move(*value);
      }
    }
    if (const auto it = json.find("sample_regex"); it != json.end()) {
      section.sample_regex = Regex(*it, path + ".sample_regex");
    }
    if (const auto it = json.find("exclude_patterns"); it != json.end()) {
      const std::string list_path = path + ".exclude_patterns";
      if (!it->is_array()) {
        Problem(list_path, fmt::format("must be a list, found {}", TypeName(*it)));
      } else {
        bool all_valid = true;
        for (std::size_t i = 0; i < it->size(); ++i) {
          const std::string item_path = fmt::format("{}[{}]", list_path, i);
          // Regex() rejects "" too: an empty pattern matches every path, so the run would
          // upload nothing yet count as complete.
          if (!Regex((*it)[i], item_path)) {
            all_valid = false;
            continue;
          }
          section.exclude_patterns.push_back((*it)[i].get<std::string>());
        }
        if (all_valid) {
          auto filter = ExcludeFilter::Compile(section.exclude_patterns);
          if (filter) section.exclude = std::move(*filter);
        }
      }
    }
    if (const auto it = json.find("storage_class"); it != json.end()) {
      section.storage_class = StorageClass(*it, path + ".storage_class");
    }
    config_.monitor.push_back(std::move(section));
  }

  const ConfigCheckOptions& options_;
  MonitorConfig config_;
  ConfigCheck check_;
};

}  // namespace

ConfigCheck CheckMonitorConfig(std::string_view json_text, const ConfigCheckOptions& options) {
  return Checker(options).Run(json_text);
}

Result<MonitorConfig> ParseMonitorConfig(std::string_view json_text,
                                         const ConfigCheckOptions& options) {
  ConfigCheck check = CheckMonitorConfig(json_text, options);
  if (check.config) return std::move(*check.config);
  std::string message = fmt::format("{} error{} found in config:", check.problems.size(),
                                    check.problems.size() == 1 ? "" : "s");
  for (const ConfigProblem& problem : check.problems) {
    message += fmt::format("\n\t{}: {}", problem.path, problem.message);
  }
  return Fail(ErrorCode::InvalidArgument, std::move(message));
}

Result<MonitorConfig> LoadMonitorConfig(const std::filesystem::path& path,
                                        const ConfigCheckOptions& options) {
  auto text = ReadTextFile(path, 1u << 20);
  if (!text) return Fail(std::move(text).error());
  auto config = ParseMonitorConfig(*text, options);
  if (!config) return Fail(std::move(config).error().WithContext(path.string()));
  return config;
}

}  // namespace sluice::illumina
