#pragma once
/// JSON forms of a parsed Serratus summary:
/// - the era-A object layout of the original uploader (research/serratus.md §2.1): one JSON
///   object per record with the values as written (strings, file order) plus "run";
/// - JSON lines for `sluice serratus parse FILE`: one object per record with cast values.

#include <ostream>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"

namespace sluice::serratus {

/// Appends `text` to `out` as a JSON string literal (with the quotes). Control characters are
/// escaped; bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
/// Thread-safe.
void AppendJsonString(std::string& out, std::string_view text);

/// The era-A JSON object of one record (§2.1 `summary_upload.py`): every field of the record as a
/// string, in file order, then `"run": "<RUN>"` for every record except the run record. The run
/// record gives the uploader's `properties` dict, e.g. for summary2
/// {"readlength":"150","sra":"ERR2756788","genome":"cov3ma","version":"200818","date":"200817-21:05"}
/// (the shape of serratus.io's ERR2756788.json "properties"). Compact, no trailing newline.
/// Thread-safe.
std::string FormatEraARecord(const ParsedSummary& summary, const Record& record);

/// The era-A object key of a record under `prefix` (§2.1): `<prefix>run/<RUN>.json` for the run
/// record, otherwise `<prefix><folder>/<RUN>_<id>.json` where folder is ToString(record.type)
/// ("family", "protein", "phylum", "sequence") and id the record id (`fam`, `gen`, `phy`, `seq`,
/// `vir` as written). Every '/' inside the id is replaced by '_' so one record stays one object
/// below its folder (ids with '/' are rare in practice; two ids that differ only by '/' vs '_'
/// would share a key). `prefix` is used verbatim (give the trailing '/'). Thread-safe.
std::string EraAObjectKey(const ParsedSummary& summary, const Record& record,
                          std::string_view prefix);

/// One JSON line for `sluice serratus parse` (no trailing newline):
/// {"record":"family","line":2,"run":"ERR2756788","famcvg":"…","fam":"AMR","score":100,…}
/// `record` is ToString(record.type) (not "type": protein/rdrp run lines have a `type` key of
/// their own); `line` the 1-based line; `run` the run id; then the fields in file order, with
/// integers and `depth` as JSON numbers and the rest as strings; then the §2.3 expansions under
/// their column names
/// (protein: family_name, protein_name, genbank_id; rdrp: phylum_name, family_name,
/// family_group, virus_name, sequence_accession) when they apply. Thread-safe.
std::string FormatParsedJsonLine(const ParsedSummary& summary, const Record& record);

/// Writes FormatParsedJsonLine of every record, run first, each followed by '\n'. Returns
/// Internal when the stream fails. Not thread-safe for a shared `out`.
Status WriteParsedJsonLines(const ParsedSummary& summary, std::ostream& out);

}  // namespace sluice::serratus
