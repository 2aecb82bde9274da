#pragma once
/// Helpers the ObjectStore backends share so they validate, list and word errors alike
/// (ListObjectsV2 semantics: Amazon S3 API Reference, "ListObjectsV2"). Internal to the store
/// module: nothing outside src/sluice/store/ includes this.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice::store_internal {

/// S3's bounds on MaxKeys per page (ListObjectsV2: "returns up to 1,000 key names").
inline constexpr int kMinListKeys = 1;
inline constexpr int kMaxListKeys = 1000;

/// Size of the chunks GetTo hands its sink: bounded memory however large the object.
inline constexpr std::size_t kReadChunkBytes = 256 * 1024;

/// Size of the reads of the default ObjectStore::PutFrom.
inline constexpr std::size_t kPutFromChunkBytes = 1024 * 1024;

/// Cancelled (context "<operation> <key>") once `cancel` is set; Ok when it is null or false.
/// Thread-safe.
Status CheckCancelled(const std::atomic<bool>* cancel, std::string_view operation,
                      std::string_view key);

/// Half-open byte span [begin, end) of an object, resolved from an optional ByteRange.
struct ByteSpan {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// Resolves `range` against an object of `size_bytes` as S3 GetObject does (RFC 9110 §14.1.2):
/// no range = the whole object; `last` past the end is clamped. InvalidArgument (with `context`)
/// when `first` is at or past the end (S3's 416 InvalidRange; so any range of an empty object)
/// or `last` < `first`. Thread-safe.
Result<ByteSpan> ResolveRange(const std::optional<ByteRange>& range, std::uint64_t size_bytes,
                              std::string_view context);

/// Checks `options.max_keys` is in 1..1000. Returns InvalidArgument otherwise. Thread-safe.
Status ValidateListOptions(const ListOptions& options);

/// The common prefix `key` rolls up into under `options` (prefix + text up to and including the
/// first delimiter after the prefix), or nullopt when it does not roll up (no delimiter set, key
/// outside the prefix, or no delimiter after it). The view points into `key`. Thread-safe.
std::optional<std::string_view> CommonPrefixOf(std::string_view key, const ListOptions& options);

/// `key` fit for a message: non-printable bytes as "\\xNN", cut to 200 bytes with "…". Thread-safe.
std::string PrintableKey(std::string_view key);

/// Error context naming the operation and key, e.g. "put summary2/x.summary". Thread-safe.
std::string OpContext(std::string_view operation, std::string_view key);

}  // namespace sluice::store_internal
