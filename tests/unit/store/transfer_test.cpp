// store/transfer.hpp: URI locations, copies between stores (memory:// and file://), listings,
// and the progress counters and text the CLI shows.

#include "sluice/store/transfer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/progress.hpp"
#include "sluice/store/memory/memory_store.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// --- helpers ---------------------------------------------------------------------------------

/// A fresh memory:// store name per call, so tests never see each other's objects.
std::string FreshName(std::string_view what) {
  static std::atomic<int> next{0};
  return fmt::format("transfer-{}-{}-{}", ::getpid(), what, next.fetch_add(1));
}

std::unique_ptr<ObjectStore> FreshMemoryStore(std::string_view what) {
  return MakeMemoryStore(FreshName(what));
}

void PutOrDie(ObjectStore& store, const std::string& key, std::string_view bytes) {
  auto put = store.Put(key, bytes);
  ASSERT_TRUE(put) << put.error().ToString();
}

/// Every key of a store with its content.
std::map<std::string, std::string> Contents(ObjectStore& store) {
  std::map<std::string, std::string> contents;
  ListOptions options;
  while (true) {
    auto page = store.List(options);
    EXPECT_TRUE(page) << page.error().ToString();
    if (!page) return contents;
    for (const auto& object : page->objects) {
      auto bytes = store.Get(object.key);
      EXPECT_TRUE(bytes) << bytes.error().ToString();
      contents[object.key] = bytes ? *bytes : "";
    }
    if (!page->IsTruncated()) return contents;
    options.continuation_token = page->next_continuation_token;
  }
}

/// Bytes that differ per key and position, so a misplaced chunk shows.
std::string Pattern(std::string_view key, std::size_t size_bytes) {
  std::string bytes(size_bytes, '\0');
  const auto seed = std::hash<std::string_view>{}(key);
  for (std::size_t i = 0; i < size_bytes; ++i) bytes[i] = static_cast<char>((seed + i * 31) % 251);
  return bytes;
}

/// Counts what passes through a writer: how many Write calls and the largest chunk.
struct WriteStats {
  std::atomic<int> writes{0};
  std::atomic<std::size_t> largest_write_bytes{0};
};

class RecordingWriter final : public ObjectWriter {
 public:
  RecordingWriter(std::unique_ptr<ObjectWriter> inner, WriteStats& stats)
      : inner_(std::move(inner)), stats_(stats) {}
  Status Write(std::string_view bytes) override {
    stats_.writes.fetch_add(1);
    std::size_t largest = stats_.largest_write_bytes.load();
    while (bytes.size() > largest &&
           !stats_.largest_write_bytes.compare_exchange_weak(largest, bytes.size())) {
    }
    return inner_->Write(bytes);
  }
  Result<ObjectInfo> Close() override { return inner_->Close(); }

 private:
  std::unique_ptr<ObjectWriter> inner_;
  WriteStats& stats_;
};

/// Wraps a store to inject faults and observe calls: reading `failing_key` fails after its
/// first chunk; listings may report an extra "folder marker" key; Copy and writes are counted.
class InstrumentedStore final : public ObjectStore {
 public:
  explicit InstrumentedStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  [[nodiscard]] std::string Url() const override { return inner_->Url(); }
  [[nodiscard]] StoreCapabilities Capabilities() const override { return inner_->Capabilities(); }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    if (key != failing_key) return inner_->GetTo(key, sink, range);
    bool first = true;
    auto result = inner_->GetTo(
        key,
        [&](std::string_view chunk) -> Status {
          if (!first) return Fail(ErrorCode::PermissionDenied, "injected failure", "get");
          first = false;
          return sink(chunk);
        },
        range);
    if (result) return Fail(ErrorCode::PermissionDenied, "injected failure", "get");
    return result;
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override {
    SLUICE_ASSIGN_OR_RETURN(auto writer, inner_->OpenWriter(key, options));
    return std::unique_ptr<ObjectWriter>(
        std::make_unique<RecordingWriter>(std::move(writer), write_stats));
  }
  Result<ObjectTags> GetTags(std::string_view key) override { return inner_->GetTags(key); }
  Result<ListPage> List(const ListOptions& options) override {
    SLUICE_ASSIGN_OR_RETURN(auto page, inner_->List(options));
    if (!folder_marker.empty() && folder_marker.starts_with(options.prefix) &&
        options.continuation_token.empty()) {
      ObjectInfo marker;
      marker.key = folder_marker;
      page.objects.insert(page.objects.begin(), marker);
    }
    return page;
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<ObjectInfo> Copy(std::string_view source_key,
                          std::string_view destination_key) override {
    copies.fetch_add(1);
    return inner_->Copy(source_key, destination_key);
  }

  std::string failing_key;    ///< set before copying
  std::string folder_marker;  ///< set before copying: a key ending with '/' listings report
  std::atomic<int> copies{0};
  WriteStats write_stats;

 private:
  std::unique_ptr<ObjectStore> inner_;
};

TransferOptions Recursive(int jobs = 8, ProgressSink* progress = nullptr) {
  TransferOptions options;
  options.recursive = true;
  options.jobs = jobs;
  options.progress = progress;
  return options;
}

/// A temporary folder removed at the end of the test.
class TempFolder {
 public:
  TempFolder() {
    static std::atomic<int> next{0};
    path_ = fs::temp_directory_path() /
            fmt::format("sluice-transfer-{}-{}", ::getpid(), next.fetch_add(1));
    fs::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  [[nodiscard]] const fs::path& Path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every regular file below `root` (relative path → content), hidden ones included.
std::map<std::string, std::string> Tree(const fs::path& root) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      tree[fs::relative(entry.path(), root).string()] = ReadFile(entry.path());
    }
  }
  return tree;
}

// --- ParseLocation -----------------------------------------------------------------------------

TEST(Location, S3UriSplitsIntoBucketAndKeyUnchanged) {
  auto location = ParseLocation("s3://lab-bucket/runs/2026/run 1/SampleSheet.csv", false);
  ASSERT_TRUE(location) << location.error().ToString();
  EXPECT_EQ(location->store_url, "s3://lab-bucket");
  EXPECT_EQ(location->key, "runs/2026/run 1/SampleSheet.csv");
  EXPECT_FALSE(location->IsLocal());

  location = ParseLocation("s3://lab-bucket/runs/", true);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->key, "runs/");  // the trailing '/' means "into" for a destination

  for (const char* whole_bucket : {"s3://lab-bucket", "s3://lab-bucket/", "S3://lab-bucket"}) {
    location = ParseLocation(whole_bucket, false);
    ASSERT_TRUE(location) << whole_bucket;
    EXPECT_EQ(location->store_url, "s3://lab-bucket") << whole_bucket;
    EXPECT_EQ(location->key, "") << whole_bucket;
  }
}

TEST(Location, MemoryUriSplitsIntoNameAndKey) {
  auto location = ParseLocation("memory://test/a/b", false);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->store_url, "memory://test");
  EXPECT_EQ(location->key, "a/b");
}

TEST(Location, OneFileIsItsParentFolderAndItsName) {
  for (const char* uri : {"file:///srv/data/run 1/ü.txt", "/srv/data/run 1/ü.txt",
                          "/srv/data/./x/../run 1/ü.txt"}) {
    auto location = ParseLocation(uri, false);
    ASSERT_TRUE(location) << uri;
    EXPECT_EQ(location->store_url, "file:///srv/data/run 1") << uri;
    EXPECT_EQ(location->key, "ü.txt") << uri;
    EXPECT_TRUE(location->IsLocal());
    EXPECT_EQ(location->ToString(), "file:///srv/data/run 1/ü.txt");
  }
}

TEST(Location, AFolderIsTheStoreItselfWhenRecursiveOrEndingWithSlash) {
  auto location = ParseLocation("file:///srv/data/run1", true);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->store_url, "file:///srv/data/run1");
  EXPECT_EQ(location->key, "");
  for (const char* uri : {"/srv/data/run1/", "/srv/data/run1/.", "/srv/data/run1/sub/.."}) {
    location = ParseLocation(uri, false);
    ASSERT_TRUE(location) << uri;
    EXPECT_EQ(location->store_url, "file:///srv/data/run1") << uri;
    EXPECT_EQ(location->key, "") << uri;
  }
  location = ParseLocation("/", false);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->store_url, "file:///");
  EXPECT_EQ(location->key, "");
}

TEST(Location, RelativePathsResolveAgainstTheCurrentFolder) {
  const std::string cwd = fs::current_path().lexically_normal().string();
  auto location = ParseLocation("data/x.txt", false);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->ToString(), "file://" + cwd + "/data/x.txt");
  location = ParseLocation("file://data/x.txt", false);  // as in pipeline configs
  ASSERT_TRUE(location);
  EXPECT_EQ(location->ToString(), "file://" + cwd + "/data/x.txt");
  location = ParseLocation(".", false);
  ASSERT_TRUE(location);
  EXPECT_EQ(location->store_url, "file://" + cwd);
  EXPECT_EQ(location->key, "");
}

TEST(Location, RejectsEmptyUnsupportedAndIncompleteUris) {
  for (const std::string& uri : std::vector<std::string>{"", "ftp://host/x", "s3://", "s3:///key",
                                                         "memory://", "file://",
                                                         std::string("a\0b", 3)}) {
    auto location = ParseLocation(uri, false);
    ASSERT_FALSE(location) << uri;
    EXPECT_EQ(location.error().code, ErrorCode::InvalidArgument) << uri;
  }
  auto location = ParseLocation("ftp://host/x", false);
  EXPECT_NE(location.error().message.find("unsupported scheme 'ftp://'"), std::string::npos);
}

// --- Copy between memory:// stores -------------------------------------------------------------

TEST(Transfer, CopiesOneObjectToTheNamedKey) {
  auto source = FreshMemoryStore("src");
  auto destination = FreshMemoryStore("dst");
  PutOrDie(*source, "runs/r1/a.txt", "alpha");
  auto summary = Copy(*source, "runs/r1/a.txt", *destination, "copy/b.txt", TransferOptions{});
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_TRUE(summary->Succeeded());
  EXPECT_EQ(summary->objects, 1U);
  EXPECT_EQ(summary->bytes, 5U);
  EXPECT_EQ(Contents(*destination), (std::map<std::string, std::string>{{"copy/b.txt", "alpha"}}));
}

TEST(Transfer, ADestinationEndingWithSlashOrEmptyReceivesTheObjectUnderItsOwnName) {
  auto source = FreshMemoryStore("src");
  auto destination = FreshMemoryStore("dst");
  PutOrDie(*source, "runs/r1/a.txt", "alpha");
  ASSERT_TRUE(Copy(*source, "runs/r1/a.txt", *destination, "into/", TransferOptions{}));
  ASSERT_TRUE(Copy(*source, "runs/r1/a.txt", *destination, "", TransferOptions{}));
  EXPECT_EQ(Contents(*destination),
            (std::map<std::string, std::string>{{"a.txt", "alpha"}, {"into/a.txt", "alpha"}}));
}

TEST(Transfer, APrefixWithoutRecursiveIsRefusedWithAHint) {
  auto source = FreshMemoryStore("src");
  auto destination = FreshMemoryStore("dst");
  PutOrDie(*source, "runs/r1/a.txt", "alpha");
  for (const char* prefix : {"runs/r1", "runs/r1/", ""}) {
    auto summary = Copy(*source, prefix, *destination, "x", TransferOptions{});
    ASSERT_FALSE(summary) << prefix;
    EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument) << prefix;
    EXPECT_NE(summary.error().message.find("--recursive"), std::string::npos) << prefix;
  }
}

TEST(Transfer, AMissingSourceObjectIsNotFound) {
  auto source = FreshMemoryStore("src");
  auto destination = FreshMemoryStore("dst");
  auto summary = Copy(*source, "nope.txt", *destination, "x", TransferOptions{});
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::NotFound);
}

TEST(Transfer, RecursiveCopyMapsNestedKeysBelowTheDestinationPrefix) {
  auto source = FreshMemoryStore("src");
  PutOrDie(*source, "runs/r1/a.txt", "a");
  PutOrDie(*source, "runs/r1/Data/Intensities/BaseCalls/L001/s_1.bcl", "bcl");
  PutOrDie(*source, "runs/r1/RTAComplete.txt", "done");
  PutOrDie(*source, "runs/r1x/other.txt", "not below runs/r1/");
  PutOrDie(*source, "runs/r1", "an object named like the prefix is not below it");
  const std::map<std::string, std::string> expected = {
      {"lake/r1/a.txt", "a"},
      {"lake/r1/Data/Intensities/BaseCalls/L001/s_1.bcl", "bcl"},
      {"lake/r1/RTAComplete.txt", "done"}};
  // "p" and "p/" name the same folder, on both sides.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"runs/r1", "lake/r1"}, {"runs/r1/", "lake/r1/"}, {"runs/r1/", "lake/r1"}}) {
    auto destination = FreshMemoryStore("dst");
    auto summary = Copy(*source, from, *destination, to, Recursive());
    ASSERT_TRUE(summary) << summary.error().ToString();
    EXPECT_TRUE(summary->Succeeded());
    EXPECT_EQ(summary->objects, 3U);
    EXPECT_EQ(summary->bytes, 1U + 3U + 4U);
    EXPECT_EQ(Contents(*destination), expected) << from << " -> " << to;
  }
}

TEST(Transfer, RecursiveCopyOfTheWholeStoreKeepsEveryKey) {
  auto source = FreshMemoryStore("src");
  auto destination = FreshMemoryStore("dst");
  PutOrDie(*source, "a", "1");
  PutOrDie(*source, "b/c", "2");
  auto summary = Copy(*source, "", *destination, "", Recursive());
  ASSERT_TRUE(summary);
  EXPECT_EQ(Contents(*destination), Contents(*source));
}

TEST(Transfer, ManyPagesCopyTheSameWithOneJobOrSixteen) {
  auto source = FreshMemoryStore("src");
  constexpr int kObjects = 2'345;  // three listing pages
  for (int i = 0; i < kObjects; ++i) {
    const std::string key = fmt::format("p/{}/obj-{:05}", i % 7, i);
    PutOrDie(*source, key, Pattern(key, static_cast<std::size_t>(i % 97)));
  }
  std::map<std::string, std::string> expected;
  for (auto& [key, bytes] : Contents(*source)) expected["q/" + key.substr(2)] = bytes;

  for (const int jobs : {1, 16}) {
    auto destination = FreshMemoryStore("dst");
    auto summary = Copy(*source, "p", *destination, "q", Recursive(jobs));
    ASSERT_TRUE(summary) << summary.error().ToString();
    EXPECT_EQ(summary->objects, static_cast<std::uint64_t>(kObjects)) << jobs;
    EXPECT_TRUE(summary->failed.empty()) << jobs;
    EXPECT_EQ(Contents(*destination), expected) << jobs;
  }
}

TEST(Transfer, OneFailingObjectIsRecordedWhileTheOthersAreCopied) {
  auto inner = FreshMemoryStore("src");
  InstrumentedStore source(std::move(inner));
  for (int i = 0; i < 20; ++i) {
    PutOrDie(source, fmt::format("p/{:02}", i), Pattern("x", 600 * 1024));  // 3 chunks each
  }
  source.failing_key = "p/07";
  auto destination = FreshMemoryStore("dst");
  ProgressSink progress;
  auto summary = Copy(source, "p/", *destination, "q/", Recursive(4, &progress));
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_FALSE(summary->Succeeded());
  EXPECT_EQ(summary->objects, 19U);
  ASSERT_EQ(summary->failed.size(), 1U);
  EXPECT_EQ(summary->failed[0].key, "p/07");
  EXPECT_EQ(summary->failed[0].destination_key, "q/07");
  EXPECT_EQ(summary->failed[0].error.code, ErrorCode::PermissionDenied);
  // The half-copied object was aborted, not committed.
  EXPECT_FALSE(destination->Head("q/07"));
  EXPECT_EQ(Contents(*destination).size(), 19U);
  const ProgressSnapshot snapshot = progress.Snapshot();
  EXPECT_EQ(snapshot.objects_done, 20U);
  EXPECT_EQ(snapshot.objects_failed, 1U);
  // The report names the failure.
  const std::string report = FormatTransferReport(*summary);
  EXPECT_NE(report.find("; 1 failed"), std::string::npos) << report;
  EXPECT_NE(report.find("failed: p/07: "), std::string::npos) << report;
  EXPECT_NE(report.find("injected failure"), std::string::npos) << report;
}

TEST(Transfer, ProgressCountsEveryByteAndObjectOnce) {
  auto source = FreshMemoryStore("src");
  std::uint64_t total = 0;
  for (int i = 0; i < 30; ++i) {
    const std::size_t size = static_cast<std::size_t>(i) * 40'000;
    PutOrDie(*source, fmt::format("d/{}", i), Pattern("k", size));
    total += size;
  }
  auto destination = FreshMemoryStore("dst");
  ProgressSink progress;
  auto summary = Copy(*source, "d", *destination, "e", Recursive(3, &progress));
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->bytes, total);
  const ProgressSnapshot snapshot = progress.Snapshot();
  EXPECT_TRUE(snapshot.total_known);
  EXPECT_EQ(snapshot.objects_total, 30U);
  EXPECT_EQ(snapshot.objects_done, 30U);
  EXPECT_EQ(snapshot.objects_failed, 0U);
  EXPECT_EQ(snapshot.bytes_total, total);
  EXPECT_EQ(snapshot.bytes_done, total);

  ProgressSink single;
  TransferOptions options;
  options.progress = &single;
  ASSERT_TRUE(Copy(*source, "d/29", *destination, "one", options));
  EXPECT_EQ(single.Snapshot().bytes_done, 29U * 40'000);
  EXPECT_EQ(single.Snapshot().bytes_total, 29U * 40'000);
  EXPECT_TRUE(single.Snapshot().total_known);
}

TEST(Transfer, ObjectsStreamInChunksNeverWhole) {
  auto source = FreshMemoryStore("src");
  constexpr std::size_t kSize = 5 * 1024 * 1024 + 3;
  PutOrDie(*source, "big.bin", Pattern("big", kSize));
  InstrumentedStore destination(FreshMemoryStore("dst"));
  auto summary = Copy(*source, "big.bin", destination, "big.bin", TransferOptions{});
  ASSERT_TRUE(summary);
  EXPECT_GT(destination.write_stats.writes.load(), 4);
  EXPECT_LT(destination.write_stats.largest_write_bytes.load(), kSize / 4);
  EXPECT_EQ(*destination.Get("big.bin"), Pattern("big", kSize));
}

TEST(Transfer, CopiesWithinOneStoreAreServerSide) {
  InstrumentedStore store(FreshMemoryStore("one"));
  PutOrDie(store, "a/1", "one");
  PutOrDie(store, "a/2", "two");
  const int writes_before = store.write_stats.writes.load();
  auto summary = Copy(store, "a", store, "b", Recursive());
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->objects, 2U);
  EXPECT_EQ(store.copies.load(), 2);
  EXPECT_EQ(store.write_stats.writes.load(), writes_before);  // nothing streamed
  EXPECT_EQ(*store.Get("b/2"), "two");
}

TEST(Transfer, ACopyIntoItsOwnSourceIsRefused) {
  auto store = FreshMemoryStore("one");
  PutOrDie(*store, "a/1", "one");
  for (const char* destination : {"a/b", "a", "a/"}) {
    auto summary = Copy(*store, "a", *store, destination, Recursive());
    ASSERT_FALSE(summary) << destination;
    EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
  }
  auto same = Copy(*store, "a/1", *store, "a/1", TransferOptions{});
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::InvalidArgument);
}

TEST(Transfer, FolderMarkersInTheSourceAreSkipped) {
  InstrumentedStore source(FreshMemoryStore("src"));
  PutOrDie(source, "p/a", "1");
  source.folder_marker = "p/empty-folder/";
  auto destination = FreshMemoryStore("dst");
  auto summary = Copy(source, "p", *destination, "q", Recursive());
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->Succeeded());
  EXPECT_EQ(Contents(*destination), (std::map<std::string, std::string>{{"q/a", "1"}}));
}

TEST(Transfer, ARaisedCancelFlagStartsNothing) {
  auto source = FreshMemoryStore("src");
  PutOrDie(*source, "p/a", "1");
  auto destination = FreshMemoryStore("dst");
  const std::atomic<bool> cancel{true};
  TransferOptions options = Recursive();
  options.cancel = &cancel;
  auto summary = Copy(*source, "p", *destination, "q", options);
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->cancelled);
  EXPECT_FALSE(summary->Succeeded());
  EXPECT_EQ(summary->objects, 0U);
  EXPECT_TRUE(Contents(*destination).empty());
  EXPECT_NE(FormatTransferReport(*summary).find("cancelled"), std::string::npos);
}

TEST(Transfer, JobsBelowOneAreInvalid) {
  auto source = FreshMemoryStore("src");
  TransferOptions options;
  options.jobs = 0;
  auto summary = Copy(*source, "a", *source, "b", options);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
}

// --- CopyUris with file:// -----------------------------------------------------------------------

TEST(TransferFiles, ATreeIsCopiedByteForByteAndNothingIsLeftBeside) {
  TempFolder temp;
  const fs::path source = temp.Path() / "run folder";
  WriteFile(source / "SampleSheet.csv", "Sample_ID\nS1\n");
  WriteFile(source / "with space/ünïcødé name.txt", "unicode");
  WriteFile(source / "Data/Intensities/BaseCalls/L001/C1.1/s_1_1101.bcl.gz",
            Pattern("bcl", 1024 * 1024 + 17));
  WriteFile(source / "empty", "");
  const fs::path destination = temp.Path() / "copy";

  ProgressSink progress;
  TransferOptions options = Recursive(4, &progress);
  auto summary = CopyUris(source.string(), "file://" + destination.string(), options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_TRUE(summary->Succeeded());
  EXPECT_EQ(summary->objects, 4U);
  EXPECT_EQ(Tree(destination), Tree(source));  // hidden files included: no .sluice/ anywhere
  EXPECT_FALSE(fs::exists(source / ".sluice"));
  EXPECT_FALSE(fs::exists(destination / ".sluice"));
  EXPECT_EQ(progress.Snapshot().bytes_done, summary->bytes);

  // And back into a folder with a trailing slash, prefix by prefix.
  auto back = CopyUris((destination / "with space").string(), (temp.Path() / "back/").string(),
                       options);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(ReadFile(temp.Path() / "back/ünïcødé name.txt"), "unicode");
}

TEST(TransferFiles, OneFileGoesIntoAnExistingFolderAsCpDoes) {
  TempFolder temp;
  WriteFile(temp.Path() / "a.txt", "alpha");
  fs::create_directories(temp.Path() / "folder");
  TransferOptions options;
  ASSERT_TRUE(CopyUris((temp.Path() / "a.txt").string(), (temp.Path() / "folder").string(), options));
  EXPECT_EQ(ReadFile(temp.Path() / "folder/a.txt"), "alpha");
  ASSERT_TRUE(CopyUris((temp.Path() / "a.txt").string(), (temp.Path() / "renamed.txt").string(),
                       options));
  EXPECT_EQ(ReadFile(temp.Path() / "renamed.txt"), "alpha");
  EXPECT_FALSE(fs::exists(temp.Path() / ".sluice"));
  EXPECT_FALSE(fs::exists(temp.Path() / "folder/.sluice"));
}

TEST(TransferFiles, AMissingSourceIsNotFoundAndCreatesNothing) {
  TempFolder temp;
  const fs::path missing = temp.Path() / "no/such/folder";
  for (const bool recursive : {false, true}) {
    TransferOptions options;
    options.recursive = recursive;
    auto summary = CopyUris(missing.string(), (temp.Path() / "out").string(), options);
    ASSERT_FALSE(summary);
    EXPECT_EQ(summary.error().code, ErrorCode::NotFound);
  }
  EXPECT_FALSE(fs::exists(temp.Path() / "no"));
  EXPECT_FALSE(fs::exists(temp.Path() / "out"));
}

TEST(TransferFiles, AFolderNeedsRecursiveAndRecursiveNeedsAFolder) {
  TempFolder temp;
  WriteFile(temp.Path() / "in/a.txt", "alpha");
  TransferOptions options;
  auto summary = CopyUris((temp.Path() / "in").string(), (temp.Path() / "out").string(), options);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(summary.error().message.find("--recursive"), std::string::npos);

  options.recursive = true;
  summary = CopyUris((temp.Path() / "in/a.txt").string(), (temp.Path() / "out").string(), options);
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
}

TEST(TransferFiles, ADestinationInsideItsSourceIsRefused) {
  TempFolder temp;
  WriteFile(temp.Path() / "in/a.txt", "alpha");
  auto summary = CopyUris((temp.Path() / "in").string(), (temp.Path() / "in/sub").string(),
                          Recursive());
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code, ErrorCode::InvalidArgument);
  // A sibling whose name merely starts the same is fine.
  summary = CopyUris((temp.Path() / "in").string(), (temp.Path() / "inx").string(), Recursive());
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(ReadFile(temp.Path() / "inx/a.txt"), "alpha");
}

TEST(TransferFiles, MemoryUrisOfOneStoreCopyServerSide) {
  const std::string name = FreshName("uris");
  auto store = MakeMemoryStore(name);
  PutOrDie(*store, "a/1", "one");
  auto summary =
      CopyUris("memory://" + name + "/a/", "memory://" + name + "/b/", Recursive());
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(*store->Get("b/1"), "one");
}

// --- listing ---------------------------------------------------------------------------------------

std::vector<ListEntry> ListAll(ObjectStore& store, std::string_view prefix, bool recursive) {
  std::vector<ListEntry> entries;
  auto count = ListLocation(store, prefix, recursive, [&](const ListEntry& entry) -> Status {
    entries.push_back(entry);
    return Ok();
  });
  EXPECT_TRUE(count) << count.error().ToString();
  if (count) {
    EXPECT_EQ(*count, entries.size());
  }
  return entries;
}

std::vector<std::string> Names(const std::vector<ListEntry>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back((entry.is_prefix ? "PRE " : "") + entry.name);
  return names;
}

TEST(TransferList, ListsLikeAwsS3LsWithPrefixesUnlessRecursive) {
  auto store = FreshMemoryStore("ls");
  PutOrDie(*store, "b", "12345");
  PutOrDie(*store, "a/1", "1");
  PutOrDie(*store, "a/2", "2");
  PutOrDie(*store, "c/d/e", "3");
  EXPECT_EQ(Names(ListAll(*store, "", false)),
            (std::vector<std::string>{"PRE a/", "b", "PRE c/"}));
  EXPECT_EQ(Names(ListAll(*store, "c/", false)), (std::vector<std::string>{"PRE d/"}));
  EXPECT_EQ(Names(ListAll(*store, "a/", false)), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(Names(ListAll(*store, "", true)),
            (std::vector<std::string>{"a/1", "a/2", "b", "c/d/e"}));
  const auto entries = ListAll(*store, "", false);
  EXPECT_EQ(entries[0].object.key, "a/");
  EXPECT_EQ(entries[1].object.size_bytes, 5U);
}

TEST(TransferList, FollowsEveryPage) {
  auto store = FreshMemoryStore("ls");
  for (int i = 0; i < 1'500; ++i) PutOrDie(*store, fmt::format("k{:04}", i), "");
  for (int i = 0; i < 700; ++i) PutOrDie(*store, fmt::format("p{:03}/x", i), "");
  EXPECT_EQ(ListAll(*store, "", false).size(), 2'200U);
  EXPECT_EQ(ListAll(*store, "", true).size(), 2'200U);
}

TEST(TransferList, LinesAlignLikeAwsS3Ls) {
  ListEntry object;
  object.name = "ünï name.txt";
  object.object.size_bytes = 12345;
  object.object.last_modified = std::chrono::system_clock::now();
  const std::string line = FormatListLine(object);
  ASSERT_EQ(line.size(), 19U + 1 + 10 + 1 + object.name.size()) << line;
  EXPECT_EQ(line.substr(19), "      12345 ünï name.txt");
  EXPECT_EQ(line[4], '-');
  EXPECT_EQ(line[13], ':');

  ListEntry prefix;
  prefix.is_prefix = true;
  prefix.name = "run1/";
  EXPECT_EQ(FormatListLine(prefix), std::string(27, ' ') + "PRE run1/");
}

TEST(TransferList, JsonLinesCarryKeySizeEtagAndUtcTime) {
  using namespace std::chrono;
  ListEntry entry;
  entry.name = "b.txt";
  entry.object.key = "a/\"b\".txt";
  entry.object.size_bytes = 7;
  entry.object.etag = "0123456789abcdef0123456789abcdef";
  entry.object.last_modified = sys_days{year{2026} / 11 / 21} + hours(9) + minutes(30) +
                               seconds(1) + milliseconds(23);
  EXPECT_EQ(FormatListJson(entry),
            R"({"key":"a/\"b\".txt","size":7,"etag":"0123456789abcdef0123456789abcdef",)"
            R"("last_modified":"2026-11-21T09:30:01.023Z"})");
  ListEntry prefix;
  prefix.is_prefix = true;
  prefix.object.key = "a/";
  EXPECT_EQ(FormatListJson(prefix), R"({"prefix":"a/"})");
}

TEST(TransferList, AFolderPathListsItsContentsAndAMissingOneIsNotFound) {
  TempFolder temp;
  WriteFile(temp.Path() / "run/a.txt", "alpha");
  WriteFile(temp.Path() / "run/sub/b.txt", "beta");
  std::vector<std::string> names;
  const auto collect = [&](const ListEntry& entry) -> Status {
    names.push_back((entry.is_prefix ? "PRE " : "") + entry.name);
    return Ok();
  };
  auto count = ListUri((temp.Path() / "run").string(), false, {}, collect);
  ASSERT_TRUE(count) << count.error().ToString();
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "PRE sub/"}));
  names.clear();
  ASSERT_TRUE(ListUri("file://" + (temp.Path() / "run").string(), true, {}, collect));
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "sub/b.txt"}));
  EXPECT_FALSE(fs::exists(temp.Path() / "run/.sluice"));

  count = ListUri((temp.Path() / "nope/x").string(), false, {}, collect);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(fs::exists(temp.Path() / "nope"));
}

// --- report and progress text --------------------------------------------------------------------

TEST(TransferReport, SummaryLineReadsLikeTheIssue) {
  TransferSummary summary;
  summary.objects = 1'000;
  summary.bytes = 1'288'490'189;  // 1.2 GiB
  summary.elapsed = std::chrono::milliseconds(3'400);
  EXPECT_EQ(FormatTransferReport(summary),
            "copied 1,000 objects (1.2 GiB) in 3.4 s (361.4 MiB/s); 0 failed");
  summary.objects = 1;
  summary.bytes = 12;
  EXPECT_EQ(FormatTransferReport(summary).substr(0, 27), "copied 1 object (12 B) in 3");
}

TEST(TransferReport, LongFailureListsAreCut) {
  TransferSummary summary;
  for (int i = 0; i < 25; ++i) {
    summary.failed.push_back(
        TransferFailure{fmt::format("k{}", i), "d", Error{ErrorCode::Transient, "boom", ""}});
  }
  const std::string report = FormatTransferReport(summary, 3);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 4) << report;
  EXPECT_NE(report.find("and 22 more"), std::string::npos) << report;
}

TEST(TransferProgress, LineShowsPercentBytesRateEtaAndObjectsWithinTheWidth) {
  ProgressSnapshot snapshot;
  snapshot.total_known = true;
  snapshot.objects_total = 1'000;
  snapshot.objects_done = 12;
  snapshot.bytes_total = 100 * 1024 * 1024;
  snapshot.bytes_done = 45 * 1024 * 1024;
  const std::string line = FormatProgressLine(snapshot, 11.0 * 1024 * 1024, 120);
  EXPECT_LE(line.size(), 120U);
  EXPECT_EQ(line.front(), '[');
  for (const char* part : {" 45%", "45.0 MiB/100.0 MiB", "11.0 MiB/s", "ETA 0:05",
                           "12/1,000 objects"}) {
    EXPECT_NE(line.find(part), std::string::npos) << part << " in " << line;
  }
  EXPECT_EQ(line.find("failed"), std::string::npos);
  EXPECT_LE(FormatProgressLine(snapshot, 1.0, 30).size(), 30U);

  snapshot.objects_failed = 2;
  EXPECT_NE(FormatProgressLine(snapshot, -1, 200).find("2 failed"), std::string::npos);
}

TEST(TransferProgress, GrowingTotalsEndWithPlusAndHaveNoPercentOrEta) {
  ProgressSnapshot snapshot;
  snapshot.objects_total = 1'000;
  snapshot.bytes_total = 2048;
  snapshot.bytes_done = 1024;
  const std::string line = FormatProgressLine(snapshot, -1, 200);
  EXPECT_NE(line.find("1.0 KiB/2.0 KiB+"), std::string::npos) << line;
  EXPECT_NE(line.find("0/1,000+ objects"), std::string::npos) << line;
  EXPECT_NE(line.find("--/s"), std::string::npos) << line;
  EXPECT_EQ(line.find('%'), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
}

TEST(TransferProgress, CountsAndClocksAreHumanReadable) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1'000), "1,000");
  EXPECT_EQ(FormatCount(1'234'567), "1,234,567");
  EXPECT_EQ(FormatClock(std::chrono::seconds(7)), "0:07");
  EXPECT_EQ(FormatClock(std::chrono::seconds(754)), "12:34");
  EXPECT_EQ(FormatClock(std::chrono::seconds(3'723)), "1:02:03");
}

TEST(TransferProgress, SinkTakesBackRetractedBytes) {
  ProgressSink sink;
  sink.AddTotal(2, 100);
  sink.AddBytes(60);
  sink.RetractBytes(10);  // a part that will be sent again
  sink.ObjectDone(true);
  const ProgressSnapshot snapshot = sink.Snapshot();
  EXPECT_EQ(snapshot.bytes_done, 50U);
  EXPECT_EQ(snapshot.objects_done, 1U);
  EXPECT_FALSE(snapshot.total_known);
}

TEST(TransferProgress, ABarOffATerminalDrawsNothing) {
  ProgressSink sink;
  ProgressBar bar(sink);  // stderr of a test run is not a terminal (or --no-progress below)
  ProgressBar disabled(sink, ProgressBarOptions{.enabled = false});
  EXPECT_FALSE(disabled.Drawing());
  if (::isatty(STDERR_FILENO) == 0) {
    EXPECT_FALSE(bar.Drawing());
  }
  bar.Finish();
  bar.Finish();  // idempotent
  EXPECT_FALSE(bar.Drawing());
}

}  // namespace
}  // namespace sluice
