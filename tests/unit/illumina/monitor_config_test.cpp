// s3_upload's monitor config: the fixture configs are read unchanged; a bad config reports
// every problem at once, each with its JSON path.

#include "sluice/handlers/illumina/monitor_config.hpp"

#include <gtest/gtest.h>

#include <map>

#include "support/temp_dir.hpp"
#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using testing::ReadFile;
using testing::S3UploadFixtures;

ConfigCheckOptions NoDirectoryChecks() {
  ConfigCheckOptions options;
  options.check_directories = false;
  return options;
}

TEST(MonitorConfigFixtures, ExampleConfigReadsUnchanged) {
  const fs::path path = S3UploadFixtures() / "example/example_config.json";
  SLUICE_REQUIRE_SHARED(path);
  auto config = LoadMonitorConfig(path, NoDirectoryChecks());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->max_cores, 2);
  EXPECT_EQ(config->max_threads, 8);
  EXPECT_EQ(config->max_age, std::chrono::hours(96));
  EXPECT_EQ(config->log_level, "INFO");
  EXPECT_EQ(config->log_dir, "/var/log/s3_upload");
  EXPECT_EQ(config->LogWebhook(), "https://hooks.slack.com/services/CHANNEL_ID/SECRET");
  EXPECT_EQ(config->AlertWebhook(), "https://hooks.slack.com/services/CHANNEL_ID/SECRET");
  EXPECT_EQ(config->checksum, ChecksumMode::Md5);
  EXPECT_EQ(config->completion, CompletionPolicy::PerInstrument);
  ASSERT_EQ(config->monitor.size(), 2u);
  const MonitorSection& first = config->monitor[0];
  EXPECT_EQ(
      first.monitored_directories,
      (std::vector<std::string>{"/absolute/path/to/sequencer_1", "/absolute/path/to/sequencer_2"}));
  EXPECT_EQ(first.bucket, "bucket_A");
  EXPECT_EQ(first.remote_path, "/");
  ASSERT_TRUE(first.sample_regex.has_value());
  EXPECT_TRUE(first.sample_regex->Search("s1_assay_1_code_x"));
  EXPECT_EQ(first.exclude_patterns, std::vector<std::string>{"Thumbnail_Images/"});
  EXPECT_TRUE(first.exclude.Excludes("/seq/run/Thumbnail_Images/L001/a.jpg"));
  const MonitorSection& second = config->monitor[1];
  EXPECT_EQ(second.remote_path, "/sequencer_3_runs");
  EXPECT_FALSE(second.sample_regex.has_value());
  EXPECT_TRUE(second.exclude.Empty());
}

TEST(MonitorConfigFixtures, EveryFixtureConfigIsValid) {
  SLUICE_REQUIRE_SHARED(S3UploadFixtures());
  for (const char* relative :
       {"example/example_config.json", "tests/e2e/test_data/configs/example_config.json",
        "tests/unit/test_data/test_config.json"}) {
    SCOPED_TRACE(relative);
    const ConfigCheck check =
        CheckMonitorConfig(ReadFile(S3UploadFixtures() / relative), NoDirectoryChecks());
    EXPECT_TRUE(check.problems.empty())
        << check.problems.front().path << ": " << check.problems.front().message;
    EXPECT_TRUE(check.config.has_value());
  }
}

TEST(MonitorConfigFixtures, DirectoryChecksNameTheMissingFolders) {
  const fs::path path = S3UploadFixtures() / "example/example_config.json";
  SLUICE_REQUIRE_SHARED(path);
  const ConfigCheck check = CheckMonitorConfig(ReadFile(path));
  std::map<std::string, std::string> problems;
  for (const auto& problem : check.problems) problems[problem.path] = problem.message;
  EXPECT_EQ(problems["$.monitor[0].monitored_directories[0]"],
            "'/absolute/path/to/sequencer_1' does not exist");
  EXPECT_EQ(problems["$.monitor[0].monitored_directories[1]"],
            "'/absolute/path/to/sequencer_2' does not exist");
  EXPECT_EQ(problems["$.monitor[1].monitored_directories[0]"],
            "'/absolute/path/to/sequencer_3' does not exist");
  EXPECT_FALSE(check.config.has_value());
}

TEST(MonitorConfig, BadConfigReportsEveryProblemAtOnce) {
  TempDir dir;
  const std::string text = R"({
    "max_cores": true,
    "max_threads": 0,
    "max_age": "72",
    "log_level": "LOUD",
    "slack_log_webhook": 5,
    "checksum": "sha1",
    "storage_class": "COLD",
    "webhook": "ftp://x",
    "completion": "sometimes",
    "monitr": [],
    "monitor": [
      {
        "monitored_directories": [],
        "bukcet": "b",
        "remote_path": "",
        "sample_regex": "(?<=x)y",
        "exclude_patterns": ["ok", "(unclosed", ""]
      },
      "not a section",
      {
        "monitored_directories": [")" +
                           (dir / "absent").string() + R"(", 3],
        "bucket": 7,
        "remote_path": "/a/../b",
        "exclude_patterns": "Thumbnail_Images/"
      }
    ]
  })";
  const ConfigCheck check = CheckMonitorConfig(text);
  EXPECT_FALSE(check.config.has_value());
  std::vector<std::string> lines;
  for (const auto& problem : check.problems) lines.push_back(problem.path + ": " + problem.message);
  const std::vector<std::string> expected{
      "$.monitr: unknown key (did you mean 'monitor'?)",
      "$.max_cores: must be a positive integer, found a boolean",
      "$.max_threads: must be a positive integer, found 0",
      "$.max_age: must be a positive integer, found a string",
      "$.log_level: 'LOUD' is not a log level (NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL)",
      "$.slack_log_webhook: must be a string, found an integer",
      "$.webhook: must be an http:// or https:// URL",
      "$.checksum: must be \"md5\" or \"none\", found \"sha1\"",
      "$.storage_class: 'COLD' is not an S3 storage class (STANDARD, REDUCED_REDUNDANCY, "
      "STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, OUTPOSTS, "
      "GLACIER_IR, SNOW, EXPRESS_ONEZONE)",
      "$.completion: must be \"instrument\" or \"any\", found \"sometimes\"",
      "$.monitor[0].bukcet: unknown key (did you mean 'bucket'?)",
      "$.monitor[0].monitored_directories: must hold at least one directory",
      "$.monitor[0].bucket: required key missing",
      "$.monitor[0].remote_path: must not be empty",
      "$.monitor[0].sample_regex: a look-behind assertion is Python-only regex syntax with no "
      "std::regex equivalent",
      "$.monitor[0].exclude_patterns[1]: " + PyRegex::Compile("(unclosed").error().message,
      "$.monitor[0].exclude_patterns[2]: must not be empty",
      "$.monitor[1]: must be an object, found a string",
      "$.monitor[2].monitored_directories[0]: '" + (dir / "absent").string() + "' does not exist",
      "$.monitor[2].monitored_directories[1]: must be a string, found an integer",
      "$.monitor[2].bucket: must be a string, found an integer",
      "$.monitor[2].remote_path: remote_path '/a/../b' has a '..' segment",
      "$.monitor[2].exclude_patterns: must be a list, found a string",
  };
  // log_dir defaults to /var/log/s3_upload: whether it is usable depends on the host.
  std::erase_if(lines, [](const std::string& line) { return line.starts_with("$.log_dir"); });
  EXPECT_EQ(lines, expected);

  auto parsed = ParseMonitorConfig(text);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(parsed.error().message.starts_with(std::to_string(check.problems.size()) +
                                                 " errors found in config:\n\t$.monitr: "));
}

TEST(MonitorConfig, AcceptsModernKeysAndFixesS3UploadDefaults) {
  TempDir dir;
  const std::string text = R"({
    "log_level": "warn",
    "log_dir": ")" + (dir / "logs/new").string() +
                           R"(",
    "slack_alert_webhook": "https://hooks.slack.com/services/A/B",
    "checksum": "none",
    "storage_class": "STANDARD_IA",
    "webhook": "https://example.org/hook",
    "aws_profile": "lab",
    "completion": "any",
    "monitor": [{"monitored_directories": [")" +
                           dir.Path().string() + R"("],
                 "bucket": "b", "remote_path": "/runs", "storage_class": "DEEP_ARCHIVE"}]
  })";
  auto config = ParseMonitorConfig(text);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_FALSE(config->max_cores.has_value());  // s3_upload crashed here (B1)
  EXPECT_EQ(config->max_threads, 4);
  EXPECT_EQ(config->max_age, kDefaultMaxAge);
  EXPECT_EQ(config->log_level, "WARNING");
  EXPECT_EQ(config->LogWebhook(), "https://hooks.slack.com/services/A/B");
  EXPECT_EQ(config->checksum, ChecksumMode::None);
  EXPECT_EQ(config->storage_class, "STANDARD_IA");
  EXPECT_EQ(config->monitor[0].storage_class, "DEEP_ARCHIVE");
  EXPECT_EQ(config->webhook, "https://example.org/hook");
  EXPECT_EQ(config->aws_profile, "lab");
  EXPECT_EQ(config->completion, CompletionPolicy::AnyMarker);
}

TEST(MonitorConfig, IntegerLogLevelsAndJsonErrors) {
  auto config = ParseMonitorConfig(
      R"({"log_level": 10, "monitor": [{"monitored_directories": ["/x"], "bucket": "b",
          "remote_path": "/"}]})",
      NoDirectoryChecks());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->log_level, "DEBUG");
  const ConfigCheck not_json = CheckMonitorConfig("{", NoDirectoryChecks());
  ASSERT_EQ(not_json.problems.size(), 1u);
  EXPECT_EQ(not_json.problems[0].path, "$");
  const ConfigCheck empty = CheckMonitorConfig("{}", NoDirectoryChecks());
  ASSERT_EQ(empty.problems.size(), 1u);
  EXPECT_EQ(empty.problems[0].path + ": " + empty.problems[0].message,
            "$.monitor: required key missing");
}

}  // namespace
}  // namespace sluice::illumina
