#include "sluice/core/lock_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sluice {

Result<LockFile> LockFile::TryAcquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return Fail(err == EACCES || err == EPERM || err == EROFS ? ErrorCode::PermissionDenied
                                                              : ErrorCode::Transient,
                fmt::format("cannot open the lock file: {}", std::strerror(err)), path.string());
  }
  LockFile lock(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return Fail(ErrorCode::AlreadyExists, "another process holds the lock", path.string());
    }
    return Fail(ErrorCode::Transient, fmt::format("flock: {}", std::strerror(err)), path.string());
  }
  const std::string owner = fmt::format("locked by process {}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, owner.data(), owner.size(), 0) < 0) {
    // Only informative: the lock itself is held.
  }
  return lock;
}

LockFile::LockFile(LockFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
  if (this != &other) {
    this->~LockFile();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

LockFile::~LockFile() {
  if (fd_ < 0) return;
  (void)::ftruncate(fd_, 0);
  ::close(fd_);  // releases the flock
}

}  // namespace sluice
