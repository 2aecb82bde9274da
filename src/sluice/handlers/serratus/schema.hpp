#pragma once
/// The Serratus summary tables as the Aurora-era uploader and api.serratus.io use them
/// (research/serratus.md §2.3): names, columns in order, types (Text / Integer = int64 /
/// Real = double for `depth`) and primary keys, and the mapping of a parsed summary to rows.
///
/// - nucleotide: nsra (run_id), nfamily (run_id, family_name),
///   nsequence (run_id, sequence_accession);
/// - protein: psra (run_id), pfamily (run_id, family_name),
///   protein (run_id, family_name, protein_name),
///   psequence (run_id, family_name, protein_name, genbank_id);
/// - rdrp: rsra (run_id), rphylum (run_id, phylum_name), rfamily (run_id, phylum_name,
///   family_group), rsequence (run_id, phylum_name, family_group, virus_name,
///   sequence_accession).
///
/// Every table has `run_id` first; one run's rows are one partition (`run_id` = the run), so
/// processing a run again replaces its rows instead of appending (unlike the original uploader,
/// §2.4).

#include <span>
#include <string_view>
#include <vector>

#include "sluice/handlers/serratus/summary_parser.hpp"
#include "sluice/tables/table.hpp"

namespace sluice::serratus {

/// The partition column of every summary table.
inline constexpr std::string_view kRunIdColumn = "run_id";

/// The tables of `kind`, run table first (nucleotide: nsra, nfamily, nsequence; protein: psra,
/// pfamily, protein, psequence; rdrp: rsra, rphylum, rfamily, rsequence). The schemas are static:
/// their addresses stay valid for the whole program. Thread-safe.
std::span<const TableSchema> SchemasFor(SummaryKind kind);

/// The schema named `name` among the 11 tables, or nullptr. Thread-safe.
const TableSchema* FindSchema(std::string_view name);

/// One PartitionWrite per table of the summary's kind, in SchemasFor order, each replacing the
/// partition run_id = summary.RunId() with the summary's rows (a table with no records of the
/// file still gets a write with no rows, which deletes stale rows of an earlier version).
/// Column sources (§2.3): run_id←sra; read_length←readlength; aligned_reads←totalalns;
/// coverage_bins←*cvg; percent_identity←pctid; n_reads←aln/alns; n_global_reads←glb;
/// length←len; aligned_length←avgcols; top_*←top*; nsequence family_name←family,
/// sequence_accession←seq, virus_name←name; the protein/rdrp expansions of Record; rdrp `cat`
/// and protein/rdrp `type` are not stored (the uploader dropped them). Primary keys are unique
/// because ParseSummary rejects repeated record ids. Thread-safe.
std::vector<PartitionWrite> MakePartitionWrites(const ParsedSummary& summary);

}  // namespace sluice::serratus
