#pragma once
/// One bucket's REST endpoint: addressing, SigV4 signing, retries and error conversion for the
/// s3:// store. Addressing: path-style ("endpoint/bucket/key") when an endpoint is configured
/// (Ceph RGW, MinIO: research/infra.md §1), virtual-hosted ("https://bucket.s3.region.
/// amazonaws.com/key") for AWS itself (Amazon S3 User Guide, "Virtual hosting of buckets"), or
/// path-style on AWS for bucket names with dots, which the wildcard TLS certificate cannot cover.
/// Payloads are sent plainly with a Content-Length: never aws-chunked, never trailers (Ceph RGW
/// 16 rejects STREAMING-UNSIGNED-PAYLOAD-TRAILER, research/infra.md §1).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/aws/sigv4.hpp"
#include "sluice/core/error.hpp"
#include "sluice/core/http_client.hpp"

namespace sluice::s3 {

/// Where a bucket is and how to talk to it; every field but `bucket` and `credentials` has a
/// usable default.
struct S3ClientConfig {
  std::string bucket;  ///< the bucket's name, e.g. "lovelywater"
  /// "http://127.0.0.1:7480" style base URL (path-style), or empty for AWS (virtual-hosted).
  std::string endpoint;
  std::string region = "us-east-1";  ///< signing region; also names the AWS host
  /// Supplies credentials for each attempt (a provider caches and refreshes them). Required.
  std::function<Result<aws::Credentials>()> credentials;
  /// Attempts per request, >= 1, counting the first.
  int max_attempts = 8;
  /// Backoff before attempt n+1 is uniform in [0, min(max_backoff, initial_backoff × 2^(n−1))).
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(20)};
  /// A server's Retry-After is honoured up to this long.
  std::chrono::milliseconds max_retry_after{std::chrono::minutes(5)};
  /// Waits between attempts; tests inject a recorder. Default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Uniform in [0, 1) for jitter. Default: RandomUnit().
  std::function<double()> random_unit;
  /// Signing time and the "now" of Retry-After dates. Default: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
  HttpClientOptions http;  ///< connect and stall timeouts of the connections
};

/// One S3 REST request, in S3's own terms.
struct S3Call {
  std::string operation;  ///< for messages: "get", "put", "upload part 3", …
  std::string method;     ///< "GET", "HEAD", "PUT", "POST", "DELETE"
  std::string key;        ///< full key in the bucket; empty for bucket-level requests
  /// Query parameters, not yet encoded; an empty value is sent as a bare name ("?uploads").
  std::vector<std::pair<std::string, std::string>> query;
  HttpHeaders headers;    ///< signed and sent (Content-MD5, Range, x-amz-copy-source, …)
  std::string_view body;  ///< must outlive Call; resent as is on a retry
  /// Streams the body instead of `body` (object data read from a file); it is read again from
  /// offset 0 on a retry. Needs `unsigned_payload`. Its Error is returned, never retried.
  HttpBodySource body_source;
  std::uint64_t body_size_bytes = 0;  ///< size of body_source's body in bytes
  /// Sign the payload as "UNSIGNED-PAYLOAD" instead of hashing it (object data; its integrity
  /// rests on Content-MD5 and TLS).
  bool unsigned_payload = false;
  /// S3 may answer 200 with an <Error> document (CompleteMultipartUpload, CopyObject,
  /// UploadPartCopy: API Reference, "Special errors"); treat that as the error it names.
  bool error_may_come_with_200 = false;
  /// Called once a 2xx response's header is complete, before its body reaches the sink.
  std::function<Status(const HttpResponse& head)> on_head;
  /// Called before every retry, to adjust the request (a resumed read sets Range).
  std::function<void(S3Call& call)> before_retry;
};

/// Signs, sends and retries S3 requests against one bucket. Thread-safe.
class S3Client {
 public:
  /// InvalidArgument for an endpoint that is not an http(s) URL or an empty bucket.
  static Result<std::unique_ptr<S3Client>> Make(S3ClientConfig config);

  /// Sends `call`, retrying per the rule of MapS3Error/IsRetryable (500, 502, 503, 504,
  /// SlowDown, RequestTimeout, connection failures and timeouts; never another 4xx) with full
  /// jitter backoff, waiting at least a Retry-After. Returns the 2xx response (its body unless
  /// `sink` took it). Errors have context "s3 <operation> <bucket>/<key>" and a message with the
  /// server's message, HTTP status, S3 error code and request id; never a credential. A sink's
  /// Error stops at once and is returned as is.
  Result<HttpResponse> Call(S3Call call, const HttpBodySink& sink = nullptr);

  /// The URL `key` (full key; empty for the bucket) and `query` go to, encoded as on the wire.
  [[nodiscard]] std::string UrlFor(std::string_view key,
                                   const std::vector<std::pair<std::string, std::string>>& query)
      const;

  /// "bucket/key" for messages (key made printable and cut).
  [[nodiscard]] std::string Where(std::string_view key) const;

  /// The configuration, with defaults filled in.
  [[nodiscard]] const S3ClientConfig& Config() const { return config_; }

 private:
  explicit S3Client(S3ClientConfig config);
  Error ResponseError(const S3Call& call, const HttpResponse& response) const;

  S3ClientConfig config_;
  HttpClient http_;
  std::string base_url_;   ///< "https://bucket.s3.region.amazonaws.com" or "endpoint/bucket"
};

}  // namespace sluice::s3
