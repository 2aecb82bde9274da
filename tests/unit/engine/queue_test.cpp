#include "sluice/engine/queue/queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/tables/sqlite_db.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::TempDir;

Event ObjectEvent(const std::string& key, const std::string& etag = "etag-1") {
  Event event;
  event.kind = "ObjectCreated:Put";
  event.store = "incoming";
  event.key = key;
  event.size_bytes = 97'688;
  event.etag = etag;
  event.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'588'081'515'000));
  return event;
}

NewJob JobFor(const std::string& route, const std::string& key, int max_attempts = 3,
              const std::string& etag = "etag-1") {
  NewJob job;
  job.route = route;
  job.event = ObjectEvent(key, etag);
  job.dedupe_key = DedupeKey(route, job.event);
  job.max_attempts = max_attempts;
  return job;
}

class SqliteQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = Open(); }

  std::unique_ptr<Queue> Open() {
    auto queue = MakeQueue("sqlite://" + (dir_ / "queue.db").string());
    EXPECT_TRUE(queue) << queue.error().ToString();
    return queue ? std::move(*queue) : nullptr;
  }

  int Enqueue(std::vector<NewJob> jobs) {
    auto added = queue_->Enqueue(jobs);
    EXPECT_TRUE(added) << added.error().ToString();
    return added ? *added : -1;
  }

  Job MustClaim(const std::string& route, const std::string& owner, milliseconds lease = 30s) {
    auto claimed = queue_->Claim(route, owner, lease);
    EXPECT_TRUE(claimed) << claimed.error().ToString();
    if (!claimed || !*claimed) {
      ADD_FAILURE() << "nothing to claim on route " << route;
      return Job{};
    }
    return **claimed;
  }

  bool NothingToClaim(const std::string& route, const std::string& owner) {
    auto claimed = queue_->Claim(route, owner, 30s);
    EXPECT_TRUE(claimed) << claimed.error().ToString();
    return claimed && !*claimed;
  }

  Job MustGet(std::int64_t id) {
    auto job = queue_->Get(id);
    EXPECT_TRUE(job) << job.error().ToString();
    return job ? *job : Job{};
  }

  TempDir dir_;
  std::unique_ptr<Queue> queue_;
};

TEST_F(SqliteQueueTest, EnqueueOfSameDedupeKeyTwiceAddsOneJob) {
  EXPECT_EQ(Enqueue({JobFor("r", "a.summary")}), 1);
  EXPECT_EQ(Enqueue({JobFor("r", "a.summary")}), 0);
  EXPECT_EQ(Enqueue({JobFor("r", "a.summary"), JobFor("r", "b.summary"), JobFor("r", "b.summary")}), 1);
  auto jobs = queue_->List(std::nullopt, 0);
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->size(), 2u);
}

TEST_F(SqliteQueueTest, EnqueueOfADoneJobsDedupeKeyAddsNothing) {
  ASSERT_EQ(Enqueue({JobFor("r", "a.summary")}), 1);
  const Job job = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->Succeed(job.id, "w1").value());
  EXPECT_EQ(Enqueue({JobFor("r", "a.summary")}), 0);
  EXPECT_EQ(Enqueue({JobFor("r", "a.summary", 3, "etag-2")}), 1);
}

TEST_F(SqliteQueueTest, EnqueueKeepsTheEventAndAttemptLimit) {
  ASSERT_EQ(Enqueue({JobFor("r", "summary2/ERR1.summary", 7)}), 1);
  auto jobs = queue_->List(std::nullopt, 0);
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  const Job& job = jobs->front();
  EXPECT_EQ(job.route, "r");
  EXPECT_EQ(job.state, JobState::Pending);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.max_attempts, 7);
  EXPECT_EQ(job.dedupe_key, DedupeKey("r", ObjectEvent("summary2/ERR1.summary")));
  EXPECT_EQ(job.event.kind, "ObjectCreated:Put");
  EXPECT_EQ(job.event.store, "incoming");
  EXPECT_EQ(job.event.key, "summary2/ERR1.summary");
  EXPECT_EQ(job.event.size_bytes, 97'688u);
  EXPECT_EQ(job.event.etag, "etag-1");
  EXPECT_EQ(job.event.time, ObjectEvent("x").time);
  EXPECT_EQ(job.last_error, "");
}

TEST_F(SqliteQueueTest, ClaimReturnsJobsOfItsRouteInEnqueueOrder) {
  ASSERT_EQ(Enqueue({JobFor("r", "1"), JobFor("other", "x"), JobFor("r", "2"), JobFor("r", "3")}), 4);
  ASSERT_EQ(Enqueue({JobFor("r", "4")}), 1);
  std::vector<std::string> keys;
  std::int64_t last_id = 0;
  for (int i = 0; i < 4; ++i) {
    const Job job = MustClaim("r", "w1");
    EXPECT_EQ(job.route, "r");
    EXPECT_GT(job.id, last_id);
    last_id = job.id;
    keys.push_back(job.event.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_TRUE(NothingToClaim("r", "w1"));
  EXPECT_EQ(MustClaim("other", "w1").event.key, "x");
}

TEST_F(SqliteQueueTest, ClaimMarksTheJobRunningWithALeaseAndCountsTheAttempt) {
  ASSERT_EQ(Enqueue({JobFor("r", "a")}), 1);
  const auto before = std::chrono::system_clock::now();
  const Job job = MustClaim("r", "w1", 10s);
  EXPECT_EQ(job.state, JobState::Running);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_GE(job.lease_expires, before + 9s);
  EXPECT_LE(job.lease_expires, std::chrono::system_clock::now() + 11s);
  EXPECT_EQ(MustGet(job.id).state, JobState::Running);
}

TEST_F(SqliteQueueTest, ClaimedJobIsNotClaimableAgainUntilItsLeaseExpiresAndIsRecovered) {
  ASSERT_EQ(Enqueue({JobFor("r", "a")}), 1);
  const Job first = MustClaim("r", "worker-a", 150ms);
  EXPECT_TRUE(NothingToClaim("r", "worker-b"));
  EXPECT_EQ(queue_->RecoverExpiredLeases().value(), 0);

  std::this_thread::sleep_for(200ms);
  // Expired but not yet recovered: still nobody else's.
  EXPECT_TRUE(NothingToClaim("r", "worker-b"));
  EXPECT_EQ(queue_->RecoverExpiredLeases().value(), 1);
  const Job recovered = MustGet(first.id);
  EXPECT_EQ(recovered.state, JobState::Pending);
  EXPECT_EQ(recovered.attempts, 1);  // the interrupted attempt counts
  EXPECT_NE(recovered.last_error.find("lease expired"), std::string::npos) << recovered.last_error;

  const Job second = MustClaim("r", "worker-b");
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.attempts, 2);

  // The first worker lost the job: its completion is ignored.
  EXPECT_FALSE(queue_->Succeed(first.id, "worker-a").value());
  EXPECT_EQ(MustGet(first.id).state, JobState::Running);
  EXPECT_TRUE(queue_->Succeed(first.id, "worker-b").value());
  EXPECT_EQ(MustGet(first.id).state, JobState::Succeeded);
}

TEST_F(SqliteQueueTest, RecoveringAnExpiredLeaseOfAJobOutOfAttemptsMakesItDead) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1)}), 1);
  const Job job = MustClaim("r", "w1", 1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(queue_->RecoverExpiredLeases().value(), 1);
  EXPECT_EQ(MustGet(job.id).state, JobState::Dead);
  EXPECT_TRUE(NothingToClaim("r", "w2"));
}

TEST_F(SqliteQueueTest, ExtendLeasesKeepsTheJobOnlyForItsOwner) {
  ASSERT_EQ(Enqueue({JobFor("r", "a"), JobFor("r", "b")}), 2);
  const Job a = MustClaim("r", "w1", 100ms);
  const Job b = MustClaim("r", "w2", 100ms);
  const std::int64_t ids[] = {a.id, b.id};
  ASSERT_TRUE(queue_->ExtendLeases(ids, "w1", 30s));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(queue_->RecoverExpiredLeases().value(), 1);
  EXPECT_EQ(MustGet(a.id).state, JobState::Running);
  EXPECT_EQ(MustGet(b.id).state, JobState::Pending);
}

TEST_F(SqliteQueueTest, SucceedByTheWrongOwnerReturnsFalse) {
  ASSERT_EQ(Enqueue({JobFor("r", "a")}), 1);
  const Job job = MustClaim("r", "w1");
  auto wrong = queue_->Succeed(job.id, "w2");
  ASSERT_TRUE(wrong) << wrong.error().ToString();
  EXPECT_FALSE(*wrong);
  EXPECT_EQ(MustGet(job.id).state, JobState::Running);
  EXPECT_TRUE(queue_->Succeed(job.id, "w1").value());
  // Succeeding twice is also a no-op.
  EXPECT_FALSE(queue_->Succeed(job.id, "w1").value());
  EXPECT_EQ(MustGet(job.id).state, JobState::Succeeded);
  EXPECT_TRUE(NothingToClaim("r", "w1"));
}

TEST_F(SqliteQueueTest, FailAttemptWithRetryAfterWaitsForTheDelay) {
  ASSERT_EQ(Enqueue({JobFor("r", "a")}), 1);
  const Job job = MustClaim("r", "w1");
  const auto failed_at = std::chrono::system_clock::now();
  auto state = queue_->FailAttempt(job.id, "w1", "transient: connection reset", 300ms);
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, std::optional<JobState>(JobState::Failed));
  const Job failed = MustGet(job.id);
  EXPECT_EQ(failed.state, JobState::Failed);
  EXPECT_EQ(failed.last_error, "transient: connection reset");
  EXPECT_GE(failed.not_before, failed_at + 290ms);

  EXPECT_TRUE(NothingToClaim("r", "w1"));
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  ASSERT_TRUE(stats->next_wakeup.has_value());
  EXPECT_EQ(*stats->next_wakeup, failed.not_before);

  std::this_thread::sleep_for(failed.not_before - std::chrono::system_clock::now() + 20ms);
  const Job retried = MustClaim("r", "w2");
  EXPECT_EQ(retried.id, job.id);
  EXPECT_EQ(retried.attempts, 2);
}

TEST_F(SqliteQueueTest, FailAttemptWithoutRetryMakesTheJobDead) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 5)}), 1);
  const Job job = MustClaim("r", "w1");
  auto state = queue_->FailAttempt(job.id, "w1", "corrupt: line 3: missing score", std::nullopt);
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, std::optional<JobState>(JobState::Dead));
  const Job dead = MustGet(job.id);
  EXPECT_EQ(dead.state, JobState::Dead);
  EXPECT_EQ(dead.attempts, 1);
  EXPECT_EQ(dead.last_error, "corrupt: line 3: missing score");
  EXPECT_TRUE(NothingToClaim("r", "w1"));
}

TEST_F(SqliteQueueTest, FailAttemptByTheWrongOwnerIsIgnored) {
  ASSERT_EQ(Enqueue({JobFor("r", "a")}), 1);
  const Job job = MustClaim("r", "w1");
  auto state = queue_->FailAttempt(job.id, "w2", "nope", std::nullopt);
  ASSERT_TRUE(state) << state.error().ToString();
  EXPECT_EQ(*state, std::nullopt);
  EXPECT_EQ(MustGet(job.id).state, JobState::Running);
}

TEST_F(SqliteQueueTest, AttemptsReachingMaxAttemptsMakeTheJobDead) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 2)}), 1);
  Job job = MustClaim("r", "w1");
  EXPECT_EQ(queue_->FailAttempt(job.id, "w1", "first", 0ms).value(), std::optional<JobState>(JobState::Failed));
  job = MustClaim("r", "w1");
  EXPECT_EQ(job.attempts, 2);
  EXPECT_EQ(queue_->FailAttempt(job.id, "w1", "second", 0ms).value(), std::optional<JobState>(JobState::Dead));
  const Job dead = MustGet(job.id);
  EXPECT_EQ(dead.state, JobState::Dead);
  EXPECT_EQ(dead.attempts, 2);
  EXPECT_EQ(dead.last_error, "second");
  EXPECT_TRUE(NothingToClaim("r", "w1"));
}

TEST_F(SqliteQueueTest, ReleaseReturnsTheJobWithoutCountingTheAttempt) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1)}), 1);
  Job job = MustClaim("r", "w1");
  ASSERT_EQ(job.attempts, 1);
  ASSERT_TRUE(queue_->Release(job.id, "w2"));  // not the owner: no effect
  EXPECT_EQ(MustGet(job.id).state, JobState::Running);
  ASSERT_TRUE(queue_->Release(job.id, "w1"));
  const Job released = MustGet(job.id);
  EXPECT_EQ(released.state, JobState::Pending);
  EXPECT_EQ(released.attempts, 0);
  // With max_attempts 1, a counted attempt would have left nothing to claim.
  job = MustClaim("r", "w3");
  EXPECT_EQ(job.attempts, 1);
}

TEST_F(SqliteQueueTest, RequeueOfAllDeadJobsResetsTheirAttempts) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1), JobFor("r", "b", 1), JobFor("r", "c", 1)}), 3);
  const Job a = MustClaim("r", "w1");
  const Job b = MustClaim("r", "w1");
  const Job c = MustClaim("r", "w1");
  ASSERT_EQ(queue_->FailAttempt(a.id, "w1", "bad", std::nullopt).value(), std::optional<JobState>(JobState::Dead));
  ASSERT_EQ(queue_->FailAttempt(b.id, "w1", "bad", 0ms).value(), std::optional<JobState>(JobState::Dead));
  ASSERT_TRUE(queue_->Succeed(c.id, "w1").value());

  auto requeued = queue_->Requeue({});
  ASSERT_TRUE(requeued) << requeued.error().ToString();
  EXPECT_EQ(*requeued, (std::vector<std::int64_t>{a.id, b.id}));
  for (std::int64_t id : {a.id, b.id}) {
    const Job job = MustGet(id);
    EXPECT_EQ(job.state, JobState::Pending);
    EXPECT_EQ(job.attempts, 0);
  }
  EXPECT_EQ(MustGet(c.id).state, JobState::Succeeded);
  EXPECT_EQ(MustClaim("r", "w2").attempts, 1);
  EXPECT_EQ(MustClaim("r", "w2").attempts, 1);
  EXPECT_TRUE(NothingToClaim("r", "w2"));
}

TEST_F(SqliteQueueTest, RequeueByIdAcceptsFailedJobs) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 3)}), 1);
  const Job job = MustClaim("r", "w1");
  ASSERT_EQ(queue_->FailAttempt(job.id, "w1", "later", 1h).value(), std::optional<JobState>(JobState::Failed));
  EXPECT_TRUE(NothingToClaim("r", "w1"));
  const std::int64_t ids[] = {job.id};
  auto requeued = queue_->Requeue(ids);
  ASSERT_TRUE(requeued) << requeued.error().ToString();
  EXPECT_EQ(*requeued, std::vector<std::int64_t>{job.id});
  const Job again = MustClaim("r", "w1");
  EXPECT_EQ(again.id, job.id);
  EXPECT_EQ(again.attempts, 1);
}

TEST_F(SqliteQueueTest, RequeueOfARunningOrSucceededJobIsInvalidArgument) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1), JobFor("r", "b", 1)}), 2);
  const Job running = MustClaim("r", "w1");
  const Job done = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->Succeed(done.id, "w1").value());

  const std::int64_t running_ids[] = {running.id};
  auto status = queue_->Requeue(running_ids);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(status.error().message.find("running"), std::string::npos) << status.error().message;
  const Job still = MustGet(running.id);
  EXPECT_EQ(still.state, JobState::Running);
  EXPECT_EQ(still.attempts, 1);

  const std::int64_t done_ids[] = {done.id};
  status = queue_->Requeue(done_ids);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
}

TEST_F(SqliteQueueTest, RequeueIsAllOrNothing) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1), JobFor("r", "b", 1)}), 2);
  const Job dead = MustClaim("r", "w1");
  ASSERT_EQ(queue_->FailAttempt(dead.id, "w1", "bad", std::nullopt).value(), std::optional<JobState>(JobState::Dead));
  const Job running = MustClaim("r", "w1");
  const std::int64_t ids[] = {dead.id, running.id};
  ASSERT_FALSE(queue_->Requeue(ids));
  EXPECT_EQ(MustGet(dead.id).state, JobState::Dead);
}

TEST_F(SqliteQueueTest, RequeueOfAMissingJobIsNotFound) {
  const std::int64_t ids[] = {12345};
  auto status = queue_->Requeue(ids);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::NotFound);
}

TEST_F(SqliteQueueTest, GetOfAMissingJobIsNotFound) {
  auto job = queue_->Get(999);
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().code, ErrorCode::NotFound);
}

TEST_F(SqliteQueueTest, StatsCountsJobsByStateAndFiltersByRoute) {
  ASSERT_EQ(Enqueue({JobFor("a", "1"), JobFor("a", "2"), JobFor("a", "3"), JobFor("a", "4", 1),
                     JobFor("b", "1"), JobFor("b", "2"), JobFor("c", "1")}),
            7);
  const Job running = MustClaim("a", "w");
  const Job done = MustClaim("a", "w");
  const Job dead = MustClaim("a", "w");
  ASSERT_TRUE(queue_->Succeed(done.id, "w").value());
  ASSERT_TRUE(queue_->FailAttempt(dead.id, "w", "x", std::nullopt).value());
  const Job failed = MustClaim("b", "w");
  ASSERT_TRUE(queue_->FailAttempt(failed.id, "w", "x", 1h).value());

  auto all = queue_->Stats();
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all->counts, (std::map<JobState, std::int64_t>{{JobState::Pending, 3},
                                                           {JobState::Running, 1},
                                                           {JobState::Succeeded, 1},
                                                           {JobState::Failed, 1},
                                                           {JobState::Dead, 1}}));
  EXPECT_EQ(all->Open(), 5);
  ASSERT_TRUE(all->next_wakeup.has_value());

  const std::vector<std::string> only_a = {"a"};
  auto a = queue_->Stats(only_a);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->counts, (std::map<JobState, std::int64_t>{{JobState::Pending, 1},
                                                         {JobState::Running, 1},
                                                         {JobState::Succeeded, 1},
                                                         {JobState::Dead, 1}}));
  EXPECT_EQ(a->Open(), 2);

  const std::vector<std::string> b_and_c = {"b", "c"};
  auto bc = queue_->Stats(b_and_c);
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->counts, (std::map<JobState, std::int64_t>{{JobState::Pending, 2}, {JobState::Failed, 1}}));
  EXPECT_EQ(bc->Open(), 3);

  const std::vector<std::string> none = {"nobody"};
  auto empty = queue_->Stats(none);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->counts.empty());
  EXPECT_EQ(empty->Open(), 0);
  EXPECT_FALSE(empty->next_wakeup.has_value());
  (void)running;
}

TEST_F(SqliteQueueTest, ListFiltersByStateAndLimits) {
  ASSERT_EQ(Enqueue({JobFor("r", "1"), JobFor("r", "2"), JobFor("r", "3")}), 3);
  const Job claimed = MustClaim("r", "w");
  auto running = queue_->List(JobState::Running, 0);
  ASSERT_TRUE(running);
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->front().id, claimed.id);
  auto pending = queue_->List(JobState::Pending, 1);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().event.key, "2");
}

TEST_F(SqliteQueueTest, JobsSurviveClosingAndReopeningTheQueue) {
  ASSERT_EQ(Enqueue({JobFor("r", "a"), JobFor("r", "b"), JobFor("r", "c")}), 3);
  const Job a = MustClaim("r", "w");
  ASSERT_TRUE(queue_->Succeed(a.id, "w").value());
  const Job b = MustClaim("r", "w");
  ASSERT_TRUE(queue_->FailAttempt(b.id, "w", "boom", std::nullopt).value());
  queue_.reset();

  queue_ = Open();
  ASSERT_NE(queue_, nullptr);
  EXPECT_EQ(MustGet(a.id).state, JobState::Succeeded);
  const Job dead = MustGet(b.id);
  EXPECT_EQ(dead.state, JobState::Dead);
  EXPECT_EQ(dead.last_error, "boom");
  EXPECT_EQ(Enqueue({JobFor("r", "a"), JobFor("r", "b"), JobFor("r", "c")}), 0);
  const Job c = MustClaim("r", "w");
  EXPECT_EQ(c.event.key, "c");
  EXPECT_TRUE(NothingToClaim("r", "w"));
}

TEST_F(SqliteQueueTest, TwoQueuesOnOneFileNeverClaimTheSameJob) {
  constexpr int kJobs = 300;
  constexpr int kThreadsPerQueue = 4;
  std::vector<NewJob> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(JobFor("r", "key-" + std::to_string(i)));
  ASSERT_EQ(Enqueue(jobs), kJobs);

  auto second = Open();
  ASSERT_NE(second, nullptr);
  Queue* queues[] = {queue_.get(), second.get()};

  std::mutex mutex;
  std::vector<std::int64_t> claimed;
  std::atomic<int> errors{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int q = 0; q < 2; ++q) {
    for (int t = 0; t < kThreadsPerQueue; ++t) {
      threads.emplace_back([&, q, t] {
        Queue& queue = *queues[q];
        const std::string owner = "queue" + std::to_string(q) + "-thread" + std::to_string(t);
        while (true) {
          auto job = queue.Claim("r", owner, 30s);
          if (!job) {
            if (++errors > 50) return;  // give up rather than spin
            continue;
          }
          if (!*job) return;
          {
            std::lock_guard lock(mutex);
            claimed.push_back((*job)->id);
          }
          auto done = queue.Succeed((*job)->id, owner);
          if (!done) ++errors;
          else if (!*done) ++lost;
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  const std::set<std::int64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kJobs));
  auto stats = second->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->counts[JobState::Succeeded], kJobs);
  EXPECT_EQ(stats->Open(), 0);
}

TEST_F(SqliteQueueTest, EnqueueFromTwoQueuesAtOnceDedupes) {
  auto second = Open();
  ASSERT_NE(second, nullptr);
  std::vector<NewJob> jobs;
  for (int i = 0; i < 100; ++i) jobs.push_back(JobFor("r", "k" + std::to_string(i)));
  std::atomic<int> added{0};
  std::atomic<int> errors{0};
  std::thread other([&] {
    auto n = second->Enqueue(jobs);
    if (n) added += *n; else ++errors;
  });
  auto n = queue_->Enqueue(jobs);
  if (n) added += *n; else ++errors;
  other.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(added.load(), 100);
}

TEST_F(SqliteQueueTest, AttemptHistoryKeepsEveryAttemptsOwnerTimingOutcomeAndError) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 3)}), 1);
  Job job = MustClaim("r", "w1");
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(queue_->FailAttempt(job.id, "w1", "transient: connection reset", 0ms).value(),
            std::optional<JobState>(JobState::Failed));
  job = MustClaim("r", "w2");
  ASSERT_TRUE(queue_->Release(job.id, "w2"));  // shutdown: not counted, but kept
  job = MustClaim("r", "w3");
  ASSERT_EQ(queue_->FailAttempt(job.id, "w3", "corrupt: line 3", std::nullopt).value(),
            std::optional<JobState>(JobState::Dead));

  auto attempts = queue_->Attempts(job.id);
  ASSERT_TRUE(attempts) << attempts.error().ToString();
  ASSERT_EQ(attempts->size(), 3u);
  const Attempt& first = (*attempts)[0];
  EXPECT_EQ(first.number, 1);
  EXPECT_EQ(first.owner, "w1");
  EXPECT_EQ(first.outcome, AttemptOutcome::Failed);
  EXPECT_EQ(first.error, "transient: connection reset");
  EXPECT_GE(first.Duration(), 15ms);
  EXPECT_EQ((*attempts)[1].owner, "w2");
  EXPECT_EQ((*attempts)[1].outcome, AttemptOutcome::Released);
  EXPECT_EQ((*attempts)[2].number, 2);
  EXPECT_EQ((*attempts)[2].owner, "w3");
  EXPECT_EQ((*attempts)[2].outcome, AttemptOutcome::Dead);
  EXPECT_EQ((*attempts)[2].error, "corrupt: line 3");
  EXPECT_GE((*attempts)[2].ended, (*attempts)[2].started);
}

TEST_F(SqliteQueueTest, AttemptHistorySurvivesARequeueAndRecordsSuccess) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 1)}), 1);
  Job job = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->FailAttempt(job.id, "w1", "first failure", std::nullopt));
  ASSERT_TRUE(queue_->Requeue(std::vector<std::int64_t>{job.id}));
  job = MustClaim("r", "w1");
  auto running = queue_->Attempts(job.id).value();
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[1].outcome, AttemptOutcome::Running);
  EXPECT_EQ(running[1].Duration(), 0ms);
  ASSERT_TRUE(queue_->Succeed(job.id, "w1").value());
  const auto attempts = queue_->Attempts(job.id).value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].outcome, AttemptOutcome::Dead);
  EXPECT_EQ(attempts[0].error, "first failure");
  EXPECT_EQ(attempts[1].number, 1);
  EXPECT_EQ(attempts[1].outcome, AttemptOutcome::Succeeded);
  EXPECT_EQ(attempts[1].error, "");
}

TEST_F(SqliteQueueTest, AnExpiredLeaseIsRecordedAsTheAttemptsOutcome) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 3)}), 1);
  const Job job = MustClaim("r", "w1", 10ms);
  std::this_thread::sleep_for(30ms);
  ASSERT_EQ(queue_->RecoverExpiredLeases().value(), 1);
  const auto attempts = queue_->Attempts(job.id).value();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].outcome, AttemptOutcome::LeaseExpired);
  EXPECT_NE(attempts[0].error.find("lease expired"), std::string::npos);
}

TEST_F(SqliteQueueTest, AttemptsOfAMissingJobIsNotFound) {
  auto attempts = queue_->Attempts(42);
  ASSERT_FALSE(attempts);
  EXPECT_EQ(attempts.error().code, ErrorCode::NotFound);
}

TEST_F(SqliteQueueTest, PurgeDeletesOnlyOldJobsOfTheStateWithTheirHistory) {
  ASSERT_EQ(Enqueue({JobFor("r", "old", 1), JobFor("r", "new", 1), JobFor("r", "ok", 1)}), 3);
  const Job old_job = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->FailAttempt(old_job.id, "w1", "bad", std::nullopt));
  std::this_thread::sleep_for(60ms);
  const Job new_job = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->FailAttempt(new_job.id, "w1", "bad", std::nullopt));
  const Job ok = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->Succeed(ok.id, "w1").value());

  auto purged = queue_->Purge(JobState::Dead, 40ms);
  ASSERT_TRUE(purged) << purged.error().ToString();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(queue_->Get(old_job.id).error().code, ErrorCode::NotFound);
  EXPECT_EQ(MustGet(new_job.id).state, JobState::Dead);
  EXPECT_EQ(MustGet(ok.id).state, JobState::Succeeded);
  // The purged event is a new job if it comes again.
  EXPECT_EQ(Enqueue({JobFor("r", "old", 1)}), 1);
  const Job again = MustClaim("r", "w1");
  EXPECT_EQ(queue_->Attempts(again.id).value().size(), 1u);
}

TEST_F(SqliteQueueTest, PurgeOfJobsStillOwedWorkIsInvalidArgument) {
  for (JobState state : {JobState::Pending, JobState::Running, JobState::Failed}) {
    auto purged = queue_->Purge(state, 0ms);
    ASSERT_FALSE(purged);
    EXPECT_EQ(purged.error().code, ErrorCode::InvalidArgument);
  }
}

TEST_F(SqliteQueueTest, OverviewGivesDepthByRouteRecentOutcomesAndTheLastErrorsNewestFirst) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 2), JobFor("t", "b", 1), JobFor("s", "c", 1), JobFor("s", "d", 1)}), 4);
  Job a = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->FailAttempt(a.id, "w1", "first error", 0ms));
  a = MustClaim("r", "w1");
  ASSERT_TRUE(queue_->Succeed(a.id, "w1").value());
  const Job b = MustClaim("t", "w1");
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(queue_->FailAttempt(b.id, "w1", "second error", std::nullopt));

  auto overview = queue_->Overview(10);
  ASSERT_TRUE(overview) << overview.error().ToString();
  EXPECT_EQ(overview->depth["r"][JobState::Succeeded], 1);
  EXPECT_EQ(overview->depth["r"].size(), 1u);
  EXPECT_EQ(overview->depth["t"][JobState::Dead], 1);
  EXPECT_EQ(overview->depth["s"][JobState::Pending], 2);
  EXPECT_EQ(overview->last_minute.succeeded, 1);
  EXPECT_EQ(overview->last_minute.dead, 1);
  EXPECT_EQ(overview->last_minute.failed, 1);
  EXPECT_EQ(overview->last_hour.succeeded, 1);
  ASSERT_EQ(overview->last_errors.size(), 2u);
  EXPECT_EQ(overview->last_errors[0].error, "second error");
  EXPECT_EQ(overview->last_errors[0].job_id, b.id);
  EXPECT_EQ(overview->last_errors[1].error, "first error");
  EXPECT_EQ(queue_->Overview(1).value().last_errors.size(), 1u);
}

TEST(CompareSequencers, RightPadsTheShorterWithZerosThenComparesLexicographically) {
  EXPECT_LT(CompareSequencers("0055AED6DCD90281E5", "0055AED6DCD90281E6"), 0);
  EXPECT_GT(CompareSequencers("0055AED6DCD90281E6", "0055AED6DCD90281E5"), 0);
  EXPECT_EQ(CompareSequencers("0055AED6DCD9028", "0055AED6DCD9028000"), 0);  // padding
  EXPECT_LT(CompareSequencers("0055AED6DCD9028", "0055AED6DCD90281"), 0);
  // Shorter but larger at a shared position is newer: no numeric comparison of lengths.
  EXPECT_GT(CompareSequencers("0056", "0055FFFFFFFFFFFF"), 0);
  EXPECT_EQ(CompareSequencers("00ab", "00AB"), 0);
}

NewJob SequencedJob(const std::string& route, const std::string& key, const std::string& etag,
                    const std::string& sequencer) {
  NewJob job = JobFor(route, key, 3, etag);
  job.event.sequencer = sequencer;
  job.dedupe_key = DedupeKey(route, job.event);
  return job;
}

TEST_F(SqliteQueueTest, ClaimedJobsCarryTheNewestSequencerEnqueuedForTheirKey) {
  ASSERT_EQ(Enqueue({SequencedJob("r", "a", "v2", "0055B2"), SequencedJob("r", "a", "v1", "0055A1"),
                     SequencedJob("r", "b", "v1", "0055A1"), SequencedJob("other", "a", "v0", "0055")}),
            4);
  auto claimed = queue_->ClaimBatch("r", "w1", 30s, 10);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  // The two jobs of "a" may share a batch (run one after the other by its worker) or not.
  for (const Job& job : *claimed) {
    if (job.event.key == "a") {
      EXPECT_EQ(job.newest_sequencer, "0055B2") << job.event.etag;
    } else {
      EXPECT_EQ(job.newest_sequencer, "0055A1");
    }
  }
  const Job other = MustClaim("other", "w1");
  EXPECT_EQ(other.newest_sequencer, "0055");  // per route
}

TEST_F(SqliteQueueTest, AJobIsNotClaimedWhileAnotherJobOfItsRouteAndKeyRuns) {
  ASSERT_EQ(Enqueue({JobFor("r", "a", 3, "v1")}), 1);
  const Job first = MustClaim("r", "w1");
  ASSERT_EQ(Enqueue({JobFor("r", "a", 3, "v2"), JobFor("r", "b", 3, "v1"), JobFor("s", "a", 3, "v1")}), 3);
  const Job b = MustClaim("r", "w2");
  EXPECT_EQ(b.event.key, "b");
  EXPECT_TRUE(NothingToClaim("r", "w2"));  // "a" v2 waits for "a" v1
  EXPECT_EQ(MustClaim("s", "w2").event.key, "a");  // another route's job of the key is independent
  ASSERT_TRUE(queue_->Succeed(first.id, "w1").value());
  const Job second = MustClaim("r", "w2");
  EXPECT_EQ(second.event.key, "a");
  EXPECT_EQ(second.event.etag, "v2");
}

TEST(SqliteQueueMigration, AQueueCreatedBeforeTheObjectColumnOpensAndKeepsItsJobs) {
  TempDir dir;
  {
    auto db = SqliteDb::Open(dir / "queue.db").value();
    ASSERT_TRUE(db->Exec(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, route TEXT NOT NULL, dedupe_key "
        "TEXT NOT NULL UNIQUE, event TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL "
        "DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 1, not_before_ms INTEGER NOT NULL, "
        "lease_owner TEXT, lease_expires_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL "
        "DEFAULT '', created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
        "INSERT INTO jobs (route, dedupe_key, event, state, not_before_ms, created_ms, updated_ms) "
        "VALUES ('r', 'k', '{\"kind\":\"ObjectCreated:Put\",\"store\":\"in\",\"key\":\"a\"}', "
        "'pending', 0, 0, 0);"
        "INSERT INTO jobs (route, dedupe_key, event, state, not_before_ms, created_ms, updated_ms) "
        "VALUES ('r', 'k2', '{\"kind\":\"ObjectCreated:Put\",\"store\":\"in\",\"key\":\"b\"}', "
        "'pending', 0, 0, 0);"));
  }
  auto queue = MakeQueue("sqlite://" + (dir / "queue.db").string());
  ASSERT_TRUE(queue) << queue.error().ToString();
  auto claimed = (*queue)->Claim("r", "w1", 30s);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->event.key, "a");
  // The old jobs got their object from the stored event: another key is not held back.
  auto second = (*queue)->Claim("r", "w2", 30s);
  ASSERT_TRUE(second) << second.error().ToString();
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->event.key, "b");
}

TEST(MakeQueue, RejectsOtherSchemesWithoutLeakingSecrets) {
  auto queue = MakeQueue("redis://user:s3cret@127.0.0.1:6379/0");
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(queue.error().ToString().find("s3cret"), std::string::npos) << queue.error().ToString();
}

TEST(JobState, NamesRoundTrip) {
  for (JobState state : {JobState::Pending, JobState::Running, JobState::Succeeded, JobState::Failed,
                         JobState::Dead}) {
    EXPECT_EQ(ParseJobState(ToString(state)).value(), state);
  }
  auto bad = ParseJobState("finished");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace sluice
