// `sluice cp` and `sluice ls`: thin wrappers over store/transfer.hpp.

#include <fmt/format.h>

#include "sluice/app/commands.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/core/signals.hpp"
#include "sluice/store/transfer.hpp"

namespace sluice::app {

void AddCpCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "cp",
      "Copy an object, or with --recursive every object below a prefix or folder, between\n"
      "s3://bucket/key, file:///path (or a plain path) and memory://name/key, as aws s3 cp does:\n"
      "a destination ending with '/' (or an existing folder) receives the object under its own\n"
      "name. s3:// takes endpoint, region and profile from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,\n"
      "AWS_REGION and AWS_PROFILE. A progress bar is drawn on stderr when it is a terminal;\n"
      "a one-line summary goes to stdout at the end.\n"
      "Exit 0 when every object was copied; 1 when any failed (each is listed), the source does\n"
      "not exist, or the copy was interrupted; 2 on a usage error (bad URI, a folder without\n"
      "--recursive, a destination inside its source).");
  struct Args {
    std::string source;
    std::string destination;
    bool recursive = false;
    int jobs = 8;
    bool no_progress = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("SRC", args->source, "source URI or path")->required();
  cmd->add_option("DST", args->destination, "destination URI or path")->required();
  cmd->add_flag("-r,--recursive", args->recursive, "copy every object below SRC");
  cmd->add_option("-j,--jobs", args->jobs,
                  "objects copied at once; also the most S3 uploads (PutObject, UploadPart) in flight")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_flag("--no-progress", args->no_progress, "never draw the progress bar");
  cmd->callback([args, &exit_code] {
    const ShutdownSignals signals;  // first Ctrl-C: stop starting objects, abort those in flight
    ProgressSink progress;
    ProgressBar bar(progress, ProgressBarOptions{.enabled = !args->no_progress});
    const TransferOptions options{.jobs = args->jobs,
                                  .recursive = args->recursive,
                                  .progress = &progress,
                                  .cancel = &signals.Requested()};
    StoreOptions store_options;
    store_options.parallelism = args->jobs;
    auto summary = CopyUris(args->source, args->destination, options, store_options);
    bar.Finish();
    if (!summary) {
      exit_code = ReportError(summary.error());
      return;
    }
    fmt::print("{}\n", FormatTransferReport(*summary));
    exit_code = summary->Succeeded() ? kExitOk : kExitFailure;
  });
}

void AddLsCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "ls",
      "List objects below an s3://, file:// (or plain path) or memory:// URI as aws s3 ls does:\n"
      "\"2026-11-21 09:30:01      12345 name\" (local time), and \"PRE name/\" for the\n"
      "sub-prefixes unless --recursive. A local folder lists its contents.\n"
      "Exit 0 when something was listed, 1 when nothing matched (as aws s3 ls) or the listing\n"
      "failed, 2 on a bad URI.");
  struct Args {
    std::string uri;
    bool recursive = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("URI", args->uri, "what to list")->required();
  cmd->add_flag("-r,--recursive", args->recursive, "every key below, with full keys, no PRE lines");
  cmd->add_flag("--json", args->json,
                "JSON lines: {\"key\",\"size\",\"etag\",\"last_modified\"} or {\"prefix\"}");
  cmd->callback([args, &exit_code] {
    const bool json = args->json;
    auto count = ListUri(args->uri, args->recursive, StoreOptions{},
                         [json](const ListEntry& entry) -> Status {
                           fmt::print("{}\n", json ? FormatListJson(entry) : FormatListLine(entry));
                           return Ok();
                         });
    if (!count) {
      exit_code = ReportError(count.error());
      return;
    }
    exit_code = *count > 0 ? kExitOk : kExitFailure;
  });
}

}  // namespace sluice::app
