#pragma once
/// Queue: where jobs wait and are claimed (DESIGN.md, "Queue"). `sqlite://` is the embedded,
/// one-host backend; `amqp://` (amqp_queue.hpp) puts jobs on a RabbitMQ broker for many hosts.
/// A job leaves the queue only after its handler succeeded; a claim is a lease, and a job whose
/// lease expires (sqlite) or whose connection dies (amqp) runs again.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/engine/job.hpp"

namespace sluice {

/// Job counts by state, and when the next job becomes claimable.
struct QueueStats {
  std::map<JobState, std::int64_t> counts;
  /// Earliest not-before of a waiting job or lease expiry of a running one; nullopt when none.
  std::optional<std::chrono::system_clock::time_point> next_wakeup;
  /// Number of jobs in pending, running or failed state.
  [[nodiscard]] std::int64_t Open() const;
};

/// Jobs that ended, and attempts that failed, in a time window (from the attempt history).
struct OutcomeCounts {
  std::int64_t succeeded = 0;  ///< attempts that succeeded (one per succeeded job)
  std::int64_t dead = 0;       ///< jobs that went dead
  std::int64_t failed = 0;     ///< failed attempts with a retry scheduled
};

/// What `sluice status` prints.
struct QueueOverview {
  std::map<std::string, std::map<JobState, std::int64_t>> depth;  ///< route → state → jobs
  OutcomeCounts last_minute;
  OutcomeCounts last_hour;
  std::vector<Attempt> last_errors;  ///< the newest attempts that ended with an error, newest first
};

/// Durable job queue. All methods are thread-safe and safe across processes sharing the queue.
/// `owner` identifies the claiming worker; completions from a worker that lost its lease are
/// ignored (the job already belongs to someone else).
///
/// Every backend implements the job life cycle (Enqueue, ClaimBatch, ExtendLeases, SucceedBatch,
/// FailAttempt, Release, RecoverExpiredLeases). A broker backend (`amqp://`), whose jobs live in
/// messages rather than rows, may answer Unsupported from the inspection and dead-letter methods
/// (List, Get, Attempts, Requeue, Purge, Overview, Stats) where the broker cannot do them; `sqlite://`
/// implements them all. The attempt history, which `sqlite://` keeps in a table, may live in
/// message headers instead.
class Queue {
 public:
  virtual ~Queue() = default;

  /// Adds jobs; one whose dedupe key is already present (in any state) is skipped. Remembers, per
  /// route + store + key, the newest event sequencer enqueued (CompareSequencers), for
  /// Job::newest_sequencer. Returns how many were new. Errors: Transient (busy), Internal.
  virtual Result<int> Enqueue(std::span<const NewJob> jobs) = 0;

  /// Announces that this process will claim jobs of `route` with at most `prefetch` of them
  /// claimed and unfinished at once (the route's concurrency). The amqp:// queue starts consuming
  /// the route's queue with basic.qos(prefetch); sqlite:// needs nothing. Errors: Transient.
  virtual Status Subscribe(std::string_view route, int prefetch) {
    (void)route;
    (void)prefetch;
    return Ok();
  }

  /// Claims up to `max_jobs` ready jobs of `route` (pending, or failed with their backoff elapsed),
  /// oldest first, for `lease`; each one's attempts count goes up by one. Empty when none is ready.
  /// A job is not claimed while another job of the same route + store + key is running, so the
  /// results for one key are written one after the other; each claimed job carries the newest
  /// sequencer of its key (Job::newest_sequencer). A backend that cannot keep that order across
  /// workers documents it and leaves newest_sequencer empty.
  virtual Result<std::vector<Job>> ClaimBatch(std::string_view route, std::string_view owner,
                                              std::chrono::milliseconds lease, int max_jobs) = 0;

  /// Claims the next ready job of `route`, or nullopt (ClaimBatch of one).
  Result<std::optional<Job>> Claim(std::string_view route, std::string_view owner,
                                   std::chrono::milliseconds lease);

  /// Extends the leases of `ids` held by `owner` to now + `lease`.
  virtual Status ExtendLeases(std::span<const std::int64_t> ids, std::string_view owner,
                              std::chrono::milliseconds lease) = 0;

  /// Marks running jobs succeeded in one transaction. Returns how many `owner` still held (the
  /// others were reclaimed after their lease expired, and will run again).
  virtual Result<int> SucceedBatch(std::span<const std::int64_t> ids, std::string_view owner) = 0;

  /// Marks one running job succeeded. False if `owner` no longer held it.
  Result<bool> Succeed(std::int64_t id, std::string_view owner);

  /// Records a failed attempt: the job becomes `dead` when `retry_after` is nullopt or its attempts
  /// reached max_attempts, else `failed` until now + *retry_after. Returns the new state, or
  /// nullopt if `owner` no longer held it.
  virtual Result<std::optional<JobState>> FailAttempt(
      std::int64_t id, std::string_view owner, std::string_view error,
      std::optional<std::chrono::milliseconds> retry_after) = 0;

  /// Puts a running job back to pending without counting the attempt (shutdown, cancellation).
  virtual Status Release(std::int64_t id, std::string_view owner) = 0;

  /// Returns running jobs whose lease has expired to pending (their worker died); the interrupted
  /// attempt still counts, and a job out of attempts goes dead. Returns how many were recovered.
  virtual Result<int> RecoverExpiredLeases() = 0;

  /// Jobs ordered by id, optionally only those in `state`, at most `limit` (0 = no limit).
  virtual Result<std::vector<Job>> List(std::optional<JobState> state, int limit) = 0;

  /// One job; NotFound when absent.
  virtual Result<Job> Get(std::int64_t id) = 0;

  /// Makes dead or failed jobs pending again with attempts reset: the given ids (NotFound if one
  /// does not exist; a running or succeeded job is InvalidArgument), or all dead jobs when `ids`
  /// is empty. Returns the ids requeued.
  virtual Result<std::vector<std::int64_t>> Requeue(std::span<const std::int64_t> ids) = 0;

  /// Every attempt of job `id`, oldest first (including those before a Requeue). Empty for a job
  /// never claimed; NotFound when the job does not exist. Unsupported on backends without history.
  virtual Result<std::vector<Attempt>> Attempts(std::int64_t id) = 0;

  /// Deletes the jobs in `state` (Dead or Succeeded; others are InvalidArgument, since they are
  /// still owed work) last updated more than `older_than` ago, with their attempt history.
  /// Returns how many were deleted. An event whose job was purged is a new job if it comes again.
  virtual Result<int> Purge(JobState state, std::chrono::milliseconds older_than) = 0;

  /// Depth by route and state, outcomes of the last minute and hour, and the `max_errors` newest
  /// failed attempts. Unsupported on backends without history.
  virtual Result<QueueOverview> Overview(int max_errors) = 0;

  /// Counts by state and the next wake-up time, over the jobs of `routes` (all when empty).
  virtual Result<QueueStats> Stats(std::span<const std::string> routes = {}) = 0;
};

/// Opens a queue from its URL: "sqlite:///abs/queue.db" or
/// "amqp://user:pass@host:port/vhost?queue=NAME" (amqp_queue.hpp). InvalidArgument for other
/// schemes; Transient when the broker cannot be reached.
Result<std::unique_ptr<Queue>> MakeQueue(std::string_view url);

}  // namespace sluice
