#pragma once
/// Job: the durable unit of work (DESIGN.md, "Job"): one event for one route, with its state,
/// attempts, lease and last error.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"

namespace sluice {

/// Life cycle: pending → running → succeeded; running → failed (waiting for a retry, then running
/// again) or dead (attempts used up, or a non-retryable error). A running job whose lease expires
/// (its process died) becomes pending again.
enum class JobState { Pending, Running, Succeeded, Failed, Dead };

/// "pending", "running", "succeeded", "failed", "dead".
std::string_view ToString(JobState state);
/// Parses the names above; InvalidArgument otherwise.
Result<JobState> ParseJobState(std::string_view text);

/// A job as stored.
struct Job {
  std::int64_t id = 0;
  std::string route;
  Event event;
  std::string dedupe_key;
  JobState state = JobState::Pending;
  int attempts = 0;      ///< attempts started so far
  int max_attempts = 1;  ///< from the route's retry policy at enqueue time
  std::chrono::system_clock::time_point not_before;     ///< earliest next attempt
  std::chrono::system_clock::time_point lease_expires;  ///< running jobs only
  std::string last_error;
  /// Filled by ClaimBatch for events with a sequencer: the newest sequencer enqueued so far for
  /// this route + store + key. When it is newer than the event's own, a later event of the key is
  /// (or was) processed and this one must not overwrite its result. Empty when unknown.
  std::string newest_sequencer;
  std::chrono::system_clock::time_point created;
  std::chrono::system_clock::time_point updated;
};

/// A job to enqueue.
struct NewJob {
  std::string route;
  Event event;
  std::string dedupe_key;  ///< see DedupeKey
  int max_attempts = 1;
};

/// How one attempt of a job ended. "running" while it runs.
enum class AttemptOutcome {
  Running,       ///< still running (or its worker died and the lease has not been recovered yet)
  Succeeded,     ///< the handler succeeded
  Failed,        ///< the handler failed and a retry was scheduled
  Dead,          ///< the handler failed and the job went dead
  Released,      ///< given back unfinished at shutdown; does not count as an attempt
  LeaseExpired,  ///< the worker stopped (crash, kill -9) and its lease expired
};

/// "running", "succeeded", "failed", "dead", "released", "lease expired".
std::string_view ToString(AttemptOutcome outcome);
/// Parses the names above; InvalidArgument otherwise.
Result<AttemptOutcome> ParseAttemptOutcome(std::string_view text);

/// One attempt of a job, as kept by the queue's attempt history (`sluice dlq show`).
struct Attempt {
  std::int64_t job_id = 0;
  int number = 0;      ///< the job's attempt counter when it started: 1, 2, …; restarts at 1 after a retry from the dead-letter queue
  std::string owner;   ///< the worker that ran it ("host:pid:nonce:route#index")
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point ended;  ///< the epoch while still running
  AttemptOutcome outcome = AttemptOutcome::Running;
  std::string error;   ///< the failure as Error::ToString(), empty on success

  /// ended - started, or zero while running.
  [[nodiscard]] std::chrono::milliseconds Duration() const;
};

/// route + store + key + (version or ETag): the same object version reaching the same route twice
/// is one job (DESIGN.md, "Job"). Events without ETag or version dedupe on route + store + key.
std::string DedupeKey(std::string_view route, const Event& event);

}  // namespace sluice
