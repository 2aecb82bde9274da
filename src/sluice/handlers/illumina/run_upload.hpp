#pragma once
/// The upload engine of `sluice upload` and `sluice monitor` (issue 4): the files of any number
/// of runs go up through one pool of `concurrency` workers, largest first across all runs, so big
/// files start early and small ones keep every connection busy; no run waits for another.
/// Each file is read from its run folder through a file:// ObjectStore and sent with
/// ObjectStore::PutFrom (parts in parallel straight from the file, Content-MD5 on every part,
/// the ETag checked, research/s3_upload.md §6 "Integrity").
///
/// Order within a run: a run's completion markers (MarkerRank > 0: RTAComplete.*,
/// CopyComplete.txt, …) go up only after every other file of the run is in the bucket, in rank
/// order, so whatever watches the bucket never sees a partial run. When a file of the run
/// failed, its markers are not sent (and count as failed: the run is not complete).
///
/// Resume: S3 is the source of truth. The run's prefix is listed once; a file whose object has
/// the same size is skipped when the journal recorded that very upload (same size, mtime and
/// ETag) or, failing that, when the local bytes hash to the object's ETag
/// (SourceMatchesEtag). Everything else is uploaded.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/run_journal.hpp"
#include "sluice/handlers/illumina/run_rules.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {
class ProgressSink;
}

namespace sluice::illumina {

/// One run to upload.
struct RunUpload {
  std::filesystem::path run_dir;        ///< the run folder (absolute or relative)
  std::string run_name;                 ///< RunFolderName(run_dir)
  std::string key_prefix;               ///< RunKeyPrefix(remote_path, run_name): "…/<run>/"
  ObjectStore* destination = nullptr;   ///< the bucket; must outlive UploadRuns
  std::vector<RunFile> files;           ///< what to upload (EnumerateRunFiles, after excludes)
  RunJournal* journal = nullptr;        ///< records each upload when set; may be null
};

/// What happened to one file.
struct FileResult {
  std::string relative_path;   ///< below the run folder
  std::string key;             ///< object key
  std::uint64_t size_bytes = 0;  ///< local size, in bytes
  std::string etag;            ///< the object's ETag when it is in the bucket
  bool already_there = false;  ///< skipped: the bucket already held these bytes
  std::optional<Error> error;  ///< why it failed, when it did
};

/// What happened to one run, files in the order of RunUpload::files.
struct RunResult {
  std::string run_name;           ///< RunUpload::run_name
  std::vector<FileResult> files;  ///< one per RunUpload::files entry, same order
  std::uint64_t bytes_sent = 0;  ///< bytes uploaded in this pass (not those already there)

  /// Every file is in the bucket.
  [[nodiscard]] bool Succeeded() const;
  /// Files that failed.
  [[nodiscard]] std::size_t FailedCount() const;
};

/// How UploadRuns works.
struct UploadRunsOptions {
  /// Files in flight at once across all runs (s3_upload's cores × threads), >= 1. Requests in
  /// flight are bounded separately by the destination stores' upload slots.
  int concurrency = 8;
  /// Totals (every file to send) and bytes as the bucket acknowledges them. May be null.
  ProgressSink* progress = nullptr;
  /// When it becomes true no new file starts and files in flight are abandoned (nothing partial
  /// is committed). May be null.
  const std::atomic<bool>* cancel = nullptr;
  /// Part size the destination uses, for recognising multipart ETags on resume.
  std::uint64_t part_size_bytes = 8ULL * 1024 * 1024;
};

/// Uploads every run, returning one RunResult per run in input order. Per-file failures are in
/// the results (each logged as a warning naming the run, file and error); an Error is returned
/// only when nothing could start: InvalidArgument for concurrency < 1 or a run without a
/// destination, or the failure to list a run's prefix or open its folder (no run is uploaded).
/// Thread-safe if the stores are.
Result<std::vector<RunResult>> UploadRuns(std::span<RunUpload> runs,
                                          const UploadRunsOptions& options);

}  // namespace sluice::illumina
