#include "sluice/engine/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "sluice/core/config.hpp"
#include "sluice/core/log.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

// What a fake handler saw, shared with the test through a shared_ptr so that it outlives any
// handler thread the engine may have to abandon.
struct Probe {
  using Behaviour = std::function<Result<Outcome>(const Event&, HandlerContext&, int call)>;

  std::mutex mutex;
  std::map<std::string, int> calls;  // key → Handle calls so far
  Behaviour behaviour;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> total{0};

  int Calls(const std::string& key) {
    std::lock_guard lock(mutex);
    const auto it = calls.find(key);
    return it == calls.end() ? 0 : it->second;
  }
};

class FakeHandler final : public Handler {
 public:
  explicit FakeHandler(std::shared_ptr<Probe> probe) : probe_(std::move(probe)) {}

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    const int now_running = ++probe_->running;
    int seen = probe_->max_running.load();
    while (now_running > seen && !probe_->max_running.compare_exchange_weak(seen, now_running)) {
    }
    int call = 0;
    {
      std::lock_guard lock(probe_->mutex);
      call = ++probe_->calls[event.key];
    }
    ++probe_->total;
    Result<Outcome> result = Outcome{1, 0, "ok " + event.key};
    if (probe_->behaviour) result = probe_->behaviour(event, context, call);
    --probe_->running;
    return result;
  }

 private:
  std::shared_ptr<Probe> probe_;
};

HandlerFactory FakeFactory(std::shared_ptr<Probe> probe) {
  return [probe](const Options&, const Resources&) -> Result<std::unique_ptr<Handler>> {
    return std::make_unique<FakeHandler>(probe);
  };
}

struct PipelineOptions {
  std::string shutdown_grace = "5s";
  std::string lease = "30s";
  std::string idle_poll = "20ms";
  int concurrency = 3;
  std::string extra;  // appended TOML
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : probe_(std::make_shared<Probe>()) { registry_.Register("fake", FakeFactory(probe_)); }

  ~EngineTest() override {
    engine_.reset();
    if (!store_url_.empty()) ClearMemoryStore(store_url_.substr(std::string("memory://").size()));
  }

  std::string ConfigText(const PipelineOptions& options) const {
    return fmt::format(R"toml(
[queue]
url = "sqlite://{dir}/queue.db"
lease = "{lease}"

[engine]
idle_poll = "{idle_poll}"
shutdown_grace = "{grace}"

[stores.in]
url = "memory://objects"

[[sources]]
name = "incoming"
type = "poll"
store = "in"
prefix = "summary2/"
suffix = ".summary"
interval = "50ms"

[[routes]]
name = "summaries"
match = {{ store = "in", prefix = "summary2/", suffix = ".summary" }}
handler = "fake"
concurrency = {concurrency}
retry = {{ max_attempts = 3, initial_backoff = "10ms", max_backoff = "50ms" }}
{extra}
)toml",
                       fmt::arg("dir", dir_.Path().string()), fmt::arg("lease", options.lease),
                       fmt::arg("idle_poll", options.idle_poll),
                       fmt::arg("grace", options.shutdown_grace),
                       fmt::arg("concurrency", options.concurrency), fmt::arg("extra", options.extra));
  }

  // Opens the engine; the store is reachable through `store_` as well (memory:// stores of one
  // name share their objects within the process).
  void Open(const PipelineOptions& options = {}) {
    auto config = ParseConfig(ConfigText(options), dir_ / "pipeline.toml");
    ASSERT_TRUE(config) << config.error().ToString();
    store_url_ = config->stores.at("in").url;
    auto store = MakeObjectStore(store_url_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto engine = Engine::Open(std::move(*config), registry_);
    ASSERT_TRUE(engine) << engine.error().ToString();
    engine_ = std::move(*engine);
  }

  void Put(const std::string& key, const std::string& content) {
    auto put = store_->Put(key, content);
    ASSERT_TRUE(put) << put.error().ToString();
  }

  std::vector<Job> Jobs(std::optional<JobState> state = std::nullopt) {
    auto jobs = engine_->GetQueue().List(state, 0);
    EXPECT_TRUE(jobs) << jobs.error().ToString();
    return jobs ? *jobs : std::vector<Job>{};
  }

  Job OnlyJobFor(const std::string& key) {
    std::vector<Job> matching;
    for (auto& job : Jobs()) {
      if (job.event.key == key) matching.push_back(job);
    }
    EXPECT_EQ(matching.size(), 1u) << key;
    return matching.empty() ? Job{} : matching.front();
  }

  RunReport PassAndDrain() {
    auto pass = engine_->SourcesPass();
    EXPECT_TRUE(pass) << pass.error().ToString();
    auto report = engine_->Drain();
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : RunReport{};
  }

  TempDir dir_;
  std::shared_ptr<Probe> probe_;
  HandlerRegistry registry_;
  std::string store_url_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, SourcesPassAndDrainRunEveryMatchingObjectOnce) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 10; ++i) Put(fmt::format("summary2/ERR{}.summary", i), fmt::format("run {}", i));
  Put("summary2/ERR0.psummary", "other suffix");
  Put("summary1/ERR0.summary", "other prefix");

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.enqueued, 10);
  EXPECT_EQ(report.succeeded, 10);
  EXPECT_EQ(report.dead, 0);
  EXPECT_EQ(report.retried, 0);
  EXPECT_EQ(report.objects_written, 10u);
  EXPECT_FALSE(report.abandoned);
  EXPECT_EQ(probe_->total.load(), 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(probe_->Calls(fmt::format("summary2/ERR{}.summary", i)), 1) << i;
  EXPECT_EQ(probe_->Calls("summary2/ERR0.psummary"), 0);
  EXPECT_EQ(probe_->Calls("summary1/ERR0.summary"), 0);
  EXPECT_EQ(Jobs(JobState::Succeeded).size(), 10u);
  EXPECT_EQ(Jobs().size(), 10u);
}

TEST_F(EngineTest, DrainWithNothingToDoReturnsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Open());
  const auto started = std::chrono::steady_clock::now();
  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

TEST_F(EngineTest, TransientErrorsAreRetriedWithBackoffUntilSuccess) {
  probe_->behaviour = [](const Event& event, HandlerContext&, int call) -> Result<Outcome> {
    if (call <= 2) return Fail(ErrorCode::Transient, "connection reset", "get " + event.key);
    return Outcome{};
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(report.retried, 2);
  EXPECT_EQ(report.dead, 0);
  EXPECT_EQ(probe_->Calls("summary2/ERR1.summary"), 3);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Succeeded);
  EXPECT_EQ(job.attempts, 3);
}

TEST_F(EngineTest, RetryableErrorsGoDeadWhenAttemptsRunOut) {
  probe_->behaviour = [](const Event&, HandlerContext&, int) -> Result<Outcome> {
    return Fail(ErrorCode::Throttled, "slow down");
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 0);
  EXPECT_EQ(report.retried, 2);
  EXPECT_EQ(report.dead, 1);
  EXPECT_EQ(probe_->Calls("summary2/ERR1.summary"), 3);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Dead);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_NE(job.last_error.find("slow down"), std::string::npos) << job.last_error;
}

TEST_F(EngineTest, APoisonObjectIsDeadLetteredAfterMaxAttemptsWithEveryErrorKeptThenRetriedOnceFixed) {
  std::atomic<bool> fixed{false};
  probe_->behaviour = [&fixed](const Event& event, HandlerContext&, int call) -> Result<Outcome> {
    if (event.key == "summary2/POISON.summary" && !fixed) {
      return Fail(ErrorCode::Transient, fmt::format("connection reset #{}", call), "get " + event.key);
    }
    return Outcome{1, 0, "ok"};
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/POISON.summary", "x");
  for (int i = 0; i < 5; ++i) Put(fmt::format("summary2/ERR{}.summary", i), "y");

  RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 5);
  EXPECT_EQ(report.dead, 1);
  const Job dead = OnlyJobFor("summary2/POISON.summary");
  ASSERT_EQ(dead.state, JobState::Dead);
  auto attempts = engine_->GetQueue().Attempts(dead.id);
  ASSERT_TRUE(attempts) << attempts.error().ToString();
  ASSERT_EQ(attempts->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const Attempt& a = (*attempts)[static_cast<std::size_t>(i)];
    EXPECT_EQ(a.number, i + 1);
    EXPECT_NE(a.error.find(fmt::format("connection reset #{}", i + 1)), std::string::npos) << a.error;
    EXPECT_EQ(a.outcome, i < 2 ? AttemptOutcome::Failed : AttemptOutcome::Dead);
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(probe_->Calls(fmt::format("summary2/ERR{}.summary", i)), 1);

  fixed = true;
  ASSERT_TRUE(engine_->GetQueue().Requeue({}));
  report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(OnlyJobFor("summary2/POISON.summary").state, JobState::Succeeded);
  EXPECT_EQ(engine_->GetQueue().Attempts(dead.id).value().size(), 4u);
}

TEST_F(EngineTest, AnEventOlderThanMaxEventAgeGoesDeadWithoutRunningAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(Open({.extra = "max_event_age = \"1h\""}));
  Event old_event;
  old_event.kind = "ObjectCreated:Put";
  old_event.store = "in";
  old_event.key = "summary2/OLD.summary";
  old_event.etag = "e1";
  old_event.time = std::chrono::system_clock::now() - 2h - 5min;
  Event fresh = old_event;
  fresh.key = "summary2/FRESH.summary";
  fresh.time = std::chrono::system_clock::now() - 1min;
  ASSERT_EQ(engine_->Submit({old_event, fresh}).value(), 2);

  const RunReport report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(report.dead, 1);
  EXPECT_EQ(probe_->Calls("summary2/OLD.summary"), 0);
  EXPECT_EQ(probe_->Calls("summary2/FRESH.summary"), 1);
  const Job job = OnlyJobFor("summary2/OLD.summary");
  EXPECT_EQ(job.state, JobState::Dead);
  EXPECT_EQ(job.last_error, "event is 2h5m old, older than max_event_age 1h");
}

TEST_F(EngineTest, AnAttemptPastTheRouteTimeoutIsCancelledAndFailsAsARetryableTimeout) {
  std::atomic<long long> waited_ms{-1};
  probe_->behaviour = [&waited_ms](const Event&, HandlerContext& context, int call) -> Result<Outcome> {
    if (call > 1) return Outcome{};
    const auto started = std::chrono::steady_clock::now();
    EXPECT_LE(context.Deadline() - started, 100ms);
    while (!context.Cancelled() && std::chrono::steady_clock::now() - started < 10s) {
      std::this_thread::sleep_for(1ms);
    }
    waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started).count();
    return Fail(ErrorCode::Cancelled, "stopped between steps");
  };
  ASSERT_NO_FATAL_FAILURE(Open({.extra = "timeout = \"100ms\""}));
  Put("summary2/SLOW.summary", "x");

  const RunReport report = PassAndDrain();
  EXPECT_GE(waited_ms.load(), 95);
  EXPECT_LT(waited_ms.load(), 2000);
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(report.retried, 1);
  const Job job = OnlyJobFor("summary2/SLOW.summary");
  EXPECT_EQ(job.attempts, 2);
  const auto attempts = engine_->GetQueue().Attempts(job.id).value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].outcome, AttemptOutcome::Failed);
  EXPECT_NE(attempts[0].error.find("timeout of 100ms"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[1].outcome, AttemptOutcome::Succeeded);
}

Event Notification(const std::string& key, const std::string& etag, const std::string& sequencer) {
  Event event;
  event.kind = "ObjectCreated:Put";
  event.store = "in";
  event.key = key;
  event.etag = etag;
  event.sequencer = sequencer;
  event.time = std::chrono::system_clock::now();
  return event;
}

// The handler's "output" for a key: the ETag of the last event it processed.
struct Outputs {
  std::mutex mutex;
  std::map<std::string, std::string> last;
  std::map<std::string, int> running;
  int max_running_per_key = 0;
};

Probe::Behaviour WriteOutput(Outputs& outputs, std::chrono::milliseconds work = 0ms) {
  return [&outputs, work](const Event& event, HandlerContext&, int) -> Result<Outcome> {
    {
      std::lock_guard lock(outputs.mutex);
      outputs.max_running_per_key = std::max(outputs.max_running_per_key, ++outputs.running[event.key]);
    }
    std::this_thread::sleep_for(work);
    std::lock_guard lock(outputs.mutex);
    outputs.last[event.key] = event.etag;
    --outputs.running[event.key];
    return Outcome{1, 0, "wrote " + event.etag};
  };
}

TEST_F(EngineTest, DuplicateAndOutOfOrderNotificationsForOneKeyLeaveTheNewestVersionsOutput) {
  Outputs outputs;
  probe_->behaviour = WriteOutput(outputs);
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::string key = "summary2/ERR1.summary";
  // v3 is the newest; its notification arrives twice, and before v1's and v2's.
  ASSERT_EQ(engine_->Submit({Notification(key, "v3", "0055AED6DCD90281E7"),
                             Notification(key, "v3", "0055AED6DCD90281E7"),
                             Notification(key, "v1", "0055AED6DCD90281E5"),
                             Notification(key, "v2", "0055AED6DCD90281E6")}).value(),
            3);
  RunReport report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 3);
  EXPECT_EQ(outputs.last[key], "v3");
  EXPECT_EQ(probe_->Calls(key), 1);  // v1 and v2 were superseded without running

  // A late, older notification after v3 was processed changes nothing either.
  ASSERT_EQ(engine_->Submit({Notification(key, "v0", "0055AED6DCD902")}).value(), 1);
  report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(outputs.last[key], "v3");
  EXPECT_EQ(probe_->Calls(key), 1);

  // A newer one runs.
  ASSERT_EQ(engine_->Submit({Notification(key, "v4", "0055AED6DCD90281E8")}).value(), 1);
  ASSERT_TRUE(engine_->Drain());
  EXPECT_EQ(outputs.last[key], "v4");
}

TEST_F(EngineTest, ANewerEventOfAKeyWaitsForTheRunningOlderOneSoItsOutputIsWrittenLast) {
  Outputs outputs;
  const std::string key = "summary2/ERR1.summary";
  std::atomic<bool> submitted{false};
  const auto write = WriteOutput(outputs, 150ms);
  probe_->behaviour = [&, write](const Event& event, HandlerContext& context, int call) -> Result<Outcome> {
    if (event.etag == "v1" && !submitted.exchange(true)) {
      // v2 is notified while v1 is being processed; free workers are idle.
      EXPECT_EQ(engine_->Submit({Notification(key, "v2", "0055AED6DCD90281E6")}).value(), 1);
    }
    return write(event, context, call);
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(engine_->Submit({Notification(key, "v1", "0055AED6DCD90281E5")}).value(), 1);
  const RunReport report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 2);
  EXPECT_EQ(outputs.max_running_per_key, 1);
  EXPECT_EQ(outputs.last[key], "v2");
}

TEST_F(EngineTest, EveryLogLineOfAJobCarriesItsRouteJobIdAndKey) {
  probe_->behaviour = [](const Event&, HandlerContext&, int call) -> Result<Outcome> {
    spdlog::info("handler says hello on call {}", call);
    // A thread the handler starts (as a multipart upload's part workers) inherits the context.
    std::jthread(WithLogContext([call] { spdlog::info("handler's thread says hello on call {}", call); }))
        .join();
    if (call == 1) return Fail(ErrorCode::Transient, "connection reset");
    return Outcome{};
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");
  const auto saved = spdlog::default_logger();
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(InitLogging(LogFormat::Json, "info"));
  PassAndDrain();
  spdlog::set_default_logger(saved);
  const std::string log = ::testing::internal::GetCapturedStderr();
  const std::string id = std::to_string(OnlyJobFor("summary2/ERR1.summary").id);
  const std::string context =
      R"("route":"summaries","job":")" + id + R"(","key":"summary2/ERR1.summary"})";
  int job_lines = 0;
  std::size_t start = 0;
  while (start < log.size()) {
    const std::size_t end = log.find('\n', start);
    const std::string line = log.substr(start, end - start);
    start = end == std::string::npos ? log.size() : end + 1;
    // The handler's own lines and the engine's lines about the attempt.
    if (line.find("says hello") != std::string::npos ||
        line.find("attempt 1/3 failed") != std::string::npos) {
      ++job_lines;
      EXPECT_NE(line.find(context), std::string::npos) << line;
    }
  }
  EXPECT_EQ(job_lines, 5) << log;  // two calls × (handler + its thread) + the failed attempt
}

TEST(RouteConfig, MaxEventAgeAndTimeoutMustBePositiveDurations) {
  const auto parse = [](std::string_view keys) {
    return ParseConfig(fmt::format(R"toml(
[queue]
url = "sqlite:///tmp/q.db"
[stores.in]
url = "memory://x"
[[routes]]
name = "r"
match = {{ store = "in" }}
handler = "fake"
{}
)toml", keys), "p.toml");
  };
  auto good = parse("max_event_age = \"7d\"\ntimeout = \"30s\"");
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(good->routes[0].max_event_age, std::chrono::hours(24 * 7));
  EXPECT_EQ(good->routes[0].timeout, std::chrono::seconds(30));
  for (const char* bad : {"timeout = \"0s\"", "max_event_age = \"0ms\"", "timeout = \"soon\""}) {
    auto parsed = parse(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(parsed.error().ToString().find("p.toml:"), std::string::npos) << parsed.error().ToString();
  }
}

TEST_F(EngineTest, CorruptInputGoesDeadAtOnceWithTheErrorStored) {
  probe_->behaviour = [](const Event& event, HandlerContext&, int) -> Result<Outcome> {
    return Fail(ErrorCode::Corrupt, "line 3: missing key 'score'", "parse " + event.key);
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 0);
  EXPECT_EQ(report.retried, 0);
  EXPECT_EQ(report.dead, 1);
  EXPECT_EQ(probe_->Calls("summary2/ERR1.summary"), 1);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Dead);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_NE(job.last_error.find("line 3: missing key 'score'"), std::string::npos) << job.last_error;
  EXPECT_NE(job.last_error.find("parse summary2/ERR1.summary"), std::string::npos) << job.last_error;
}

TEST_F(EngineTest, AHandlerThatThrowsFailsItsJobAsInternal) {
  probe_->behaviour = [](const Event&, HandlerContext&, int) -> Result<Outcome> {
    throw std::runtime_error("kaboom");
  };
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.dead, 1);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Dead);
  EXPECT_NE(job.last_error.find("kaboom"), std::string::npos) << job.last_error;
}

TEST_F(EngineTest, ASecondPassEnqueuesNothingNew) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 3; ++i) Put(fmt::format("summary2/ERR{}.summary", i), "x");
  ASSERT_EQ(PassAndDrain().succeeded, 3);

  const RunReport again = PassAndDrain();
  EXPECT_EQ(again.succeeded, 0);
  EXPECT_EQ(probe_->total.load(), 3);
  EXPECT_EQ(Jobs().size(), 3u);
}

// RunReport is "what one Drain or Serve did": a Drain after a pass that found nothing new must not
// report the previous pass's jobs as enqueued again.
TEST_F(EngineTest, EachDrainReportsOnlyTheJobsEnqueuedSinceThePreviousOne) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 3; ++i) Put(fmt::format("summary2/ERR{}.summary", i), "x");
  const RunReport first = PassAndDrain();
  EXPECT_EQ(first.enqueued, 3);
  const RunReport second = PassAndDrain();
  EXPECT_EQ(second.enqueued, 0);
  Put("summary2/ERR9.summary", "x");
  const RunReport third = PassAndDrain();
  EXPECT_EQ(third.enqueued, 1);
  EXPECT_EQ(third.succeeded, 1);
}

TEST_F(EngineTest, AReopenedEngineEnqueuesNothingNewForUnchangedObjects) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 3; ++i) Put(fmt::format("summary2/ERR{}.summary", i), "x");
  ASSERT_EQ(PassAndDrain().succeeded, 3);
  engine_.reset();

  // A new process: its poll source remembers the ETags it listed (in the queue's database), and
  // the queue's dedupe keys would stop reruns anyway.
  ASSERT_NO_FATAL_FAILURE(Open());
  const RunReport again = PassAndDrain();
  EXPECT_EQ(again.succeeded, 0);
  EXPECT_EQ(probe_->total.load(), 3);
  EXPECT_EQ(Jobs().size(), 3u);
}

TEST_F(EngineTest, ChangingAnObjectsContentRunsItAgain) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "first version");
  Put("summary2/ERR2.summary", "unchanged");
  ASSERT_EQ(PassAndDrain().succeeded, 2);

  Put("summary2/ERR1.summary", "second version");
  const RunReport again = PassAndDrain();
  EXPECT_EQ(again.succeeded, 1);
  EXPECT_EQ(probe_->Calls("summary2/ERR1.summary"), 2);
  EXPECT_EQ(probe_->Calls("summary2/ERR2.summary"), 1);
  EXPECT_EQ(Jobs().size(), 3u);
}

TEST_F(EngineTest, RunningHandlersNeverExceedTheRouteConcurrencyAndReachIt) {
  auto other = std::make_shared<Probe>();
  registry_.Register("fake-other", FakeFactory(other));
  const auto slow = [](const Event&, HandlerContext&, int) -> Result<Outcome> {
    std::this_thread::sleep_for(60ms);
    return Outcome{};
  };
  probe_->behaviour = slow;
  other->behaviour = slow;
  PipelineOptions options;
  options.concurrency = 3;
  options.extra = R"toml(
[[routes]]
name = "others"
match = { store = "in", prefix = "other/" }
handler = "fake-other"
concurrency = 1
)toml";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  std::vector<Event> events;
  for (int i = 0; i < 12; ++i) Put(fmt::format("summary2/ERR{}.summary", i), "x");
  for (int i = 0; i < 4; ++i) {
    Event event;
    event.kind = "ObjectCreated:Put";
    event.store = "in";
    event.key = fmt::format("other/{}", i);
    event.etag = "e";
    events.push_back(event);
  }
  ASSERT_EQ(engine_->Submit(events).value(), 4);

  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 16);
  EXPECT_EQ(probe_->total.load(), 12);
  EXPECT_EQ(other->total.load(), 4);
  EXPECT_EQ(probe_->max_running.load(), 3);
  EXPECT_EQ(other->max_running.load(), 1);
}

// The heartbeat extends the lease of a running job, so a handler slower than the lease is neither
// recovered by Drain's lease recovery nor run a second time by another worker.
TEST_F(EngineTest, HeartbeatsKeepTheLeaseOfAHandlerSlowerThanTheLease) {
  probe_->behaviour = [](const Event&, HandlerContext&, int) -> Result<Outcome> {
    std::this_thread::sleep_for(700ms);
    return Outcome{};
  };
  PipelineOptions options;
  options.lease = "300ms";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  Put("summary2/ERR1.summary", "x");
  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(probe_->Calls("summary2/ERR1.summary"), 1);
  EXPECT_EQ(probe_->max_running.load(), 1);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Succeeded);
  EXPECT_EQ(job.attempts, 1);
}

TEST_F(EngineTest, FollowOnEventsAreRoutedAfterTheJobSucceeds) {
  auto other = std::make_shared<Probe>();
  registry_.Register("fake-other", FakeFactory(other));
  probe_->behaviour = [](const Event& event, HandlerContext& context, int) -> Result<Outcome> {
    Event follow;
    follow.kind = "ObjectCreated:Put";
    follow.store = "in";
    follow.key = "other/" + event.key.substr(event.key.find('/') + 1);
    follow.etag = "derived";
    context.Emit(std::move(follow));
    return Outcome{};
  };
  PipelineOptions options;
  options.extra = R"toml(
[[routes]]
name = "others"
match = { store = "in", prefix = "other/" }
handler = "fake-other"
)toml";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  Put("summary2/ERR1.summary", "x");
  const RunReport report = PassAndDrain();
  EXPECT_EQ(report.succeeded, 2);
  EXPECT_EQ(other->Calls("other/ERR1.summary"), 1);
}

TEST_F(EngineTest, SubmitToRouteSkipsMatchingAndRejectsUnknownRoutes) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Event event;
  event.kind = "ObjectCreated:Backfill";
  event.store = "in";
  event.key = "not/matching/the/route.txt";
  EXPECT_EQ(engine_->Submit({event}).value(), 0);
  EXPECT_EQ(engine_->SubmitToRoute("summaries", {event}).value(), 1);
  EXPECT_EQ(engine_->SubmitToRoute("summaries", {event}).value(), 0);
  auto unknown = engine_->SubmitToRoute("nope", {event});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::InvalidArgument);
  const RunReport report = engine_->Drain().value();
  EXPECT_EQ(report.succeeded, 1);
  EXPECT_EQ(probe_->Calls("not/matching/the/route.txt"), 1);
}

TEST_F(EngineTest, OpenWithAnUnknownHandlerNamesTheRouteAndLine) {
  auto config = ParseConfig(ConfigText({}), dir_ / "pipeline.toml");
  ASSERT_TRUE(config) << config.error().ToString();
  config->routes[0].handler = "missing-handler";
  auto engine = Engine::Open(std::move(*config), registry_);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, ErrorCode::InvalidArgument);
  const std::string all = engine.error().ToString();
  EXPECT_NE(all.find("missing-handler"), std::string::npos) << all;
  EXPECT_NE(all.find("route 'summaries'"), std::string::npos) << all;
  EXPECT_NE(all.find("pipeline.toml:"), std::string::npos) << all;
}

TEST_F(EngineTest, ServeRunsNewObjectsUntilStoppedAndStopsCleanly) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Put("summary2/ERR1.summary", "x");
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(150ms);
    Put("summary2/ERR2.summary", "arrives while serving");
    const auto deadline = std::chrono::steady_clock::now() + 1500ms;
    while (probe_->total.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(50ms);
    stop = true;
  });
  const auto started = std::chrono::steady_clock::now();
  auto report = engine_->Serve(stop);
  stopper.join();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(report->succeeded, 2);
  EXPECT_EQ(report->released, 0);
  EXPECT_FALSE(report->abandoned);
  EXPECT_EQ(Jobs(JobState::Succeeded).size(), 2u);
}

// Idle workers sleep idle_poll between empty claims; an enqueue must end that sleep at once. With
// an hour-long idle_poll, a job enqueued while every worker sleeps runs only if the wake-up works.
TEST_F(EngineTest, AJobEnqueuedWhileWorkersSleepWakesThemBeforeIdlePollEnds) {
  PipelineOptions options;
  options.idle_poll = "1h";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);  // every worker has found nothing and sleeps
    Put("summary2/ERR3.summary", "arrives while the workers sleep");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (probe_->total.load() < 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    stop = true;
  });
  auto report = engine_->Serve(stop);
  stopper.join();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->succeeded, 1);
}

TEST_F(EngineTest, ServeReleasesAJobWhoseHandlerHonoursCancellationAfterTheGrace) {
  probe_->behaviour = [](const Event&, HandlerContext& context, int) -> Result<Outcome> {
    const auto give_up = std::chrono::steady_clock::now() + 1500ms;
    while (!context.Cancelled() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(5ms);
    }
    if (context.Cancelled()) return Fail(ErrorCode::Cancelled, "stopping");
    return Outcome{};
  };
  PipelineOptions options;
  options.shutdown_grace = "100ms";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  Put("summary2/ERR1.summary", "x");
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (probe_->running.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    stop = true;
  });
  auto report = engine_->Serve(stop);
  stopper.join();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->succeeded, 0);
  EXPECT_EQ(report->released, 1);
  EXPECT_FALSE(report->abandoned);
  const Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Pending);
  EXPECT_EQ(job.attempts, 0);
}

// A handler that ignores cancellation is abandoned after the grace and a further wait: its job is
// released at once, and its late completion must not count. The engine detaches the abandoned
// thread, which still uses the engine when the handler returns, so this test keeps the engine alive
// (leaks it) instead of destroying it under that thread.
TEST_F(EngineTest, ServeReleasesTheJobOfAHandlerStillRunningPastTheGrace) {
  struct Gate {
    std::atomic<bool> finish{false};
    std::atomic<bool> returned{false};
  };
  auto gate = std::make_shared<Gate>();
  probe_->behaviour = [gate](const Event&, HandlerContext&, int) -> Result<Outcome> {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!gate->finish && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(5ms);
    }
    gate->returned = true;
    return Outcome{};
  };
  PipelineOptions options;
  options.shutdown_grace = "100ms";
  ASSERT_NO_FATAL_FAILURE(Open(options));
  Put("summary2/ERR1.summary", "x");
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    while (probe_->running.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    stop = true;
  });
  auto report = engine_->Serve(stop);
  stopper.join();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->abandoned);
  EXPECT_EQ(report->released, 1);
  EXPECT_FALSE(gate->returned.load());
  Job job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Pending);
  EXPECT_EQ(job.attempts, 0);

  // Let the abandoned handler finish; its success comes from a worker that lost the job.
  gate->finish = true;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!gate->returned && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(gate->returned.load());
  std::this_thread::sleep_for(100ms);
  job = OnlyJobFor("summary2/ERR1.summary");
  EXPECT_EQ(job.state, JobState::Pending);
  EXPECT_EQ(job.attempts, 0);
  (void)engine_.release();  // see the comment above the test
}

}  // namespace
}  // namespace sluice
