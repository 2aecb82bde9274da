// `sluice wibl dump|process|validate|submit`: the WIBL logger-file tools (research/wibl.md §5
// parsewibl, procwibl, validate, submit). Parsing and processing live in handlers/wibl/; this file only wires options.

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "sluice/app/commands.hpp"
#include "sluice/core/http_client.hpp"
#include "sluice/handlers/wibl/csb_validate.hpp"
#include "sluice/handlers/wibl/dcdb_submit.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_reader.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice::app {

namespace {

/// Reads a local file through a file:// store of its folder.
Result<std::string> ReadLocalFile(const std::string& file) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(file, ec);
  if (ec || file.empty()) return Fail(ErrorCode::InvalidArgument, "not a usable path", file);
  SLUICE_ASSIGN_OR_RETURN(auto store, MakeObjectStore("file://" + path.parent_path().string()));
  const std::string key = path.filename().string();
  std::string bytes;
  // Reserving the size up front keeps peak memory at one copy of the file.
  if (auto head = store->Head(key); head) bytes.reserve(head->size_bytes);
  auto read = store->GetTo(key, [&bytes](std::string_view chunk) -> Status {
    bytes.append(chunk);
    return Ok();
  });
  if (!read) return Fail(std::move(read).error().WithContext(file));
  return bytes;
}

/// Writes a local file atomically through a file:// store of its folder.
Status WriteLocalFile(const std::string& file, std::string_view bytes) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(file, ec);
  if (ec || file.empty()) return Fail(ErrorCode::InvalidArgument, "not a usable path", file);
  SLUICE_ASSIGN_OR_RETURN(auto store, MakeObjectStore("file://" + path.parent_path().string()));
  // Nobody reads the ETag of a file written for the user: skip hashing it.
  auto put = store->Put(path.filename().string(), bytes, WriteOptions{.need_etag = false});
  if (!put) return Fail(std::move(put).error().WithContext(file));
  return Ok();
}

int Exit(const Error& error) { return ReportError(error); }

void AddDump(CLI::App& wibl, int& exit_code) {
  auto* dump = wibl.add_subcommand(
      "dump", "Print one line per packet of a WIBL file: byte offset, id, name and values.\n"
              "Skipped (malformed) packets are reported on stderr; exit 1 when --strict fails.");
  auto file = std::make_shared<std::string>();
  auto stats = std::make_shared<bool>(false);
  auto strict = std::make_shared<bool>(false);
  dump->add_option("FILE", *file, ".wibl file")->required();
  dump->add_flag("--stats", *stats, "after the packets, print packet counts by type");
  dump->add_flag("--strict", *strict, "fail at the first malformed or truncated packet");
  dump->callback([file, stats, strict, &exit_code] {
    auto bytes = ReadLocalFile(*file);
    if (!bytes) {
      exit_code = Exit(bytes.error());
      return;
    }
    wibl::PacketReader reader(*bytes, wibl::ReadOptions{*strict});
    wibl::PacketCounts counts;
    std::string out;
    while (true) {
      auto packet = reader.Next();
      if (!packet) {
        std::cout << out << std::flush;
        exit_code = Exit(Error(packet.error()).WithContext(*file));
        return;
      }
      if (!*packet) break;
      out += wibl::DescribePacket(**packet);
      out += '\n';
      if (out.size() > (1U << 16)) {
        std::cout << out;
        out.clear();
      }
      wibl::CountPacket(**packet, counts);
    }
    std::cout << out;
    for (const wibl::ReadWarning& warning : reader.Warnings()) {
      std::cerr << fmt::format("warning: packet {} ({}) at byte offset {} skipped: {}\n",
                               warning.id, wibl::PacketName(warning.id), warning.offset,
                               warning.message);
    }
    if (reader.Skipped() > reader.Warnings().size()) {
      std::cerr << fmt::format("warning: {} more packets skipped\n",
                               reader.Skipped() - reader.Warnings().size());
    }
    if (*stats) {
      std::uint64_t total = 0;
      for (const auto& [name, count] : counts) {
        std::cout << fmt::format("{} {}\n", name, count);
        total += count;
      }
      std::cout << fmt::format("total {} packets, {} skipped, {} with unknown ids\n", total,
                               reader.Skipped(), reader.UnknownPackets());
    }
    exit_code = kExitOk;
  });
}

void AddProcess(CLI::App& wibl, int& exit_code) {
  auto* process = wibl.add_subcommand(
      "process", "Convert a WIBL file to CSB 3.1 GeoJSON exactly as wibl-python 1.2.0 does\n"
                 "(research/wibl.md §2); the --fix options correct its known mistakes (§2.8).");
  struct Args {
    std::string file;
    std::string output = "-";
    std::string metadata_file;
    wibl::ProcessOptions options;
  };
  auto args = std::make_shared<Args>();
  process->add_option("FILE", args->file, ".wibl file")->required();
  process->add_option("-o,--output", args->output, "GeoJSON output file, '-' for stdout")
      ->capture_default_str();
  process->add_option("--provider-id", args->options.provider_id,
                      "DCDB trusted-node id prefixed to uniqueVesselID (wibl-python PROVIDER_ID)");
  process->add_option("--elapsed-time-width", args->options.elapsed_time_width,
                      "bits of the logger's ms counter: 32, or 16 for YDVR-converted files")
      ->check(CLI::Range(1, 63))
      ->capture_default_str();
  process->add_option("--metadata", args->metadata_file,
                      "JSON file merged like a JSONMetadata packet (crs, properties)");
  process->add_flag("--strict", args->options.strict, "fail at a malformed or truncated packet");
  process->add_flag("--no-algorithms", [args](std::int64_t) {
    args->options.process_algorithms = false;
  }, "ignore the file's algorithm requests (deduplicate, nodatareject)");
  process->add_flag("--reject-null-positions", args->options.reject_null_positions,
                    "fix: no 0,0 positions from GGA/GLL without a fix");
  process->add_flag("--robust-counter-wrap", args->options.robust_counter_wrap,
                    "fix: only large backward steps of the ms counter are wraps");
  process->add_flag("--single-position-source", args->options.single_position_source,
                    "fix: positions from one stream; repeated stale fixes dropped");
  process->add_flag("--single-depth-source", args->options.single_depth_source,
                    "fix: depths from N2K, else DPT, else DBT, not several of them");
  process->add_flag("--null-empty-parameters", args->options.null_empty_parameters,
                    "fix: \"parameters\": null, not \"\", for algorithms without parameters");
  process->callback([args, &exit_code] {
    auto bytes = ReadLocalFile(args->file);
    if (!bytes) {
      exit_code = Exit(bytes.error());
      return;
    }
    if (!args->metadata_file.empty()) {
      auto text = ReadLocalFile(args->metadata_file);
      if (!text) {
        exit_code = Exit(text.error());
        return;
      }
      auto metadata = nlohmann::ordered_json::parse(*text, nullptr, false);
      if (metadata.is_discarded() || !metadata.is_object()) {
        exit_code = Exit(Error{ErrorCode::InvalidArgument, "not a JSON object", args->metadata_file});
        return;
      }
      args->options.metadata = std::move(metadata);
    }
    auto processed = wibl::ProcessWibl(*bytes, args->file, args->options);
    if (!processed) {
      exit_code = Exit(processed.error());
      return;
    }
    const std::string text = wibl::FormatGeoJson(*processed);
    if (args->output == "-") {
      std::cout << text << '\n';
    } else if (auto written = WriteLocalFile(args->output, text); !written) {
      exit_code = Exit(written.error());
      return;
    }
    std::cerr << fmt::format("{}: {} soundings ({} depths before algorithms), time source {}, "
                             "uniqueVesselID {}\n",
                             args->file, processed->soundings.size(), processed->raw_depths,
                             wibl::ToString(processed->time_source), processed->UniqueVesselId());
    exit_code = kExitOk;
  });
}

void AddValidate(CLI::App& wibl, int& exit_code) {
  auto* validate = wibl.add_subcommand(
      "validate", "Check a GeoJSON file against the IHO B.12 CSB schema 3.1.0-2024-04 and its\n"
                  "semantic checks (research/wibl.md §5). Exit 0 when valid, 1 when not (every\n"
                  "violation is printed with its JSON path), 2 when the file is not JSON.");
  auto file = std::make_shared<std::string>();
  auto schema_only = std::make_shared<bool>(false);
  validate->add_option("FILE", *file, "GeoJSON file")->required();
  validate->add_flag("--schema-only", *schema_only,
                     "the JSON Schema rules only, without the semantic checks (as ajv judges it)");
  validate->callback([file, schema_only, &exit_code] {
    auto text = ReadLocalFile(*file);
    if (!text) {
      exit_code = Exit(text.error());
      return;
    }
    auto report = wibl::ValidateCsbText(*text, wibl::CsbValidateOptions{
                                                   .semantic_checks = !*schema_only});
    if (!report) {
      spdlog::error("{}: {}", *file, report.error().ToString());
      exit_code = kExitUsage;
      return;
    }
    for (const auto& violation : report->violations) {
      fmt::print("{}: {}: {}\n", *file, violation.path.empty() ? "/" : violation.path,
                 violation.reason);
    }
    if (report->total_violations > report->violations.size()) {
      fmt::print("{}: … and {} more\n", *file, report->total_violations - report->violations.size());
    }
    fmt::print("{}: {} ({} features)\n", *file, report->Valid() ? "valid" : "invalid",
               report->features);
    exit_code = report->Valid() ? kExitOk : kExitFailure;
  });
}

void AddSubmit(CLI::App& wibl, int& exit_code) {
  auto* submit = wibl.add_subcommand(
      "submit", "Submit a CSB GeoJSON file to NOAA DCDB: one multipart POST, success only when\n"
                "DCDB answers \"success\": true, retried on network errors and 5xx only\n"
                "(research/wibl.md §4). The token comes from an environment variable, never the\n"
                "command line. Exit 0 when accepted (or on --dry-run), 1 otherwise.");
  struct Args {
    std::string file;
    std::string upload_point{wibl::kDcdbTestUploadPoint};
    std::string token_env = "DCDB_TOKEN";
    std::string provider_id;
    bool dry_run = false;
  };
  auto args = std::make_shared<Args>();
  submit->add_option("FILE", args->file, "GeoJSON file")->required();
  submit->add_option("--upload-point", args->upload_point,
                     "DCDB upload URL (default: DCDB's test point, which publishes nothing)")
      ->capture_default_str();
  submit->add_option("--token-env", args->token_env,
                     "environment variable holding the trusted node's token")
      ->capture_default_str();
  submit->add_option("--provider-id", args->provider_id, "trusted-node prefix of the uniqueID");
  submit->add_flag("--dry-run", args->dry_run, "build and check the request, send nothing");
  submit->callback([args, &exit_code] {
    auto text = ReadLocalFile(args->file);
    if (!text) {
      exit_code = Exit(text.error());
      return;
    }
    wibl::DcdbSubmitOptions options;
    options.upload_point = args->upload_point;
    if (const char* token = std::getenv(args->token_env.c_str()); token != nullptr) {
      options.token = token;
    }
    options.provider_id = args->provider_id;
    options.dry_run = args->dry_run;
    if (auto valid = wibl::DcdbSubmitter::CheckOptions(options); !valid) {
      exit_code = Exit(valid.error());
      return;
    }
    HttpClient http;
    const wibl::DcdbSubmitter submitter(http, options);
    const std::string name = std::filesystem::path(args->file).filename().string();
    auto receipt = submitter.Submit(wibl::DcdbFile{name, *std::move(text)});
    if (!receipt) {
      exit_code = Exit(receipt.error());
      return;
    }
    fmt::print("{}: {} (uniqueID {}, {} bytes{})\n", args->file,
               receipt->dry_run ? "dry run, nothing sent" : receipt->message, receipt->unique_id,
               receipt->body_bytes,
               receipt->dry_run ? "" : fmt::format(", {} attempt(s)", receipt->attempts));
    exit_code = kExitOk;
  });
}

}  // namespace

void AddWiblCommand(CLI::App& app, int& exit_code) {
  auto* wibl = app.add_subcommand("wibl", "Tools for WIBL bathymetry logger files.");
  wibl->require_subcommand(1);
  AddDump(*wibl, exit_code);
  AddProcess(*wibl, exit_code);
  AddValidate(*wibl, exit_code);
  AddSubmit(*wibl, exit_code);
}

}  // namespace sluice::app
