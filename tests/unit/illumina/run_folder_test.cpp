// Run folders on disk: completion of every real run folder in shared/data/illumina, the file
// listing policy (dot-files, symlinks, excludes, markers), samplesheet discovery, state-log
// files and atomic writes.

#include "sluice/handlers/illumina/run_folder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "support/temp_dir.hpp"
#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina {
namespace {

namespace fs = std::filesystem;
using sluice::testing::TempDir;
using testing::IlluminaData;
using testing::WriteFile;

struct Expected {
  bool is_run;
  bool complete;             // PerInstrument
  bool complete_any_marker;  // s3_upload's rule
  Instrument instrument;
  std::string_view marker;  // PerInstrument
};

// Every run folder of shared/data/illumina (research §4), what its markers say.
const std::map<std::string, Expected>& RealRuns() {
  static const std::map<std::string, Expected> runs{
      {"hiseq2500/140923_SN7001179_0208_BC59Y4ACXX", {true, false, false, Instrument::HiSeq, ""}},
      {"miseq/130417_M00146_0021_000000000-A2WDF", {true, false, false, Instrument::MiSeq, ""}},
      {"miseq/180430_M05898_0007_000000000-BR92R", {true, false, false, Instrument::MiSeq, ""}},
      {"nextseq2000/200722_VH00123_5_AAAFWVYM5",
       {false, false, false, Instrument::NextSeq2000, ""}},
      {"nextseq500/170609_NB551051_0017_AHLFFJBGX2",
       {true, true, true, Instrument::NextSeq500, "RTAComplete.txt"}},
      {"novaseq6000/190927_A00689_0069_BHLYWYDSXX",
       {true, true, true, Instrument::NovaSeq6000, "CopyComplete.txt"}},
      {"novaseq6000/200624_A00834_0183_BHMTFYDRXX",
       {true, false, false, Instrument::NovaSeq6000, ""}},
      // Only RTAComplete.txt: enough for s3_upload, not for a NovaSeq (TACA#308).
      {"novaseq6000/201125_A00291_0321_AHWHKYDRXX",
       {true, false, true, Instrument::NovaSeq6000, ""}},
      {"novaseqx/20230418_LH00130_0003_B223YTFLT3", {true, false, false, Instrument::NovaSeqX, ""}},
      {"novaseqx/20231108_LH00188_0028_B22F52TLT3",
       {true, true, true, Instrument::NovaSeqX, "CopyComplete.txt"}},
      {"novaseqx/20251210_LH00224_0271_B23FF7CLT4", {true, false, false, Instrument::NovaSeqX, ""}},
  };
  return runs;
}

TEST(RunCompletionRealData, EveryRealRunFolderIsJudgedAsItsMarkersSay) {
  SLUICE_REQUIRE_SHARED(IlluminaData());
  int checked = 0;
  for (const auto& instrument_dir : fs::directory_iterator(IlluminaData())) {
    if (!instrument_dir.is_directory() || instrument_dir.path().filename() == "xml_examples") {
      continue;
    }
    for (const auto& run_dir : fs::directory_iterator(instrument_dir.path())) {
      const std::string name =
          instrument_dir.path().filename().string() + "/" + run_dir.path().filename().string();
      SCOPED_TRACE(name);
      const auto it = RealRuns().find(name);
      ASSERT_NE(it, RealRuns().end()) << "new fixture: add its expectation to RealRuns()";
      const Expected& expected = it->second;

      auto completion = CheckRunCompletion(run_dir.path());
      ASSERT_TRUE(completion) << completion.error().ToString();
      EXPECT_EQ(completion->is_run, expected.is_run);
      EXPECT_EQ(completion->complete, expected.complete) << completion->reason;
      EXPECT_EQ(completion->instrument.instrument, expected.instrument)
          << completion->instrument.evidence;
      EXPECT_EQ(completion->marker, expected.marker);
      EXPECT_EQ(completion->reason.empty(), expected.complete);

      auto any = CheckRunCompletion(run_dir.path(), CompletionPolicy::AnyMarker);
      ASSERT_TRUE(any);
      EXPECT_EQ(any->complete, expected.complete_any_marker);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(RealRuns().size()));
}

TEST(RunCompletionRealData, NovaSeqWithOnlyRtaCompleteSaysWhatItWaitsFor) {
  const fs::path run = IlluminaData() / "novaseq6000/201125_A00291_0321_AHWHKYDRXX";
  SLUICE_REQUIRE_SHARED(run);
  auto completion = CheckRunCompletion(run);
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->reason,
            "NovaSeq 6000 run: waiting for CopyComplete.txt (present: RTAComplete.txt)");
  EXPECT_EQ(completion->instrument.instrument_id, "A00291");
  EXPECT_EQ(completion->instrument.flowcell, "HWHKYDRXX");
}

TEST(RunCompletionRealData, NextSeqListsAllItsMarkers) {
  const fs::path run = IlluminaData() / "nextseq500/170609_NB551051_0017_AHLFFJBGX2";
  SLUICE_REQUIRE_SHARED(run);
  auto completion = CheckRunCompletion(run);
  ASSERT_TRUE(completion);
  EXPECT_EQ(
      completion->markers_present,
      (std::vector<std::string>{"RTAComplete.txt", "RTARead1Complete.txt", "RTARead2Complete.txt",
                                "RTARead3Complete.txt", "RunCompletionStatus.xml"}));
  EXPECT_EQ(completion->instrument.evidence,
            "RunParameters.xml ApplicationName 'NextSeq Control Software'");
}

TEST(RunCompletion, OldMiSeqNetcopyMarkerCompletesTheRun) {
  TempDir dir;
  const fs::path run = dir / "150602_M01270_0108_000000000-ADWKV";
  WriteFile(run / "RunInfo.xml",
            "<RunInfo><Run Id=\"x\"><Instrument>M01270</Instrument></Run></RunInfo>");
  WriteFile(run / "ImageAnalysis_Netcopy_complete_Read1.txt", "03-Jun-15");
  auto waiting = CheckRunCompletion(run);
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(waiting->complete);
  EXPECT_EQ(waiting->instrument.instrument, Instrument::MiSeq);
  WriteFile(run / "Basecalling_Netcopy_complete.txt", "03-Jun-15");
  auto done = CheckRunCompletion(run);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->complete);
  EXPECT_EQ(done->marker, "Basecalling_Netcopy_complete.txt");
  // s3_upload never knew these markers.
  EXPECT_FALSE(CheckRunCompletion(run, CompletionPolicy::AnyMarker)->complete);
}

TEST(RunCompletion, FolderWithoutRunInfoIsNotARun) {
  TempDir dir;
  WriteFile(dir / "CopyComplete.txt");
  auto completion = CheckRunCompletion(dir.Path());
  ASSERT_TRUE(completion);
  EXPECT_FALSE(completion->is_run);
  EXPECT_FALSE(completion->complete);
  EXPECT_EQ(completion->reason, "no RunInfo.xml: not a run folder");
}

TEST(RunCompletion, MissingFolderIsNotFound) {
  TempDir dir;
  auto completion = CheckRunCompletion(dir / "absent");
  ASSERT_FALSE(completion);
  EXPECT_EQ(completion.error().code, ErrorCode::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Listing

std::vector<std::string> Paths(const std::vector<RunFile>& files) {
  std::vector<std::string> paths;
  for (const RunFile& file : files) paths.push_back(file.relative_path);
  return paths;
}

TEST(EnumerateRunFiles, ListsRegularFilesWithSizesAndSkipsDotEntries) {
  TempDir dir;
  const fs::path run = dir / "run_1";
  WriteFile(run / "RunInfo.xml", "<RunInfo/>");
  WriteFile(run / "Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl", std::string(1000, 'x'));
  WriteFile(run / ".DS_Store", "x");
  WriteFile(run / "Logs/.Log.00.log.abc123", "rsync temporary");
  WriteFile(run / ".hidden/file.txt", "x");
  fs::create_directories(run / "EmptyDir");
  WriteFile(run / "CopyComplete.txt");

  auto listing = EnumerateRunFiles(run);
  ASSERT_TRUE(listing) << listing.error().ToString();
  EXPECT_EQ(
      Paths(listing->files),
      (std::vector<std::string>{
          "CopyComplete.txt", "Data/Intensities/BaseCalls/L001/C1.1/L001_1.cbcl", "RunInfo.xml"}));
  EXPECT_EQ(listing->total_bytes, 1010u);
  EXPECT_EQ(listing->files[0].marker_rank, 4);
  EXPECT_EQ(listing->files[1].size_bytes, 1000u);
  EXPECT_EQ(listing->files[1].marker_rank, 0);
  EXPECT_TRUE(listing->skipped.empty());
}

TEST(EnumerateRunFiles, FollowsSymlinksInsideTheRunAndReportsOthers) {
  TempDir dir;
  const fs::path run = dir / "run_1";
  WriteFile(run / "RunInfo.xml", "<RunInfo/>");
  WriteFile(run / "Config/Options.cfg", "abc");
  WriteFile(dir / "outside/secret.txt", "secret");
  fs::create_symlink("Config/Options.cfg", run / "Options_link.cfg");
  fs::create_directory_symlink("Config", run / "ConfigLink");
  fs::create_symlink(dir / "outside/secret.txt", run / "outside_link.txt");
  fs::create_directory_symlink(dir / "outside", run / "OutsideDir");
  fs::create_symlink(run / "absent.txt", run / "dangling.txt");
  fs::create_directory_symlink("..", run / "Config/up");  // loop back to the run root

  auto listing = EnumerateRunFiles(run);
  ASSERT_TRUE(listing) << listing.error().ToString();
  EXPECT_EQ(Paths(listing->files),
            (std::vector<std::string>{"Config/Options.cfg", "ConfigLink/Options.cfg",
                                      "Options_link.cfg", "RunInfo.xml"}));
  EXPECT_FALSE(listing->files[0].via_symlink);
  EXPECT_TRUE(listing->files[1].via_symlink);
  EXPECT_TRUE(listing->files[2].via_symlink);
  EXPECT_EQ(listing->files[2].size_bytes, 3u);
  std::map<std::string, std::string> skipped;
  for (const auto& entry : listing->skipped) skipped[entry.relative_path] = entry.reason;
  EXPECT_EQ(skipped["outside_link.txt"], "symlink target outside the run folder");
  EXPECT_EQ(skipped["OutsideDir"], "symlink target outside the run folder");
  EXPECT_EQ(skipped["dangling.txt"], "dangling symlink");
  EXPECT_EQ(skipped["Config/up"], "symlink to the directory itself or an ancestor");
  EXPECT_EQ(skipped["ConfigLink/up"], "symlink to the directory itself or an ancestor");

  EnumerateOptions follow_all;
  follow_all.follow_symlinks_outside_run = true;
  auto all = EnumerateRunFiles(run, {}, follow_all);
  ASSERT_TRUE(all);
  const auto paths = Paths(all->files);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "outside_link.txt"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "OutsideDir/secret.txt"), paths.end());
}

TEST(EnumerateRunFiles, ExcludePatternsMatchTheAbsolutePathLikeS3Upload) {
  TempDir dir;
  const fs::path run = dir / "seq+1 (A)" / "run_1";
  WriteFile(run / "RunInfo.xml", "<RunInfo/>");
  WriteFile(run / "Thumbnail_Images/L001/C1.1/s_1_2103_green.png", "png");
  WriteFile(run / "Recipe/HLJC5DRX5.xml", "<Recipe/>");
  WriteFile(run / "Config/Options.cfg", "cfg");
  WriteFile(run / "InterOp/C1.1/BasecallingMetricsOut.bin", "bin");
  // The e2e test's patterns (research §2) plus one that needs the absolute path.
  const std::vector<std::string> patterns{"Recipe/", ".*png", "^/.*/Config/Options\\.cfg$"};
  auto filter = ExcludeFilter::Compile(patterns);
  ASSERT_TRUE(filter) << filter.error().ToString();
  auto listing = EnumerateRunFiles(run, *filter);
  ASSERT_TRUE(listing);
  EXPECT_EQ(Paths(listing->files),
            (std::vector<std::string>{"InterOp/C1.1/BasecallingMetricsOut.bin", "RunInfo.xml"}));
  EXPECT_EQ(listing->excluded,
            (std::vector<std::string>{"Config/Options.cfg", "Recipe/HLJC5DRX5.xml",
                                      "Thumbnail_Images/L001/C1.1/s_1_2103_green.png"}));
}

TEST(EnumerateRunFiles, UnreadableDirectoryIsAnErrorNotAShorterListing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  TempDir dir;
  const fs::path run = dir / "run_1";
  WriteFile(run / "RunInfo.xml", "<RunInfo/>");
  WriteFile(run / "Data/a.bcl", "x");
  fs::permissions(run / "Data", fs::perms::none);
  auto listing = EnumerateRunFiles(run);
  fs::permissions(run / "Data", fs::perms::owner_all);
  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().code, ErrorCode::PermissionDenied);
}

TEST(EnumerateRunFiles, RealNextSeqFolderListsEveryFile) {
  const fs::path run = IlluminaData() / "nextseq500/170609_NB551051_0017_AHLFFJBGX2";
  SLUICE_REQUIRE_SHARED(run);
  auto listing = EnumerateRunFiles(run);
  ASSERT_TRUE(listing) << listing.error().ToString();
  std::size_t expected = 0;
  for (const auto& entry : fs::recursive_directory_iterator(run)) {
    if (entry.is_regular_file()) ++expected;
  }
  EXPECT_EQ(listing->files.size(), expected);
  std::vector<RunFile> files = listing->files;
  SortForUpload(files);
  EXPECT_EQ(files.back().relative_path, "RunCompletionStatus.xml");
  EXPECT_EQ(files[files.size() - 2].relative_path, "RTAComplete.txt");
  EXPECT_EQ(files.front().marker_rank, 0);
}

TEST(StabilityCheck, SecondSnapshotShowsTheFileThatGrew) {
  TempDir dir;
  const fs::path run = dir / "run_1";
  WriteFile(run / "RunInfo.xml", "<RunInfo/>");
  WriteFile(run / "Logs/Cycle1.log", "a");
  WriteFile(run / "Logs/Cycle2.log", "b");
  auto before = EnumerateRunFiles(run);
  ASSERT_TRUE(before);
  EXPECT_TRUE(CompareSnapshots(before->files, before->files).Stable());
  WriteFile(run / "Logs/Cycle1.log", "a longer line");
  WriteFile(run / "Logs/Cycle3.log", "c");
  fs::remove(run / "Logs/Cycle2.log");
  auto after = EnumerateRunFiles(run);
  ASSERT_TRUE(after);
  const SnapshotDiff diff = CompareSnapshots(before->files, after->files);
  EXPECT_FALSE(diff.Stable());
  EXPECT_EQ(diff.changed, std::vector<std::string>{"Logs/Cycle1.log"});
  EXPECT_EQ(diff.appeared, std::vector<std::string>{"Logs/Cycle3.log"});
  EXPECT_EQ(diff.disappeared, std::vector<std::string>{"Logs/Cycle2.log"});
}

// ---------------------------------------------------------------------------------------------
// Names, monitored directories, samplesheets, RunInfo age

TEST(RunFolderName, IsTheLastComponentForRelativeAndAbsolutePaths) {
  EXPECT_EQ(RunFolderName("run_A").value(), "run_A");  // s3_upload gave "un_A" (B4)
  EXPECT_EQ(RunFolderName("./run_A/").value(), "run_A");
  EXPECT_EQ(RunFolderName("/data/seq+1/run_A").value(), "run_A");  // B5
  EXPECT_EQ(RunFolderName("/data/seq (1)/x/../run_A//").value(), "run_A");
  EXPECT_FALSE(RunFolderName("/"));
}

TEST(ListRunFolders, ListsSubdirectoriesOnly) {
  TempDir dir;
  WriteFile(dir / "run_b/RunInfo.xml");
  WriteFile(dir / "run_a/RunInfo.xml");
  WriteFile(dir / ".partial/RunInfo.xml");
  WriteFile(dir / "notes.txt");
  auto folders = ListRunFolders(dir.Path());
  ASSERT_TRUE(folders);
  ASSERT_EQ(folders->size(), 2u);
  EXPECT_EQ((*folders)[0].filename(), "run_a");
  EXPECT_EQ((*folders)[1].filename(), "run_b");
  EXPECT_EQ(ListRunFolders(dir / "absent").error().code, ErrorCode::NotFound);
}

TEST(ReadSamplesheets, FindsSamplesheetsInTheRootOnly) {
  TempDir dir;
  WriteFile(dir / "SampleSheet.csv", "a");
  WriteFile(dir / "experiment_3-samplesheet_attempt_1.csv", "b");
  WriteFile(dir / "SampleSheet.csv.0", "c");
  WriteFile(dir / "SampleSheet.txt", "d");
  WriteFile(dir / "Data/SampleSheet.csv", "e");
  auto sheets = ReadSamplesheets(dir.Path());
  ASSERT_TRUE(sheets);
  ASSERT_EQ(sheets->size(), 2u);
  EXPECT_EQ((*sheets)[0].name, "SampleSheet.csv");
  EXPECT_EQ((*sheets)[0].content, "a");
  EXPECT_EQ((*sheets)[1].name, "experiment_3-samplesheet_attempt_1.csv");
}

TEST(ReadSamplesheets, RealNovaSeqXRunHasTwoIdenticalSheets) {
  const fs::path run = IlluminaData() / "novaseqx/20231108_LH00188_0028_B22F52TLT3";
  SLUICE_REQUIRE_SHARED(run);
  auto sheets = ReadSamplesheets(run);
  ASSERT_TRUE(sheets);
  const SamplesheetChoice choice = ChooseSamplesheet(*sheets);
  EXPECT_EQ(choice.kind, SamplesheetChoiceKind::Chosen);
  EXPECT_EQ(choice.chosen, "SampleSheet.csv");
  EXPECT_EQ(choice.names, (std::vector<std::string>{"CorrectSampleSheet.csv", "SampleSheet.csv"}));
}

TEST(RunInfoMtime, IsTheMaxAgeClock) {
  TempDir dir;
  WriteFile(dir / "RunInfo.xml");
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(100);
  fs::last_write_time(dir / "RunInfo.xml", old_time);
  auto mtime = RunInfoMtime(dir.Path());
  ASSERT_TRUE(mtime);
  const auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(WithinMaxAge(*mtime, now, kDefaultMaxAge));
  EXPECT_TRUE(WithinMaxAge(*mtime, now, std::chrono::hours(101)));
  EXPECT_EQ(RunInfoMtime(dir / "absent").error().code, ErrorCode::NotFound);
}

// ---------------------------------------------------------------------------------------------
// Files

TEST(WriteFileAtomically, CreatesParentsAndReplacesContent) {
  TempDir dir;
  const fs::path path = dir / "log/uploads/run.upload.log.json";
  ASSERT_TRUE(WriteFileAtomically(path, "one"));
  ASSERT_TRUE(WriteFileAtomically(path, "two"));
  EXPECT_EQ(ReadTextFile(path).value(), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);
  EXPECT_EQ(ReadTextFile(path, 2).error().code, ErrorCode::InvalidArgument);
}

TEST(RunLogFile, RoundTripsThroughLogDir) {
  TempDir dir;
  auto missing = ReadRunLogFile(dir.Path(), "run_1");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  RunLog log;
  log.run_id = "run_1";
  log.run_path = "/seq/run_1";
  log.total_local_files = 1;
  ASSERT_TRUE(WriteRunLogFile(dir.Path(), log));
  EXPECT_TRUE(fs::exists(dir / "uploads/run_1.upload.log.json"));
  auto read = ReadRunLogFile(dir.Path(), "run_1");
  ASSERT_TRUE(read);
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->run_path, "/seq/run_1");
  WriteFile(dir / "uploads/run_2.upload.log.json", "{");
  EXPECT_EQ(ReadRunLogFile(dir.Path(), "run_2").error().code, ErrorCode::Corrupt);
}

TEST(InspectDirectory, TellsMissingCreatableAndFiles) {
  TempDir dir;
  WriteFile(dir / "file");
  EXPECT_EQ(InspectDirectory(dir.Path()), DirectoryStatus::Exists);
  EXPECT_EQ(InspectDirectory(dir / "file"), DirectoryStatus::NotDirectory);
  EXPECT_EQ(InspectDirectory(dir / "a/b"), DirectoryStatus::Missing);
  EXPECT_EQ(InspectDirectory(dir / "a/b", true), DirectoryStatus::Creatable);
  EXPECT_EQ(InspectDirectory(dir / "file/b", true), DirectoryStatus::Missing);
}

}  // namespace
}  // namespace sluice::illumina
