// Damaged files never crash the reader or the processing: every mutation of a real sample ends
// in a result or an Error (research/wibl.md §2.7 lists the exceptions wibl-python dies of).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_reader.hpp"

namespace sluice::wibl {
namespace {

std::uint64_t Next(std::uint64_t& state) {  // splitmix64
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

TEST(WiblRobustness, MutatedSamplesGiveResultsOrErrors) {
  const auto path = std::filesystem::path(SLUICE_SHARED_DIR) /
                    "data/wibl/wibl-python/tests/data/test-algo-dedup-nodata.wibl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string original = text.str();
  std::uint64_t state = 42;
  std::size_t ok = 0, failed = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = original;
    const int edits = 1 + static_cast<int>(Next(state) % 8);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = Next(state) % bytes.size();
      switch (Next(state) % 4) {
        case 0: bytes[at] = static_cast<char>(Next(state)); break;            // flip a byte
        case 1: bytes.resize(at); break;                                      // truncate
        case 2: bytes.insert(at, 1, static_cast<char>(Next(state))); break;   // shift
        default:                                                              // random double
          for (std::size_t k = 0; k < 8 && at + k < bytes.size(); ++k) {
            bytes[at + k] = static_cast<char>(Next(state));
          }
      }
      if (bytes.empty()) bytes = "x";
    }
    for (const bool strict : {false, true}) {
      ProcessOptions options;
      options.strict = strict;
      options.robust_counter_wrap = (round % 2) == 0;
      options.reject_null_positions = (round % 3) == 0;
      auto result = ProcessWibl(bytes, "mutated.wibl", options);
      if (result) {
        ++ok;
        const std::string geojson = FormatGeoJson(*result);
        EXPECT_FALSE(geojson.empty());
      } else {
        ++failed;
        EXPECT_FALSE(result.error().message.empty());
      }
      (void)ReadWibl(bytes, ReadOptions{strict});
    }
  }
  EXPECT_GT(ok, 0u);
  EXPECT_GT(failed, 0u);
}

}  // namespace
}  // namespace sluice::wibl
