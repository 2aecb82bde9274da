#pragma once
/// Sources: where events come from (DESIGN.md, "How data flows"). This issue has `poll` (list a
/// store prefix, emit objects that are new or whose ETag changed) and `index` (an index of run
/// ids, one per line, as the Serratus uploader's index.txt: research/serratus.md §1.5).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice {

/// Receives a batch of events from a source; returns an Error to stop the pass.
using EventSink = std::function<Status(std::vector<Event> events)>;

/// A source of events. Pass() is called from one thread at a time.
class Source {
 public:
  virtual ~Source() = default;
  /// The config name.
  [[nodiscard]] virtual const std::string& Name() const = 0;
  /// One pass (one listing, one read of an index), delivering events in batches.
  virtual Status Pass(const EventSink& sink) = 0;
  /// Pause between passes under `sluice serve`; nullopt for one-shot sources (index).
  [[nodiscard]] virtual std::optional<std::chrono::milliseconds> Interval() const = 0;
};

/// Builds the source of `config` over the opened stores. InvalidArgument (with the config line)
/// for an unknown type or store.
Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config, const Resources& resources);

/// Reads an index of run ids and turns each into an object event `prefix + id + suffix` in
/// `store`. `index_url` is "file:///path/index.txt" or "<store name>:<key>". Lines are trimmed;
/// blank lines are skipped; an `aws s3 ls` line ("2020-04-28 13:45:15 97688 ERR1.summary") gives
/// its last field, and a trailing `suffix` on an id is dropped. A line with inner whitespace that
/// is not such a listing line is InvalidArgument naming the index and line. Thread-safe.
Result<std::vector<Event>> ReadIndexEvents(const std::string& index_url, const std::string& store,
                                           const std::string& prefix, const std::string& suffix,
                                           const Resources& resources);

}  // namespace sluice
