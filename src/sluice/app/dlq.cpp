// `sluice dlq list|show|retry|purge`: the dead-letter queue, i.e. the jobs whose attempts ran out
// or whose error was not retryable, with every attempt's error and timing.

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sluice/app/commands.hpp"
#include "sluice/core/units.hpp"

namespace sluice::app {
namespace {

constexpr const char* kDlqHelp =
    "The dead-letter queue: jobs that ended dead (attempts used up, a non-retryable error, or an\n"
    "event older than the route's max_event_age). Each keeps its event and every attempt's error\n"
    "and timing. Exit codes: 0 ok, 1 failure (no such job, queue unavailable), 2 usage or config\n"
    "error, 3 (retry) a retried job ended dead again.";

std::string Timestamp(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const auto seconds = std::chrono::sys_seconds(std::chrono::seconds(ms / 1000));
  return fmt::format("{:%FT%T}.{:03}Z", seconds, ms % 1000);
}

nlohmann::json AttemptJson(const Attempt& attempt) {
  return {{"number", attempt.number},
          {"owner", attempt.owner},
          {"started", Timestamp(attempt.started)},
          {"ended", attempt.ended.time_since_epoch().count() == 0 ? "" : Timestamp(attempt.ended)},
          {"duration_ms", attempt.Duration().count()},
          {"outcome", ToString(attempt.outcome)},
          {"error", attempt.error}};
}

nlohmann::json JobJson(const Job& job) {
  return {{"id", job.id},
          {"route", job.route},
          {"state", ToString(job.state)},
          {"attempts", job.attempts},
          {"max_attempts", job.max_attempts},
          {"created", Timestamp(job.created)},
          {"updated", Timestamp(job.updated)},
          {"last_error", job.last_error},
          {"event", job.event.ToJson()}};
}

// Runs `body` with the opened engine, turning errors into exit codes.
template <class Body>
void WithEngine(const std::string& config, int& exit_code, Body&& body) {
  auto engine = OpenEngine(config);
  if (!engine) {
    exit_code = ReportError(engine.error());
    return;
  }
  Status status = body(**engine);
  if (!status) exit_code = ReportError(status.error());
}

void PrintDead(const std::vector<Job>& jobs) {
  fmt::print("{:>8}  {:<16}  {:>8}  {:<24}  {:<40}  {}\n", "ID", "ROUTE", "ATTEMPTS", "DEAD SINCE",
             "KEY", "LAST ERROR");
  for (const auto& job : jobs) {
    fmt::print("{:>8}  {:<16}  {:>8}  {:<24}  {:<40}  {}\n", job.id, job.route,
               fmt::format("{}/{}", job.attempts, job.max_attempts), Timestamp(job.updated),
               job.event.key, job.last_error);
  }
}

void PrintShow(const Job& job, const std::vector<Attempt>& attempts) {
  fmt::print("job {} ({}) on route '{}': {}/{} attempt(s), enqueued {}, last change {}\n", job.id,
             ToString(job.state), job.route, job.attempts, job.max_attempts, Timestamp(job.created),
             Timestamp(job.updated));
  if (!job.last_error.empty()) fmt::print("last error: {}\n", job.last_error);
  fmt::print("event:\n{}\n", job.event.ToJson().dump(2));
  fmt::print("attempts ({}):\n", attempts.size());
  for (const Attempt& a : attempts) {
    fmt::print("  #{} {} {:>8} {:<13} {}\n", a.number, Timestamp(a.started),
               a.outcome == AttemptOutcome::Running ? std::string("-") : FormatDuration(a.Duration()),
               ToString(a.outcome), a.owner);
    if (!a.error.empty()) fmt::print("     error: {}\n", a.error);
  }
}

}  // namespace

void AddDlqCommand(CLI::App& app, int& exit_code) {
  auto* dlq = app.add_subcommand("dlq", kDlqHelp);
  dlq->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  dlq->add_option("-c,--config", *config, "pipeline config (TOML)")->required();

  auto* list = dlq->add_subcommand("list", "List dead jobs, oldest first: id, route, attempts, when it\n"
                                           "died, object key and last error.");
  list->fallthrough();
  auto limit = std::make_shared<int>(100);
  auto json = std::make_shared<bool>(false);
  list->add_option("-n,--limit", *limit, "at most this many (0 = all)")->capture_default_str();
  list->add_flag("--json", *json, "JSON lines (each with the event) instead of a table");
  list->callback([config, limit, json, &exit_code] {
    WithEngine(*config, exit_code, [&](Engine& engine) -> Status {
      SLUICE_ASSIGN_OR_RETURN(auto dead, engine.GetQueue().List(JobState::Dead, *limit));
      if (*json) {
        for (const Job& job : dead) fmt::print("{}\n", JobJson(job).dump());
      } else {
        PrintDead(dead);
      }
      exit_code = kExitOk;
      return Ok();
    });
  });

  auto* show = dlq->add_subcommand(
      "show", "Show one job (in any state): its event as JSON, and every attempt with its start\n"
              "time, duration, outcome, worker and error.");
  show->fallthrough();
  auto show_id = std::make_shared<std::int64_t>(0);
  auto show_json = std::make_shared<bool>(false);
  show->add_option("ID", *show_id, "job id (from `sluice dlq list`)")->required();
  show->add_flag("--json", *show_json, "one JSON document: the job, its event and its attempts");
  show->callback([config, show_id, show_json, &exit_code] {
    WithEngine(*config, exit_code, [&](Engine& engine) -> Status {
      SLUICE_ASSIGN_OR_RETURN(Job job, engine.GetQueue().Get(*show_id));
      SLUICE_ASSIGN_OR_RETURN(auto attempts, engine.GetQueue().Attempts(*show_id));
      if (*show_json) {
        nlohmann::json doc = JobJson(job);
        doc["attempt_history"] = nlohmann::json::array();
        for (const Attempt& a : attempts) doc["attempt_history"].push_back(AttemptJson(a));
        fmt::print("{}\n", doc.dump(2));
      } else {
        PrintShow(job, attempts);
      }
      exit_code = kExitOk;
      return Ok();
    });
  });

  auto* retry = dlq->add_subcommand(
      "retry", "Make dead jobs pending again with fresh attempts (their history is kept), then\n"
               "process until the queue is idle, like `sluice run`. Exit code 3 when one ends dead\n"
               "again.");
  retry->fallthrough();
  auto ids = std::make_shared<std::vector<std::int64_t>>();
  auto all = std::make_shared<bool>(false);
  auto* ids_option = retry->add_option("ID", *ids, "job ids to retry (dead, or failed and waiting)");
  auto* all_flag = retry->add_flag("--all", *all, "retry every dead job");
  ids_option->excludes(all_flag);
  retry->callback([config, ids, all, &exit_code] {
    if (ids->empty() && !*all) {
      exit_code = ReportError(Error{ErrorCode::InvalidArgument, "give job ids or --all", "dlq retry"});
      return;
    }
    WithEngine(*config, exit_code, [&](Engine& engine) -> Status {
      SLUICE_ASSIGN_OR_RETURN(auto requeued, engine.GetQueue().Requeue(*ids));
      fmt::print("requeued {} job(s)\n", requeued.size());
      if (requeued.empty()) {
        exit_code = kExitOk;
        return Ok();
      }
      SLUICE_ASSIGN_OR_RETURN(RunReport report, engine.Drain());
      exit_code = FinishRun("dlq retry", report, engine);
      return Ok();
    });
  });

  auto* purge = dlq->add_subcommand(
      "purge", "Delete dead jobs (and their attempt history) that died more than DUR ago. The\n"
               "same event arriving again afterwards becomes a new job.");
  purge->fallthrough();
  auto older_than = std::make_shared<std::string>();
  purge->add_option("--older-than", *older_than, "a duration: 30m, 12h, 7d")->required();
  purge->callback([config, older_than, &exit_code] {
    auto age = ParseDuration(*older_than);
    if (!age) {
      exit_code = ReportError(Error(age.error()).WithContext("dlq purge --older-than"));
      return;
    }
    WithEngine(*config, exit_code, [&](Engine& engine) -> Status {
      SLUICE_ASSIGN_OR_RETURN(int purged, engine.GetQueue().Purge(JobState::Dead, *age));
      fmt::print("purged {} dead job(s) older than {}\n", purged, FormatDuration(*age));
      exit_code = kExitOk;
      return Ok();
    });
  });
}

}  // namespace sluice::app
