// `sluice monitor` passes (RunMonitorPass) and `sluice upload` (UploadOneRun) against memory://
// buckets: discovery across sections and buckets, held and unstable runs, dry runs, the state
// log across passes, Slack posts and alerts sent once; s3_upload's credential variables and
// daily log files.

#include "sluice/handlers/illumina/monitor.hpp"

#include <gtest/gtest.h>

#include <map>

#include "sluice/core/hash.hpp"
#include "sluice/handlers/illumina/run_folder.hpp"
#include "sluice/handlers/illumina/slack.hpp"
#include "support/temp_dir.hpp"
#include "unit/illumina/upload_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sluice::testing::TempDir;
using testing::AllKeys;
using testing::MakeNovaSeqRun;
using testing::NovaSeqRunFiles;
using testing::ReadFile;
using testing::RecordingStore;
using testing::UniqueStoreName;
using testing::WriteFile;

constexpr std::string_view kLogHook = "https://hooks.example/log";
constexpr std::string_view kAlertHook = "https://hooks.example/alert";

class MonitorPass : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_ / "log");
    config_.log_dir = tmp_ / "log";
    config_.max_cores = 1;
    config_.max_threads = 4;
    config_.slack_log_webhook = kLogHook;
    config_.slack_alert_webhook = kAlertHook;
    config_.stable_interval = 10s;
    environment_.open_bucket = [this](const std::string& name) -> Result<std::shared_ptr<ObjectStore>> {
      if (name.starts_with("missing")) {
        return Fail(ErrorCode::NotFound, "no such bucket", name);
      }
      return std::shared_ptr<ObjectStore>(Bucket(name));
    };
    environment_.post_json = [this](const std::string& url, const std::string& body) -> Status {
      posts_.emplace_back(url, body);
      return Ok();
    };
    environment_.sleep = [this](std::chrono::seconds interval) {
      sleeps_.push_back(interval);
      if (on_sleep_) on_sleep_();
    };
  }

  /// The bucket `name`, shared by every pass of the test.
  std::shared_ptr<RecordingStore> Bucket(const std::string& name) {
    auto& bucket = buckets_[name];
    if (!bucket) bucket = std::make_shared<RecordingStore>(MakeMemoryStore(UniqueStoreName(name)));
    return bucket;
  }

  /// A monitor section watching `folder` (created) into `bucket`.
  MonitorSection& AddSection(const fs::path& folder, const std::string& bucket,
                             const std::string& remote_path = "runs") {
    fs::create_directories(folder);
    MonitorSection section;
    section.monitored_directories = {folder.string()};
    section.bucket = bucket;
    section.remote_path = remote_path;
    config_.monitor.push_back(std::move(section));
    return config_.monitor.back();
  }

  Result<MonitorReport> Pass(bool dry_run = false) {
    return RunMonitorPass(config_, dry_run, environment_);
  }

  /// Bodies posted to `url`, in order.
  std::vector<std::string> PostsTo(std::string_view url) const {
    std::vector<std::string> bodies;
    for (const auto& [to, body] : posts_) {
      if (to == url) bodies.push_back(body);
    }
    return bodies;
  }

  std::optional<RunLog> StateLog(std::string_view run) {
    auto log = ReadRunLogFile(config_.log_dir, run);
    EXPECT_TRUE(log) << log.error().ToString();
    return log ? *log : std::nullopt;
  }

  TempDir tmp_;
  MonitorConfig config_;
  MonitorEnvironment environment_;
  std::map<std::string, std::shared_ptr<RecordingStore>> buckets_;
  std::vector<std::pair<std::string, std::string>> posts_;
  std::vector<std::chrono::seconds> sleeps_;
  std::function<void()> on_sleep_;
};

const std::string kRunA = "240101_A00689_0001_AHAAAAAAXX";
const std::string kRunB = "240102_A00689_0002_BHBBBBBBXX";

std::vector<std::string> Prefixed(const std::string& prefix, const std::vector<std::string>& paths) {
  std::vector<std::string> keys;
  for (const auto& path : paths) keys.push_back(prefix + path);
  return keys;
}

TEST_F(MonitorPass, TwoRunsInTwoSectionsAndBucketsGoUpInOnePassWithOneSuccessPost) {
  AddSection(tmp_ / "seq_a", "bucket-a", "/novaseq/a/");
  AddSection(tmp_ / "seq_b", "bucket-b", "/");
  MakeNovaSeqRun(tmp_ / "seq_a" / kRunA);
  MakeNovaSeqRun(tmp_ / "seq_b" / kRunB);
  WriteFile(tmp_ / "seq_a/not_a_run/readme.txt", "x");  // no RunInfo.xml: ignored

  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->uploaded, (std::vector<std::string>{kRunA, kRunB}));
  EXPECT_TRUE(report->failed.empty());
  EXPECT_EQ(report->ExitCode(), 0);
  EXPECT_EQ(AllKeys(*Bucket("bucket-a")), Prefixed("novaseq/a/" + kRunA + "/", NovaSeqRunFiles()));
  EXPECT_EQ(AllKeys(*Bucket("bucket-b")), Prefixed(kRunB + "/", NovaSeqRunFiles()));
  EXPECT_EQ(Bucket("bucket-a")->Get("novaseq/a/" + kRunA + "/Data/L001/a.cbcl").value_or(""),
            std::string(3000, 'a'));
  // Markers last in each run.
  for (const auto& [bucket, prefix] :
       {std::pair{"bucket-a", "novaseq/a/" + kRunA + "/"}, std::pair{"bucket-b", kRunB + "/"}}) {
    const auto keys = Bucket(bucket)->PutKeys();
    ASSERT_EQ(keys.size(), 6u);
    EXPECT_EQ(keys[4], prefix + "RTAComplete.txt");
    EXPECT_EQ(keys[5], prefix + "CopyComplete.txt");
  }
  // One success post naming both runs, to the log webhook; no alert.
  const std::vector<std::string> both{kRunA, kRunB};
  EXPECT_EQ(PostsTo(kLogHook), std::vector<std::string>{SlackPayload(SuccessMessage(both))});
  EXPECT_TRUE(PostsTo(kAlertHook).empty());
  EXPECT_EQ(report->bytes_sent, 2 * fs::file_size(tmp_ / "seq_a" / kRunA / "RunInfo.xml") +
                                    2 * (3000 + 2000 + 1) +
                                    2 * fs::file_size(tmp_ / "seq_a" / kRunA / "SampleSheet.csv"));
  // Each run's state log, field for field.
  for (const auto& [run, dir] : {std::pair{kRunA, tmp_ / "seq_a" / kRunA},
                                 std::pair{kRunB, tmp_ / "seq_b" / kRunB}}) {
    SCOPED_TRACE(run);
    const auto log = StateLog(run);
    ASSERT_TRUE(log.has_value());
    EXPECT_EQ(log->run_id, run);
    EXPECT_EQ(log->run_path, dir.string());
    EXPECT_TRUE(log->completed);
    EXPECT_EQ(log->total_local_files, 6);
    EXPECT_EQ(log->total_uploaded_files, 6);
    EXPECT_EQ(log->total_failed_upload, 0);
    EXPECT_TRUE(log->failed_upload_files.empty());
    ASSERT_EQ(log->uploaded_files.size(), 6u);
    for (const auto& [path, etag] : log->uploaded_files) {
      ASSERT_TRUE(path.starts_with(dir.string() + "/")) << path;
      EXPECT_EQ(etag, Md5Hex(ReadFile(path))) << path;
    }
  }
}

TEST_F(MonitorPass, AnUploadedRunIsNotUploadedAgain) {
  AddSection(tmp_ / "seq", "bucket");
  MakeNovaSeqRun(tmp_ / "seq" / kRunA);
  ASSERT_TRUE(Pass());
  Bucket("bucket")->ClearEvents();
  posts_.clear();
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->uploaded.empty());
  EXPECT_TRUE(Bucket("bucket")->PutKeys().empty());
  EXPECT_TRUE(posts_.empty());
}

TEST_F(MonitorPass, AnIncompleteRunIsLeftAlone) {
  AddSection(tmp_ / "seq", "bucket");
  MakeNovaSeqRun(tmp_ / "seq" / kRunA);
  fs::remove(tmp_ / "seq" / kRunA / "CopyComplete.txt");  // a NovaSeq still copying
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->uploaded.empty());
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  EXPECT_FALSE(fs::exists(RunLogPath(config_.log_dir, kRunA)));
}

TEST_F(MonitorPass, ARunWithDifferingSamplesheetsIsHeldAndAlertsOnceOverTwoPasses) {
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  fs::remove(run / "SampleSheet.csv");
  WriteFile(run / "CorrectSampleSheet.csv", "[Data]\nSample_ID\ns1\n");
  WriteFile(run / "SampleSheet2.csv", "[Data]\nSample_ID\ns2\n");

  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE("pass " + std::to_string(pass));
    auto report = Pass();
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_EQ(report->held, std::vector<std::string>{kRunA});
    EXPECT_TRUE(report->uploaded.empty());
    EXPECT_TRUE(report->failed.empty());
  }
  EXPECT_TRUE(Bucket("bucket")->PutKeys().empty());
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  EXPECT_FALSE(fs::exists(RunLogPath(config_.log_dir, kRunA)));
  const auto alerts = PostsTo(kAlertHook);
  ASSERT_EQ(alerts.size(), 1u);
  std::string expected_start = SlackPayload(HeldRunMessage(kRunA, ""));
  expected_start.resize(expected_start.size() - 2);  // without the closing "}
  EXPECT_TRUE(alerts[0].starts_with(expected_start)) << alerts[0];
  EXPECT_NE(alerts[0].find(kRunA), std::string::npos);
  EXPECT_NE(alerts[0].find("CorrectSampleSheet.csv"), std::string::npos) << alerts[0];
  EXPECT_NE(alerts[0].find("SampleSheet2.csv"), std::string::npos) << alerts[0];
  EXPECT_TRUE(PostsTo(kLogHook).empty());
}

TEST_F(MonitorPass, DifferingSamplesheetsWithSampleSheetCsvAmongThemAreNotHeld) {
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  WriteFile(run / "SampleSheet2.csv", "[Data]\nSample_ID\nother\n");
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->held.empty());
  EXPECT_EQ(report->uploaded, std::vector<std::string>{kRunA});
}

TEST_F(MonitorPass, AnUnstableRunWaitsForTheNextPass) {
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  // Between the two looks, the sequencer (or rsync) is still writing.
  on_sleep_ = [&] {
    std::ofstream out(run / "Data/L001/a.cbcl", std::ios::app | std::ios::binary);
    out << "more";
  };
  auto first = Pass();
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(sleeps_, std::vector<std::chrono::seconds>{10s});
  EXPECT_EQ(first->unstable, std::vector<std::string>{kRunA});
  EXPECT_TRUE(first->uploaded.empty());
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  EXPECT_FALSE(fs::exists(RunLogPath(config_.log_dir, kRunA)));
  EXPECT_TRUE(posts_.empty());

  on_sleep_ = nullptr;
  auto second = Pass();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_TRUE(second->unstable.empty());
  EXPECT_EQ(second->uploaded, std::vector<std::string>{kRunA});
  EXPECT_EQ(Bucket("bucket")->Get("runs/" + kRunA + "/Data/L001/a.cbcl").value_or(""),
            std::string(3000, 'a') + "more");
}

TEST_F(MonitorPass, ADryRunWritesAndUploadsNothing) {
  AddSection(tmp_ / "seq", "bucket");
  MakeNovaSeqRun(tmp_ / "seq" / kRunA);
  const fs::path held = tmp_ / "seq" / kRunB;
  MakeNovaSeqRun(held);
  fs::remove(held / "SampleSheet.csv");
  WriteFile(held / "SampleSheet_1.csv", "[Data]\nSample_ID\ns1\n");
  WriteFile(held / "SampleSheet_2.csv", "[Data]\nSample_ID\ns2\n");

  auto report = Pass(/*dry_run=*/true);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->would_upload, std::vector<std::string>{kRunA});
  EXPECT_EQ(report->held, std::vector<std::string>{kRunB});
  EXPECT_TRUE(report->uploaded.empty());
  EXPECT_EQ(report->bytes_sent, 0u);
  EXPECT_TRUE(Bucket("bucket")->PutKeys().empty());
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  EXPECT_TRUE(posts_.empty());
  EXPECT_TRUE(fs::is_empty(config_.log_dir)) << "the dry run wrote into log_dir";

  // A real pass afterwards still uploads the run and alerts about the held one (the dry run
  // did not record the alert as sent).
  auto real = Pass();
  ASSERT_TRUE(real) << real.error().ToString();
  EXPECT_EQ(real->uploaded, std::vector<std::string>{kRunA});
  EXPECT_EQ(PostsTo(kAlertHook).size(), 1u);
}

TEST_F(MonitorPass, TheStateLogOfAFailedPassAndOfItsResume) {
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  const std::string prefix = "runs/" + kRunA + "/";
  Bucket("bucket")->FailKey(prefix + "Data/L001/b.cbcl");

  auto first = Pass();
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->failed, std::vector<std::string>{kRunA});
  EXPECT_EQ(first->ExitCode(), 1);
  auto log = StateLog(kRunA);
  ASSERT_TRUE(log.has_value());
  EXPECT_FALSE(log->completed);
  EXPECT_EQ(log->run_path, run.string());
  EXPECT_EQ(log->total_local_files, 6);
  EXPECT_EQ(log->total_uploaded_files, 3);  // RunInfo.xml, SampleSheet.csv, a.cbcl
  EXPECT_EQ(log->total_failed_upload, 3);   // b.cbcl and the two markers held back
  auto failed = log->failed_upload_files;
  std::sort(failed.begin(), failed.end());
  EXPECT_EQ(failed, (std::vector<std::string>{run.string() + "/CopyComplete.txt",
                                              run.string() + "/Data/L001/b.cbcl",
                                              run.string() + "/RTAComplete.txt"}));
  EXPECT_EQ(log->uploaded_files.size(), 3u);

  Bucket("bucket")->ClearFailures();
  Bucket("bucket")->ClearEvents();
  auto second = Pass();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->uploaded, std::vector<std::string>{kRunA});
  // Only what was missing went up, markers last.
  EXPECT_EQ(Bucket("bucket")->PutKeys(),
            (std::vector<std::string>{prefix + "Data/L001/b.cbcl", prefix + "RTAComplete.txt",
                                      prefix + "CopyComplete.txt"}));
  log = StateLog(kRunA);
  ASSERT_TRUE(log.has_value());
  EXPECT_TRUE(log->completed);
  EXPECT_EQ(log->total_local_files, 6);
  EXPECT_EQ(log->total_uploaded_files, 6) << "files already in the bucket counted twice";
  EXPECT_EQ(log->total_failed_upload, 0);
  EXPECT_TRUE(log->failed_upload_files.empty());
  EXPECT_EQ(log->uploaded_files.size(), 6u);
  EXPECT_EQ(PostsTo(kLogHook), std::vector<std::string>{SlackPayload(SuccessMessage(
                                   std::vector<std::string>{kRunA}))});
}

TEST_F(MonitorPass, ALoggedFileSentAgainOnResumeIsNotCountedTwice) {
  // Pass 1 fails one file; before pass 2 an object already logged as uploaded vanishes from the
  // bucket (deleted by hand, a lifecycle rule), so pass 2 sends it again. The run must still end
  // completed: counting that file twice would leave total_uploaded_files above
  // total_local_files for ever, and the run reported failed at every cron tick.
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  const std::string prefix = "runs/" + kRunA + "/";
  Bucket("bucket")->FailKey(prefix + "Data/L001/b.cbcl");
  ASSERT_TRUE(Pass());
  ASSERT_EQ(StateLog(kRunA)->total_uploaded_files, 3);
  ASSERT_TRUE(Bucket("bucket")->Delete(prefix + "Data/L001/a.cbcl"));
  // The object comes back with other bytes of the same size: the log must show its new ETag.
  WriteFile(run / "Data/L001/a.cbcl", std::string(3000, 'A'));

  Bucket("bucket")->ClearFailures();
  auto second = Pass();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->uploaded, std::vector<std::string>{kRunA});
  EXPECT_TRUE(second->failed.empty());
  auto log = StateLog(kRunA);
  ASSERT_TRUE(log.has_value());
  EXPECT_TRUE(log->completed);
  EXPECT_EQ(log->total_uploaded_files, 6);
  EXPECT_EQ(log->uploaded_files.size(), 6u);
  for (const auto& [path, etag] : log->uploaded_files) {
    EXPECT_EQ(etag, Md5Hex(ReadFile(path))) << path;
  }

  // And it stays done.
  Bucket("bucket")->ClearEvents();
  auto third = Pass();
  ASSERT_TRUE(third) << third.error().ToString();
  EXPECT_TRUE(third->uploaded.empty());
  EXPECT_TRUE(third->failed.empty());
  EXPECT_TRUE(Bucket("bucket")->PutKeys().empty());
}

TEST_F(MonitorPass, FilesAlreadyInTheBucketWithoutAStateLogCountOnce) {
  // A crash after some uploads, before any state log: the bucket is the source of truth.
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  const std::string prefix = "runs/" + kRunA + "/";
  ASSERT_TRUE(Bucket("bucket")->Put(prefix + "Data/L001/a.cbcl", std::string(3000, 'a')));
  ASSERT_TRUE(Bucket("bucket")->Put(prefix + "RunInfo.xml", ReadFile(run / "RunInfo.xml")));

  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->uploaded, std::vector<std::string>{kRunA});
  auto keys = Bucket("bucket")->PutKeys();
  EXPECT_EQ(std::count(keys.begin(), keys.end(), prefix + "Data/L001/a.cbcl"), 0);
  EXPECT_EQ(keys.size(), 4u);
  const auto log = StateLog(kRunA);
  ASSERT_TRUE(log.has_value());
  EXPECT_TRUE(log->completed);
  EXPECT_EQ(log->total_uploaded_files, 6);
  EXPECT_EQ(log->uploaded_files.size(), 6u);
}

TEST_F(MonitorPass, AFailingRunAlertsOnceAcrossTwoFailingPasses) {
  AddSection(tmp_ / "seq", "bucket");
  MakeNovaSeqRun(tmp_ / "seq" / kRunA);
  Bucket("bucket")->FailKey("runs/" + kRunA + "/Data/L001/a.cbcl");
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE("pass " + std::to_string(pass));
    auto report = Pass();
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_EQ(report->failed, std::vector<std::string>{kRunA});
    EXPECT_EQ(report->ExitCode(), 1);
  }
  EXPECT_EQ(PostsTo(kAlertHook), std::vector<std::string>{SlackPayload(FailureMessage(
                                     std::vector<std::string>{kRunA}))});
  EXPECT_TRUE(PostsTo(kLogHook).empty());
  EXPECT_FALSE(Bucket("bucket")->Head("runs/" + kRunA + "/CopyComplete.txt"));
}

TEST_F(MonitorPass, AManifestListingAMissingFileHoldsTheRun) {
  AddSection(tmp_ / "seq", "bucket");
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  WriteFile(run / "Manifest.tsv",
            "Data/L001/a.cbcl\t0f00\r\nData/L001/missing.cbcl\t0f01\r\nRunInfo.xml\t0f02\r\n");
  for (int pass = 0; pass < 2; ++pass) {
    auto report = Pass();
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_EQ(report->held, std::vector<std::string>{kRunA});
    EXPECT_TRUE(report->uploaded.empty());
  }
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  const auto alerts = PostsTo(kAlertHook);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].find("Data/L001/missing.cbcl"), std::string::npos) << alerts[0];
  EXPECT_NE(alerts[0].find("Manifest.tsv"), std::string::npos) << alerts[0];
}

TEST_F(MonitorPass, AManifestListingOnlyPresentOrExcludedFilesLetsTheRunGo) {
  auto& section = AddSection(tmp_ / "seq", "bucket");
  const std::vector<std::string> patterns{"Thumbnail_Images/"};
  auto exclude = ExcludeFilter::Compile(patterns);
  ASSERT_TRUE(exclude) << exclude.error().ToString();
  section.exclude_patterns = patterns;
  section.exclude = *exclude;
  const fs::path run = tmp_ / "seq" / kRunA;
  MakeNovaSeqRun(run);
  WriteFile(run / "Thumbnail_Images/L001/t.jpg", "jpg");
  WriteFile(run / "Manifest.tsv", "Data/L001/a.cbcl\tx\nThumbnail_Images/L001/t.jpg\ty\n");
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->held.empty());
  EXPECT_EQ(report->uploaded, std::vector<std::string>{kRunA});
  EXPECT_TRUE(Bucket("bucket")->Head("runs/" + kRunA + "/Manifest.tsv"));
  EXPECT_FALSE(Bucket("bucket")->Head("runs/" + kRunA + "/Thumbnail_Images/L001/t.jpg"));
}

TEST_F(MonitorPass, AnInaccessibleBucketStopsThePassAndAlerts) {
  AddSection(tmp_ / "seq_a", "bucket");
  AddSection(tmp_ / "seq_b", "missing-bucket");
  MakeNovaSeqRun(tmp_ / "seq_a" / kRunA);
  auto report = Pass();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::NotFound);
  EXPECT_NE(report.error().ToString().find("missing-bucket"), std::string::npos);
  EXPECT_TRUE(AllKeys(*Bucket("bucket")).empty());
  EXPECT_EQ(PostsTo(kAlertHook), std::vector<std::string>{SlackPayload(BucketErrorMessage(
                                     std::vector<std::string>{"missing-bucket"}))});
}

TEST_F(MonitorPass, TheGenericWebhookGetsTheSummary) {
  config_.webhook = "https://hooks.example/generic";
  AddSection(tmp_ / "seq", "bucket");
  MakeNovaSeqRun(tmp_ / "seq" / kRunA);
  MakeNovaSeqRun(tmp_ / "seq" / kRunB);
  Bucket("bucket")->FailKey("runs/" + kRunB + "/RunInfo.xml");
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  const std::vector<std::string> ok{kRunA};
  const std::vector<std::string> failed{kRunB};
  EXPECT_EQ(PostsTo("https://hooks.example/generic"),
            std::vector<std::string>{GenericWebhookPayload(ok, failed)});
  EXPECT_EQ(PostsTo(kLogHook), std::vector<std::string>{SlackPayload(SuccessMessage(ok))});
  EXPECT_EQ(PostsTo(kAlertHook), std::vector<std::string>{SlackPayload(FailureMessage(failed))});
}

TEST_F(MonitorPass, NothingToDoPostsNothing) {
  AddSection(tmp_ / "seq", "bucket");
  auto report = Pass();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->ExitCode(), 0);
  EXPECT_TRUE(posts_.empty());
  EXPECT_TRUE(sleeps_.empty()) << "waited for stability with no candidate";
}

// ---------------------------------------------------------------------------------------------
// sluice upload

TEST(UploadOneRun, AnIncompleteRunIsRefusedUnlessTheCheckIsSkipped) {
  TempDir tmp;
  const fs::path run = tmp / kRunA;
  MakeNovaSeqRun(run);
  fs::remove(run / "CopyComplete.txt");
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  MonitorEnvironment environment;
  auto refused = UploadOneRun(run, bucket, "runs", /*skip_check=*/false, 4, environment);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(refused.error().message.find("CopyComplete.txt"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(AllKeys(bucket).empty());

  auto report = UploadOneRun(run, bucket, "runs", /*skip_check=*/true, 4, environment);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->uploaded, std::vector<std::string>{kRunA});
  EXPECT_EQ(AllKeys(bucket).size(), 5u);
}

TEST(UploadOneRun, AFailedFileFailsTheRunAndASecondCallSendsOnlyWhatIsMissing) {
  TempDir tmp;
  const fs::path run = tmp / kRunA;
  MakeNovaSeqRun(run);
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  const std::string prefix = "x/" + kRunA + "/";
  bucket.FailKey(prefix + "SampleSheet.csv");
  MonitorEnvironment environment;
  auto first = UploadOneRun(run, bucket, "/x/", false, 4, environment);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->failed, std::vector<std::string>{kRunA});
  EXPECT_EQ(first->ExitCode(), 1);
  EXPECT_FALSE(bucket.Head(prefix + "CopyComplete.txt"));

  bucket.ClearFailures();
  bucket.ClearEvents();
  auto second = UploadOneRun(run, bucket, "/x/", false, 4, environment);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->uploaded, std::vector<std::string>{kRunA});
  EXPECT_EQ(bucket.PutKeys(), (std::vector<std::string>{prefix + "SampleSheet.csv",
                                                        prefix + "RTAComplete.txt",
                                                        prefix + "CopyComplete.txt"}));
}

// ---------------------------------------------------------------------------------------------
// s3_upload's credential variables

std::function<std::optional<std::string>(std::string_view)> Env(
    std::map<std::string, std::string, std::less<>> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto it = variables.find(name);
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LegacyCredentials, NoneAProfileOrBothKeysAreFine) {
  auto none = ReadLegacyCredentials(Env({}));
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->profile.empty() && none->access_key.empty() && none->secret_key.empty());

  auto profile = ReadLegacyCredentials(Env({{"AWS_DEFAULT_PROFILE", "lab"}}));
  ASSERT_TRUE(profile) << profile.error().ToString();
  EXPECT_EQ(profile->profile, "lab");

  auto keys = ReadLegacyCredentials(Env({{"AWS_ACCESS_KEY", "AKIA"}, {"AWS_SECRET_KEY", "s3cr3t"}}));
  ASSERT_TRUE(keys) << keys.error().ToString();
  EXPECT_EQ(keys->access_key, "AKIA");
  EXPECT_EQ(keys->secret_key, "s3cr3t");
  EXPECT_TRUE(keys->profile.empty());
}

TEST(LegacyCredentials, AProfileAndKeysTogetherGetS3UploadsMessage) {
  const std::string message =
      "Both `AWS_DEFAULT_PROFILE` provided as well as `AWS_ACCESS_KEY` and / or "
      "`AWS_SECRET_KEY`. Only one authentication method may be used.";
  for (const auto& variables : std::vector<std::map<std::string, std::string, std::less<>>>{
           {{"AWS_DEFAULT_PROFILE", "lab"}, {"AWS_ACCESS_KEY", "AKIA"}},
           {{"AWS_DEFAULT_PROFILE", "lab"}, {"AWS_SECRET_KEY", "s3cr3t"}},
           {{"AWS_DEFAULT_PROFILE", "lab"}, {"AWS_ACCESS_KEY", "AKIA"}, {"AWS_SECRET_KEY", "s"}}}) {
    auto result = ReadLegacyCredentials(Env(variables));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(result.error().message, message);
    EXPECT_EQ(result.error().ToString().find("s3cr3t"), std::string::npos) << "leaks the secret";
  }
}

TEST(LegacyCredentials, OneKeyWithoutTheOtherIsAnError) {
  for (const auto& variables : std::vector<std::map<std::string, std::string, std::less<>>>{
           {{"AWS_ACCESS_KEY", "AKIA"}}, {{"AWS_SECRET_KEY", "s3cr3t"}}}) {
    auto result = ReadLegacyCredentials(Env(variables));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(result.error().message.find("AWS_ACCESS_KEY"), std::string::npos);
    EXPECT_NE(result.error().message.find("AWS_SECRET_KEY"), std::string::npos);
    EXPECT_EQ(result.error().ToString().find("s3cr3t"), std::string::npos) << "leaks the secret";
  }
}

// ---------------------------------------------------------------------------------------------
// Daily log files

TEST(DailyLogs, ThePathHoldsTheDate) {
  EXPECT_EQ(DailyLogPath("/var/log/s3_upload", std::chrono::year{2024} / 3 / 5),
            fs::path("/var/log/s3_upload/s3_upload.log.2024-03-05"));
  EXPECT_EQ(DailyLogPath("logs", std::chrono::year{2023} / 12 / 31),
            fs::path("logs/s3_upload.log.2023-12-31"));
}

TEST(DailyLogs, FilesOlderThanFiveDaysAreRemovedAndNewerOnesKept) {
  TempDir tmp;
  const std::chrono::year_month_day today = std::chrono::year{2024} / 3 / 2;
  const auto days_ago = [&](int days) {
    return DailyLogPath(tmp.Path(), std::chrono::year_month_day(std::chrono::sys_days(today) -
                                                               std::chrono::days(days)));
  };
  for (int days : {0, 1, 4, 5, 6, 30}) WriteFile(days_ago(days), "log");
  WriteFile(tmp / "s3_upload.log", "current");
  WriteFile(tmp / "s3_upload.lock", "");
  WriteFile(tmp / "s3_upload.log.not-a-date", "x");

  RemoveOldDailyLogs(tmp.Path(), today);

  EXPECT_TRUE(fs::exists(days_ago(0)));
  EXPECT_TRUE(fs::exists(days_ago(1)));
  EXPECT_TRUE(fs::exists(days_ago(4)));
  EXPECT_TRUE(fs::exists(days_ago(5)));
  EXPECT_FALSE(fs::exists(days_ago(6)));
  EXPECT_FALSE(fs::exists(days_ago(30)));
  EXPECT_EQ(days_ago(6).filename(), "s3_upload.log.2024-02-25");  // across the month's end
  EXPECT_TRUE(fs::exists(tmp / "s3_upload.log"));
  EXPECT_TRUE(fs::exists(tmp / "s3_upload.lock"));
  EXPECT_TRUE(fs::exists(tmp / "s3_upload.log.not-a-date"));
}

}  // namespace
}  // namespace sluice::illumina
