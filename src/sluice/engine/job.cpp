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

std::string DedupeKey(std::string_view route, const Event& event) {
  const std::string& version = event.version.empty() ? event.etag : event.version;
  return fmt::format("{}\x1f{}\x1f{}\x1f{}", route, event.store, event.key, version);
}

}  // namespace sluice
