#include "sluice/engine/engine.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/http_server.hpp"
#include "sluice/core/log.hpp"
#include "sluice/core/retry.hpp"
#include "sluice/core/units.hpp"
#include "sluice/engine/router.hpp"
#include "sluice/engine/sources/source_state.hpp"
#include "sluice/engine/sources/webhook.hpp"

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kProgressEvery = std::chrono::seconds(5);
constexpr auto kCancelWait = std::chrono::seconds(2);
constexpr auto kDrainCheckEvery = std::chrono::seconds(1);
// A worker claims (and records as succeeded) up to this many jobs per queue transaction. It starts
// at one and doubles while jobs take under kFastJob each, so quick jobs share transactions and
// slow ones keep every worker of the route busy.
constexpr int kMaxClaimBatch = 16;
constexpr auto kFastJob = std::chrono::milliseconds(5);
constexpr auto kNoDeadline = std::chrono::hours(24 * 365);
// A daemon's subscription retries (Impl::Subscribe) wait 0.5 s, doubling up to 10 s, jittered.
constexpr auto kSubscribeBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxSubscribeBackoff = std::chrono::seconds(10);

std::string ProcessOwner() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("{}:{}:{:06x}", host, getpid(), static_cast<unsigned>(RandomUnit() * 0xFFFFFF));
}

// Signals the attempts whose deadline (the route's `timeout`) passed: sets the job's flag, which
// HandlerContext::Cancelled() reads, and logs it with the job's context. One thread, started only
// for configs with a route timeout; it never touches the Engine.
class Watchdog {
 public:
  Watchdog() : thread_([this] { Loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Watches `flag` (which must stay alive until Disarm) until `deadline`.
  std::uint64_t Arm(SteadyClock::time_point deadline, std::atomic<bool>* flag, std::string route,
                    std::string job, std::string key, std::chrono::milliseconds timeout) {
    std::lock_guard lock(mutex_);
    const std::uint64_t token = ++next_token_;
    armed_[token] = Entry{deadline, flag, std::move(route), std::move(job), std::move(key), timeout};
    cv_.notify_all();
    return token;
  }

  void Disarm(std::uint64_t token) {
    std::lock_guard lock(mutex_);
    armed_.erase(token);
  }

 private:
  struct Entry {
    SteadyClock::time_point deadline;
    std::atomic<bool>* flag;
    std::string route, job, key;
    std::chrono::milliseconds timeout;
  };

  void Loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      auto next = armed_.end();
      for (auto it = armed_.begin(); it != armed_.end(); ++it) {
        if (next == armed_.end() || it->second.deadline < next->second.deadline) next = it;
      }
      if (next == armed_.end()) {
        cv_.wait(lock);
        continue;
      }
      if (SteadyClock::now() < next->second.deadline) {
        cv_.wait_until(lock, next->second.deadline);
        continue;  // re-scan: armed_ may have changed
      }
      const Entry& entry = next->second;
      entry.flag->store(true);
      {
        LogScope scope(entry.route, entry.job, entry.key);
        spdlog::warn("the attempt is past the route's timeout of {}; signalling cancellation",
                     FormatDuration(entry.timeout));
      }
      armed_.erase(next);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::uint64_t, Entry> armed_;  // guarded by mutex_
  std::uint64_t next_token_ = 0;          // guarded by mutex_
  bool stop_ = false;                     // guarded by mutex_
  std::thread thread_;                    // last: starts after the fields above exist
};

// "2h13m", "4m5s", "12s", "250ms": a measured age, rounded to what a reader needs.
std::string FormatAge(std::chrono::milliseconds age) {
  using namespace std::chrono;
  if (age < seconds(1)) return FormatDuration(age);
  const auto total = duration_cast<seconds>(age).count();
  const auto d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60, sec = total % 60;
  if (d > 0) return fmt::format("{}d{}h", d, h);
  if (h > 0) return fmt::format("{}h{}m", h, m);
  if (m > 0) return fmt::format("{}m{}s", m, sec);
  return fmt::format("{}s", sec);
}

struct RouteRuntime {
  const RouteConfig* config = nullptr;
  std::unique_ptr<Handler> handler;
};

}  // namespace

struct Engine::Impl {
  PipelineConfig config;
  Resources resources;
  std::unique_ptr<Queue> queue;
  // Sources are built, and their state opened, only by the commands that run them (OpenSources):
  // `sluice worker`, `jobs` and `dlq` never touch either. The state outlives the sources.
  std::shared_ptr<SourceState> source_state;
  std::vector<std::unique_ptr<Source>> sources;
  bool sources_opened = false;
  std::vector<RouteRuntime> routes;
  std::vector<std::string> route_names;
  std::string owner = ProcessOwner();
  std::unique_ptr<Watchdog> watchdog;  // only when a route has a timeout

  // Worker pool state. Threads hold a shared_ptr to this Impl, so a handler abandoned at
  // shutdown never outlives what it uses; each pool generation has its own stop flag.
  std::vector<std::thread> workers;
  std::thread heartbeat;
  std::shared_ptr<std::atomic<bool>> stop_claiming = std::make_shared<std::atomic<bool>>(false);
  std::atomic<bool> cancel{false};
  std::atomic<bool> workers_done{false};
  std::mutex mutex;
  std::condition_variable work_cv;      // new jobs enqueued, or stopping
  // Bumped under `mutex` by every enqueue that added jobs. A worker notes it before it claims and
  // sleeps only while it is unchanged, so a job enqueued during an empty claim is never missed
  // and a notification ends the sleep at once instead of after idle_poll.
  std::uint64_t work_generation = 0;  // guarded by mutex
  std::condition_variable inflight_cv;  // a job finished
  std::condition_variable idle_cv;      // a worker found nothing to claim
  std::map<std::int64_t, std::string> inflight;  // claimed job id → lease owner; guarded by mutex

  // Prometheus metrics of this process (SetUpMetrics), served by Serve on engine.listen and by
  // push sources on their own ports.
  MetricsRegistry metrics;
  std::atomic<bool> stopping{false};

  // Counters of the current Drain/Serve.
  std::atomic<std::int64_t> enqueued{0}, succeeded{0}, dead{0}, retried{0}, released{0};
  std::atomic<std::uint64_t> objects_written{0}, rows_written{0};

  Result<int> Enqueue(const std::vector<NewJob>& jobs) {
    if (jobs.empty()) return 0;
    SLUICE_ASSIGN_OR_RETURN(int added, queue->Enqueue(jobs));
    enqueued += added;
    if (added > 0) {
      {
        std::lock_guard lock(mutex);
        ++work_generation;
      }
      work_cv.notify_all();
    }
    return added;
  }

  Result<int> Submit(std::vector<Event> events) {
    std::vector<NewJob> jobs;
    for (auto& event : events) {
      auto routed = RouteEvent(config.routes, event);
      if (routed.empty()) spdlog::debug("no route matches {} {}/{}", event.kind, event.store, event.key);
      for (auto& job : routed) jobs.push_back(std::move(job));
    }
    return Enqueue(jobs);
  }

  void ResetCounters() {
    enqueued = succeeded = dead = retried = released = 0;
    objects_written = rows_written = 0;
  }

  // Subscribes to every route's jobs. With `stop` (a daemon), a retryable error (a broker that is
  // restarting, or too loaded to answer in time) is logged and retried until it passes or `stop`
  // is set: a `sluice worker` started beside a busy broker must wait for it, not exit.
  Status Subscribe(const std::atomic<bool>* stop) {
    for (const auto& route : routes) {
      for (int attempt = 1;; ++attempt) {
        Status subscribed = queue->Subscribe(route.config->name, route.config->concurrency);
        if (subscribed || stop == nullptr || *stop || !IsRetryable(subscribed.error().code)) {
          SLUICE_RETURN_IF_ERROR(subscribed);
          break;
        }
        const RetryPolicy policy{.max_attempts = 1, .initial_backoff = kSubscribeBackoff,
                                 .max_backoff = kMaxSubscribeBackoff};
        const auto delay = BackoffDelay(policy, attempt, RandomUnit());
        spdlog::warn("route '{}': subscribing failed (attempt {}), retrying in {}: {}", route.config->name,
                     attempt, FormatDuration(delay), subscribed.error().ToString());
        const auto until = SteadyClock::now() + delay;
        while (!*stop && SteadyClock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return Ok();
  }

  Status StartWorkers(const std::shared_ptr<Impl>& self, const std::atomic<bool>* stop = nullptr) {
    SLUICE_RETURN_IF_ERROR(Subscribe(stop));
    stop_claiming = std::make_shared<std::atomic<bool>>(false);
    cancel = false;
    workers_done = false;
    for (std::size_t r = 0; r < routes.size(); ++r) {
      for (int i = 0; i < routes[r].config->concurrency; ++i) {
        workers.emplace_back([self, r, i, stop = stop_claiming] { self->WorkerLoop(self->routes[r], i, *stop); });
      }
    }
    heartbeat = std::thread([self] { self->HeartbeatLoop(); });
    return Ok();
  }

  void Untrack(std::span<const std::int64_t> ids) {
    {
      std::lock_guard lock(mutex);
      for (std::int64_t id : ids) inflight.erase(id);
    }
    inflight_cv.notify_all();
  }

  // Claims jobs a batch at a time and records successes a batch at a time: two queue
  // transactions per batch instead of two per job (see kMaxClaimBatch). A success not yet recorded
  // when the process dies only makes that job run again, which idempotent handlers allow.
  void WorkerLoop(RouteRuntime& route, int index, const std::atomic<bool>& stop) {
    const std::string worker = fmt::format("{}:{}#{}", owner, route.config->name, index);
    std::deque<Job> batch;
    std::vector<std::int64_t> done;
    int batch_size = 1;
    std::size_t batch_jobs = 0;
    auto batch_started = SteadyClock::now();
    const auto flush = [&] {
      if (done.empty()) return;
      auto recorded = queue->SucceedBatch(done, worker);
      if (!recorded) {
        spdlog::error("could not mark {} job(s) succeeded (they will run again): {}", done.size(),
                      recorded.error().ToString());
      } else if (static_cast<std::size_t>(*recorded) < done.size()) {
        spdlog::warn("{} job(s) lost their lease before completion was recorded",
                     done.size() - static_cast<std::size_t>(*recorded));
      }
      Untrack(done);
      done.clear();
    };
    while (!stop) {
      if (batch.empty()) {
        flush();
        if (batch_jobs > 0) {
          const auto per_job = (SteadyClock::now() - batch_started) / batch_jobs;
          batch_size = per_job < kFastJob ? std::min(batch_size * 2, kMaxClaimBatch) : 1;
        }
        std::uint64_t generation = 0;
        {
          std::lock_guard lock(mutex);
          generation = work_generation;
        }
        auto claimed = queue->ClaimBatch(route.config->name, worker, config.queue.lease, batch_size);
        if (!claimed || claimed->empty()) {
          if (!claimed) spdlog::error("claim on route '{}': {}", route.config->name, claimed.error().ToString());
          idle_cv.notify_all();
          std::unique_lock lock(mutex);
          work_cv.wait_for(lock, config.engine.idle_poll, [&] {
            return stop.load() || work_generation != generation;
          });
          continue;
        }
        {
          std::lock_guard lock(mutex);
          for (const Job& job : *claimed) inflight[job.id] = worker;
        }
        batch.assign(std::make_move_iterator(claimed->begin()), std::make_move_iterator(claimed->end()));
        batch_jobs = batch.size();
        batch_started = SteadyClock::now();
      }
      const Job job = std::move(batch.front());
      batch.pop_front();
      const auto attempt_started = SteadyClock::now();
      const bool job_succeeded = RunJob(route, job, worker);
      ObserveAttempt(route.config->name, job_succeeded, SteadyClock::now() - attempt_started);
      if (job_succeeded) {
        done.push_back(job.id);
      } else {
        const std::int64_t ids[] = {job.id};
        Untrack(ids);
      }
    }
    flush();
    // Jobs claimed but not started go back to the queue untouched.
    for (const Job& job : batch) {
      if (auto r = queue->Release(job.id, worker); !r) spdlog::error("release: {}", r.error().ToString());
      const std::int64_t ids[] = {job.id};
      Untrack(ids);
    }
  }

  // Runs one job; true when the handler succeeded (its completion is recorded by the caller).
  bool RunJob(RouteRuntime& route, const Job& job, const std::string& worker) {
    const RouteConfig& rc = *route.config;
    const std::string job_id = std::to_string(job.id);
    LogScope scope(rc.name, job_id, job.event.key);
    if (rc.max_event_age.count() > 0 && job.event.time.time_since_epoch().count() != 0) {
      const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now() - job.event.time);
      if (age > rc.max_event_age) {
        const Error too_old{ErrorCode::InvalidArgument,
                            fmt::format("event is {} old, older than max_event_age {}", FormatAge(age),
                                        FormatDuration(rc.max_event_age)),
                            ""};
        RecordFailure(rc, job, worker, too_old);
        return false;
      }
    }
    if (!job.event.sequencer.empty() && !job.newest_sequencer.empty() &&
        CompareSequencers(job.event.sequencer, job.newest_sequencer) < 0) {
      // A newer event of this key was enqueued: its job ran or will run after this one, and this
      // older event must not overwrite its result (S3 event ordering, AWS S3 User Guide).
      spdlog::info("superseded by sequencer {} (this event's is {}): skipped",
                   job.newest_sequencer, job.event.sequencer);
      ++succeeded;
      return true;
    }
    const auto started = SteadyClock::now();
    const auto deadline = started + (rc.timeout.count() > 0 ? rc.timeout : kNoDeadline);
    std::atomic<bool> deadline_passed{false};
    std::uint64_t watch = 0;
    if (watchdog && rc.timeout.count() > 0) {
      watch = watchdog->Arm(deadline, &deadline_passed, rc.name, job_id, job.event.key, rc.timeout);
    }
    HandlerContext context(rc.name, job_id, deadline, &cancel, &deadline_passed);
    Result<Outcome> result = Fail(ErrorCode::Internal, "handler did not run");
    try {
      result = route.handler->Handle(job.event, context);
    } catch (const std::exception& e) {
      result = Fail(ErrorCode::Internal, fmt::format("handler threw: {}", e.what()));
    }
    if (watch != 0) watchdog->Disarm(watch);
    const bool overran = rc.timeout.count() > 0 && SteadyClock::now() > deadline;
    if (overran && result) {
      spdlog::warn("succeeded after {}, past the route's timeout of {}; keeping the result",
                   FormatAge(std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started)),
                   FormatDuration(rc.timeout));
    } else if (overran && !cancel) {
      result = Fail(ErrorCode::Timeout,
                    fmt::format("the attempt overran the route's timeout of {} ({})",
                                FormatDuration(rc.timeout), result.error().ToString()));
    }
    if (result) {
      if (!context.Emitted().empty()) {
        if (auto submitted = Submit(context.Emitted()); !submitted) {
          spdlog::error("follow-on events not enqueued: {}", submitted.error().ToString());
        }
      }
      ++succeeded;
      objects_written += result->objects_written;
      rows_written += result->rows_written;
      CountBytes(rc.name, *result);
      spdlog::debug("succeeded: {}", result->summary);
      return true;
    }
    RecordFailure(rc, job, worker, result.error());
    return false;
  }

  void RecordFailure(const RouteConfig& route, const Job& job, const std::string& worker,
                     const Error& error) {
    if (error.code == ErrorCode::Cancelled && cancel) {
      if (auto r = queue->Release(job.id, worker); !r) spdlog::error("release: {}", r.error().ToString());
      ++released;
      return;
    }
    std::optional<std::chrono::milliseconds> retry_after;
    if (IsRetryable(error.code)) retry_after = BackoffDelay(route.retry, job.attempts, RandomUnit());
    auto state = queue->FailAttempt(job.id, worker, error.ToString(), retry_after);
    if (!state) {
      spdlog::error("could not record the failure (the job will run again): {}", state.error().ToString());
      return;
    }
    if (!*state) {
      spdlog::warn("lease lost before the failure was recorded: {}", error.ToString());
    } else if (**state == JobState::Dead) {
      ++dead;
      spdlog::error("dead after {} attempt(s): [{}] {}", job.attempts, ToString(error.code), error.ToString());
    } else {
      ++retried;
      spdlog::warn("attempt {}/{} failed, retrying in {}: [{}] {}", job.attempts, job.max_attempts,
                   FormatDuration(*retry_after), ToString(error.code), error.ToString());
    }
  }

  void HeartbeatLoop() {
    const auto every = std::max(config.queue.lease / 3, std::chrono::milliseconds(50));
    std::unique_lock lock(mutex);
    while (!workers_done) {
      work_cv.wait_for(lock, every, [this] { return workers_done.load(); });
      if (workers_done) break;
      std::map<std::string, std::vector<std::int64_t>> by_owner;
      for (const auto& [id, worker] : inflight) by_owner[worker].push_back(id);
      lock.unlock();
      for (const auto& [worker, ids] : by_owner) {
        if (auto r = queue->ExtendLeases(ids, worker, config.queue.lease); !r) {
          spdlog::warn("lease extension failed: {}", r.error().ToString());
        }
      }
      lock.lock();
    }
  }

  // Stops claiming; waits up to `grace` for running jobs; then cancels, waits briefly, and
  // releases whatever is still running. Returns true when handlers had to be abandoned.
  bool StopWorkers(std::chrono::milliseconds grace) {
    *stop_claiming = true;
    work_cv.notify_all();
    bool abandoned = false;
    {
      std::unique_lock lock(mutex);
      if (!inflight_cv.wait_for(lock, grace, [this] { return inflight.empty(); })) {
        spdlog::warn("{} job(s) still running after the {} shutdown grace; cancelling",
                     inflight.size(), FormatDuration(grace));
        cancel = true;
        if (!inflight_cv.wait_for(lock, kCancelWait, [this] { return inflight.empty(); })) {
          for (const auto& [id, worker] : inflight) {
            if (auto r = queue->Release(id, worker); !r) spdlog::error("release: {}", r.error().ToString());
            ++released;
          }
          inflight.clear();
          abandoned = true;
        }
      }
    }
    workers_done = true;
    work_cv.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
    for (auto& worker : workers) {
      if (abandoned) {
        worker.detach();  // still inside a handler; it holds its own reference to this Impl
      } else {
        worker.join();
      }
    }
    workers.clear();
    return abandoned;
  }

  RunReport Report(SteadyClock::time_point started, bool abandoned) const {
    RunReport report;
    report.enqueued = enqueued;
    report.succeeded = succeeded;
    report.dead = dead;
    report.retried = retried;
    report.released = released;
    report.objects_written = objects_written;
    report.rows_written = rows_written;
    report.abandoned = abandoned;
    report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
    return report;
  }

  // --- metrics (docs/configuration.md, "Metrics") ------------------------------------------
  void SetUpMetrics() {
    metrics.Declare("sluice_events_received_total", MetricType::Counter, "Events delivered by each source.");
    metrics.Declare("sluice_job_attempts_total", MetricType::Counter, "Handler attempts by route and result.");
    metrics.Declare("sluice_job_attempt_duration_seconds", MetricType::Histogram,
                    "Duration of handler attempts by route, in seconds.");
    metrics.Declare("sluice_handler_bytes_read_total", MetricType::Counter,
                    "Bytes handlers reported reading, by route.");
    metrics.Declare("sluice_handler_bytes_written_total", MetricType::Counter,
                    "Bytes handlers reported writing, by route.");
    metrics.Declare("sluice_jobs", MetricType::Gauge, "Jobs in the queue by route and state.");
    metrics.Declare("sluice_queue_depth", MetricType::Gauge,
                    "Jobs waiting to run (pending, or failed and waiting to retry) by route.");
    metrics.Declare("sluice_dlq_size", MetricType::Gauge, "Dead-lettered jobs by route.");
    metrics.AddCollector([this](MetricsRegistry& registry) {
      registry.ClearSeries("sluice_jobs");
      for (const auto& route : route_names) {
        const std::string names[] = {route};
        auto stats = queue->Stats(names);
        if (!stats) {
          spdlog::warn("metrics: queue stats of route '{}': {}", route, stats.error().ToString());
          continue;
        }
        const auto count = [&](JobState state) {
          const auto it = stats->counts.find(state);
          return it == stats->counts.end() ? std::int64_t{0} : it->second;
        };
        for (JobState state : {JobState::Pending, JobState::Running, JobState::Succeeded, JobState::Failed,
                               JobState::Dead}) {
          registry.Set("sluice_jobs", {{"route", route}, {"state", std::string(ToString(state))}},
                       static_cast<double>(count(state)));
        }
        registry.Set("sluice_queue_depth", {{"route", route}},
                     static_cast<double>(count(JobState::Pending) + count(JobState::Failed)));
        registry.Set("sluice_dlq_size", {{"route", route}}, static_cast<double>(count(JobState::Dead)));
      }
    });
  }

  void ObserveAttempt(const std::string& route, bool job_succeeded, SteadyClock::duration elapsed) {
    metrics.Increment("sluice_job_attempts_total", {{"route", route}, {"result", job_succeeded ? "succeeded" : "failed"}});
    metrics.Observe("sluice_job_attempt_duration_seconds", {{"route", route}},
                    std::chrono::duration<double>(elapsed).count());
  }

  void CountBytes(const std::string& route, const Outcome& outcome) {
    if (outcome.bytes_read > 0) {
      metrics.Increment("sluice_handler_bytes_read_total", {{"route", route}}, static_cast<double>(outcome.bytes_read));
    }
    if (outcome.bytes_written > 0) {
      metrics.Increment("sluice_handler_bytes_written_total", {{"route", route}},
                        static_cast<double>(outcome.bytes_written));
    }
  }

  Status OpenSources() {
    if (sources_opened) return Ok();
    SLUICE_ASSIGN_OR_RETURN(source_state, OpenSourceStateFor(config));
    for (const auto& source : config.sources) {
      auto made = MakeSource(source, resources, source_state.get());
      if (!made) return Fail(std::move(made).error().WithContext(config.file.string()));
      sources.push_back(std::move(*made));
    }
    sources_opened = true;
    return Ok();
  }

  // Submit for events delivered by a source: counted by source name.
  Result<int> SubmitFromSource(const std::string& source, std::vector<Event> events) {
    metrics.Increment("sluice_events_received_total", {{"source", source}}, static_cast<double>(events.size()));
    return Submit(std::move(events));
  }

  void LogProgress(const QueueStats& stats, SteadyClock::time_point started) const {
    const auto count = [&](JobState s) {
      const auto it = stats.counts.find(s);
      return it == stats.counts.end() ? std::int64_t{0} : it->second;
    };
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    spdlog::info("progress: {} succeeded, {} dead, {} pending, {} running, {} waiting to retry ({:.0f} jobs/s)",
                 succeeded.load(), dead.load(), count(JobState::Pending), count(JobState::Running),
                 count(JobState::Failed), seconds > 0 ? static_cast<double>(succeeded + dead) / seconds : 0.0);
  }
};

Engine::Engine(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  if (!impl_->workers.empty()) impl_->StopWorkers(impl_->config.engine.shutdown_grace);
}

Result<std::unique_ptr<Engine>> Engine::Open(PipelineConfig config, const HandlerRegistry& registry) {
  auto impl = std::make_shared<Impl>();
  impl->config = std::move(config);
  const PipelineConfig& c = impl->config;
  for (const auto& [name, store] : c.stores) {
    StoreOptions options;
    options.endpoint = store.endpoint;
    options.region = store.region;
    options.profile = store.profile;
    options.checksum = store.checksum;
    options.multipart_threshold_bytes = store.multipart_threshold_bytes;
    options.part_size_bytes = store.part_size_bytes;
    options.parallelism = store.parallelism;
    auto opened = MakeObjectStore(store.url, options);
    if (!opened) return Fail(std::move(opened).error().WithContext(fmt::format("store '{}'", name)));
    impl->resources.stores[name] = std::move(*opened);
  }
  for (const auto& [name, table] : c.tables) {
    auto opened = MakeTableStore(table.url);
    if (!opened) return Fail(std::move(opened).error().WithContext(fmt::format("table '{}'", name)));
    impl->resources.tables[name] = std::move(*opened);
  }
  auto queue = MakeQueue(c.queue.url);
  if (!queue) return Fail(std::move(queue).error().WithContext("queue"));
  impl->queue = std::move(*queue);
  std::vector<RouteOutputs> route_outputs;
  for (const auto& route : c.routes) {
    const std::string where = fmt::format("{}:{}: route '{}'", c.file.string(), route.line, route.name);
    auto handler = registry.Create(route.handler, route.options, impl->resources);
    if (!handler) return Fail(std::move(handler).error().WithContext(where));
    route_outputs.push_back(RouteOutputs{&route, (*handler)->Outputs(), where});
    impl->routes.push_back(RouteRuntime{&route, std::move(*handler)});
    impl->route_names.push_back(route.name);
    if (route.timeout.count() > 0 && !impl->watchdog) impl->watchdog = std::make_unique<Watchdog>();
  }
  SLUICE_RETURN_IF_ERROR(CheckTriggerLoops(route_outputs));
  impl->SetUpMetrics();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const PipelineConfig& Engine::Config() const { return impl_->config; }
Queue& Engine::GetQueue() { return *impl_->queue; }
MetricsRegistry& Engine::Metrics() { return impl_->metrics; }
const Resources& Engine::GetResources() const { return impl_->resources; }

Result<int> Engine::Submit(std::vector<Event> events) { return impl_->Submit(std::move(events)); }

Result<int> Engine::SubmitToRoute(std::string_view route, std::vector<Event> events) {
  const RouteConfig* config = impl_->config.FindRoute(route);
  if (config == nullptr) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("no route named '{}'", route),
                impl_->config.file.string());
  }
  std::vector<NewJob> jobs;
  for (auto& event : events) jobs.push_back(MakeJob(*config, std::move(event)));
  return impl_->Enqueue(jobs);
}

Status Engine::SourcesPass() {
  SLUICE_RETURN_IF_ERROR(impl_->OpenSources());
  for (auto& source : impl_->sources) {
    if (!source->ScansOnRun()) {
      spdlog::info("source '{}' receives events only under `sluice serve`; skipped", source->Name());
      continue;
    }
    std::int64_t added = 0;
    SLUICE_RETURN_IF_ERROR(source->Pass([&](std::vector<Event> events) -> Status {
      SLUICE_ASSIGN_OR_RETURN(int n, impl_->SubmitFromSource(source->Name(), std::move(events)));
      added += n;
      return Ok();
    }));
    spdlog::info("source '{}': {} new job(s)", source->Name(), added);
  }
  return Ok();
}

Result<RunReport> Engine::Drain() {
  Impl& impl = *impl_;
  const auto started = SteadyClock::now();
  SLUICE_RETURN_IF_ERROR(impl.StartWorkers(impl_));
  auto last_progress = started;
  Status status = Ok();
  while (true) {
    {
      // Look at the queue only when a worker came up empty (or now and then for progress and
      // lease recovery): while jobs flow, the drain loop costs nothing.
      std::unique_lock lock(impl.mutex);
      impl.idle_cv.wait_for(lock, kDrainCheckEvery);
    }
    if (auto r = impl.queue->RecoverExpiredLeases(); !r) {
      status = Fail(r.error());
      break;
    } else if (*r > 0) {
      spdlog::warn("recovered {} job(s) whose lease expired", *r);
    }
    auto stats = impl.queue->Stats(impl.route_names);
    if (!stats) {
      status = Fail(stats.error());
      break;
    }
    if (stats->Open() == 0) break;
    if (SteadyClock::now() - last_progress >= kProgressEvery) {
      impl.LogProgress(*stats, started);
      last_progress = SteadyClock::now();
    }
  }
  const bool abandoned = impl.StopWorkers(impl.config.engine.shutdown_grace);
  if (!status) return Fail(status.error());
  RunReport report = impl.Report(started, abandoned);
  impl.ResetCounters();  // the next Drain reports only its own work (enqueues included)
  return report;
}

Result<RunReport> Engine::Serve(const std::atomic<bool>& stop) { return RunDaemon(stop, true); }

Result<RunReport> Engine::Work(const std::atomic<bool>& stop) { return RunDaemon(stop, false); }

Result<RunReport> Engine::RunDaemon(const std::atomic<bool>& stop, bool with_sources) {
  Impl& impl = *impl_;
  const auto started = SteadyClock::now();

  if (with_sources) SLUICE_RETURN_IF_ERROR(impl.OpenSources());
  impl.stopping = false;
  const auto health = [&impl]() -> Status {
    if (impl.stopping) return Fail(ErrorCode::Cancelled, "shutting down");
    return Ok();
  };
  std::unique_ptr<HttpServer> ops_server;
  if (!impl.config.engine.listen.empty()) {
    auto address = ParseListenAddress(impl.config.engine.listen);
    if (!address) return Fail(std::move(address).error().WithContext("engine.listen"));
    HttpServerOptions options;
    options.host = address->first;
    options.port = address->second;
    options.max_body_bytes = 0;
    options.threads = 2;
    auto server = HttpServer::Start(options, [&impl, health](const HttpServerRequest& request) {
      auto answer = ServeOpsEndpoint(request, &impl.metrics, health);
      if (answer) return *answer;
      HttpServerResponse not_found;
      not_found.status = 404;
      not_found.body = "not found: try /metrics or /healthz\n";
      return not_found;
    });
    if (!server) return Fail(std::move(server).error().WithContext("engine.listen"));
    ops_server = std::move(*server);
    spdlog::info("metrics on http://{}/metrics, health on /healthz", ops_server->Address());
  }
  std::vector<Source*> push_sources;
  for (auto& source : impl.sources) {
    if (!with_sources || !source->IsPush()) continue;
    PushContext context;
    context.sink = [&impl, name = source->Name()](std::vector<Event> events) -> Status {
      auto added = impl.SubmitFromSource(name, std::move(events));
      if (!added) return Fail(std::move(added).error());
      return Ok();
    };
    context.metrics = &impl.metrics;
    context.health = health;
    if (auto push = source->Start(std::move(context)); !push) {
      for (Source* s : push_sources) s->Stop();
      return Fail(push.error());
    }
    push_sources.push_back(source.get());
  }
  if (auto workers = impl.StartWorkers(impl_, &stop); !workers) {
    for (Source* s : push_sources) s->Stop();
    return Fail(workers.error());
  }

  std::vector<std::thread> source_threads;
  for (auto& source : impl.sources) {
    if (!with_sources || source->IsPush()) continue;
    source_threads.emplace_back([&impl, &stop, src = source.get()] {
      while (!stop) {
        auto pass = src->Pass([&](std::vector<Event> events) -> Status {
          auto added = impl.SubmitFromSource(src->Name(), std::move(events));
          if (!added) return Fail(std::move(added).error());
          return Ok();
        });
        if (!pass) spdlog::error("{}", pass.error().ToString());
        const auto interval = src->Interval();
        if (!interval) break;
        const auto until = SteadyClock::now() + *interval;
        while (!stop && SteadyClock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }

  auto last_recovery = SteadyClock::now();
  auto last_progress = started;
  while (!stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (SteadyClock::now() - last_recovery >= std::min<std::chrono::milliseconds>(impl.config.queue.lease / 2, std::chrono::seconds(5))) {
      last_recovery = SteadyClock::now();
      if (auto r = impl.queue->RecoverExpiredLeases(); !r) {
        spdlog::error("lease recovery: {}", r.error().ToString());
      } else if (*r > 0) {
        spdlog::warn("recovered {} job(s) whose lease expired", *r);
        impl.work_cv.notify_all();
      }
    }
    if (SteadyClock::now() - last_progress >= std::chrono::seconds(60)) {
      last_progress = SteadyClock::now();
      if (auto stats = impl.queue->Stats(impl.route_names); stats) impl.LogProgress(*stats, started);
    }
  }
  spdlog::info("stopping: no new claims; waiting up to {} for running jobs",
               FormatDuration(impl.config.engine.shutdown_grace));
  impl.stopping = true;
  // Push sources stop first: what they accepted is already enqueued, and nothing new arrives.
  for (Source* source : push_sources) source->Stop();
  for (auto& thread : source_threads) thread.join();
  const bool abandoned = impl.StopWorkers(impl.config.engine.shutdown_grace);
  if (ops_server) ops_server->Stop();
  RunReport report = impl.Report(started, abandoned);
  impl.ResetCounters();
  return report;
}

}  // namespace sluice
