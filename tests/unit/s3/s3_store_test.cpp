// S3Store against an in-process fake bucket on 127.0.0.1 (fake_s3.hpp): request shapes,
// retries, errors, integrity checks, multipart uploads and copies. Real-server behaviour (Ceph
// RGW) is covered by the integration tests.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fake_s3.hpp"
#include "loopback_server.hpp"
#include "sluice/core/hash.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice {
namespace {

using s3::kMiB;
using std::chrono::milliseconds;
using testing::CannedResponse;
using testing::FakeS3;
using testing::LoopbackServer;
using testing::RecordedRequest;

constexpr std::string_view kSecret = "SECRETsecretSECRETsecretSECRETsecret0123";
constexpr std::string_view kSessionToken = "TOKENtokenTOKENtokenTOKENtoken";

std::string PseudoRandomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 engine(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(engine() & 0xffU);
  return bytes;
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
  return ::testing::AssertionFailure() << "got " << ToString(result.error().code) << " ("
                                       << result.error().ToString() << "); expected "
                                       << ToString(code);
}

/// How many reads run at once, over any number of TestReaders.
struct ReadConcurrency {
  std::atomic<int> active{0};
  std::atomic<int> max_active{0};
};

/// An ObjectReader over bytes in memory that can fail at an offset, slow its reads down and
/// count how many reads run at once.
class TestReader final : public ObjectReader {
 public:
  explicit TestReader(std::string bytes, ReadConcurrency* concurrency = nullptr)
      : bytes_(std::move(bytes)), concurrency_(concurrency != nullptr ? concurrency : &own_) {
    info_ = ObjectInfo{"source", bytes_.size(), "", std::chrono::system_clock::now()};
  }
  [[nodiscard]] const ObjectInfo& Info() const override { return info_; }
  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<char> buffer) override {
    const int now = ++concurrency_->active;
    for (int seen = concurrency_->max_active;
         now > seen && !concurrency_->max_active.compare_exchange_weak(seen, now);) {
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    --concurrency_->active;
    if (offset + buffer.size() > fail_at_) {
      ++failures_;
      return Fail(ErrorCode::Corrupt, "the file shrank while it was read", "read source");
    }
    return bytes_.copy(buffer.data(), buffer.size(), static_cast<std::size_t>(offset));
  }
  void FailFrom(std::uint64_t offset) { fail_at_ = offset; }
  void SlowDown(milliseconds delay) { delay_ = delay; }
  [[nodiscard]] int Failures() const { return failures_; }

 private:
  std::string bytes_;
  ObjectInfo info_;
  std::uint64_t fail_at_ = UINT64_MAX;
  milliseconds delay_{0};
  ReadConcurrency own_;
  ReadConcurrency* concurrency_;
  std::atomic<int> failures_{0};
};

/// No credential, signature or token anywhere in an error.
void ExpectNoSecret(const Error& error) {
  const std::string text = error.ToString();
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find(kSessionToken), std::string::npos) << text;
  EXPECT_EQ(text.find("Signature="), std::string::npos) << text;
  EXPECT_EQ(text.find("AWS4-HMAC-SHA256"), std::string::npos) << text;
}

class S3StoreTest : public ::testing::Test {
 protected:
  S3StoreTest() : fake_("bucket"), server_([this](const RecordedRequest& r) { return fake_.Handle(r); }) {}

  S3StoreConfig Config() {
    S3StoreConfig config;
    config.client.bucket = "bucket";
    config.client.endpoint = server_.Url();
    config.client.region = "us-east-1";
    config.client.credentials = [] {
      return aws::Credentials{"AKIDTEST", std::string(kSecret), std::string(kSessionToken),
                              std::nullopt};
    };
    config.client.max_attempts = 4;
    config.client.sleep = [this](milliseconds delay) {
      std::lock_guard lock(mutex_);
      sleeps_.push_back(delay);
    };
    config.client.random_unit = [] { return 0.5; };
    config.root_prefix = "root";
    config.multipart_threshold_bytes = 6 * kMiB;
    config.part_size_bytes = 5 * kMiB;
    config.parallelism = 3;
    return config;
  }

  std::unique_ptr<S3Store> Open(const S3StoreConfig& config) {
    auto store = OpenS3Store(config);
    EXPECT_TRUE(IsOk(store));
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<S3Store> Open() { return Open(Config()); }

  std::vector<milliseconds> Sleeps() {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

  /// Requests whose method is `method` and whose target contains `fragment`.
  std::vector<RecordedRequest> RequestsMatching(std::string_view method, std::string_view fragment) {
    std::vector<RecordedRequest> out;
    for (auto& request : server_.Requests()) {
      if (request.method == method && request.target.find(fragment) != std::string::npos) {
        out.push_back(request);
      }
    }
    return out;
  }

  FakeS3 fake_;
  LoopbackServer server_;
  std::mutex mutex_;
  std::vector<milliseconds> sleeps_;  // guarded by mutex_
};

// --- Requests on the wire --------------------------------------------------------------------

TEST_F(S3StoreTest, PutAndGetGoPathStyleBelowTheRootPrefixWithContentMd5AndSigV4) {
  auto store = Open();
  const auto put = store->Put("a/b.txt", "hello world");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->key, "a/b.txt");
  EXPECT_EQ(put->etag, Md5Hex("hello world"));
  EXPECT_EQ(put->size_bytes, 11U);
  EXPECT_EQ(fake_.Object("root/a/b.txt"), "hello world");
  EXPECT_EQ(store->Get("a/b.txt").value_or("<error>"), "hello world");

  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  const auto& put_request = requests[0];
  EXPECT_EQ(put_request.method, "PUT");
  EXPECT_EQ(put_request.target, "/bucket/root/a/b.txt");
  EXPECT_EQ(put_request.Header("content-md5"), "XrY7u+Ae7tCTyyK7j1rNww==");
  EXPECT_EQ(put_request.Header("content-length"), "11");
  EXPECT_TRUE(put_request.Header("authorization")
                  .starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
  EXPECT_NE(put_request.Header("authorization").find("/us-east-1/s3/aws4_request"),
            std::string::npos);
  EXPECT_EQ(put_request.Header("x-amz-security-token"), kSessionToken);
  EXPECT_EQ(put_request.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(requests[1].Header("x-amz-content-sha256"), aws::Sha256Hex(""));
  for (const auto& request : requests) {
    // Ceph RGW 16 rejects aws-chunked with trailers (research/infra.md §1): never send them.
    EXPECT_EQ(request.Header("content-encoding"), "");
    EXPECT_EQ(request.Header("x-amz-trailer"), "");
    EXPECT_EQ(request.Header("transfer-encoding"), "");
    EXPECT_EQ(request.Header("expect"), "");
  }
}

TEST_F(S3StoreTest, KeysAreUriEncodedInThePathAndDecodedInListings) {
  auto store = Open();
  const std::string key = "dir/a b+c(é)~_.txt";
  ASSERT_TRUE(IsOk(store->Put(key, "x")));
  EXPECT_EQ(server_.Requests()[0].target, "/bucket/root/dir/a%20b%2Bc%28%C3%A9%29~_.txt");
  EXPECT_EQ(store->Get(key).value_or("<error>"), "x");
  const auto page = store->List({});
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].key, key);
  EXPECT_EQ(page->objects[0].etag, Md5Hex("x"));
}

TEST_F(S3StoreTest, HeadReportsSizeEtagAndLastModified) {
  fake_.PutObject("root/k", "12345");
  auto store = Open();
  const auto head = store->Head("k");
  ASSERT_TRUE(IsOk(head));
  EXPECT_EQ(head->size_bytes, 5U);
  EXPECT_EQ(head->etag, Md5Hex("12345"));
  EXPECT_EQ(head->last_modified, s3::ParseHttpDate("Sat, 21 Nov 2026 09:15:30 GMT").value());
}

TEST_F(S3StoreTest, InvalidKeysAreRejectedWithoutARequest) {
  auto store = Open();
  EXPECT_TRUE(HasCode(store->Head("../x"), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(store->Put("a//b", "x"), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(store->Copy("ok", "/abs"), ErrorCode::InvalidArgument));
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(S3StoreTest, KeysLongerThan1024BytesWithTheRootPrefixAreRejected) {
  auto store = Open();  // root prefix "root/": 5 bytes
  const auto too_long = store->Put(std::string(1020, 'k'), "x");
  ASSERT_TRUE(HasCode(too_long, ErrorCode::InvalidArgument));
  EXPECT_NE(too_long.error().message.find("1025 bytes"), std::string::npos)
      << too_long.error().ToString();
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_TRUE(IsOk(store->Put(std::string(1019, 'k'), "x")));
}

// --- Ranges and streaming --------------------------------------------------------------------

TEST_F(S3StoreTest, RangeGetSendsRangeAndReportsTheWholeObject) {
  fake_.PutObject("root/digits", "0123456789");
  auto store = Open();
  std::string received;
  const auto info = store->GetTo(
      "digits",
      [&](std::string_view chunk) {
        received.append(chunk);
        return Ok();
      },
      ByteRange{2, 5});
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(received, "2345");
  EXPECT_EQ(info->size_bytes, 10U);
  EXPECT_EQ(info->etag, Md5Hex("0123456789"));
  EXPECT_EQ(server_.Requests().back().Header("range"), "bytes=2-5");
  EXPECT_EQ(store->Get("digits", ByteRange{7, std::nullopt}).value_or("<error>"), "789");
  EXPECT_EQ(server_.Requests().back().Header("range"), "bytes=7-");
}

TEST_F(S3StoreTest, BadRangesAreInvalidArgumentAndNotRetried) {
  fake_.PutObject("root/digits", "0123456789");
  fake_.PutObject("root/empty", "");
  auto store = Open();
  EXPECT_TRUE(HasCode(store->Get("digits", ByteRange{5, 3}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(server_.Requests().empty());  // refused before sending
  EXPECT_TRUE(HasCode(store->Get("digits", ByteRange{10, 20}), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(store->Get("empty", ByteRange{0, std::nullopt}), ErrorCode::InvalidArgument));
  EXPECT_EQ(server_.Requests().size(), 2U);
  EXPECT_TRUE(Sleeps().empty());
}

TEST_F(S3StoreTest, EmptyObjectAnsweredWith200ToARangeIsStillInvalidArgument) {
  // Some servers ignore a Range on an empty object and answer 200.
  fake_.PutObject("root/empty", "");
  fake_.SetFault([](const RecordedRequest& request) -> std::optional<CannedResponse> {
    if (request.method != "GET") return std::nullopt;
    CannedResponse response;
    response.headers = {{"ETag", "\"d41d8cd98f00b204e9800998ecf8427e\""}};
    return response;
  });
  auto store = Open();
  EXPECT_TRUE(HasCode(store->Get("empty", ByteRange{0, std::nullopt}), ErrorCode::InvalidArgument));
  EXPECT_EQ(store->Get("empty").value_or("<error>"), "");
}

TEST_F(S3StoreTest, InterruptedDownloadResumesWithoutRepeatingBytes) {
  const std::string bytes = PseudoRandomBytes(1024 * 1024, 3);
  fake_.PutObject("root/big", bytes);
  std::atomic<int> gets{0};
  fake_.SetTamper([&](const RecordedRequest& request, CannedResponse& response) {
    if (request.method == "GET" && gets.fetch_add(1) == 0) response.cut_body_at = 300000;
  });
  auto store = Open();
  std::string received;
  const auto info = store->GetTo("big", [&](std::string_view chunk) {
    received.append(chunk);
    return Ok();
  });
  ASSERT_TRUE(IsOk(info));
  EXPECT_EQ(info->size_bytes, bytes.size());
  EXPECT_TRUE(received == bytes) << "content differs; got " << received.size() << " bytes";
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].Header("range"), "");
  EXPECT_EQ(requests[1].Header("range"), "bytes=300000-");
}

TEST_F(S3StoreTest, ResumedDownloadOfAChangedObjectIsCorrupt) {
  fake_.PutObject("root/big", PseudoRandomBytes(1024 * 1024, 3));
  std::atomic<int> gets{0};
  fake_.SetTamper([&](const RecordedRequest& request, CannedResponse& response) {
    if (request.method != "GET") return;
    if (gets.fetch_add(1) == 0) {
      response.cut_body_at = 1000;
    } else {
      for (auto& [name, value] : response.headers) {
        if (name == "ETag") value = "\"00000000000000000000000000000000\"";
      }
    }
  });
  auto store = Open();
  std::size_t received = 0;
  const auto info = store->GetTo("big", [&](std::string_view chunk) {
    received += chunk.size();
    return Ok();
  });
  EXPECT_TRUE(HasCode(info, ErrorCode::Corrupt));
  EXPECT_EQ(received, 1000U);
}

TEST_F(S3StoreTest, SinkErrorStopsTheReadAndIsNotRetried) {
  fake_.PutObject("root/big", PseudoRandomBytes(1024 * 1024, 3));
  auto store = Open();
  int calls = 0;
  const auto info = store->GetTo("big", [&](std::string_view) -> Status {
    ++calls;
    return Fail(ErrorCode::Transient, "disk hiccup");
  });
  EXPECT_TRUE(HasCode(info, ErrorCode::Transient));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_.Requests().size(), 1U);
}

// --- Retries ---------------------------------------------------------------------------------

TEST_F(S3StoreTest, SlowDownIsRetriedWithFullJitterBackoffThenSucceeds) {
  fake_.PutObject("root/k", "value");
  std::atomic<int> failures{2};
  fake_.SetFault([&](const RecordedRequest&) -> std::optional<CannedResponse> {
    if (failures.fetch_sub(1) > 0) return FakeS3::Error(503, "SlowDown", "Please reduce your request rate.");
    return std::nullopt;
  });
  auto store = Open();
  EXPECT_EQ(store->Get("k").value_or("<error>"), "value");
  EXPECT_EQ(server_.Requests().size(), 3U);
  // random_unit 0.5: half of 100 ms, then half of 200 ms.
  EXPECT_EQ(Sleeps(), (std::vector<milliseconds>{milliseconds(50), milliseconds(100)}));
}

TEST_F(S3StoreTest, RetryAfterIsHonoured) {
  fake_.PutObject("root/k", "value");
  std::atomic<int> failures{1};
  fake_.SetFault([&](const RecordedRequest&) -> std::optional<CannedResponse> {
    if (failures.fetch_sub(1) <= 0) return std::nullopt;
    auto response = FakeS3::Error(503, "ServiceUnavailable");
    response.headers.emplace_back("Retry-After", "7");
    return response;
  });
  auto store = Open();
  EXPECT_EQ(store->Get("k").value_or("<error>"), "value");
  ASSERT_EQ(Sleeps().size(), 1U);
  EXPECT_EQ(Sleeps()[0], milliseconds(7000));
}

TEST_F(S3StoreTest, ServerErrorsResetsAndRequestTimeoutsAreRetried) {
  fake_.PutObject("root/k", "value");
  std::atomic<int> attempt{0};
  fake_.SetFault([&](const RecordedRequest&) -> std::optional<CannedResponse> {
    switch (attempt.fetch_add(1)) {
      case 0: {
        CannedResponse reset;
        reset.reset = true;
        return reset;
      }
      case 1: return FakeS3::Error(500, "InternalError");
      case 2: return FakeS3::Error(400, "RequestTimeout");
      default: return std::nullopt;
    }
  });
  auto store = Open();
  EXPECT_EQ(store->Get("k").value_or("<error>"), "value");
  EXPECT_EQ(server_.Requests().size(), 4U);
  EXPECT_EQ(Sleeps().size(), 3U);
}

TEST_F(S3StoreTest, AccessDeniedIsNotRetriedAndTheErrorSaysWhoWhatAndWhich) {
  fake_.SetFault([](const RecordedRequest&) -> std::optional<CannedResponse> {
    return FakeS3::Error(403, "AccessDenied", "Access Denied", "tx0000abc-403");
  });
  auto store = Open();
  const auto got = store->Get("summary2/x.summary");
  ASSERT_TRUE(HasCode(got, ErrorCode::PermissionDenied));
  EXPECT_EQ(server_.Requests().size(), 1U);
  EXPECT_TRUE(Sleeps().empty());
  const std::string text = got.error().ToString();
  EXPECT_EQ(got.error().context, "s3 get bucket/root/summary2/x.summary");
  EXPECT_NE(text.find("Access Denied"), std::string::npos) << text;
  EXPECT_NE(text.find("HTTP 403 AccessDenied"), std::string::npos) << text;
  EXPECT_NE(text.find("request id tx0000abc-403"), std::string::npos) << text;
  ExpectNoSecret(got.error());
}

TEST_F(S3StoreTest, NoOther4xxIsRetried) {
  for (const int status : {400, 404, 409, 412, 429}) {
    fake_.SetFault([status](const RecordedRequest&) -> std::optional<CannedResponse> {
      return FakeS3::Error(status, "Whatever");
    });
    auto store = Open();
    const auto before = server_.Requests().size();
    EXPECT_FALSE(store->Head("k")) << status;
    EXPECT_EQ(server_.Requests().size(), before + 1) << status;
  }
  EXPECT_TRUE(Sleeps().empty());
}

TEST_F(S3StoreTest, RetriesStopAfterMaxAttempts) {
  fake_.SetFault([](const RecordedRequest&) -> std::optional<CannedResponse> {
    return FakeS3::Error(503, "SlowDown", "Please reduce your request rate.", "req-slow");
  });
  auto store = Open();
  const auto head = store->Head("k");
  ASSERT_TRUE(HasCode(head, ErrorCode::Throttled));
  EXPECT_EQ(server_.Requests().size(), 4U);
  EXPECT_NE(head.error().message.find("gave up after 4 attempts"), std::string::npos)
      << head.error().ToString();
  EXPECT_NE(head.error().message.find("request id req-slow"), std::string::npos);
}

// --- Errors ----------------------------------------------------------------------------------

TEST_F(S3StoreTest, MissingKeyIsNotFoundNamingBucketKeyStatusCodeAndRequestId) {
  auto store = Open();
  const auto got = store->Get("missing/key");
  ASSERT_TRUE(HasCode(got, ErrorCode::NotFound));
  EXPECT_EQ(got.error().ToString(),
            "s3 get bucket/root/missing/key: The specified key does not exist. "
            "(HTTP 404 NoSuchKey, request id req-1)");
  // HEAD answers have no body: the request id comes from the header.
  const auto head = store->Head("missing/key");
  ASSERT_TRUE(HasCode(head, ErrorCode::NotFound));
  EXPECT_EQ(head.error().ToString(),
            "s3 head bucket/root/missing/key: not found (HTTP 404, request id req-head-404)");
}

TEST_F(S3StoreTest, NoErrorTextEverHoldsASecret) {
  std::vector<Error> errors;
  fake_.SetFault([](const RecordedRequest& request) -> std::optional<CannedResponse> {
    if (request.method == "GET") {
      return FakeS3::Error(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature "
                           "you provided.");
    }
    if (request.method == "HEAD") return FakeS3::Error(400, "InvalidToken");
    return FakeS3::Error(503, "SlowDown");
  });
  auto store = Open();
  errors.push_back(store->Get("k").error());
  errors.push_back(store->Head("k").error());
  errors.push_back(store->Put("k", "v").error());
  errors.push_back(store->List({}).error());
  errors.push_back(store->Delete("k").error());
  // Nothing listening: connection refused.
  auto config = Config();
  config.client.endpoint = "http://127.0.0.1:1";
  auto unreachable = Open(config);
  errors.push_back(unreachable->Head("k").error());
  EXPECT_EQ(errors.back().code, ErrorCode::Transient) << errors.back().ToString();
  for (const auto& error : errors) ExpectNoSecret(error);
}

TEST_F(S3StoreTest, CredentialErrorsAreReturnedWithContext) {
  auto config = Config();
  config.client.credentials = []() -> Result<aws::Credentials> {
    return Fail(ErrorCode::PermissionDenied, "no AWS credentials found");
  };
  auto store = Open(config);
  const auto head = store->Head("k");
  ASSERT_TRUE(HasCode(head, ErrorCode::PermissionDenied));
  EXPECT_EQ(head.error().ToString(), "s3 head bucket/root/k: no AWS credentials found");
  EXPECT_TRUE(server_.Requests().empty());
}

// --- Single PUT integrity --------------------------------------------------------------------

TEST_F(S3StoreTest, PutWhoseEtagIsNotTheMd5SentIsCorrupt) {
  fake_.SetTamper([](const RecordedRequest&, CannedResponse& response) {
    response.headers = {{"ETag", "\"ffffffffffffffffffffffffffffffff\""}};
  });
  auto store = Open();
  const auto put = store->Put("k", "value");
  ASSERT_TRUE(HasCode(put, ErrorCode::Corrupt));
  EXPECT_NE(put.error().message.find(Md5Hex("value")), std::string::npos);
}

TEST_F(S3StoreTest, ChecksumNoneSendsNoContentMd5AndChecksNoEtag) {
  fake_.SetTamper([](const RecordedRequest&, CannedResponse& response) {
    response.headers = {{"ETag", "\"kms-style-etag\""}};
  });
  auto config = Config();
  config.md5_checksums = false;
  auto store = Open(config);
  const auto put = store->Put("k", "value");
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->etag, "kms-style-etag");
  EXPECT_EQ(server_.Requests()[0].Header("content-md5"), "");
}

TEST_F(S3StoreTest, BadDigestFromTheServerIsCorruptAndNotRetried) {
  fake_.SetFault([](const RecordedRequest&) -> std::optional<CannedResponse> {
    return FakeS3::Error(400, "BadDigest");
  });
  auto store = Open();
  EXPECT_TRUE(HasCode(store->Put("k", "v"), ErrorCode::Corrupt));
  EXPECT_EQ(server_.Requests().size(), 1U);
}

// --- Multipart uploads -----------------------------------------------------------------------

/// Writes `bytes` through a writer in odd-sized chunks.
Result<ObjectInfo> WriteInChunks(S3Store& store, const std::string& key, const std::string& bytes) {
  SLUICE_ASSIGN_OR_RETURN(auto writer, store.OpenWriter(key));
  constexpr std::size_t kChunk = 64 * 1024 + 7;
  for (std::size_t at = 0; at < bytes.size(); at += kChunk) {
    SLUICE_RETURN_IF_ERROR(writer->Write(std::string_view(bytes).substr(at, kChunk)));
  }
  return writer->Close();
}

TEST_F(S3StoreTest, LargeObjectGoesUpInPartsWithTheCompositeEtagChecked) {
  auto store = Open();
  const std::string bytes = PseudoRandomBytes(17 * kMiB + 3, 11);
  const auto put = WriteInChunks(*store, "big/object.bin", bytes);
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->size_bytes, bytes.size());
  std::vector<std::array<std::uint8_t, 16>> md5s;
  for (std::size_t at = 0; at < bytes.size(); at += 5 * kMiB) {
    Md5 md5;
    md5.Update(std::string_view(bytes).substr(at, 5 * kMiB));
    md5s.push_back(md5.Finish());
  }
  EXPECT_EQ(put->etag, s3::MultipartEtag(md5s));
  EXPECT_TRUE(put->etag.ends_with("-4"));
  EXPECT_TRUE(fake_.Object("root/big/object.bin") == bytes);
  EXPECT_EQ(fake_.OpenUploads(), 0U);

  const auto parts = RequestsMatching("PUT", "partNumber=");
  ASSERT_EQ(parts.size(), 4U);
  for (const auto& part : parts) {
    EXPECT_FALSE(part.Header("content-md5").empty());
    EXPECT_EQ(part.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  }
  const auto complete = RequestsMatching("POST", "uploadId=");
  ASSERT_EQ(complete.size(), 1U);
  EXPECT_NE(complete[0].body.find("<PartNumber>4</PartNumber>"), std::string::npos);
}

TEST_F(S3StoreTest, ObjectAtTheThresholdIsOnePutAndAboveItIsMultipart) {
  auto store = Open();
  ASSERT_TRUE(IsOk(WriteInChunks(*store, "at", std::string(6 * kMiB, 'a'))));
  EXPECT_TRUE(RequestsMatching("POST", "uploads").empty());
  ASSERT_TRUE(IsOk(WriteInChunks(*store, "above", std::string(6 * kMiB + 1, 'a'))));
  EXPECT_EQ(RequestsMatching("POST", "uploads").size(), 1U);
  // Parts of 5 MiB and 1 MiB + 1.
  EXPECT_EQ(RequestsMatching("PUT", "partNumber=").size(), 2U);
}

TEST_F(S3StoreTest, PartWhoseEtagIsNotItsMd5FailsTheUploadAndAbortsIt) {
  fake_.SetTamper([](const RecordedRequest& request, CannedResponse& response) {
    if (request.target.find("partNumber=2") != std::string::npos) {
      response.headers = {{"ETag", "\"00000000000000000000000000000000\""}};
    }
  });
  auto store = Open();
  const auto put = WriteInChunks(*store, "big", PseudoRandomBytes(12 * kMiB, 5));
  ASSERT_TRUE(HasCode(put, ErrorCode::Corrupt));
  EXPECT_NE(put.error().context.find("upload part 2"), std::string::npos) << put.error().ToString();
  EXPECT_EQ(fake_.AbortedUploads(), 1);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  EXPECT_FALSE(fake_.Object("root/big"));
}

TEST_F(S3StoreTest, CompositeEtagMismatchIsCorrupt) {
  fake_.SetTamper([](const RecordedRequest& request, CannedResponse& response) {
    if (request.method == "POST" && request.target.find("uploadId=") != std::string::npos) {
      response.body = "<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag>"
                      "</CompleteMultipartUploadResult>";
    }
  });
  auto store = Open();
  const auto put = WriteInChunks(*store, "big", PseudoRandomBytes(7 * kMiB, 5));
  ASSERT_TRUE(HasCode(put, ErrorCode::Corrupt));
  EXPECT_NE(put.error().message.find("abc-2"), std::string::npos);
}

TEST_F(S3StoreTest, FailedPartSurfacesOnALaterWriteAndTheUploadIsAborted) {
  fake_.SetFault([](const RecordedRequest& request) -> std::optional<CannedResponse> {
    if (request.target.find("partNumber=1&") != std::string::npos) {
      return FakeS3::Error(403, "AccessDenied", "Access Denied", "req-part");
    }
    return std::nullopt;
  });
  auto store = Open();
  auto writer = store->OpenWriter("big");
  ASSERT_TRUE(IsOk(writer));
  const std::string chunk(kMiB, 'x');
  Status status = Ok();
  for (int i = 0; i < 64 && status; ++i) status = (*writer)->Write(chunk);
  ASSERT_TRUE(HasCode(status, ErrorCode::PermissionDenied));
  EXPECT_NE(status.error().ToString().find("req-part"), std::string::npos);
  EXPECT_TRUE(HasCode((*writer)->Close(), ErrorCode::PermissionDenied));
  writer->reset();
  EXPECT_EQ(fake_.AbortedUploads(), 1);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
}

TEST_F(S3StoreTest, WriterDestroyedWithoutCloseAbortsItsMultipartUpload) {
  auto store = Open();
  {
    auto writer = store->OpenWriter("abandoned");
    ASSERT_TRUE(IsOk(writer));
    ASSERT_TRUE(IsOk((*writer)->Write(PseudoRandomBytes(12 * kMiB, 1))));
    EXPECT_EQ(fake_.OpenUploads(), 1U);
  }
  EXPECT_EQ(fake_.AbortedUploads(), 1);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  EXPECT_FALSE(fake_.Object("root/abandoned"));
}

TEST_F(S3StoreTest, CompletionAnswered200WithAnErrorIsRetried) {
  std::atomic<int> completes{0};
  fake_.SetFault([&](const RecordedRequest& request) -> std::optional<CannedResponse> {
    if (request.method == "POST" && request.target.find("uploadId=") != std::string::npos &&
        completes.fetch_add(1) == 0) {
      auto response = FakeS3::Error(200, "InternalError", "We encountered an internal error.");
      return response;
    }
    return std::nullopt;
  });
  auto store = Open();
  const std::string bytes = PseudoRandomBytes(7 * kMiB, 2);
  const auto put = WriteInChunks(*store, "big", bytes);
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(completes.load(), 2);
  EXPECT_TRUE(fake_.Object("root/big") == bytes);
}

TEST_F(S3StoreTest, CompletionWhoseAnswerWasLostIsConfirmedByTheEtag) {
  // The server completes the upload but the connection drops before the answer arrives; the
  // retry then meets NoSuchUpload.
  std::atomic<int> completes{0};
  fake_.SetTamper([&](const RecordedRequest& request, CannedResponse& response) {
    if (request.method == "POST" && request.target.find("uploadId=") != std::string::npos &&
        completes.fetch_add(1) == 0) {
      response.reset = true;
    }
  });
  auto store = Open();
  const std::string bytes = PseudoRandomBytes(7 * kMiB, 2);
  const auto put = WriteInChunks(*store, "big", bytes);
  ASSERT_TRUE(IsOk(put));
  EXPECT_TRUE(put->etag.ends_with("-2"));
  EXPECT_TRUE(fake_.Object("root/big") == bytes);
}

TEST_F(S3StoreTest, CompletionWithAnEmptyEtagAsCephRgw16SendsIsCheckedThroughHead) {
  fake_.SetTamper([](const RecordedRequest& request, CannedResponse& response) {
    if (request.method == "POST" && request.target.find("uploadId=") != std::string::npos) {
      response.body = "<CompleteMultipartUploadResult><Key>k</Key><ETag></ETag>"
                      "</CompleteMultipartUploadResult>";
    }
  });
  auto store = Open();
  const auto put = WriteInChunks(*store, "big", PseudoRandomBytes(7 * kMiB, 4));
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->etag, fake_.Etag("root/big"));
  EXPECT_EQ(RequestsMatching("HEAD", "/bucket/root/big").size(), 1U);
}

TEST_F(S3StoreTest, ErrorsWithoutAMessageGetOneFromTheirCode) {
  // Ceph RGW sends <Message></Message>.
  fake_.SetFault([](const RecordedRequest&) -> std::optional<CannedResponse> {
    return FakeS3::Error(416, "InvalidRange", "", "req-416");
  });
  auto store = Open();
  const auto got = store->Get("k", ByteRange{100, std::nullopt});
  ASSERT_TRUE(HasCode(got, ErrorCode::InvalidArgument));
  EXPECT_EQ(got.error().ToString(),
            "s3 get bucket/root/k: the range is not satisfiable (HTTP 416 InvalidRange, request "
            "id req-416)");
}

// --- List ------------------------------------------------------------------------------------

TEST_F(S3StoreTest, ListPagesWithDelimiterBelowTheRootPrefix) {
  for (const char* key : {"root/a/1", "root/a/2", "root/b", "root/c/x/y", "root/d", "other/e"}) {
    fake_.PutObject(key, key);
  }
  auto store = Open();
  ListOptions options;
  options.delimiter = "/";
  options.max_keys = 2;
  std::vector<std::string> entries;
  int pages = 0;
  while (true) {
    const auto page = store->List(options);
    ASSERT_TRUE(IsOk(page));
    ++pages;
    for (const auto& object : page->objects) entries.push_back(object.key);
    for (const auto& prefix : page->common_prefixes) entries.push_back(prefix);
    if (!page->IsTruncated()) break;
    options.continuation_token = page->next_continuation_token;
  }
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"a/", "b", "c/", "d"}));
  EXPECT_EQ(pages, 2);
  const auto first = RequestsMatching("GET", "list-type=2").front();
  EXPECT_EQ(first.Query().at("prefix"), "root/");
  EXPECT_EQ(first.Query().at("delimiter"), "/");
  EXPECT_EQ(first.Query().at("encoding-type"), "url");
  EXPECT_EQ(first.Query().at("max-keys"), "2");
}

TEST_F(S3StoreTest, ListRejectsMaxKeysOutside1To1000) {
  auto store = Open();
  ListOptions options;
  options.max_keys = 0;
  EXPECT_TRUE(HasCode(store->List(options), ErrorCode::InvalidArgument));
  options.max_keys = 1001;
  EXPECT_TRUE(HasCode(store->List(options), ErrorCode::InvalidArgument));
}

// --- Delete ----------------------------------------------------------------------------------

TEST_F(S3StoreTest, DeleteSucceedsForAbsentKeys) {
  fake_.PutObject("root/k", "v");
  auto store = Open();
  EXPECT_TRUE(IsOk(store->Delete("k")));
  EXPECT_FALSE(fake_.Object("root/k"));
  EXPECT_TRUE(IsOk(store->Delete("k")));
}

TEST_F(S3StoreTest, DeleteManyGoesIn1000KeyBatchesWithContentMd5) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    keys.push_back(fmt::format("many/{:04}", i));
    fake_.PutObject("root/" + keys.back(), "x");
  }
  fake_.PutObject("root/kept", "x");
  auto store = Open();
  ASSERT_TRUE(IsOk(store->DeleteMany(keys)));
  const auto batches = RequestsMatching("POST", "?delete");
  ASSERT_EQ(batches.size(), 3U);
  for (const auto& batch : batches) EXPECT_FALSE(batch.Header("content-md5").empty());
  EXPECT_EQ(fake_.ObjectCount(), 1U);
}

TEST_F(S3StoreTest, DeleteManyReportsPerKeyFailures) {
  fake_.SetFault([](const RecordedRequest&) -> std::optional<CannedResponse> {
    CannedResponse response;
    response.body =
        "<DeleteResult><Error><Key>root/a</Key><Code>AccessDenied</Code><Message>Access Denied"
        "</Message></Error></DeleteResult>";
    return response;
  });
  auto store = Open();
  const std::vector<std::string> keys = {"a", "b"};
  const auto status = store->DeleteMany(keys);
  ASSERT_TRUE(HasCode(status, ErrorCode::PermissionDenied));
  EXPECT_NE(status.error().message.find("1 of 2 keys not deleted"), std::string::npos)
      << status.error().ToString();
}

// --- Copy ------------------------------------------------------------------------------------

TEST_F(S3StoreTest, CopyUsesCopyObjectWithAnEncodedSourceAndKeepsTheEtag) {
  fake_.PutObject("root/src file+", "content");
  auto store = Open();
  const auto copied = store->Copy("src file+", "dst");
  ASSERT_TRUE(IsOk(copied));
  EXPECT_EQ(copied->key, "dst");
  EXPECT_EQ(copied->etag, Md5Hex("content"));
  EXPECT_EQ(copied->size_bytes, 7U);
  EXPECT_EQ(fake_.Object("root/dst"), "content");
  const auto copy = RequestsMatching("PUT", "/bucket/root/dst");
  ASSERT_EQ(copy.size(), 1U);
  EXPECT_EQ(copy[0].Header("x-amz-copy-source"), "/bucket/root/src%20file%2B");
  EXPECT_EQ(copy[0].Header("x-amz-copy-source-if-match"), "\"" + Md5Hex("content") + "\"");
}

TEST_F(S3StoreTest, CopyOfMissingSourceIsNotFound) {
  auto store = Open();
  EXPECT_TRUE(HasCode(store->Copy("missing", "dst"), ErrorCode::NotFound));
  EXPECT_FALSE(fake_.Object("root/dst"));
}

TEST_F(S3StoreTest, CopyAbove5GiBUsesUploadPartCopyInRanges) {
  // The fake holds a small object but claims 6 GiB in HEAD; parts beyond its end copy nothing.
  fake_.PutObject("root/huge", "tiny");
  constexpr std::uint64_t kClaimed = 6 * s3::kGiB;
  fake_.SetTamper([](const RecordedRequest& request, CannedResponse& response) {
    if (request.method == "HEAD") {
      for (auto& [name, value] : response.headers) {
        if (name == "Content-Length") value = std::to_string(kClaimed);
      }
    }
  });
  auto store = Open();
  const auto copied = store->Copy("huge", "copy");
  ASSERT_TRUE(IsOk(copied));
  EXPECT_EQ(copied->size_bytes, kClaimed);
  EXPECT_TRUE(copied->etag.ends_with("-12")) << copied->etag;
  auto parts = RequestsMatching("PUT", "partNumber=");
  ASSERT_EQ(parts.size(), 12U);
  std::set<std::string> ranges;
  for (const auto& part : parts) ranges.insert(part.Header("x-amz-copy-source-range"));
  EXPECT_TRUE(ranges.contains("bytes=0-536870911"));
  EXPECT_TRUE(ranges.contains("bytes=5905580032-6442450943"));
  EXPECT_EQ(fake_.OpenUploads(), 0U);
}

// --- Multipart upload chores -----------------------------------------------------------------

TEST_F(S3StoreTest, ListsAndAbortsMultipartUploadsBelowTheRoot) {
  auto store = Open();
  auto writer = store->OpenWriter("pending/object");
  ASSERT_TRUE(IsOk(writer));
  ASSERT_TRUE(IsOk((*writer)->Write(std::string(7 * kMiB, 'p'))));
  const auto uploads = store->ListMultipartUploads("pending/");
  ASSERT_TRUE(IsOk(uploads));
  ASSERT_EQ(uploads->size(), 1U);
  EXPECT_EQ((*uploads)[0].key, "pending/object");
  ASSERT_TRUE(IsOk(store->AbortMultipartUpload("pending/object", (*uploads)[0].upload_id)));
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  EXPECT_TRUE(HasCode(store->AbortMultipartUpload("pending/object", (*uploads)[0].upload_id),
                      ErrorCode::NotFound));
  writer->reset();  // its own abort now meets NoSuchUpload: logged, not fatal
}

// --- Opening ---------------------------------------------------------------------------------

// --- PutFrom: parts straight from a random-access source ------------------------------------

TEST_F(S3StoreTest, PutFromSendsPartsFromTheSourceWithContentMd5AndTheCompositeEtag) {
  auto store = Open();
  const std::string bytes = PseudoRandomBytes(17 * kMiB + 3, 12);
  TestReader source(bytes);
  ProgressSink progress;
  const auto put = store->PutFrom("big/from-file.bin", source, PutOptions{.progress = &progress});
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->size_bytes, bytes.size());
  std::vector<std::array<std::uint8_t, 16>> md5s;
  for (std::size_t at = 0; at < bytes.size(); at += 5 * kMiB) {
    Md5 md5;
    md5.Update(std::string_view(bytes).substr(at, 5 * kMiB));
    md5s.push_back(md5.Finish());
  }
  EXPECT_EQ(put->etag, s3::MultipartEtag(md5s));
  EXPECT_TRUE(fake_.Object("root/big/from-file.bin") == bytes);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  const auto parts = RequestsMatching("PUT", "partNumber=");
  ASSERT_EQ(parts.size(), 4U);
  for (const auto& part : parts) {
    EXPECT_FALSE(part.Header("content-md5").empty());
    EXPECT_EQ(part.Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  }
  EXPECT_EQ(progress.Snapshot().bytes_done, bytes.size());
}

TEST_F(S3StoreTest, PutFromAtOrBelowTheThresholdIsOnePutObject) {
  auto store = Open();
  TestReader source(PseudoRandomBytes(6 * kMiB, 13));
  const auto put = store->PutFrom("small", source);
  ASSERT_TRUE(IsOk(put));
  EXPECT_EQ(put->etag, Md5Hex(*fake_.Object("root/small")));
  EXPECT_TRUE(RequestsMatching("POST", "uploads").empty());
  EXPECT_EQ(RequestsMatching("PUT", "root/small").size(), 1U);
}

TEST_F(S3StoreTest, PutFromResendsAPartFromTheSourceAfterARetryableFailure) {
  std::atomic<int> part2_attempts{0};
  fake_.SetFault([&](const RecordedRequest& request) -> std::optional<CannedResponse> {
    if (request.target.find("partNumber=2&") != std::string::npos && part2_attempts++ == 0) {
      return FakeS3::Error(503, "SlowDown");
    }
    return std::nullopt;
  });
  auto store = Open();
  const std::string bytes = PseudoRandomBytes(12 * kMiB, 14);
  TestReader source(bytes);
  ASSERT_TRUE(IsOk(store->PutFrom("big", source)));
  EXPECT_EQ(part2_attempts.load(), 2);
  EXPECT_TRUE(fake_.Object("root/big") == bytes);
}

TEST_F(S3StoreTest, PutFromASourceThatFailsAbortsTheUploadWithoutRetryingIt) {
  auto store = Open();
  TestReader source(PseudoRandomBytes(17 * kMiB, 15));
  source.FailFrom(11 * kMiB);  // part 3 cannot be read
  const auto put = store->PutFrom("big", source);
  ASSERT_TRUE(HasCode(put, ErrorCode::Corrupt));
  EXPECT_NE(put.error().message.find("shrank"), std::string::npos);
  EXPECT_EQ(source.Failures(), 1);
  EXPECT_TRUE(Sleeps().empty());
  EXPECT_EQ(fake_.AbortedUploads(), 1);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  EXPECT_FALSE(fake_.Object("root/big"));
}

TEST_F(S3StoreTest, PutFromStopsWhenCancelledAndCommitsNothing) {
  auto store = Open();
  std::atomic<bool> cancel{false};
  fake_.SetTamper([&](const RecordedRequest& request, CannedResponse&) {
    if (request.target.find("partNumber=") != std::string::npos) cancel = true;
  });
  TestReader source(PseudoRandomBytes(30 * kMiB, 16));
  const auto put = store->PutFrom("big", source, PutOptions{.cancel = &cancel});
  ASSERT_TRUE(HasCode(put, ErrorCode::Cancelled));
  EXPECT_LT(RequestsMatching("PUT", "partNumber=").size(), 6U);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
  EXPECT_FALSE(fake_.Object("root/big"));
}

TEST_F(S3StoreTest, AllUploadsOfAStoreShareItsParallelismSlots) {
  auto store = Open();  // parallelism 3
  ReadConcurrency reads;
  TestReader first(PseudoRandomBytes(20 * kMiB, 17), &reads);
  TestReader second(PseudoRandomBytes(20 * kMiB, 18), &reads);
  first.SlowDown(milliseconds(2));
  second.SlowDown(milliseconds(2));
  std::optional<Result<ObjectInfo>> a;
  std::optional<Result<ObjectInfo>> b;
  {
    std::jthread one([&] { a = store->PutFrom("a", first); });
    std::jthread two([&] { b = store->PutFrom("b", second); });
  }
  ASSERT_TRUE(IsOk(*a));
  ASSERT_TRUE(IsOk(*b));
  // A part is read only while its upload holds a slot: never more than 3 reads at once over
  // both objects, though each alone runs 3 parts at a time.
  EXPECT_LE(reads.max_active.load(), 3);
  EXPECT_GE(reads.max_active.load(), 2);
  EXPECT_EQ(fake_.OpenUploads(), 0U);
}

TEST(S3Addressing, CustomEndpointIsPathStyleAndAwsIsVirtualHosted) {
  s3::S3ClientConfig config;
  config.credentials = [] { return aws::Credentials{}; };
  config.bucket = "lovelywater";
  config.region = "us-west-2";
  auto aws = s3::S3Client::Make(config);
  ASSERT_TRUE(IsOk(aws));
  EXPECT_EQ((*aws)->UrlFor("summary2/a b.summary", {}),
            "https://lovelywater.s3.us-west-2.amazonaws.com/summary2/a%20b.summary");
  EXPECT_EQ((*aws)->UrlFor("", {{"list-type", "2"}, {"prefix", "a/b"}, {"uploads", ""}}),
            "https://lovelywater.s3.us-west-2.amazonaws.com/?list-type=2&prefix=a%2Fb&uploads");

  config.bucket = "my.dotted.bucket";
  auto dotted = s3::S3Client::Make(config);
  ASSERT_TRUE(IsOk(dotted));
  EXPECT_EQ((*dotted)->UrlFor("k", {}), "https://s3.us-west-2.amazonaws.com/my.dotted.bucket/k");

  config.bucket = "bucket";
  config.endpoint = "http://127.0.0.1:7480/";
  auto custom = s3::S3Client::Make(config);
  ASSERT_TRUE(IsOk(custom));
  EXPECT_EQ((*custom)->UrlFor("k", {}), "http://127.0.0.1:7480/bucket/k");

  config.endpoint = "127.0.0.1:7480";
  EXPECT_TRUE(HasCode(s3::S3Client::Make(config), ErrorCode::InvalidArgument));
}

TEST(MakeS3Store, OpensFromAUrlWithOptionsAndRejectsBadOnes) {
  StoreOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.region = "us-east-1";
  auto store = MakeObjectStore("s3://bucket/some/prefix", options);
  ASSERT_TRUE(IsOk(store));
  EXPECT_EQ((*store)->Url(), "s3://bucket/some/prefix");
  EXPECT_TRUE((*store)->Capabilities().key_and_folder_may_share_name);
  auto bare = MakeObjectStore("s3://bucket", options);
  ASSERT_TRUE(IsOk(bare));
  EXPECT_EQ((*bare)->Url(), "s3://bucket");

  EXPECT_TRUE(HasCode(MakeObjectStore("s3://", options), ErrorCode::InvalidArgument));
  EXPECT_TRUE(HasCode(MakeObjectStore("s3://bucket//x", options), ErrorCode::InvalidArgument));
  auto bad = options;
  bad.checksum = "crc32";
  EXPECT_TRUE(HasCode(MakeObjectStore("s3://bucket", bad), ErrorCode::InvalidArgument));
  bad = options;
  bad.part_size_bytes = 1024;
  EXPECT_TRUE(HasCode(MakeObjectStore("s3://bucket", bad), ErrorCode::InvalidArgument));
  bad = options;
  bad.multipart_threshold_bytes = 6 * s3::kGiB;
  EXPECT_TRUE(HasCode(MakeObjectStore("s3://bucket", bad), ErrorCode::InvalidArgument));
  bad = options;
  bad.parallelism = 0;
  EXPECT_TRUE(HasCode(MakeObjectStore("s3://bucket", bad), ErrorCode::InvalidArgument));
}

}  // namespace
}  // namespace sluice
