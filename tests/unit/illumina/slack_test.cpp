// Slack texts of s3_upload (research §1.9) and their JSON bodies, byte for byte.

#include "sluice/handlers/illumina/slack.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::illumina {
namespace {

const std::vector<std::string> kOne{"run_1"};
const std::vector<std::string> kTwo{"run_1", "run_2"};

TEST(SlackMessages, SuccessAndFailureTextsAreS3UploadsWords) {
  EXPECT_EQ(SuccessMessage(kOne),
            ":white_check_mark:  *S3 Upload*: Successfully uploaded 1 run\n\t\t\xE2\x80\xA2 run_1");
  EXPECT_EQ(SuccessMessage(kTwo),
            ":white_check_mark:  *S3 Upload*: Successfully uploaded 2 runs\n\t\t\xE2\x80\xA2 "
            "run_1\n\t\t\xE2\x80\xA2 run_2");
  // The e2e tests' exact expectation (research §1.9).
  EXPECT_EQ(FailureMessage(kOne),
            ":x:  *S3 Upload*: Failed uploading 1 run\n\t\t\xE2\x80\xA2 run_1");
  EXPECT_EQ(CombinedMessage(kOne, kTwo), SuccessMessage(kOne) + "\n\n" + FailureMessage(kTwo));
  EXPECT_EQ(CombinedMessage({}, kOne), FailureMessage(kOne));
  EXPECT_EQ(CombinedMessage({}, {}), "");
}

TEST(SlackMessages, AwsAndBucketErrors) {
  EXPECT_EQ(AwsAuthErrorMessage("Required environment variables for AWS authentication not "
                                "defined."),
            ":warning:  *S3 Upload*: Error in connecting to AWS!\n\nRequired environment "
            "variables for AWS authentication not defined.");
  EXPECT_EQ(AwsConnectionErrorMessage("timed out"),
            ":warning:  *S3 Upload*: Error in connecting to AWS!\n\n\t\ttimed out");
  const std::vector<std::string> buckets{"a", "b"};
  EXPECT_EQ(BucketErrorMessage(buckets),
            ":warning:  *S3 Upload*: Error in accessing specified S3 buckets!\n\n\t\t2 bucket(s) "
            "not accessible or do not exist: a, b");
  EXPECT_EQ(HeldRunMessage("run_1", "2 samplesheets"),
            ":warning:  *S3 Upload*: Run run_1 held: 2 samplesheets");
}

TEST(SlackPayload, IsPythonJsonDumpsOfTheText) {
  // json.dumps({"text": ...}) escapes the bullet and keeps ": " after the key.
  EXPECT_EQ(SlackPayload(FailureMessage(kOne)),
            R"({"text": ":x:  *S3 Upload*: Failed uploading 1 run\n\t\t\u2022 run_1"})");
  EXPECT_EQ(PythonJsonString("q\"\\/\x01\x7f\xF0\x9F\x98\x80\xff"),
            R"("q\"\\/\u0001\u007f\ud83d\ude00\ufffd")");
  // It is JSON that decodes back to the text.
  const auto decoded = nlohmann::json::parse(SlackPayload(SuccessMessage(kTwo)));
  EXPECT_EQ(decoded["text"].get<std::string>(), SuccessMessage(kTwo));
}

TEST(GenericWebhookPayload, CarriesTheRunListsAndText) {
  const auto decoded = nlohmann::json::parse(GenericWebhookPayload(kOne, kTwo));
  EXPECT_EQ(decoded["source"], "sluice");
  EXPECT_EQ(decoded["event"], "upload_summary");
  EXPECT_EQ(decoded["succeeded"], nlohmann::json(kOne));
  EXPECT_EQ(decoded["failed"], nlohmann::json(kTwo));
  EXPECT_EQ(decoded["text"].get<std::string>(), CombinedMessage(kOne, kTwo));
}

}  // namespace
}  // namespace sluice::illumina
