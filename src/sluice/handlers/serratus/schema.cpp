#include "sluice/handlers/serratus/schema.hpp"

#include <array>
#include <string>

namespace sluice::serratus {

namespace {

Column Text(std::string name) { return Column{std::move(name), ColumnType::Text}; }
Column Integer(std::string name) { return Column{std::move(name), ColumnType::Integer}; }
Column Real(std::string name) { return Column{std::move(name), ColumnType::Real}; }

// Column lists and order: research/serratus.md §2.3 (uploader name_map in file order; the rdrp
// family/sequence order follows serratus-summary-utils' CSV headers quoted there).

const std::array<TableSchema, 3>& NucleotideSchemas() {
  static const std::array<TableSchema, 3> schemas{{
      {"nsra",
       {Text("run_id"), Integer("read_length"), Text("genome"), Text("version"), Text("date")},
       {"run_id"}},
      {"nfamily",
       {Text("run_id"), Text("family_name"), Text("coverage_bins"), Integer("score"),
        Integer("percent_identity"), Real("depth"), Integer("n_reads"), Integer("n_global_reads"),
        Integer("length"), Text("top_genbank_id"), Integer("top_score"), Integer("top_length"),
        Text("top_name")},
       {"run_id", "family_name"}},
      {"nsequence",
       {Text("run_id"), Text("family_name"), Text("sequence_accession"), Text("coverage_bins"),
        Integer("score"), Integer("percent_identity"), Real("depth"), Integer("n_reads"),
        Integer("n_global_reads"), Integer("length"), Text("virus_name")},
       {"run_id", "sequence_accession"}},
  }};
  return schemas;
}

const std::array<TableSchema, 4>& ProteinSchemas() {
  static const std::array<TableSchema, 4> schemas{{
      {"psra",
       {Text("run_id"), Integer("read_length"), Text("genome"), Integer("aligned_reads"),
        Text("date"), Text("truncated")},
       {"run_id"}},
      {"pfamily",
       {Text("run_id"), Text("family_name"), Text("coverage_bins"), Integer("score"),
        Integer("percent_identity"), Integer("n_reads"), Integer("aligned_length")},
       {"run_id", "family_name"}},
      {"protein",
       {Text("run_id"), Text("family_name"), Text("protein_name"), Text("coverage_bins"),
        Integer("score"), Integer("percent_identity"), Integer("n_reads"),
        Integer("aligned_length")},
       {"run_id", "family_name", "protein_name"}},
      {"psequence",
       {Text("run_id"), Text("family_name"), Text("protein_name"), Text("genbank_id"),
        Text("coverage_bins"), Integer("score"), Integer("percent_identity"), Integer("n_reads"),
        Integer("aligned_length")},
       {"run_id", "family_name", "protein_name", "genbank_id"}},
  }};
  return schemas;
}

const std::array<TableSchema, 4>& RdrpSchemas() {
  static const std::array<TableSchema, 4> schemas{{
      {"rsra",
       {Text("run_id"), Integer("read_length"), Text("genome"), Integer("aligned_reads"),
        Text("date"), Text("truncated")},
       {"run_id"}},
      {"rphylum",
       {Text("run_id"), Text("phylum_name"), Text("coverage_bins"), Integer("score"),
        Integer("percent_identity"), Real("depth"), Integer("n_reads"), Integer("aligned_length")},
       {"run_id", "phylum_name"}},
      {"rfamily",
       {Text("run_id"), Text("phylum_name"), Text("family_name"), Text("family_group"),
        Text("coverage_bins"), Integer("score"), Integer("percent_identity"), Real("depth"),
        Integer("n_reads"), Integer("aligned_length")},
       {"run_id", "phylum_name", "family_group"}},
      {"rsequence",
       {Text("run_id"), Text("phylum_name"), Text("family_name"), Text("family_group"),
        Text("virus_name"), Text("sequence_accession"), Text("coverage_bins"), Integer("score"),
        Integer("percent_identity"), Real("depth"), Integer("n_reads"), Integer("aligned_length")},
       {"run_id", "phylum_name", "family_group", "virus_name", "sequence_accession"}},
  }};
  return schemas;
}

/// Builds the cells of one row from a record; `Key` copies a field's cast value.
class RowBuilder {
 public:
  RowBuilder(const ParsedSummary& summary, const Record& record, std::size_t columns)
      : summary_(summary), record_(record) {
    row_.reserve(columns);
    row_.emplace_back(std::string(summary.RunId()));
  }
  RowBuilder& Key(std::string_view key) {
    const Field* field = summary_.Find(record_, key);
    if (field == nullptr) {
      row_.emplace_back(std::monostate{});
    } else if (field->type == FieldType::Integer) {
      row_.emplace_back(field->integer);
    } else if (field->type == FieldType::Real) {
      row_.emplace_back(field->real);
    } else {
      row_.emplace_back(std::string(field->text));
    }
    return *this;
  }
  RowBuilder& Text(std::string_view text) {
    row_.emplace_back(std::string(text));
    return *this;
  }
  Row Take() && { return std::move(row_); }

 private:
  const ParsedSummary& summary_;
  const Record& record_;
  Row row_;
};

Row NucleotideRow(const ParsedSummary& s, const Record& r, std::size_t columns) {
  RowBuilder b(s, r, columns);
  switch (r.type) {
    case RecordType::Run:
      b.Key("readlength").Key("genome").Key("version").Key("date");
      break;
    case RecordType::Family:
      b.Key("fam")
          .Key("famcvg")
          .Key("score")
          .Key("pctid")
          .Key("depth")
          .Key("aln")
          .Key("glb")
          .Key("len")
          .Key("top")
          .Key("topscore")
          .Key("toplen")
          .Key("topname");
      break;
    default:  // Sequence
      b.Key("family")
          .Key("seq")
          .Key("seqcvg")
          .Key("score")
          .Key("pctid")
          .Key("depth")
          .Key("aln")
          .Key("glb")
          .Key("len")
          .Key("name");
      break;
  }
  return std::move(b).Take();
}

Row ProteinRow(const ParsedSummary& s, const Record& r, std::size_t columns) {
  RowBuilder b(s, r, columns);
  switch (r.type) {
    case RecordType::Run:
      b.Key("readlength").Key("genome").Key("totalalns").Key("date").Key("truncated");
      break;
    case RecordType::Family:
      b.Key("fam").Key("famcvg");
      break;
    case RecordType::Protein:
      b.Text(r.family_name).Text(r.protein_name).Key("gencvg");
      break;
    default:  // Sequence
      b.Text(r.family_name).Text(r.protein_name).Text(r.accession).Key("seqcvg");
      break;
  }
  if (r.type != RecordType::Run) b.Key("score").Key("pctid").Key("alns").Key("avgcols");
  return std::move(b).Take();
}

Row RdrpRow(const ParsedSummary& s, const Record& r, std::size_t columns) {
  RowBuilder b(s, r, columns);
  switch (r.type) {
    case RecordType::Run:
      b.Key("readlength").Key("genome").Key("totalalns").Key("date").Key("truncated");
      break;
    case RecordType::Phylum:
      b.Text(r.phylum_name).Key("phycvg");
      break;
    case RecordType::Family:
      b.Text(r.phylum_name).Text(r.family_name).Text(r.family_group).Key("famcvg");
      break;
    default:  // Sequence (vircvg)
      b.Text(r.phylum_name)
          .Text(r.family_name)
          .Text(r.family_group)
          .Text(r.virus_name)
          .Text(r.accession)
          .Key("vircvg");
      break;
  }
  if (r.type != RecordType::Run) {
    b.Key("score").Key("pctid").Key("depth").Key("alns").Key("avgcols");
  }
  return std::move(b).Take();
}

/// Index of a record type's table within SchemasFor(kind).
std::size_t TableIndex(SummaryKind kind, RecordType type) {
  switch (type) {
    case RecordType::Run:
      return 0;
    case RecordType::Phylum:
      return 1;
    case RecordType::Family:
      return kind == SummaryKind::Rdrp ? 2 : 1;
    case RecordType::Protein:
      return 2;
    case RecordType::Sequence:
      return kind == SummaryKind::Nucleotide ? 2 : 3;
  }
  return 0;
}

}  // namespace

std::span<const TableSchema> SchemasFor(SummaryKind kind) {
  switch (kind) {
    case SummaryKind::Nucleotide:
      return NucleotideSchemas();
    case SummaryKind::Protein:
      return ProteinSchemas();
    case SummaryKind::Rdrp:
      break;
  }
  return RdrpSchemas();
}

const TableSchema* FindSchema(std::string_view name) {
  for (const SummaryKind kind :
       {SummaryKind::Nucleotide, SummaryKind::Protein, SummaryKind::Rdrp}) {
    for (const TableSchema& schema : SchemasFor(kind)) {
      if (schema.name == name) return &schema;
    }
  }
  return nullptr;
}

std::vector<PartitionWrite> MakePartitionWrites(const ParsedSummary& summary) {
  const SummaryKind kind = summary.Kind();
  const std::span<const TableSchema> schemas = SchemasFor(kind);
  std::vector<PartitionWrite> writes(schemas.size());
  for (std::size_t i = 0; i < schemas.size(); ++i) {
    writes[i].schema = &schemas[i];
    writes[i].partition_column = std::string(kRunIdColumn);
    writes[i].partition_value = std::string(summary.RunId());
  }
  for (const Record& record : summary.Records()) {
    const std::size_t table = TableIndex(kind, record.type);
    const std::size_t columns = schemas[table].columns.size();
    switch (kind) {
      case SummaryKind::Nucleotide:
        writes[table].rows.push_back(NucleotideRow(summary, record, columns));
        break;
      case SummaryKind::Protein:
        writes[table].rows.push_back(ProteinRow(summary, record, columns));
        break;
      case SummaryKind::Rdrp:
        writes[table].rows.push_back(RdrpRow(summary, record, columns));
        break;
    }
  }
  return writes;
}

}  // namespace sluice::serratus
