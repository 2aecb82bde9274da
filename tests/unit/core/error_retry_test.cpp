#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sluice/core/error.hpp"
#include "sluice/core/retry.hpp"

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(Error, ToStringPrefixesTheContext) {
  const Error error{ErrorCode::NotFound, "no such key", "get summary2/ERR1.summary"};
  EXPECT_EQ(error.ToString(), "get summary2/ERR1.summary: no such key");
}

TEST(Error, ToStringWithoutContextIsTheMessage) {
  const Error error{ErrorCode::Internal, "boom", ""};
  EXPECT_EQ(error.ToString(), "boom");
}

TEST(Error, WithContextPrependsTheOuterContext) {
  Error inner{ErrorCode::Corrupt, "line 3: missing key 'score'", "get a.summary"};
  Error outer = std::move(inner).WithContext("job 7");
  EXPECT_EQ(outer.code, ErrorCode::Corrupt);
  EXPECT_EQ(outer.context, "job 7: get a.summary");
  EXPECT_EQ(outer.ToString(), "job 7: get a.summary: line 3: missing key 'score'");
}

TEST(Error, WithContextOnAnEmptyContextSetsIt) {
  Error error = Error{ErrorCode::Timeout, "slow", ""}.WithContext("route 'r'");
  EXPECT_EQ(error.context, "route 'r'");
  EXPECT_EQ(error.ToString(), "route 'r': slow");
}

TEST(Error, FailBuildsTheUnexpectedSideOfAResult) {
  const Result<int> result = Fail(ErrorCode::PermissionDenied, "denied", "put k");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(result.error().message, "denied");
  EXPECT_EQ(result.error().context, "put k");
}

Status FailsWhenAskedTo(bool fail) {
  if (fail) return Fail(ErrorCode::InvalidArgument, "asked to fail");
  return Ok();
}

Result<int> AddOneAfter(bool fail) {
  SLUICE_RETURN_IF_ERROR(FailsWhenAskedTo(fail));
  SLUICE_ASSIGN_OR_RETURN(int value, Result<int>(41));
  return value + 1;
}

TEST(Error, MacrosPropagateErrorsAndValues) {
  EXPECT_EQ(AddOneAfter(false).value(), 42);
  auto failed = AddOneAfter(true);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "asked to fail");
}

TEST(ErrorCode, NamesAreStableLowerCase) {
  EXPECT_EQ(ToString(ErrorCode::InvalidArgument), "invalid_argument");
  EXPECT_EQ(ToString(ErrorCode::NotFound), "not_found");
  EXPECT_EQ(ToString(ErrorCode::AlreadyExists), "already_exists");
  EXPECT_EQ(ToString(ErrorCode::PermissionDenied), "permission_denied");
  EXPECT_EQ(ToString(ErrorCode::Transient), "transient");
  EXPECT_EQ(ToString(ErrorCode::Throttled), "throttled");
  EXPECT_EQ(ToString(ErrorCode::Timeout), "timeout");
  EXPECT_EQ(ToString(ErrorCode::Corrupt), "corrupt");
  EXPECT_EQ(ToString(ErrorCode::Unsupported), "unsupported");
  EXPECT_EQ(ToString(ErrorCode::Cancelled), "cancelled");
  EXPECT_EQ(ToString(ErrorCode::Internal), "internal");
}

TEST(IsRetryable, OnlyTransientThrottledAndTimeoutAreRetried) {
  EXPECT_TRUE(IsRetryable(ErrorCode::Transient));
  EXPECT_TRUE(IsRetryable(ErrorCode::Throttled));
  EXPECT_TRUE(IsRetryable(ErrorCode::Timeout));
  for (ErrorCode code : {ErrorCode::InvalidArgument, ErrorCode::NotFound, ErrorCode::AlreadyExists,
                         ErrorCode::PermissionDenied, ErrorCode::Corrupt, ErrorCode::Unsupported,
                         ErrorCode::Cancelled, ErrorCode::Internal}) {
    EXPECT_FALSE(IsRetryable(code)) << ToString(code);
  }
}

RetryPolicy Policy(milliseconds initial, milliseconds max) {
  RetryPolicy policy;
  policy.max_attempts = 10;
  policy.initial_backoff = initial;
  policy.max_backoff = max;
  return policy;
}

TEST(BackoffDelay, FirstAttemptWaitsBetweenHalfAndAllOfTheInitialBackoff) {
  const auto policy = Policy(milliseconds(100), milliseconds(10'000));
  EXPECT_EQ(BackoffDelay(policy, 1, 0.0), milliseconds(50));
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5), milliseconds(75));
  EXPECT_GE(BackoffDelay(policy, 1, 0.999999), milliseconds(99));
  EXPECT_LE(BackoffDelay(policy, 1, 0.999999), milliseconds(100));
  for (int i = 0; i < 1000; ++i) {
    const auto delay = BackoffDelay(policy, 1, RandomUnit());
    ASSERT_GE(delay, milliseconds(50));
    ASSERT_LE(delay, milliseconds(100));
  }
}

TEST(BackoffDelay, StepDoublesWithEachAttempt) {
  const auto policy = Policy(milliseconds(100), milliseconds(10'000));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.0), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.0), milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 4, 0.0), milliseconds(400));
  for (int attempt = 1; attempt < 7; ++attempt) {
    EXPECT_LT(BackoffDelay(policy, attempt, 0.5), BackoffDelay(policy, attempt + 1, 0.5)) << attempt;
  }
}

TEST(BackoffDelay, IsCappedAtMaxBackoff) {
  const auto policy = Policy(milliseconds(100), milliseconds(1'000));
  for (int attempt : {5, 6, 20, 64, 1000}) {
    for (double unit : {0.0, 0.5, 0.999999}) {
      const auto delay = BackoffDelay(policy, attempt, unit);
      EXPECT_GE(delay, milliseconds(500)) << attempt;
      EXPECT_LE(delay, milliseconds(1'000)) << attempt;
    }
  }
}

TEST(RandomUnit, StaysInTheHalfOpenUnitInterval) {
  double low = 1.0;
  double high = 0.0;
  for (int i = 0; i < 10'000; ++i) {
    const double unit = RandomUnit();
    ASSERT_GE(unit, 0.0);
    ASSERT_LT(unit, 1.0);
    low = std::min(low, unit);
    high = std::max(high, unit);
  }
  EXPECT_LT(low, 0.1);
  EXPECT_GT(high, 0.9);
}

}  // namespace
}  // namespace sluice
