#include "sluice/engine/sources/watch.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/store/local/local_store.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// Long enough that the pauses between a test's pieces (kPause) stay well inside it even on a
// loaded machine, short enough to keep the tests quick.
constexpr auto kStableFor = 400ms;
constexpr auto kPause = 50ms;
// Every wait for an event: generous, the tests never assert on speed.
constexpr auto kWait = 15s;

// Collects what a source emits; waits on a condition variable.
class Collector {
 public:
  EventSink Sink() {
    return [this](std::vector<Event> events) -> Status {
      std::lock_guard lock(mutex_);
      for (auto& event : events) events_.push_back(std::move(event));
      cv_.notify_all();
      return Ok();
    };
  }

  // Waits until `key` was emitted `count` times; false on timeout.
  bool WaitFor(const std::string& key, std::size_t count = 1) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWait, [&] { return CountLocked(key) >= count; });
  }

  std::vector<Event> Of(const std::string& key) {
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    for (const auto& event : events_) {
      if (event.key == key) out.push_back(event);
    }
    return out;
  }

  std::vector<Event> All() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::size_t CountLocked(const std::string& key) const {
    std::size_t n = 0;
    for (const auto& event : events_) n += event.key == key ? 1 : 0;
    return n;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// Writes `text` to `path` in `pieces` appends, pausing kPause between them (as an instrument
// does); returns the whole text.
std::string WriteInPieces(const std::filesystem::path& path, const std::string& piece, int pieces) {
  std::filesystem::create_directories(path.parent_path());
  std::string all;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path;
  for (int i = 0; i < pieces; ++i) {
    if (i > 0) std::this_thread::sleep_for(kPause);
    EXPECT_EQ(::write(fd, piece.data(), piece.size()), static_cast<ssize_t>(piece.size()));
    all += piece;
  }
  ::close(fd);
  return all;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class WatchSourceTest : public ::testing::Test {
 protected:
  WatchSourceTest() {
    root_ = dir_.Path() / "incoming";
    auto store = MakeLocalStore(root_);
    EXPECT_TRUE(store) << store.error().ToString();
    if (store) resources_.stores["incoming"] = std::shared_ptr<ObjectStore>(std::move(*store));
  }

  std::unique_ptr<WatchSource> Make(const std::string& mode, const std::string& prefix = "") {
    SourceConfig config;
    config.name = "drop";
    config.type = "watch";
    config.store = "incoming";
    config.prefix = prefix;
    config.stable_for = kStableFor;
    config.interval = 100ms;
    config.watch_mode = mode;
    auto made = MakeSource(config, resources_);
    EXPECT_TRUE(made) << made.error().ToString();
    if (!made) return nullptr;
    return std::unique_ptr<WatchSource>(static_cast<WatchSource*>(made->release()));
  }

  void Start(WatchSource& source) {
    PushContext context;
    context.sink = collector_.Sink();
    auto started = source.Start(std::move(context));
    ASSERT_TRUE(started) << started.error().ToString();
  }

  TempDir dir_;
  std::filesystem::path root_;
  Resources resources_;
  Collector collector_;
};

// The same behaviour with inotify and with polling.
class WatchModeTest : public WatchSourceTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(WatchModeTest, FileWrittenInPiecesIsEmittedOnceAfterTheLastPieceWithItsFullSize) {
  auto source = Make(GetParam());
  ASSERT_TRUE(source);
  Start(*source);
  const std::string content = WriteInPieces(root_ / "run1" / "scan.raw", std::string(1000, 'x') + "\n", 6);
  ASSERT_TRUE(collector_.WaitFor("run1/scan.raw"));
  // A later file proves the source went on working past the first one's emission.
  WriteFile(root_ / "marker.txt", "m");
  ASSERT_TRUE(collector_.WaitFor("marker.txt"));
  source->Stop();
  const auto events = collector_.Of("run1/scan.raw");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].size_bytes, content.size());
  EXPECT_EQ(events[0].etag, Md5Hex(content));
  EXPECT_EQ(events[0].store, "incoming");
  EXPECT_EQ(events[0].kind, kEventObjectCreatedPut);
}

TEST_P(WatchModeTest, FileRenamedIntoPlaceIsEmitted) {
  auto source = Make(GetParam());
  ASSERT_TRUE(source);
  Start(*source);
  WriteFile(root_ / ".partial.tmp", "complete content");
  std::filesystem::rename(root_ / ".partial.tmp", root_ / "done.csv");
  ASSERT_TRUE(collector_.WaitFor("done.csv"));
  source->Stop();
  const auto events = collector_.Of("done.csv");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].etag, Md5Hex("complete content"));
  for (const auto& event : collector_.All()) EXPECT_NE(event.key, ".partial.tmp");
}

TEST_P(WatchModeTest, FileInASubFolderCreatedAfterStartIsEmitted) {
  auto source = Make(GetParam());
  ASSERT_TRUE(source);
  Start(*source);
  // Nested folders made at once: the inner ones exist before their watches can be added.
  std::filesystem::create_directories(root_ / "a" / "b" / "c");
  WriteFile(root_ / "a" / "b" / "c" / "deep.dat", "deep");
  ASSERT_TRUE(collector_.WaitFor("a/b/c/deep.dat"));
  // And a file written later into a folder watched since.
  WriteFile(root_ / "a" / "b" / "later.dat", "later");
  ASSERT_TRUE(collector_.WaitFor("a/b/later.dat"));
  source->Stop();
  EXPECT_EQ(collector_.Of("a/b/c/deep.dat").size(), 1u);
  EXPECT_EQ(collector_.Of("a/b/later.dat").size(), 1u);
}

TEST_P(WatchModeTest, FileRewrittenLaterIsEmittedAgain) {
  auto source = Make(GetParam());
  ASSERT_TRUE(source);
  Start(*source);
  WriteFile(root_ / "status.json", "{\"v\": 1}");
  ASSERT_TRUE(collector_.WaitFor("status.json", 1));
  WriteFile(root_ / "status.json", "{\"v\": 2, \"more\": true}");
  ASSERT_TRUE(collector_.WaitFor("status.json", 2));
  source->Stop();
  const auto events = collector_.Of("status.json");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].etag, Md5Hex("{\"v\": 1}"));
  EXPECT_EQ(events[1].etag, Md5Hex("{\"v\": 2, \"more\": true}"));
}

TEST_P(WatchModeTest, DotFilesTheStoreFolderAndDeletedCandidatesAreIgnored) {
  auto source = Make(GetParam());
  ASSERT_TRUE(source);
  Start(*source);
  WriteFile(root_ / ".hidden", "h");
  WriteFile(root_ / "sub" / ".hidden2", "h");
  WriteFile(root_ / ".cache" / "inside.dat", "h");
  WriteFile(root_ / ".sluice" / "tmp" / "12-ab-0", "half-written");
  WriteFile(root_ / "gone.dat", "deleted before it was stable");
  std::filesystem::remove(root_ / "gone.dat");
  // The store's own atomic write (temp file in .sluice/tmp/, then rename) gives one event.
  auto put = resources_.FindStore("incoming")->Put("put/by-store.txt", "via the store");
  ASSERT_TRUE(put) << put.error().ToString();
  ASSERT_TRUE(collector_.WaitFor("put/by-store.txt"));
  WriteFile(root_ / "marker.txt", "m");
  ASSERT_TRUE(collector_.WaitFor("marker.txt"));
  source->Stop();
  std::vector<std::string> keys;
  for (const auto& event : collector_.All()) keys.push_back(event.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"put/by-store.txt", "marker.txt"}));
}

TEST_P(WatchModeTest, PrefixLimitsTheKeysAndFilesAlreadyThereAreEmittedOnStart) {
  WriteFile(root_ / "runs" / "r1" / "old.dat", "already there");
  WriteFile(root_ / "other" / "x.dat", "not below the prefix");
  auto source = Make(GetParam(), "runs/");
  ASSERT_TRUE(source);
  Start(*source);
  ASSERT_TRUE(collector_.WaitFor("runs/r1/old.dat"));
  WriteFile(root_ / "other" / "y.dat", "not below the prefix");
  WriteFile(root_ / "runs" / "new.dat", "new");
  ASSERT_TRUE(collector_.WaitFor("runs/new.dat"));
  source->Stop();
  for (const auto& event : collector_.All()) EXPECT_TRUE(event.key.starts_with("runs/")) << event.key;
}

TEST_P(WatchModeTest, StopReturnsPromptlyWhileWaiting) {
  SourceConfig config;
  config.name = "slow";
  config.type = "watch";
  config.store = "incoming";
  config.stable_for = std::chrono::hours(1);
  config.interval = std::chrono::hours(1);
  config.watch_mode = GetParam();
  auto made = MakeSource(config, resources_);
  ASSERT_TRUE(made) << made.error().ToString();
  auto& source = **made;
  WriteFile(root_ / "pending.dat", "waits an hour to be stable");
  PushContext context;
  context.sink = collector_.Sink();
  ASSERT_TRUE(source.Start(std::move(context)));
  std::this_thread::sleep_for(100ms);  // let the thread settle into its wait (not an assertion)
  auto stopped = std::async(std::launch::async, [&] { source.Stop(); });
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready) << "Stop() did not return";
  EXPECT_TRUE(collector_.All().empty());
  source.Stop();  // idempotent
}

INSTANTIATE_TEST_SUITE_P(Modes, WatchModeTest, ::testing::Values("inotify", "poll"),
                         [](const auto& param_info) { return param_info.param; });

TEST_F(WatchSourceTest, ModeInotifyAndPollAreUsedAsConfigured) {
  auto inotify = Make("inotify");
  auto poll = Make("poll");
  ASSERT_TRUE(inotify && poll);
  Start(*inotify);
  Start(*poll);
  EXPECT_EQ(inotify->ActiveMode(), WatchMode::Inotify);
  EXPECT_EQ(poll->ActiveMode(), WatchMode::Poll);
}

TEST_F(WatchSourceTest, AutoPicksInotifyOnALocalFilesystem) {
  auto source = Make("auto");
  ASSERT_TRUE(source);
  Start(*source);
  EXPECT_EQ(source->ActiveMode(), WatchMode::Inotify);
  // And it works: a file is emitted.
  WriteFile(root_ / "auto.dat", "a");
  ASSERT_TRUE(collector_.WaitFor("auto.dat"));
}

TEST(WatchNetworkFilesystem, NamesTheNetworkFilesystemsAndNoLocalOne) {
  EXPECT_EQ(NetworkFilesystemName(0x6969), "NFS");
  EXPECT_EQ(NetworkFilesystemName(0xFF534D42), "CIFS");
  EXPECT_EQ(NetworkFilesystemName(0xFE534D42), "SMB2");
  EXPECT_EQ(NetworkFilesystemName(0x517B), "SMB");
  EXPECT_EQ(NetworkFilesystemName(0x65735546), "FUSE");
  EXPECT_EQ(NetworkFilesystemName(0x01021997), "9P");
  EXPECT_EQ(NetworkFilesystemName(0x00C36400), "Ceph");
  EXPECT_EQ(NetworkFilesystemName(0x0BD00BD0), "Lustre");
  EXPECT_EQ(NetworkFilesystemName(0x5346414F), "AFS");
  EXPECT_EQ(NetworkFilesystemName(0x47504653), "GPFS");
  EXPECT_EQ(NetworkFilesystemName(0xEF53), "");      // ext2/3/4
  EXPECT_EQ(NetworkFilesystemName(0x01021994), "");  // tmpfs
  EXPECT_EQ(NetworkFilesystemName(0x58465342), "");  // XFS
}

TEST_F(WatchSourceTest, PassEmitsStableFilesAndWaitsForRecentOnes) {
  WriteFile(root_ / "old.dat", "written an hour ago");
  const auto hour_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  std::filesystem::last_write_time(root_ / "old.dat", hour_ago);
  WriteFile(root_ / "sub" / "fresh.dat", "written just now");
  WriteFile(root_ / ".dot", "ignored");
  auto source = Make("auto");
  ASSERT_TRUE(source);
  EXPECT_TRUE(source->ScansOnRun());
  auto sink = collector_.Sink();
  auto pass = source->Pass(sink);
  ASSERT_TRUE(pass) << pass.error().ToString();
  std::vector<std::string> keys;
  for (const auto& event : collector_.All()) keys.push_back(event.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"old.dat", "sub/fresh.dat"}));
  EXPECT_EQ(collector_.Of("old.dat").at(0).etag, Md5Hex("written an hour ago"));

  // The next pass emits only what changed.
  WriteFile(root_ / "sub" / "fresh.dat", "rewritten");
  pass = source->Pass(sink);
  ASSERT_TRUE(pass) << pass.error().ToString();
  EXPECT_EQ(collector_.All().size(), 3u);
  ASSERT_EQ(collector_.Of("sub/fresh.dat").size(), 2u);
  EXPECT_EQ(collector_.Of("sub/fresh.dat")[1].etag, Md5Hex("rewritten"));
}

TEST_F(WatchSourceTest, PassReturnsTheSinkError) {
  WriteFile(root_ / "a.dat", "a");
  std::filesystem::last_write_time(root_ / "a.dat",
                                   std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  auto source = Make("poll");
  ASSERT_TRUE(source);
  auto pass = source->Pass([](std::vector<Event>) -> Status { return Fail(ErrorCode::Transient, "queue down"); });
  ASSERT_FALSE(pass);
  EXPECT_EQ(pass.error().code, ErrorCode::Transient);
}

TEST_F(WatchSourceTest, MakeSourceRejectsAStoreThatIsNotAFolderAndAnUnknownMode) {
  const std::string name = "watch-test-" + std::to_string(::getpid());
  auto memory = MakeObjectStore("memory://" + name);
  ASSERT_TRUE(memory) << memory.error().ToString();
  resources_.stores["bucket"] = std::shared_ptr<ObjectStore>(std::move(*memory));
  SourceConfig config;
  config.name = "drop";
  config.type = "watch";
  config.store = "bucket";
  config.line = 12;
  auto made = MakeSource(config, resources_);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(made.error().ToString().find("line 12"), std::string::npos) << made.error().ToString();
  EXPECT_NE(made.error().ToString().find("not a file:// store"), std::string::npos) << made.error().ToString();

  config.store = "incoming";
  config.watch_mode = "fanotify";
  made = MakeSource(config, resources_);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().ToString().find("fanotify"), std::string::npos) << made.error().ToString();
  ClearMemoryStore(name);
}

TEST(WatchConfig, ParsesTheWatchKeysAndRejectsANonFolderStoreNamingTheLine) {
  const std::string head = R"([queue]
url = "sqlite://q.db"
[stores.drop]
url = "file:///srv/drop"
[stores.bucket]
url = "s3://lab-bucket"
)";
  auto config = ParseConfig(head + R"([[sources]]
name = "instrument"
type = "watch"
store = "drop"
prefix = "runs/"
suffix = ".raw"
stable_for = "10s"
interval = "30s"
mode = "poll"
)", "pipeline.toml");
  ASSERT_TRUE(config) << config.error().ToString();
  const SourceConfig& source = config->sources.at(0);
  EXPECT_EQ(source.stable_for, std::chrono::seconds(10));
  EXPECT_EQ(source.interval, std::chrono::seconds(30));
  EXPECT_EQ(source.watch_mode, "poll");
  EXPECT_EQ(source.prefix, "runs/");

  auto defaults = ParseConfig(head + "[[sources]]\nname = \"w\"\ntype = \"watch\"\nstore = \"drop\"\n", "pipeline.toml");
  ASSERT_TRUE(defaults) << defaults.error().ToString();
  EXPECT_EQ(defaults->sources.at(0).stable_for, std::chrono::seconds(2));
  EXPECT_EQ(defaults->sources.at(0).interval, std::chrono::seconds(5));
  EXPECT_EQ(defaults->sources.at(0).watch_mode, "auto");

  auto s3 = ParseConfig(head + "[[sources]]\nname = \"w\"\ntype = \"watch\"\nstore = \"bucket\"\n", "pipeline.toml");
  ASSERT_FALSE(s3);
  EXPECT_EQ(s3.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(s3.error().ToString().find("pipeline.toml:7:"), std::string::npos) << s3.error().ToString();
  EXPECT_NE(s3.error().ToString().find("not a file:// store"), std::string::npos) << s3.error().ToString();

  auto mode = ParseConfig(head + "[[sources]]\nname = \"w\"\ntype = \"watch\"\nstore = \"drop\"\nmode = \"nfs\"\n",
                          "pipeline.toml");
  ASSERT_FALSE(mode);
  EXPECT_NE(mode.error().ToString().find("pipeline.toml:11: sources[0].mode"), std::string::npos)
      << mode.error().ToString();
}

}  // namespace
}  // namespace sluice
