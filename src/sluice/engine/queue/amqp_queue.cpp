// The amqp:// queue (see amqp_queue.hpp for the broker topology and the delivery rules).
// Two connections, each behind its own mutex, never both held at once:
//   publisher: channel 1 declares, channel 2 publishes with confirms, channel 3 browses the
//              dead-letter queue (basic.get without ack, then channel.close returns what it took)
//   consumer:  one channel per subscribed route, basic.qos + basic.consume; deliveries wait in
//              `ready` until a worker claims them, then in `claimed` until ack/nack.
// A broken connection is dropped and reopened by the next call. Deliveries of a dropped consumer
// connection are void (the broker requeues them), which is what `generation` tracks.

#include "sluice/engine/queue/amqp_queue.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "sluice/core/retry.hpp"
#include "sluice/engine/queue/amqp_client.hpp"

namespace sluice {
namespace {

using Clock = std::chrono::system_clock;
constexpr std::uint16_t kDeclareChannel = 1;
constexpr std::uint16_t kPublishChannel = 2;
constexpr std::uint16_t kBrowseChannel = 3;
constexpr std::uint16_t kFirstConsumeChannel = 1;
constexpr auto kConfirmTimeout = std::chrono::seconds(30);
// How long ClaimBatch waits for a delivery when none is buffered. Short, because the consumer
// connection's mutex is held meanwhile: the acks of the other worker threads wait, and with
// prefetch = concurrency the broker sends the next job only after an ack (at 20 ms a worker
// process managed ~620 noop jobs/s, at 2 ms ~2,000 on loopback). A loopback round trip is
// ~0.1 ms; the engine's idle_poll paces the next try of an idle worker.
constexpr auto kClaimWait = std::chrono::milliseconds(2);

std::int64_t ToMs(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string ProcessName() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("sluice {}:{}", host, getpid());
}

// A delivered job: where it came from and what it carries.
struct Delivery {
  std::uint16_t channel = 0;
  std::uint64_t tag = 0;
  std::uint64_t generation = 0;
  AmqpJob job;
  int failed_attempts = 0;  // from kAmqpAttemptsHeader
  std::vector<std::string> errors;
  std::vector<std::string> attempt_log;  // from kAmqpAttemptLogHeader
  std::string owner;                     // the claiming worker
  Clock::time_point claimed;
};

// One kAmqpAttemptLogHeader entry (see amqp_queue.hpp).
std::string AttemptLogEntry(int number, std::string_view owner, Clock::time_point started,
                            Clock::time_point ended, std::string_view outcome, std::string_view error) {
  return nlohmann::json{{"number", number}, {"owner", owner}, {"started_ms", ToMs(started)},
                        {"ended_ms", ToMs(ended)}, {"outcome", outcome}, {"error", error}}
      .dump();
}

Job ToJob(const Delivery& d, JobState state) {
  Job job;
  job.id = d.job.id;
  job.route = d.job.route;
  job.event = d.job.event;
  job.dedupe_key = d.job.dedupe_key;
  job.state = state;
  job.attempts = state == JobState::Running ? d.failed_attempts + 1 : d.failed_attempts;
  job.max_attempts = d.job.max_attempts;
  job.last_error = d.errors.empty() ? std::string() : d.errors.back();
  job.created = d.job.created;
  job.updated = Clock::now();
  job.not_before = job.created;
  return job;
}

AmqpTable HistoryHeaders(int failed_attempts, const std::vector<std::string>& errors,
                         const std::vector<std::string>& attempt_log) {
  return {{std::string(kAmqpAttemptsHeader), std::int64_t{failed_attempts}},
          {std::string(kAmqpErrorsHeader), errors},
          {std::string(kAmqpAttemptLogHeader), attempt_log}};
}

class AmqpQueue final : public Queue {
 public:
  explicit AmqpQueue(AmqpUrl url) : url_(std::move(url)), names_{url_.queue} {}

  Status Init() {
    std::lock_guard lock(publish_mutex_);
    SLUICE_RETURN_IF_ERROR(PublisherLocked());
    return Ok();
  }

  Result<int> Enqueue(std::span<const NewJob> jobs) override {
    if (jobs.empty()) return 0;
    const auto now = Clock::now();
    std::vector<std::pair<std::string, AmqpJob>> messages;
    for (const NewJob& job : jobs) {
      AmqpJob body{NewAmqpJobId(), job.route, job.dedupe_key, job.max_attempts, now, job.event};
      messages.emplace_back(names_.RouteQueue(job.route), std::move(body));
    }
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      for (const auto& [queue, body] : messages) {
        SLUICE_RETURN_IF_ERROR(DeclareRouteLocked(c, body.route));
        AmqpProperties props;
        props.message_id = std::to_string(body.id);
        props.headers = HistoryHeaders(0, {}, {});
        SLUICE_RETURN_IF_ERROR(c.Publish(kPublishChannel, "", queue, EncodeAmqpJob(body), props));
      }
      return c.WaitConfirms(kPublishChannel, kConfirmTimeout);
    }));
    return static_cast<int>(jobs.size());
  }

  Status Subscribe(std::string_view route, int prefetch) override {
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) { return DeclareRouteLocked(c, route); }));
    std::lock_guard lock(consume_mutex_);
    prefetch_[std::string(route)] = std::max(prefetch, 1);
    if (consumer_ && !consumer_->Broken()) return SubscribeLocked(std::string(route));
    return Ok();
  }

  Result<std::vector<Job>> ClaimBatch(std::string_view route, std::string_view owner,
                                      std::chrono::milliseconds lease, int max_jobs) override {
    (void)lease;  // the broker tracks who holds a delivery: the consumer connection
    bool known = false;
    {
      std::lock_guard lock(consume_mutex_);
      known = prefetch_.contains(std::string(route));
    }
    if (!known) SLUICE_RETURN_IF_ERROR(Subscribe(route, max_jobs));
    std::lock_guard lock(consume_mutex_);
    SLUICE_RETURN_IF_ERROR(ConsumerLocked());
    if (ready_[std::string(route)].empty()) {
      // wait briefly for one delivery, then take whatever else has already arrived
      auto wait = std::chrono::milliseconds(kClaimWait);
      while (true) {
        auto delivery = consumer_->NextDelivery(wait);
        if (!delivery) {
          DropConsumerLocked();
          return Fail(std::move(delivery).error().WithContext("claim"));
        }
        if (!*delivery) break;
        AcceptLocked(std::move(**delivery));
        if (!consumer_) break;  // AcceptLocked dropped the connection (a failed nack)
        wait = std::chrono::milliseconds(0);
      }
    }
    std::vector<Job> jobs;
    auto& ready = ready_[std::string(route)];  // after the pump: AcceptLocked may clear ready_
    while (!ready.empty() && static_cast<int>(jobs.size()) < std::max(max_jobs, 1)) {
      Delivery d = std::move(ready.front());
      ready.pop_front();
      d.owner = std::string(owner);
      d.claimed = Clock::now();
      jobs.push_back(ToJob(d, JobState::Running));
      claimed_[d.job.id] = std::move(d);
    }
    return jobs;
  }

  Status ExtendLeases(std::span<const std::int64_t>, std::string_view, std::chrono::milliseconds) override {
    return Ok();  // no leases: a delivery stays with its connection until acked or the connection dies
  }

  Result<int> SucceedBatch(std::span<const std::int64_t> ids, std::string_view owner) override {
    (void)owner;
    std::lock_guard lock(consume_mutex_);
    int acked = 0;
    for (std::int64_t id : ids) {
      auto it = claimed_.find(id);
      if (it == claimed_.end()) continue;
      const Delivery d = std::move(it->second);
      claimed_.erase(it);
      if (!LiveLocked(d)) continue;
      if (auto r = consumer_->Ack(d.channel, d.tag); !r) {
        spdlog::warn("ack of job {} failed (it will run again): {}", id, r.error().ToString());
        DropConsumerLocked();
        continue;
      }
      ++acked;
    }
    return acked;
  }

  Result<std::optional<JobState>> FailAttempt(
      std::int64_t id, std::string_view owner, std::string_view error,
      std::optional<std::chrono::milliseconds> retry_after) override {
    (void)owner;
    Delivery d;
    {
      std::lock_guard lock(consume_mutex_);
      auto it = claimed_.find(id);
      if (it == claimed_.end()) return std::optional<JobState>();
      if (!LiveLocked(it->second)) {
        claimed_.erase(it);
        return std::optional<JobState>();
      }
      d = it->second;
    }
    const int attempts = d.failed_attempts + 1;
    std::vector<std::string> errors = d.errors;
    errors.emplace_back(error);
    const bool dead = !retry_after || attempts >= d.job.max_attempts;
    std::vector<std::string> log = d.attempt_log;
    log.push_back(AttemptLogEntry(attempts, d.owner, d.claimed, Clock::now(), dead ? "dead" : "failed", error));
    AmqpProperties props;
    props.message_id = std::to_string(d.job.id);
    props.headers = HistoryHeaders(attempts, errors, log);
    if (dead) {
      props.headers.emplace_back(std::string(kAmqpDeadReasonHeader),
                                 std::string(retry_after ? "attempts used up" : "error is not retryable"));
    }
    const std::string body = EncodeAmqpJob(d.job);
    auto published = WithPublisher([&](AmqpConnection& c) -> Status {
      SLUICE_RETURN_IF_ERROR(DeclareRouteLocked(c, d.job.route));
      if (dead) {
        SLUICE_RETURN_IF_ERROR(c.Publish(kPublishChannel, names_.DeadExchange(), kAmqpDeadRoutingKey, body, props));
      } else {
        const auto delay = AmqpRetryDelay(*retry_after);
        SLUICE_RETURN_IF_ERROR(c.Publish(kPublishChannel, "", names_.RetryQueue(d.job.route, delay), body, props));
      }
      return c.WaitConfirms(kPublishChannel, kConfirmTimeout);
    });
    std::lock_guard lock(consume_mutex_);
    claimed_.erase(id);
    if (!published) {
      // the failure is not recorded: put the job back so it runs again (this attempt uncounted)
      if (LiveLocked(d)) {
        if (auto r = consumer_->Nack(d.channel, d.tag, /*requeue=*/true); !r) DropConsumerLocked();
      }
      return Fail(std::move(published).error().WithContext(fmt::format("record failed attempt of job {}", id)));
    }
    if (LiveLocked(d)) {
      // a failed ack leaves the job both redelivered and scheduled for retry: it runs twice,
      // which idempotent handlers allow
      if (auto r = consumer_->Ack(d.channel, d.tag); !r) DropConsumerLocked();
    }
    return std::optional<JobState>(dead ? JobState::Dead : JobState::Failed);
  }

  Status Release(std::int64_t id, std::string_view owner) override {
    (void)owner;
    std::lock_guard lock(consume_mutex_);
    auto it = claimed_.find(id);
    if (it == claimed_.end()) return Ok();
    const Delivery d = std::move(it->second);
    claimed_.erase(it);
    if (!LiveLocked(d)) return Ok();
    auto r = consumer_->Nack(d.channel, d.tag, /*requeue=*/true);
    if (!r) DropConsumerLocked();
    return r;
  }

  Result<int> RecoverExpiredLeases() override { return 0; }  // the broker requeues on connection loss

  Result<std::vector<Job>> List(std::optional<JobState> state, int limit) override {
    if (state != JobState::Dead) {
      return Fail(ErrorCode::Unsupported,
                  "an amqp:// queue lists only dead jobs (the dead-letter queue); pending, running and "
                  "waiting jobs are messages on the broker (see its queues PREFIX.<route>)",
                  url_.Redacted());
    }
    std::vector<Job> jobs;
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      jobs.clear();
      SLUICE_ASSIGN_OR_RETURN(auto dead, BrowseDeadLocked(c));
      for (const auto& d : dead) jobs.push_back(ToJob(d, JobState::Dead));
      return ReturnBrowsedLocked(c, dead.size());
    }));
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
    if (limit > 0 && jobs.size() > static_cast<std::size_t>(limit)) jobs.resize(static_cast<std::size_t>(limit));
    return jobs;
  }

  Result<Job> Get(std::int64_t id) override {
    {
      std::lock_guard lock(consume_mutex_);
      if (auto it = claimed_.find(id); it != claimed_.end()) return ToJob(it->second, JobState::Running);
    }
    std::optional<Job> found;
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      SLUICE_ASSIGN_OR_RETURN(auto dead, BrowseDeadLocked(c));
      for (const auto& d : dead) {
        if (d.job.id == id) found = ToJob(d, JobState::Dead);
      }
      return ReturnBrowsedLocked(c, dead.size());
    }));
    if (!found) {
      return Fail(ErrorCode::NotFound,
                  fmt::format("job {} is not in the dead-letter queue (an amqp:// queue can show only dead "
                              "jobs and the jobs this process runs)", id),
                  url_.Redacted());
    }
    return *found;
  }

  // A dead job's history is its kAmqpAttemptLogHeader; jobs that are not dead have none to show.
  Result<std::vector<Attempt>> Attempts(std::int64_t id) override {
    std::vector<std::string> log;
    bool found = false;
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      SLUICE_ASSIGN_OR_RETURN(auto dead, BrowseDeadLocked(c));
      for (const auto& d : dead) {
        if (d.job.id == id) {
          found = true;
          log = d.attempt_log;
        }
      }
      return ReturnBrowsedLocked(c, dead.size());
    }));
    if (!found) {
      return Fail(ErrorCode::NotFound, fmt::format("job {} is not in the dead-letter queue", id), url_.Redacted());
    }
    std::vector<Attempt> attempts;
    for (const std::string& entry : log) {
      const auto json = nlohmann::json::parse(entry, nullptr, /*allow_exceptions=*/false);
      if (!json.is_object()) continue;  // written by AttemptLogEntry; anything else is skipped
      Attempt attempt;
      attempt.job_id = id;
      attempt.number = json.value("number", 0);
      attempt.owner = json.value("owner", "");
      attempt.started = Clock::time_point(std::chrono::milliseconds(json.value("started_ms", std::int64_t{0})));
      attempt.ended = Clock::time_point(std::chrono::milliseconds(json.value("ended_ms", std::int64_t{0})));
      attempt.outcome = ParseAttemptOutcome(json.value("outcome", "")).value_or(AttemptOutcome::Failed);
      attempt.error = json.value("error", "");
      attempts.push_back(std::move(attempt));
    }
    return attempts;
  }

  Result<int> Purge(JobState /*state*/, std::chrono::milliseconds /*older_than*/) override {
    return Fail(ErrorCode::Unsupported,
                "an amqp:// queue cannot purge by age; purge its dead-letter queue PREFIX.dead on the "
                "broker (rabbitmqctl purge_queue) or retry the jobs",
                url_.Redacted());
  }

  Result<QueueOverview> Overview(int /*max_errors*/) override {
    return Fail(ErrorCode::Unsupported,
                "`sluice status` needs the sqlite:// queue's history; for an amqp:// queue read each "
                "process's /metrics (engine.listen) and the broker's queues",
                url_.Redacted());
  }

  Result<std::vector<std::int64_t>> Requeue(std::span<const std::int64_t> ids) override {
    std::vector<std::int64_t> requeued;
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      requeued.clear();
      SLUICE_ASSIGN_OR_RETURN(auto dead, BrowseDeadLocked(c));
      std::set<std::int64_t> wanted(ids.begin(), ids.end());
      for (std::int64_t id : wanted) {
        const bool present = std::any_of(dead.begin(), dead.end(), [id](const Delivery& d) { return d.job.id == id; });
        if (!present) {
          SLUICE_RETURN_IF_ERROR(ReturnBrowsedLocked(c, dead.size()));
          return Fail(ErrorCode::NotFound, fmt::format("job {} is not in the dead-letter queue", id), url_.Redacted());
        }
      }
      std::vector<const Delivery*> chosen;
      for (const auto& d : dead) {
        if (d.job.route.empty()) continue;  // unreadable message: left in the dead-letter queue
        if (wanted.empty() || wanted.contains(d.job.id)) chosen.push_back(&d);
      }
      for (const Delivery* d : chosen) {
        SLUICE_RETURN_IF_ERROR(DeclareRouteLocked(c, d->job.route));
        AmqpProperties props;
        props.message_id = std::to_string(d->job.id);
        props.headers = HistoryHeaders(0, d->errors, d->attempt_log);  // attempts reset, history kept
        SLUICE_RETURN_IF_ERROR(c.Publish(kPublishChannel, "", names_.RouteQueue(d->job.route),
                                         EncodeAmqpJob(d->job), props));
      }
      SLUICE_RETURN_IF_ERROR(c.WaitConfirms(kPublishChannel, kConfirmTimeout));
      for (const Delivery* d : chosen) {
        SLUICE_RETURN_IF_ERROR(c.Ack(kBrowseChannel, d->tag));
        requeued.push_back(d->job.id);
      }
      return ReturnBrowsedLocked(c, dead.size() - chosen.size());
    }));
    return requeued;
  }

  Result<QueueStats> Stats(std::span<const std::string> routes) override {
    std::vector<std::string> names(routes.begin(), routes.end());
    if (names.empty()) {
      std::lock_guard lock(consume_mutex_);
      for (const auto& [route, prefetch] : prefetch_) names.push_back(route);
    }
    QueueStats stats;
    std::int64_t pending = 0, waiting = 0, dead = 0;
    SLUICE_RETURN_IF_ERROR(WithPublisher([&](AmqpConnection& c) -> Status {
      pending = waiting = 0;
      for (const auto& route : names) {
        SLUICE_RETURN_IF_ERROR(DeclareRouteLocked(c, route));
        SLUICE_ASSIGN_OR_RETURN(auto info, c.DeclareQueue(kDeclareChannel, names_.RouteQueue(route), RouteQueueArgs()));
        pending += info.messages;
        for (auto delay : kAmqpRetryDelays) {
          SLUICE_ASSIGN_OR_RETURN(auto retry, c.DeclareQueue(kDeclareChannel, names_.RetryQueue(route, delay),
                                                             RetryQueueArgs(route, delay)));
          waiting += retry.messages;
        }
      }
      SLUICE_ASSIGN_OR_RETURN(auto info, c.DeclareQueue(kDeclareChannel, names_.DeadQueue(), DeadQueueArgs()));
      dead = info.messages;
      return Ok();
    }));
    std::int64_t running = 0;
    {
      std::lock_guard lock(consume_mutex_);
      for (const auto& route : names) {
        if (auto it = ready_.find(route); it != ready_.end()) pending += static_cast<std::int64_t>(it->second.size());
      }
      for (const auto& [id, d] : claimed_) {
        if (std::find(names.begin(), names.end(), d.job.route) != names.end()) ++running;
      }
    }
    stats.counts[JobState::Pending] = pending;
    stats.counts[JobState::Running] = running;
    stats.counts[JobState::Failed] = waiting;
    stats.counts[JobState::Dead] = dead;
    if (waiting > 0) stats.next_wakeup = Clock::now() + kAmqpRetryDelays.front();
    return stats;
  }

 private:
  // ---- broker objects -------------------------------------------------------------------------
  AmqpTable RouteQueueArgs() const {
    return {{"x-queue-type", std::string("quorum")},
            {"x-dead-letter-exchange", names_.DeadExchange()},
            {"x-dead-letter-routing-key", std::string(kAmqpDeadRoutingKey)},
            {"x-delivery-limit", kAmqpDeliveryLimit}};
  }
  AmqpTable RetryQueueArgs(std::string_view route, std::chrono::milliseconds delay) const {
    return {{"x-message-ttl", static_cast<std::int64_t>(delay.count())},
            {"x-dead-letter-exchange", std::string()},
            {"x-dead-letter-routing-key", names_.RouteQueue(route)}};
  }
  static AmqpTable DeadQueueArgs() { return {{"x-queue-type", std::string("quorum")}}; }

  // ---- publisher connection (publish_mutex_) --------------------------------------------------
  Result<AmqpConnection*> PublisherLocked() {
    if (publisher_ && !publisher_->Broken()) return publisher_.get();
    publisher_.reset();
    declared_.clear();
    SLUICE_ASSIGN_OR_RETURN(publisher_, AmqpConnection::Open(url_, ProcessName() + " publisher"));
    AmqpConnection& c = *publisher_;
    const Status setup = [&]() -> Status {
      SLUICE_RETURN_IF_ERROR(c.ConfirmSelect(kPublishChannel));
      SLUICE_RETURN_IF_ERROR(c.DeclareExchange(kDeclareChannel, names_.DeadExchange(), "direct"));
      SLUICE_RETURN_IF_ERROR(c.DeclareQueue(kDeclareChannel, names_.DeadQueue(), DeadQueueArgs()));
      return c.BindQueue(kDeclareChannel, names_.DeadQueue(), names_.DeadExchange(), kAmqpDeadRoutingKey);
    }();
    if (!setup) {
      publisher_.reset();
      return Fail(std::move(setup).error());
    }
    return publisher_.get();
  }

  // Runs `fn` on the publisher connection; when the connection turns out broken (the broker
  // restarted, or closed it), reconnects and runs `fn` once more.
  template <class Fn>
  Status WithPublisher(Fn&& fn) {
    std::lock_guard lock(publish_mutex_);
    for (int attempt = 0;; ++attempt) {
      SLUICE_ASSIGN_OR_RETURN(AmqpConnection * c, PublisherLocked());
      Status status = fn(*c);
      if (status || !c->Broken() || attempt > 0) return status;
      spdlog::warn("AMQP publisher connection lost ({}); reconnecting", status.error().ToString());
    }
  }

  Status DeclareRouteLocked(AmqpConnection& c, std::string_view route) {
    if (declared_.contains(std::string(route))) return Ok();
    SLUICE_RETURN_IF_ERROR(c.DeclareQueue(kDeclareChannel, names_.RouteQueue(route), RouteQueueArgs()));
    for (auto delay : kAmqpRetryDelays) {
      SLUICE_RETURN_IF_ERROR(c.DeclareQueue(kDeclareChannel, names_.RetryQueue(route, delay),
                                            RetryQueueArgs(route, delay)));
    }
    declared_.insert(std::string(route));
    return Ok();
  }

  // Takes every message of the dead-letter queue on the browse channel without acking it; the
  // caller acks what it consumed and closes the channel, which returns the rest to the queue.
  Result<std::vector<Delivery>> BrowseDeadLocked(AmqpConnection& c) {
    SLUICE_ASSIGN_OR_RETURN(auto info, c.DeclareQueue(kDeclareChannel, names_.DeadQueue(), DeadQueueArgs()));
    std::vector<Delivery> out;
    for (std::int64_t i = 0; i < info.messages; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto message, c.Get(kBrowseChannel, names_.DeadQueue()));
      if (!message) break;
      out.push_back(Decode(*message, 0));
    }
    return out;
  }

  // Closes the browse channel, which returns its unacked messages to the dead-letter queue, and
  // waits (up to 2 s) until the queue counts `returned` messages again: a quorum queue takes the
  // returns asynchronously, and the next browse must see them.
  Status ReturnBrowsedLocked(AmqpConnection& c, std::size_t returned) {
    SLUICE_RETURN_IF_ERROR(c.CloseChannel(kBrowseChannel));
    for (int i = 0; i < 100; ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto info, c.DeclareQueue(kDeclareChannel, names_.DeadQueue(), DeadQueueArgs()));
      if (info.messages >= static_cast<std::int64_t>(returned)) return Ok();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    spdlog::warn("the dead-letter queue {} has not taken back all {} browsed message(s) after 2 s",
                 names_.DeadQueue(), returned);
    return Ok();
  }

  static Delivery Decode(const AmqpDelivery& m, std::uint64_t generation) {
    Delivery d;
    d.channel = m.channel;
    d.tag = m.delivery_tag;
    d.generation = generation;
    d.failed_attempts = static_cast<int>(HeaderInt(m.headers, kAmqpAttemptsHeader));
    d.errors = HeaderStrings(m.headers, kAmqpErrorsHeader);
    d.attempt_log = HeaderStrings(m.headers, kAmqpAttemptLogHeader);
    auto job = DecodeAmqpJob(m.body);
    if (job) {
      d.job = std::move(*job);
    } else {
      std::int64_t id = 0;
      std::from_chars(m.message_id.data(), m.message_id.data() + m.message_id.size(), id);
      d.job.id = id;
      d.errors.push_back(fmt::format("unreadable job message: {}", job.error().ToString()));
    }
    if (d.errors.empty() && !HeaderString(m.headers, "x-first-death-reason").empty()) {
      d.errors.push_back(fmt::format("dead-lettered by the broker ({}): its worker died or released it "
                                     "{} times in a row",
                                     HeaderString(m.headers, "x-first-death-reason"), kAmqpDeliveryLimit));
    }
    return d;
  }

  // ---- consumer connection (consume_mutex_) ---------------------------------------------------
  Status ConsumerLocked() {
    if (consumer_ && !consumer_->Broken()) return Ok();
    DropConsumerLocked();
    SLUICE_ASSIGN_OR_RETURN(consumer_, AmqpConnection::Open(url_, ProcessName() + " consumer"));
    ++generation_;
    for (const auto& [route, prefetch] : prefetch_) {
      if (auto r = SubscribeLocked(route); !r) {
        DropConsumerLocked();
        return r;
      }
    }
    return Ok();
  }

  Status SubscribeLocked(const std::string& route) {
    if (route_channel_.contains(route)) return Ok();
    const auto channel = static_cast<std::uint16_t>(kFirstConsumeChannel + route_channel_.size());
    SLUICE_RETURN_IF_ERROR(consumer_->Qos(channel, prefetch_.at(route)));
    SLUICE_RETURN_IF_ERROR(consumer_->Consume(channel, names_.RouteQueue(route)));
    route_channel_[route] = channel;
    channel_route_[channel] = route;
    return Ok();
  }

  // Forgets the consumer connection: its unacked deliveries go back to the queue on the broker,
  // so the ready ones are dropped here and claimed ones become void (LiveLocked is false).
  void DropConsumerLocked() {
    consumer_.reset();
    ready_.clear();
    route_channel_.clear();
    channel_route_.clear();
    ++generation_;
  }

  bool LiveLocked(const Delivery& d) const {
    return consumer_ && !consumer_->Broken() && d.generation == generation_;
  }

  void AcceptLocked(AmqpDelivery message) {
    Delivery d = Decode(message, generation_);
    const auto route = channel_route_.find(message.channel);
    if (d.job.route.empty() || route == channel_route_.end() || d.job.route != route->second) {
      spdlog::error("AMQP message {} on channel {} is not a sluice job of this route; dead-lettering it: {}",
                    message.message_id, message.channel, d.errors.empty() ? "wrong route" : d.errors.back());
      if (auto r = consumer_->Nack(message.channel, message.delivery_tag, /*requeue=*/false); !r) DropConsumerLocked();
      return;
    }
    ready_[route->second].push_back(std::move(d));
  }

  const AmqpUrl url_;
  const AmqpNames names_;

  std::mutex publish_mutex_;
  std::unique_ptr<AmqpConnection> publisher_;  // guarded by publish_mutex_
  std::set<std::string> declared_;             // routes declared on publisher_; guarded by publish_mutex_

  std::mutex consume_mutex_;
  std::unique_ptr<AmqpConnection> consumer_;                // guarded by consume_mutex_ (and below)
  std::uint64_t generation_ = 0;                            // bumped whenever consumer_ changes
  std::map<std::string, int> prefetch_;                     // subscribed routes
  std::map<std::string, std::uint16_t> route_channel_;      // of consumer_
  std::map<std::uint16_t, std::string> channel_route_;      // of consumer_
  std::map<std::string, std::deque<Delivery>> ready_;       // delivered, not claimed
  std::map<std::int64_t, Delivery> claimed_;                // claimed, not acked or nacked
};

}  // namespace

std::chrono::milliseconds AmqpRetryDelay(std::chrono::milliseconds wanted) {
  for (auto delay : kAmqpRetryDelays) {
    if (delay >= wanted) return delay;
  }
  return kAmqpRetryDelays.back();
}

std::string AmqpNames::RouteQueue(std::string_view route) const { return fmt::format("{}.{}", prefix, route); }
std::string AmqpNames::RetryQueue(std::string_view route, std::chrono::milliseconds delay) const {
  return fmt::format("{}.{}.retry.{}ms", prefix, route, delay.count());
}
std::string AmqpNames::DeadQueue() const { return prefix + ".dead"; }
std::string AmqpNames::DeadExchange() const { return prefix + ".dlx"; }

std::string EncodeAmqpJob(const AmqpJob& job) {
  nlohmann::json json = {{"id", job.id},
                         {"route", job.route},
                         {"dedupe_key", job.dedupe_key},
                         {"max_attempts", job.max_attempts},
                         {"created_ms", ToMs(job.created)},
                         {"event", job.event.ToJson()}};
  return json.dump();
}

Result<AmqpJob> DecodeAmqpJob(std::string_view body) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("job message is not JSON (byte {}): {}", e.byte, e.what()));
  }
  if (!json.is_object()) return Fail(ErrorCode::InvalidArgument, "job message is not a JSON object");
  AmqpJob job;
  for (const char* field : {"id", "route", "max_attempts", "event"}) {
    if (!json.contains(field)) {
      return Fail(ErrorCode::InvalidArgument, fmt::format("job message has no '{}'", field));
    }
  }
  try {
    job.id = json.at("id").get<std::int64_t>();
    job.route = json.at("route").get<std::string>();
    job.dedupe_key = json.value("dedupe_key", "");
    job.max_attempts = json.at("max_attempts").get<int>();
    job.created = Clock::time_point(std::chrono::milliseconds(json.value("created_ms", std::int64_t{0})));
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("bad job message: {}", e.what()));
  }
  if (job.route.empty()) return Fail(ErrorCode::InvalidArgument, "job message has an empty 'route'");
  if (job.max_attempts < 1) return Fail(ErrorCode::InvalidArgument, "job message has 'max_attempts' < 1");
  auto event = Event::FromJson(json.at("event"));
  if (!event) return Fail(std::move(event).error().WithContext("job message 'event'"));
  job.event = std::move(*event);
  return job;
}

std::int64_t NewAmqpJobId() {
  static std::atomic<std::uint64_t> counter{static_cast<std::uint64_t>(RandomUnit() * 0x3FFFFF)};
  constexpr std::int64_t kEpoch2024Ms = 1704067200000;
  const std::int64_t ms = ToMs(Clock::now()) - kEpoch2024Ms;
  const auto low = static_cast<std::int64_t>(counter.fetch_add(1) & 0x3FFFFF);
  return (ms << 22) | low;
}

Result<std::unique_ptr<Queue>> MakeAmqpQueue(std::string_view url) {
  SLUICE_ASSIGN_OR_RETURN(AmqpUrl parsed, ParseAmqpUrl(url));
  auto queue = std::make_unique<AmqpQueue>(std::move(parsed));
  SLUICE_RETURN_IF_ERROR(queue->Init());
  return std::unique_ptr<Queue>(std::move(queue));
}

}  // namespace sluice
