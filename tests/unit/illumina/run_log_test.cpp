// s3_upload's per-run state log: the fixture logs read, the bytes written are json.dump's,
// the merge follows write_upload_state_to_log, and resume paths come out relative.

#include "sluice/handlers/illumina/run_log.hpp"

#include <gtest/gtest.h>

#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

using testing::ReadFile;
using testing::S3UploadFixtures;

TEST(RunLogFixtures, CompleteLogReads) {
  const auto path = S3UploadFixtures() / "tests/unit/test_data/complete_run_upload.log.json";
  SLUICE_REQUIRE_SHARED(path);
  auto log = ParseRunLog(ReadFile(path));
  ASSERT_TRUE(log) << log.error().ToString();
  EXPECT_EQ(log->run_id, "181024_A01295_001_ABC123");
  EXPECT_EQ(log->run_path, "/genetics/181024_A01295_001_ABC123");
  EXPECT_TRUE(log->completed);
  EXPECT_EQ(log->total_local_files, 2);
  EXPECT_EQ(log->total_uploaded_files, 2);
  EXPECT_EQ(log->total_failed_upload, 0);
  EXPECT_TRUE(log->failed_upload_files.empty());
  EXPECT_EQ(log->uploaded_files, (std::vector<std::pair<std::string, std::string>>{
                                     {"file1.txt", "abc123"}, {"file2.txt", "def456"}}));
  EXPECT_EQ(StateOf(*log), UploadState::Uploaded);
}

TEST(RunLogFixtures, IncompleteLogReadsAndIsResumed) {
  const auto path = S3UploadFixtures() / "tests/unit/test_data/incomplete_run_upload.log.json";
  SLUICE_REQUIRE_SHARED(path);
  auto log = ParseRunLog(ReadFile(path));
  ASSERT_TRUE(log) << log.error().ToString();
  EXPECT_FALSE(log->completed);
  EXPECT_EQ(log->total_uploaded_files, 1);
  EXPECT_EQ(StateOf(*log), UploadState::Partial);
  EXPECT_EQ(StateOf(std::nullopt), UploadState::New);
  EXPECT_EQ(UploadedRelativePaths(*log), std::vector<std::string>{"file1.txt"});
}

TEST(RunLogFixtures, RewritingAFixtureGivesItsBytesBack) {
  // The fixtures were written by json.dump(indent=4); FormatRunLog must give the same bytes.
  for (const char* name : {"complete_run_upload.log.json", "incomplete_run_upload.log.json"}) {
    const auto path = S3UploadFixtures() / "tests/unit/test_data" / name;
    SLUICE_REQUIRE_SHARED(path);
    std::string original = ReadFile(path);
    while (!original.empty() && original.back() == '\n') original.pop_back();
    auto log = ParseRunLog(original);
    ASSERT_TRUE(log);
    EXPECT_EQ(FormatRunLog(*log), original) << name;
  }
}

TEST(FormatRunLog, WritesPythonJsonDumpLayout) {
  RunLog log;
  log.run_id = "run_1";
  log.run_path = "/seq/run_1";
  log.total_local_files = 3;
  log.failed_upload_files = {"/seq/run_1/é.txt"};
  EXPECT_EQ(FormatRunLog(log),
            "{\n"
            "    \"run_id\": \"run_1\",\n"
            "    \"run_path\": \"/seq/run_1\",\n"
            "    \"completed\": false,\n"
            "    \"total_local_files\": 3,\n"
            "    \"total_uploaded_files\": 0,\n"
            "    \"total_failed_upload\": 0,\n"
            "    \"failed_upload_files\": [\n"
            "        \"/seq/run_1/\\u00e9.txt\"\n"
            "    ],\n"
            "    \"uploaded_files\": {}\n"
            "}");
}

TEST(ParseRunLog, AcceptsTheEarlyRunPathKeyAndKeepsIt) {
  auto log = ParseRunLog(
      R"({"run_id": "r", "run path": "/p/r", "completed": false, "total_local_files": 1,
          "total_uploaded_files": 0, "total_failed_upload": 1,
          "failed_upload_files": ["/p/r/a"], "uploaded_files": {}, "extra": 1})");
  ASSERT_TRUE(log) << log.error().ToString();
  EXPECT_EQ(log->run_path, "/p/r");
  EXPECT_TRUE(log->legacy_run_path_key);
  EXPECT_NE(FormatRunLog(*log).find("\"run path\": \"/p/r\""), std::string::npos);
}

TEST(ParseRunLog, RejectsDamagedLogs) {
  EXPECT_EQ(ParseRunLog("[]").error().code, ErrorCode::Corrupt);
  EXPECT_EQ(ParseRunLog("{").error().code, ErrorCode::Corrupt);
  auto missing = ParseRunLog(R"({"run_id": "r", "run_path": "/p"})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "missing key 'completed'");
  auto wrong = ParseRunLog(R"({"run_id": "r", "run_path": "/p", "completed": "yes"})");
  EXPECT_EQ(wrong.error().message, "'completed' is not a boolean");
}

TEST(MergeUploadPass, FollowsWriteUploadStateToLog) {
  // First pass: 4 of 5 uploaded, RunInfo.xml failed (the e2e resume scenario, research §2).
  UploadPass first{"run_1",
                   "/seq/run_1",
                   5,
                   {{"/seq/run_1/a", "e1"},
                    {"/seq/run_1/b", "e2"},
                    {"/seq/run_1/c", "e3"},
                    {"/seq/run_1/d", "e4"}},
                   {"/seq/run_1/RunInfo.xml"}};
  RunLog log = MergeUploadPass(std::nullopt, first);
  EXPECT_FALSE(log.completed);
  EXPECT_EQ(log.total_local_files, 5);
  EXPECT_EQ(log.total_uploaded_files, 4);
  EXPECT_EQ(log.total_failed_upload, 1);
  EXPECT_EQ(log.failed_upload_files, std::vector<std::string>{"/seq/run_1/RunInfo.xml"});

  // Second pass uploads the rest: completed, failures replaced, dict merged in order.
  UploadPass second{"run_1", "/seq/run_1", 5, {{"/seq/run_1/RunInfo.xml", "e5"}}, {}};
  log = MergeUploadPass(log, second);
  EXPECT_TRUE(log.completed);
  EXPECT_EQ(log.total_uploaded_files, 5);
  EXPECT_EQ(log.total_failed_upload, 0);
  EXPECT_TRUE(log.failed_upload_files.empty());
  ASSERT_EQ(log.uploaded_files.size(), 5u);
  EXPECT_EQ(log.uploaded_files.back().first, "/seq/run_1/RunInfo.xml");
  EXPECT_EQ(UploadedRelativePaths(log),
            (std::vector<std::string>{"RunInfo.xml", "a", "b", "c", "d"}));

  // A re-upload of a known key updates its ETag in place; completed is never cleared.
  UploadPass third{"run_1", "/seq/run_1", 6, {{"/seq/run_1/a", "new"}}, {"/seq/run_1/x"}};
  log = MergeUploadPass(log, third);
  EXPECT_TRUE(log.completed);
  EXPECT_EQ(log.uploaded_files.front(),
            (std::pair<std::string, std::string>{"/seq/run_1/a", "new"}));
  EXPECT_EQ(log.total_local_files, 5);  // kept from the first write
}

TEST(UploadedRelativePaths, DropsPathsOfAnotherMount) {
  RunLog log;
  log.run_path = "/old/mount/run_1/";
  log.uploaded_files = {
      {"/old/mount/run_1/Data/x.cbcl", "e"}, {"/elsewhere/run_1/y", "e"}, {"rel/z", "e"}};
  EXPECT_EQ(UploadedRelativePaths(log), (std::vector<std::string>{"Data/x.cbcl", "rel/z"}));
  EXPECT_EQ(UploadedRelativePaths(log, "/elsewhere/run_1"),
            (std::vector<std::string>{"rel/z", "y"}));
  EXPECT_EQ(RunLogPath("/var/log/s3_upload", "run_1"),
            std::filesystem::path("/var/log/s3_upload/uploads/run_1.upload.log.json"));
}

}  // namespace
}  // namespace sluice::illumina
