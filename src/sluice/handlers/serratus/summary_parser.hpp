#pragma once
/// Parser of Serratus alignment summaries: `summary2` (nucleotide, `<RUN>.summary`), `psummary`
/// (protein) and `rsummary`/`dsummary` (RdRP). The formats, and the parsing rules this follows,
/// are in research/serratus.md §1.1 (summary2), §1.2 (psummary), §1.3 (rsummary) and §1.7
/// (gotchas); the derived columns follow the table of §2.3.
///
/// The parser is strict where the original uploader was (exact key sets, section order, the
/// `sra=<RUN>;` prefix, integer casts) and stricter where the uploader silently accepted damage
/// (a line must end with ';', duplicate keys and duplicate record ids are errors). Every error is
/// ErrorCode::Corrupt with the message "line N: <reason>" (N is 1-based).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::serratus {

/// Which summary format a file is in (research/serratus.md §1.0).
enum class SummaryKind {
  Nucleotide,  ///< summary2: `summary2/<RUN>.summary` (§1.1)
  Protein,     ///< psummary: `psummary/<RUN>.psummary` (§1.2)
  Rdrp,        ///< rsummary / dsummary: `rsummary/<RUN>.psummary` (§1.3)
};

/// "nucleotide", "protein" or "rdrp" (the handler's `kind` option). Thread-safe.
std::string_view ToString(SummaryKind kind);

/// Parses "nucleotide", "protein" or "rdrp"; InvalidArgument otherwise. Thread-safe.
Result<SummaryKind> ParseSummaryKind(std::string_view text);

/// Guesses the kind from an object key or file name, for `sluice serratus parse FILE`:
/// a path component `rsummary` or `dsummary` → Rdrp (their files end in `.psummary` too, §1.0);
/// a component `psummary` → Protein; a component `summary2` → Nucleotide; otherwise the suffix:
/// `.summary` → Nucleotide, `.psummary` → Protein (an rdrp file outside `rsummary/` cannot be
/// told from a protein one by name). InvalidArgument naming the key when nothing matches. Thread-safe.
Result<SummaryKind> KindFromKey(std::string_view key);

/// What one line of a summary describes. The `sequence` type covers summary2 `seqcvg`, psummary
/// `seqcvg` and rsummary `vircvg` lines (all go to a *sequence table, §2.3).
enum class RecordType {
  Run,       ///< line 1: readlength + SUMZER_COMMENT (+ totalalns, truncated for protein/rdrp)
  Phylum,    ///< rdrp `phycvg` lines
  Family,    ///< `famcvg` lines (nucleotide/protein family; rdrp family group)
  Protein,   ///< psummary `gencvg` lines ("genes")
  Sequence,  ///< `seqcvg` (nucleotide, protein) or `vircvg` (rdrp) lines
};

/// "run", "phylum", "family", "protein", "sequence": the JSON-lines `type` and the folder of the
/// era-A JSON layout. Thread-safe.
std::string_view ToString(RecordType type);

/// How a field's value is cast (research/serratus.md §2.2 INT_KEYS / DBL_KEYS, §1.7 #3).
enum class FieldType {
  Text,     ///< kept as written
  Integer,  ///< score, pctid, aln, glb, len, topscore, toplen, readlength, totalalns, alns, avgcols
  Real,     ///< depth
};

/// One `key=value` of a line. `key` and `text` view the parsed file's bytes (or, for run-line
/// pieces, the SUMZER_COMMENT inside it); `integer`/`real` hold the cast value per `type`.
struct Field {
  std::string_view key;  ///< the key, e.g. "score"
  std::string_view
      text;  ///< the value exactly as written (last nucleotide field: may hold ';' '=')
  FieldType type = FieldType::Text;  ///< how `text` was cast
  std::int64_t integer = 0;          ///< when type == Integer
  double real = 0.0;                 ///< when type == Real; always finite
};

/// One record (line) of a summary. Its fields are ParsedSummary::Fields(record), in file order
/// (the `sra=<RUN>;` prefix of protein/rdrp lines is not a field; the run line's SUMZER_COMMENT is
/// unpacked into its pieces, §1.7 #3). The string_views point into the owning ParsedSummary.
struct Record {
  RecordType type = RecordType::Run;  ///< what the line describes
  int line = 0;                       ///< 1-based line number in the file
  std::uint32_t first_field = 0;      ///< index into the summary's field array
  std::uint32_t field_count = 0;      ///< number of fields (rdrp lines without `cat` have one less)
  /// The record's identifying value as written: the run id (run line), `fam`, `gen`, `phy`,
  /// `seq` or `vir`. Unique per record type within one file.
  std::string_view id;

  /// Expansions of §2.3 (empty when they do not apply to this kind/type):
  /// protein `fam=F` → family_name F;
  /// protein `gen=F.P` → family_name F, protein_name P;
  /// protein `seq=F.P.A` → family_name, protein_name, accession A (split at the first two '.');
  /// rdrp `phy=abbr` → phylum_name (full name, e.g. pisu → Pisuviricota);
  /// rdrp `fam=abbr.Group` → phylum_name, family_group Group, family_name
  ///   (`Tombusviridae-14` → `Tombusviridae`, `Unc159` → `Unclassified-159`);
  /// rdrp `vir=abbr.Group.name:acc` → phylum_name, family_group, family_name, virus_name name,
  ///   accession acc.
  std::string_view phylum_name;   ///< rdrp: full phylum name (rphylum/rfamily/rsequence)
  std::string_view family_name;   ///< protein: family; rdrp: family name without group number
  std::string_view family_group;  ///< rdrp: the group as written, e.g. "Unc159"
  std::string_view protein_name;  ///< protein gen/seq: the protein ("ORF1")
  std::string_view virus_name;    ///< rdrp vir: the virus name before ':'
  std::string_view accession;     ///< protein seq: genbank_id; rdrp vir: sequence_accession
};

/// A whole parsed summary: the text it was parsed from (owned), the records in file order (the
/// run record first) and their fields. Movable, not copyable; moving keeps every string_view
/// valid. Immutable after parsing: safe to read from several threads.
class ParsedSummary {
 public:
  ParsedSummary(ParsedSummary&&) noexcept = default;
  ParsedSummary& operator=(ParsedSummary&&) noexcept = default;
  ParsedSummary(const ParsedSummary&) = delete;
  ParsedSummary& operator=(const ParsedSummary&) = delete;
  ~ParsedSummary() = default;

  /// The format the file was parsed as.
  [[nodiscard]] SummaryKind Kind() const { return kind_; }
  /// The run accession (`sra` of the run line), e.g. "ERR2756788".
  [[nodiscard]] std::string_view RunId() const { return run_id_; }
  /// The run record (line 1).
  [[nodiscard]] const Record& Run() const { return records_.front(); }
  /// Every record in file order, the run record first.
  [[nodiscard]] std::span<const Record> Records() const { return records_; }
  /// The fields of `record` (which must belong to this summary), in file order.
  [[nodiscard]] std::span<const Field> Fields(const Record& record) const {
    return std::span<const Field>(fields_).subspan(record.first_field, record.field_count);
  }
  /// The field named `key` of `record`, or nullptr when the record has no such key (only
  /// rdrp's optional `cat` can be absent from a valid record).
  [[nodiscard]] const Field* Find(const Record& record, std::string_view key) const;
  /// Number of records of `type` (1 for Run).
  [[nodiscard]] std::size_t Count(RecordType type) const;
  /// The file's bytes as given to ParseSummary.
  [[nodiscard]] std::string_view Text() const { return *text_; }

 private:
  ParsedSummary() = default;
  friend class SummaryParser;

  SummaryKind kind_ = SummaryKind::Nucleotide;
  std::unique_ptr<const std::string> text_;
  /// Derived strings that are not a slice of the text ("Unclassified-159"); pointers keep them
  /// at a fixed address when the summary moves.
  std::vector<std::unique_ptr<const std::string>> owned_;
  std::vector<Field> fields_;
  std::vector<Record> records_;
  std::string_view run_id_;
};

/// Parses a summary of `kind` (research/serratus.md §1.1–1.3, §1.7). Takes ownership of `text`.
///
/// Layout: line 1 is the run line; then the record sections in their fixed order — nucleotide
/// famcvg, seqcvg; protein famcvg, gencvg, seqcvg; rdrp phycvg, famcvg, vircvg — each possibly
/// empty. Rules (all violations are Corrupt "line N: …"):
/// - an empty file, an empty line, a NUL byte, or a line not ending in ';' (truncated file);
///   a "\r" before "\n" is tolerated and dropped;
/// - protein/rdrp: every line starts with `sra=<RUN>;` where RUN is the run id of line 1, and
///   line 1's SUMZER_COMMENT `sra` equals it;
/// - exact key sets per line type: a missing, unknown or duplicated key is an error (rdrp `cat`
///   is optional); every field other than the last nucleotide one is `key=value` with one '=';
/// - the last nucleotide field (`topname`, `name`) starts at the first `;topname=` / `;name=`
///   field boundary and runs to the end of the line: it may contain ';' and '='; trailing ';' are
///   stripped (as the uploader's `strip(';\n')` does);
/// - integer keys must be a base-10 int64 (`len=?` is an error), `depth` a finite decimal;
/// - record ids must be non-empty and unique per record type (the tables' primary keys, §2.3):
///   a duplicate names both lines;
/// - protein `gen` must be `F.P`, `seq` `F.P.A`; rdrp `phy` one of the abbreviations of §1.3,
///   `fam` `abbr.Group`, `vir` `abbr.Group.name:acc` (non-empty parts).
/// Thread-safe (no shared state). Cost: one pass, no regex; fields are views into the text.
Result<ParsedSummary> ParseSummary(SummaryKind kind, std::string text);

}  // namespace sluice::serratus
