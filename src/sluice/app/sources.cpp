// `sluice sources reset`: forget what a poll or listing source remembered (source_state.hpp).

#include <fmt/format.h>

#include "sluice/app/commands.hpp"
#include "sluice/engine/sources/source_state.hpp"

namespace sluice::app {

void AddSourcesCommand(CLI::App& app, int& exit_code) {
  auto* sources = app.add_subcommand(
      "sources", "The remembered state of poll and listing sources (`sluice status` shows it).");
  sources->require_subcommand(1);
  auto* reset = sources->add_subcommand(
      "reset", "Forget what a poll or listing source remembered: a listing starts over at its next\n"
               "run (or serve start), a poll emits every object again (the queue's dedupe skips\n"
               "object versions it already has). Exit codes: 0 ok, 1 state unavailable, 2 usage\n"
               "or config error (no such source, or one that keeps no state).");
  auto config = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  reset->add_option("-c,--config", *config, "pipeline config (TOML)")->required();
  reset->add_option("name", *name, "the source's name")->required();
  reset->callback([config, name, &exit_code] {
    auto loaded = LoadConfig(*config);
    if (!loaded) {
      exit_code = ReportError(loaded.error());
      return;
    }
    auto forgot = ResetSourceState(*loaded, *name);
    if (!forgot) {
      exit_code = ReportError(forgot.error());
      return;
    }
    fmt::print("source '{}': {}\n", *name,
               *forgot ? "state forgotten; it starts over at its next pass" : "nothing was remembered");
    exit_code = kExitOk;
  });
}

}  // namespace sluice::app
