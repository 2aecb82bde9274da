// The ObjectStore conformance suite: every backend must pass every test here, with
// StoreCapabilities flags for the honest differences. Semantics follow the Amazon S3 API Reference
// (GetObject, PutObject, HeadObject, ListObjectsV2, DeleteObject, CopyObject).
//
// A header so that more than one test binary can instantiate it: tests/unit/store/
// conformance_test.cpp for file:// and memory://, tests/integration/s3_conformance_test.cpp for
// s3:// on a real server. Include it from exactly one .cpp per binary, then instantiate:
//   INSTANTIATE_TEST_SUITE_P(Name, ObjectStoreConformance, ::testing::Values(Backend{...}), ...);
// A Backend is a factory that opens a fresh, empty store for one test and a cleanup that removes
// what the test left.

#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {
namespace {

/// One backend under test.
struct Backend {
  std::string name;  ///< suffix of the test names: "file", "memory"
  /// Opens a fresh, empty store for the test identified by `test_id` (unique in the process).
  std::function<Result<std::unique_ptr<ObjectStore>>(const std::string& test_id)> make;
  /// Removes whatever the test left behind.
  std::function<void(const std::string& test_id)> cleanup;
  /// The store's continuation tokens are its own opaque strings (s3://: the server's), not the
  /// last key or common prefix of the page, so the suite does not compare them with entries.
  bool opaque_continuation_tokens = false;
};

void PrintTo(const Backend& backend, std::ostream* out) {
  *out << backend.name;
}

template <class T>
::testing::AssertionResult IsOk(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error().ToString();
}

template <class T>
::testing::AssertionResult HasCode(const Result<T>& result, ErrorCode code) {
  if (result) return ::testing::AssertionFailure() << "succeeded; expected " << ToString(code);
  if (result.error().code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << ToString(result.error().code) << " (" << result.error().ToString()
         << "); expected " << ToString(code);
}

/// Deterministic bytes of every value 0..255.
std::string PseudoRandomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 engine(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(engine() & 0xffU);
  return bytes;
}

/// What a listing returns, flattened: keys and common prefixes in the order S3 sends them.
std::vector<std::string> Entries(const ListPage& page) {
  std::vector<std::string> entries;
  for (const auto& object : page.objects) entries.push_back(object.key);
  entries.insert(entries.end(), page.common_prefixes.begin(), page.common_prefixes.end());
  std::sort(entries.begin(), entries.end());
  return entries;
}

/// The reference model of ListObjectsV2 without paging: what `keys` list as under prefix and
/// delimiter.
std::vector<std::string> ExpectedEntries(std::vector<std::string> keys, const std::string& prefix,
                                         const std::string& delimiter) {
  std::set<std::string> entries;
  for (const auto& key : keys) {
    if (!key.starts_with(prefix)) continue;
    const auto pos = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
    entries.insert(pos == std::string::npos ? key : key.substr(0, pos + delimiter.size()));
  }
  return {entries.begin(), entries.end()};
}

class ObjectStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> next_id{0};
    test_id_ = fmt::format("t{}", next_id.fetch_add(1));
    auto store = GetParam().make(test_id_);
    ASSERT_TRUE(IsOk(store));
    store_ = std::move(*store);
  }

  void TearDown() override {
    store_.reset();
    if (sources_) {
      (void)sources_->Delete("source.bin");
      sources_.reset();
    }
    GetParam().cleanup(test_id_);
  }

  ObjectStore& Store() { return *store_; }
  /// A memory:// store of this test's own, for sources of PutFrom.
  ObjectStore& MemoryStoreForSources() {
    if (!sources_) sources_ = MakeMemoryStore("conformance-sources-" + test_id_);
    return *sources_;
  }
  StoreCapabilities Capabilities() { return store_->Capabilities(); }

  void PutOrFail(const std::string& key, std::string_view bytes) {
    const auto put = store_->Put(key, bytes);
    ASSERT_TRUE(IsOk(put)) << key;
  }

  /// Puts every key (content = the key) from a few threads: also exercises thread-safety.
  void PutAll(const std::vector<std::string>& keys) {
    constexpr int kThreads = 8;
    std::atomic<std::size_t> next{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (auto i = next.fetch_add(1); i < keys.size(); i = next.fetch_add(1)) {
          if (!store_->Put(keys[i], keys[i])) failures.fetch_add(1);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_EQ(failures.load(), 0);
  }

  /// Lists every page under `options`, checking paging invariants on the way; returns all
  /// entries in order and the number of pages.
  std::pair<std::vector<std::string>, int> ListAll(ListOptions options) {
    std::vector<std::string> all;
    int pages = 0;
    while (true) {
      auto page = store_->List(options);
      EXPECT_TRUE(IsOk(page));
      if (!page) break;
      ++pages;
      const auto entries = Entries(*page);
      EXPECT_LE(entries.size(), static_cast<std::size_t>(options.max_keys));
      if (page->IsTruncated()) {
        EXPECT_EQ(entries.size(), static_cast<std::size_t>(options.max_keys));
        if (!GetParam().opaque_continuation_tokens) {
          EXPECT_EQ(page->next_continuation_token, entries.back());
        }
      }
      all.insert(all.end(), entries.begin(), entries.end());
      if (!page->IsTruncated() || pages > 100000) break;
      options.continuation_token = page->next_continuation_token;
    }
    return {all, pages};
  }

  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ObjectStore> sources_;  ///< see MemoryStoreForSources
  std::string test_id_;
};

constexpr std::string_view kHelloWorldMd5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";
constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

// --- Put, Get, Head -------------------------------------------------------------------------

TEST_P(ObjectStoreConformance, PutThenGetReturnsSameBytes) {
  const std::string bytes("binary\0with\xff bytes\n", 20);
  const auto put = Store().Put("dir/sub/object.bin", bytes);
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->key, "dir/sub/object.bin");
  EXPECT_EQ(put->size_bytes, bytes.size());
  const auto got = Store().Get("dir/sub/object.bin");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, bytes);
}

TEST_P(ObjectStoreConformance, EtagIsHexMd5OfContent) {
  const auto put = Store().Put("hello.txt", "hello world");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->etag, kHelloWorldMd5);
  const auto head = Store().Head("hello.txt");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->etag, kHelloWorldMd5);
  const auto got = Store().GetTo("hello.txt", [](std::string_view) { return Ok(); });
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->etag, kHelloWorldMd5);
  const auto page = Store().List({});
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].etag, kHelloWorldMd5);
}

TEST_P(ObjectStoreConformance, EmptyObjectHasMd5OfEmptyString) {
  const auto put = Store().Put("empty", "");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->etag, kEmptyMd5);
  EXPECT_EQ(put->size_bytes, 0U);
  const auto head = Store().Head("empty");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->etag, kEmptyMd5);
  EXPECT_EQ(head->size_bytes, 0U);
  const auto got = Store().Get("empty");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "");
}

TEST_P(ObjectStoreConformance, WriteWithoutNeedEtagStoresTheSameObjectAndHeadHasItsEtag) {
  const auto put = Store().Put("no-etag", "hello world", WriteOptions{.need_etag = false});
  ASSERT_TRUE(IsOk(put));
  EXPECT_TRUE(put->etag.empty() || put->etag == kHelloWorldMd5) << put->etag;
  const auto head = Store().Head("no-etag");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->etag, kHelloWorldMd5);
  EXPECT_EQ(*Store().Get("no-etag"), "hello world");
}

TEST_P(ObjectStoreConformance, HeadReportsSizeAndLastModified) {
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
  ASSERT_TRUE(IsOk(Store().Put("sized", "12345")));
  const auto head = Store().Head("sized");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->key, "sized");
  EXPECT_EQ(head->size_bytes, 5U);
  EXPECT_GE(head->last_modified, before);
  EXPECT_LE(head->last_modified, std::chrono::system_clock::now() + std::chrono::seconds(2));
}

TEST_P(ObjectStoreConformance, HeadOfMissingKeyIsNotFound) {
  EXPECT_TRUE(HasCode(Store().Head("missing"), ErrorCode::NotFound));
  // The "folder" of an existing key is not a key either.
  ASSERT_TRUE(IsOk(Store().Put("dir/object", "x")));
  EXPECT_TRUE(HasCode(Store().Head("dir"), ErrorCode::NotFound));
  EXPECT_TRUE(HasCode(Store().Head("dir/objec"), ErrorCode::NotFound));
}

TEST_P(ObjectStoreConformance, GetOfMissingKeyIsNotFound) {
  EXPECT_TRUE(HasCode(Store().Get("missing"), ErrorCode::NotFound));
  ASSERT_TRUE(IsOk(Store().Put("dir/object", "x")));
  EXPECT_TRUE(HasCode(Store().Get("dir"), ErrorCode::NotFound));
}

TEST_P(ObjectStoreConformance, ErrorsNameTheOperationAndKey) {
  const auto head = Store().Head("summary2/missing.summary");
  ASSERT_FALSE(head);
  EXPECT_NE(head.error().ToString().find("summary2/missing.summary"), std::string::npos)
      << head.error().ToString();
}

TEST_P(ObjectStoreConformance, OverwriteReplacesContent) {
  ASSERT_TRUE(IsOk(Store().Put("k", "the first, longer version")));
  ASSERT_TRUE(IsOk(Store().Put("k", "second")));
  EXPECT_EQ(Store().Get("k").value_or("<error>"), "second");
  const auto head = Store().Head("k");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->size_bytes, 6U);
  EXPECT_EQ(head->etag, Md5Hex("second"));
}

TEST_P(ObjectStoreConformance, AnotherStoreOpenedFromTheSameUrlSeesTheObjects) {
  ASSERT_TRUE(IsOk(Store().Put("shared/key", "bytes")));
  auto other = MakeObjectStore(Store().Url());
  ASSERT_TRUE(IsOk(other));
  EXPECT_EQ((*other)->Get("shared/key").value_or("<error>"), "bytes");
}

// --- Ranges and streaming -------------------------------------------------------------------

TEST_P(ObjectStoreConformance, RangeGetReturnsInclusiveSlice) {
  ASSERT_TRUE(IsOk(Store().Put("digits", "0123456789")));
  const auto get = [&](std::uint64_t first, std::optional<std::uint64_t> last) {
    return Store().Get("digits", ByteRange{first, last}).value_or("<error>");
  };
  EXPECT_EQ(get(2, 5), "2345");
  EXPECT_EQ(get(0, 0), "0");
  EXPECT_EQ(get(9, 9), "9");
  EXPECT_EQ(get(7, std::nullopt), "789");
  EXPECT_EQ(get(8, 100), "89");  // last past the end is clamped, as S3 does
  // GetTo reports the whole object's metadata, not the range's.
  const auto info = Store().GetTo(
      "digits", [](std::string_view) { return Ok(); }, ByteRange{2, 5});
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(info->size_bytes, 10U);
  EXPECT_EQ(info->etag, Md5Hex("0123456789"));
}

TEST_P(ObjectStoreConformance, RangeStartingPastEndIsInvalidArgument) {
  ASSERT_TRUE(IsOk(Store().Put("digits", "0123456789")));
  EXPECT_TRUE(
      HasCode(Store().Get("digits", ByteRange{10, std::nullopt}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(Store().Get("digits", ByteRange{11, 20}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(Store().Get("digits", ByteRange{5, 3}), ErrorCode::InvalidArgument));
  ASSERT_TRUE(IsOk(Store().Put("empty", "")));
  EXPECT_TRUE(
      HasCode(Store().Get("empty", ByteRange{0, std::nullopt}), ErrorCode::InvalidArgument));
}

TEST_P(ObjectStoreConformance, LargeObjectStreamsThroughWriterAndGetToInChunks) {
  constexpr std::size_t kSize = 5 * 1024 * 1024 + 17;
  const std::string bytes = PseudoRandomBytes(kSize, 42);
  auto writer = Store().OpenWriter("big/object.bin");
  ASSERT_TRUE(IsOk(writer));
  constexpr std::size_t kWriteBytes = 64 * 1024 + 3;
  for (std::size_t at = 0; at < kSize; at += kWriteBytes) {
    ASSERT_TRUE(IsOk((*writer)->Write(std::string_view(bytes).substr(at, kWriteBytes))));
  }
  const auto closed = (*writer)->Close();
  ASSERT_TRUE(IsOk(closed));
  EXPECT_EQ(closed->size_bytes, kSize);
  EXPECT_EQ(closed->etag, Md5Hex(bytes));

  std::string received;
  std::size_t chunks = 0;
  std::size_t largest_chunk = 0;
  const auto info = Store().GetTo("big/object.bin", [&](std::string_view chunk) {
    received.append(chunk);
    ++chunks;
    largest_chunk = std::max(largest_chunk, chunk.size());
    return Ok();
  });
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(info->etag, Md5Hex(bytes));
  EXPECT_TRUE(received == bytes) << "content differs";
  EXPECT_GT(chunks, 1U);
  EXPECT_LT(largest_chunk, kSize);

  // A range that crosses chunk boundaries.
  const std::uint64_t first = 256 * 1024 - 10;
  const std::uint64_t last = 3 * 256 * 1024 + 10;
  const auto slice = Store().Get("big/object.bin", ByteRange{first, last});
  ASSERT_TRUE(IsOk(slice));
  EXPECT_TRUE(*slice == bytes.substr(first, last - first + 1)) << "slice differs";
}

TEST_P(ObjectStoreConformance, PutFromAReaderStoresEveryByteAndCountsProgress) {
  const std::string bytes = PseudoRandomBytes(3 * 1024 * 1024 + 5, 43);
  MemoryStoreForSources().Put("source.bin", bytes);
  auto reader = MemoryStoreForSources().OpenReader("source.bin");
  ASSERT_TRUE(IsOk(reader));
  ProgressSink progress;
  const auto put = Store().PutFrom("from/reader.bin", **reader, PutOptions{.progress = &progress});
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->size_bytes, bytes.size());
  EXPECT_EQ(put->etag, Md5Hex(bytes));
  EXPECT_EQ(progress.Snapshot().bytes_done, bytes.size());
  const auto got = Store().Get("from/reader.bin");
  ASSERT_TRUE(IsOk(got));
  EXPECT_TRUE(*got == bytes) << "content differs";
}

TEST_P(ObjectStoreConformance, PutFromCancelledCommitsNothing) {
  MemoryStoreForSources().Put("source.bin", PseudoRandomBytes(64 * 1024, 44));
  auto reader = MemoryStoreForSources().OpenReader("source.bin");
  ASSERT_TRUE(IsOk(reader));
  const std::atomic<bool> cancel{true};
  EXPECT_TRUE(HasCode(Store().PutFrom("cancelled", **reader, PutOptions{.cancel = &cancel}),
                      ErrorCode::Cancelled));
  EXPECT_TRUE(HasCode(Store().Head("cancelled"), ErrorCode::NotFound));
}

TEST_P(ObjectStoreConformance, OpenReaderReadsRangesOrIsUnsupported) {
  const std::string bytes = PseudoRandomBytes(100'000, 45);
  ASSERT_TRUE(IsOk(Store().Put("readable", bytes)));
  auto reader = Store().OpenReader("readable");
  if (!reader && reader.error().code == ErrorCode::Unsupported) GTEST_SKIP() << "streams only";
  ASSERT_TRUE(IsOk(reader));
  EXPECT_EQ((*reader)->Info().size_bytes, bytes.size());
  std::string buffer(40'000, '\0');
  auto read = (*reader)->ReadAt(70'000, buffer);
  ASSERT_TRUE(IsOk(read));
  EXPECT_EQ(*read, 30'000U);  // short only at the end
  EXPECT_TRUE(buffer.substr(0, 30'000) == bytes.substr(70'000)) << "range differs";
  read = (*reader)->ReadAt(bytes.size(), buffer);
  ASSERT_TRUE(IsOk(read));
  EXPECT_EQ(*read, 0U);
  EXPECT_TRUE(HasCode((*reader)->ReadAt(bytes.size() + 1, buffer), ErrorCode::InvalidArgument));
  // The reader keeps the version it opened, as GetTo does.
  ASSERT_TRUE(IsOk(Store().Put("readable", "new")));
  read = (*reader)->ReadAt(0, buffer);
  ASSERT_TRUE(IsOk(read));
  EXPECT_TRUE(buffer.substr(0, *read) == bytes.substr(0, *read));
  EXPECT_TRUE(HasCode(Store().OpenReader("absent"), ErrorCode::NotFound));
}

TEST_P(ObjectStoreConformance, SinkErrorStopsGetAndIsReturned) {
  ASSERT_TRUE(IsOk(Store().Put("big", PseudoRandomBytes(1024 * 1024, 7))));
  int calls = 0;
  const auto got = Store().GetTo("big", [&](std::string_view) -> Status {
    ++calls;
    return Fail(ErrorCode::Cancelled, "enough");
  });
  EXPECT_TRUE(HasCode(got, ErrorCode::Cancelled));
  EXPECT_EQ(calls, 1);
}

// --- Writers --------------------------------------------------------------------------------

TEST_P(ObjectStoreConformance, NothingIsVisibleBeforeClose) {
  auto writer = Store().OpenWriter("pending");
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write("part one, ")));
  ASSERT_TRUE(IsOk((*writer)->Write("part two")));
  EXPECT_TRUE(HasCode(Store().Head("pending"), ErrorCode::NotFound));
  EXPECT_TRUE(Store().List({}).value_or(ListPage{}).objects.empty());
  ASSERT_TRUE(IsOk((*writer)->Close()));
  EXPECT_EQ(Store().Get("pending").value_or("<error>"), "part one, part two");
}

TEST_P(ObjectStoreConformance, WriterDestroyedWithoutCloseLeavesNothing) {
  {
    auto writer = Store().OpenWriter("abandoned");
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write("partial")));
  }
  EXPECT_TRUE(HasCode(Store().Head("abandoned"), ErrorCode::NotFound));
  const auto page = Store().List({});
  ASSERT_TRUE(IsOk(page));
  EXPECT_TRUE(page->objects.empty());
}

TEST_P(ObjectStoreConformance, WriterDestroyedWithoutCloseLeavesPreviousObjectIntact) {
  ASSERT_TRUE(IsOk(Store().Put("kept", "old")));
  {
    auto writer = Store().OpenWriter("kept");
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write("new and unfinished")));
  }
  EXPECT_EQ(Store().Get("kept").value_or("<error>"), "old");
}

TEST_P(ObjectStoreConformance, WriterRefusesWritesAfterClose) {
  auto writer = Store().OpenWriter("closed");
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Close()));
  EXPECT_FALSE((*writer)->Write("late"));
  EXPECT_FALSE((*writer)->Close());
  EXPECT_EQ(Store().Get("closed").value_or("<error>"), "");
}

TEST_P(ObjectStoreConformance, ConcurrentPutsOfDifferentKeysAllLand) {
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(fmt::format("c/{}/k{:03}", i % 4, i));
  PutAll(keys);
  const auto [entries, pages] = ListAll({});
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(entries, keys);
}

// --- Delete and Copy ------------------------------------------------------------------------

TEST_P(ObjectStoreConformance, DeleteRemovesObject) {
  ASSERT_TRUE(IsOk(Store().Put("dir/doomed", "x")));
  ASSERT_TRUE(IsOk(Store().Put("dir/kept", "y")));
  ASSERT_TRUE(IsOk(Store().Delete("dir/doomed")));
  EXPECT_TRUE(HasCode(Store().Head("dir/doomed"), ErrorCode::NotFound));
  EXPECT_EQ(ListAll({}).first, std::vector<std::string>{"dir/kept"});
  ASSERT_TRUE(IsOk(Store().Delete("dir/kept")));
  EXPECT_TRUE(ListAll({}).first.empty());
  // The emptied "folder" does not linger as a common prefix either.
  ListOptions options;
  options.delimiter = "/";
  EXPECT_TRUE(ListAll(options).first.empty());
}

TEST_P(ObjectStoreConformance, DeleteOfMissingKeySucceeds) {
  EXPECT_TRUE(IsOk(Store().Delete("never/was")));
  // Nor does deleting the "folder" of a key touch the key.
  ASSERT_TRUE(IsOk(Store().Put("dir/object", "x")));
  EXPECT_TRUE(IsOk(Store().Delete("dir")));
  EXPECT_TRUE(IsOk(Store().Head("dir/object")));
}

TEST_P(ObjectStoreConformance, PutAfterDeleteOfTheLastKeyInAFolderWorks) {
  ASSERT_TRUE(IsOk(Store().Put("f/g/h", "1")));
  ASSERT_TRUE(IsOk(Store().Delete("f/g/h")));
  ASSERT_TRUE(IsOk(Store().Put("f/g/i", "2")));
  EXPECT_EQ(Store().Get("f/g/i").value_or("<error>"), "2");
}

TEST_P(ObjectStoreConformance, CopyDuplicatesContentAndEtag) {
  const auto put = Store().Put("source/object", "some content");
  ASSERT_TRUE(IsOk(put));
  ASSERT_TRUE(IsOk(Store().Put("copy/of/object", "to be replaced")));
  const auto copied = Store().Copy("source/object", "copy/of/object");
  ASSERT_TRUE(IsOk(copied));
  EXPECT_EQ(copied->key, "copy/of/object");
  EXPECT_EQ(copied->etag, put->etag);
  EXPECT_EQ(copied->size_bytes, put->size_bytes);
  EXPECT_EQ(Store().Get("copy/of/object").value_or("<error>"), "some content");
  EXPECT_EQ(Store().Get("source/object").value_or("<error>"), "some content");
  EXPECT_EQ(Store().Head("copy/of/object").value_or(ObjectInfo{}).etag, put->etag);
}

TEST_P(ObjectStoreConformance, CopyOfMissingSourceIsNotFound) {
  EXPECT_TRUE(HasCode(Store().Copy("missing", "destination"), ErrorCode::NotFound));
  EXPECT_TRUE(HasCode(Store().Head("destination"), ErrorCode::NotFound));
}

// --- Object tags (capability object_tags) ---------------------------------------------------

/// Tags using every kind of character the S3 tag pattern allows, some of which need escaping.
ObjectTags SampleTags() {
  return ObjectTags{{"SourceID", "ACME-e8c469f8-df38-11e5-b86d-9a79f06e9478"},
                    {"Logger", "Gulf Surveyor"},
                    {"Soundings", "1903"},
                    {"odd key_.:/=+-@", "a+b=c/d:e@f g_h.i-j"},
                    {"empty", ""},
                    {"Größe", "Ünïcødé"}};
}

TEST_P(ObjectStoreConformance, PutWithTagsThenGetTagsReturnsThemExactly) {
  if (!Capabilities().object_tags) {
    EXPECT_TRUE(HasCode(Store().Put("tagged", "x", WriteOptions{SampleTags()}),
                        ErrorCode::Unsupported));
    GTEST_SKIP() << "backend keeps no object tags";
  }
  ASSERT_TRUE(IsOk(Store().Put("dir/tagged.json", "{}", WriteOptions{SampleTags()})));
  const auto tags = Store().GetTags("dir/tagged.json");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_EQ(*tags, SampleTags());
  const auto got = Store().Get("dir/tagged.json");
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(*got, "{}");
}

TEST_P(ObjectStoreConformance, ObjectWrittenWithoutTagsHasAnEmptyTagSet) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  PutOrFail("plain", "bytes");
  const auto tags = Store().GetTags("plain");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_TRUE(tags->empty());
}

TEST_P(ObjectStoreConformance, GetTagsOfMissingKeyIsNotFound) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  EXPECT_TRUE(HasCode(Store().GetTags("missing"), ErrorCode::NotFound));
}

TEST_P(ObjectStoreConformance, OverwriteReplacesTheTagSetAndWithoutTagsDropsIt) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  ASSERT_TRUE(IsOk(Store().Put("k", "same", WriteOptions{{{"a", "1"}, {"b", "2"}}})));
  ASSERT_TRUE(IsOk(Store().Put("k", "same", WriteOptions{{{"c", "3"}}})));
  auto tags = Store().GetTags("k");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_EQ(*tags, (ObjectTags{{"c", "3"}}));
  // Same size and content, written at once: only the write itself tells the versions apart.
  PutOrFail("k", "same");
  tags = Store().GetTags("k");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_TRUE(tags->empty()) << "the untagged overwrite kept " << tags->size() << " tags";
}

TEST_P(ObjectStoreConformance, TagsAreNotListedAndGoAwayWithTheObject) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  ASSERT_TRUE(IsOk(Store().Put("a/tagged", "1", WriteOptions{{{"t", "v"}}})));
  PutOrFail("b", "2");
  const auto entries = ListAll(ListOptions{}).first;
  EXPECT_EQ(entries, (std::vector<std::string>{"a/tagged", "b"}));
  ASSERT_TRUE(IsOk(Store().Delete("a/tagged")));
  EXPECT_TRUE(HasCode(Store().GetTags("a/tagged"), ErrorCode::NotFound));
  PutOrFail("a/tagged", "1");  // a new object under the old key starts without tags
  const auto tags = Store().GetTags("a/tagged");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_TRUE(tags->empty());
}

TEST_P(ObjectStoreConformance, CopyKeepsTheSourceTags) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  ASSERT_TRUE(IsOk(Store().Put("source", "bytes", WriteOptions{SampleTags()})));
  ASSERT_TRUE(IsOk(Store().Copy("source", "copy")));
  const auto tags = Store().GetTags("copy");
  ASSERT_TRUE(IsOk(tags));
  EXPECT_EQ(*tags, SampleTags());
}

TEST_P(ObjectStoreConformance, TagsComeWithObjectsLargerThanTheMultipartThreshold) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  // Above s3://'s default 8 MiB threshold, so the tags go with CreateMultipartUpload.
  const std::string bytes = PseudoRandomBytes(8 * 1024 * 1024 + 5, 46);
  const ObjectTags tags{{"Soundings", "42"}, {"Logger", "big one"}};
  auto writer = Store().OpenWriter("big/streamed", WriteOptions{tags});
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write(bytes)));
  ASSERT_TRUE(IsOk((*writer)->Close()));
  MemoryStoreForSources().Put("source.bin", bytes);
  auto reader = MemoryStoreForSources().OpenReader("source.bin");
  ASSERT_TRUE(IsOk(reader));
  ASSERT_TRUE(IsOk(Store().PutFrom("big/from-reader", **reader, PutOptions{.tags = tags})));
  for (const char* key : {"big/streamed", "big/from-reader"}) {
    const auto got = Store().GetTags(key);
    ASSERT_TRUE(IsOk(got)) << key;
    EXPECT_EQ(*got, tags) << key;
  }
}

TEST_P(ObjectStoreConformance, TagsAtTheLimitsAreKeptAndBeyondThemRejectedBeforeWriting) {
  if (!Capabilities().object_tags) GTEST_SKIP() << "backend keeps no object tags";
  ObjectTags at_limits;
  for (int i = 0; i < 9; ++i) at_limits.emplace(fmt::format("k{}", i), "v");
  at_limits.emplace(std::string(128, 'K'), std::string(256, 'V'));
  ASSERT_TRUE(IsOk(Store().Put("limits", "x", WriteOptions{at_limits})));
  const auto kept = Store().GetTags("limits");
  ASSERT_TRUE(IsOk(kept));
  EXPECT_EQ(*kept, at_limits);

  ObjectTags eleven = at_limits;
  eleven.emplace("one-more", "v");
  const std::vector<ObjectTags> bad = {
      eleven,
      {{std::string(129, 'K'), "v"}},
      {{"k", std::string(257, 'V')}},
      {{"", "v"}},
      {{"aws:reserved", "v"}},
      {{"k", "semicolon;"}},
      {{"k", "new\nline"}},
      {{"k", std::string("\xff\xfe", 2)}},
  };
  for (const auto& tags : bad) {
    EXPECT_TRUE(HasCode(Store().Put("rejected", "x", WriteOptions{tags}),
                        ErrorCode::InvalidArgument))
        << tags.begin()->first;
    MemoryStoreForSources().Put("source.bin", "x");
    auto reader = MemoryStoreForSources().OpenReader("source.bin");
    ASSERT_TRUE(IsOk(reader));
    EXPECT_TRUE(HasCode(Store().PutFrom("rejected", **reader, PutOptions{.tags = tags}),
                        ErrorCode::InvalidArgument));
  }
  EXPECT_TRUE(HasCode(Store().Head("rejected"), ErrorCode::NotFound));
}

// --- Keys -----------------------------------------------------------------------------------

TEST_P(ObjectStoreConformance, KeysWithDotDotOrNulOrLeadingSlashAreRejected) {
  const std::vector<std::string> bad_keys = {
      "",        "/absolute",     "..",
      "../up",   "a/../b",        "a/..",
      ".",       "./a",           "a/./b",
      "a//b",    "trailing/",     std::string("nul\0byte", 8),
      ".sluice", ".sluice/tmp/x", std::string(1025, 'k'),
  };
  for (const auto& key : bad_keys) {
    SCOPED_TRACE(::testing::Message() << "key '" << key << "'");
    EXPECT_TRUE(HasCode(Store().Put(key, "x"), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().OpenWriter(key), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().Head(key), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().Get(key), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().Delete(key), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().Copy(key, "fine"), ErrorCode::InvalidArgument));
    EXPECT_TRUE(HasCode(Store().Copy("fine", key), ErrorCode::InvalidArgument));
  }
  EXPECT_TRUE(ListAll({}).first.empty());
}

TEST_P(ObjectStoreConformance, KeysOfUpTo1024BytesWithOddButValidSegmentsAreAccepted) {
  std::string longest;
  while (longest.size() < 1024) longest += std::string(99, 's') + "/";
  longest.resize(1024);
  longest.back() = 'z';  // no trailing '/'
  const std::vector<std::string> keys = {
      longest, "...", "..a/a..", ".hidden", "x/.sluice/y", "spaces in name", "é/ü.txt"};
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(IsOk(Store().Put(key, key)));
    EXPECT_EQ(Store().Get(key).value_or("<error>"), key);
  }
}

TEST_P(ObjectStoreConformance, KeyAndFolderOfTheSameNameFollowCapability) {
  ASSERT_TRUE(IsOk(Store().Put("a/b", "below")));
  const auto over_folder = Store().Put("a", "over");
  ASSERT_TRUE(IsOk(Store().Put("c", "object")));
  const auto below_object = Store().Put("c/d", "below");
  if (Capabilities().key_and_folder_may_share_name) {
    EXPECT_TRUE(IsOk(over_folder));
    EXPECT_TRUE(IsOk(below_object));
    EXPECT_EQ(ListAll({}).first, (std::vector<std::string>{"a", "a/b", "c", "c/d"}));
  } else {
    EXPECT_TRUE(HasCode(over_folder, ErrorCode::AlreadyExists));
    EXPECT_TRUE(HasCode(below_object, ErrorCode::AlreadyExists));
    EXPECT_EQ(ListAll({}).first, (std::vector<std::string>{"a/b", "c"}));
  }
  EXPECT_EQ(Store().Get("a/b").value_or("<error>"), "below");
  EXPECT_EQ(Store().Get("c").value_or("<error>"), "object");
}

// --- List -----------------------------------------------------------------------------------

TEST_P(ObjectStoreConformance, ListOfEmptyStoreIsEmptyAndNotTruncated) {
  const auto page = Store().List({});
  ASSERT_TRUE(IsOk(page));
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->common_prefixes.empty());
  EXPECT_FALSE(page->IsTruncated());
}

TEST_P(ObjectStoreConformance, ListReturnsKeysInByteOrderAcrossFolders) {
  // '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' (0x30) < 'A' … and UTF-8 after ASCII: a listing
  // that walked folders by name would wrongly put "a/b" before "a-c".
  std::vector<std::string> keys = {"é", "a0", "a/c/d", "b", "a/b-", "A", "a.b", "a/b", "a-c"};
  if (Capabilities().key_and_folder_may_share_name) keys.push_back("a");
  PutAll(keys);
  std::vector<std::string> expected = {"A", "a-c", "a.b", "a/b", "a/b-", "a/c/d", "a0", "b", "é"};
  if (Capabilities().key_and_folder_may_share_name) expected.insert(expected.begin() + 1, "a");
  const auto page = Store().List({});
  ASSERT_TRUE(IsOk(page));
  std::vector<std::string> listed;
  for (const auto& object : page->objects) listed.push_back(object.key);
  EXPECT_EQ(listed, expected);
  EXPECT_FALSE(page->IsTruncated());
}

TEST_P(ObjectStoreConformance, ListReportsSizeEtagAndLastModified) {
  ASSERT_TRUE(IsOk(Store().Put("one", "1")));
  ASSERT_TRUE(IsOk(Store().Put("two/deep", "twenty-two")));
  const auto page = Store().List({});
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->objects.size(), 2U);
  for (const auto& object : page->objects) {
    const auto head = Store().Head(object.key);
    ASSERT_TRUE(IsOk(head));
    EXPECT_EQ(object.size_bytes, head->size_bytes);
    EXPECT_EQ(object.etag, head->etag);
    EXPECT_EQ(object.last_modified, head->last_modified);
  }
  EXPECT_EQ(page->objects[1].etag, Md5Hex("twenty-two"));
}

TEST_P(ObjectStoreConformance, ListWithPrefixReturnsOnlyMatchingKeys) {
  PutAll({"logs/2024/a", "logs/2025/b", "logs-old/c", "log", "other/logs/d"});
  ListOptions options;
  options.prefix = "logs/";
  EXPECT_EQ(ListAll(options).first, (std::vector<std::string>{"logs/2024/a", "logs/2025/b"}));
  options.prefix = "logs";
  EXPECT_EQ(ListAll(options).first,
            (std::vector<std::string>{"logs-old/c", "logs/2024/a", "logs/2025/b"}));
  options.prefix = "logs/2025/b";
  EXPECT_EQ(ListAll(options).first, (std::vector<std::string>{"logs/2025/b"}));
  options.prefix = "nothing";
  EXPECT_TRUE(ListAll(options).first.empty());
}

TEST_P(ObjectStoreConformance, StartAfterListsOnlyLaterKeysAndPagesOnFromThere) {
  PutAll({"runs/2024-01/a", "runs/2024-02/b", "runs/2024-02/c", "runs/2024-03/d", "runs/2024-10/e",
          "runs-old/x", "zzz"});
  ListOptions options;
  options.prefix = "runs/";
  // An existing key: it is not repeated.
  options.start_after = "runs/2024-02/b";
  EXPECT_EQ(ListAll(options).first,
            (std::vector<std::string>{"runs/2024-02/c", "runs/2024-03/d", "runs/2024-10/e"}));
  // A key that does not exist, between folders: listing starts at the next key.
  options.start_after = "runs/2024-02/bz";
  EXPECT_EQ(ListAll(options).first,
            (std::vector<std::string>{"runs/2024-02/c", "runs/2024-03/d", "runs/2024-10/e"}));
  // Page by page: the continuation token carries on after the first page.
  options.max_keys = 1;
  const auto [paged, pages] = ListAll(options);
  EXPECT_EQ(paged, (std::vector<std::string>{"runs/2024-02/c", "runs/2024-03/d", "runs/2024-10/e"}));
  EXPECT_EQ(pages, 3);
  options.max_keys = 1000;
  // Before the prefix: the whole prefix; past its last key: nothing.
  options.start_after = "a";
  EXPECT_EQ(ListAll(options).first.size(), 5U);
  options.start_after = "runs/2024-10/e";
  EXPECT_TRUE(ListAll(options).first.empty());
  // Without a prefix it applies to the whole store.
  ListOptions all;
  all.start_after = "runs/2024-03/d";
  EXPECT_EQ(ListAll(all).first, (std::vector<std::string>{"runs/2024-10/e", "zzz"}));
}

TEST_P(ObjectStoreConformance, ListRejectsMaxKeysOutside1To1000) {
  for (const int max_keys : {0, -1, 1001}) {
    ListOptions options;
    options.max_keys = max_keys;
    EXPECT_TRUE(HasCode(Store().List(options), ErrorCode::InvalidArgument)) << max_keys;
  }
  for (const int max_keys : {1, 1000}) {
    ListOptions options;
    options.max_keys = max_keys;
    EXPECT_TRUE(IsOk(Store().List(options))) << max_keys;
  }
}

TEST_P(ObjectStoreConformance, DelimiterRollsUpCommonPrefixes) {
  PutAll({"photos/2006/jan/sample.jpg", "photos/2006/feb/sample2.jpg",
          "photos/2006/feb/sample3.jpg", "photos/2007/x.jpg", "photos/index.html", "videos/a.mp4",
          "readme.txt"});
  const auto list = [&](std::string prefix, std::string delimiter) {
    ListOptions options;
    options.prefix = std::move(prefix);
    options.delimiter = std::move(delimiter);
    auto page = Store().List(options);
    EXPECT_TRUE(IsOk(page));
    return page.value_or(ListPage{});
  };
  auto page = list("", "/");
  ASSERT_EQ(page.objects.size(), 1U);
  EXPECT_EQ(page.objects[0].key, "readme.txt");
  EXPECT_EQ(page.objects[0].size_bytes, std::string("readme.txt").size());
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"photos/", "videos/"}));

  page = list("photos/", "/");
  ASSERT_EQ(page.objects.size(), 1U);
  EXPECT_EQ(page.objects[0].key, "photos/index.html");
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"photos/2006/", "photos/2007/"}));

  page = list("photos/2006/", "/");
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(page.common_prefixes,
            (std::vector<std::string>{"photos/2006/feb/", "photos/2006/jan/"}));

  // A prefix that ends inside a segment.
  page = list("photos/20", "/");
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"photos/2006/", "photos/2007/"}));

  // Any string is a delimiter, even one of several characters.
  page = list("photos/", "6/");
  ASSERT_EQ(page.objects.size(), 2U);
  EXPECT_EQ(page.objects[0].key, "photos/2007/x.jpg");
  EXPECT_EQ(page.objects[1].key, "photos/index.html");
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"photos/2006/"}));
}

TEST_P(ObjectStoreConformance, DelimiterOtherThanSlashRollsUpAcrossFolders) {
  PutAll({"x-1/a", "x-2/b", "x-3", "y", "z-9"});
  ListOptions options;
  options.delimiter = "-";
  const auto page = Store().List(options);
  ASSERT_TRUE(IsOk(page));
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"x-", "z-"}));
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].key, "y");
}

TEST_P(ObjectStoreConformance, CommonPrefixesCountTowardMaxKeysAndServeAsTokens) {
  PutAll(
      {"photos/2006/a", "photos/2006/b", "photos/2007/c", "readme.txt", "videos/d", "videos/e/f"});
  ListOptions options;
  options.delimiter = "/";
  options.max_keys = 1;
  std::vector<std::string> tokens;
  std::vector<std::string> entries;
  while (true) {
    const auto page = Store().List(options);
    ASSERT_TRUE(IsOk(page));
    const auto page_entries = Entries(*page);
    ASSERT_EQ(page_entries.size(), 1U);
    entries.push_back(page_entries[0]);
    ASSERT_LT(entries.size(), 100U) << "the listing does not end";
    if (!page->IsTruncated()) break;
    tokens.push_back(page->next_continuation_token);
    options.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(entries, (std::vector<std::string>{"photos/", "readme.txt", "videos/"}));
  if (!GetParam().opaque_continuation_tokens) {
    EXPECT_EQ(tokens, (std::vector<std::string>{"photos/", "readme.txt"}));
  }
}

TEST_P(ObjectStoreConformance, ListPagesWithContinuationTokenVisitEveryKeyOnce) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back(i % 10 == 0 ? fmt::format("top{:04}", i)
                               : fmt::format("d{}/{}/k{:04}", i % 3, i % 7, i));
  }
  PutAll(keys);
  std::sort(keys.begin(), keys.end());
  for (const int max_keys : {1000, 7}) {
    SCOPED_TRACE(max_keys);
    ListOptions options;
    options.max_keys = max_keys;
    const auto [entries, pages] = ListAll(options);
    EXPECT_EQ(entries, keys);  // every key, once, in order
    EXPECT_EQ(pages, (2500 + max_keys - 1) / max_keys);
  }
}

TEST_P(ObjectStoreConformance, PagedListingsMatchAReferenceModel) {
  std::vector<std::string> keys = {"a-c",     "a/b",   "a/b/c/d", "a/b/e",     "a/bb",    "a0",
                                   "A",       "é",     "é/x",     "m/n/o/p/q", "m/n/r",   "m/s",
                                   "m-t/u",   "m.v",   "z",       "z/z/z",     "zz",      "log-1/x",
                                   "log-2/y", "log-3", "logs/a",  "q/r-s/t",   "q/r-s-u", "q/r/s"};
  if (Capabilities().key_and_folder_may_share_name) {
    keys.insert(keys.end(), {"a", "a/b/c", "m/n"});
  } else {
    // Keep only keys that do not need a file and a folder of the same name.
    keys.erase(std::remove_if(
                   keys.begin(), keys.end(),
                   [](const std::string& key) { return key == "a/b" || key == "é" || key == "z"; }),
               keys.end());
  }
  PutAll(keys);
  for (const std::string prefix :
       {"", "a", "a/", "a/b", "m/", "m/n/", "q/r", "é", "log", "zz", "nothing"}) {
    for (const std::string delimiter : {"", "/", "-", "/b", "r-"}) {
      for (const int max_keys : {1, 2, 3, 1000}) {
        SCOPED_TRACE(::testing::Message() << "prefix '" << prefix << "' delimiter '" << delimiter
                                          << "' max_keys " << max_keys);
        ListOptions options;
        options.prefix = prefix;
        options.delimiter = delimiter;
        options.max_keys = max_keys;
        EXPECT_EQ(ListAll(options).first, ExpectedEntries(keys, prefix, delimiter));
      }
    }
  }
}

}  // namespace
}  // namespace sluice
