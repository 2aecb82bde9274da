#pragma once
/// The subcommands of the sluice binary. Each Add*Command registers its CLI11 subcommand and
/// sets `exit_code` when it runs; the work itself is done by the library.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "sluice/core/error.hpp"
#include "sluice/engine/engine.hpp"

namespace sluice::app {

/// Process exit codes, documented in `sluice --help` and the README.
enum ExitCode : int {
  kExitOk = 0,        ///< everything succeeded, or nothing to do
  kExitFailure = 1,   ///< a runtime failure (store, queue or table unavailable, …)
  kExitUsage = 2,     ///< bad command line or config
  kExitDeadJobs = 3,  ///< the run finished but at least one job ended dead
};

/// Logs `error` and returns its exit code: kExitUsage for InvalidArgument, else kExitFailure.
int ReportError(const Error& error);

/// Loads the config and opens the engine with the built-in handlers.
Result<std::unique_ptr<Engine>> OpenEngine(const std::string& config_path);

/// Prints the one-line summary of a run to stdout, lists a few dead jobs, returns 0 or 3.
int FinishRun(std::string_view command, const RunReport& report, Engine& engine);

void AddRunCommand(CLI::App& app, int& exit_code);    ///< `sluice run` (run.cpp)
void AddServeCommand(CLI::App& app, int& exit_code);  ///< `sluice serve` (run.cpp)
void AddWorkerCommand(CLI::App& app, int& exit_code);  ///< `sluice worker` (run.cpp)
void AddBackfillCommand(CLI::App& app, int& exit_code);  ///< `sluice backfill` (run.cpp)
void AddJobsCommand(CLI::App& app, int& exit_code);  ///< `sluice jobs list` (jobs.cpp)
void AddDlqCommand(CLI::App& app, int& exit_code);  ///< `sluice dlq list|show|retry|purge` (dlq.cpp)
void AddStatusCommand(CLI::App& app, int& exit_code);  ///< `sluice status` (status.cpp)
void AddSourcesCommand(CLI::App& app, int& exit_code);  ///< `sluice sources reset` (sources.cpp)
void AddSerratusCommand(CLI::App& app, int& exit_code);  ///< `sluice serratus` (serratus.cpp)
void AddCpCommand(CLI::App& app, int& exit_code);  ///< `sluice cp` (cp.cpp)
void AddLsCommand(CLI::App& app, int& exit_code);  ///< `sluice ls` (cp.cpp)
void AddS3Command(CLI::App& app, int& exit_code);  ///< `sluice s3 presign|cleanup-uploads` (s3.cpp)
void AddUploadCommand(CLI::App& app, int& exit_code);   ///< `sluice upload` (upload.cpp)
void AddMonitorCommand(CLI::App& app, int& exit_code);  ///< `sluice monitor` (upload.cpp)
/// `sluice wibl dump|process|validate|submit` (wibl.cpp).
void AddWiblCommand(CLI::App& app, int& exit_code);

}  // namespace sluice::app
