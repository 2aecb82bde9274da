#include "sluice/core/units.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms").value(), milliseconds(250));
  EXPECT_EQ(ParseDuration("5s").value(), milliseconds(5'000));
  EXPECT_EQ(ParseDuration("5m").value(), milliseconds(300'000));
  EXPECT_EQ(ParseDuration("1h").value(), milliseconds(3'600'000));
  EXPECT_EQ(ParseDuration("2d").value(), milliseconds(172'800'000));
}

TEST(ParseDuration, AcceptsDecimalFractionsAndZero) {
  EXPECT_EQ(ParseDuration("1.5s").value(), milliseconds(1'500));
  EXPECT_EQ(ParseDuration("0.25m").value(), milliseconds(15'000));
  EXPECT_EQ(ParseDuration("0s").value(), milliseconds(0));
}

TEST(ParseDuration, RejectsMissingUnitAndNamesTheText) {
  auto parsed = ParseDuration("5");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(parsed.error().message.find("'5'"), std::string::npos) << parsed.error().message;
}

TEST(ParseDuration, RejectsUnknownUnitNegativeEmptyAndGarbage) {
  for (const char* text : {"5x", "5 sec", "-5s", "", "s", "abc", "1..5s", "5ss"}) {
    auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed) << "accepted '" << text << "'";
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument) << text;
  }
}

// A value beyond the range of 64-bit milliseconds must be an error, never a wrapped (negative)
// duration: llround() of an out-of-range double is unspecified.
TEST(ParseDuration, RejectsValuesTooLargeForMilliseconds) {
  auto parsed = ParseDuration("999999999999999999999d");
  if (parsed) {
    ADD_FAILURE() << "accepted as " << parsed->count() << " ms";
  } else {
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument);
  }
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(120'000)), "2m");
  EXPECT_EQ(FormatDuration(milliseconds(7'200'000)), "2h");
  EXPECT_EQ(FormatDuration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0ms");
}

TEST(FormatDuration, RoundTripsThroughParseDuration) {
  for (long long ms : {1LL, 999LL, 1'000LL, 61'000LL, 3'600'000LL, 90'061'001LL}) {
    const auto text = FormatDuration(milliseconds(ms));
    EXPECT_EQ(ParseDuration(text).value(), milliseconds(ms)) << text;
  }
}

TEST(ParseSize, AcceptsPlainBytesAndDecimalAndBinaryUnits) {
  EXPECT_EQ(ParseSize("512").value(), 512u);
  EXPECT_EQ(ParseSize("512B").value(), 512u);
  EXPECT_EQ(ParseSize("5KB").value(), 5'000u);
  EXPECT_EQ(ParseSize("5MB").value(), 5'000'000u);
  EXPECT_EQ(ParseSize("2GB").value(), 2'000'000'000u);
  EXPECT_EQ(ParseSize("1TB").value(), 1'000'000'000'000u);
  EXPECT_EQ(ParseSize("64KiB").value(), 65'536u);
  EXPECT_EQ(ParseSize("8MiB").value(), 8u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1GiB").value(), 1024ull * 1024 * 1024);
  EXPECT_EQ(ParseSize("1TiB").value(), 1024ull * 1024 * 1024 * 1024);
  EXPECT_EQ(ParseSize("1.5KiB").value(), 1'536u);
}

TEST(ParseSize, RejectsUnknownUnitsNegativeAndGarbage) {
  for (const char* text : {"5XB", "5kb", "5mib", "-1", "", "MiB", "ten", "5 MiBs"}) {
    auto parsed = ParseSize(text);
    ASSERT_FALSE(parsed) << "accepted '" << text << "'";
    EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument) << text;
  }
}

TEST(ParseSize, RejectsValuesTooLargeForSixtyFourBits) {
  for (const char* text : {"99999999999TiB", "18446744073709551616", "20000000TB"}) {
    auto parsed = ParseSize(text);
    if (parsed) {
      ADD_FAILURE() << "accepted '" << text << "' as " << *parsed;
    } else {
      EXPECT_EQ(parsed.error().code, ErrorCode::InvalidArgument) << text;
    }
  }
}

TEST(ParseSize, AcceptsSizesUpToEightEbibytes) {
  EXPECT_EQ(ParseSize("8388607TiB").value(), 8'388'607ULL * 1024 * 1024 * 1024 * 1024);
}

TEST(FormatSize, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(FormatSize(812), "812 B");
  EXPECT_EQ(FormatSize(1'536), "1.5 KiB");
  EXPECT_EQ(FormatSize(1024 * 1024 * 3 / 2), "1.5 MiB");
}

}  // namespace
}  // namespace sluice
