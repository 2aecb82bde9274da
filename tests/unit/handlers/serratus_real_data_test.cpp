// Acceptance test on real data (research/serratus.md §4): the summary2 of ERR2756788 as
// reconstructed from serratus.io's parsed JSON must parse back to exactly that JSON — every key,
// in file order, every value — and cast as the uploader casts (§2.2 INT_KEYS / DBL_KEYS).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sluice/handlers/serratus/schema.hpp"
#include "sluice/handlers/serratus/summary_json.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"

namespace sluice::serratus {
namespace {

const std::filesystem::path kSerratusData = SLUICE_SHARED_DIR "/data/serratus";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// Checks one record against its JSON object (key order and string values), and the casts.
void ExpectRecordMatches(const ParsedSummary& summary, const Record& record,
                         const nlohmann::ordered_json& expected) {
  const auto fields = summary.Fields(record);
  ASSERT_EQ(fields.size(), expected.size()) << "line " << record.line;
  std::size_t i = 0;
  for (const auto& [key, value] : expected.items()) {
    const Field& field = fields[i++];
    SCOPED_TRACE(::testing::Message() << "line " << record.line << " key " << key);
    EXPECT_EQ(field.key, key);
    EXPECT_EQ(field.text, value.get<std::string>());
    if (key == "depth") {
      EXPECT_EQ(field.type, FieldType::Real);
      EXPECT_DOUBLE_EQ(field.real, std::stod(value.get<std::string>()));
    } else if (key == "score" || key == "pctid" || key == "aln" || key == "glb" || key == "len" ||
               key == "topscore" || key == "toplen" || key == "readlength") {
      EXPECT_EQ(field.type, FieldType::Integer);
      EXPECT_EQ(field.integer, std::stoll(value.get<std::string>()));
    } else {
      EXPECT_EQ(field.type, FieldType::Text);
    }
  }
}

class Err2756788 : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto summary_path = kSerratusData / "derived/ERR2756788.summary.reconstructed";
    const auto json_path = kSerratusData / "summary2_parsed_json/ERR2756788.json";
    if (!std::filesystem::exists(summary_path) || !std::filesystem::exists(json_path)) {
      GTEST_SKIP() << "shared Serratus data not found under " << kSerratusData
                   << " (research/serratus.md §4)";
    }
    text_ = ReadFile(summary_path);
    expected_ = nlohmann::ordered_json::parse(ReadFile(json_path));
  }

  std::string text_;
  nlohmann::ordered_json expected_;
};

TEST_F(Err2756788, ParsesToExactlyTheRecordsOfTheParsedJson) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, text_);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const ParsedSummary& summary = *parsed;
  EXPECT_EQ(summary.RunId(), "ERR2756788");
  EXPECT_EQ(summary.Count(RecordType::Run), 1U);
  ASSERT_EQ(summary.Count(RecordType::Family), 12U);
  ASSERT_EQ(summary.Count(RecordType::Sequence), 349U);
  ASSERT_EQ(expected_["families"].size(), 12U);
  ASSERT_EQ(expected_["sequences"].size(), 349U);

  ExpectRecordMatches(summary, summary.Run(), expected_["properties"]);
  const auto records = summary.Records();
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(records[1 + i].type, RecordType::Family);
    EXPECT_EQ(records[1 + i].line, static_cast<int>(2 + i));
    ExpectRecordMatches(summary, records[1 + i], expected_["families"][i]);
  }
  std::size_t names_with_semicolon = 0;
  for (std::size_t i = 0; i < 349; ++i) {
    const Record& record = records[13 + i];
    EXPECT_EQ(record.type, RecordType::Sequence);
    ExpectRecordMatches(summary, record, expected_["sequences"][i]);
    if (summary.Find(record, "name")->text.find(';') != std::string_view::npos) {
      ++names_with_semicolon;
    }
  }
  EXPECT_EQ(names_with_semicolon, 9U);  // §1.1: 9 of 349 names hold a ';'
}

TEST_F(Err2756788, EraARunObjectIsThePropertiesDict) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, text_);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(nlohmann::ordered_json::parse(FormatEraARecord(*parsed, parsed->Run())),
            expected_["properties"]);
  // A family object is the family dict plus "run".
  auto family = expected_["families"][1];
  family["run"] = "ERR2756788";
  EXPECT_EQ(nlohmann::ordered_json::parse(FormatEraARecord(*parsed, parsed->Records()[2])), family);
}

TEST_F(Err2756788, MapsToOneRunTwelveFamilyAndThreeHundredFortyNineSequenceRows) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, text_);
  ASSERT_TRUE(parsed);
  const auto writes = MakePartitionWrites(*parsed);
  ASSERT_EQ(writes.size(), 3U);
  EXPECT_EQ(writes[0].schema->name, "nsra");
  EXPECT_EQ(writes[0].rows.size(), 1U);
  EXPECT_EQ(writes[1].rows.size(), 12U);
  EXPECT_EQ(writes[2].rows.size(), 349U);
  const Row& corona = writes[1].rows[1];
  EXPECT_EQ(std::get<std::string>(corona[0]), "ERR2756788");
  EXPECT_EQ(std::get<std::string>(corona[1]), "Coronaviridae");
  EXPECT_EQ(std::get<std::int64_t>(corona[7]), 4730);  // n_global_reads
  EXPECT_DOUBLE_EQ(std::get<double>(corona[5]), 36.3);
}

}  // namespace
}  // namespace sluice::serratus
