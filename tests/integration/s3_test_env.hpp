#pragma once
// What the integration tests of the s3:// store share: the Ceph RGW of the ceph_rgw fixture (its
// coordinates come from the environment with-ceph-env.sh sets), unique bucket names, bucket
// creation and forced deletion, stores opened on a bucket, and deterministic test bytes.
// Everything talks to 127.0.0.1 only; nothing here prints a credential.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/store/object_store.hpp"
#include "sluice/store/s3/s3_client.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice::it {

/// The S3 server under test, as with-ceph-env.sh describes it.
struct S3Env {
  std::string endpoint;  ///< S3_ENDPOINT, "http://127.0.0.1:<port>"
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;  ///< AWS_REGION
};

/// Reads S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION once. InvalidArgument
/// naming the missing variable, or when the endpoint is not http://127.0.0.1:<port>.
const Result<S3Env>& LoadS3Env();

/// A bucket name no other test (of this or another process) uses: "sluice-it-<purpose>-<pid>-<n>",
/// lower case, at most 63 characters (S3 bucket naming rules).
std::string UniqueBucketName(std::string_view purpose);

/// A client for bucket-level requests on `bucket` at `env.endpoint` with the test user's keys.
Result<std::unique_ptr<s3::S3Client>> BucketClient(const S3Env& env, const std::string& bucket);

/// CreateBucket (API Reference, "CreateBucket").
Status CreateBucket(const S3Env& env, const std::string& bucket);

/// Empties `bucket` (objects and multipart uploads in progress) and deletes it. NotFound when the
/// bucket does not exist.
Status DeleteBucket(const S3Env& env, const std::string& bucket);

/// The S3StoreConfig MakeS3Store would build for "s3://bucket/root_prefix" against `env`, with
/// the test user's keys; tests adjust it (endpoint, timeouts, part sizes) before OpenS3Store.
S3StoreConfig StoreConfigFor(const S3Env& env, const std::string& bucket,
                             const std::string& root_prefix = "");

/// StoreOptions pointing at `env` (endpoint and region), for MakeObjectStore.
StoreOptions StoreOptionsFor(const S3Env& env);

/// A bucket created for one test and deleted (forced) when it goes out of scope; failures of
/// either are test failures.
class ScopedBucket {
 public:
  explicit ScopedBucket(std::string_view purpose);
  ~ScopedBucket();
  ScopedBucket(const ScopedBucket&) = delete;
  ScopedBucket& operator=(const ScopedBucket&) = delete;

  /// False when the environment is missing or the bucket could not be created (already reported).
  [[nodiscard]] bool Ok() const { return created_; }
  [[nodiscard]] const std::string& Name() const { return name_; }
  /// "s3://<name>" plus "/<root_prefix>" when given.
  [[nodiscard]] std::string Url(std::string_view root_prefix = "") const;

 private:
  std::string name_;
  bool created_ = false;
};

/// `size` deterministic bytes covering every value 0..255, a function of `seed` only.
std::string PseudoRandomBytes(std::size_t size, std::uint64_t seed);

/// The ETag S3 gives a multipart upload of `bytes` in parts of `part_size_bytes` (the last one
/// shorter): hex MD5 of the concatenated binary MD5s of the parts, "-", the number of parts.
/// Computed here independently of s3::MultipartEtag.
std::string ExpectedMultipartEtag(std::string_view bytes, std::size_t part_size_bytes);

/// Success, or a failure showing the Error.
template <class T>
::testing::AssertionResult Succeeded(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error().ToString();
}

/// A failure with `code`, or a failure describing what happened instead.
template <class T>
::testing::AssertionResult FailedWith(const Result<T>& result, ErrorCode code) {
  if (result) return ::testing::AssertionFailure() << "succeeded; expected " << ToString(code);
  if (result.error().code == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << ToString(result.error().code) << " ("
                                       << result.error().ToString() << "); expected "
                                       << ToString(code);
}

}  // namespace sluice::it
