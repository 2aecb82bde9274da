#pragma once
/// Engine: opens a pipeline config's stores, tables, queue, sources and handlers, and runs the
/// worker pool (DESIGN.md, "How data flows"). `sluice run` is SourcesPass + Drain, `sluice serve`
/// is Serve, `sluice worker` is Work, `sluice backfill` is SubmitToRoute + Drain.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/core/metrics.hpp"
#include "sluice/engine/handler.hpp"
#include "sluice/engine/queue/queue.hpp"
#include "sluice/engine/sources/source.hpp"

namespace sluice {

/// What one Drain or Serve did, counted in this process.
struct RunReport {
  std::int64_t enqueued = 0;   ///< new jobs (dedupe skips not counted)
  std::int64_t succeeded = 0;  ///< jobs that succeeded
  std::int64_t dead = 0;       ///< jobs that ended dead
  std::int64_t retried = 0;    ///< failed attempts scheduled for a retry
  std::int64_t released = 0;   ///< jobs released unfinished at shutdown
  std::uint64_t objects_written = 0;
  std::uint64_t rows_written = 0;
  std::chrono::milliseconds elapsed{0};
  bool abandoned = false;  ///< shutdown grace ran out with handlers still running
};

/// The running pipeline. Create once per process; methods are called from the main thread,
/// the worker pool runs on threads of its own.
class Engine {
 public:
  /// Opens everything a config names and builds every route's handler; sources (and their state,
  /// source_state.hpp) are built by the first SourcesPass or Serve, so commands that run none never
  /// open them. Errors name the config file and line (InvalidArgument), or the
  /// store/table/queue that could not be opened.
  static Result<std::unique_ptr<Engine>> Open(PipelineConfig config, const HandlerRegistry& registry);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The config it was opened with.
  [[nodiscard]] const PipelineConfig& Config() const;
  /// The queue (for `sluice jobs`).
  [[nodiscard]] Queue& GetQueue();
  /// The process's metrics (served on engine.listen and on push sources' ports under Serve).
  [[nodiscard]] MetricsRegistry& Metrics();
  /// The opened stores and tables.
  [[nodiscard]] const Resources& GetResources() const;

  /// Routes events to every matching route and enqueues the jobs. Returns how many were new.
  Result<int> Submit(std::vector<Event> events);
  /// Enqueues events for one route, without matching (backfills). InvalidArgument if unknown.
  Result<int> SubmitToRoute(std::string_view route, std::vector<Event> events);
  /// Lets every pull source make one pass, enqueueing what it finds. Push sources (webhook) are
  /// skipped with a log line: they receive events only under Serve. The first call builds the
  /// sources: InvalidArgument naming a poll or listing source when no state database can be found
  /// (an amqp:// queue and no `[engine] state`).
  Status SourcesPass();
  /// Runs the worker pool until no job of the config's routes is pending, running or waiting for a
  /// retry, then stops it. Logs progress every few seconds.
  Result<RunReport> Drain();
  /// Runs sources (pull sources each every interval; push sources Start()ed with a sink that
  /// returns after the enqueue committed) and the worker pool until `stop` becomes true, then
  /// stops push sources, stops claiming, lets running jobs finish within engine.shutdown_grace and
  /// releases the rest. Serves /metrics and /healthz on engine.listen when set. Errors before the
  /// pool starts: a push source or engine.listen that cannot bind (Transient); building the
  /// sources (as SourcesPass).
  Result<RunReport> Serve(const std::atomic<bool>& stop);
  /// `sluice worker`: Serve without the sources. Runs the worker pool on the config's routes until
  /// `stop` becomes true (another process, `sluice serve`, feeds the queue), then shuts down as
  /// Serve does. Errors: the queue's, when subscribing to a route fails at start.
  Result<RunReport> Work(const std::atomic<bool>& stop);

 private:
  Result<RunReport> RunDaemon(const std::atomic<bool>& stop, bool with_sources);
  struct Impl;
  explicit Engine(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice
