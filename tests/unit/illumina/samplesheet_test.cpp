// Samplesheets: every real sheet of shared/data/illumina and s3_upload's fixture, the
// formatting accidents of real files (CRLF, BOM, Excel commas, blank lines), sample_regex, and
// the choice among several sheets.

#include "sluice/handlers/illumina/samplesheet.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using testing::IlluminaData;
using testing::ReadFile;
using testing::S3UploadFixtures;

struct RealSheet {
  std::string path;  // under shared/data
  int version;
  std::string data_section;
  std::size_t rows;      // sample rows
  std::size_t distinct;  // distinct Sample_IDs
  std::string first_id;
  std::string last_id;
};

const std::vector<RealSheet>& RealSheets() {
  static const std::vector<RealSheet> sheets{
      {"illumina/miseq/130417_M00146_0021_000000000-A2WDF/SampleSheet.csv", 1, "Data", 1, 1,
       "Unique_Sample_ID", "Unique_Sample_ID"},
      {"illumina/miseq/180430_M05898_0007_000000000-BR92R/SampleSheet.csv", 1, "Data", 192, 192,
       "11288HJpool10__11155GE0097L01", "11288HJpool20__11288HJ1880L01"},
      {"illumina/miseq/180430_M05898_0007_000000000-BR92R/SampleSheet.csv.0", 1, "Data", 192, 192,
       "11288HJpool10__11155GE0097L01", "11288HJpool20__11288HJ1880L01"},
      {"illumina/novaseq6000/190927_A00689_0069_BHLYWYDSXX/CorrectSampleSheet.csv", 2,
       "BCLConvert_Data", 492, 123, "ACC6217A12", "ACC6152A10"},
      {"illumina/novaseq6000/201125_A00291_0321_AHWHKYDRXX/SampleSheet.csv", 1, "Data", 4, 2,
       "12010OCpool01__12010OC0001L01", "12010OCpool01__12010OC0002L01"},
      {"illumina/novaseqx/20231108_LH00188_0028_B22F52TLT3/CorrectSampleSheet.csv", 2,
       "BCLConvert_Data", 192, 24, "ACC13169A1", "ACC13087A21"},
      {"illumina/novaseqx/20231108_LH00188_0028_B22F52TLT3/SampleSheet.csv", 2, "BCLConvert_Data",
       192, 24, "ACC13169A1", "ACC13087A21"},
      {"s3_upload_fixtures/tests/e2e/test_data/example_samplesheet.csv", 1, "Data", 10, 10,
       "sample_1_assay_1", "sample_10_assay_1"},
  };
  return sheets;
}

TEST(SamplesheetRealData, EveryRealSamplesheetParses) {
  SLUICE_REQUIRE_SHARED(IlluminaData());
  // Every samplesheet-like file in the collection is in the table.
  std::size_t on_disk = 0;
  for (const auto& entry : fs::recursive_directory_iterator(IlluminaData())) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find("heet") != std::string::npos) ++on_disk;
  }
  EXPECT_EQ(on_disk + 1, RealSheets().size()) << "a new samplesheet: add it to RealSheets()";

  for (const RealSheet& real : RealSheets()) {
    SCOPED_TRACE(real.path);
    auto sheet = ParseSamplesheet(ReadFile(fs::path(SLUICE_SHARED_DIR "/data") / real.path));
    ASSERT_TRUE(sheet) << sheet.error().ToString();
    EXPECT_EQ(sheet->version, real.version);
    ASSERT_EQ(sheet->data.size(), 1u);
    EXPECT_EQ(sheet->data[0].name, real.data_section);
    EXPECT_EQ(sheet->data[0].samples.size(), real.rows);
    const auto ids = sheet->SampleIds();
    ASSERT_EQ(ids.size(), real.distinct);
    EXPECT_EQ(ids.front(), real.first_id);
    EXPECT_EQ(ids.back(), real.last_id);
  }
}

TEST(SamplesheetRealData, LaneFirstHeadersParseWhereS3UploadFailed) {
  // research §1.5: s3_upload returned None for these (bug B6).
  const fs::path path =
      IlluminaData() / "novaseq6000/190927_A00689_0069_BHLYWYDSXX/CorrectSampleSheet.csv";
  SLUICE_REQUIRE_SHARED(path);
  auto sheet = ParseSamplesheet(ReadFile(path));
  ASSERT_TRUE(sheet);
  const DataSection& data = sheet->data[0];
  EXPECT_EQ(data.sample_id_column, 1u);
  EXPECT_EQ(data.columns[0], "Lane");
  EXPECT_EQ(data.samples[0].lane, "1");
  EXPECT_EQ(data.header_line, 16);
  EXPECT_EQ(data.samples[0].line, 17);
}

TEST(SamplesheetRealData, FixtureSheetPassesTheExampleSampleRegex) {
  const fs::path path = S3UploadFixtures() / "tests/e2e/test_data/example_samplesheet.csv";
  SLUICE_REQUIRE_SHARED(path);
  auto sheet = ParseSamplesheet(ReadFile(path));
  ASSERT_TRUE(sheet);
  EXPECT_TRUE(SamplesNotMatching(*sheet, PyRegex::Compile("_assay_1").value()).empty());
  EXPECT_EQ(SamplesNotMatching(*sheet, PyRegex::Compile("_assay_2").value()).size(), 10u);
  EXPECT_EQ(
      SamplesNotMatching(*sheet, PyRegex::Compile("sample_1_").value()),
      (std::vector<std::string>{"sample_2_assay_1", "sample_3_assay_1", "sample_4_assay_1",
                                "sample_5_assay_1", "sample_6_assay_1", "sample_7_assay_1",
                                "sample_8_assay_1", "sample_9_assay_1", "sample_10_assay_1"}));
}

// ---------------------------------------------------------------------------------------------
// Synthetic formatting accidents

constexpr std::string_view kV1 =
    "[Header]\nIEMFileVersion,4\n\n[Reads]\n151\n151\n\n[Data]\n"
    "Sample_ID,Sample_Name,index\ns1_assay_1,s1,ACGT\ns2_assay_1,s2,TTTT\n";

std::vector<std::string> Ids(std::string_view text) {
  auto sheet = ParseSamplesheet(text);
  EXPECT_TRUE(sheet) << sheet.error().ToString();
  return sheet ? sheet->SampleIds() : std::vector<std::string>{};
}

TEST(ParseSamplesheet, ToleratesCrlfBomExcelCommasAndBlankLines) {
  const std::vector<std::string> expected{"s1_assay_1", "s2_assay_1"};
  std::string crlf;
  for (char c : kV1) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(Ids(crlf), expected);
  EXPECT_EQ(Ids("\xEF\xBB\xBF" + std::string(kV1)), expected);
  std::string cr = std::string(kV1);
  std::replace(cr.begin(), cr.end(), '\n', '\r');
  EXPECT_EQ(Ids(cr), expected);
  EXPECT_EQ(Ids("[Header],,,\r\nIEMFileVersion,4,,\r\n,,,\r\n[Data],,,\r\n"
                "Sample_ID,Sample_Name,index,\r\n s1_assay_1 ,s1,ACGT,\r\n,,,\r\n"
                "s2_assay_1,s2,TTTT,,,\r\n,,,\r\n\r\n\r\n"),
            expected);
  EXPECT_EQ(Ids("# comment\n\n[Data]\n\n\nSample_ID,index\n\ns1_assay_1,A\n\n\ns2_assay_1,C\n\n"),
            expected);
  EXPECT_EQ(
      Ids("[Data]\nSample_ID,Description\n\"s1_assay_1\",\"a, b\"\ns2_assay_1,\"say \"\"x\"\"\"\n"),
      expected);
}

TEST(ParseSamplesheet, DataSectionEndsAtTheNextSection) {
  // s3_upload read to the end of file, so [Cloud_Settings] rows became "samples" (§1.5).
  auto sheet = ParseSamplesheet(
      "[Header]\nFileFormatVersion,2\n[BCLConvert_Data]\nLane,Sample_ID,Index\n1,S1,AAAA\n"
      "2,S1,AAAA\n2,S2,CCCC\n[Cloud_Settings]\nGeneratedVersion,1.0\n[Cloud_Data]\n"
      "Sample_ID,ProjectName,LibraryName\nS1,P,L1\nS2,P,L2\n[Other]\nnot,a,sample\n");
  ASSERT_TRUE(sheet) << sheet.error().ToString();
  EXPECT_EQ(sheet->version, 2);
  ASSERT_EQ(sheet->data.size(), 2u);
  EXPECT_EQ(sheet->data[0].name, "BCLConvert_Data");
  EXPECT_EQ(sheet->data[0].samples.size(), 3u);
  EXPECT_EQ(sheet->data[1].name, "Cloud_Data");
  EXPECT_EQ(sheet->data[1].sample_id_column, 0u);
  EXPECT_EQ(sheet->SampleIds(), (std::vector<std::string>{"S1", "S2"}));
  EXPECT_EQ(sheet->sections.size(), 5u);
}

TEST(ParseSamplesheet, ReportsSheetsItCannotUse) {
  EXPECT_EQ(ParseSamplesheet("[Header]\nIEMFileVersion,4\n").error().code, ErrorCode::Corrupt);
  EXPECT_EQ(ParseSamplesheet("").error().code, ErrorCode::Corrupt);
  auto no_header = ParseSamplesheet("[Data]\nLane,Name\n1,x\n");
  ASSERT_FALSE(no_header);
  EXPECT_EQ(no_header.error().message,
            "line 1: section [Data] has no header row with a Sample_ID column");
  auto empty_id = ParseSamplesheet("[Data]\nLane,Sample_ID,index\n1,s1,A\n1,,C\n");
  ASSERT_FALSE(empty_id);
  EXPECT_EQ(empty_id.error().message, "line 4: [Data] row has an empty Sample_ID");
  // A data section with a header and no samples is valid; every (zero) sample matches.
  auto empty = ParseSamplesheet("[Data]\nSample_ID\n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(SamplesNotMatching(*empty, PyRegex::Compile("x").value()).empty());
}

TEST(IsSamplesheetName, FollowsS3UploadsNameRule) {
  // EG:tests/unit/test_io.py TestReadSamplesheetFromRunDirectory (research §1.5).
  for (const char* yes : {"SAMPLESHEET.CSV", "SampleSheet.csv", "samplesheet.csv",
                          "experiment_3-samplesheet_attempt_1.csv", "Sample-Sheet.csv",
                          "Sample Sheet.csv", "CorrectSampleSheet.csv"}) {
    EXPECT_TRUE(IsSamplesheetName(yes)) << yes;
  }
  for (const char* no : {"SampleSheet.txt", "samplesheet.tsv", "Samplesheet.xlsx", "samplesheet",
                         "sample_1.csv", "SampleSheet.csv.0"}) {
    EXPECT_FALSE(IsSamplesheetName(no)) << no;
  }
}

// ---------------------------------------------------------------------------------------------
// Choosing among several sheets

TEST(ChooseSamplesheet, IdenticalSheetsAreFine) {
  const std::vector<SamplesheetFile> files{{"SampleSheet_copy.csv", "x"},
                                           {"Run_SampleSheet.csv", "x"}};
  const SamplesheetChoice choice = ChooseSamplesheet(files);
  EXPECT_EQ(choice.kind, SamplesheetChoiceKind::Chosen);
  EXPECT_EQ(choice.chosen, "Run_SampleSheet.csv");
  EXPECT_TRUE(choice.reason.empty());
}

TEST(ChooseSamplesheet, DifferingSheetsPreferSampleSheetCsv) {
  const std::vector<SamplesheetFile> files{{"CorrectSampleSheet.csv", "new"},
                                           {"SampleSheet.csv", "old"}};
  const SamplesheetChoice choice = ChooseSamplesheet(files);
  EXPECT_EQ(choice.kind, SamplesheetChoiceKind::Chosen);
  EXPECT_EQ(choice.chosen, "SampleSheet.csv");
  EXPECT_EQ(choice.reason, "2 samplesheets with different content: using SampleSheet.csv");
}

TEST(ChooseSamplesheet, DifferingSheetsWithoutSampleSheetCsvAreHeldWithTheirNames) {
  const std::vector<SamplesheetFile> files{{"SampleSheet_v2.csv", "b"},
                                           {"CorrectSampleSheet.csv", "a"}};
  const SamplesheetChoice choice = ChooseSamplesheet(files);
  EXPECT_EQ(choice.kind, SamplesheetChoiceKind::Held);
  EXPECT_TRUE(choice.chosen.empty());
  EXPECT_EQ(choice.names,
            (std::vector<std::string>{"CorrectSampleSheet.csv", "SampleSheet_v2.csv"}));
  EXPECT_EQ(choice.reason,
            "2 samplesheets with different content and no SampleSheet.csv: "
            "CorrectSampleSheet.csv, SampleSheet_v2.csv");
}

TEST(ChooseSamplesheet, NoSheetIsMissing) {
  EXPECT_EQ(ChooseSamplesheet({}).kind, SamplesheetChoiceKind::Missing);
}

}  // namespace
}  // namespace sluice::illumina
