// The amqp:// queue against the real RabbitMQ broker of scripts/services/rabbitmq.sh (CTest
// fixture "rabbitmq"; SLUICE_AMQP_URL comes from with-amqp-env.sh). Every test uses its own queue
// prefix, so tests never see each other's jobs.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sluice/core/retry.hpp"
#include "sluice/engine/queue/amqp_client.hpp"
#include "sluice/engine/queue/amqp_queue.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string UniquePrefix(std::string_view test) {
  return fmt::format("it-{}-{}-{:06x}", test, getpid(), static_cast<unsigned>(RandomUnit() * 0xFFFFFF));
}

std::string BrokerUrl(const std::string& prefix) {
  const char* base = std::getenv("SLUICE_AMQP_URL");
  if (base == nullptr) return {};
  return fmt::format("{}?queue={}", base, prefix);
}

std::unique_ptr<Queue> OpenQueue(const std::string& prefix) {
  const std::string url = BrokerUrl(prefix);
  EXPECT_FALSE(url.empty()) << "SLUICE_AMQP_URL is not set: run through with-amqp-env.sh";
  if (url.empty()) return nullptr;
  auto queue = MakeQueue(url);
  EXPECT_TRUE(queue) << queue.error().ToString();
  return queue ? std::move(*queue) : nullptr;
}

NewJob MakeNewJob(std::string route, std::string key, int max_attempts = 3) {
  NewJob job;
  job.route = std::move(route);
  job.event.kind = "ObjectCreated:Put";
  job.event.store = "incoming";
  job.event.key = std::move(key);
  job.dedupe_key = DedupeKey(job.route, job.event);
  job.max_attempts = max_attempts;
  return job;
}

// Claims until `count` jobs arrived or `timeout` passed.
std::vector<Job> ClaimAll(Queue& queue, std::string_view route, std::size_t count,
                          std::chrono::milliseconds timeout = 10s) {
  std::vector<Job> jobs;
  const auto deadline = SteadyClock::now() + timeout;
  while (jobs.size() < count && SteadyClock::now() < deadline) {
    auto claimed = queue.ClaimBatch(route, "test", 30s, 16);
    EXPECT_TRUE(claimed) << claimed.error().ToString();
    if (!claimed) break;
    for (auto& job : *claimed) jobs.push_back(std::move(job));
  }
  return jobs;
}

std::int64_t Count(const QueueStats& stats, JobState state) {
  const auto it = stats.counts.find(state);
  return it == stats.counts.end() ? 0 : it->second;
}

TEST(AmqpQueue, EnqueuedJobsAreConsumedOnceAndAckedJobsAreGone) {
  const std::string prefix = UniquePrefix("ack");
  auto queue = OpenQueue(prefix);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Subscribe("r", 4));
  std::vector<NewJob> jobs;
  for (int i = 0; i < 25; ++i) jobs.push_back(MakeNewJob("r", fmt::format("k/{:02}", i)));
  auto added = queue->Enqueue(jobs);
  ASSERT_TRUE(added) << added.error().ToString();
  EXPECT_EQ(*added, 25);

  std::set<std::string> keys;
  std::set<std::int64_t> ids;
  while (keys.size() < 25) {
    auto claimed = ClaimAll(*queue, "r", 1);
    ASSERT_FALSE(claimed.empty()) << "only " << keys.size() << " of 25 jobs arrived";
    std::vector<std::int64_t> done;
    for (const Job& job : claimed) {
      EXPECT_EQ(job.state, JobState::Running);
      EXPECT_EQ(job.attempts, 1);
      EXPECT_EQ(job.max_attempts, 3);
      EXPECT_TRUE(keys.insert(job.event.key).second) << "delivered twice: " << job.event.key;
      ids.insert(job.id);
      done.push_back(job.id);
    }
    auto acked = queue->SucceedBatch(done, "test");
    ASSERT_TRUE(acked) << acked.error().ToString();
    EXPECT_EQ(*acked, static_cast<int>(done.size()));
  }
  EXPECT_EQ(ids.size(), 25u);
  const std::string routes[] = {"r"};
  auto stats = queue->Stats(routes);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->Open(), 0);

  // a second process (connection) finds nothing left
  auto other = OpenQueue(prefix);
  ASSERT_TRUE(other);
  EXPECT_TRUE(ClaimAll(*other, "r", 1, 700ms).empty());
}

TEST(AmqpQueue, JobsOfADeadConnectionGoBackToTheQueue) {
  const std::string prefix = UniquePrefix("crash");
  auto first = OpenQueue(prefix);
  ASSERT_TRUE(first);
  const NewJob jobs[] = {MakeNewJob("r", "a"), MakeNewJob("r", "b")};
  ASSERT_TRUE(first->Enqueue(jobs));
  auto claimed = ClaimAll(*first, "r", 2);
  ASSERT_EQ(claimed.size(), 2u);
  first.reset();  // the connection closes with both deliveries unacked, as a killed worker's would

  auto second = OpenQueue(prefix);
  ASSERT_TRUE(second);
  auto again = ClaimAll(*second, "r", 2);
  ASSERT_EQ(again.size(), 2u);
  std::set<std::string> keys{again[0].event.key, again[1].event.key};
  EXPECT_EQ(keys, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(again[0].attempts, 1) << "an interrupted attempt is not counted";
}

TEST(AmqpQueue, ReleasedJobIsClaimableAgain) {
  const std::string prefix = UniquePrefix("release");
  auto queue = OpenQueue(prefix);
  ASSERT_TRUE(queue);
  const NewJob jobs[] = {MakeNewJob("r", "a")};
  ASSERT_TRUE(queue->Enqueue(jobs));
  auto claimed = ClaimAll(*queue, "r", 1);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_TRUE(queue->Release(claimed[0].id, "test"));
  auto again = ClaimAll(*queue, "r", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, claimed[0].id);
  EXPECT_EQ(again[0].attempts, 1);
}

TEST(AmqpQueue, FailingJobIsRetriedAfterItsDelayThenDeadLetteredWithEveryError) {
  const std::string prefix = UniquePrefix("retry");
  auto queue = OpenQueue(prefix);
  ASSERT_TRUE(queue);
  const NewJob jobs[] = {MakeNewJob("r", "poison", /*max_attempts=*/3)};
  ASSERT_TRUE(queue->Enqueue(jobs));

  std::int64_t id = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto failed_at = SteadyClock::now();
    auto claimed = ClaimAll(*queue, "r", 1);
    ASSERT_EQ(claimed.size(), 1u) << "attempt " << attempt << " never arrived";
    if (attempt > 1) {
      EXPECT_GE(SteadyClock::now() - failed_at, 200ms) << "a retry came back before its 250ms delay";
    }
    const Job& job = claimed[0];
    EXPECT_EQ(job.attempts, attempt);
    if (id == 0) id = job.id;
    EXPECT_EQ(job.id, id);
    if (attempt > 1) {
      EXPECT_EQ(job.last_error, fmt::format("boom {}", attempt - 1));
    }
    auto state = queue->FailAttempt(job.id, "test", fmt::format("boom {}", attempt), 150ms);
    ASSERT_TRUE(state) << state.error().ToString();
    ASSERT_TRUE(*state);
    EXPECT_EQ(**state, attempt < 3 ? JobState::Failed : JobState::Dead);
  }
  EXPECT_TRUE(ClaimAll(*queue, "r", 1, 600ms).empty()) << "a dead job came back";

  auto dead = queue->List(JobState::Dead, 0);
  ASSERT_TRUE(dead) << dead.error().ToString();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, id);
  EXPECT_EQ((*dead)[0].route, "r");
  EXPECT_EQ((*dead)[0].event.key, "poison");
  EXPECT_EQ((*dead)[0].attempts, 3);
  EXPECT_EQ((*dead)[0].last_error, "boom 3");
  auto shown = queue->Get(id);
  ASSERT_TRUE(shown) << shown.error().ToString();
  EXPECT_EQ(shown->state, JobState::Dead);

  // (before the raw browse below, whose return to the queue is asynchronous)
  const std::string routes[] = {"r"};
  auto stats = queue->Stats(routes);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(Count(*stats, JobState::Dead), 1);
  EXPECT_EQ(stats->Open(), 0);

  // every error is kept, oldest first, in the dead message's headers
  auto url = ParseAmqpUrl(BrokerUrl(prefix));
  ASSERT_TRUE(url);
  auto raw = AmqpConnection::Open(*url, "test");
  ASSERT_TRUE(raw) << raw.error().ToString();
  auto message = (*raw)->Get(1, AmqpNames{prefix}.DeadQueue());
  ASSERT_TRUE(message) << message.error().ToString();
  ASSERT_TRUE(*message);
  EXPECT_EQ(HeaderStrings((*message)->headers, kAmqpErrorsHeader),
            (std::vector<std::string>{"boom 1", "boom 2", "boom 3"}));
  EXPECT_EQ(HeaderInt((*message)->headers, kAmqpAttemptsHeader), 3);
  EXPECT_EQ(HeaderString((*message)->headers, kAmqpDeadReasonHeader), "attempts used up");
  const auto log = HeaderStrings((*message)->headers, kAmqpAttemptLogHeader);
  ASSERT_EQ(log.size(), 3u);
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto entry = nlohmann::json::parse(log[i]);
    EXPECT_EQ(entry.at("number"), static_cast<int>(i) + 1);
    EXPECT_EQ(entry.at("owner"), "test");
    EXPECT_EQ(entry.at("outcome"), i < 2 ? "failed" : "dead");
    EXPECT_EQ(entry.at("error"), fmt::format("boom {}", i + 1));
    EXPECT_LE(entry.at("started_ms").get<std::int64_t>(), entry.at("ended_ms").get<std::int64_t>());
  }
  raw->reset();  // returns the browsed message
}

TEST(AmqpQueue, NonRetryableFailureGoesStraightToTheDeadLetterQueue) {
  const std::string prefix = UniquePrefix("fatal");
  auto queue = OpenQueue(prefix);
  ASSERT_TRUE(queue);
  const NewJob jobs[] = {MakeNewJob("r", "bad", /*max_attempts=*/5)};
  ASSERT_TRUE(queue->Enqueue(jobs));
  auto claimed = ClaimAll(*queue, "r", 1);
  ASSERT_EQ(claimed.size(), 1u);
  auto state = queue->FailAttempt(claimed[0].id, "test", "corrupt: bad header", std::nullopt);
  ASSERT_TRUE(state && *state);
  EXPECT_EQ(**state, JobState::Dead);
  auto dead = queue->List(JobState::Dead, 0);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, 1);
  EXPECT_EQ((*dead)[0].last_error, "corrupt: bad header");
}

TEST(AmqpQueue, RequeueMovesDeadJobsBackWithAttemptsResetAndUnknownIdsAreNotFound) {
  const std::string prefix = UniquePrefix("requeue");
  auto queue = OpenQueue(prefix);
  ASSERT_TRUE(queue);
  const NewJob jobs[] = {MakeNewJob("r", "x", 1), MakeNewJob("r", "y", 1)};
  ASSERT_TRUE(queue->Enqueue(jobs));
  auto claimed = ClaimAll(*queue, "r", 2);
  ASSERT_EQ(claimed.size(), 2u);
  for (const Job& job : claimed) ASSERT_TRUE(queue->FailAttempt(job.id, "test", "boom", 100ms));

  const std::int64_t missing[] = {12345};
  auto unknown = queue->Requeue(missing);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);

  const std::int64_t one[] = {claimed[0].id};
  auto requeued = queue->Requeue(one);
  ASSERT_TRUE(requeued) << requeued.error().ToString();
  EXPECT_EQ(*requeued, std::vector<std::int64_t>{claimed[0].id});
  auto again = ClaimAll(*queue, "r", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, claimed[0].id);
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[0].last_error, "boom") << "the error history survives a retry";
  auto dead = queue->List(JobState::Dead, 0);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u) << "the other dead job stays";
  EXPECT_EQ((*dead)[0].id, claimed[1].id);
}

TEST(AmqpQueue, ListingJobsThatAreNotDeadIsUnsupported) {
  auto queue = OpenQueue(UniquePrefix("list"));
  ASSERT_TRUE(queue);
  auto all = queue->List(std::nullopt, 0);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, ErrorCode::Unsupported);
  auto pending = queue->List(JobState::Pending, 0);
  ASSERT_FALSE(pending);
  EXPECT_EQ(pending.error().code, ErrorCode::Unsupported);
}

TEST(AmqpQueue, WrongPasswordIsPermissionDeniedAndNotLogged) {
  const char* base = std::getenv("SLUICE_AMQP_URL");
  ASSERT_NE(base, nullptr);
  std::string url = base;
  const auto at = url.find("guest@");
  ASSERT_NE(at, std::string::npos);
  url.replace(at, 5, "wrongpassword");
  auto queue = MakeQueue(url);
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::PermissionDenied) << queue.error().ToString();
  EXPECT_EQ(queue.error().ToString().find("wrongpassword"), std::string::npos);
}

}  // namespace
}  // namespace sluice
