// `sluice serratus parse FILE`: prints the parsed records of a summary as JSON lines.

#include <filesystem>
#include <iostream>

#include "sluice/app/commands.hpp"
#include "sluice/handlers/serratus/summary_json.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice::app {

void AddSerratusCommand(CLI::App& app, int& exit_code) {
  auto* serratus = app.add_subcommand("serratus", "Tools for Serratus alignment summaries.");
  serratus->require_subcommand(1);
  auto* parse = serratus->add_subcommand(
      "parse", "Parse a summary2/psummary/rsummary file and print its records as JSON lines.\n"
               "Exit 0 when it parses, 1 with the line and reason when it does not.");
  auto file = std::make_shared<std::string>();
  auto kind = std::make_shared<std::string>();
  parse->add_option("FILE", *file, "summary file")->required();
  parse->add_option("-k,--kind", *kind,
                    "nucleotide, protein or rdrp (default: guessed from the file name)");
  parse->callback([file, kind, &exit_code] {
    auto parsed_kind = kind->empty() ? serratus::KindFromKey(*file) : serratus::ParseSummaryKind(*kind);
    if (!parsed_kind) {
      exit_code = ReportError(parsed_kind.error());
      return;
    }
    const std::filesystem::path path = std::filesystem::absolute(*file);
    auto store = MakeObjectStore("file://" + path.parent_path().string());
    if (!store) {
      exit_code = ReportError(store.error());
      return;
    }
    auto text = (*store)->Get(path.filename().string());
    if (!text) {
      exit_code = ReportError(text.error());
      return;
    }
    auto summary = serratus::ParseSummary(*parsed_kind, std::move(*text));
    if (!summary) {
      Error error = std::move(summary).error().WithContext(*file);
      exit_code = ReportError(error) == kExitUsage ? kExitUsage : kExitFailure;
      return;
    }
    auto written = serratus::WriteParsedJsonLines(*summary, std::cout);
    exit_code = written ? kExitOk : ReportError(written.error());
  });
}

}  // namespace sluice::app
