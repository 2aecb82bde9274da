// LockFile: one holder at a time (flock), in this process or another; released on destruction
// or process death.

#include "sluice/core/lock_file.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <optional>

#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using sluice::testing::TempDir;

std::string Contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(LockFile, TheFirstTakerHoldsItAndSaysWhichProcessItIs) {
  TempDir tmp;
  const auto path = tmp / "s3_upload.lock";
  auto lock = LockFile::TryAcquire(path);
  ASSERT_TRUE(lock) << lock.error().ToString();
  EXPECT_EQ(Contents(path), "locked by process " + std::to_string(::getpid()) + "\n");
}

TEST(LockFile, ASecondLockFileInTheSameProcessIsRefused) {
  TempDir tmp;
  const auto path = tmp / "s3_upload.lock";
  auto first = LockFile::TryAcquire(path);
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = LockFile::TryAcquire(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
  EXPECT_NE(second.error().ToString().find(path.string()), std::string::npos);
  // The refused attempt did not disturb the holder's note.
  EXPECT_EQ(Contents(path), "locked by process " + std::to_string(::getpid()) + "\n");
}

TEST(LockFile, AnotherProcessIsRefusedWhileItIsHeld) {
  TempDir tmp;
  const auto path = tmp / "s3_upload.lock";
  const auto child_result = [&] {
    const pid_t pid = ::fork();
    if (pid == 0) {
      auto lock = LockFile::TryAcquire(path);
      ::_exit(lock ? 0 : lock.error().code == ErrorCode::AlreadyExists ? 4 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  {
    auto lock = LockFile::TryAcquire(path);
    ASSERT_TRUE(lock) << lock.error().ToString();
    EXPECT_EQ(child_result(), 4);
    EXPECT_EQ(Contents(path), "locked by process " + std::to_string(::getpid()) + "\n")
        << "the refused process wiped the holder's note";
  }
  EXPECT_EQ(child_result(), 0);
}

TEST(LockFile, ReleasingItLetsTheNextTakerInAndEmptiesTheFile) {
  TempDir tmp;
  const auto path = tmp / "s3_upload.lock";
  {
    auto lock = LockFile::TryAcquire(path);
    ASSERT_TRUE(lock) << lock.error().ToString();
  }
  EXPECT_EQ(Contents(path), "");
  auto again = LockFile::TryAcquire(path);
  EXPECT_TRUE(again) << again.error().ToString();
}

TEST(LockFile, MovingTransfersTheLock) {
  TempDir tmp;
  const auto path = tmp / "s3_upload.lock";
  auto lock = LockFile::TryAcquire(path);
  ASSERT_TRUE(lock) << lock.error().ToString();
  std::optional<LockFile> moved(std::move(*lock));
  lock = LockFile::TryAcquire(tmp / "other.lock");  // the moved-from one is destroyed here
  ASSERT_TRUE(lock);
  EXPECT_FALSE(LockFile::TryAcquire(path)) << "moving the lock released it";
  moved.reset();
  EXPECT_TRUE(LockFile::TryAcquire(path));
}

TEST(LockFile, AMissingFolderIsNotMistakenForAHeldLock) {
  TempDir tmp;
  auto lock = LockFile::TryAcquire(tmp / "no/such/folder/s3_upload.lock");
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().code, ErrorCode::AlreadyExists);
}

}  // namespace
}  // namespace sluice
