#include "sluice/engine/job.hpp"

#include <fmt/format.h>

namespace sluice {

std::string_view ToString(JobState state) {
  switch (state) {
    case JobState::Pending: return "pending";
    case JobState::Running: return "running";
    case JobState::Succeeded: return "succeeded";
    case JobState::Failed: return "failed";
    case JobState::Dead: return "dead";
  }
  return "pending";
}

Result<JobState> ParseJobState(std::string_view text) {
  for (JobState state : {JobState::Pending, JobState::Running, JobState::Succeeded,
                         JobState::Failed, JobState::Dead}) {
    if (ToString(state) == text) return state;
  }
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("unknown job state '{}': expected pending, running, succeeded, failed or dead", text));
}

std::string_view ToString(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::Running: return "running";
    case AttemptOutcome::Succeeded: return "succeeded";
    case AttemptOutcome::Failed: return "failed";
    case AttemptOutcome::Dead: return "dead";
    case AttemptOutcome::Released: return "released";
    case AttemptOutcome::LeaseExpired: return "lease expired";
  }
  return "running";
}

Result<AttemptOutcome> ParseAttemptOutcome(std::string_view text) {
  for (AttemptOutcome outcome :
       {AttemptOutcome::Running, AttemptOutcome::Succeeded, AttemptOutcome::Failed,
        AttemptOutcome::Dead, AttemptOutcome::Released, AttemptOutcome::LeaseExpired}) {
    if (ToString(outcome) == text) return outcome;
  }
  return Fail(ErrorCode::InvalidArgument, fmt::format("unknown attempt outcome '{}'", text));
}

std::chrono::milliseconds Attempt::Duration() const {
  if (ended.time_since_epoch().count() == 0) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(ended - started);
}

std::string DedupeKey(std::string_view route, const Event& event) {
  const std::string& version = event.version.empty() ? event.etag : event.version;
  return fmt::format("{}\x1f{}\x1f{}\x1f{}", route, event.store, event.key, version);
}

}  // namespace sluice
