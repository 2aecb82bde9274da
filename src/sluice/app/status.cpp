// `sluice status`: queue depth by route and state, recent rates and the last errors, from the
// queue and its attempt history; then the remembered state of poll and listing sources.

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "sluice/app/commands.hpp"
#include "sluice/engine/sources/source_state.hpp"

namespace sluice::app {
namespace {

std::string Timestamp(std::chrono::system_clock::time_point time) {
  return fmt::format("{:%FT%TZ}", std::chrono::time_point_cast<std::chrono::seconds>(time));
}

std::int64_t Count(const std::map<JobState, std::int64_t>& counts, JobState state) {
  const auto it = counts.find(state);
  return it == counts.end() ? 0 : it->second;
}

void PrintOverview(Engine& engine, const QueueOverview& overview) {
  fmt::print("{:<24} {:>9} {:>9} {:>9} {:>9} {:>11}\n", "ROUTE", "PENDING", "RUNNING", "RETRYING",
             "DEAD", "SUCCEEDED");
  // Every configured route, also those with no jobs yet; then any other route the queue knows.
  std::vector<std::string> routes;
  for (const auto& route : engine.Config().routes) routes.push_back(route.name);
  for (const auto& [route, counts] : overview.depth) {
    if (engine.Config().FindRoute(route) == nullptr) routes.push_back(route);
  }
  for (const auto& route : routes) {
    const auto it = overview.depth.find(route);
    const std::map<JobState, std::int64_t> none;
    const auto& counts = it == overview.depth.end() ? none : it->second;
    fmt::print("{:<24} {:>9} {:>9} {:>9} {:>9} {:>11}\n", route, Count(counts, JobState::Pending),
               Count(counts, JobState::Running), Count(counts, JobState::Failed),
               Count(counts, JobState::Dead), Count(counts, JobState::Succeeded));
  }
  fmt::print("\nlast minute: {} succeeded, {} dead, {} failed attempt(s)\n",
             overview.last_minute.succeeded, overview.last_minute.dead, overview.last_minute.failed);
  fmt::print("last hour:   {} succeeded, {} dead, {} failed attempt(s)\n",
             overview.last_hour.succeeded, overview.last_hour.dead, overview.last_hour.failed);
  if (overview.last_errors.empty()) return;
  fmt::print("\nlast errors (newest first; `sluice dlq show ID` has a job's whole history):\n");
  for (const Attempt& attempt : overview.last_errors) {
    auto job = engine.GetQueue().Get(attempt.job_id);
    fmt::print("  {} job {} [{}] {} attempt {} {}: {}\n", Timestamp(attempt.ended), attempt.job_id,
               job ? job->route : "?", job ? job->event.key : "?", attempt.number,
               ToString(attempt.outcome), attempt.error);
  }
}

}  // namespace

void AddStatusCommand(CLI::App& app, int& exit_code) {
  auto* status = app.add_subcommand(
      "status", "Print the queue's depth by route and state (pending, running, waiting to retry,\n"
                "dead, succeeded), the jobs that succeeded or died and the failed attempts in the\n"
                "last minute and hour, the last errors, and what each poll and listing source\n"
                "remembers (objects, mark, last pass; a listing's progress). Exit codes: 0 ok,\n"
                "1 queue or source state unavailable, 2 usage or config error.");
  auto config = std::make_shared<std::string>();
  auto errors = std::make_shared<int>(10);
  status->add_option("-c,--config", *config, "pipeline config (TOML)")->required();
  status->add_option("-e,--errors", *errors, "how many of the last errors to show")
      ->capture_default_str();
  status->callback([config, errors, &exit_code] {
    auto engine = OpenEngine(*config);
    if (!engine) {
      exit_code = ReportError(engine.error());
      return;
    }
    auto overview = (*engine)->GetQueue().Overview(*errors);
    if (!overview) {
      exit_code = ReportError(overview.error());
      return;
    }
    PrintOverview(**engine, *overview);
    if (SourceStateUrl((*engine)->Config()).empty()) {  // amqp:// and no [engine] state
      exit_code = kExitOk;
      return;
    }
    auto sources = ReadSourceStatuses((*engine)->Config(), (*engine)->GetResources());
    if (!sources) {
      exit_code = ReportError(sources.error());
      return;
    }
    if (!sources->empty()) {
      fmt::print("\n{:<24} {:<8} {}\n", "SOURCE", "TYPE", "STATE");
      for (const auto& source : *sources) {
        fmt::print("{:<24} {:<8} {}\n", source.name, source.type, source.text);
      }
    }
    exit_code = kExitOk;
  });
}

}  // namespace sluice::app
