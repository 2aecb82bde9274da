#pragma once
/// The `s3://bucket[/prefix]` ObjectStore, on libcurl (s3_client.hpp) and pugixml
/// (s3_protocol.hpp). Keys are relative to the prefix. What it does beyond ObjectStore's contract:
/// - Put: objects up to the multipart threshold go up in one PutObject, larger ones as a multipart
///   upload whose parts go up in parallel while the caller writes; a writer's memory is bounded
///   by max(threshold, part size × (parallelism + 1)). PutFrom reads parts straight from an
///   ObjectReader (a local file) and holds none. All uploads of one store share `parallelism`
///   request slots. A writer destroyed without Close(), or whose Close() fails, aborts its
///   multipart upload. Background part errors surface on the next Write().
/// - Integrity (checksum = "md5"): Content-MD5 on every PUT and part; the ETag of a PutObject and
///   of every part must be the MD5 of what was sent, and a multipart upload's ETag must be
///   MD5(part MD5s)-N; a difference is Corrupt. Copies check the ETags the server reports.
/// - Get: streamed to the sink; a read cut by a dropped connection resumes where it stopped
///   (Range from the next byte, If-Match the ETag), so no byte reaches the sink twice.
/// - Copy: CopyObject up to 5 GiB, UploadPartCopy parts in parallel above it.
/// - Retries: see S3Client::Call.
/// - Listing continuation tokens are S3's own (opaque), not the last key.
/// Amazon S3 API Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/ (each operation
/// by name). Tested against Ceph RGW 16 (research/infra.md §1).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/core/uri.hpp"
#include "sluice/store/object_store.hpp"
#include "sluice/store/s3/s3_client.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice {

/// Everything an S3Store needs, already resolved (MakeS3Store fills it from a URL, StoreOptions
/// and the environment; tests fill it directly).
struct S3StoreConfig {
  s3::S3ClientConfig client;  ///< bucket, endpoint, region, credentials, retry policy
  std::string root_prefix;    ///< "" or ends with '/': keys live below it
  bool md5_checksums = true;  ///< StoreOptions::checksum == "md5"
  /// See StoreOptions; clamped to 5 GiB.
  std::uint64_t multipart_threshold_bytes = 8 * s3::kMiB;
  /// See StoreOptions; clamped to 5 MiB..5 GiB.
  std::uint64_t part_size_bytes = 8 * s3::kMiB;
  /// Most PutObject and UploadPart requests in flight at once across all writers and PutFrom
  /// calls of the store (StoreOptions::parallelism); at least 1.
  int parallelism = 8;
  /// Shared upload slots (StoreOptions::upload_slots); null: `parallelism` slots of its own.
  std::shared_ptr<std::counting_semaphore<>> upload_slots;
  std::string storage_class;  ///< StoreOptions::storage_class; empty for the bucket's default
  /// Sources larger than this many bytes are copied with UploadPartCopy; at most 5 GiB (the
  /// CopyObject limit).
  std::uint64_t copy_multipart_threshold_bytes = s3::kMaxPartSizeBytes;
  /// Part size of a multipart copy in bytes (5 MiB..5 GiB, grown so the copy fits in 10,000
  /// parts).
  std::uint64_t copy_part_size_bytes = 512 * s3::kMiB;
};

/// An ObjectStore on one S3 bucket (below an optional prefix), plus the bucket chores the CLI
/// needs. All methods are thread-safe. Errors: see ObjectStore; every one names the operation,
/// bucket and key, and carries the HTTP status, S3 error code and request id when the server
/// answered; none holds a credential.
class S3Store : public ObjectStore {
 public:
  ~S3Store() override;

  /// "s3://bucket[/prefix]" (no endpoint, no credentials).
  [[nodiscard]] std::string Url() const override;
  [[nodiscard]] StoreCapabilities Capabilities() const override;
  /// HeadObject.
  Result<ObjectInfo> Head(std::string_view key) override;
  /// GetObject, streamed; see the file comment for resumption.
  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range = std::nullopt) override;
  /// A buffered PutObject or a parallel multipart upload; see the file comment. Tags go up as
  /// x-amz-tagging with the PutObject or the CreateMultipartUpload.
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override;
  /// GetObjectTagging (GET ?tagging; API Reference, "GetObjectTagging").
  Result<ObjectTags> GetTags(std::string_view key) override;
  /// PutObject up to the multipart threshold, else a multipart upload whose parts (size from
  /// FixedPartSizeBytes) go up `parallelism` at a time, each read from `source` twice (for its
  /// Content-MD5, then as it is sent) and never held in memory. A failed upload is aborted.
  Result<ObjectInfo> PutFrom(std::string_view key, ObjectReader& source,
                             const PutOptions& options = {}) override;
  /// ListObjectsV2 (encoding-type=url, so any key survives the XML; `start-after` on a first page).
  Result<ListPage> List(const ListOptions& options) override;
  /// DeleteObject.
  Status Delete(std::string_view key) override;
  /// CopyObject, or UploadPartCopy above 5 GiB (x-amz-copy-source-if-match guards against the
  /// source changing midway).
  Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) override;

  /// Deletes `keys` (relative keys, any number) with DeleteObjects, 1,000 per request, each
  /// with Content-MD5 (API Reference, "DeleteObjects"). Absent keys count as deleted. Returns
  /// the first failure; a batch's per-key failures are reported with the first key and count.
  Status DeleteMany(std::span<const std::string> keys);

  /// Every multipart upload in progress whose key starts with `prefix` (relative; keys in the
  /// result are relative too), following all pages (API Reference, "ListMultipartUploads").
  Result<std::vector<s3::MultipartUploadInfo>> ListMultipartUploads(std::string_view prefix);

  /// Aborts one multipart upload and frees its parts (API Reference, "AbortMultipartUpload").
  /// NotFound when no such upload exists.
  Status AbortMultipartUpload(std::string_view key, std::string_view upload_id);

  /// A presigned URL for `method` ("GET" or "PUT") on `key`, valid for `expires` (1 s to 7 days,
  /// else InvalidArgument), signed with the store's current credentials (query-string
  /// authentication, Amazon S3 API Reference "Authenticating Requests: Using Query Parameters").
  /// No request is sent. PermissionDenied when no credentials can be found.
  Result<std::string> Presign(std::string_view method, std::string_view key,
                              std::chrono::seconds expires);

  /// Shared state of the store and its writers; defined in s3_store.cpp.
  struct Core;

 private:
  friend Result<std::unique_ptr<S3Store>> OpenS3Store(S3StoreConfig config);
  explicit S3Store(std::shared_ptr<Core> core);
  Result<ObjectInfo> CopyMultipart(const std::string& source, const std::string& destination,
                                   const ObjectInfo& source_info);

  std::shared_ptr<Core> core_;
};

/// What CleanupStaleUploads found and did.
struct StaleUploadCleanup {
  std::vector<s3::MultipartUploadInfo> aborted;  ///< (or, on a dry run, that would be)
  std::size_t kept = 0;                          ///< uploads younger than the cut-off
};

/// Aborts every multipart upload below `prefix` started more than `older_than` ago (left by
/// crashed writers; their parts cost storage until aborted). With `dry_run` nothing is aborted.
/// Stops at the first failure. Thread-safe.
Result<StaleUploadCleanup> CleanupStaleUploads(S3Store& store, std::string_view prefix,
                                               std::chrono::milliseconds older_than, bool dry_run);

/// Whether `source` holds the bytes of an object whose S3 ETag is `etag` (unquoted): the hex MD5
/// of the whole source for a plain ETag; for "<hex>-N" the multipart rule (MD5 of the part MD5s),
/// trying the part size PutFrom uses (FixedPartSizeBytes(part_size_bytes, size)), then the
/// smallest whole-MiB part size giving N parts (AWS CLI, boto3 and rclone upload in whole MiB).
/// False for anything else (e.g. an SSE-KMS ETag). Reads the source once per candidate; errors
/// are the source's. Thread-safe if the reader is.
Result<bool> SourceMatchesEtag(ObjectReader& source, std::string_view etag,
                               std::uint64_t part_size_bytes);

/// Opens the store `config` describes. No request is sent. InvalidArgument for a missing
/// bucket, an endpoint that is not http(s), or no credentials provider. Thread-safe.
Result<std::unique_ptr<S3Store>> OpenS3Store(S3StoreConfig config);

/// Opens "s3://bucket[/prefix]" with `options`: endpoint from options.endpoint, else
/// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; region and credentials from the AWS credential
/// chain (aws/credentials.hpp). No request is sent. InvalidArgument for a bad URL or option
/// (checksum not "md5"/"none", sizes out of range, parallelism < 1). Thread-safe.
Result<std::unique_ptr<S3Store>> MakeS3Store(const Uri& uri, const StoreOptions& options);

}  // namespace sluice
