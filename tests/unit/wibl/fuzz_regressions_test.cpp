// Regression tests for inputs that crashed, hung or exhausted memory while fuzzing the WIBL reader,
// the NMEA0183 parser and the processing (tests/fuzz, docs/wibl.md "Fuzzing"). Each input is
// written out as hex (minimised with afl-tmin where the fuzzer found it); each test asserts a
// clean result or error, so a return of the bug crashes or fails this binary.

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sluice/handlers/wibl/nmea0183.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_reader.hpp"

namespace sluice::wibl {
namespace {

std::string FromHex(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  }
  return bytes;
}

std::string Packet(std::uint32_t id, std::string_view payload) {
  std::string out;
  for (const std::uint32_t v : {id, static_cast<std::uint32_t>(payload.size())}) {
    for (int b = 0; b < 4; ++b) out += static_cast<char>((v >> (8 * b)) & 0xFF);
  }
  return out + std::string(payload);
}

std::string LengthPrefixed(std::string_view text) {
  std::string out;
  const auto n = static_cast<std::uint32_t>(text.size());
  for (int b = 0; b < 4; ++b) out += static_cast<char>((n >> (8 * b)) & 0xFF);
  return out + std::string(text);
}

// The smallest file that processes to one sounding: SerialiserVersion 1.3, a SystemTime, a GGA
// "$GPGGA,000001,4300.0,N,07400.0,W,1" and a DBT "$SDDBT,,,10.1".
constexpr std::string_view kMinimalFileHex =
    "000000001600000001000300010000000000010000000000010000000000010000000f0000005647000000000000"
    "f03fe8030000000a00000026000000e80300002447504747412c3030303030312c343330302e302c4e2c3037343030"
    "2e302c572c310a00000011000000e90300002453444442542c2c2c31302e31";

ProcessOptions FixedNow() {
  ProcessOptions options;
  options.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  return options;
}

TEST(WiblFuzzRegressions, MinimalFileProcesses) {
  auto result = ProcessWibl(FromHex(kMinimalFileHex), "minimal.wibl", FixedNow());
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(result->soundings.size(), 1U);
  EXPECT_DOUBLE_EQ(result->soundings[0].depth, 10.1);
}

// Found by reading the code while fuzzing (AFL's mutations do not grow an input by tens of kB of
// brackets): a JSONMetadata packet of 20,000 nested arrays overflowed the stack in the recursive
// copy, merge and output of the metadata. Nesting beyond 100 levels is now a Corrupt error.
TEST(WiblFuzzRegressions, DeeplyNestedJsonMetadataIsAnError) {
  const auto with_metadata = [](std::size_t depth) {  // `depth` levels, the outer object included
    const std::string json =
        "{\"crs\": " + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    return FromHex(kMinimalFileHex) + Packet(14, LengthPrefixed(json));
  };
  auto deep = ProcessWibl(with_metadata(200000), "deep.wibl", FixedNow());
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code, ErrorCode::Corrupt);
  EXPECT_EQ(deep.error().message, "JSONMetadata packet nests deeper than 100 levels");
  EXPECT_FALSE(ProcessWibl(with_metadata(101), "deep.wibl", FixedNow()));

  auto ok = ProcessWibl(with_metadata(100), "ok.wibl", FixedNow());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(ok->crs.is_array());
  EXPECT_FALSE(FormatGeoJson(*ok).empty());

  // Brackets inside strings do not count.
  const std::string quoted = "{\"properties\": {\"note\": \"" + std::string(1000, '[') + "\"}}";
  auto strings = ProcessWibl(FromHex(kMinimalFileHex) + Packet(14, LengthPrefixed(quoted)),
                             "quoted.wibl", FixedNow());
  ASSERT_TRUE(strings) << strings.error().ToString();
}

// Found by reading the code while fuzzing (AFL's inputs stay far below 1 MiB): 1 MiB of ~50,000
// different AlgorithmRequest packets took over a minute to process: de-duplicating them by
// linear search is quadratic, and each distinct nodatareject/deduplicate runs over all the data.
// More than 64 different requests are now a Corrupt error; with process_algorithms off they are
// not even collected.
TEST(WiblFuzzRegressions, ThousandsOfAlgorithmRequestsAreAnError) {
  std::string bytes = FromHex(kMinimalFileHex);
  for (int i = 0; i < 50000; ++i) {
    bytes += Packet(13, LengthPrefixed("deduplicate") +
                            LengthPrefixed("n=" + std::to_string(i)));
  }
  auto many = ProcessWibl(bytes, "algorithms.wibl", FixedNow());
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().code, ErrorCode::Corrupt);
  EXPECT_EQ(many.error().message, "more than 64 different algorithm requests");

  ProcessOptions skip = FixedNow();
  skip.process_algorithms = false;
  auto skipped = ProcessWibl(bytes, "algorithms.wibl", skip);
  ASSERT_TRUE(skipped) << skipped.error().ToString();
  EXPECT_EQ(skipped->soundings.size(), 1U);

  // 64 different requests (and repeats of them) are still run, each leaving its lineage.
  std::string some = FromHex(kMinimalFileHex);
  for (int i = 0; i < 200; ++i) {
    some += Packet(13, LengthPrefixed("deduplicate") +
                           LengthPrefixed("n=" + std::to_string(i % 64)));
  }
  auto ok = ProcessWibl(some, "algorithms.wibl", FixedNow());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->properties["processing"].size(), 64U);
}

}  // namespace
}  // namespace sluice::wibl
