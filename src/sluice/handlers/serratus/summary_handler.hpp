#pragma once
/// The `serratus-summary` handler: one summary object in, its rows and/or its era-A JSON objects
/// out (research/serratus.md §1 formats, §2.1 JSON layout, §2.3 tables).
///
/// Options (route `options = { … }`, checked strictly):
/// | key         | need | meaning |
/// |-------------|------|---------|
/// | kind        | yes  | "nucleotide" (summary2), "protein" (psummary), "rdrp" (r/dsummary) |
/// | store       | no   | store to read the object from; default: the event's `store` |
/// | table       | no*  | table store (config `[tables.NAME]`) receiving the §2.3 rows |
/// | json_store  | no*  | object store (config `[stores.NAME]`) receiving era-A JSON objects |
/// | json_prefix | no   | key prefix of the JSON objects, used verbatim (default "") |
/// (* at least one of `table` and `json_store`.)
///
/// Per event: Get `event.key`; parse (Corrupt "line N: …", context "<store url>/<key>"); when
/// the key's file name looks like `<RUN>.<suffix>` (RUN = capital letters then digits, e.g.
/// ERR2756788.summary) the file's run id must be RUN (else Corrupt); then
/// - table: every table of the kind is created if missing (once per handler), and all of them
///   get their partition run_id = RUN replaced in ONE ReplacePartitions call (one transaction);
/// - json_store: for each record in file order `<prefix><folder>/<RUN>_<id>.json` (folders:
///   nucleotide family/, sequence/; protein family/, protein/, sequence/; rdrp phylum/, family/,
///   sequence/), then — only when `<prefix>run/<RUN>.json` already existed before this event (a
///   re-run) — objects of this run under those folders that the new file no longer has are
///   deleted, and LAST `<prefix>run/<RUN>.json`, the completion marker (era A's "already
///   processed" check, §2.1). Object content: summary_json.hpp FormatEraARecord.
/// Errors: NotFound "object <store>/<key> does not exist" (missing object; not retryable),
/// Corrupt (bad file, or an object over 64 MiB, far beyond any summary), InvalidArgument (the
/// event names an unknown store), Cancelled (shutdown or deadline, checked before writing and
/// between JSON objects), and whatever the stores and tables return (Transient, …).
/// The handler emits no follow-on events. Handle() is thread-safe.

#include <memory>
#include <optional>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::serratus {

/// The registry name of the handler.
inline constexpr std::string_view kSummaryHandlerName = "serratus-summary";

/// Builds a `serratus-summary` handler from route options (see above). InvalidArgument (located
/// by Options::MakeError) for an unknown option key, a missing or bad `kind`, neither `table`
/// nor `json_store`, or a `store`, `table` or `json_store` name not in `resources`. The handler
/// keeps shared ownership of the stores it may use. Thread-safe.
Result<std::unique_ptr<Handler>> MakeSummaryHandler(const Options& options,
                                                    const Resources& resources);

/// The run accession an object key names, when its file name (after the last '/') is
/// `<RUN>.<suffix>` with RUN one or more capital letters followed by one or more digits
/// ("summary2/ERR2756788.summary" → "ERR2756788"); nullopt otherwise. Thread-safe.
std::optional<std::string_view> RunIdFromKey(std::string_view key);

}  // namespace sluice::serratus
