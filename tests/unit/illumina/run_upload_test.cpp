// The upload engine of issue 4 (UploadRuns): one pool for every run's files, largest first
// across runs, completion markers last and in rank order, markers held back when a file of
// their run failed, resume from what the bucket holds (journal or ETag), journal lines.

#include "sluice/handlers/illumina/run_upload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>

#include "sluice/core/hash.hpp"
#include "sluice/handlers/illumina/run_folder.hpp"
#include "support/temp_dir.hpp"
#include "unit/illumina/upload_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using testing::AllKeys;
using testing::LogCapture;
using testing::ReadFile;
using testing::RecordingStore;
using testing::UniqueStoreName;
using testing::WriteFile;

/// A run folder and the store it goes to, ready for UploadRuns.
struct TestRun {
  fs::path dir;
  std::string name;
  RunUpload upload;
};

TestRun ListRun(const fs::path& dir, ObjectStore& destination, std::string remote = "runs",
                RunJournal* journal = nullptr) {
  auto listing = EnumerateRunFiles(dir);
  EXPECT_TRUE(listing) << listing.error().ToString();
  const std::string name = dir.filename().string();
  return TestRun{dir, name,
                 RunUpload{dir, name, remote + "/" + name + "/", &destination,
                           listing ? listing->files : std::vector<RunFile>{}, journal}};
}

/// Writes a run whose markers are bigger than its data files, so that a size order alone would
/// send them first.
void MakeRunWithBigMarkers(const fs::path& run) {
  WriteFile(run / "RunInfo.xml", std::string(100, 'i'));
  WriteFile(run / "Data/a.bin", std::string(500, 'a'));
  WriteFile(run / "Data/b.bin", std::string(300, 'b'));
  WriteFile(run / "Data/c.bin", std::string(200, 'c'));
  WriteFile(run / "RTARead1Complete.txt", std::string(4000, '1'));  // rank 1
  WriteFile(run / "RTAComplete.txt", std::string(5000, '2'));       // rank 2
  WriteFile(run / "RunCompletionStatus.xml", std::string(6000, '3'));  // rank 3
  WriteFile(run / "CopyComplete.txt", std::string(7000, '4'));      // rank 4
}

const std::vector<std::string> kMarkersInRankOrder{"RTARead1Complete.txt", "RTAComplete.txt",
                                                   "RunCompletionStatus.xml", "CopyComplete.txt"};

bool IsMarkerKey(const std::string& key) {
  return std::any_of(kMarkersInRankOrder.begin(), kMarkersInRankOrder.end(),
                     [&](const std::string& m) { return key.ends_with("/" + m); });
}

const FileResult& ResultOf(const RunResult& run, std::string_view relative_path) {
  const auto it = std::find_if(run.files.begin(), run.files.end(),
                               [&](const FileResult& f) { return f.relative_path == relative_path; });
  if (it == run.files.end()) {
    ADD_FAILURE() << "no result for " << relative_path;
    static const FileResult kNone;
    return kNone;
  }
  return *it;
}

TEST(UploadRuns, MarkersGoLastInRankOrder) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_1");
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  TestRun run = ListRun(tmp / "RUN_1", bucket);
  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 1});
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_TRUE((*results)[0].Succeeded());
  // Data largest first, then the markers by rank whatever their size.
  EXPECT_EQ(bucket.PutKeys(),
            (std::vector<std::string>{"runs/RUN_1/Data/a.bin", "runs/RUN_1/Data/b.bin",
                                      "runs/RUN_1/Data/c.bin", "runs/RUN_1/RunInfo.xml",
                                      "runs/RUN_1/RTARead1Complete.txt",
                                      "runs/RUN_1/RTAComplete.txt",
                                      "runs/RUN_1/RunCompletionStatus.xml",
                                      "runs/RUN_1/CopyComplete.txt"}));
}

TEST(UploadRuns, MarkersWaitForEveryOtherFileOfTheirRunWithEightWorkersAndManyFiles) {
  TempDir tmp;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> size(1, 3000);
  for (const std::string run : {"RUN_A", "RUN_B", "RUN_C"}) {
    MakeRunWithBigMarkers(tmp / run);
    for (int i = 0; i < 120; ++i) {
      WriteFile(tmp / run / "Data" / ("f" + std::to_string(i) + ".bin"),
                std::string(static_cast<std::size_t>(size(random)), 'x'));
    }
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket" + std::to_string(attempt))));
    bucket.SetDelay(std::chrono::microseconds(200));
    std::vector<TestRun> runs;
    for (const std::string run : {"RUN_A", "RUN_B", "RUN_C"}) runs.push_back(ListRun(tmp / run, bucket));
    std::vector<RunUpload> uploads;
    for (auto& run : runs) uploads.push_back(run.upload);
    auto results = UploadRuns(uploads, UploadRunsOptions{.concurrency = 8});
    ASSERT_TRUE(results) << results.error().ToString();
    for (const auto& result : *results) EXPECT_TRUE(result.Succeeded()) << result.run_name;

    const auto events = bucket.Events();
    std::size_t in_flight = 0;
    std::size_t most_in_flight = 0;
    for (const auto& event : events) {
      in_flight = event.begin ? in_flight + 1 : in_flight - 1;
      most_in_flight = std::max(most_in_flight, in_flight);
    }
    EXPECT_GT(most_in_flight, 1u) << "the uploads never overlapped";
    EXPECT_LE(most_in_flight, 8u);

    for (const std::string run : {"RUN_A", "RUN_B", "RUN_C"}) {
      SCOPED_TRACE(run);
      const std::string prefix = "runs/" + run + "/";
      std::size_t last_data_end = 0;
      std::size_t data_files = 0;
      std::vector<std::pair<std::size_t, std::string>> marker_begins;  // event index, key
      std::map<std::string, std::size_t> marker_ends;
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (!events[i].key.starts_with(prefix)) continue;
        if (IsMarkerKey(events[i].key)) {
          if (events[i].begin) {
            marker_begins.emplace_back(i, events[i].key);
          } else {
            marker_ends[events[i].key] = i;
          }
        } else if (!events[i].begin) {
          last_data_end = std::max(last_data_end, i);
          ++data_files;
        }
      }
      EXPECT_EQ(data_files, 124u);  // RunInfo.xml, a, b, c and 120 more
      ASSERT_EQ(marker_begins.size(), 4u);
      for (std::size_t m = 0; m < marker_begins.size(); ++m) {
        EXPECT_EQ(marker_begins[m].second, prefix + kMarkersInRankOrder[m]);
        EXPECT_GT(marker_begins[m].first, last_data_end)
            << marker_begins[m].second << " started before every data file was in the bucket";
        if (m > 0) {
          EXPECT_GT(marker_begins[m].first, marker_ends[marker_begins[m - 1].second])
              << "markers overlapped";
        }
      }
    }
  }
}

TEST(UploadRuns, LargestFilesStartFirstAcrossRuns) {
  TempDir tmp;
  WriteFile(tmp / "RUN_A/big.bin", std::string(900, 'a'));
  WriteFile(tmp / "RUN_A/small.bin", std::string(100, 'a'));
  WriteFile(tmp / "RUN_B/medium.bin", std::string(500, 'b'));
  WriteFile(tmp / "RUN_B/tiny.bin", std::string(10, 'b'));
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  std::vector<RunUpload> uploads{ListRun(tmp / "RUN_A", bucket).upload,
                                 ListRun(tmp / "RUN_B", bucket).upload};
  auto results = UploadRuns(uploads, UploadRunsOptions{.concurrency = 1});
  ASSERT_TRUE(results) << results.error().ToString();
  EXPECT_EQ(bucket.PutKeys(),
            (std::vector<std::string>{"runs/RUN_A/big.bin", "runs/RUN_B/medium.bin",
                                      "runs/RUN_A/small.bin", "runs/RUN_B/tiny.bin"}));
  // Results come back per run, files in the order they were given.
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].run_name, "RUN_A");
  EXPECT_EQ((*results)[0].files[0].relative_path, "big.bin");
  EXPECT_EQ((*results)[0].files[1].relative_path, "small.bin");
  EXPECT_EQ((*results)[1].run_name, "RUN_B");
  EXPECT_EQ((*results)[0].bytes_sent, 1000u);
  EXPECT_EQ((*results)[1].bytes_sent, 510u);
}

TEST(UploadRuns, UploadedObjectsHoldTheFilesBytesAndTheirEtags) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_1");
  auto bucket = MakeMemoryStore(UniqueStoreName("bucket"));
  TestRun run = ListRun(tmp / "RUN_1", *bucket, "a/b");
  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 4});
  ASSERT_TRUE(results) << results.error().ToString();
  for (const auto& file : (*results)[0].files) {
    SCOPED_TRACE(file.relative_path);
    EXPECT_EQ(file.key, "a/b/RUN_1/" + file.relative_path);
    EXPECT_FALSE(file.already_there);
    EXPECT_FALSE(file.error.has_value());
    const std::string local = ReadFile(tmp / "RUN_1" / file.relative_path);
    EXPECT_EQ(bucket->Get(file.key).value_or("<missing>"), local);
    EXPECT_EQ(file.etag, Md5Hex(local));
    EXPECT_EQ(file.size_bytes, local.size());
  }
  EXPECT_EQ(AllKeys(*bucket).size(), 8u);
}

TEST(UploadRuns, AFailingFileFailsItsRunHoldsBackItsMarkersAndIsNamed) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_A");
  MakeRunWithBigMarkers(tmp / "RUN_B");
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  bucket.FailKey("runs/RUN_A/Data/b.bin");
  std::vector<RunUpload> uploads{ListRun(tmp / "RUN_A", bucket).upload,
                                 ListRun(tmp / "RUN_B", bucket).upload};
  LogCapture log;
  auto results = UploadRuns(uploads, UploadRunsOptions{.concurrency = 8});
  ASSERT_TRUE(results) << results.error().ToString();
  const RunResult& a = (*results)[0];
  const RunResult& b = (*results)[1];

  EXPECT_FALSE(a.Succeeded());
  EXPECT_EQ(a.FailedCount(), 1u + kMarkersInRankOrder.size());
  const FileResult& failed = ResultOf(a, "Data/b.bin");
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_EQ(failed.error->code, ErrorCode::Transient);
  EXPECT_EQ(failed.key, "runs/RUN_A/Data/b.bin");
  // The warning names the run, the file and the error.
  const std::string text = log.Text();
  EXPECT_NE(text.find("RUN_A"), std::string::npos) << text;
  EXPECT_NE(text.find("Data/b.bin"), std::string::npos) << text;
  EXPECT_NE(text.find("connection reset by peer"), std::string::npos) << text;

  for (const auto& marker : kMarkersInRankOrder) {
    SCOPED_TRACE(marker);
    const FileResult& held = ResultOf(a, marker);
    ASSERT_TRUE(held.error.has_value());
    EXPECT_EQ(held.error->code, ErrorCode::Cancelled);
    EXPECT_NE(held.error->ToString().find(marker), std::string::npos) << held.error->ToString();
    EXPECT_FALSE(bucket.Head("runs/RUN_A/" + marker)) << "a marker of a failed run was sent";
  }
  const auto keys = bucket.PutKeys();
  EXPECT_EQ(std::count_if(keys.begin(), keys.end(),
                          [](const std::string& k) { return k.starts_with("runs/RUN_A/") && IsMarkerKey(k); }),
            0);
  // The other files of the run are there; the other run is untouched by the failure.
  EXPECT_TRUE(bucket.Head("runs/RUN_A/Data/a.bin"));
  EXPECT_TRUE(bucket.Head("runs/RUN_A/Data/c.bin"));
  EXPECT_EQ(a.bytes_sent, 500u + 200u + 100u);
  EXPECT_TRUE(b.Succeeded());
  EXPECT_TRUE(bucket.Head("runs/RUN_B/CopyComplete.txt"));
}

TEST(UploadRuns, AFailingMarkerHoldsBackTheMarkersRankedAfterIt) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_1");
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  bucket.FailKey("runs/RUN_1/RTAComplete.txt");
  TestRun run = ListRun(tmp / "RUN_1", bucket);
  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 3});
  ASSERT_TRUE(results) << results.error().ToString();
  const RunResult& result = (*results)[0];
  EXPECT_FALSE(result.Succeeded());
  EXPECT_FALSE(ResultOf(result, "RTARead1Complete.txt").error.has_value());
  EXPECT_EQ(ResultOf(result, "RTAComplete.txt").error->code, ErrorCode::Transient);
  EXPECT_EQ(ResultOf(result, "RunCompletionStatus.xml").error->code, ErrorCode::Cancelled);
  EXPECT_EQ(ResultOf(result, "CopyComplete.txt").error->code, ErrorCode::Cancelled);
  EXPECT_FALSE(bucket.Head("runs/RUN_1/CopyComplete.txt"));
  EXPECT_EQ(result.FailedCount(), 3u);
}

TEST(UploadRuns, ARunOfOnlyMarkersIsUploaded) {
  TempDir tmp;
  WriteFile(tmp / "RUN_1/RTAComplete.txt", "x");
  WriteFile(tmp / "RUN_1/CopyComplete.txt", "yy");
  RecordingStore bucket(MakeMemoryStore(UniqueStoreName("bucket")));
  TestRun run = ListRun(tmp / "RUN_1", bucket);
  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 2});
  ASSERT_TRUE(results) << results.error().ToString();
  EXPECT_TRUE((*results)[0].Succeeded());
  EXPECT_EQ(bucket.PutKeys(), (std::vector<std::string>{"runs/RUN_1/RTAComplete.txt",
                                                        "runs/RUN_1/CopyComplete.txt"}));
}

TEST(UploadRuns, ResumeSkipsIdenticalObjectsAndResendsOthers) {
  TempDir tmp;
  WriteFile(tmp / "RUN_1/same.bin", std::string(1000, 's'));
  WriteFile(tmp / "RUN_1/changed.bin", std::string(1000, 'n'));
  WriteFile(tmp / "RUN_1/resized.bin", std::string(1000, 'r'));
  WriteFile(tmp / "RUN_1/new.bin", std::string(400, 'w'));
  WriteFile(tmp / "RUN_1/CopyComplete.txt", "");
  auto inner = std::shared_ptr<ObjectStore>(MakeMemoryStore(UniqueStoreName("bucket")));
  ASSERT_TRUE(inner->Put("runs/RUN_1/same.bin", std::string(1000, 's')));
  ASSERT_TRUE(inner->Put("runs/RUN_1/changed.bin", std::string(999, 'n') + "X"));  // same size
  ASSERT_TRUE(inner->Put("runs/RUN_1/resized.bin", std::string(10, 'r')));
  RecordingStore bucket(inner);
  auto journal = RunJournal::Open(tmp / "log/uploads/RUN_1.journal.jsonl");
  ASSERT_TRUE(journal) << journal.error().ToString();
  TestRun run = ListRun(tmp / "RUN_1", bucket, "runs", journal->get());

  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 2});
  ASSERT_TRUE(results) << results.error().ToString();
  const RunResult& result = (*results)[0];
  EXPECT_TRUE(result.Succeeded());
  EXPECT_TRUE(ResultOf(result, "same.bin").already_there);
  EXPECT_EQ(ResultOf(result, "same.bin").etag, Md5Hex(std::string(1000, 's')));
  EXPECT_FALSE(ResultOf(result, "changed.bin").already_there);
  EXPECT_FALSE(ResultOf(result, "resized.bin").already_there);
  EXPECT_FALSE(ResultOf(result, "new.bin").already_there);
  auto keys = bucket.PutKeys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"runs/RUN_1/CopyComplete.txt", "runs/RUN_1/changed.bin",
                                            "runs/RUN_1/new.bin", "runs/RUN_1/resized.bin"}));
  EXPECT_EQ(result.bytes_sent, 1000u + 1000u + 400u);
  EXPECT_EQ(inner->Get("runs/RUN_1/changed.bin").value_or(""), std::string(1000, 'n'));
  EXPECT_EQ(inner->Get("runs/RUN_1/resized.bin").value_or(""), std::string(1000, 'r'));
  // The object found by hashing is journalled, so the next resume need not hash it again.
  const auto entry = (*journal)->Find("same.bin");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->etag, Md5Hex(std::string(1000, 's')));
  EXPECT_EQ(entry->key, "runs/RUN_1/same.bin");
}

TEST(UploadRuns, ResumeTrustsAJournalEntryOfTheSameSizeMtimeAndEtag) {
  TempDir tmp;
  WriteFile(tmp / "RUN_1/trusted.bin", std::string(100, 't'));
  WriteFile(tmp / "RUN_1/stale.bin", std::string(100, 's'));
  auto inner = std::shared_ptr<ObjectStore>(MakeMemoryStore(UniqueStoreName("bucket")));
  // Objects of the same size whose bytes differ from the local files: only the journal can say
  // they are done.
  auto trusted_object = inner->Put("runs/RUN_1/trusted.bin", std::string(100, 'T'));
  auto stale_object = inner->Put("runs/RUN_1/stale.bin", std::string(100, 'S'));
  ASSERT_TRUE(trusted_object && stale_object);
  auto journal = RunJournal::Open(tmp / "RUN_1.journal.jsonl");
  ASSERT_TRUE(journal) << journal.error().ToString();
  RecordingStore bucket(inner);
  TestRun run = ListRun(tmp / "RUN_1", bucket, "runs", journal->get());
  for (const RunFile& file : run.upload.files) {
    const bool trusted = file.relative_path == "trusted.bin";
    ASSERT_TRUE((*journal)->Append(
        file.relative_path,
        JournalEntry{"runs/RUN_1/" + file.relative_path, file.size_bytes,
                     trusted ? file.mtime : file.mtime - std::chrono::seconds(5),
                     trusted ? trusted_object->etag : stale_object->etag}));
  }

  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 1});
  ASSERT_TRUE(results) << results.error().ToString();
  EXPECT_TRUE(ResultOf((*results)[0], "trusted.bin").already_there);
  EXPECT_FALSE(ResultOf((*results)[0], "stale.bin").already_there);
  EXPECT_EQ(bucket.PutKeys(), std::vector<std::string>{"runs/RUN_1/stale.bin"});
  EXPECT_EQ(inner->Get("runs/RUN_1/stale.bin").value_or(""), std::string(100, 's'));
}

TEST(UploadRuns, EveryUploadIsJournalled) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_1");
  auto bucket = MakeMemoryStore(UniqueStoreName("bucket"));
  const fs::path journal_path = tmp / "log/uploads/RUN_1.journal.jsonl";
  {
    auto journal = RunJournal::Open(journal_path);
    ASSERT_TRUE(journal) << journal.error().ToString();
    TestRun run = ListRun(tmp / "RUN_1", *bucket, "runs", journal->get());
    auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 4});
    ASSERT_TRUE(results) << results.error().ToString();
  }
  auto reopened = RunJournal::Open(journal_path);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  auto listing = EnumerateRunFiles(tmp / "RUN_1");
  ASSERT_TRUE(listing);
  for (const RunFile& file : listing->files) {
    SCOPED_TRACE(file.relative_path);
    const auto entry = (*reopened)->Find(file.relative_path);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(entry->key, "runs/RUN_1/" + file.relative_path);
    EXPECT_EQ(entry->size_bytes, file.size_bytes);
    EXPECT_EQ(entry->mtime, file.mtime);
    EXPECT_EQ(entry->etag, Md5Hex(ReadFile(tmp / "RUN_1" / file.relative_path)));
  }
}

TEST(UploadRuns, AFileThatChangedSinceTheListingFails) {
  TempDir tmp;
  WriteFile(tmp / "RUN_1/grows.bin", "abc");
  auto bucket = MakeMemoryStore(UniqueStoreName("bucket"));
  TestRun run = ListRun(tmp / "RUN_1", *bucket);
  WriteFile(tmp / "RUN_1/grows.bin", "abcdef");
  auto results = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 1});
  ASSERT_TRUE(results) << results.error().ToString();
  const FileResult& file = ResultOf((*results)[0], "grows.bin");
  ASSERT_TRUE(file.error.has_value());
  EXPECT_EQ(file.error->code, ErrorCode::Corrupt);
  EXPECT_FALSE(bucket->Head("runs/RUN_1/grows.bin"));
}

TEST(UploadRuns, NothingStartsWithoutADestinationOrWorkers) {
  TempDir tmp;
  WriteFile(tmp / "RUN_1/a.bin", "abc");
  auto bucket = MakeMemoryStore(UniqueStoreName("bucket"));
  TestRun run = ListRun(tmp / "RUN_1", *bucket);
  auto none = UploadRuns(std::span(&run.upload, 1), UploadRunsOptions{.concurrency = 0});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::InvalidArgument);
  std::vector<RunUpload> uploads{run.upload, run.upload};
  uploads[1].destination = nullptr;
  auto missing = UploadRuns(uploads, UploadRunsOptions{.concurrency = 1});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(AllKeys(*bucket).empty());
}

TEST(UploadRuns, ACancelledUploadStartsNoFile) {
  TempDir tmp;
  MakeRunWithBigMarkers(tmp / "RUN_1");
  auto bucket = MakeMemoryStore(UniqueStoreName("bucket"));
  TestRun run = ListRun(tmp / "RUN_1", *bucket);
  const std::atomic<bool> cancel{true};
  auto results = UploadRuns(std::span(&run.upload, 1),
                            UploadRunsOptions{.concurrency = 2, .cancel = &cancel});
  ASSERT_TRUE(results) << results.error().ToString();
  EXPECT_EQ((*results)[0].FailedCount(), run.upload.files.size());
  EXPECT_TRUE(AllKeys(*bucket).empty());
}

}  // namespace
}  // namespace sluice::illumina
