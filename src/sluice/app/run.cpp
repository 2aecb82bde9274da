// `sluice run`, `sluice serve`, `sluice worker` and `sluice backfill`: thin wrappers over Engine.

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "sluice/app/commands.hpp"
#include "sluice/core/signals.hpp"

namespace sluice::app {

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Let every source make one pass, process jobs until the queue is idle, then exit.\n"
             "Exit 0 when every job succeeded, 3 when any ended dead, 2 on a config error.");
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "pipeline config (TOML)")->required();
  cmd->callback([config, &exit_code] {
    auto engine = OpenEngine(*config);
    if (!engine) {
      exit_code = ReportError(engine.error());
      return;
    }
    if (auto pass = (*engine)->SourcesPass(); !pass) {
      exit_code = ReportError(pass.error());
      return;
    }
    auto report = (*engine)->Drain();
    exit_code = report ? FinishRun("run", *report, **engine) : ReportError(report.error());
  });
}

namespace {

// `serve` and `worker`: run until SIGINT/SIGTERM, with or without the sources; a daemon stopped
// on request exits 0.
void AddDaemonCommand(CLI::App& app, int& exit_code, const std::string& name,
                      const std::string& description, bool with_sources) {
  auto* cmd = app.add_subcommand(name, description);
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "pipeline config (TOML)")->required();
  cmd->callback([config, name, with_sources, &exit_code] {
    ShutdownSignals signals;
    auto engine = OpenEngine(*config);
    if (!engine) {
      exit_code = ReportError(engine.error());
      return;
    }
    spdlog::info("{}: {} route(s) from {}", name, (*engine)->Config().routes.size(), *config);
    auto report = with_sources ? (*engine)->Serve(signals.Requested()) : (*engine)->Work(signals.Requested());
    if (!report) {
      exit_code = ReportError(report.error());
      return;
    }
    (void)FinishRun(name, *report, **engine);
    exit_code = kExitOk;
    if (report->abandoned) {
      std::fflush(stdout);
      std::_Exit(exit_code);  // handler threads are still running and cannot be joined
    }
  });
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  AddDaemonCommand(app, exit_code, "serve",
                   "Run sources and workers until SIGINT/SIGTERM; then stop claiming, let running jobs\n"
                   "finish within engine.shutdown_grace and release the rest.",
                   /*with_sources=*/true);
}

void AddWorkerCommand(CLI::App& app, int& exit_code) {
  AddDaemonCommand(app, exit_code, "worker",
                   "Process jobs of the config's routes from its queue until SIGINT/SIGTERM, without\n"
                   "running sources (`sluice serve` on one host feeds the queue; run any number of\n"
                   "workers on any hosts with queue.url = \"amqp://…\"). Shuts down like serve.",
                   /*with_sources=*/false);
}

void AddBackfillCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "backfill", "Enqueue one job per run id of an index for one route, then process until idle.\n"
                  "Each id becomes the key <prefix><id><suffix> of the route's match.");
  auto enqueue_only = std::make_shared<bool>(false);
  cmd->add_flag("--enqueue-only", *enqueue_only,
                "enqueue the jobs and exit, leaving them to `sluice serve` or `sluice worker`s");
  auto config = std::make_shared<std::string>();
  auto route = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "pipeline config (TOML)")->required();
  cmd->add_option("-r,--route", *route, "route to feed")->required();
  cmd->add_option("-i,--index", *index,
                  "index: file:///path/index.txt, a plain path, or <store>:<key>; one run id per line")
      ->required();
  cmd->callback([config, route, index, enqueue_only, &exit_code] {
    auto engine = OpenEngine(*config);
    if (!engine) {
      exit_code = ReportError(engine.error());
      return;
    }
    const RouteConfig* rc = (*engine)->Config().FindRoute(*route);
    if (rc == nullptr) {
      exit_code = ReportError(Error{ErrorCode::InvalidArgument, "no route named '" + *route + "'", *config});
      return;
    }
    std::string url = *index;
    if (url.find("://") == std::string::npos && url.find(':') == std::string::npos) {
      url = "file://" + std::filesystem::absolute(url).string();
    }
    auto events = ReadIndexEvents(url, rc->match.store, rc->match.prefix, rc->match.suffix,
                                  (*engine)->GetResources());
    if (!events) {
      exit_code = ReportError(events.error());
      return;
    }
    const std::size_t total = events->size();
    auto added = (*engine)->SubmitToRoute(*route, std::move(*events));
    if (!added) {
      exit_code = ReportError(added.error());
      return;
    }
    spdlog::info("backfill: {} run id(s) in the index, {} new job(s) for route '{}'", total, *added, *route);
    if (*enqueue_only) {
      exit_code = kExitOk;
      return;
    }
    auto report = (*engine)->Drain();
    exit_code = report ? FinishRun("backfill", *report, **engine) : ReportError(report.error());
  });
}

}  // namespace sluice::app
