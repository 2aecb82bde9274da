#pragma once
/// Pure rules about Illumina run folders: which instrument wrote a run, which marker file proves
/// it complete, which files are markers (sent last), exclude patterns, object keys, the
/// file-stability check and `max_age`. Nothing here touches the filesystem: run_folder.hpp
/// gathers the inputs from disk and calls these.
///
/// Sources: research/s3_upload.md §1.4 (eligibility, max_age), §1.7 (listing, excludes, keys and
/// bugs B4/B5), §5.1 (markers per instrument), §6 ideas 1, 5, 7 and 10.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/py_regex.hpp"

namespace sluice::illumina {

// ---------------------------------------------------------------------------------------------
// Instruments

/// The sequencer family that wrote a run folder; decides the completion rule.
enum class Instrument {
  Unknown,      ///< could not be told from RunParameters.xml or RunInfo.xml
  MiSeq,        ///< RTA1/RTA1.18 (BCL per tile); markers RTAComplete.txt, *_Netcopy_complete*
  MiniSeq,      ///< RTA2 like NextSeq 500
  ISeq,         ///< iSeq 100 (RTA2/3)
  NextSeq500,   ///< NextSeq 500/550 (RTA2, `.bcl.bgzf`); RTAComplete.txt, RunCompletionStatus.xml
  NextSeq2000,  ///< NextSeq 1000/2000 (RTA3, CBCL, Universal Copy Service → CopyComplete.txt)
  HiSeq,        ///< HiSeq 2000/2500/3000/4000/X (RTA1/RTA2)
  NovaSeq6000,  ///< NovaSeq 6000 (RTA3, CBCL); CopyComplete.txt
  NovaSeqX,     ///< NovaSeq X / X Plus (RTA4, CBCL); CopyComplete.txt
};

/// Stable display name: "MiSeq", "NextSeq 500/550", "NovaSeq 6000", "NovaSeq X", "unknown", …
/// Thread-safe.
std::string_view ToString(Instrument instrument);

/// What the XML files say about the run, and how the instrument was told.
struct InstrumentGuess {
  Instrument instrument = Instrument::Unknown;  ///< the family
  std::string instrument_id;  ///< RunInfo.xml `Run/Instrument`, e.g. "A00689" (may be empty)
  std::string flowcell;       ///< RunInfo.xml `Run/Flowcell`, e.g. "HLYWYDSXX" (may be empty)
  std::string run_id;         ///< RunInfo.xml `Run/@Id` (may be empty)
  /// Why: e.g. "RunParameters.xml InstrumentType 'NovaSeqXPlus'" or
  /// "RunInfo.xml Instrument 'M00146' (prefix M)"; empty when Unknown.
  std::string evidence;
};

/// Guesses the instrument from the text of RunParameters.xml (either spelling; may be empty)
/// and RunInfo.xml (may be empty). RunParameters decides when it names the software or type
/// (`InstrumentType`, `ApplicationName`, `Application`, `Flowcell`); otherwise the prefix of
/// RunInfo's instrument id: M → MiSeq, MN → MiniSeq, FS → iSeq, NB/NS → NextSeq 500/550,
/// VH/VL → NextSeq 1000/2000, A → NovaSeq 6000, LH → NovaSeq X, SN/D/K/J/E/ST-E → HiSeq
/// (prefixes as seen in shared/data/illumina and its xml_examples). Malformed XML only loses
/// the evidence it would have given; never fails. Thread-safe.
InstrumentGuess GuessInstrument(std::string_view run_parameters_xml, std::string_view run_info_xml);

// ---------------------------------------------------------------------------------------------
// Completion

/// Which marker files prove a run complete.
enum class CompletionPolicy {
  /// Per instrument (default; research §5.1 recommendation, TACA#308, miso-lims#2254):
  /// NovaSeq 6000, NovaSeq X, NextSeq 1000/2000 → `CopyComplete.txt` only (RTAComplete comes
  /// before the copy finishes); MiSeq, MiniSeq, iSeq, NextSeq 500/550, HiSeq →
  /// `CopyComplete.txt`, `RTAComplete.txt`, `RTAComplete.xml`, or the RTA 1.x
  /// `Basecalling_Netcopy_complete.txt`; Unknown → any of those.
  PerInstrument,
  /// s3_upload's rule (research §1.4 step 2): any of `CopyComplete.txt`, `RTAComplete.txt`,
  /// `RTAComplete.xml`, whatever the instrument.
  AnyMarker,
};

/// The verdict on one folder.
struct RunCompletion {
  bool is_run = false;         ///< RunInfo.xml exists (what makes a folder a run, §1.4 step 1)
  bool complete = false;       ///< is_run and the policy's marker exists
  InstrumentGuess instrument;  ///< from RunParameters.xml / RunInfo.xml
  std::string marker;          ///< the root file name that proved completion, when complete
  /// Every completion-type marker present in the run root (sorted), e.g. {"RTAComplete.txt"}.
  std::vector<std::string> markers_present;
  /// When not complete, why: "no RunInfo.xml", or e.g. "NovaSeq 6000 run: waiting for
  /// CopyComplete.txt (present: RTAComplete.txt)". Empty when complete.
  std::string reason;
};

/// Applies `policy` to a folder whose root holds `root_file_names` (plain names, no '/';
/// any order) and whose instrument was guessed as `guess`. Thread-safe.
RunCompletion EvaluateCompletion(std::span<const std::string> root_file_names,
                                 InstrumentGuess guess, CompletionPolicy policy);

/// Send order of a marker file, for uploading markers last so that a consumer watching the
/// bucket never sees a marker before the data (research §6 idea 10, DXS PR #48).
/// 0: not a marker. Markers are root-level files only: 1 per-read/partial markers
/// (`RTARead*Complete.txt`, `*_Netcopy_complete*.txt`); 2 `RTAComplete.txt`/`.xml`,
/// `RTAExited.txt`; 3 `SequenceComplete.txt`, `RunCompletionStatus.xml`; 4 `CopyComplete.txt`
/// (the very last, as the instruments write it last). `relative_path` uses '/'. Thread-safe.
int MarkerRank(std::string_view relative_path);

// ---------------------------------------------------------------------------------------------
// Files of a run

/// One regular file of a run folder, as listed by EnumerateRunFiles (run_folder.hpp).
struct RunFile {
  std::string relative_path;     ///< path below the run folder, '/'-separated, no leading '/'
  std::uint64_t size_bytes = 0;  ///< st_size (of the target, for a symlink)
  std::chrono::system_clock::time_point mtime;  ///< st_mtime (of the target, for a symlink)
  int marker_rank = 0;       ///< MarkerRank(relative_path): > 0 means upload after every 0 file
  bool via_symlink = false;  ///< reached through a symbolic link (file or directory)
};

/// s3_upload's `exclude_patterns` (research §1.7): a file is excluded when any pattern
/// `re.search`-matches its **absolute local path** (s3_upload joins the patterns with '|' and
/// searches the full path; we compile each separately, which is the same for valid patterns).
/// Immutable; Excludes() is safe from several threads.
class ExcludeFilter {
 public:
  /// An empty filter excludes nothing.
  ExcludeFilter() = default;
  /// Compiles every pattern (Python syntax, py_regex.hpp). Fails on the first pattern that
  /// does not compile: InvalidArgument/Unsupported naming `exclude_patterns[i]`. Thread-safe.
  static Result<ExcludeFilter> Compile(std::span<const std::string> patterns);
  /// True when some pattern matches `absolute_path` (e.g. "/seq/run_1/Thumbnail_Images/a.jpg").
  [[nodiscard]] bool Excludes(std::string_view absolute_path) const;
  /// True when there is no pattern.
  [[nodiscard]] bool Empty() const { return patterns_.empty(); }

 private:
  std::vector<PyRegex> patterns_;
};

/// Orders files for upload: non-markers first, largest first (s3_upload's size order, §1.7;
/// ties by path), then markers by rank (then path). Thread-safe (sorts `files` in place).
void SortForUpload(std::vector<RunFile>& files);

// ---------------------------------------------------------------------------------------------
// Object keys (research §1.7, bugs B4 and B5)

/// Normalises a configured `remote_path`: '/'-split, empty and "." segments dropped, joined
/// with '/', no leading or trailing '/' ("/" and "" → ""; "//a/./b/" → "a/b").
/// InvalidArgument for a ".." segment. Thread-safe.
Result<std::string> NormaliseRemotePath(std::string_view remote_path);

/// The object key of one file: `<remote_path>/<run folder name>/<relative path>`, with
/// remote_path normalised (NormaliseRemotePath; empty → no leading segment) and no leading '/'.
/// Unlike s3_upload, the run folder's parent path never leaks into the key, whatever characters
/// it holds (B5), and a relative run path keeps its first character (B4): callers pass the
/// folder *name* (RunFolderName in run_folder.hpp). InvalidArgument when the name is empty,
/// ".", ".." or holds '/', when `relative_path` is empty, absolute, or has an empty, "." or ".."
/// segment, or when the key exceeds S3's 1,024-byte limit. Thread-safe.
Result<std::string> BuildObjectKey(std::string_view remote_path, std::string_view run_folder_name,
                                   std::string_view relative_path);

/// The key prefix of a whole run: `<remote_path>/<run folder name>/` (or `<name>/` for an
/// empty remote_path), for listing a run in the bucket. Errors as BuildObjectKey. Thread-safe.
Result<std::string> RunKeyPrefix(std::string_view remote_path, std::string_view run_folder_name);

// ---------------------------------------------------------------------------------------------
// Stability (research §6 idea 5: "size and mtime unchanged across two scans")

/// How two listings of the same run differ.
struct SnapshotDiff {
  std::vector<std::string> changed;      ///< in both, but size or mtime differ (sorted)
  std::vector<std::string> appeared;     ///< only in `after` (sorted)
  std::vector<std::string> disappeared;  ///< only in `before` (sorted)
  /// True when nothing changed, appeared or disappeared.
  [[nodiscard]] bool Stable() const {
    return changed.empty() && appeared.empty() && disappeared.empty();
  }
};

/// Compares two listings by relative_path, size_bytes and mtime (any order). Thread-safe.
SnapshotDiff CompareSnapshots(std::span<const RunFile> before, std::span<const RunFile> after);

// ---------------------------------------------------------------------------------------------
// Eligibility (research §1.4 steps 5–6)

/// s3_upload's default `max_age`: 72 hours.
inline constexpr std::chrono::hours kDefaultMaxAge{72};

/// s3_upload's `check_run_age_within_limit`: true when `run_info_mtime` is strictly newer than
/// `now - max_age`. Age is measured from RunInfo.xml's mtime, which the instrument writes at
/// run *start* (so max_age must exceed run time + copy time + cron lag). Thread-safe.
bool WithinMaxAge(std::chrono::system_clock::time_point run_info_mtime,
                  std::chrono::system_clock::time_point now, std::chrono::hours max_age);

/// What the per-run state log says (run_log.hpp): no log, completed:false, completed:true.
enum class UploadState { New, Partial, Uploaded };

/// What monitor mode does with a complete run.
enum class RunEligibility {
  Upload,           ///< New and within max_age
  Resume,           ///< Partial: resumed whatever its age (as s3_upload does)
  AlreadyUploaded,  ///< Uploaded: skipped
  TooOld,           ///< New but RunInfo.xml is older than max_age: skipped
};

/// "upload", "resume", "already uploaded", "too old". Thread-safe.
std::string_view ToString(RunEligibility eligibility);

/// s3_upload's decision for a complete run (§1.4 steps 5–6). Thread-safe.
RunEligibility DecideEligibility(UploadState state,
                                 std::chrono::system_clock::time_point run_info_mtime,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::hours max_age);

}  // namespace sluice::illumina
