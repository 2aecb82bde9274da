#pragma once
/// An exclusive advisory lock on a file (flock(2)), held until the LockFile is destroyed or the
/// process dies: the kernel drops it even after `kill -9`, so a crashed holder never leaves a
/// stale lock (s3_upload's lock, research/s3_upload.md §1.10, without its atexit cleanup).

#include <filesystem>
#include <memory>
#include <string>

#include "sluice/core/error.hpp"

namespace sluice {

/// A held lock. Not copyable; moving transfers the lock.
class LockFile {
 public:
  /// Takes the lock on `path` (created if missing; its folder must exist) without waiting, and
  /// writes "locked by process <pid>" into it. AlreadyExists when another process (or another
  /// open LockFile) holds it; PermissionDenied/Transient when the file cannot be opened.
  static Result<LockFile> TryAcquire(const std::filesystem::path& path);

  LockFile(LockFile&& other) noexcept;
  LockFile& operator=(LockFile&& other) noexcept;
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  /// Empties the file and releases the lock.
  ~LockFile();

 private:
  explicit LockFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace sluice
