#pragma once
/// ObjectStore: the one interface through which handlers read and write objects (DESIGN.md).
/// Backends: `file://` (local/, a folder plays the bucket), `memory://` (memory/, unit tests), and
/// `s3://` (s3/s3_store.hpp). Semantics follow the Amazon S3 API Reference (GetObject, PutObject,
/// HeadObject, ListObjectsV2, DeleteObject, CopyObject) so code written against one backend
/// behaves the same on the others; tests/unit/store/conformance_test.cpp holds every backend to it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <semaphore>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice {

class ProgressSink;  // core/progress.hpp

/// Metadata of one object, as HeadObject / ListObjectsV2 report it.
struct ObjectInfo {
  std::string key;            ///< full key, '/'-separated, no leading '/'
  std::uint64_t size_bytes = 0;
  std::string etag;           ///< unquoted; hex MD5 of the content for single-part objects
  std::chrono::system_clock::time_point last_modified;
};

/// An inclusive byte range, as in the HTTP Range header "bytes=first-last" (RFC 9110 §14.1.2).
struct ByteRange {
  std::uint64_t first = 0;
  std::optional<std::uint64_t> last;  ///< inclusive; nullopt = to the end of the object
};

/// Parameters of one List call (ListObjectsV2 semantics).
struct ListOptions {
  std::string prefix;              ///< only keys starting with this
  std::string delimiter;           ///< when set, keys with it after the prefix roll up
  int max_keys = 1000;             ///< keys + common prefixes per page, 1..1000
  std::string continuation_token;  ///< from the previous page's next_continuation_token
  /// ListObjectsV2 `start-after`: list only keys after this one (byte order); it need not exist.
  /// Used for the first page: a continuation token, when set, takes precedence (as on S3).
  std::string start_after;
  /// False lets a backend leave ObjectInfo::etag empty where it would have to compute it
  /// (file:// hashes every file whose ETag it has not cached); s3:// reports ETags anyway.
  bool need_etags = true;
};

/// One page of a listing, in S3's order: ascending by the UTF-8 bytes of the key.
struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;  ///< each ends with the delimiter
  std::string next_continuation_token;       ///< empty when this is the last page
  [[nodiscard]] bool IsTruncated() const { return !next_continuation_token.empty(); }
};

/// Receives an object's bytes in order, in chunks of any size. Returning an Error stops the read.
using ByteSink = std::function<Status(std::string_view chunk)>;

/// A streaming upload. Nothing is visible under the key until Close() succeeds; destroying the
/// writer without Close() (or after an error) aborts and leaves any previous object intact.
/// Not thread-safe: one thread writes.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  /// Appends bytes. Returns the first background error, if any (Transient, PermissionDenied, …).
  virtual Status Write(std::string_view bytes) = 0;
  /// Commits the object atomically and returns its metadata (ETag, size).
  virtual Result<ObjectInfo> Close() = 0;
  /// Asks the writer to count into `sink` the bytes the destination has acknowledged (for S3:
  /// each part or PutObject once the server answered 200), so a progress bar shows bytes really
  /// sent. Returns false when the writer cannot; the caller then counts what Write() accepted.
  /// Call before the first Write(). `sink` must outlive the writer.
  virtual bool ReportSentBytes(ProgressSink* sink) {
    (void)sink;
    return false;
  }
};

/// Random access to the bytes of one object as they were when it was opened, so an upload can
/// send several parts of it at once without holding them in memory (ObjectStore::PutFrom).
/// Thread-safe: ReadAt may run on many threads at once.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  /// The object's key, size in bytes and modification time; `etag` may be empty (not computed).
  [[nodiscard]] virtual const ObjectInfo& Info() const = 0;
  /// Reads up to buffer.size() bytes starting `offset` bytes in; returns how many, fewer only
  /// at Info().size_bytes. Corrupt when the object shrank since it was opened (a file being
  /// rewritten); Transient for an I/O error; InvalidArgument for an offset past the end.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, std::span<char> buffer) = 0;
};

/// An object's tag set: tag key → value (Amazon S3 User Guide, "Categorizing your storage using
/// tags"; API Reference, "PutObject" x-amz-tagging and "GetObjectTagging"). ValidateTags states
/// the limits every backend enforces.
using ObjectTags = std::map<std::string, std::string, std::less<>>;

/// How ObjectStore::OpenWriter (and Put) store the new object.
struct WriteOptions {
  /// Tags stored with the object, atomically: they become visible with its bytes and a later
  /// write of the key without tags drops them (as S3 PutObject does). Checked by ValidateTags.
  ObjectTags tags{};
  /// False lets a backend skip work done only to report the ETag: file:// then neither hashes
  /// the bytes nor caches an ETag, and Close() reports an empty one (the next Head hashes the
  /// file). For writers whose caller ignores the ETag, e.g. `sluice wibl process -o FILE`.
  /// memory:// and s3:// (which has the server's ETag anyway) report it regardless.
  bool need_etag = true;
};

/// How ObjectStore::PutFrom works.
struct PutOptions {
  /// Counts bytes as the destination acknowledges them (for s3://: each part or PutObject once
  /// the server answered 200). May be null. Must outlive the call.
  ProgressSink* progress = nullptr;
  /// When it becomes true the upload stops with Cancelled and commits nothing. May be null.
  const std::atomic<bool>* cancel = nullptr;
  /// Tags stored with the object, as WriteOptions::tags.
  ObjectTags tags{};
};

/// What a backend can and cannot do, for honest differences in the conformance suite.
struct StoreCapabilities {
  bool durable = true;  ///< survives a process restart (false for memory://)
  /// "a" and "a/b" may both be keys, as in S3. False for file://, where "a" would have to be
  /// both a file and a folder: Put of either while the other exists is AlreadyExists there.
  bool key_and_folder_may_share_name = true;
  /// Objects keep the tags they were written with (WriteOptions::tags) and GetTags returns them.
  /// When false, GetTags and a write with tags are Unsupported.
  bool object_tags = true;
};

/// An object store: one bucket (optionally below a root prefix). All methods are thread-safe.
/// Keys are validated by ValidateKey: errors are InvalidArgument naming the key.
/// Error codes: NotFound (no such key or bucket), PermissionDenied, InvalidArgument (bad key or
/// range), Transient/Throttled/Timeout (retryable), Corrupt (integrity check failed), Internal.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// The store's URL with secrets redacted, e.g. "file:///srv/lake"; used in messages.
  [[nodiscard]] virtual std::string Url() const = 0;
  /// What this backend supports.
  [[nodiscard]] virtual StoreCapabilities Capabilities() const = 0;

  /// Metadata of `key`. NotFound when absent.
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;

  /// Streams the object (or `range` of it) into `sink`; returns the object's metadata. A range
  /// starting at or past the end (so any range of an empty object), or ending before it starts,
  /// is InvalidArgument; `last` past the end is clamped (as S3 does). A sink's Error is returned.
  virtual Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                                    std::optional<ByteRange> range = std::nullopt) = 0;

  /// Reads the object (or a range) into memory. For small objects; large ones use GetTo.
  Result<std::string> Get(std::string_view key, std::optional<ByteRange> range = std::nullopt);

  /// Starts a streaming upload of `key`, whose object gets `options.tags` when Close() commits
  /// it. InvalidArgument for a bad key or tag set (ValidateTags); Unsupported for tags on a
  /// backend without Capabilities().object_tags.
  virtual Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                           const WriteOptions& options = {}) = 0;

  /// Writes `bytes` as `key` in one go (OpenWriter + Write + Close); returns the new metadata.
  Result<ObjectInfo> Put(std::string_view key, std::string_view bytes,
                         const WriteOptions& options = {});

  /// The tag set of `key` (empty when it was written without tags), as S3's GetObjectTagging
  /// returns it. NotFound when absent; Unsupported without Capabilities().object_tags.
  virtual Result<ObjectTags> GetTags(std::string_view key) = 0;

  /// Opens `key` for random access (ObjectReader). NotFound when absent; Unsupported by
  /// backends that only stream (s3:// reads with GetTo).
  virtual Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key);

  /// Writes all of `source` as `key` and returns the new metadata. The default streams it
  /// through OpenWriter in 1 MiB reads; s3:// overrides it to send parts straight from the
  /// source, several at once, never holding a part in memory. Errors: those of OpenWriter,
  /// Write and Close, the source's ReadAt errors, Cancelled (see PutOptions::cancel).
  virtual Result<ObjectInfo> PutFrom(std::string_view key, ObjectReader& source,
                                     const PutOptions& options = {});

  /// Lists one page. Keys come in ascending byte order; see ListOptions. InvalidArgument when
  /// max_keys is outside 1..1000.
  virtual Result<ListPage> List(const ListOptions& options) = 0;

  /// Removes `key`. Deleting an absent key succeeds (as S3's DeleteObject does).
  virtual Status Delete(std::string_view key) = 0;

  /// Copies `source_key` to `destination_key` within this store, tags included (as CopyObject's
  /// default x-amz-tagging-directive COPY); NotFound if the source is absent.
  virtual Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) = 0;
};

/// Checks a key: non-empty, at most 1024 bytes (S3's limit, "Creating object key names"), no NUL,
/// no leading '/', no empty (so no trailing '/'), "." or ".." segment, and not ".sluice" or below
/// ".sluice/" (the file:// store's own folder). Returns InvalidArgument naming the key.
/// Thread-safe.
Status ValidateKey(std::string_view key);

/// Checks a tag set against S3's limits (Amazon S3 User Guide, "Categorizing your storage using
/// tags"; the tag pattern of the API Reference's "Tag" data type): at most 10 tags; keys of 1 to
/// 128 characters, values of 0 to 256 (Unicode code points of UTF-8 text), not starting with
/// "aws:"; characters from letters, digits, spaces and `_ . : / = + - @` (any non-ASCII
/// character counts as a letter: no Unicode tables here). Returns InvalidArgument naming the tag.
/// Thread-safe.
Status ValidateTags(const ObjectTags& tags);

/// The tag set as an x-amz-tagging header value (a URL query: "k1=v1&k2=v2", every byte but
/// A-Z a-z 0-9 - _ . ~ percent-encoded). Thread-safe.
std::string FormatTagging(const ObjectTags& tags);

/// Parses FormatTagging's output (any URL-encoded "k=v&…" text, '+' meaning a space).
/// InvalidArgument for a bad escape or a repeated key. Thread-safe.
Result<ObjectTags> ParseTagging(std::string_view text);

/// Options of MakeObjectStore beyond the URL (s3:// uses them; local ones ignore them).
struct StoreOptions {
  /// s3:// endpoint override, e.g. "http://127.0.0.1:7480" (then path-style addressing). Empty:
  /// AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS itself (virtual-hosted addressing).
  std::string endpoint;
  /// s3:// region. Empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1.
  std::string region;
  std::string profile;  ///< s3:// AWS profile of the shared config/credentials files
  /// s3:// integrity check: "md5" sends Content-MD5 with every PUT and part and checks the ETags
  /// S3 returns against what was sent; "none" skips both (e.g. SSE-KMS buckets, whose ETags are
  /// not MD5s).
  std::string checksum = "md5";
  /// s3:// objects up to this many bytes go up in one PutObject; larger ones as a multipart
  /// upload. At most 5 GiB (the PutObject limit).
  std::uint64_t multipart_threshold_bytes = 8ULL * 1024 * 1024;
  /// s3:// size of the first parts of a multipart upload, in bytes (5 MiB..5 GiB); it doubles
  /// every 500 parts so any object up to 5 TiB fits in 10,000 parts.
  std::uint64_t part_size_bytes = 8ULL * 1024 * 1024;
  /// s3:// uploads (PutObject and UploadPart requests) in flight at once across the whole store,
  /// >= 1. A streaming writer holds at most about max(multipart threshold, part size ×
  /// (parallelism + 1)) bytes; PutFrom from a local file holds no part in memory.
  int parallelism = 8;
  /// s3:// uploads take their slots from this budget, shared with other stores (one limit on
  /// requests across several buckets), instead of `parallelism` slots of their own. May be null.
  std::shared_ptr<std::counting_semaphore<>> upload_slots;
  /// s3:// storage class of new objects, sent as x-amz-storage-class (e.g. "STANDARD_IA",
  /// "INTELLIGENT_TIERING", "GLACIER_IR"; Amazon S3 API Reference, "PutObject"). Empty: the
  /// bucket's default.
  std::string storage_class;
};

/// Opens a store from its URL: "file:///abs/folder", "memory://name", "s3://bucket[/prefix]"
/// (s3/s3_store.hpp: credentials, region and endpoint resolved from `options`, the environment
/// and the AWS config files). A file:// folder is created if missing. Returns InvalidArgument for
/// an unknown scheme, bad URL or bad option, PermissionDenied when the folder cannot be created.
/// s3:// sends no request here: missing credentials surface on the first operation.
/// Thread-safe; memory:// stores of the same name share their objects within a process.
Result<std::unique_ptr<ObjectStore>> MakeObjectStore(std::string_view url,
                                                     const StoreOptions& options = {});

/// Accumulates one ListObjectsV2 page from keys fed in ascending order, applying prefix,
/// delimiter, max keys and the continuation token. Backends share it so every one pages alike.
/// The continuation token is the last key or common prefix returned; without one, listing starts
/// after ListOptions::start_after. Not thread-safe.
class ListPageBuilder {
 public:
  explicit ListPageBuilder(const ListOptions& options);
  /// Keys at or before this (the continuation token, else start_after) are skipped by Add; a
  /// backend may use it to skip whole subtrees.
  [[nodiscard]] const std::string& StartAfter() const { return start_after_; }
  /// Offers the next key in ascending order. Returns false once the page is full (the offered
  /// object is then not included, and the page is truncated).
  bool Add(const ObjectInfo& object);
  /// True once the page is full; the backend may stop feeding.
  [[nodiscard]] bool Full() const { return full_; }
  /// The finished page.
  ListPage Finish() &&;

 private:
  ListOptions options_;
  std::string start_after_;
  ListPage page_;
  bool full_ = false;
};

}  // namespace sluice
