#pragma once
// Helpers shared by the illumina unit tests: where the shared real data lives, and building
// synthetic run folders in a temporary directory.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace sluice::illumina::testing {

/// shared/data/illumina (real run folders, research/s3_upload.md §4).
inline std::filesystem::path IlluminaData() { return SLUICE_SHARED_DIR "/data/illumina"; }

/// shared/data/s3_upload_fixtures (s3_upload's example config and state logs).
inline std::filesystem::path S3UploadFixtures() {
  return SLUICE_SHARED_DIR "/data/s3_upload_fixtures";
}

/// Writes `content` to `path`, creating parent directories.
inline void WriteFile(const std::filesystem::path& path, std::string_view content = {}) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace sluice::illumina::testing

/// Skips the current test when the shared data folder is not beside the repository.
#define SLUICE_REQUIRE_SHARED(path)                                                          \
  do {                                                                                       \
    if (!std::filesystem::exists(path)) {                                                    \
      GTEST_SKIP() << "shared data not found at " << (path)                                  \
                   << " (research/s3_upload.md §4; the repository must sit beside shared/)"; \
    }                                                                                        \
  } while (false)
