// What the s3:// store does on a real S3 server (the Ceph RGW of the ceph_rgw fixture) beyond the
// conformance suite: multipart ETags, ranged GETs of single-part and multipart objects, listings
// of several 1,000-key pages, UploadPartCopy, aborted uploads, and the errors for bad credentials
// and missing buckets. Each test uses a bucket of its own.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "s3_test_env.hpp"
#include "sluice/core/hash.hpp"
#include "sluice/store/object_store.hpp"
#include "sluice/store/s3/s3_protocol.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice::it {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

/// A store on `bucket` (below `root_prefix`) with small parts, so multipart uploads stay cheap.
std::unique_ptr<S3Store> SmallPartStore(const ScopedBucket& bucket,
                                        const std::string& root_prefix = "") {
  auto config = StoreConfigFor(*LoadS3Env(), bucket.Name(), root_prefix);
  config.multipart_threshold_bytes = 5 * kMiB;
  config.part_size_bytes = 5 * kMiB;
  config.parallelism = 4;
  auto store = OpenS3Store(std::move(config));
  EXPECT_TRUE(Succeeded(store));
  return store ? std::move(*store) : nullptr;
}

/// Writes `bytes` through a writer in `write_bytes` pieces; returns what Close() returns.
Result<ObjectInfo> WriteInPieces(ObjectStore& store, const std::string& key,
                                 std::string_view bytes, std::size_t write_bytes) {
  SLUICE_ASSIGN_OR_RETURN(auto writer, store.OpenWriter(key));
  for (std::size_t at = 0; at < bytes.size(); at += write_bytes) {
    SLUICE_RETURN_IF_ERROR(writer->Write(bytes.substr(at, write_bytes)));
  }
  return writer->Close();
}

/// Puts every key (content = the key) from 16 threads.
void PutKeys(ObjectStore& store, const std::vector<std::string>& keys) {
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (auto i = next.fetch_add(1); i < keys.size(); i = next.fetch_add(1)) {
        if (auto put = store.Put(keys[i], keys[i]); !put) {
          if (failures.fetch_add(1) == 0) ADD_FAILURE() << put.error().ToString();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
}

/// Every page of a listing.
std::vector<ListPage> ListPages(ObjectStore& store, ListOptions options) {
  std::vector<ListPage> pages;
  while (true) {
    auto page = store.List(options);
    EXPECT_TRUE(Succeeded(page));
    if (!page) break;
    pages.push_back(*page);
    if (!page->IsTruncated() || pages.size() > 100) break;
    options.continuation_token = page->next_continuation_token;
  }
  return pages;
}

TEST(S3StoreOnRgw, MultipartEtagIsMd5OfThePartMd5sDashThePartCount) {
  ScopedBucket bucket("mpetag");
  ASSERT_TRUE(bucket.Ok());
  auto store = SmallPartStore(bucket);
  ASSERT_NE(store, nullptr);
  const std::regex multipart_etag("[0-9a-f]{32}-[0-9]+");
  // 20 MiB in 5 MiB parts is 4 parts; one byte more makes a fifth part of one byte.
  for (const auto& [size, parts] : {std::pair<std::size_t, int>{20 * kMiB, 4},
                                    std::pair<std::size_t, int>{20 * kMiB + 1, 5}}) {
    SCOPED_TRACE(size);
    const std::string key = fmt::format("multipart/{}.bin", size);
    const std::string bytes = PseudoRandomBytes(size, size);
    const std::string expected = ExpectedMultipartEtag(bytes, 5 * kMiB);
    ASSERT_TRUE(expected.ends_with(fmt::format("-{}", parts))) << expected;

    const auto closed = WriteInPieces(*store, key, bytes, kMiB + 7);
    ASSERT_TRUE(Succeeded(closed));
    EXPECT_TRUE(std::regex_match(closed->etag, multipart_etag)) << closed->etag;
    EXPECT_EQ(closed->etag, expected);
    EXPECT_EQ(closed->size_bytes, size);

    const auto head = store->Head(key);
    ASSERT_TRUE(Succeeded(head));
    EXPECT_EQ(head->etag, expected);
    EXPECT_EQ(head->size_bytes, size);

    ListOptions options;
    options.prefix = key;
    const auto page = store->List(options);
    ASSERT_TRUE(Succeeded(page));
    ASSERT_EQ(page->objects.size(), 1U);
    EXPECT_EQ(page->objects[0].etag, expected);
    EXPECT_EQ(page->objects[0].size_bytes, size);

    std::string back;
    const auto got = store->GetTo(key, [&](std::string_view chunk) {
      back.append(chunk);
      return Ok();
    });
    ASSERT_TRUE(Succeeded(got));
    EXPECT_EQ(got->etag, expected);
    EXPECT_TRUE(back == bytes) << "content differs: " << back.size() << " bytes back";
  }
  // Up to the threshold it is one PutObject, whose ETag is the plain MD5.
  const std::string at_threshold = PseudoRandomBytes(5 * kMiB, 5);
  const auto single = WriteInPieces(*store, "single.bin", at_threshold, kMiB);
  ASSERT_TRUE(Succeeded(single));
  EXPECT_EQ(single->etag, Md5Hex(at_threshold));
  EXPECT_EQ(store->Head("single.bin").value_or(ObjectInfo{}).etag, Md5Hex(at_threshold));
}

TEST(S3StoreOnRgw, RangedGetsReturnExactlyTheRequestedBytes) {
  ScopedBucket bucket("range");
  ASSERT_TRUE(bucket.Ok());
  auto store = SmallPartStore(bucket);
  ASSERT_NE(store, nullptr);
  const std::string small = PseudoRandomBytes(kMiB + 3, 11);
  ASSERT_TRUE(Succeeded(store->Put("small.bin", small)));
  const std::string large = PseudoRandomBytes(11 * kMiB + 5, 12);  // 3 parts: 5, 5, 1 MiB + 5
  const auto large_put = WriteInPieces(*store, "large.bin", large, 3 * kMiB);
  ASSERT_TRUE(Succeeded(large_put));
  ASSERT_TRUE(large_put->etag.ends_with("-3")) << large_put->etag;

  struct Case {
    std::uint64_t first;
    std::optional<std::uint64_t> last;
  };
  for (const auto& [key, bytes] : {std::pair<std::string, const std::string*>{"small.bin", &small},
                                   std::pair<std::string, const std::string*>{"large.bin", &large}}) {
    const std::uint64_t size = bytes->size();
    const std::vector<Case> cases = {
        {0, 0},
        {0, 99},
        {size - 1, size - 1},
        {size - 1, std::nullopt},
        {12345, 654321},
        {size - 10, std::nullopt},
        {1000, size + 1000},  // clamped to the end, as S3 does
        {5 * kMiB - 5, 5 * kMiB + 5},  // across a part boundary of large.bin
        {0, std::nullopt},
    };
    for (const auto& c : cases) {
      if (c.first >= size) continue;
      SCOPED_TRACE(fmt::format("{} bytes={}-{}", key, c.first, c.last ? std::to_string(*c.last) : ""));
      const std::uint64_t end = std::min<std::uint64_t>(c.last ? *c.last + 1 : size, size);
      std::string got;
      std::uint64_t chunks = 0;
      const auto info = store->GetTo(
          key,
          [&](std::string_view chunk) {
            got.append(chunk);
            ++chunks;
            return Ok();
          },
          ByteRange{c.first, c.last});
      ASSERT_TRUE(Succeeded(info));
      EXPECT_EQ(info->size_bytes, size);  // the whole object's metadata, not the range's
      EXPECT_EQ(info->etag, key == "small.bin" ? Md5Hex(small) : large_put->etag);
      ASSERT_EQ(got.size(), end - c.first);
      EXPECT_TRUE(got == bytes->substr(c.first, end - c.first)) << "bytes differ";
    }
    EXPECT_TRUE(FailedWith(store->Get(key, ByteRange{size, std::nullopt}),
                           ErrorCode::InvalidArgument));
    EXPECT_TRUE(FailedWith(store->Get(key, ByteRange{size + 5, size + 10}),
                           ErrorCode::InvalidArgument));
    EXPECT_TRUE(FailedWith(store->Get(key, ByteRange{10, 9}), ErrorCode::InvalidArgument));
  }
}

TEST(S3StoreOnRgw, ListingFollowsContinuationTokensAcrossThousandKeyPages) {
  ScopedBucket bucket("list");
  ASSERT_TRUE(bucket.Ok());
  auto store = SmallPartStore(bucket);
  ASSERT_NE(store, nullptr);
  // 2,500 keys: 1,200 files directly below data/, 5 folders of 200 below data/, 300 elsewhere.
  std::vector<std::string> keys;
  for (int i = 0; i < 1200; ++i) keys.push_back(fmt::format("data/f{:04}", i));
  for (int i = 0; i < 1000; ++i) keys.push_back(fmt::format("data/dir{}/k{:03}", i % 5, i / 5));
  for (int i = 0; i < 300; ++i) keys.push_back(fmt::format("other/k{:03}", i));
  PutKeys(*store, keys);
  std::sort(keys.begin(), keys.end());

  {
    SCOPED_TRACE("everything, 1,000 per page");
    const auto pages = ListPages(*store, {});
    ASSERT_EQ(pages.size(), 3U);
    EXPECT_EQ(pages[0].objects.size(), 1000U);
    EXPECT_EQ(pages[1].objects.size(), 1000U);
    EXPECT_EQ(pages[2].objects.size(), 500U);
    std::vector<std::string> listed;
    for (const auto& page : pages) {
      EXPECT_TRUE(page.common_prefixes.empty());
      for (const auto& object : page.objects) {
        listed.push_back(object.key);
        EXPECT_EQ(object.size_bytes, object.key.size());
        EXPECT_EQ(object.etag, Md5Hex(object.key)) << object.key;
      }
    }
    EXPECT_EQ(listed, keys);  // every key once, in byte order, across the page boundaries
  }
  {
    SCOPED_TRACE("prefix data/, delimiter /");
    ListOptions options;
    options.prefix = "data/";
    options.delimiter = "/";
    const auto pages = ListPages(*store, options);
    ASSERT_EQ(pages.size(), 2U);
    std::vector<std::string> objects;
    std::vector<std::string> prefixes;
    for (const auto& page : pages) {
      EXPECT_LE(page.objects.size() + page.common_prefixes.size(), 1000U);
      for (const auto& object : page.objects) objects.push_back(object.key);
      prefixes.insert(prefixes.end(), page.common_prefixes.begin(), page.common_prefixes.end());
    }
    EXPECT_EQ(objects.size() + prefixes.size(), 1205U);
    std::vector<std::string> expected_objects(keys.begin(), keys.end());
    std::erase_if(expected_objects, [](const std::string& key) { return !key.starts_with("data/f"); });
    EXPECT_EQ(objects, expected_objects);
    EXPECT_EQ(prefixes, (std::vector<std::string>{"data/dir0/", "data/dir1/", "data/dir2/",
                                                  "data/dir3/", "data/dir4/"}));
  }
  {
    SCOPED_TRACE("delimiter / only");
    ListOptions options;
    options.delimiter = "/";
    const auto pages = ListPages(*store, options);
    ASSERT_EQ(pages.size(), 1U);
    EXPECT_TRUE(pages[0].objects.empty());
    EXPECT_EQ(pages[0].common_prefixes, (std::vector<std::string>{"data/", "other/"}));
  }
  {
    SCOPED_TRACE("prefix data/dir3/");
    ListOptions options;
    options.prefix = "data/dir3/";
    const auto pages = ListPages(*store, options);
    ASSERT_EQ(pages.size(), 1U);
    EXPECT_EQ(pages[0].objects.size(), 200U);
  }
  {
    SCOPED_TRACE("a store rooted at data/, delimiter /, 333 per page");
    auto rooted = SmallPartStore(bucket, "data");
    ASSERT_NE(rooted, nullptr);
    ListOptions options;
    options.delimiter = "/";
    options.max_keys = 333;
    const auto pages = ListPages(*rooted, options);
    ASSERT_EQ(pages.size(), 4U);  // 1,205 entries
    std::vector<std::string> entries;
    for (const auto& page : pages) {
      for (const auto& object : page.objects) entries.push_back(object.key);
      entries.insert(entries.end(), page.common_prefixes.begin(), page.common_prefixes.end());
    }
    std::vector<std::string> expected = {"dir0/", "dir1/", "dir2/", "dir3/", "dir4/"};
    for (int i = 0; i < 1200; ++i) expected.push_back(fmt::format("f{:04}", i));
    std::vector<std::string> sorted = entries;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, expected);  // keys relative to the root, each once
    // Pages follow each other in byte order.
    for (std::size_t i = 1; i < pages.size(); ++i) {
      std::vector<std::string> before(pages[i - 1].common_prefixes);
      for (const auto& object : pages[i - 1].objects) before.push_back(object.key);
      std::vector<std::string> after(pages[i].common_prefixes);
      for (const auto& object : pages[i].objects) after.push_back(object.key);
      ASSERT_FALSE(before.empty() || after.empty());
      EXPECT_LT(*std::max_element(before.begin(), before.end()),
                *std::min_element(after.begin(), after.end()));
    }
  }
}

/// What `keys` list as under prefix and delimiter, without paging (ListObjectsV2 semantics).
std::vector<std::string> ExpectedEntries(const std::vector<std::string>& keys,
                                         const std::string& prefix, const std::string& delimiter) {
  std::set<std::string> entries;
  for (const auto& key : keys) {
    if (!key.starts_with(prefix)) continue;
    const auto pos = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
    entries.insert(pos == std::string::npos ? key : key.substr(0, pos + delimiter.size()));
  }
  return {entries.begin(), entries.end()};
}

/// True when the delimiter could begin inside the (full) prefix and end after it, e.g. prefix
/// "a/" with delimiter "/b". Ceph RGW 16.2.15 mishandles paging there: a continuation token (or
/// start-after) that ends with the delimiter is taken for a common prefix and every key starting
/// with it is skipped, although the delimiter begins inside the prefix so the token is a key.
/// Keys a/b, a/b/c, a/bb; prefix a/, delimiter /b, max-keys 1: page 1 is a/b (truncated, token
/// a/b), page 2 is empty and not truncated instead of a/b/c. AWS S3 has no such gap.
bool DelimiterMayStraddlePrefix(const std::string& full_prefix, const std::string& delimiter) {
  for (std::size_t k = 1; k < delimiter.size(); ++k) {
    if (full_prefix.ends_with(delimiter.substr(0, k))) return true;
  }
  return false;
}

// The conformance suite's reference-model test (PagedListingsMatchAReferenceModel), run here on
// a store below a root prefix with decoys beside it, minus the paged listings RGW gets wrong (see
// DelimiterMayStraddlePrefix); CMake leaves the suite's own copy out of the s3 run.
TEST(S3StoreOnRgw, PagedListingsMatchAReferenceModelWhereRgwFollowsS3) {
  ScopedBucket bucket("model");
  ASSERT_TRUE(bucket.Ok());
  const std::string root = "root/dir/";
  auto whole_bucket = SmallPartStore(bucket);
  ASSERT_NE(whole_bucket, nullptr);
  PutKeys(*whole_bucket, {"root/di", "root/dir-sibling", "root/dirt/x", "outside", "root/dir.txt"});
  auto store = SmallPartStore(bucket, "root/dir");
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> keys = {
      "a-c", "a/b",   "a/b/c/d", "a/b/e",   "a/bb",  "a0",     "A",      "é",   "é/x",
      "m/n/o/p/q", "m/n/r", "m/s",   "m-t/u",   "m.v",   "z",      "z/z/z",  "zz",  "log-1/x",
      "log-2/y",   "log-3", "logs/a", "q/r-s/t", "q/r-s-u", "q/r/s", "a",      "a/b/c", "m/n"};
  PutKeys(*store, keys);
  int skipped = 0;
  for (const std::string prefix :
       {"", "a", "a/", "a/b", "m/", "m/n/", "q/r", "é", "log", "zz", "nothing"}) {
    for (const std::string delimiter : {"", "/", "-", "/b", "r-"}) {
      for (const int max_keys : {1, 2, 3, 1000}) {
        if (max_keys < 1000 && DelimiterMayStraddlePrefix(root + prefix, delimiter)) {
          ++skipped;
          continue;
        }
        SCOPED_TRACE(::testing::Message() << "prefix '" << prefix << "' delimiter '" << delimiter
                                          << "' max_keys " << max_keys);
        ListOptions options;
        options.prefix = prefix;
        options.delimiter = delimiter;
        options.max_keys = max_keys;
        std::vector<std::string> entries;
        for (const auto& page : ListPages(*store, options)) {
          EXPECT_LE(page.objects.size() + page.common_prefixes.size(),
                    static_cast<std::size_t>(max_keys));
          if (page.IsTruncated()) {
            EXPECT_EQ(page.objects.size() + page.common_prefixes.size(),
                      static_cast<std::size_t>(max_keys));
          }
          std::vector<std::string> page_entries(page.common_prefixes);
          for (const auto& object : page.objects) page_entries.push_back(object.key);
          std::sort(page_entries.begin(), page_entries.end());
          entries.insert(entries.end(), page_entries.begin(), page_entries.end());
        }
        EXPECT_EQ(entries, ExpectedEntries(keys, prefix, delimiter));
      }
    }
  }
  // Paged runs of "/b" below "root/dir/" + "", "a/", "m/", "m/n/", and of "r-" below "q/r".
  EXPECT_EQ(skipped, 15);
}

TEST(S3StoreOnRgw, LargeCopyGoesPartByPartAndKeepsEveryByte) {
  ScopedBucket bucket("copy");
  ASSERT_TRUE(bucket.Ok());
  auto config = StoreConfigFor(*LoadS3Env(), bucket.Name());
  config.multipart_threshold_bytes = 5 * kMiB;
  config.part_size_bytes = 5 * kMiB;
  config.copy_multipart_threshold_bytes = 6 * kMiB;
  config.copy_part_size_bytes = 5 * kMiB;
  auto store = OpenS3Store(std::move(config));
  ASSERT_TRUE(Succeeded(store));
  const std::string bytes = PseudoRandomBytes(12 * kMiB + 1, 21);
  ASSERT_TRUE(Succeeded(WriteInPieces(**store, "source.bin", bytes, 2 * kMiB)));
  const auto copied = (*store)->Copy("source.bin", "copy/of/source.bin");
  ASSERT_TRUE(Succeeded(copied));
  // UploadPartCopy of 5, 5 and 2 MiB + 1 byte: the same parts as the upload, so the same ETag.
  EXPECT_EQ(copied->etag, ExpectedMultipartEtag(bytes, 5 * kMiB));
  EXPECT_EQ(copied->size_bytes, bytes.size());
  EXPECT_TRUE((*store)->Get("copy/of/source.bin").value_or("<error>") == bytes) << "copy differs";
  EXPECT_TRUE(FailedWith((*store)->Copy("missing.bin", "copy/of/missing.bin"), ErrorCode::NotFound));
}

TEST(S3StoreOnRgw, WriterDroppedMidMultipartLeavesNoUploadBehind) {
  ScopedBucket bucket("abort");
  ASSERT_TRUE(bucket.Ok());
  auto store = SmallPartStore(bucket);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Succeeded(store->Put("kept.bin", "old")));
  {
    auto writer = store->OpenWriter("kept.bin");
    ASSERT_TRUE(Succeeded(writer));
    const std::string bytes = PseudoRandomBytes(16 * kMiB, 3);  // three parts go up
    ASSERT_TRUE(Succeeded((*writer)->Write(bytes)));
    const auto uploads = store->ListMultipartUploads("");
    ASSERT_TRUE(Succeeded(uploads));
    EXPECT_EQ(uploads->size(), 1U);
  }
  const auto uploads = store->ListMultipartUploads("");
  ASSERT_TRUE(Succeeded(uploads));
  EXPECT_TRUE(uploads->empty()) << uploads->size() << " uploads left";
  EXPECT_EQ(store->Get("kept.bin").value_or("<error>"), "old");
}

/// Runs `body` with stdout and stderr captured; returns what they received.
template <class Body>
std::string CapturingOutput(Body&& body) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  body();
  std::string out = ::testing::internal::GetCapturedStdout();
  out += ::testing::internal::GetCapturedStderr();
  return out;
}

TEST(S3StoreOnRgw, WrongCredentialsArePermissionDeniedWithTheServersWordsAndNoSecret) {
  ScopedBucket bucket("creds");
  ASSERT_TRUE(bucket.Ok());
  const auto& env = *LoadS3Env();
  auto good = OpenS3Store(StoreConfigFor(env, bucket.Name()));
  ASSERT_TRUE(Succeeded(good));
  ASSERT_TRUE(Succeeded((*good)->Put("object", "content")));

  const std::string wrong_secret = "NotTheSecretButLongEnoughToBeSpotted0123";
  struct Identity {
    std::string name;
    aws::Credentials credentials;
    std::string server_code;  ///< the S3 error code RGW answers with
  };
  const std::vector<Identity> identities = {
      {"wrong secret", {env.access_key_id, wrong_secret, "", std::nullopt}, "SignatureDoesNotMatch"},
      {"unknown key id", {"SLUICEUNKNOWNKEY0001", wrong_secret, "", std::nullopt},
       "InvalidAccessKeyId"},
  };
  for (const auto& identity : identities) {
    SCOPED_TRACE(identity.name);
    auto config = StoreConfigFor(env, bucket.Name());
    config.client.credentials = [credentials = identity.credentials]() -> Result<aws::Credentials> {
      return credentials;
    };
    auto store = OpenS3Store(std::move(config));
    ASSERT_TRUE(Succeeded(store));
    std::vector<std::pair<std::string, Error>> errors;
    const auto record = [&](std::string operation, const auto& result) {
      EXPECT_TRUE(FailedWith(result, ErrorCode::PermissionDenied)) << operation;
      if (!result) errors.emplace_back(std::move(operation), result.error());
    };
    const std::string output = CapturingOutput([&] {
      record("head", (*store)->Head("object"));
      record("get", (*store)->Get("object"));
      record("get range", (*store)->Get("object", ByteRange{1, 3}));
      record("put", (*store)->Put("new", "bytes"));
      record("put multipart", (*store)->Put("big", PseudoRandomBytes(9 * kMiB, 1)));
      record("list", (*store)->List({}));
      record("delete", (*store)->Delete("object"));
      record("copy", (*store)->Copy("object", "copy"));
    });
    for (const auto& [operation, error] : errors) {
      const std::string text = error.ToString();
      SCOPED_TRACE(operation);
      EXPECT_EQ(text.find(wrong_secret), std::string::npos) << "the secret leaks";
      EXPECT_EQ(text.find(env.secret_access_key), std::string::npos) << "the real secret leaks";
      EXPECT_NE(text.find("403"), std::string::npos) << text;
      EXPECT_NE(text.find(bucket.Name()), std::string::npos) << text;
      // HEAD answers have no body, so only the other requests carry the server's error code
      // (a copy starts with a HEAD of its source).
      if (operation != "head" && operation != "copy") {
        EXPECT_NE(text.find(identity.server_code), std::string::npos) << text;
      }
    }
    EXPECT_EQ(output.find(wrong_secret), std::string::npos) << "the secret reached the output";
    EXPECT_EQ(output.find(env.secret_access_key), std::string::npos)
        << "the real secret reached the output";
    if (errors.size() > 1) std::cout << "  e.g. " << errors[1].second.ToString() << "\n";
  }
  // Nothing was changed by the rejected requests.
  EXPECT_EQ((*good)->Get("object").value_or("<error>"), "content");
  EXPECT_TRUE(FailedWith((*good)->Head("new"), ErrorCode::NotFound));
  const auto uploads = (*good)->ListMultipartUploads("");
  ASSERT_TRUE(Succeeded(uploads));
  EXPECT_TRUE(uploads->empty());
}

TEST(S3StoreOnRgw, MissingBucketIsNotFoundNamingTheBucket) {
  const auto& env = LoadS3Env();
  ASSERT_TRUE(Succeeded(env));
  const std::string missing = UniqueBucketName("missing");
  auto opened = MakeObjectStore("s3://" + missing, StoreOptionsFor(*env));
  ASSERT_TRUE(Succeeded(opened));  // no request is sent yet
  auto& store = **opened;
  const auto check = [&](std::string_view operation, const auto& result, bool server_code) {
    SCOPED_TRACE(operation);
    EXPECT_TRUE(FailedWith(result, ErrorCode::NotFound));
    if (result) return;
    const std::string text = result.error().ToString();
    EXPECT_NE(text.find(missing), std::string::npos) << text;
    if (server_code) {
      EXPECT_NE(text.find("NoSuchBucket"), std::string::npos) << text;
    }
    EXPECT_EQ(text.find(env->secret_access_key), std::string::npos) << "the secret leaks";
  };
  check("head", store.Head("key"), false);  // a HEAD answer has no body to name the code
  check("get", store.Get("key"), true);
  check("list", store.List({}), true);
  check("put", store.Put("key", "bytes"), true);
  check("put multipart", store.Put("big", PseudoRandomBytes(9 * kMiB, 2)), true);
  check("copy", store.Copy("key", "other"), false);
  check("delete", store.Delete("key"), true);
  std::cout << "  e.g. " << store.Get("key").error().ToString() << "\n";
}

}  // namespace
}  // namespace sluice::it
