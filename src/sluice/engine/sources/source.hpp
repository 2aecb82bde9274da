#pragma once
/// Sources: where events come from (DESIGN.md, "How data flows"). Pull sources are passed over:
/// `poll` (list a store prefix, emit objects that are new or whose ETag changed), `listing` (a
/// one-off backfill over a prefix, resumable: stateful_sources.hpp) and `index` (an
/// index of run ids, one per line, as the Serratus uploader's index.txt: research/serratus.md
/// §1.5). Push sources receive events on their own threads between Start() and Stop(): `webhook`
/// (S3 event notifications over HTTP: webhook.hpp), `amqp` (amqp_source.hpp) and `watch` (a local
/// folder: watch.hpp).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/core/metrics.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice {

/// Receives a batch of events from a source; returns an Error to stop the pass.
using EventSink = std::function<Status(std::vector<Event> events)>;

/// What a push source is started with.
struct PushContext {
  /// Where received events go. Called from the source's threads, concurrently; it returns once
  /// the events are durably enqueued (the queue transaction committed), or an Error.
  EventSink sink;
  /// The process's metrics, served on the source's own /metrics; null for none.
  MetricsRegistry* metrics = nullptr;
  /// The /healthz answer: Ok, or an Error saying why the process is not healthy. Empty = healthy.
  std::function<Status()> health;
};

/// A source of events. Pass() is called from one thread at a time.
class Source {
 public:
  virtual ~Source() = default;
  /// The config name.
  [[nodiscard]] virtual const std::string& Name() const = 0;
  /// One pass (one listing, one read of an index), delivering events in batches. Push sources
  /// return Ok without events (they only receive under Start()).
  virtual Status Pass(const EventSink& sink) = 0;
  /// Pause between passes under `sluice serve`; nullopt for one-shot and push sources.
  [[nodiscard]] virtual std::optional<std::chrono::milliseconds> Interval() const = 0;
  /// True for push sources (webhook): `Engine::Serve` Start()s and Stop()s them instead of
  /// calling Pass(), and `Engine::SourcesPass` (`sluice run`) skips them.
  [[nodiscard]] virtual bool IsPush() const { return false; }
  /// True when `sluice run` (`Engine::SourcesPass`) calls Pass(): pull sources, and push sources
  /// whose Pass() does one useful scan (watch). Default: !IsPush().
  [[nodiscard]] virtual bool ScansOnRun() const { return !IsPush(); }
  /// Starts receiving (push sources). Errors: Unsupported for pull sources; a push source's own
  /// (e.g. Transient when its port cannot be bound).
  virtual Status Start(PushContext context) {
    (void)context;
    return Fail(ErrorCode::Unsupported, "not a push source", Name());
  }
  /// Stops receiving; returns after requests in progress were answered. Idempotent; no-op for
  /// pull sources.
  virtual void Stop() {}
};

class SourceState;

/// Builds the source of `config` over the opened stores. `state` (source_state.hpp) is where
/// `poll` and `listing` sources remember what they listed; it must outlive the source. InvalidArgument
/// (with the config line) for an unknown type or store, or a poll or listing source without state.
Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config, const Resources& resources,
                                           SourceState* state = nullptr);

/// Reads an index of run ids and turns each into an object event `prefix + id + suffix` in
/// `store`. `index_url` is "file:///path/index.txt" or "<store name>:<key>". Lines are trimmed;
/// blank lines are skipped; an `aws s3 ls` line ("2020-04-28 13:45:15 97688 ERR1.summary") gives
/// its last field, and a trailing `suffix` on an id is dropped. A line with inner whitespace that
/// is not such a listing line is InvalidArgument naming the index and line. Thread-safe.
Result<std::vector<Event>> ReadIndexEvents(const std::string& index_url, const std::string& store,
                                           const std::string& prefix, const std::string& suffix,
                                           const Resources& resources);

}  // namespace sluice
