#include "sluice/engine/engine.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/log.hpp"
#include "sluice/core/retry.hpp"
#include "sluice/core/units.hpp"
#include "sluice/engine/router.hpp"

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
  std::vector<std::unique_ptr<Source>> sources;
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
  std::condition_variable inflight_cv;  // a job finished
  std::condition_variable idle_cv;      // a worker found nothing to claim
  std::map<std::int64_t, std::string> inflight;  // claimed job id → lease owner; guarded by mutex

  // Counters of the current Drain/Serve.
  std::atomic<std::int64_t> enqueued{0}, succeeded{0}, dead{0}, retried{0}, released{0};
  std::atomic<std::uint64_t> objects_written{0}, rows_written{0};

  Result<int> Enqueue(const std::vector<NewJob>& jobs) {
    if (jobs.empty()) return 0;
    SLUICE_ASSIGN_OR_RETURN(int added, queue->Enqueue(jobs));
    enqueued += added;
    if (added > 0) work_cv.notify_all();
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

  void StartWorkers(const std::shared_ptr<Impl>& self) {
    stop_claiming = std::make_shared<std::atomic<bool>>(false);
    cancel = false;
    workers_done = false;
    for (std::size_t r = 0; r < routes.size(); ++r) {
      for (int i = 0; i < routes[r].config->concurrency; ++i) {
        workers.emplace_back([self, r, i, stop = stop_claiming] { self->WorkerLoop(self->routes[r], i, *stop); });
      }
    }
    heartbeat = std::thread([self] { self->HeartbeatLoop(); });
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
        auto claimed = queue->ClaimBatch(route.config->name, worker, config.queue.lease, batch_size);
        if (!claimed || claimed->empty()) {
          if (!claimed) spdlog::error("claim on route '{}': {}", route.config->name, claimed.error().ToString());
          idle_cv.notify_all();
          std::unique_lock lock(mutex);
          work_cv.wait_for(lock, config.engine.idle_poll, [&stop] { return stop.load(); });
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
      if (RunJob(route, job, worker)) {
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
  for (const auto& source : c.sources) {
    auto made = MakeSource(source, impl->resources);
    if (!made) return Fail(std::move(made).error().WithContext(c.file.string()));
    impl->sources.push_back(std::move(*made));
  }
  for (const auto& route : c.routes) {
    auto handler = registry.Create(route.handler, route.options, impl->resources);
    if (!handler) {
      return Fail(std::move(handler).error().WithContext(
          fmt::format("{}:{}: route '{}'", c.file.string(), route.line, route.name)));
    }
    const std::string where = fmt::format("{}:{}: route '{}'", c.file.string(), route.line, route.name);
    SLUICE_RETURN_IF_ERROR(CheckSelfTrigger(route, (*handler)->Outputs(), where));
    impl->routes.push_back(RouteRuntime{&route, std::move(*handler)});
    impl->route_names.push_back(route.name);
    if (route.timeout.count() > 0 && !impl->watchdog) impl->watchdog = std::make_unique<Watchdog>();
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const PipelineConfig& Engine::Config() const { return impl_->config; }
Queue& Engine::GetQueue() { return *impl_->queue; }
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
  for (auto& source : impl_->sources) {
    std::int64_t added = 0;
    SLUICE_RETURN_IF_ERROR(source->Pass([&](std::vector<Event> events) -> Status {
      SLUICE_ASSIGN_OR_RETURN(int n, impl_->Submit(std::move(events)));
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
  impl.StartWorkers(impl_);
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

Result<RunReport> Engine::Serve(const std::atomic<bool>& stop) {
  Impl& impl = *impl_;
  const auto started = SteadyClock::now();
  impl.StartWorkers(impl_);

  std::vector<std::thread> source_threads;
  for (auto& source : impl.sources) {
    source_threads.emplace_back([&impl, &stop, src = source.get()] {
      while (!stop) {
        auto pass = src->Pass([&](std::vector<Event> events) -> Status {
          auto added = impl.Submit(std::move(events));
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
  for (auto& thread : source_threads) thread.join();
  const bool abandoned = impl.StopWorkers(impl.config.engine.shutdown_grace);
  RunReport report = impl.Report(started, abandoned);
  impl.ResetCounters();
  return report;
}

}  // namespace sluice
