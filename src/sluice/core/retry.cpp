#include "sluice/core/retry.hpp"

#include <algorithm>
#include <random>

namespace sluice {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt, double random_unit) {
  const int exponent = std::clamp(attempt - 1, 0, 40);
  const double step = std::min(static_cast<double>(policy.max_backoff.count()),
                               static_cast<double>(policy.initial_backoff.count()) *
                                   static_cast<double>(1ULL << exponent));
  const double jittered = step / 2 + (step / 2) * std::clamp(random_unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
}

double RandomUnit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace sluice
