#include "sluice/handlers/wibl/handler_io.hpp"

#include <fmt/format.h>

#include <utility>

namespace sluice::wibl::internal {

Result<LoadedObject> LoadObject(const Resources& resources, const std::string& store_name,
                                std::string_view key) {
  LoadedObject loaded;
  loaded.store = resources.FindStore(store_name);
  if (loaded.store == nullptr) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("event names store '{}', which the config does not define", store_name),
                std::string(key));
  }
  loaded.where = fmt::format("{}/{}", loaded.store->Url(), key);
  const auto read = loaded.store->GetTo(key, [&loaded](std::string_view chunk) -> Status {
    if (loaded.text.size() + chunk.size() > kMaxGeoJsonBytes) {
      return Fail(
          ErrorCode::Corrupt,
          fmt::format("object is larger than {} bytes: not a WIBL GeoJSON file", kMaxGeoJsonBytes));
    }
    loaded.text.append(chunk);
    return Ok();
  });
  if (!read) {
    if (read.error().code == ErrorCode::NotFound) {
      return Fail(ErrorCode::NotFound, fmt::format("object {}/{} does not exist", store_name, key),
                  loaded.where);
    }
    return Fail(Error(read.error()).WithContext(loaded.where));
  }
  return loaded;
}

std::string_view BaseName(std::string_view key) {
  const std::size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

}  // namespace sluice::wibl::internal
