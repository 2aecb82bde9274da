// The 11 Serratus tables (research/serratus.md §2.3) and the rows a summary maps to.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/handlers/serratus/schema.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"

namespace sluice::serratus {
namespace {

/// "name:T" per column (T = t text, i integer, r real), for compact comparisons.
std::vector<std::string> Shape(const TableSchema& schema) {
  std::vector<std::string> shape;
  for (const Column& column : schema.columns) {
    const char type = column.type == ColumnType::Text      ? 't'
                      : column.type == ColumnType::Integer ? 'i'
                                                           : 'r';
    shape.push_back(column.name + ":" + type);
  }
  return shape;
}

using Strings = std::vector<std::string>;

TEST(SerratusSchema, NucleotideTablesMatchTheAuroraSchema) {
  const auto schemas = SchemasFor(SummaryKind::Nucleotide);
  ASSERT_EQ(schemas.size(), 3U);
  EXPECT_EQ(schemas[0].name, "nsra");
  EXPECT_EQ(Shape(schemas[0]),
            (Strings{"run_id:t", "read_length:i", "genome:t", "version:t", "date:t"}));
  EXPECT_EQ(schemas[0].primary_key, (Strings{"run_id"}));
  EXPECT_EQ(schemas[1].name, "nfamily");
  EXPECT_EQ(Shape(schemas[1]),
            (Strings{"run_id:t", "family_name:t", "coverage_bins:t", "score:i",
                     "percent_identity:i", "depth:r", "n_reads:i", "n_global_reads:i", "length:i",
                     "top_genbank_id:t", "top_score:i", "top_length:i", "top_name:t"}));
  EXPECT_EQ(schemas[1].primary_key, (Strings{"run_id", "family_name"}));
  EXPECT_EQ(schemas[2].name, "nsequence");
  EXPECT_EQ(Shape(schemas[2]),
            (Strings{"run_id:t", "family_name:t", "sequence_accession:t", "coverage_bins:t",
                     "score:i", "percent_identity:i", "depth:r", "n_reads:i", "n_global_reads:i",
                     "length:i", "virus_name:t"}));
  EXPECT_EQ(schemas[2].primary_key, (Strings{"run_id", "sequence_accession"}));
}

TEST(SerratusSchema, ProteinTablesMatchTheAuroraSchema) {
  const auto schemas = SchemasFor(SummaryKind::Protein);
  ASSERT_EQ(schemas.size(), 4U);
  EXPECT_EQ(schemas[0].name, "psra");
  EXPECT_EQ(Shape(schemas[0]), (Strings{"run_id:t", "read_length:i", "genome:t", "aligned_reads:i",
                                        "date:t", "truncated:t"}));
  EXPECT_EQ(schemas[1].name, "pfamily");
  EXPECT_EQ(Shape(schemas[1]), (Strings{"run_id:t", "family_name:t", "coverage_bins:t", "score:i",
                                        "percent_identity:i", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[1].primary_key, (Strings{"run_id", "family_name"}));
  EXPECT_EQ(schemas[2].name, "protein");
  EXPECT_EQ(Shape(schemas[2]),
            (Strings{"run_id:t", "family_name:t", "protein_name:t", "coverage_bins:t", "score:i",
                     "percent_identity:i", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[2].primary_key, (Strings{"run_id", "family_name", "protein_name"}));
  EXPECT_EQ(schemas[3].name, "psequence");
  EXPECT_EQ(Shape(schemas[3]), (Strings{"run_id:t", "family_name:t", "protein_name:t",
                                        "genbank_id:t", "coverage_bins:t", "score:i",
                                        "percent_identity:i", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[3].primary_key,
            (Strings{"run_id", "family_name", "protein_name", "genbank_id"}));
}

TEST(SerratusSchema, RdrpTablesMatchTheAuroraSchema) {
  const auto schemas = SchemasFor(SummaryKind::Rdrp);
  ASSERT_EQ(schemas.size(), 4U);
  EXPECT_EQ(schemas[0].name, "rsra");
  EXPECT_EQ(Shape(schemas[0]), (Strings{"run_id:t", "read_length:i", "genome:t", "aligned_reads:i",
                                        "date:t", "truncated:t"}));
  EXPECT_EQ(schemas[1].name, "rphylum");
  EXPECT_EQ(Shape(schemas[1]),
            (Strings{"run_id:t", "phylum_name:t", "coverage_bins:t", "score:i",
                     "percent_identity:i", "depth:r", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[1].primary_key, (Strings{"run_id", "phylum_name"}));
  EXPECT_EQ(schemas[2].name, "rfamily");
  EXPECT_EQ(
      Shape(schemas[2]),
      (Strings{"run_id:t", "phylum_name:t", "family_name:t", "family_group:t", "coverage_bins:t",
               "score:i", "percent_identity:i", "depth:r", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[2].primary_key, (Strings{"run_id", "phylum_name", "family_group"}));
  EXPECT_EQ(schemas[3].name, "rsequence");
  EXPECT_EQ(Shape(schemas[3]),
            (Strings{"run_id:t", "phylum_name:t", "family_name:t", "family_group:t", "virus_name:t",
                     "sequence_accession:t", "coverage_bins:t", "score:i", "percent_identity:i",
                     "depth:r", "n_reads:i", "aligned_length:i"}));
  EXPECT_EQ(schemas[3].primary_key,
            (Strings{"run_id", "phylum_name", "family_group", "virus_name", "sequence_accession"}));
}

TEST(SerratusSchema, ElevenTablesCanBeFoundByName) {
  for (const char* name : {"nsra", "nfamily", "nsequence", "psra", "pfamily", "protein",
                           "psequence", "rsra", "rphylum", "rfamily", "rsequence"}) {
    const TableSchema* schema = FindSchema(name);
    ASSERT_NE(schema, nullptr) << name;
    EXPECT_EQ(schema->name, name);
    EXPECT_EQ(schema->columns.front().name, "run_id");
  }
  EXPECT_EQ(FindSchema("rdrp"), nullptr);
}

TEST(SerratusSchema, RowsHaveOneValueOfTheColumnTypePerColumn) {
  const std::string rdrp =
      "sra=DRR015317;SUMZER_COMMENT=sra=DRR015317,genome=rdrp1,date=210109-10:00,type=protein;"
      "totalalns=3;readlength=100;truncated=no;\n"
      "sra=DRR015317;phycvg=_________________._______;phy=pisu;score=2;depth=0.1;pctid=50;alns=1;"
      "avgcols=26;\n"
      "sra=DRR015317;famcvg=_________________._______;fam=pisu.Unc159;score=2;depth=0.1;pctid=50;"
      "alns=1;avgcols=26;\n"
      "sra=DRR015317;vircvg=_________________._______;vir=pisu.Unc159.picalivirus_c:AFR11839;"
      "cat=n;score=2;depth=0.1;pctid=50;alns=1;avgcols=26;\n";
  auto parsed = ParseSummary(SummaryKind::Rdrp, rdrp);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const auto writes = MakePartitionWrites(*parsed);
  ASSERT_EQ(writes.size(), 4U);
  for (const PartitionWrite& write : writes) {
    EXPECT_EQ(write.partition_column, "run_id");
    EXPECT_EQ(std::get<std::string>(write.partition_value), "DRR015317");
    ASSERT_EQ(write.rows.size(), 1U) << write.schema->name;
    const Row& row = write.rows[0];
    ASSERT_EQ(row.size(), write.schema->columns.size()) << write.schema->name;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const ColumnType type = write.schema->columns[i].type;
      EXPECT_EQ(row[i].index(), type == ColumnType::Integer ? 1U
                                : type == ColumnType::Real  ? 2U
                                                            : 3U)
          << write.schema->name << "." << write.schema->columns[i].name;
    }
  }
  const Row& sequence = writes[3].rows[0];
  EXPECT_EQ(std::get<std::string>(sequence[1]), "Pisuviricota");
  EXPECT_EQ(std::get<std::string>(sequence[2]), "Unclassified-159");
  EXPECT_EQ(std::get<std::string>(sequence[3]), "Unc159");
  EXPECT_EQ(std::get<std::string>(sequence[4]), "picalivirus_c");
  EXPECT_EQ(std::get<std::string>(sequence[5]), "AFR11839");
  EXPECT_EQ(std::get<std::int64_t>(writes[0].rows[0][3]), 3);  // aligned_reads ← totalalns
}

TEST(SerratusSchema, TablesWithoutRecordsStillGetAnEmptyReplaceWrite) {
  auto parsed = ParseSummary(
      SummaryKind::Nucleotide,
      "readlength=0;SUMZER_COMMENT=sra=SRR1,genome=cov3ma,version=200818,date=200817-21:05;\n");
  ASSERT_TRUE(parsed);
  const auto writes = MakePartitionWrites(*parsed);
  ASSERT_EQ(writes.size(), 3U);
  EXPECT_EQ(writes[0].rows.size(), 1U);
  EXPECT_TRUE(writes[1].rows.empty());
  EXPECT_TRUE(writes[2].rows.empty());
  EXPECT_EQ(std::get<std::string>(writes[2].partition_value), "SRR1");
}

}  // namespace
}  // namespace sluice::serratus
