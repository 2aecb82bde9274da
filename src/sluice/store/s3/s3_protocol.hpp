#pragma once
/// The pure parts of the S3 REST protocol, kept apart from I/O so unit tests can check them:
/// AWS limits, part sizes, multipart ETags, the XML documents S3 sends and takes, the mapping of
/// S3 errors onto ErrorCode, and the retry delay. Sources: Amazon S3 API Reference
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/) pages named on each declaration, and the
/// Amazon S3 User Guide, "Amazon S3 multipart upload limits". Thread-safe: no state.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice::s3 {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kTiB = 1024 * kGiB;

/// Smallest part but the last ("Amazon S3 multipart upload limits", S3 User Guide).
inline constexpr std::uint64_t kMinPartSizeBytes = 5 * kMiB;
/// Largest part, and largest single PutObject / CopyObject (same page; PutObject, CopyObject).
inline constexpr std::uint64_t kMaxPartSizeBytes = 5 * kGiB;
/// Most parts in one multipart upload (same page).
inline constexpr int kMaxParts = 10'000;
/// Largest object (same page).
inline constexpr std::uint64_t kMaxObjectSizeBytes = 5 * kTiB;
/// Most keys one DeleteObjects request may name (API Reference, "DeleteObjects").
inline constexpr std::size_t kMaxDeleteKeys = 1000;
/// A streamed upload (size unknown up front) doubles its part size after every this many parts,
/// so that even 5 MiB parts reach 5 TiB within 10,000 parts (5 MiB × 500 × (2^10 − 1) + 5 GiB ×
/// 5,000 ≫ 5 TiB) while objects of a few GiB keep small parts. ClickHouse's S3 writer uses the
/// same rule (setting s3_upload_part_size_multiply_parts_count_threshold = 500).
inline constexpr int kPartsPerDoubling = 500;

/// Size of part `part_number` (1-based) of a streamed multipart upload whose first part is
/// `base_part_size_bytes` (clamped to 5 MiB..5 GiB): the base doubled every kPartsPerDoubling
/// parts, at most 5 GiB.
std::uint64_t StreamPartSizeBytes(std::uint64_t base_part_size_bytes, int part_number);

/// Part size for an object of known `object_size_bytes` (a multipart copy):
/// max(base, ceil(size / 10,000)) rounded up to whole MiB, clamped to 5 MiB..5 GiB, so any
/// object up to 5 TiB fits in 10,000 parts.
std::uint64_t FixedPartSizeBytes(std::uint64_t base_part_size_bytes, std::uint64_t object_size_bytes);

/// The ETag S3 gives a completed multipart upload: hex MD5 of the concatenated 16-byte MD5s of
/// the parts, then "-" and the number of parts (not documented by AWS as a contract, but what
/// AWS and Ceph RGW compute; research/infra.md §1 checks the "-25" suffix).
std::string MultipartEtag(const std::vector<std::array<std::uint8_t, 16>>& part_md5s);

/// Base64 (RFC 4648 §4, with padding) of `bytes`, e.g. for Content-MD5 (RFC 1864).
std::string Base64(std::string_view bytes);

/// An ETag header or XML value without its surrounding quotes (and without a weak "W/" prefix).
std::string UnquoteEtag(std::string_view etag);

/// Parses an ISO 8601 UTC time as S3 writes it in XML: "2026-11-21T09:15:30.000Z" (fraction
/// optional). InvalidArgument otherwise.
Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

/// Parses an HTTP-date (IMF-fixdate, RFC 9110 §5.6.7): "Sat, 21 Nov 2026 09:15:30 GMT", as in
/// Last-Modified. InvalidArgument otherwise.
Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);

/// The wait a Retry-After header asks for (RFC 9110 §10.2.3): delay-seconds or an HTTP-date
/// relative to `now`. nullopt when absent or unparsable; never negative.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::optional<std::string_view> header, std::chrono::system_clock::time_point now);

/// "Full jitter" backoff ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015):
/// uniform in [0, min(cap, base × 2^(attempt−1))), `attempt` >= 1 counting failed attempts,
/// `random_unit` in [0, 1).
std::chrono::milliseconds FullJitterDelay(std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap, int attempt,
                                          double random_unit);

/// What an S3 error response said: <Error><Code/><Message/><RequestId/></Error> (API Reference,
/// "Error responses"). Fields are empty when absent (HEAD answers have no body).
struct S3ErrorDocument {
  std::string code;
  std::string message;
  std::string request_id;
};

/// Parses an error document; nullopt when `xml` is not one (empty, not XML, another root).
std::optional<S3ErrorDocument> ParseErrorDocument(std::string_view xml);

/// The ErrorCode of an S3 failure, by S3 error code first, then by HTTP status: NotFound
/// (NoSuchKey, NoSuchBucket, NoSuchUpload, 404), PermissionDenied (AccessDenied,
/// InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken, 403), Throttled (SlowDown, 503),
/// Transient (InternalError, RequestTimeout, 500, 502, 504), InvalidArgument (InvalidRange, 416,
/// other 4xx), Corrupt (BadDigest, InvalidDigest), Unsupported (NotImplemented, 501), Internal
/// (anything else). IsRetryable of the result is exactly the retry rule: 500, 502, 503, 504,
/// SlowDown and RequestTimeout are retried; no other 4xx is.
ErrorCode MapS3Error(int http_status, std::string_view s3_code);

/// One ListObjectsV2 page as parsed: keys as S3 sent them (already URL-decoded when the request
/// asked for encoding-type=url).
struct ListObjectsV2Result {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  ///< empty when the listing is complete
};

/// Parses a ListBucketResult (API Reference, "ListObjectsV2"). When the document says
/// <EncodingType>url</EncodingType> (the answer to encoding-type=url), Key and Prefix values are
/// percent-decoded, '+' as a space, as botocore does. Corrupt when the XML is malformed, a field
/// does not parse, or IsTruncated is true without a continuation token.
Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view xml);

/// Parses a GetObjectTagging answer, <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet>
/// </Tagging> (API Reference, "GetObjectTagging"), into the tag set. An empty body is an empty
/// set (Ceph RGW 16.2 answers so for an object that has no tags). Corrupt when it is not one or
/// names a key twice.
Result<ObjectTags> ParseGetObjectTagging(std::string_view xml);

/// The PutObjectTagging body for `tags` (API Reference, "PutObjectTagging"):
/// <Tagging xmlns="…"><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>.
std::string BuildTagging(const ObjectTags& tags);

/// Parses InitiateMultipartUploadResult (API Reference, "CreateMultipartUpload") into the upload
/// id. Corrupt when there is none.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

/// The body of CompleteMultipartUpload (API Reference, "CompleteMultipartUpload") for parts
/// 1..N whose unquoted ETags are `etags` in order.
std::string BuildCompleteMultipartUpload(const std::vector<std::string>& etags);

/// Parses CompleteMultipartUploadResult into the object's unquoted ETag, which is empty when the
/// server left it out (Ceph RGW 16.2.15 answers <ETag></ETag>; HeadObject has the real one).
/// Corrupt for another document. (S3 may answer 200 with an <Error> document instead; callers check ParseErrorDocument
/// first, see "CompleteMultipartUpload", "Special errors".)
Result<std::string> ParseCompleteMultipartUpload(std::string_view xml);

/// Parses the CopyObjectResult / CopyPartResult of CopyObject and UploadPartCopy into the
/// unquoted ETag. Corrupt when absent.
Result<std::string> ParseCopyResult(std::string_view xml);

/// The body of DeleteObjects (API Reference, "DeleteObjects") in quiet mode for `keys`
/// (full keys, at most kMaxDeleteKeys).
std::string BuildDeleteObjects(const std::vector<std::string>& keys);

/// One key DeleteObjects could not delete.
struct DeleteObjectsFailure {
  std::string key;
  std::string code;
  std::string message;
};

/// Parses DeleteResult: the <Error> entries (quiet mode lists only failures). Corrupt when the
/// XML is malformed.
Result<std::vector<DeleteObjectsFailure>> ParseDeleteObjects(std::string_view xml);

/// One in-progress multipart upload (API Reference, "ListMultipartUploads").
struct MultipartUploadInfo {
  std::string key;        ///< the object's key (parsers give the full key in the bucket)
  std::string upload_id;
  std::chrono::system_clock::time_point initiated;
};

/// One page of ListMultipartUploads.
struct ListMultipartUploadsResult {
  std::vector<MultipartUploadInfo> uploads;
  std::string next_key_marker;        ///< empty when complete
  std::string next_upload_id_marker;  ///< goes with next_key_marker
};

/// Parses ListMultipartUploadsResult; keys are decoded as in ParseListObjectsV2. Corrupt when
/// malformed.
Result<ListMultipartUploadsResult> ParseListMultipartUploads(std::string_view xml);

}  // namespace sluice::s3
