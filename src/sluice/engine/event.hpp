#pragma once
/// Event: what happened to what (DESIGN.md, "How data flows"). Sources emit them; routes turn them
/// into jobs. Object events mirror the S3 event notification record (AWS S3 User Guide,
/// "Event message structure"); the JSON form here is sluice's own, stored with each job.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sluice/core/error.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {

/// Kind names used by sluice's own sources. S3 kinds ("ObjectCreated:Put", …) pass through as is.
inline constexpr std::string_view kEventObjectCreatedPut = "ObjectCreated:Put";
/// Emitted by the `index` source and `sluice backfill`: the object is expected to exist.
inline constexpr std::string_view kEventObjectCreatedBackfill = "ObjectCreated:Backfill";

/// One event. Object events fill store/key (and size/etag when known); others use `detail`.
struct Event {
  std::string kind;       ///< "ObjectCreated:Put", "ObjectCreated:Backfill", …
  std::string store;      ///< the config's store name
  std::string key;        ///< object key
  std::uint64_t size_bytes = 0;
  std::string etag;       ///< unquoted, empty when unknown
  std::string version;    ///< object version id, empty when unversioned
  std::string sequencer;  ///< S3 sequencer, for ordering events of one key
  std::chrono::system_clock::time_point time;  ///< when it happened
  nlohmann::json detail = nlohmann::json::object();  ///< non-object events' payload

  /// Serialises to sluice's JSON event form.
  [[nodiscard]] nlohmann::json ToJson() const;
  /// Parses sluice's JSON event form; InvalidArgument naming the bad field.
  static Result<Event> FromJson(const nlohmann::json& json);
};

/// The "ObjectCreated:Put" event of `object` in the store named `store`: what a poll source
/// reports for it, and what a handler Emit()s for an object it wrote so that routes on that
/// store run next (stages chained by object events). Thread-safe.
Event ObjectCreatedEvent(std::string store, const ObjectInfo& object);

/// Orders two S3 sequencers of events on the same key: negative when `a` is older than `b`, zero
/// when equal, positive when newer. Per the AWS S3 User Guide ("Event message structure",
/// sequencer): right-pad the shorter hexadecimal string with zeros, then compare
/// lexicographically. Hex digits compare case-insensitively. Thread-safe.
int CompareSequencers(std::string_view a, std::string_view b);

/// True when `kind` matches `pattern`, where a trailing '*' matches any rest
/// ("ObjectCreated:*" matches "ObjectCreated:Put"). Thread-safe.
bool KindMatches(std::string_view pattern, std::string_view kind);

}  // namespace sluice
