// `sluice jobs list`: the jobs of a pipeline's queue in any state. Dead jobs are worked with
// through `sluice dlq` (dlq.cpp).

#include <charconv>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sluice/app/commands.hpp"

namespace sluice::app {
namespace {

std::string Ellipsize(std::string_view text, std::size_t width) {
  if (text.size() <= width) return std::string(text);
  return std::string(text.substr(0, width - 1)) + "…";
}

void PrintJobs(const std::vector<Job>& jobs, bool json) {
  if (json) {
    for (const auto& job : jobs) {
      nlohmann::json line = {{"id", job.id},
                             {"route", job.route},
                             {"state", ToString(job.state)},
                             {"attempts", job.attempts},
                             {"max_attempts", job.max_attempts},
                             {"event", job.event.ToJson()},
                             {"last_error", job.last_error},
                             {"updated", fmt::format("{:%FT%TZ}", std::chrono::time_point_cast<std::chrono::seconds>(job.updated))}};
      fmt::print("{}\n", line.dump());
    }
    return;
  }
  fmt::print("{:>8}  {:<9}  {:>8}  {:<16}  {:<40}  {}\n", "ID", "STATE", "ATTEMPTS", "ROUTE", "KEY", "LAST ERROR");
  for (const auto& job : jobs) {
    fmt::print("{:>8}  {:<9}  {:>8}  {:<16}  {:<40}  {}\n", job.id, ToString(job.state),
               fmt::format("{}/{}", job.attempts, job.max_attempts), Ellipsize(job.route, 16),
               Ellipsize(job.event.key, 40), job.last_error);
  }
}

}  // namespace

void AddJobsCommand(CLI::App& app, int& exit_code) {
  auto* jobs = app.add_subcommand("jobs", "List the jobs of a pipeline's queue in any state (dead jobs: `sluice dlq`).");
  jobs->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  jobs->add_option("-c,--config", *config, "pipeline config (TOML)")->required();

  auto* list = jobs->add_subcommand("list", "List jobs, oldest first.");
  auto state = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(100);
  auto json = std::make_shared<bool>(false);
  list->add_option("-s,--state", *state, "only jobs in this state: pending, running, succeeded, failed, dead");
  list->add_option("-n,--limit", *limit, "at most this many (0 = all)")->capture_default_str();
  list->add_flag("--json", *json, "JSON lines instead of a table");
  list->callback([config, state, limit, json, &exit_code] {
    std::optional<JobState> wanted;
    if (!state->empty()) {
      auto parsed = ParseJobState(*state);
      if (!parsed) {
        exit_code = ReportError(parsed.error());
        return;
      }
      wanted = *parsed;
    }
    auto engine = OpenEngine(*config);
    if (!engine) {
      exit_code = ReportError(engine.error());
      return;
    }
    auto listed = (*engine)->GetQueue().List(wanted, *limit);
    if (!listed) {
      exit_code = ReportError(listed.error());
      return;
    }
    PrintJobs(*listed, *json);
    exit_code = kExitOk;
  });
}

}  // namespace sluice::app
