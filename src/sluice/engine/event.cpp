#include "sluice/engine/event.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sluice {
namespace {

std::int64_t ToMillis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

nlohmann::json Event::ToJson() const {
  nlohmann::json json = {{"kind", kind}, {"store", store}, {"key", key},
                         {"size", size_bytes}, {"time_ms", ToMillis(time)}};
  if (!etag.empty()) json["etag"] = etag;
  if (!version.empty()) json["version"] = version;
  if (!sequencer.empty()) json["sequencer"] = sequencer;
  if (!detail.empty()) json["detail"] = detail;
  return json;
}

Result<Event> Event::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Fail(ErrorCode::InvalidArgument, "event is not a JSON object");
  Event event;
  try {
    event.kind = json.at("kind").get<std::string>();
    event.store = json.value("store", "");
    event.key = json.value("key", "");
    event.size_bytes = json.value("size", std::uint64_t{0});
    event.etag = json.value("etag", "");
    event.version = json.value("version", "");
    event.sequencer = json.value("sequencer", "");
    event.time = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(json.value("time_ms", std::int64_t{0})));
    if (json.contains("detail")) event.detail = json.at("detail");
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("bad event JSON: {}", e.what()));
  }
  return event;
}

int CompareSequencers(std::string_view a, std::string_view b) {
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto digit = [i](std::string_view s) {
      const char c = i < s.size() ? s[i] : '0';
      return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    };
    const char x = digit(a), y = digit(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

bool KindMatches(std::string_view pattern, std::string_view kind) {
  if (!pattern.empty() && pattern.back() == '*') {
    return kind.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return pattern == kind;
}

Event ObjectCreatedEvent(std::string store, const ObjectInfo& object) {
  Event event;
  event.kind = std::string(kEventObjectCreatedPut);
  event.store = std::move(store);
  event.key = object.key;
  event.size_bytes = object.size_bytes;
  event.etag = object.etag;
  event.time = object.last_modified;
  return event;
}

}  // namespace sluice
