#include "sluice/handlers/serratus/summary_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

namespace sluice::serratus {

namespace {

// ---------------------------------------------------------------------------------------------
// Line specifications (research/serratus.md §1.1–1.3; key lists as the uploader's parse_keys,
// §2.2, in the generator's order; types from INT_KEYS / DBL_KEYS, §2.2 "Parse").

struct KeySpec {
  std::string_view name;
  FieldType type = FieldType::Text;
  bool optional = false;
};

constexpr FieldType kText = FieldType::Text;
constexpr FieldType kInt = FieldType::Integer;
constexpr FieldType kReal = FieldType::Real;

// Run line, §1.7 #3: nucleotide {sra, readlength, genome, version, date}.
constexpr std::array<KeySpec, 5> kNucleotideRunKeys{
    {{"readlength", kInt}, {"sra", kText}, {"genome", kText}, {"version", kText}, {"date", kText}}};
// Run line, §1.7 #3: protein/rdrp {sra, type, readlength, genome, totalalns, truncated, date}
// (`excepts`, §1.2, is not accepted: the uploader's key check rejected it as well).
constexpr std::array<KeySpec, 7> kProteinRunKeys{{{"sra", kText},
                                                  {"genome", kText},
                                                  {"date", kText},
                                                  {"type", kText},
                                                  {"totalalns", kInt},
                                                  {"readlength", kInt},
                                                  {"truncated", kText}}};

// §1.1 family and sequence lines; the last key takes the rest of the line.
constexpr std::array<KeySpec, 12> kNucleotideFamilyKeys{{{"famcvg", kText},
                                                         {"fam", kText},
                                                         {"score", kInt},
                                                         {"pctid", kInt},
                                                         {"depth", kReal},
                                                         {"aln", kInt},
                                                         {"glb", kInt},
                                                         {"len", kInt},
                                                         {"top", kText},
                                                         {"topscore", kInt},
                                                         {"toplen", kInt},
                                                         {"topname", kText}}};
constexpr std::array<KeySpec, 10> kNucleotideSequenceKeys{{{"seqcvg", kText},
                                                           {"seq", kText},
                                                           {"score", kInt},
                                                           {"pctid", kInt},
                                                           {"depth", kReal},
                                                           {"aln", kInt},
                                                           {"glb", kInt},
                                                           {"len", kInt},
                                                           {"family", kText},
                                                           {"name", kText}}};

// §1.2 psummary lines.
constexpr std::array<KeySpec, 6> kProteinFamilyKeys{{{"famcvg", kText},
                                                     {"fam", kText},
                                                     {"score", kInt},
                                                     {"pctid", kInt},
                                                     {"alns", kInt},
                                                     {"avgcols", kInt}}};
constexpr std::array<KeySpec, 6> kProteinGeneKeys{{{"gencvg", kText},
                                                   {"gen", kText},
                                                   {"score", kInt},
                                                   {"pctid", kInt},
                                                   {"alns", kInt},
                                                   {"avgcols", kInt}}};
constexpr std::array<KeySpec, 6> kProteinSequenceKeys{{{"seqcvg", kText},
                                                       {"seq", kText},
                                                       {"score", kInt},
                                                       {"pctid", kInt},
                                                       {"alns", kInt},
                                                       {"avgcols", kInt}}};

// §1.3 rsummary lines; `cat` is only written when the depth qualifies.
constexpr std::array<KeySpec, 8> kRdrpPhylumKeys{{{"phycvg", kText},
                                                  {"phy", kText},
                                                  {"cat", kText, true},
                                                  {"score", kInt},
                                                  {"depth", kReal},
                                                  {"pctid", kInt},
                                                  {"alns", kInt},
                                                  {"avgcols", kInt}}};
constexpr std::array<KeySpec, 8> kRdrpFamilyKeys{{{"famcvg", kText},
                                                  {"fam", kText},
                                                  {"cat", kText, true},
                                                  {"score", kInt},
                                                  {"depth", kReal},
                                                  {"pctid", kInt},
                                                  {"alns", kInt},
                                                  {"avgcols", kInt}}};
constexpr std::array<KeySpec, 8> kRdrpVirusKeys{{{"vircvg", kText},
                                                 {"vir", kText},
                                                 {"cat", kText, true},
                                                 {"score", kInt},
                                                 {"depth", kReal},
                                                 {"pctid", kInt},
                                                 {"alns", kInt},
                                                 {"avgcols", kInt}}};

/// One section: keys[0] is the line-type key (`famcvg`, …), keys[1] the record id key.
struct LineSpec {
  RecordType type;
  std::span<const KeySpec> keys;
  bool last_any_char = false;  ///< nucleotide: the last key's value runs to the end of the line
};

constexpr std::array<LineSpec, 2> kNucleotideSections{{
    {RecordType::Family, kNucleotideFamilyKeys, true},
    {RecordType::Sequence, kNucleotideSequenceKeys, true},
}};
constexpr std::array<LineSpec, 3> kProteinSections{{
    {RecordType::Family, kProteinFamilyKeys, false},
    {RecordType::Protein, kProteinGeneKeys, false},
    {RecordType::Sequence, kProteinSequenceKeys, false},
}};
constexpr std::array<LineSpec, 3> kRdrpSections{{
    {RecordType::Phylum, kRdrpPhylumKeys, false},
    {RecordType::Family, kRdrpFamilyKeys, false},
    {RecordType::Sequence, kRdrpVirusKeys, false},
}};

struct KindSpec {
  std::span<const KeySpec> run_keys;
  std::span<const LineSpec> sections;
  bool sra_prefix = false;  ///< every line starts with `sra=<RUN>;` (§1.2: SUMZER_SRA is set)
};

const KindSpec& SpecOf(SummaryKind kind) {
  static constexpr KindSpec kNucleotide{kNucleotideRunKeys, kNucleotideSections, false};
  static constexpr KindSpec kProtein{kProteinRunKeys, kProteinSections, true};
  static constexpr KindSpec kRdrp{kProteinRunKeys, kRdrpSections, true};
  switch (kind) {
    case SummaryKind::Nucleotide:
      return kNucleotide;
    case SummaryKind::Protein:
      return kProtein;
    case SummaryKind::Rdrp:
      break;
  }
  return kRdrp;
}

/// Phylum abbreviations of rsummary labels (§1.3; serratus-summary-utils
/// src/rsummary.dictionary.json).
struct Phylum {
  std::string_view abbreviation;
  std::string_view name;
};
constexpr std::array<Phylum, 7> kPhyla{{{"dupl", "Duplornaviricota"},
                                        {"kiti", "Kitrinoviricota"},
                                        {"levi", "Lenarviricota"},
                                        {"nega", "Negarnaviricota"},
                                        {"pisu", "Pisuviricota"},
                                        {"rdrp", "Unclassified"},
                                        {"var", "Deltavirus"}}};

constexpr std::string_view kSumzerComment = "SUMZER_COMMENT=";

/// "famcvg, seqcvg": the section keys of a kind in their required order, for messages.
std::string SectionKeyList(std::span<const LineSpec> sections) {
  std::string list;
  for (const LineSpec& section : sections) {
    if (!list.empty()) list += ", ";
    list += section.keys[0].name;
  }
  return list;
}

/// Shown in messages: long values are cut so an error line stays one readable line.
std::string Shorten(std::string_view text) {
  constexpr std::size_t kMax = 60;
  if (text.size() <= kMax) return std::string(text);
  return fmt::format("{}...", text.substr(0, kMax));
}

bool ParseInteger(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  // from_chars accepts a leading '-', which Python's int() does too; '+', blanks and '_' are
  // rejected (stricter than int(), which no generator needs).
  const auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last;
}

bool ParseReal(std::string_view text, double& out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  const auto [ptr, ec] = std::from_chars(first, last, out, std::chars_format::general);
  // NaN and infinities are refused: they cannot be stored as JSON numbers, nor compared in SQL.
  return ec == std::errc() && ptr == last && std::isfinite(out);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view ToString(SummaryKind kind) {
  switch (kind) {
    case SummaryKind::Nucleotide:
      return "nucleotide";
    case SummaryKind::Protein:
      return "protein";
    case SummaryKind::Rdrp:
      return "rdrp";
  }
  return "unknown";
}

Result<SummaryKind> ParseSummaryKind(std::string_view text) {
  if (text == "nucleotide") return SummaryKind::Nucleotide;
  if (text == "protein") return SummaryKind::Protein;
  if (text == "rdrp") return SummaryKind::Rdrp;
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("unknown summary kind '{}': expected nucleotide, protein or rdrp", text));
}

Result<SummaryKind> KindFromKey(std::string_view key) {
  bool has_psummary = false;
  bool has_summary2 = false;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) break;  // the last component is the file name
    const std::string_view component = key.substr(start, slash - start);
    if (component == "rsummary" || component == "dsummary") return SummaryKind::Rdrp;
    has_psummary = has_psummary || component == "psummary";
    has_summary2 = has_summary2 || component == "summary2";
    start = slash + 1;
  }
  if (has_psummary) return SummaryKind::Protein;
  if (has_summary2) return SummaryKind::Nucleotide;
  if (key.ends_with(".psummary")) return SummaryKind::Protein;
  if (key.ends_with(".summary")) return SummaryKind::Nucleotide;
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("cannot tell the summary kind of '{}' (expected a .summary or .psummary "
                          "name, or a summary2/, psummary/, rsummary/ or dsummary/ folder)",
                          key));
}

std::string_view ToString(RecordType type) {
  switch (type) {
    case RecordType::Run:
      return "run";
    case RecordType::Phylum:
      return "phylum";
    case RecordType::Family:
      return "family";
    case RecordType::Protein:
      return "protein";
    case RecordType::Sequence:
      return "sequence";
  }
  return "unknown";
}

const Field* ParsedSummary::Find(const Record& record, std::string_view key) const {
  for (const Field& field : Fields(record)) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

std::size_t ParsedSummary::Count(RecordType type) const {
  return static_cast<std::size_t>(
      std::count_if(records_.begin(), records_.end(),
                    [type](const Record& record) { return record.type == type; }));
}

/// Builds one ParsedSummary; a new parser per call, so ParseSummary is trivially thread-safe.
class SummaryParser {
 public:
  SummaryParser(SummaryKind kind, std::string text) : spec_(SpecOf(kind)) {
    summary_.kind_ = kind;
    summary_.text_ = std::make_unique<const std::string>(std::move(text));
  }

  Result<ParsedSummary> Parse() && {
    const std::string_view text = *summary_.text_;
    if (text.empty()) return Fail(Corrupt(1, "empty file (no run line)"));
    if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
      const auto offset = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
      const auto line =
          std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
      return Fail(Corrupt(static_cast<int>(line) + 1, "NUL byte in the text"));
    }
    const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    summary_.records_.reserve(newlines + 1);
    summary_.fields_.reserve((newlines + 1) * 12);

    std::size_t pos = 0;
    int line_number = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_number;
      if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF: tolerated, the '\r' is dropped
      SLUICE_RETURN_IF_ERROR(ParseLine(line, line_number));
    }
    SLUICE_RETURN_IF_ERROR(CheckUniqueIds());
    return std::move(summary_);
  }

 private:
  static Error Corrupt(int line, std::string_view reason) {
    return Error{ErrorCode::Corrupt, fmt::format("line {}: {}", line, reason), {}};
  }

  Status ParseLine(std::string_view line, int line_number) {
    if (line.empty()) return Fail(Corrupt(line_number, "empty line"));
    std::string_view body = line;
    if (spec_.sra_prefix) {
      SLUICE_ASSIGN_OR_RETURN(body, StripRunPrefix(line, line_number));
    }
    if (!body.ends_with(';')) {
      return Fail(Corrupt(line_number, "line does not end with ';' (truncated file?)"));
    }
    body.remove_suffix(1);
    if (line_number == 1) return ParseRunLine(body, line_number);
    return ParseSectionLine(body, line_number);
  }

  /// Protein/rdrp lines start with `sra=<RUN>;` (§1.2, §1.7 #2); line 1 defines RUN.
  Result<std::string_view> StripRunPrefix(std::string_view line, int line_number) {
    constexpr std::string_view kSra = "sra=";
    const std::size_t semicolon = line.find(';');
    if (!line.starts_with(kSra) || semicolon == std::string_view::npos) {
      return Fail(Corrupt(line_number,
                          line_number == 1
                              ? std::string("line does not start with 'sra=<RUN>;'")
                              : fmt::format("line does not start with 'sra={};'", prefix_run_)));
    }
    const std::string_view run = line.substr(kSra.size(), semicolon - kSra.size());
    if (line_number == 1) {
      if (run.empty()) return Fail(Corrupt(line_number, "empty run id in 'sra=;'"));
      prefix_run_ = run;
    } else if (run != prefix_run_) {
      return Fail(Corrupt(line_number, fmt::format("line starts with 'sra={};' but the run of "
                                                   "line 1 is '{}'",
                                                   Shorten(run), prefix_run_)));
    }
    return line.substr(semicolon + 1);
  }

  /// Line 1 (§1.7 #3): the literal `SUMZER_COMMENT=` is dropped, ';' and ',' both separate
  /// `key=value` pieces (so `date=200817-21:05` survives), and the key set must be exact.
  Status ParseRunLine(std::string_view body, int line_number) {
    Record record;
    record.type = RecordType::Run;
    record.line = line_number;
    record.first_field = static_cast<std::uint32_t>(summary_.fields_.size());
    std::uint32_t seen = 0;
    std::size_t pos = 0;
    while (true) {
      std::size_t end = body.find_first_of(";,", pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view piece = body.substr(pos, end - pos);
      if (piece.starts_with(kSumzerComment)) piece.remove_prefix(kSumzerComment.size());
      SLUICE_RETURN_IF_ERROR(AddSimpleField(spec_.run_keys, piece, line_number, seen));
      if (end == body.size()) break;
      pos = end + 1;
    }
    SLUICE_RETURN_IF_ERROR(CheckMissing(spec_.run_keys, seen, line_number));
    record.field_count = static_cast<std::uint32_t>(summary_.fields_.size()) - record.first_field;

    summary_.records_.push_back(record);
    const Field* sra = summary_.Find(summary_.records_.back(), "sra");
    if (sra->text.empty()) return Fail(Corrupt(line_number, "empty run id 'sra='"));
    if (spec_.sra_prefix && sra->text != prefix_run_) {
      return Fail(Corrupt(line_number, fmt::format("SUMZER_COMMENT has sra={} but the line starts "
                                                   "with sra={}",
                                                   Shorten(sra->text), prefix_run_)));
    }
    if (const Field* truncated = summary_.Find(summary_.records_.back(), "truncated");
        truncated != nullptr && truncated->text != "yes" && truncated->text != "no") {
      // §1.2: the generator writes yes iff the alignment count hit SUMZER_MAXALNS, else no.
      return Fail(Corrupt(line_number, fmt::format("key 'truncated': '{}' is neither yes nor no",
                                                   Shorten(truncated->text))));
    }
    summary_.records_.back().id = sra->text;
    summary_.run_id_ = sra->text;
    return Ok();
  }

  Status ParseSectionLine(std::string_view body, int line_number) {
    // The line type is the key of the first field (the uploader used `line.startswith(...)`).
    const std::string_view first_key = body.substr(0, body.find_first_of("=;"));
    std::size_t section = spec_.sections.size();
    for (std::size_t i = 0; i < spec_.sections.size(); ++i) {
      if (spec_.sections[i].keys[0].name == first_key) section = i;
    }
    if (section == spec_.sections.size()) {
      return Fail(
          Corrupt(line_number, fmt::format("unexpected line type '{}' (expected {})",
                                           Shorten(first_key), SectionKeyList(spec_.sections))));
    }
    if (section < section_) {
      return Fail(
          Corrupt(line_number, fmt::format("'{}' line after '{}' lines: sections must come in the "
                                           "order {}",
                                           first_key, spec_.sections[section_].keys[0].name,
                                           SectionKeyList(spec_.sections))));
    }
    section_ = section;
    const LineSpec& line_spec = spec_.sections[section];

    Record record;
    record.type = line_spec.type;
    record.line = line_number;
    record.first_field = static_cast<std::uint32_t>(summary_.fields_.size());
    std::uint32_t seen = 0;
    const std::string_view last_key = line_spec.last_any_char ? line_spec.keys.back().name : "";
    std::size_t pos = 0;
    while (true) {
      const std::string_view rest = body.substr(pos);
      if (!last_key.empty() && rest.starts_with(last_key) && rest.size() > last_key.size() &&
          rest[last_key.size()] == '=') {
        // §1.7 #1: the last nucleotide field starts at the first field boundary carrying its key
        // and takes the rest of the line, ';' and '=' included; the uploader's strip(';') also
        // removes any further trailing ';'.
        std::string_view value = rest.substr(last_key.size() + 1);
        while (value.ends_with(';')) value.remove_suffix(1);
        SLUICE_RETURN_IF_ERROR(AddField(line_spec.keys, last_key, value, line_number, seen));
        break;
      }
      std::size_t end = body.find(';', pos);
      if (end == std::string_view::npos) end = body.size();
      SLUICE_RETURN_IF_ERROR(
          AddSimpleField(line_spec.keys, body.substr(pos, end - pos), line_number, seen));
      if (end == body.size()) break;
      pos = end + 1;
    }
    SLUICE_RETURN_IF_ERROR(CheckMissing(line_spec.keys, seen, line_number));
    record.field_count = static_cast<std::uint32_t>(summary_.fields_.size()) - record.first_field;
    const Field* id = summary_.Find(record, line_spec.keys[1].name);
    record.id = id->text;
    if (record.id.empty()) {
      return Fail(Corrupt(line_number, fmt::format("empty '{}'", line_spec.keys[1].name)));
    }
    SLUICE_RETURN_IF_ERROR(Expand(record, line_number));
    summary_.records_.push_back(record);
    return Ok();
  }

  /// A `key=value` piece whose value may not contain '=' (Python `dict([pair.split('=')])`).
  Status AddSimpleField(std::span<const KeySpec> keys, std::string_view piece, int line_number,
                        std::uint32_t& seen) {
    if (piece.empty()) return Fail(Corrupt(line_number, "empty field (';;')"));
    const std::size_t equals = piece.find('=');
    if (equals == std::string_view::npos) {
      return Fail(Corrupt(line_number, fmt::format("field '{}' has no '='", Shorten(piece))));
    }
    const std::string_view key = piece.substr(0, equals);
    const std::string_view value = piece.substr(equals + 1);
    if (value.find('=') != std::string_view::npos) {
      return Fail(
          Corrupt(line_number, fmt::format("field '{}' has more than one '='", Shorten(piece))));
    }
    return AddField(keys, key, value, line_number, seen);
  }

  Status AddField(std::span<const KeySpec> keys, std::string_view key, std::string_view value,
                  int line_number, std::uint32_t& seen) {
    std::size_t index = keys.size();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].name == key) {
        index = i;
        break;
      }
    }
    if (index == keys.size()) {
      return Fail(Corrupt(line_number, fmt::format("unexpected key '{}'", Shorten(key))));
    }
    const std::uint32_t bit = 1U << index;
    if ((seen & bit) != 0) {
      return Fail(Corrupt(line_number, fmt::format("duplicate key '{}'", key)));
    }
    seen |= bit;
    Field field;
    field.key = keys[index].name;  // a static view: equal to `key`
    field.text = value;
    field.type = keys[index].type;
    if (field.type == FieldType::Integer && !ParseInteger(value, field.integer)) {
      return Fail(Corrupt(line_number,
                          fmt::format("key '{}': '{}' is not an integer", key, Shorten(value))));
    }
    if (field.type == FieldType::Real && !ParseReal(value, field.real)) {
      return Fail(Corrupt(
          line_number, fmt::format("key '{}': '{}' is not a finite number", key, Shorten(value))));
    }
    summary_.fields_.push_back(field);
    return Ok();
  }

  Status CheckMissing(std::span<const KeySpec> keys, std::uint32_t seen, int line_number) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].optional && (seen & (1U << i)) == 0) {
        return Fail(Corrupt(line_number, fmt::format("missing key '{}'", keys[i].name)));
      }
    }
    return Ok();
  }

  // ---- §2.3 expansions ----------------------------------------------------------------------

  Status Expand(Record& record, int line_number) {
    const SummaryKind kind = summary_.kind_;
    if (kind == SummaryKind::Protein) {
      if (record.type == RecordType::Protein) return ExpandGene(record, line_number);
      if (record.type == RecordType::Sequence) return ExpandProteinSequence(record, line_number);
      record.family_name = record.id;
      return Ok();
    }
    if (kind == SummaryKind::Rdrp) {
      if (record.type == RecordType::Phylum) {
        SLUICE_ASSIGN_OR_RETURN(record.phylum_name, PhylumName(record.id, "phy", line_number));
        return Ok();
      }
      return ExpandRdrpLabel(record, line_number);
    }
    return Ok();
  }

  /// `gen=Hugephage.terminase` → family Hugephage, protein terminase; exactly two parts (the
  /// uploader's `fam, protein = gen.split('.')`).
  Status ExpandGene(Record& record, int line_number) {
    const std::string_view gen = record.id;
    const std::size_t dot = gen.find('.');
    if (dot == std::string_view::npos || gen.find('.', dot + 1) != std::string_view::npos ||
        dot == 0 || dot + 1 == gen.size()) {
      return Fail(Corrupt(line_number,
                          fmt::format("key 'gen': '{}' is not <family>.<protein>", Shorten(gen))));
    }
    record.family_name = gen.substr(0, dot);
    record.protein_name = gen.substr(dot + 1);
    return Ok();
  }

  /// `seq=Hugephage.capsid.187.2` → family, protein, accession `187.2` (split('.', maxsplit=2)).
  Status ExpandProteinSequence(Record& record, int line_number) {
    const std::string_view seq = record.id;
    const std::size_t dot1 = seq.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : seq.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == seq.size()) {
      return Fail(Corrupt(line_number, fmt::format("key 'seq': '{}' is not "
                                                   "<family>.<protein>.<accession>",
                                                   Shorten(seq))));
    }
    record.family_name = seq.substr(0, dot1);
    record.protein_name = seq.substr(dot1 + 1, dot2 - dot1 - 1);
    record.accession = seq.substr(dot2 + 1);
    return Ok();
  }

  Result<std::string_view> PhylumName(std::string_view abbreviation, std::string_view key,
                                      int line_number) const {
    for (const Phylum& phylum : kPhyla) {
      if (phylum.abbreviation == abbreviation) return phylum.name;
    }
    return Fail(Corrupt(line_number, fmt::format("key '{}': unknown phylum abbreviation '{}' "
                                                 "(known: dupl, kiti, levi, nega, pisu, rdrp, var)",
                                                 key, Shorten(abbreviation))));
  }

  /// rdrp `fam=<phy>.<Group>` and `vir=<phy>.<Group>.<name>:<accession>` (§1.3). The split
  /// follows the uploader (exactly one '.' in fam; maxsplit=2 for vir, so a virus name may hold
  /// '.'); the virus part is cut at its first ':' as serratus-summary-utils does
  /// (`vir[2].split(':')`), so the accession is everything after it. Family name per
  /// serratus-summary-utils famcvgToFamily: a group starting with "Unc" becomes
  /// "Unclassified-<rest>" (`Unc159` → `Unclassified-159`), any other is cut at its first '-'
  /// (`Tombusviridae-14` → `Tombusviridae`).
  Status ExpandRdrpLabel(Record& record, int line_number) {
    const bool is_virus = record.type == RecordType::Sequence;
    const std::string_view key = is_virus ? "vir" : "fam";
    const std::string_view label = record.id;
    const std::size_t dot1 = label.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : label.find('.', dot1 + 1);
    const auto bad = [&]() {
      return Fail(Corrupt(line_number,
                          fmt::format("key '{}': '{}' is not {}", key, Shorten(label),
                                      is_virus ? "<phylum>.<family group>.<virus name>:<accession>"
                                               : "<phylum>.<family group>")));
    };
    if (dot1 == std::string_view::npos || dot1 == 0) return bad();
    if (is_virus ? dot2 == std::string_view::npos : dot2 != std::string_view::npos) return bad();
    const std::size_t group_end = is_virus ? dot2 : label.size();
    record.family_group = label.substr(dot1 + 1, group_end - dot1 - 1);
    if (record.family_group.empty()) return bad();
    if (is_virus) {
      const std::string_view virus = label.substr(dot2 + 1);
      const std::size_t colon = virus.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == virus.size()) return bad();
      record.virus_name = virus.substr(0, colon);
      record.accession = virus.substr(colon + 1);
    }
    SLUICE_ASSIGN_OR_RETURN(record.phylum_name,
                            PhylumName(label.substr(0, dot1), key, line_number));
    if (record.family_group.starts_with("Unc")) {
      record.family_name = Unclassified(record.family_group.substr(3));
    } else {
      record.family_name = record.family_group.substr(0, record.family_group.find('-'));
      if (record.family_name.empty()) return bad();
    }
    return Ok();
  }

  /// "Unclassified-<number>", stored once per distinct number.
  std::string_view Unclassified(std::string_view number) {
    for (const auto& [key, owned] : unclassified_) {
      if (key == number) return *owned;
    }
    auto owned = std::make_unique<const std::string>(fmt::format("Unclassified-{}", number));
    const std::string_view view = *owned;
    unclassified_.emplace_back(number, owned.get());
    summary_.owned_.push_back(std::move(owned));
    return view;
  }

  /// Record ids are the tables' primary keys within a run (§2.3; each expansion is one-to-one
  /// with its id), so a repeated id would make the row insert fail: reject it here, naming both
  /// lines. When several ids repeat, the earliest second occurrence is reported.
  Status CheckUniqueIds() const {
    const auto& records = summary_.records_;
    if (records.size() < 3) return Ok();
    std::vector<std::uint32_t> order(records.size() - 1);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i + 1);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      const Record& ra = records[a];
      const Record& rb = records[b];
      if (ra.type != rb.type) return ra.type < rb.type;
      if (ra.id != rb.id) return ra.id < rb.id;
      return ra.line < rb.line;
    });
    const Record* first = nullptr;
    const Record* second = nullptr;
    for (std::size_t i = 1; i < order.size(); ++i) {
      const Record& a = records[order[i - 1]];
      const Record& b = records[order[i]];
      if (a.type == b.type && a.id == b.id && (second == nullptr || b.line < second->line)) {
        // `a` may itself repeat an earlier line; walk back to the first occurrence.
        std::size_t j = i - 1;
        while (j > 0 && records[order[j - 1]].type == b.type && records[order[j - 1]].id == b.id)
          --j;
        first = &records[order[j]];
        second = &b;
      }
    }
    if (second == nullptr) return Ok();
    return Fail(Corrupt(second->line,
                        fmt::format("duplicate {} '{}' (first on line {})", ToString(second->type),
                                    Shorten(second->id), first->line)));
  }

  const KindSpec& spec_;
  ParsedSummary summary_;
  std::string_view prefix_run_;  ///< protein/rdrp: the run id of line 1's `sra=` prefix
  std::size_t section_ = 0;      ///< index of the current section; never decreases
  std::vector<std::pair<std::string_view, const std::string*>> unclassified_;
};

Result<ParsedSummary> ParseSummary(SummaryKind kind, std::string text) {
  return SummaryParser(kind, std::move(text)).Parse();
}

}  // namespace sluice::serratus
