#pragma once
/// s3_upload's per-run JSON state log, `<log_dir>/uploads/<run_id>.upload.log.json`, field for
/// field (research/s3_upload.md §1.6), so that tools and people reading those logs keep
/// working and so that runs s3_upload left half-uploaded resume under sluice.
///
/// Layout (written like Python's `json.dump(obj, fh, indent=4)`: 4-space indent,
/// no space after the "," ending a line, `": "` between key and value, non-ASCII as `\uXXXX`,
/// no final newline):
///   run_id (str), run_path (str; "run path" in early s3_upload versions, accepted on read and
///   kept on rewrite), completed (bool), total_local_files, total_uploaded_files,
///   total_failed_upload (int), failed_upload_files ([str]), uploaded_files ({local path: ETag
///   without quotes}, in insertion order).
/// Pure functions on text; ReadRunLogFile / WriteRunLogFile (run_folder.hpp) do the I/O.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/run_rules.hpp"

namespace sluice::illumina {

/// One run's upload state.
struct RunLog {
  std::string run_id;                     ///< run folder name, e.g. "181024_A01295_001_ABC123"
  std::string run_path;                   ///< the run folder's local path as uploaded
  bool completed = false;                 ///< every file uploaded, none failed (never reset)
  std::int64_t total_local_files = 0;     ///< files in the run at the first write (kept after)
  std::int64_t total_uploaded_files = 0;  ///< summed over passes
  std::int64_t total_failed_upload = 0;   ///< failures of the latest pass only
  std::vector<std::string> failed_upload_files;  ///< local paths that failed in the latest pass
  /// local path → ETag (quotes stripped), insertion order kept (a Python dict). s3_upload
  /// wrote absolute local paths; see UploadedRelativePaths.
  std::vector<std::pair<std::string, std::string>> uploaded_files;
  /// The log used the early "run path" key; FormatRunLog writes it back the same way.
  bool legacy_run_path_key = false;
};

/// `uploads/<run_id>.upload.log.json` under `log_dir` (research §1.6). Pure path arithmetic.
std::filesystem::path RunLogPath(const std::filesystem::path& log_dir, std::string_view run_id);

/// Parses a state log. Unknown extra keys are ignored. Corrupt (naming the key) when the text
/// is not a JSON object, a field is missing, or has the wrong type (counts must be integers,
/// uploaded_files values strings). Thread-safe.
Result<RunLog> ParseRunLog(std::string_view json_text);

/// Serialises `log` exactly as s3_upload's `json.dump(indent=4)` would (see the file comment),
/// so a log rewritten by sluice reads the same to any tool. Thread-safe.
std::string FormatRunLog(const RunLog& log);

/// The result of one upload pass over a run, as s3_upload's `write_upload_state_to_log` gets it.
struct UploadPass {
  std::string run_id;            ///< run folder name
  std::string run_path;          ///< the run folder's local path
  std::int64_t local_files = 0;  ///< number of files of the whole run listed in this pass
  /// files uploaded in this pass: local path → ETag (quotes stripped)
  std::vector<std::pair<std::string, std::string>> uploaded;
  std::vector<std::string> failed;  ///< files that failed in this pass
};

/// s3_upload's merge (research §1.6): without `existing`, a new log with total_local_files =
/// pass.local_files; then total_uploaded_files += pass.uploaded.size(); total_failed_upload and
/// failed_upload_files replaced by this pass; uploaded_files dict-merged (an existing key keeps
/// its place, gets the new ETag); completed set (never cleared) when the pass had no failure
/// and pass.local_files == total_uploaded_files. Thread-safe.
RunLog MergeUploadPass(const std::optional<RunLog>& existing, const UploadPass& pass);

/// New, Partial or Uploaded for monitor mode (research §1.4 step 5). Thread-safe.
UploadState StateOf(const std::optional<RunLog>& log);

/// The uploaded files of `log` as paths relative to the run folder, for resuming: a key under
/// `run_path` (s3_upload's absolute local paths, or the log's own run_path when `run_path` is
/// empty) loses that prefix; a key that is already relative is kept; a key under another
/// folder is dropped (the run moved: s3_upload re-sent those too, §1.6). Sorted. Thread-safe.
std::vector<std::string> UploadedRelativePaths(const RunLog& log, std::string_view run_path = {});

}  // namespace sluice::illumina
