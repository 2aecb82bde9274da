#pragma once
/// Reading of the one object a WIBL GeoJSON handler works on (validate_handler.hpp,
/// submit_handler.hpp). Internal to handlers/wibl.

#include <cstddef>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::wibl::internal {

/// GeoJSON made from one WIBL file is a few MB (a 10 MiB log file, research/wibl.md §1.2, holds
/// some 100,000 soundings); anything over this is refused before it exhausts memory.
inline constexpr std::size_t kMaxGeoJsonBytes = std::size_t{512} << 20;

/// An object read for a handler.
struct LoadedObject {
  ObjectStore* store = nullptr;  ///< the store it came from
  std::string where;             ///< "<store url>/<key>", for error contexts
  std::string text;              ///< its bytes
};

/// Reads `key` from the store `store_name` of `resources`. Errors: InvalidArgument (unknown
/// store), NotFound "object <store>/<key> does not exist", Corrupt (larger than
/// kMaxGeoJsonBytes), and the store's own errors with the object as context. Thread-safe.
Result<LoadedObject> LoadObject(const Resources& resources, const std::string& store_name,
                                std::string_view key);

/// The part of `key` after its last '/'. Thread-safe.
std::string_view BaseName(std::string_view key);

}  // namespace sluice::wibl::internal
