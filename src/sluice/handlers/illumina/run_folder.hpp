#pragma once
/// Reading sequencer run folders from the local filesystem: completion, the file listing,
/// samplesheets, RunInfo.xml's age, the per-run state log and s3_upload's config file.
///
/// This is the ONLY place in `sluice::illumina` that touches the filesystem (run_folder.cpp):
/// a run folder on the sequencer share is this pipeline's input, not an object store, so it is
/// read directly; every rule applied to what is read is pure and lives in run_rules.hpp,
/// samplesheet.hpp, run_log.hpp and monitor_config.hpp.
///
/// Listing policy (research/s3_upload.md §1.7, where s3_upload's `glob("**/*")` + `is_file()`
/// left these choices; decided here and kept stable):
/// - **dot-files and dot-directories are skipped** at every level, as s3_upload's glob does.
///   This also keeps rsync's in-flight temporaries (`.name.XXXXXX`) and `.DS_Store` out.
/// - **symbolic links are followed** (to files and to directories, as s3_upload does) **when
///   their resolved target lies inside the run folder**; the file is listed under the link's
///   path with the target's size and mtime, `via_symlink` set. Links pointing outside the run
///   folder are skipped and reported (unless `follow_symlinks_outside_run`), as are dangling
///   links and directory links that would loop (target is the directory itself or an ancestor).
/// - anything that is not a regular file (FIFO, socket, device) is skipped and reported; empty
///   directories produce nothing (S3 has no directories).
/// - `exclude_patterns` are matched against the absolute path (see ExcludeFilter), also when a
///   partial run is resumed (fixes s3_upload bug B3: the caller lists with the same filter).
/// - an unreadable directory is an error (PermissionDenied), never a silently shorter listing
///   that could later be recorded as a complete upload.
///
/// Thread-safety: every function is safe to call concurrently on different or the same
/// folders; results reflect the folder at the time of the call (a run still being written
/// changes under it, hence CompareSnapshots).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/run_log.hpp"
#include "sluice/handlers/illumina/run_rules.hpp"
#include "sluice/handlers/illumina/samplesheet.hpp"

namespace sluice::illumina {

/// The run folder's name as used in object keys and state-log names: the last component of
/// the absolute, lexically normalised `run_dir`, so "run_A", "./run_A/", "/seq+1/run_A" all
/// give "run_A" (s3_upload bugs B4 and B5). InvalidArgument when there is no such component
/// ("/"). Reads only the current directory (for a relative path).
Result<std::string> RunFolderName(const std::filesystem::path& run_dir);

/// Checks whether `run_dir` is a complete run (run_rules.hpp EvaluateCompletion on the names of
/// the regular files in its root, with the instrument guessed from RunParameters.xml /
/// runParameters.xml and RunInfo.xml). NotFound when `run_dir` is not a directory;
/// PermissionDenied/Transient when it cannot be listed. An unreadable or malformed XML file only
/// makes the instrument Unknown.
Result<RunCompletion> CheckRunCompletion(const std::filesystem::path& run_dir,
                                         CompletionPolicy policy = CompletionPolicy::PerInstrument);

/// Options of EnumerateRunFiles.
struct EnumerateOptions {
  /// Also follow symlinks whose target is outside the run folder (s3_upload's behaviour).
  bool follow_symlinks_outside_run = false;
};

/// An entry EnumerateRunFiles did not list, and why.
struct SkippedEntry {
  std::string relative_path;  ///< '/'-separated, below the run folder
  std::string reason;         ///< e.g. "symlink target outside the run folder", "dangling symlink"
};

/// Every file of a run, per the listing policy above.
struct RunListing {
  std::vector<RunFile> files;         ///< listed files, sorted by relative_path
  std::vector<std::string> excluded;  ///< relative paths removed by exclude_patterns, sorted
  std::vector<SkippedEntry> skipped;  ///< links and special files not listed, sorted by path
  std::uint64_t total_bytes = 0;      ///< sum of files[].size_bytes
};

/// Lists the regular files under `run_dir` (recursively) per the listing policy above,
/// removing those `exclude` matches against their absolute path (absolute(run_dir), lexically
/// normalised, + "/" + relative path). Dot-entries are skipped silently. Completion markers get
/// `marker_rank` > 0 (MarkerRank) so SortForUpload puts them last. NotFound when `run_dir` is
/// not a directory; PermissionDenied or Transient (naming the path) when a directory or file
/// cannot be read. Cost: one stat per entry, plus a canonicalisation per symlink.
Result<RunListing> EnumerateRunFiles(const std::filesystem::path& run_dir,
                                     const ExcludeFilter& exclude = {},
                                     const EnumerateOptions& options = {});

/// RunInfo.xml's modification time (s3_upload's `max_age` clock, research §1.4 step 6).
/// NotFound when the run has no RunInfo.xml.
Result<std::chrono::system_clock::time_point> RunInfoMtime(const std::filesystem::path& run_dir);

/// The samplesheets in the run root: every regular, non-dot file whose name IsSamplesheetName
/// (not recursive, research §1.5), with its content, sorted by name. Files above 16 MiB are an
/// error (Corrupt): no samplesheet is that big. Empty when there is none.
Result<std::vector<SamplesheetFile>> ReadSamplesheets(const std::filesystem::path& run_dir);

/// The immediate sub-directories of a monitored directory (s3_upload's `scandir`, §1.4),
/// following symlinks, skipping dot-directories, sorted by name. Whether each is a run is for
/// CheckRunCompletion to say. NotFound when `monitored_dir` does not exist (s3_upload crashed
/// there; the NT fork warns and skips, which the caller may do).
Result<std::vector<std::filesystem::path>> ListRunFolders(
    const std::filesystem::path& monitored_dir);

/// Reads a whole file of at most `max_bytes`. NotFound, PermissionDenied, Transient (I/O), or
/// InvalidArgument when the file is larger than `max_bytes`.
Result<std::string> ReadTextFile(const std::filesystem::path& path,
                                 std::uintmax_t max_bytes = 64u << 20);

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// fsync of the directory. Creates missing parent directories (s3_upload's `makedirs`, and the
/// fix of bug B2 for log_dir). PermissionDenied or Transient on failure.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes);

/// Reads the per-run state log `<log_dir>/uploads/<run_id>.upload.log.json` (RunLogPath).
/// std::nullopt when it does not exist (a new run); Corrupt when it is not a valid log.
Result<std::optional<RunLog>> ReadRunLogFile(const std::filesystem::path& log_dir,
                                             std::string_view run_id);

/// Writes the per-run state log (FormatRunLog) atomically at RunLogPath(log_dir, log.run_id).
Status WriteRunLogFile(const std::filesystem::path& log_dir, const RunLog& log);

/// What is at a configured directory path, for config validation.
enum class DirectoryStatus {
  Exists,        ///< an existing directory (or a symlink to one)
  Missing,       ///< nothing there
  NotDirectory,  ///< something else is there
  Creatable,     ///< missing, but its nearest existing ancestor is a writable directory
};

/// Inspects `path` (follows symlinks). With `check_creatable`, a missing path whose nearest
/// existing ancestor is a directory this process may write to is `Creatable` (s3_upload's
/// `check_write_permission_to_log_dir`, research §1.10). Never fails.
DirectoryStatus InspectDirectory(const std::filesystem::path& path, bool check_creatable = false);

/// True when `path` is an existing directory this process may write into (access W_OK|X_OK).
bool IsWritableDirectory(const std::filesystem::path& path);

}  // namespace sluice::illumina
