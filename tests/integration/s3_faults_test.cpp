// The s3:// store through a network that misbehaves: FaultProxy (fault_proxy.hpp) sits between
// the store and the Ceph RGW of the ceph_rgw fixture and answers 503 SlowDown, resets connections
// and stalls answers at random. An upload and a download of 1,000 objects through it must both
// finish with every byte and every ETag right.
//
// The store gets a 2 s stall timeout (StoreOptions has none; the default is 30 s), so that the
// proxy's long stalls (3 s) make it give up on a connection and retry within the test's budget,
// while its short stalls (up to 0.4 s) must simply be waited out.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "fault_proxy.hpp"
#include "s3_test_env.hpp"
#include "sluice/core/hash.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice::it {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;
constexpr int kObjects = 1000;
constexpr int kClientThreads = 16;
constexpr std::size_t kPartSizeBytes = 5 * kMiB;

/// One object of the test: its key, size and content seed.
struct Spec {
  std::string key;
  std::size_t size_bytes = 0;
  std::uint64_t seed = 0;

  [[nodiscard]] std::string Bytes() const { return PseudoRandomBytes(size_bytes, seed); }
  [[nodiscard]] std::string Etag() const {
    const std::string bytes = Bytes();
    return size_bytes > kPartSizeBytes ? ExpectedMultipartEtag(bytes, kPartSizeBytes)
                                       : Md5Hex(bytes);
  }
};

/// 1,000 objects: mostly up to 64 KiB, every 100th empty, and four of 5-6 MiB that go up as
/// two-part multipart uploads.
std::vector<Spec> Specs() {
  std::mt19937_64 rng(7);
  std::vector<Spec> specs;
  for (int i = 0; i < kObjects; ++i) {
    Spec spec;
    spec.key = fmt::format("objects/{}/{:04}.bin", i % 10, i);
    spec.seed = 1000U + static_cast<std::uint64_t>(i);
    if (i % 250 == 125) {
      spec.size_bytes = kPartSizeBytes + 1 + rng() % kMiB;
    } else if (i % 100 == 0) {
      spec.size_bytes = 0;
    } else {
      spec.size_bytes = 1 + rng() % (64 * 1024);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

/// Runs `work(i)` for i in 0..count-1 on kClientThreads threads; returns the failures' messages
/// (the first few) and their number.
template <class Work>
std::pair<int, std::string> RunParallel(int count, Work work) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::mutex mutex;
  std::string messages;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClientThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
        std::string failure = work(i);
        if (failure.empty()) continue;
        if (failures.fetch_add(1) < 5) {
          std::lock_guard lock(mutex);
          messages += "\n  " + failure;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return {failures.load(), messages};
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(S3StoreThroughFaultyNetwork, ThousandObjectsGoUpAndComeBackWithEveryByteRight) {
  ScopedBucket bucket("faults");
  ASSERT_TRUE(bucket.Ok());
  const auto& env = *LoadS3Env();
  const int rgw_port = std::stoi(env.endpoint.substr(env.endpoint.rfind(':') + 1));
  FaultPlan plan;
  plan.long_stall = 0.008;  // about ten in each direction, so each direction surely gets some
  // Another mix of faults: SLUICE_FAULT_SEED=<number> (the default mix is fixed).
  if (const char* seed = std::getenv("SLUICE_FAULT_SEED"); seed != nullptr && *seed != '\0') {
    plan.seed = std::stoull(seed);
  }
  std::cout << "  fault seed " << plan.seed << "\n";
  auto proxy = FaultProxy::Start(rgw_port, plan);
  ASSERT_TRUE(Succeeded(proxy));

  auto config = StoreConfigFor(env, bucket.Name());
  config.client.endpoint = (*proxy)->Endpoint();
  config.client.http.connect_timeout = std::chrono::seconds(2);
  config.client.http.stall_timeout = std::chrono::seconds(2);
  config.multipart_threshold_bytes = kPartSizeBytes;
  config.part_size_bytes = kPartSizeBytes;
  config.parallelism = 2;
  auto opened = OpenS3Store(std::move(config));
  ASSERT_TRUE(Succeeded(opened));
  S3Store& store = **opened;
  const std::vector<Spec> specs = Specs();

  // ---- upload
  const auto upload_start = std::chrono::steady_clock::now();
  // Which uploads succeeded: the listing and the download check those, so one failure does not
  // hide how the rest fare.
  std::vector<std::atomic<bool>> uploaded(specs.size());
  const auto [upload_failures, upload_messages] = RunParallel(kObjects, [&](int i) -> std::string {
    const Spec& spec = specs[static_cast<std::size_t>(i)];
    const auto put = store.Put(spec.key, spec.Bytes());
    if (!put) return fmt::format("[{}] {}", ToString(put.error().code), put.error().ToString());
    uploaded[static_cast<std::size_t>(i)] = true;
    if (put->etag != spec.Etag() || put->size_bytes != spec.size_bytes) {
      return fmt::format("{}: put reports ETag {} and {} bytes, expected {} and {}", spec.key,
                         put->etag, put->size_bytes, spec.Etag(), spec.size_bytes);
    }
    return "";
  });
  const double upload_seconds = SecondsSince(upload_start);
  EXPECT_EQ(upload_failures, 0) << upload_messages;
  const FaultCounts after_upload = (*proxy)->Counts();

  // ---- list, 250 per page, through the same faults
  std::vector<ObjectInfo> listed;
  ListOptions options;
  options.max_keys = 250;
  for (int page_count = 0; page_count < 20; ++page_count) {
    auto page = store.List(options);
    ASSERT_TRUE(Succeeded(page));
    listed.insert(listed.end(), page->objects.begin(), page->objects.end());
    if (!page->IsTruncated()) break;
    options.continuation_token = page->next_continuation_token;
  }
  std::size_t uploaded_count = 0;
  for (const auto& done : uploaded) uploaded_count += done ? 1 : 0;
  // A Put that failed after the server stored the object (a lost answer) may still be listed.
  EXPECT_GE(listed.size(), uploaded_count);
  EXPECT_LE(listed.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto found = std::find_if(listed.begin(), listed.end(),
                                    [&](const ObjectInfo& info) { return info.key == specs[i].key; });
    if (!uploaded[i]) continue;  // a failed Put may or may not have landed
    EXPECT_NE(found, listed.end()) << specs[i].key << " is not listed";
    if (found == listed.end()) continue;
    EXPECT_EQ(found->size_bytes, specs[i].size_bytes) << specs[i].key;
    EXPECT_EQ(found->etag, specs[i].Etag()) << specs[i].key;
  }

  // ---- download: whole objects, plus a range of every 7th
  const auto download_start = std::chrono::steady_clock::now();
  const auto [download_failures, download_messages] =
      RunParallel(kObjects, [&](int i) -> std::string {
        const Spec& spec = specs[static_cast<std::size_t>(i)];
        if (!uploaded[static_cast<std::size_t>(i)]) return "";
        const std::string bytes = spec.Bytes();
        std::string back;
        const auto got = store.GetTo(spec.key, [&](std::string_view chunk) {
          back.append(chunk);
          return Ok();
        });
        if (!got) return fmt::format("[{}] {}", ToString(got.error().code), got.error().ToString());
        if (back != bytes) {
          return fmt::format("{}: {} bytes back, {} expected, content {}", spec.key, back.size(),
                             bytes.size(), back.size() == bytes.size() ? "differs" : "cut");
        }
        if (got->etag != spec.Etag()) {
          return fmt::format("{}: get reports ETag {}, expected {}", spec.key, got->etag,
                             spec.Etag());
        }
        if (i % 7 == 0 && bytes.size() > 2) {
          const std::uint64_t first = bytes.size() / 3;
          const std::uint64_t last = bytes.size() - 2;
          const auto slice = store.Get(spec.key, ByteRange{first, last});
          if (!slice) {
            return fmt::format("[{}] range: {}", ToString(slice.error().code),
                               slice.error().ToString());
          }
          if (*slice != bytes.substr(first, last - first + 1)) {
            return fmt::format("{}: range {}-{} differs", spec.key, first, last);
          }
        }
        return "";
      });
  const double download_seconds = SecondsSince(download_start);
  EXPECT_EQ(download_failures, 0) << download_messages;

  (*proxy)->Stop();
  const FaultCounts counts = (*proxy)->Counts();
  std::cout << fmt::format("  upload {:.1f} s ({}), download {:.1f} s\n  proxy: {}\n",
                           upload_seconds, after_upload.ToString(), download_seconds,
                           counts.ToString());

  // The faults really happened, each kind in both directions.
  for (const auto& [name, during_upload, total] :
       {std::tuple<std::string, std::uint64_t, std::uint64_t>{
            "slow_down", after_upload.slow_down, counts.slow_down},
        {"reset_reading_request", after_upload.reset_reading_request,
         counts.reset_reading_request},
        {"reset_before_response", after_upload.reset_before_response,
         counts.reset_before_response},
        {"reset_mid_response", after_upload.reset_mid_response, counts.reset_mid_response},
        {"stall", after_upload.stall, counts.stall},
        {"long_stall", after_upload.long_stall, counts.long_stall}}) {
    EXPECT_GT(during_upload, 0U) << name << " never happened during the upload";
    EXPECT_GT(total - during_upload, 0U) << name << " never happened during the download";
  }
  EXPECT_GE(counts.requests, 2U * kObjects);

  // Retried CreateMultipartUploads whose answers were lost leave uploads behind; say how many.
  auto direct = OpenS3Store(StoreConfigFor(env, bucket.Name()));
  ASSERT_TRUE(Succeeded(direct));
  const auto uploads = (*direct)->ListMultipartUploads("");
  ASSERT_TRUE(Succeeded(uploads));
  std::cout << fmt::format("  multipart uploads left in progress: {}\n", uploads->size());
}

}  // namespace
}  // namespace sluice::it
