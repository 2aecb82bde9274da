#pragma once
/// Copying and listing objects across stores: what `sluice cp` and `sluice ls` do. Keys map as
/// `aws s3 cp` / `aws s3 ls` map them (AWS CLI Command Reference, "s3 cp" and "s3 ls"):
/// - A URI names a store and a key or prefix in it (ParseLocation).
/// - Copying one object: a destination that is empty or ends with '/' means "into": the
///   source's last key segment is appended. Otherwise the destination is the new key.
/// - Copying recursively: every object below the source prefix (taken as a folder: "p" means
///   "p/", so "px/…" is not included) is copied to the destination prefix (also taken as a
///   folder) plus the key's part below the source prefix.
/// - Objects are streamed (GetTo → ObjectWriter::Write → Close), never held whole in memory;
///   a copy within one store (the same ObjectStore instance) uses ObjectStore::Copy instead.
/// - One object's failure does not stop the others; the summary lists every failure.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {

/// Where a URI points: a store and a key or prefix in it.
struct ObjectLocation {
  /// The store to open: "file:///abs/folder" (a raw path: no percent-decoding, as ParseUri),
  /// "s3://bucket" or "memory://name".
  std::string store_url;
  /// The key or prefix in the store, as written (a trailing '/' is kept; "" = the whole store).
  std::string key;

  /// True for a file:// store.
  [[nodiscard]] bool IsLocal() const;
  /// "store_url/key", for messages and for telling whether one location lies inside another.
  [[nodiscard]] std::string ToString() const;
};

/// Splits a command-line URI into a store and a key or prefix:
/// - "s3://bucket/key-or-prefix" and "memory://name/key-or-prefix": the store is the bucket
///   (name), the rest is the key or prefix, unchanged ("s3://bucket" and "s3://bucket/" name
///   the whole bucket).
/// - "file:///abs/path" or a plain path (relative ones are resolved against the current
///   folder; "file://rel/path" is relative too, as in pipeline configs): with `recursive`, or
///   when the path ends with '/' (also "." and ".."), the path is a folder and is the store, with
///   key ""; otherwise the store is the parent folder and the key is the last path segment.
/// The file system is not consulted. Returns InvalidArgument for an empty URI, a NUL byte, an
/// unsupported scheme, or a missing bucket or name. Thread-safe.
Result<ObjectLocation> ParseLocation(std::string_view uri, bool recursive);

/// One object that could not be copied.
struct TransferFailure {
  std::string key;              ///< source key
  std::string destination_key;  ///< where it was going ("" when the listing itself failed)
  Error error;
};

/// What a Copy did.
struct TransferSummary {
  std::uint64_t objects = 0;  ///< objects copied
  std::uint64_t bytes = 0;    ///< bytes of the objects copied
  std::vector<TransferFailure> failed;  ///< in key order; a failed listing is one entry too
  std::chrono::milliseconds elapsed{0};  ///< wall time of the whole copy, listing included
  bool cancelled = false;  ///< TransferOptions::cancel was raised: some objects were not tried

  /// True when every object was copied and nothing was cancelled.
  [[nodiscard]] bool Succeeded() const { return failed.empty() && !cancelled; }
};

/// How Copy works.
struct TransferOptions {
  int jobs = 8;            ///< objects copied at once, >= 1 (each on its own thread)
  bool recursive = false;  ///< copy every object below the source prefix, not one object
  /// Receives totals as the source is listed and bytes as the destination writer accepts them
  /// (Write() returned OK: for a local or memory destination the bytes are written; for s3://
  /// they are buffered or handed to a part upload, not yet acknowledged). May be null.
  ProgressSink* progress = nullptr;
  /// When it becomes true, no new object is started and objects in flight are abandoned (their
  /// writers aborted, so nothing partial is committed). May be null.
  const std::atomic<bool>* cancel = nullptr;
};

/// Copies one object (`recursive` false) or every object below a prefix from `source` to
/// `destination`, mapping keys as the file comment says; `jobs` objects at a time, the listing
/// running ahead of the copies page by page. Keys ending with '/' in a recursive source (S3
/// console "folder" markers) are skipped: no store here can hold them.
/// Returns the summary, with each object's failure in it (any ObjectStore error code); returns
/// an Error only when nothing could start: InvalidArgument for jobs < 1, a non-recursive copy
/// of a prefix (hinting at --recursive), or a recursive copy into its own source within one
/// store; NotFound (or the store's error) when the single source object cannot be read.
/// Thread-safe if the stores are; `source` and `destination` may be the same store.
Result<TransferSummary> Copy(ObjectStore& source, std::string_view source_key_or_prefix,
                             ObjectStore& destination,
                             std::string_view destination_key_or_prefix,
                             const TransferOptions& options);

/// `sluice cp SOURCE DESTINATION`: parses both URIs (ParseLocation), opens their stores with
/// `store_options` (one store when both name the same one, so copies within it are
/// server-side), and copies. For file:// locations it looks at the file system first:
/// - a missing source is NotFound (no folder is created for it); a folder without `recursive`,
///   or a file with it, is InvalidArgument;
/// - a non-recursive copy to an existing folder copies into it, as cp(1) does;
/// - a recursive copy whose destination lies inside its source is InvalidArgument.
/// The file:// store's bookkeeping folder (".sluice/") is removed again from folders where
/// this call created it, so copying leaves no trace beside the files. Errors as Copy, plus
/// those of ParseLocation and MakeObjectStore. Thread-safe.
Result<TransferSummary> CopyUris(std::string_view source_uri, std::string_view destination_uri,
                                 const TransferOptions& options,
                                 const StoreOptions& store_options = {});

/// "copied 1,000 objects (1.2 GiB) in 3.4 s (350.0 MiB/s); 0 failed", then one line per failure
/// ("failed: <key>: <error>"), at most `max_failures_shown` of them and a count of the rest,
/// and "cancelled" when it was. No trailing newline. Thread-safe.
std::string FormatTransferReport(const TransferSummary& summary,
                                 std::size_t max_failures_shown = 20);

/// One line of a listing.
struct ListEntry {
  bool is_prefix = false;  ///< a common prefix ("PRE" line), not an object
  /// What `ls` shows: the full key when listing recursively; otherwise the part after the last
  /// '/' (for a prefix, its last segment with the trailing '/').
  std::string name;
  /// The object; for a prefix only `key` is set (the full common prefix, ending with '/').
  ObjectInfo object;
};

/// Receives listing entries in order; returning an Error stops the listing with it.
using ListEntrySink = std::function<Status(const ListEntry&)>;

/// Lists `prefix` in `store` as `aws s3 ls` does: without `recursive`, with delimiter '/' (so
/// sub-"folders" come as prefixes); with it, every key below. Entries arrive in key order,
/// one page at a time (never the whole listing in memory). Returns the number of entries;
/// errors are the store's List errors or the sink's. Thread-safe if the store is.
Result<std::uint64_t> ListLocation(ObjectStore& store, std::string_view prefix, bool recursive,
                                   const ListEntrySink& on_entry);

/// `sluice ls URI`: parses the URI and lists it with ListLocation. A file:// (or plain) path
/// that is a folder lists the folder's contents, as ls(1) does (an s3:// prefix without a
/// trailing '/' lists as the prefix itself, as aws s3 ls does). NotFound when a file://
/// path's folder does not exist (nothing is created). Errors as ParseLocation,
/// MakeObjectStore and ListLocation. Thread-safe.
Result<std::uint64_t> ListUri(std::string_view uri, bool recursive,
                              const StoreOptions& store_options, const ListEntrySink& on_entry);

/// `aws s3 ls` style: "2026-11-21 09:30:01      12345 name" (local time, size right-aligned in
/// 10 columns), or "                           PRE name/" for a prefix. No newline. Thread-safe.
std::string FormatListLine(const ListEntry& entry);

/// One JSON object per entry: {"key":"a/b","size":12345,"etag":"…","last_modified":
/// "2026-11-21T09:30:01.000Z"} (UTC, as S3 writes it), or {"prefix":"a/"}. No newline.
/// Thread-safe.
std::string FormatListJson(const ListEntry& entry);

}  // namespace sluice
