// Pure run-folder rules: object keys (s3_upload bugs B4/B5), Python regex translation, the
// instrument guess on every XML example, marker ranks and upload order, max_age.

#include "sluice/handlers/illumina/run_rules.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using testing::IlluminaData;
using testing::ReadFile;

// ---------------------------------------------------------------------------------------------
// Keys

TEST(BuildObjectKey, MatchesS3UploadsExpectedKeys) {
  // EG:tests/unit/test_upload.py (research §1.7 table).
  EXPECT_EQ(BuildObjectKey("/bucket_dir1/", "run1", "Samplesheet.csv").value(),
            "bucket_dir1/run1/Samplesheet.csv");
  EXPECT_EQ(BuildObjectKey("/bucket_dir_1/bucket_dir_2", "run1", "Samplesheet.csv").value(),
            "bucket_dir_1/bucket_dir_2/run1/Samplesheet.csv");
  EXPECT_EQ(BuildObjectKey("/", "run1", "Samplesheet.csv").value(), "run1/Samplesheet.csv");
}

TEST(BuildObjectKey, NormalisesRemotePathsAndNeverLeaksTheParentPath) {
  EXPECT_EQ(BuildObjectKey("", "run_A", "RunInfo.xml").value(), "run_A/RunInfo.xml");
  EXPECT_EQ(BuildObjectKey("//a//./b/", "run_A", "Data/x.cbcl").value(), "a/b/run_A/Data/x.cbcl");
  EXPECT_EQ(BuildObjectKey("seq+1 (A)[x]?*", "run_A", "RunInfo.xml").value(),
            "seq+1 (A)[x]?*/run_A/RunInfo.xml");
  // Odd characters in file names are kept as they are.
  EXPECT_EQ(BuildObjectKey("/", "run A+(1)", "Logs/a b#c%.log").value(),
            "run A+(1)/Logs/a b#c%.log");
  EXPECT_EQ(RunKeyPrefix("/x/", "run_A").value(), "x/run_A/");
  EXPECT_EQ(RunKeyPrefix("/", "run_A").value(), "run_A/");
}

TEST(BuildObjectKey, RejectsPathsThatWouldEscapeTheRun) {
  EXPECT_FALSE(BuildObjectKey("/a/../b", "run", "x"));
  EXPECT_FALSE(BuildObjectKey("/", "", "x"));
  EXPECT_FALSE(BuildObjectKey("/", "..", "x"));
  EXPECT_FALSE(BuildObjectKey("/", "a/b", "x"));
  EXPECT_FALSE(BuildObjectKey("/", "run", ""));
  EXPECT_FALSE(BuildObjectKey("/", "run", "/abs"));
  EXPECT_FALSE(BuildObjectKey("/", "run", "a/../b"));
  EXPECT_FALSE(BuildObjectKey("/", "run", "a//b"));
  EXPECT_EQ(BuildObjectKey("/", "run", std::string(1100, 'x')).error().code,
            ErrorCode::InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Python regexes

TEST(PyRegex, SearchesAnywhereLikeReSearch) {
  auto regex = PyRegex::Compile("_assay_1_code_|_assay_code_2_");
  ASSERT_TRUE(regex);
  EXPECT_TRUE(regex->Search("sample_1_assay_1_code_x"));
  EXPECT_TRUE(regex->Search("x_assay_code_2_"));
  EXPECT_FALSE(regex->Search("sample_assay_3"));
}

TEST(PyRegex, TranslatesPythonOnlySyntax) {
  EXPECT_TRUE(PyRegex::Compile("(?P<assay>assay_\\d+)")->Search("s_assay_12"));
  EXPECT_TRUE(PyRegex::Compile("(?i)thumbnail")->Search("/run/Thumbnail_Images/a.jpg"));
  EXPECT_TRUE(PyRegex::Compile("\\Arun(?#comment)_1\\Z")->Search("run_1"));
  EXPECT_FALSE(PyRegex::Compile("\\Arun_1\\Z")->Search("a run_1"));
  EXPECT_TRUE(PyRegex::Compile("a{,2}b")->Search("aab"));
  EXPECT_TRUE(PyRegex::Compile("a{b")->Search("a{b"));  // a literal '{' in Python
  EXPECT_TRUE(PyRegex::Compile("[]x]")->Search("]"));
  EXPECT_EQ(TranslatePythonRegex("(?P<n>a)[^]b]{,3}\\Z")->ecmascript, "(a)[^\\]b]{0,3}$");
}

TEST(PyRegex, ReportsWhatStdRegexCannotDo) {
  EXPECT_EQ(PyRegex::Compile("(?<=x)y").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(PyRegex::Compile("(?P<a>x)(?P=a)").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(PyRegex::Compile("(?i:x)").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(PyRegex::Compile("(?x) a b").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(PyRegex::Compile("a*+").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(PyRegex::Compile("(unclosed").error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(PyRegex::Compile("x\\").error().code, ErrorCode::InvalidArgument);
}

TEST(ExcludeFilter, EmptyFilterExcludesNothingAndBadPatternIsNamed) {
  EXPECT_FALSE(ExcludeFilter().Excludes("/a/b"));
  const std::vector<std::string> patterns{"ok", "(bad"};
  auto filter = ExcludeFilter::Compile(patterns);
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().context.find("exclude_patterns[1]"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Instruments

TEST(GuessInstrument, EveryXmlExampleGivesItsInstrument) {
  const fs::path examples = IlluminaData() / "xml_examples";
  SLUICE_REQUIRE_SHARED(examples);
  // File-name stem after "runParameters." / "RunParameters." → expected family.
  const std::vector<std::pair<std::string, Instrument>> by_stem{
      {"hiseq", Instrument::HiSeq},
      {"miseq", Instrument::MiSeq},
      {"nextseq", Instrument::NextSeq500},
      {"novaseqx", Instrument::NovaSeqX},
      {"novaseq", Instrument::NovaSeq6000}};
  int checked = 0;
  for (const char* sub : {"run_params", "run_info"}) {
    for (const auto& entry : fs::directory_iterator(examples / sub)) {
      const std::string name = entry.path().filename().string();
      SCOPED_TRACE(name);
      const std::string stem = name.substr(name.find('.') + 1);
      Instrument expected = Instrument::Unknown;
      for (const auto& [prefix, instrument] : by_stem) {
        if (stem.starts_with(prefix)) {
          expected = instrument;
          break;
        }
      }
      const std::string xml = ReadFile(entry.path());
      const InstrumentGuess guess =
          std::string(sub) == "run_params" ? GuessInstrument(xml, "") : GuessInstrument("", xml);
      if (name == "runInfo.nextseq.xml" || name == "runInfo.novaseqx.xml") {
        // Instrument ids "ML-PT1-15" and "Pi1-9" (pre-production instruments) have no known
        // prefix: only RunParameters tells.
        EXPECT_EQ(guess.instrument, Instrument::Unknown);
      } else {
        EXPECT_EQ(guess.instrument, expected) << guess.evidence;
        EXPECT_FALSE(guess.evidence.empty());
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 36);
}

TEST(GuessInstrument, RunParametersWinsOverTheInstrumentId) {
  const InstrumentGuess guess = GuessInstrument(
      "<RunParameters><Application>control-software</Application>"
      "<InstrumentType>NovaSeqXPlus</InstrumentType></RunParameters>",
      "<RunInfo><Run Id=\"r\" Number=\"1\"><Flowcell>22F52TLT3</Flowcell>"
      "<Instrument>A00001</Instrument></Run></RunInfo>");
  EXPECT_EQ(guess.instrument, Instrument::NovaSeqX);
  EXPECT_EQ(guess.evidence, "RunParameters.xml InstrumentType 'NovaSeqXPlus'");
  EXPECT_EQ(guess.run_id, "r");
  EXPECT_EQ(guess.flowcell, "22F52TLT3");
  EXPECT_EQ(GuessInstrument("not xml",
                            "<RunInfo><Run><Instrument>MN00123</Instrument></Run>"
                            "</RunInfo>")
                .instrument,
            Instrument::MiniSeq);
  EXPECT_EQ(GuessInstrument("", "").instrument, Instrument::Unknown);
}

// ---------------------------------------------------------------------------------------------
// Completion rule and markers

TEST(EvaluateCompletion, CopyCompleteIsRequiredOnUcsInstrumentsOnly) {
  const std::vector<std::string> rta{"RunInfo.xml", "RTAComplete.txt"};
  InstrumentGuess novaseq;
  novaseq.instrument = Instrument::NovaSeqX;
  EXPECT_FALSE(EvaluateCompletion(rta, novaseq, CompletionPolicy::PerInstrument).complete);
  EXPECT_TRUE(EvaluateCompletion(rta, novaseq, CompletionPolicy::AnyMarker).complete);
  InstrumentGuess miseq;
  miseq.instrument = Instrument::MiSeq;
  EXPECT_TRUE(EvaluateCompletion(rta, miseq, CompletionPolicy::PerInstrument).complete);
  const std::vector<std::string> xml{"RunInfo.xml", "RTAComplete.xml"};
  EXPECT_TRUE(EvaluateCompletion(xml, InstrumentGuess{}, CompletionPolicy::PerInstrument).complete);
  const std::vector<std::string> both{"RunInfo.xml", "RTAComplete.txt", "CopyComplete.txt"};
  EXPECT_EQ(EvaluateCompletion(both, miseq, CompletionPolicy::PerInstrument).marker,
            "CopyComplete.txt");
}

TEST(MarkerRank, MarkersAreRootFilesInInstrumentOrder) {
  EXPECT_EQ(MarkerRank("RTARead1Complete.txt"), 1);
  EXPECT_EQ(MarkerRank("ImageAnalysis_Netcopy_complete_Read2.txt"), 1);
  EXPECT_EQ(MarkerRank("RTAComplete.txt"), 2);
  EXPECT_EQ(MarkerRank("RTAComplete.xml"), 2);
  EXPECT_EQ(MarkerRank("SequenceComplete.txt"), 3);
  EXPECT_EQ(MarkerRank("CopyComplete.txt"), 4);
  EXPECT_EQ(MarkerRank("Analysis/2/CopyComplete.txt"), 0);
  EXPECT_EQ(MarkerRank("RunInfo.xml"), 0);
}

TEST(SortForUpload, LargestFirstThenMarkersInOrder) {
  std::vector<RunFile> files{
      {"CopyComplete.txt", 0, {}, 4, false},     {"small", 1, {}, 0, false},
      {"RTAComplete.txt", 5, {}, 2, false},      {"big", 100, {}, 0, false},
      {"SequenceComplete.txt", 0, {}, 3, false}, {"also_small", 1, {}, 0, false}};
  SortForUpload(files);
  std::vector<std::string> order;
  for (const auto& file : files) order.push_back(file.relative_path);
  EXPECT_EQ(order, (std::vector<std::string>{"big", "also_small", "small", "RTAComplete.txt",
                                             "SequenceComplete.txt", "CopyComplete.txt"}));
}

// ---------------------------------------------------------------------------------------------
// max_age

TEST(DecideEligibility, FollowsS3UploadsMaxAgeRule) {
  using std::chrono::hours;
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(DecideEligibility(UploadState::New, now - hours(71), now, kDefaultMaxAge),
            RunEligibility::Upload);
  EXPECT_EQ(DecideEligibility(UploadState::New, now - hours(72), now, kDefaultMaxAge),
            RunEligibility::TooOld);  // strictly newer than now - max_age
  EXPECT_EQ(DecideEligibility(UploadState::Partial, now - hours(1000), now, kDefaultMaxAge),
            RunEligibility::Resume);
  EXPECT_EQ(DecideEligibility(UploadState::Uploaded, now, now, kDefaultMaxAge),
            RunEligibility::AlreadyUploaded);
  EXPECT_EQ(ToString(RunEligibility::TooOld), "too old");
}

}  // namespace
}  // namespace sluice::illumina
