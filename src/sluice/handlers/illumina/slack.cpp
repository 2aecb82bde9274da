#include "sluice/handlers/illumina/slack.hpp"

#include "sluice/core/python_json.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>

namespace sluice::illumina {

namespace {

constexpr std::string_view kBullet = "\n\t\t\xE2\x80\xA2 ";  // "\n\t\t• "

std::string RunList(std::string_view head, std::span<const std::string> runs) {
  std::string message = fmt::format("{} {} run{}", head, runs.size(), runs.size() == 1 ? "" : "s");
  for (const std::string& run : runs) {
    message += kBullet;
    message += run;
  }
  return message;
}


std::string JsonList(std::span<const std::string> items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += PythonJsonString(items[i]);
  }
  return out + "]";
}

}  // namespace

std::string SuccessMessage(std::span<const std::string> runs) {
  return RunList(":white_check_mark:  *S3 Upload*: Successfully uploaded", runs);
}

std::string FailureMessage(std::span<const std::string> runs) {
  return RunList(":x:  *S3 Upload*: Failed uploading", runs);
}

std::string CombinedMessage(std::span<const std::string> succeeded,
                            std::span<const std::string> failed) {
  std::string message;
  if (!succeeded.empty()) message = SuccessMessage(succeeded);
  if (!failed.empty()) {
    if (!message.empty()) message += "\n\n";
    message += FailureMessage(failed);
  }
  return message;
}

std::string AwsAuthErrorMessage(std::string_view message) {
  return fmt::format(":warning:  *S3 Upload*: Error in connecting to AWS!\n\n{}", message);
}

std::string AwsConnectionErrorMessage(std::string_view error) {
  return fmt::format(":warning:  *S3 Upload*: Error in connecting to AWS!\n\n\t\t{}", error);
}

std::string BucketErrorMessage(std::span<const std::string> buckets) {
  return fmt::format(
      ":warning:  *S3 Upload*: Error in accessing specified S3 buckets!\n\n\t\t{} bucket(s) not "
      "accessible or do not exist: {}",
      buckets.size(), fmt::join(buckets, ", "));
}

std::string HeldRunMessage(std::string_view run, std::string_view reason) {
  return fmt::format(":warning:  *S3 Upload*: Run {} held: {}", run, reason);
}

std::string PythonJsonString(std::string_view text) {
  std::string out;
  AppendPythonJsonString(out, text);
  return out;
}

std::string SlackPayload(std::string_view message) {
  return fmt::format("{{\"text\": {}}}", PythonJsonString(message));
}

std::string GenericWebhookPayload(std::span<const std::string> succeeded,
                                  std::span<const std::string> failed) {
  return fmt::format(
      "{{\"source\": \"sluice\", \"event\": \"upload_summary\", \"succeeded\": {}, "
      "\"failed\": {}, \"text\": {}}}",
      JsonList(succeeded), JsonList(failed), PythonJsonString(CombinedMessage(succeeded, failed)));
}

}  // namespace sluice::illumina
