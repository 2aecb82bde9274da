// SourceState and the sources that keep it: poll across restarts (a new source instance over the
// same database), incremental poll after its mark, and listing resume and completion.

#include <gtest/gtest.h>

#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sluice/engine/sources/source.hpp"
#include "sluice/engine/sources/source_state.hpp"
#include "sluice/engine/sources/stateful_sources.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using testing::TempDir;

// Delegates to a memory:// store, serving `page_size` keys per List page and recording every
// List call's options, so a test sees what a source asked for.
class ObservedStore final : public ObjectStore {
 public:
  ObservedStore(std::unique_ptr<ObjectStore> inner, int page_size)
      : inner_(std::move(inner)), page_size_(page_size) {}

  std::string Url() const override { return inner_->Url(); }
  StoreCapabilities Capabilities() const override { return inner_->Capabilities(); }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    return inner_->GetTo(key, sink, range);
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options) override {
    return inner_->OpenWriter(key, options);
  }
  Result<ObjectTags> GetTags(std::string_view key) override { return inner_->GetTags(key); }
  Result<ListPage> List(const ListOptions& options) override {
    ListOptions paged = options;
    paged.max_keys = page_size_;
    std::lock_guard lock(mutex_);
    calls_.push_back(options);
    return inner_->List(paged);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) override {
    return inner_->Copy(source_key, destination_key);
  }

  std::vector<ListOptions> TakeCalls() {
    std::lock_guard lock(mutex_);
    return std::exchange(calls_, {});
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
  int page_size_;
  std::mutex mutex_;
  std::vector<ListOptions> calls_;  // guarded by mutex_
};

class SourceStateTest : public ::testing::Test {
 protected:
  SourceStateTest() {
    static std::atomic<int> counter{0};
    name_ = "sluice-source-state-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    auto store = MakeObjectStore("memory://" + name_);
    EXPECT_TRUE(store) << store.error().ToString();
    auto observed = std::make_shared<ObservedStore>(std::move(*store), /*page_size=*/3);
    store_ = observed.get();
    resources_.stores["in"] = observed;
    Reopen();
  }
  ~SourceStateTest() override { ClearMemoryStore(name_); }

  // A new connection to the same database: what a restarted process sees.
  void Reopen() {
    state_.reset();
    auto state = SourceState::Open(dir_ / "state.db");
    ASSERT_TRUE(state) << state.error().ToString();
    state_ = std::move(*state);
  }

  void Put(const std::string& key, const std::string& content) {
    auto put = store_->Put(key, content);
    ASSERT_TRUE(put) << put.error().ToString();
  }

  // A new source instance (as after a restart) of `type` over prefix "runs/", suffix ".txt".
  std::unique_ptr<Source> NewSource(const std::string& type, bool incremental = false,
                                    const std::string& prefix = "runs/") {
    SourceConfig config;
    config.name = "incoming";
    config.type = type;
    config.store = "in";
    config.prefix = prefix;
    config.suffix = ".txt";
    config.incremental = incremental;
    auto source = MakeSource(config, resources_, state_.get());
    EXPECT_TRUE(source) << source.error().ToString();
    return source ? std::move(*source) : nullptr;
  }

  // Runs one pass, returning the keys of the events delivered (in order).
  std::vector<std::string> PassKeys(Source& source, std::vector<Event>* events = nullptr) {
    std::vector<std::string> keys;
    auto pass = source.Pass([&](std::vector<Event> batch) -> Status {
      for (auto& event : batch) {
        keys.push_back(event.key);
        if (events != nullptr) events->push_back(event);
      }
      return Ok();
    });
    EXPECT_TRUE(pass) << pass.error().ToString();
    return keys;
  }

  TempDir dir_;
  std::string name_;
  Resources resources_;
  ObservedStore* store_ = nullptr;
  std::unique_ptr<SourceState> state_;
};

using Keys = std::vector<std::string>;

TEST_F(SourceStateTest, ValuesAndEtagsSurviveReopeningAndAreKeptPerSource) {
  SourceStateUpdate update;
  update.put_etags = {{"a/1", "e1"}, {"a/2", "e2"}, {"b/1", "e3"}};
  update.values["cursor"] = "a/2";
  ASSERT_TRUE(state_->Apply("one", update));
  SourceStateUpdate other;
  other.put_etags = {{"a/1", "other"}};
  ASSERT_TRUE(state_->Apply("two", other));
  Reopen();

  EXPECT_EQ(state_->Value("one", "cursor").value_or(std::nullopt), std::optional<std::string>("a/2"));
  EXPECT_FALSE(state_->Value("two", "cursor").value_or("?").has_value());
  EXPECT_EQ(state_->CountEtags("one").value_or(-1), 3);
  EXPECT_EQ(state_->CountEtags("two").value_or(-1), 1);
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(state_->EtagsInRange("one", "", std::nullopt).value_or(Map{}),
            (Map{{"a/1", "e1"}, {"a/2", "e2"}, {"b/1", "e3"}}));
  // (after, up_to]: exclusive below, inclusive above.
  EXPECT_EQ(state_->EtagsInRange("one", "a/1", std::string_view("b/1")).value_or(Map{}),
            (Map{{"a/2", "e2"}, {"b/1", "e3"}}));
  EXPECT_EQ(state_->EtagsInRange("one", "a/1", std::string_view("a/3")).value_or(Map{}),
            (Map{{"a/2", "e2"}}));
  EXPECT_EQ(state_->EtagsInRange("two", "", std::nullopt).value_or(Map{}), (Map{{"a/1", "other"}}));
}

TEST_F(SourceStateTest, ApplyReplacesAndForgetsInOneUpdateAndForgetDropsASourcesState) {
  SourceStateUpdate first;
  first.put_etags = {{"k1", "e1"}, {"k2", "e2"}};
  first.values["v"] = "1";
  ASSERT_TRUE(state_->Apply("s", first));
  SourceStateUpdate second;
  second.put_etags = {{"k1", "e1-new"}};
  second.forget_keys = {"k2", "never-there"};
  second.values["v"] = "2";
  ASSERT_TRUE(state_->Apply("s", second));
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(state_->EtagsInRange("s", "", std::nullopt).value_or(Map{}), (Map{{"k1", "e1-new"}}));
  EXPECT_EQ(state_->Value("s", "v").value_or(std::nullopt), std::optional<std::string>("2"));

  ASSERT_TRUE(state_->Apply("keep", first));
  EXPECT_TRUE(state_->Forget("s").value_or(false));
  EXPECT_FALSE(state_->Forget("s").value_or(true));  // nothing left
  EXPECT_EQ(state_->CountEtags("s").value_or(-1), 0);
  EXPECT_FALSE(state_->Value("s", "v").value_or("?").has_value());
  EXPECT_EQ(state_->CountEtags("keep").value_or(-1), 2);
}

TEST_F(SourceStateTest, PollAfterARestartEmitsOnlyNewAndChangedObjectsAndForgetsDeletedOnes) {
  for (int i = 0; i < 7; ++i) Put(fmt::format("runs/r{}.txt", i), fmt::format("run {}", i));
  Put("runs/r0.log", "other suffix");
  Put("other/x.txt", "other prefix");
  auto first = NewSource("poll");
  EXPECT_EQ(PassKeys(*first),
            (Keys{"runs/r0.txt", "runs/r1.txt", "runs/r2.txt", "runs/r3.txt", "runs/r4.txt",
                  "runs/r5.txt", "runs/r6.txt"}));
  EXPECT_EQ(state_->CountEtags("incoming").value_or(-1), 7);

  // "Restart": a new instance over a new connection to the same database.
  first.reset();
  Reopen();
  auto second = NewSource("poll");
  EXPECT_TRUE(PassKeys(*second).empty());

  Put("runs/r3.txt", "run 3, rewritten");  // changed ETag
  Put("runs/r35.txt", "new");              // new, between remembered keys
  ASSERT_TRUE(store_->Delete("runs/r1.txt"));
  ASSERT_TRUE(store_->Delete("runs/r6.txt"));  // the last key: on the last page's open range
  Reopen();
  auto third = NewSource("poll");
  std::vector<Event> events;
  EXPECT_EQ(PassKeys(*third, &events), (Keys{"runs/r3.txt", "runs/r35.txt"}));
  EXPECT_EQ(events[0].kind, "ObjectCreated:Put");
  EXPECT_EQ(events[0].etag, store_->Head("runs/r3.txt")->etag);
  EXPECT_EQ(state_->CountEtags("incoming").value_or(-1), 6);  // r0 r2 r3 r35 r4 r5

  // A deleted object written again (same bytes, same ETag) is new again: it was forgotten.
  Put("runs/r1.txt", "run 1");
  EXPECT_EQ(PassKeys(*third), (Keys{"runs/r1.txt"}));
  EXPECT_TRUE(PassKeys(*third).empty());
  // Every pass listed the whole prefix from the start.
  for (const auto& call : store_->TakeCalls()) EXPECT_EQ(call.start_after, "");
}

TEST_F(SourceStateTest, PollRemembersNothingOfAPageWhoseEnqueueFailed) {
  for (int i = 0; i < 5; ++i) Put(fmt::format("runs/r{}.txt", i), "x");
  auto source = NewSource("poll");
  int calls = 0;
  auto pass = source->Pass([&](std::vector<Event>) -> Status {
    if (++calls == 2) return Fail(ErrorCode::Transient, "queue unavailable");
    return Ok();
  });
  ASSERT_FALSE(pass);
  EXPECT_EQ(state_->CountEtags("incoming").value_or(-1), 3);  // the first page (3 keys) only
  Reopen();
  auto again = NewSource("poll");
  EXPECT_EQ(PassKeys(*again), (Keys{"runs/r3.txt", "runs/r4.txt"}));
}

TEST_F(SourceStateTest, IncrementalPollListsOnlyAfterItsMarkAcrossRestarts) {
  for (int i = 0; i < 4; ++i) Put(fmt::format("runs/2024-0{}/a.txt", i + 1), "x");
  Put("runs/2024-05/z.log", "not a .txt: never the mark");
  auto first = NewSource("poll", /*incremental=*/true);
  EXPECT_EQ(PassKeys(*first).size(), 4u);
  auto calls = store_->TakeCalls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.front().start_after, "");

  Put("runs/2024-06/a.txt", "new, after the mark");
  Put("runs/2024-02/a.txt", "changed below the mark: not seen in incremental mode");
  first.reset();
  Reopen();
  auto second = NewSource("poll", /*incremental=*/true);
  EXPECT_EQ(PassKeys(*second), (Keys{"runs/2024-06/a.txt"}));
  calls = store_->TakeCalls();
  ASSERT_EQ(calls.size(), 1u);  // "2024-05/z.log" and "2024-06/a.txt": one page
  EXPECT_EQ(calls.front().start_after, "runs/2024-04/a.txt");
  EXPECT_TRUE(PassKeys(*second).empty());
  calls = store_->TakeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls.front().start_after, "runs/2024-06/a.txt");
  EXPECT_EQ(state_->CountEtags("incoming").value_or(-1), 0);  // only the mark is kept
}

TEST_F(SourceStateTest, ListingResumesAfterTheLastEnqueuedPageAndThenStaysComplete) {
  Keys all;
  for (int i = 0; i < 10; ++i) {
    all.push_back(fmt::format("runs/r{:02}.txt", i));
    Put(all.back(), fmt::format("run {}", i));
  }
  Put("runs/r05.log", "other suffix");
  auto first = NewSource("listing");
  ASSERT_EQ(first->Interval(), std::nullopt);
  Keys delivered;
  int batches = 0;
  const auto before = std::chrono::system_clock::now();
  auto pass = first->Pass([&](std::vector<Event> events) -> Status {
    if (++batches == 2) return Fail(ErrorCode::Transient, "queue unavailable");  // page 2 fails
    for (auto& event : events) {
      EXPECT_EQ(event.kind, "ObjectCreated:Backfill");
      EXPECT_FALSE(event.etag.empty());
      // The backfill's time, not the object's: max_event_age must not dead-letter a backfill.
      EXPECT_GE(event.time, before);
      delivered.push_back(event.key);
    }
    return Ok();
  });
  ASSERT_FALSE(pass);
  EXPECT_EQ(delivered, (Keys{"runs/r00.txt", "runs/r01.txt", "runs/r02.txt"}));
  store_->TakeCalls();

  first.reset();
  Reopen();
  auto second = NewSource("listing");
  const Keys rest = PassKeys(*second);
  auto calls = store_->TakeCalls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.front().start_after, "runs/r02.txt");
  delivered.insert(delivered.end(), rest.begin(), rest.end());
  EXPECT_EQ(delivered, all);  // every object once, none skipped

  Put("runs/r99.txt", "after completion");
  Reopen();
  auto third = NewSource("listing");
  EXPECT_TRUE(PassKeys(*third).empty());
  EXPECT_TRUE(store_->TakeCalls().empty());  // a complete listing does not even list

  // Forgetting the state (`sluice sources reset`) starts it over.
  ASSERT_TRUE(state_->Forget("incoming").value_or(false));
  EXPECT_EQ(PassKeys(*third).size(), 11u);
}

TEST_F(SourceStateTest, ListingStartsAnewWhenItsPrefixChanges) {
  Put("runs/a.txt", "1");
  Put("more/b.txt", "2");
  auto source = NewSource("listing");
  EXPECT_EQ(PassKeys(*source), (Keys{"runs/a.txt"}));
  EXPECT_TRUE(PassKeys(*source).empty());
  auto moved = NewSource("listing", false, "more/");
  EXPECT_EQ(PassKeys(*moved), (Keys{"more/b.txt"}));
  SourceConfig config;
  config.name = "incoming";
  config.type = "listing";
  config.store = "in";
  config.prefix = "more/";
  auto status = DescribeSourceState(config, resources_, *state_);
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_NE(status->find("complete: 1 objects listed, 1 enqueued"), std::string::npos) << *status;
}

TEST_F(SourceStateTest, PollAndListingNeedAStateAndTheErrorSaysWhereToSetIt) {
  SourceConfig config;
  config.name = "incoming";
  config.type = "listing";
  config.store = "in";
  auto made = MakeSource(config, resources_, nullptr);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(made.error().message.find("[engine] state"), std::string::npos) << made.error().ToString();
}

TEST(SourceStateConfig, StateDefaultsToTheSqliteQueueAndIsRequiredWithAnAmqpQueue) {
  const std::string sources = R"toml(
[stores.in]
url = "memory://x"

[[sources]]
name = "backfill"
type = "listing"
store = "in"
prefix = "runs/"
)toml";
  auto sqlite = ParseConfig("[queue]\nurl = \"sqlite://q.db\"\n" + sources, "/srv/p/pipeline.toml");
  ASSERT_TRUE(sqlite) << sqlite.error().ToString();
  EXPECT_EQ(SourceStateUrl(*sqlite), "sqlite:///srv/p/q.db");

  auto own = ParseConfig("[queue]\nurl = \"amqp://u:p@127.0.0.1:5672/%2f\"\n[engine]\nstate = "
                         "\"sqlite://state/s.db\"\n" + sources,
                         "/srv/p/pipeline.toml");
  ASSERT_TRUE(own) << own.error().ToString();
  EXPECT_EQ(SourceStateUrl(*own), "sqlite:///srv/p/state/s.db");

  auto amqp = ParseConfig("[queue]\nurl = \"amqp://u:p@127.0.0.1:5672/%2f\"\n" + sources,
                          "/srv/p/pipeline.toml");
  ASSERT_TRUE(amqp) << amqp.error().ToString();
  EXPECT_EQ(SourceStateUrl(*amqp), "");
  auto opened = OpenSourceStateFor(*amqp);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(opened.error().ToString().find("source 'backfill'"), std::string::npos)
      << opened.error().ToString();
  EXPECT_NE(opened.error().ToString().find("[engine] state"), std::string::npos);

  // Without a poll or listing source nothing is opened, and nothing is required.
  amqp->sources.clear();
  auto none = OpenSourceStateFor(*amqp);
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(*none, nullptr);

  auto bad = ParseConfig("[queue]\nurl = \"sqlite://q.db\"\n[engine]\nstate = \"file://s\"\n",
                         "/srv/p/pipeline.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find("engine.state"), std::string::npos) << bad.error().ToString();
}

}  // namespace
}  // namespace sluice
