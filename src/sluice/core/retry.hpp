#pragma once
/// Retry policy and backoff: exponential growth from an initial delay, capped, with jitter so that
/// many failing jobs do not retry in lock-step ("Exponential Backoff And Jitter", AWS Architecture
/// Blog, 2015: the "equal jitter" variant, which never waits less than half the step).

#include <chrono>
#include <cstdint>

namespace sluice {

/// Retry policy of a route: attempts and exponential backoff with jitter between them.
struct RetryPolicy {
  int max_attempts = 5;  ///< attempts before a job is `dead`, >= 1
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(2)};  ///< step after attempt 1
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};      ///< cap on any step
};

/// Delay before attempt `attempt + 1`, after `attempt` (>= 1) attempts failed:
/// step = min(max_backoff, initial_backoff * 2^(attempt-1)); result uniform in [step/2, step].
/// `random_unit` is a uniform number in [0, 1) supplied by the caller. Thread-safe.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt, double random_unit);

/// A uniform number in [0, 1) from a thread-local generator. Thread-safe.
double RandomUnit();

}  // namespace sluice
