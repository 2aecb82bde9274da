#pragma once
/// Handler: turns one Event into outputs, idempotently (DESIGN.md, "Handler"). Handlers read and
/// write only through the ObjectStores and TableStores they are given, use deterministic output
/// keys, and replace rather than append rows, so a job that runs twice leaves the same result.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/store/object_store.hpp"
#include "sluice/tables/table.hpp"

namespace sluice {

/// The stores and tables a pipeline config opened, by config name. Shared by all handlers;
/// the pointed-to stores are thread-safe.
struct Resources {
  std::map<std::string, std::shared_ptr<ObjectStore>, std::less<>> stores;
  std::map<std::string, std::shared_ptr<TableStore>, std::less<>> tables;

  /// The store named `name`, or nullptr.
  [[nodiscard]] ObjectStore* FindStore(std::string_view name) const;
  /// The table store named `name`, or nullptr.
  [[nodiscard]] TableStore* FindTable(std::string_view name) const;
};

/// What a handler did, for logs and reports.
struct Outcome {
  std::uint64_t objects_written = 0;
  std::uint64_t rows_written = 0;
  std::string summary;  ///< one line, e.g. "ERR2756788: 1 run, 12 families, 349 sequences"
  std::uint64_t bytes_read = 0;     ///< bytes the handler read from stores (0 when not reported)
  std::uint64_t bytes_written = 0;  ///< bytes the handler wrote to stores (0 when not reported)
};

/// Per-job context: route name, deadline, cancellation and follow-on events.
/// Used by one thread (the one running the job).
class HandlerContext {
 public:
  /// `cancelled` is the engine's shutdown flag and `deadline_passed` the flag the engine's
  /// watchdog sets when `deadline` passes; either may be null. Both must outlive the context.
  HandlerContext(std::string route, std::string job_id,
                 std::chrono::steady_clock::time_point deadline,
                 const std::atomic<bool>* cancelled,
                 const std::atomic<bool>* deadline_passed = nullptr);

  [[nodiscard]] const std::string& Route() const { return route_; }
  [[nodiscard]] const std::string& JobId() const { return job_id_; }
  /// When the attempt must end; a handler doing long work checks it between steps.
  [[nodiscard]] std::chrono::steady_clock::time_point Deadline() const { return deadline_; }
  /// True once shutdown or the deadline (the route's `timeout`) asks the handler to stop; it
  /// should return Cancelled (the engine turns that into Timeout when the deadline passed).
  [[nodiscard]] bool Cancelled() const;
  /// Queues a follow-on event (routed after the job succeeds).
  void Emit(Event event) { emitted_.push_back(std::move(event)); }
  /// The events emitted so far.
  [[nodiscard]] const std::vector<Event>& Emitted() const { return emitted_; }

 private:
  std::string route_;
  std::string job_id_;
  std::chrono::steady_clock::time_point deadline_;
  const std::atomic<bool>* cancelled_;
  const std::atomic<bool>* deadline_passed_;
  std::vector<Event> emitted_;
};

/// Where a handler writes objects, as far as its options tell: every key it writes in `store`
/// starts with `prefix` and ends with `suffix` (either empty when it may be anything). Engine::Open
/// uses it to refuse a route whose outputs would trigger the route itself.
struct OutputTarget {
  std::string store;   ///< config store name
  std::string prefix;  ///< key prefix of every object written, "" when unknown
  std::string suffix;  ///< key suffix of every object written, "" when unknown
};

/// A handler instance, built once per route from its options. Handle() is called concurrently
/// from up to the route's concurrency threads, so it must be thread-safe.
class Handler {
 public:
  virtual ~Handler() = default;
  /// Processes one event. Errors: InvalidArgument/Corrupt/NotFound (bad input: the job goes
  /// dead once attempts run out, or at once when not retryable), Transient/Throttled/Timeout
  /// (retried with backoff), Cancelled (released, not counted).
  virtual Result<Outcome> Handle(const Event& event, HandlerContext& context) = 0;
  /// The object stores (and key shapes) it writes to; empty when it writes no objects. A handler
  /// that writes objects must declare them, or the self-trigger check cannot see its loops.
  [[nodiscard]] virtual std::vector<OutputTarget> Outputs() const { return {}; }
};

/// Builds a handler from a route's options; validates them strictly (unknown keys, references to
/// stores and tables that do not exist) and returns InvalidArgument naming file, line and key.
using HandlerFactory =
    std::function<Result<std::unique_ptr<Handler>>(const Options& options, const Resources& resources)>;

/// Handler names → factories. Filled once at start-up, then read concurrently.
class HandlerRegistry {
 public:
  /// Registers `name`; a second registration of the same name replaces the first.
  void Register(std::string name, HandlerFactory factory);
  /// Builds the handler `name`; InvalidArgument listing the known names when it is unknown.
  [[nodiscard]] Result<std::unique_ptr<Handler>> Create(std::string_view name, const Options& options,
                                                        const Resources& resources) const;
  /// Registered names, sorted.
  [[nodiscard]] std::vector<std::string> Names() const;

 private:
  std::map<std::string, HandlerFactory, std::less<>> factories_;
};

}  // namespace sluice
