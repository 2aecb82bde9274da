#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/app/commands.hpp"
#include "sluice/core/units.hpp"
#include "sluice/handlers/handlers.hpp"

namespace sluice::app {

int ReportError(const Error& error) {
  spdlog::error("{}", error.ToString());
  return error.code == ErrorCode::InvalidArgument ? kExitUsage : kExitFailure;
}

Result<std::unique_ptr<Engine>> OpenEngine(const std::string& config_path) {
  auto config = LoadConfig(config_path);
  if (!config) {
    Error error = std::move(config).error();
    if (error.code == ErrorCode::NotFound) error.code = ErrorCode::InvalidArgument;
    return Fail(std::move(error));
  }
  HandlerRegistry registry;
  RegisterBuiltinHandlers(registry);
  return Engine::Open(std::move(*config), registry);
}

int FinishRun(std::string_view command, const RunReport& report, Engine& engine) {
  const double seconds = static_cast<double>(report.elapsed.count()) / 1000.0;
  const double rate = seconds > 0 ? static_cast<double>(report.succeeded + report.dead) / seconds : 0;
  fmt::print("sluice {}: {} job(s) succeeded, {} dead, {} retried, {} released in {:.1f} s "
             "({:.0f} jobs/s); wrote {} row(s) and {} object(s)\n",
             command, report.succeeded, report.dead, report.retried, report.released, seconds, rate,
             report.rows_written, report.objects_written);
  if (report.dead == 0) return kExitOk;
  if (auto dead = engine.GetQueue().List(JobState::Dead, 0); dead) {
    constexpr std::size_t kShown = 10;
    fmt::print("dead jobs ({} in the queue; `sluice dlq --config {} list` lists them, `show ID` "
               "gives every attempt, `retry` re-runs them):\n",
               dead->size(), engine.Config().file.string());
    for (std::size_t i = 0; i < dead->size() && i < kShown; ++i) {
      const Job& job = (*dead)[dead->size() - 1 - i];
      fmt::print("  job {} [{}] {}: {}\n", job.id, job.route, job.event.key, job.last_error);
    }
  }
  return kExitDeadJobs;
}

}  // namespace sluice::app
