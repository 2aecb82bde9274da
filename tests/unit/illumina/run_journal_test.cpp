// The per-run journal (issue 4): append-only JSON lines, fsync'd, read back on reopen, a torn
// last line ignored and cut off, alerts remembered.

#include "sluice/handlers/illumina/run_journal.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using testing::ReadFile;
using testing::WriteFile;

std::chrono::system_clock::time_point Nanoseconds(std::int64_t ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns)));
}

std::unique_ptr<RunJournal> OpenOrDie(const fs::path& path) {
  auto journal = RunJournal::Open(path);
  EXPECT_TRUE(journal) << journal.error().ToString();
  return journal ? std::move(*journal) : nullptr;
}

TEST(RunJournal, PathIsBelowTheUploadsFolderOfTheLogDir) {
  EXPECT_EQ(RunJournal::PathFor("/var/log/s3_upload", "RUN_1"),
            fs::path("/var/log/s3_upload/uploads/RUN_1.journal.jsonl"));
}

TEST(RunJournal, OpenCreatesTheFileAndItsFolders) {
  TempDir tmp;
  const fs::path path = tmp / "a/b/uploads/RUN_1.journal.jsonl";
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_FALSE(journal->Find("anything").has_value());
  EXPECT_FALSE(journal->AlertSent("held"));
}

TEST(RunJournal, EntriesSurviveReopening) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  const JournalEntry first{"runs/RUN_1/Data/x.cbcl", 123, Nanoseconds(1'700'000'000'123'456'789),
                           "0123456789abcdef0123456789abcdef"};
  const JournalEntry second{"runs/RUN_1/RunInfo.xml", 0, Nanoseconds(5), "abc-3"};
  {
    auto journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal->Append("Data/x.cbcl", first));
    ASSERT_TRUE(journal->Append("RunInfo.xml", second));
    // Visible at once to the writer too.
    ASSERT_TRUE(journal->Find("Data/x.cbcl").has_value());
    EXPECT_EQ(journal->Find("Data/x.cbcl")->etag, first.etag);
  }
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  const auto x = journal->Find("Data/x.cbcl");
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(x->key, first.key);
  EXPECT_EQ(x->size_bytes, first.size_bytes);
  EXPECT_EQ(x->mtime, first.mtime);  // nanoseconds kept
  EXPECT_EQ(x->etag, first.etag);
  const auto info = journal->Find("RunInfo.xml");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->etag, "abc-3");
  EXPECT_EQ(info->mtime, second.mtime);
  EXPECT_FALSE(journal->Find("Data").has_value());

  // One JSON object per line, with the documented fields.
  std::istringstream lines(ReadFile(path));
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json.at("path"), "Data/x.cbcl");
  EXPECT_EQ(json.at("key"), first.key);
  EXPECT_EQ(json.at("size"), 123);
  EXPECT_EQ(json.at("mtime_ns"), 1'700'000'000'123'456'789);
  EXPECT_EQ(json.at("etag"), first.etag);
}

TEST(RunJournal, TheLatestEntryOfAPathWins) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  {
    auto journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal->Append("a", JournalEntry{"k/a", 1, Nanoseconds(1), "old"}));
    ASSERT_TRUE(journal->Append("a", JournalEntry{"k/a", 2, Nanoseconds(2), "new"}));
    EXPECT_EQ(journal->Find("a")->etag, "new");
  }
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Find("a").has_value());
  EXPECT_EQ(journal->Find("a")->etag, "new");
  EXPECT_EQ(journal->Find("a")->size_bytes, 2u);
}

TEST(RunJournal, ATornLastLineIsIgnoredAndCutOff) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  const std::string good =
      R"({"path":"a","key":"k/a","size":1,"mtime_ns":10,"etag":"ea"})"
      "\n"
      R"({"path":"b","key":"k/b","size":2,"mtime_ns":20,"etag":"eb"})"
      "\n";
  // A crash in the middle of the third append.
  WriteFile(path, good + R"({"path":"c","key":"k/c","si)");
  {
    auto journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    EXPECT_TRUE(journal->Find("a").has_value());
    EXPECT_TRUE(journal->Find("b").has_value());
    EXPECT_FALSE(journal->Find("c").has_value());
    EXPECT_EQ(ReadFile(path), good) << "the torn line was not cut off";
    ASSERT_TRUE(journal->Append("c", JournalEntry{"k/c", 3, Nanoseconds(30), "ec"}));
  }
  // The next append starts a line of its own: every line parses.
  std::istringstream lines(ReadFile(path));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
  EXPECT_EQ(count, 3);
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Find("c").has_value());
  EXPECT_EQ(journal->Find("c")->etag, "ec");
  EXPECT_EQ(journal->Find("b")->etag, "eb");
}

TEST(RunJournal, AWholeLineThatIsNotAnEntryIsSkipped) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  WriteFile(path,
            "not json at all\n"
            R"({"path":"a","size":1,"mtime_ns":10,"etag":"ea"})"
            "\n"
            R"({"no_path":"x"})"
            "\n"
            R"([1,2,3])"
            "\n"
            R"({"path":"b","key":"k/b","size":2,"mtime_ns":20,"etag":"eb"})"
            "\n");
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Find("a").has_value());
  EXPECT_EQ(journal->Find("a")->key, "");
  EXPECT_EQ(journal->Find("a")->etag, "ea");
  ASSERT_TRUE(journal->Find("b").has_value());
  EXPECT_EQ(journal->Find("b")->etag, "eb");
  EXPECT_FALSE(journal->Find("x").has_value());
}

TEST(RunJournal, AlertsAreRememberedAcrossReopening) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  {
    auto journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    EXPECT_FALSE(journal->AlertSent("held"));
    ASSERT_TRUE(journal->RecordAlert("held"));
    EXPECT_TRUE(journal->AlertSent("held"));
    EXPECT_FALSE(journal->AlertSent("failed"));
    ASSERT_TRUE(journal->Append("a", JournalEntry{"k/a", 1, Nanoseconds(1), "ea"}));
  }
  EXPECT_NE(ReadFile(path).find(R"({"alert":"held"})"), std::string::npos) << ReadFile(path);
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  EXPECT_TRUE(journal->AlertSent("held"));
  EXPECT_FALSE(journal->AlertSent("failed"));
  EXPECT_TRUE(journal->Find("a").has_value());
  EXPECT_FALSE(journal->Find("held").has_value());
  ASSERT_TRUE(journal->RecordAlert("failed"));
  EXPECT_TRUE(journal->AlertSent("failed"));
}

TEST(RunJournal, AppendsFromManyThreadsAllLand) {
  TempDir tmp;
  const fs::path path = tmp / "RUN_1.journal.jsonl";
  {
    auto journal = OpenOrDie(path);
    ASSERT_NE(journal, nullptr);
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&journal, t] {
        for (int i = 0; i < 25; ++i) {
          const std::string name = "t" + std::to_string(t) + "/f" + std::to_string(i);
          EXPECT_TRUE(journal->Append(name, JournalEntry{"k/" + name, 7, Nanoseconds(i), "e" + name}));
        }
      });
    }
  }
  std::istringstream lines(ReadFile(path));
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
  EXPECT_EQ(count, 100);
  auto journal = OpenOrDie(path);
  ASSERT_NE(journal, nullptr);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 25; ++i) {
      const std::string name = "t" + std::to_string(t) + "/f" + std::to_string(i);
      ASSERT_TRUE(journal->Find(name).has_value()) << name;
      EXPECT_EQ(journal->Find(name)->etag, "e" + name);
    }
  }
}

}  // namespace
}  // namespace sluice::illumina
