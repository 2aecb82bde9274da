#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "sluice/engine/sources/source.hpp"
#include "sluice/engine/sources/source_state.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using testing::TempDir;

// A memory:// store with a name of its own, emptied when the test ends.
class IndexSourceTest : public ::testing::Test {
 protected:
  IndexSourceTest() {
    static std::atomic<int> counter{0};
    name_ = "sluice-index-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    auto store = MakeObjectStore("memory://" + name_);
    EXPECT_TRUE(store) << store.error().ToString();
    if (store) resources_.stores["lists"] = std::shared_ptr<ObjectStore>(std::move(*store));
  }
  ~IndexSourceTest() override { ClearMemoryStore(name_); }

  void PutIndex(const std::string& text) {
    auto put = resources_.FindStore("lists")->Put("runs/index.txt", text);
    ASSERT_TRUE(put) << put.error().ToString();
  }

  Result<std::vector<Event>> Read(const std::string& suffix = ".summary") {
    return ReadIndexEvents("lists:runs/index.txt", "incoming", "summary2/", suffix, resources_);
  }

  static std::vector<std::string> Keys(const std::vector<Event>& events) {
    std::vector<std::string> keys;
    for (const auto& event : events) keys.push_back(event.key);
    return keys;
  }

  std::string name_;
  Resources resources_;
};

TEST_F(IndexSourceTest, TurnsEachIdIntoABackfillEventForPrefixIdSuffix) {
  PutIndex("ERR2756788\nSRR1234567\n");
  auto events = Read();
  ASSERT_TRUE(events) << events.error().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR2756788.summary", "summary2/SRR1234567.summary"}));
  for (const auto& event : *events) {
    EXPECT_EQ(event.kind, kEventObjectCreatedBackfill);
    EXPECT_EQ(event.store, "incoming");
    EXPECT_EQ(event.etag, "");
  }
}

TEST_F(IndexSourceTest, SkipsBlankLinesAndTrimsWhitespaceAndCarriageReturns) {
  PutIndex("\nERR1\r\n\r\n   \n\tERR2  \r\n\nERR3");
  auto events = Read();
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR1.summary", "summary2/ERR2.summary",
                                                     "summary2/ERR3.summary"}));
}

TEST_F(IndexSourceTest, ReadsTheNameFromAwsS3LsLines) {
  PutIndex("2020-04-28 13:45:15      97688 ERR1360081.summary\r\n"
           "2020-04-28 13:45:16          0 ERR1360082.summary\n");
  auto events = Read();
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR1360081.summary",
                                                     "summary2/ERR1360082.summary"}));
}

TEST_F(IndexSourceTest, DropsATrailingSuffixFromIds) {
  PutIndex("ERR1.summary\nERR2\n");
  auto events = Read();
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR1.summary", "summary2/ERR2.summary"}));
}

TEST_F(IndexSourceTest, WithoutSuffixIdsAreKeptWhole) {
  PutIndex("ERR1.summary\nERR2\n");
  auto events = Read("");
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR1.summary", "summary2/ERR2"}));
}

TEST_F(IndexSourceTest, ALineWithInnerWhitespaceIsInvalidArgumentNamingItsLineNumber) {
  PutIndex("ERR1\n\nERR2 ERR3\nERR4\n");
  auto events = Read();
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, ErrorCode::InvalidArgument);
  const std::string all = events.error().ToString();
  EXPECT_NE(all.find("line 3"), std::string::npos) << all;
  EXPECT_NE(all.find("ERR2 ERR3"), std::string::npos) << all;
  EXPECT_NE(all.find("lists:runs/index.txt"), std::string::npos) << all;
}

TEST_F(IndexSourceTest, AMalformedListingLineIsInvalidArgument) {
  PutIndex("2020-04-28 13:45:15 lots ERR1.summary\n");
  auto events = Read();
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(events.error().ToString().find("line 1"), std::string::npos) << events.error().ToString();
}

TEST_F(IndexSourceTest, AMissingIndexObjectIsNotFound) {
  auto events = Read();
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, ErrorCode::NotFound) << events.error().ToString();
}

TEST_F(IndexSourceTest, AnUnknownStoreIsInvalidArgument) {
  auto events = ReadIndexEvents("nowhere:index.txt", "incoming", "", "", resources_);
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(events.error().ToString().find("nowhere"), std::string::npos);
}

TEST_F(IndexSourceTest, AnIndexWithoutStoreOrFileSchemeIsInvalidArgument) {
  EXPECT_FALSE(ReadIndexEvents("index.txt", "incoming", "", "", resources_));
  EXPECT_FALSE(ReadIndexEvents("s3://bucket/index.txt", "incoming", "", "", resources_));
}

TEST_F(IndexSourceTest, ReadsAFileUrlIndex) {
  TempDir dir;
  {
    std::ofstream out(dir / "index.txt", std::ios::binary);
    out << "ERR7\r\nERR8.summary\n";
  }
  auto events = ReadIndexEvents("file://" + (dir / "index.txt").string(), "incoming", "summary2/",
                                ".summary", resources_);
  ASSERT_TRUE(events) << events.error().ToString();
  EXPECT_EQ(Keys(*events), (std::vector<std::string>{"summary2/ERR7.summary", "summary2/ERR8.summary"}));
}

TEST_F(IndexSourceTest, IndexSourcePassDeliversTheEventsOnceAndHasNoInterval) {
  PutIndex("ERR1\nERR2\n");
  SourceConfig config;
  config.name = "backfill";
  config.type = "index";
  config.store = "lists";
  config.prefix = "summary2/";
  config.suffix = ".summary";
  config.index = "lists:runs/index.txt";
  auto source = MakeSource(config, resources_);
  ASSERT_TRUE(source) << source.error().ToString();
  EXPECT_EQ((*source)->Name(), "backfill");
  EXPECT_FALSE((*source)->Interval().has_value());
  std::vector<Event> received;
  ASSERT_TRUE((*source)->Pass([&](std::vector<Event> events) -> Status {
    for (auto& event : events) received.push_back(std::move(event));
    return Ok();
  }));
  EXPECT_EQ(Keys(received), (std::vector<std::string>{"summary2/ERR1.summary", "summary2/ERR2.summary"}));
}

TEST_F(IndexSourceTest, MakeSourceRejectsAnUnknownStoreOrType) {
  SourceConfig config;
  config.name = "s";
  config.type = "poll";
  config.store = "ghost";
  config.line = 12;
  auto missing = MakeSource(config, resources_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(missing.error().ToString().find("line 12"), std::string::npos) << missing.error().ToString();
  config.store = "lists";
  config.type = "carrier-pigeon";  // webhook became a real type (issue 5)
  EXPECT_FALSE(MakeSource(config, resources_));
}

TEST_F(IndexSourceTest, PollSourceEmitsNewAndChangedObjectsOnly) {
  ObjectStore& store = *resources_.FindStore("lists");
  ASSERT_TRUE(store.Put("summary2/a.summary", "one"));
  ASSERT_TRUE(store.Put("summary2/b.summary", "two"));
  ASSERT_TRUE(store.Put("summary2/c.txt", "not a summary"));
  ASSERT_TRUE(store.Put("other/d.summary", "other prefix"));
  SourceConfig config;
  config.name = "poll";
  config.type = "poll";
  config.store = "lists";
  config.prefix = "summary2/";
  config.suffix = ".summary";
  config.interval = std::chrono::milliseconds(1234);
  TempDir dir;
  auto state = SourceState::Open(dir / "state.db");
  ASSERT_TRUE(state) << state.error().ToString();
  auto source = MakeSource(config, resources_, state->get());
  ASSERT_TRUE(source) << source.error().ToString();
  EXPECT_EQ((*source)->Interval(), std::optional<std::chrono::milliseconds>(1234));

  std::vector<Event> received;
  const EventSink sink = [&](std::vector<Event> events) -> Status {
    for (auto& event : events) received.push_back(std::move(event));
    return Ok();
  };
  ASSERT_TRUE((*source)->Pass(sink));
  ASSERT_EQ(Keys(received), (std::vector<std::string>{"summary2/a.summary", "summary2/b.summary"}));
  EXPECT_EQ(received[0].kind, kEventObjectCreatedPut);
  EXPECT_EQ(received[0].store, "lists");
  EXPECT_EQ(received[0].size_bytes, 3u);
  EXPECT_EQ(received[0].etag, "f97c5d29941bfb1b2fdab0874906ab82");  // MD5 of "one"

  received.clear();
  ASSERT_TRUE((*source)->Pass(sink));
  EXPECT_TRUE(received.empty());

  ASSERT_TRUE(store.Put("summary2/b.summary", "two, changed"));
  ASSERT_TRUE(store.Put("summary2/e.summary", "new"));
  ASSERT_TRUE((*source)->Pass(sink));
  EXPECT_EQ(Keys(received), (std::vector<std::string>{"summary2/b.summary", "summary2/e.summary"}));
}

}  // namespace
}  // namespace sluice
