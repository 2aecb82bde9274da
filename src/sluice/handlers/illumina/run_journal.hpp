#pragma once
/// The per-run journal of files already uploaded: one JSON line per file, appended and fsync'd
/// as each upload completes, so a `kill -9` loses at most the files in flight (issue 4; s3_upload
/// wrote its state only after the whole run, research/s3_upload.md §1.6). The journal only saves
/// work on resume: a file counts as done when its object in the bucket still has the size and
/// ETag recorded here (S3 is the source of truth); otherwise it is checked by hashing.
///
/// File: `<log_dir>/uploads/<run>.journal.jsonl`, lines
/// `{"path":"Data/x.cbcl","key":"runs/RUN/Data/x.cbcl","size":123,"mtime_ns":…,"etag":"…"}`.
/// A torn last line (a crash mid-append) is ignored.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"

namespace sluice::illumina {

/// One uploaded file as the journal remembers it.
struct JournalEntry {
  std::string key;                                ///< object key it went to
  std::uint64_t size_bytes = 0;                   ///< local size when uploaded
  std::chrono::system_clock::time_point mtime;    ///< local mtime when uploaded
  std::string etag;                               ///< the ETag S3 returned (unquoted)
};

/// An append-only journal file. Thread-safe: Append may be called from many upload threads.
class RunJournal {
 public:
  /// Opens (creating it and its folder if needed) the journal at `path` and reads what it holds.
  /// PermissionDenied/Transient when it cannot be opened or read.
  static Result<std::unique_ptr<RunJournal>> Open(const std::filesystem::path& path);
  ~RunJournal();
  RunJournal(const RunJournal&) = delete;
  RunJournal& operator=(const RunJournal&) = delete;

  /// The journal path for `run_name` below `log_dir`: `<log_dir>/uploads/<run>.journal.jsonl`.
  static std::filesystem::path PathFor(const std::filesystem::path& log_dir,
                                       std::string_view run_name);

  /// The entry of `relative_path`, if any (the latest one when it was uploaded twice).
  [[nodiscard]] std::optional<JournalEntry> Find(std::string_view relative_path) const;

  /// Appends one line and fsyncs it before returning. Transient on a write error.
  Status Append(std::string_view relative_path, const JournalEntry& entry);

  /// Whether an alert of `kind` ("held", "failed") was already sent for this run, so a run that
  /// stays held or keeps failing alerts once, not at every cron tick.
  [[nodiscard]] bool AlertSent(std::string_view kind) const;
  /// Records that an alert of `kind` was sent (a line `{"alert":"held"}`, fsync'd).
  Status RecordAlert(std::string_view kind);

 private:
  RunJournal(std::filesystem::path path, int fd);
  std::filesystem::path path_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  Status AppendLine(const std::string& line);  ///< needs mutex_ held
  std::map<std::string, JournalEntry, std::less<>> entries_;  ///< guarded by mutex_
  std::set<std::string, std::less<>> alerts_;                 ///< guarded by mutex_
};

}  // namespace sluice::illumina
