// sluice: moves research data into object storage and makes it queryable.
// main() reads as a list of steps: parse the command line, set up logging, run the subcommand.

#include <cstdio>

#include <CLI/CLI.hpp>

#include "sluice/app/commands.hpp"
#include "sluice/core/log.hpp"

int main(int argc, char** argv) {
  using namespace sluice;
  CLI::App app{
      "sluice — sources emit events, routes turn them into durable jobs, handlers process them\n"
      "idempotently into object stores and tables.\n\n"
      "Exit codes: 0 success, 1 runtime failure, 2 usage or config error, 3 some job ended dead,\n"
      "4 (monitor) another monitor holds the lock.",
      "sluice"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");
  std::string log_format = "auto";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "auto (human on a TTY, else JSON lines), human or json")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();

  int exit_code = app::kExitOk;
  app::AddRunCommand(app, exit_code);
  app::AddServeCommand(app, exit_code);
  app::AddWorkerCommand(app, exit_code);
  app::AddBackfillCommand(app, exit_code);
  app::AddJobsCommand(app, exit_code);
  app::AddDlqCommand(app, exit_code);
  app::AddStatusCommand(app, exit_code);
  app::AddSourcesCommand(app, exit_code);
  app::AddSerratusCommand(app, exit_code);
  app::AddCpCommand(app, exit_code);
  app::AddLsCommand(app, exit_code);
  app::AddS3Command(app, exit_code);
  app::AddUploadCommand(app, exit_code);
  app::AddMonitorCommand(app, exit_code);
  app::AddWiblCommand(app, exit_code);

  app.parse_complete_callback([&] {
    auto format = ParseLogFormat(log_format);
    auto status = format ? InitLogging(*format, log_level) : Status(Fail(format.error()));
    if (!status) throw CLI::ValidationError("--log-format/--log-level", status.error().message);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? app::kExitOk : app::kExitUsage;
  }
  std::fflush(stdout);
  return exit_code;
}
