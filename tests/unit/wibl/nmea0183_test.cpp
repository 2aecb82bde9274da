// NMEA0183 sentences with pynmea2's semantics (research/wibl.md §2.3, §2.8).

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "sluice/handlers/wibl/nmea0183.hpp"
#include "sluice/handlers/wibl/python_compat.hpp"
#include "sluice/handlers/wibl/wibl_writer.hpp"

namespace sluice::wibl::nmea {
namespace {

using ::testing::HasSubstr;

Sentence MustParse(std::string_view text) {
  auto sentence = ParseSentence(text);
  EXPECT_TRUE(sentence) << text << ": " << sentence.error().ToString();
  return sentence ? *sentence : Sentence{};
}

TEST(Nmea0183, ChecksumIsCheckedWhenPresent) {
  // The simulator's sentences carry CR LF after the checksum (research §1.3, id 10).
  EXPECT_TRUE(ParseSentence("$SDDBT,32.6,f,9.9,M,5.4,F*30\r\n"));
  auto bad = ParseSentence("$SDDBT,32.6,f,9.9,M,5.4,F*31");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(bad.error().message, HasSubstr("checksum mismatch: sentence says 31, computed 30"));
  // Lower-case hex digits are accepted (pynmea2 matches case-insensitively).
  EXPECT_TRUE(ParseSentence(WithChecksum("$GPHDT,123.4,T")));
  EXPECT_EQ(WithChecksum("$SDDBT,32.6,f,9.9,M,5.4,F"), "$SDDBT,32.6,f,9.9,M,5.4,F*30");
}

TEST(Nmea0183, ChecksumMayBeAbsent) {
  const Sentence s = MustParse("$SDDBT,32.6,f,9.9,M,5.4,F\r\n");
  EXPECT_FALSE(s.has_checksum);
  EXPECT_EQ(s.Type(), "DBT");
  EXPECT_EQ(s.Talker(), "SD");
  // Without a checksum the line end stays in the last field, as in pynmea2.
  EXPECT_EQ(s.Field(5), "F\r\n");
}

TEST(Nmea0183, SyntaxErrors) {
  EXPECT_FALSE(ParseSentence("garbage"));
  EXPECT_FALSE(ParseSentence("$GPGGA"));             // no comma after the type
  EXPECT_FALSE(ParseSentence("$GPGGA,1,2*4"));       // one checksum digit
  EXPECT_FALSE(ParseSentence("$GPGGA,1,2*4F junk"));  // text after the checksum
  EXPECT_EQ(ParseSentence("$PGRME,15.0,M,45.0,M,25.0,M").error().code, ErrorCode::Unsupported);
  EXPECT_EQ(ParseSentence("$CCGPQ,GGA").error().code, ErrorCode::Unsupported);
}

TEST(Nmea0183, TypeIsUpperCasedAndDollarOptional) {
  const Sentence s = MustParse("gpgga,1");
  EXPECT_EQ(s.Type(), "GGA");
  EXPECT_EQ(s.Talker(), "GP");
}

TEST(Nmea0183, GgaPosition) {
  const Sentence s = MustParse(
      "$GPGGA,000001.000,4300.000007,N,07400.999993,W,3,12,1.0,-19.5,M,22.5,M,0.0,0000*7D");
  auto position = LatLon(s);
  ASSERT_TRUE(position);
  // float("43") + float("00.000007")/60, float("074") + float("00.999993")/60, exactly.
  EXPECT_EQ(position->latitude, 43.0 + 0.000007 / 60);
  EXPECT_EQ(position->longitude, -(74.0 + 0.999993 / 60));
  EXPECT_TRUE(HasFix(s));
}

TEST(Nmea0183, EmptyGgaIsNullIslandLikePynmea2ButHasNoFix) {
  const Sentence s = MustParse("$GPGGA,123519,,,,,0,00,,,M,,M,,");
  auto position = LatLon(s);
  ASSERT_TRUE(position);
  EXPECT_EQ(position->latitude, 0.0);
  EXPECT_EQ(position->longitude, 0.0);
  EXPECT_FALSE(HasFix(s));
}

TEST(Nmea0183, GllPositionAndStatus) {
  const Sentence s = MustParse("$GPGLL,4916.45,N,12311.12,W,225444,A,A");
  auto position = LatLon(s);
  ASSERT_TRUE(position);
  EXPECT_EQ(position->latitude, 49.0 + 16.45 / 60);
  EXPECT_EQ(position->longitude, -(123.0 + 11.12 / 60));
  EXPECT_TRUE(HasFix(s));
  EXPECT_FALSE(HasFix(MustParse("$GPGLL,4916.45,N,12311.12,W,225444,V,N")));
  // A hemisphere other than N/S/E/W gives 0, as pynmea2 does.
  EXPECT_EQ(LatLon(MustParse("$GPGLL,4916.45,X,12311.12,W,225444,A"))->latitude, 0.0);
}

TEST(Nmea0183, MalformedCoordinateIsAnError) {
  EXPECT_FALSE(LatLon(MustParse("$GPGGA,1,43.5,N,07400.5,W,1")));  // two digits before '.'
  EXPECT_FALSE(DegreesFromDm("4300"));
  EXPECT_EQ(*DegreesFromDm("0"), 0.0);
  EXPECT_EQ(*DegreesFromDm("12319.943281"), 123.0 + 19.943281 / 60);
  EXPECT_FALSE(LatLon(MustParse("$SDDBT,1,f,2,M")));  // not a position sentence
}

TEST(Nmea0183, ZdaTime) {
  auto time = ReferenceTime(MustParse("$GPZDA,000001.000,01,01,2020,00,00*57"));
  ASSERT_TRUE(time && *time);
  EXPECT_EQ(**time, 1577836801.0);
  auto fraction = ReferenceTime(MustParse("$GPZDA,120000.197,15,06,2021,00,00"));
  ASSERT_TRUE(fraction && *fraction);
  // int(float(".197") * 1e6) truncates to 196999 µs… or 197000, exactly as Python computes.
  const auto micros = static_cast<std::int64_t>(0.197 * 1000000.0);
  EXPECT_EQ(FormatUtcMicros(**fraction), fmt::format("2021-06-15T12:00:00.{:06d}Z", micros));
}

TEST(Nmea0183, ZdaWithMissingOrBadFieldsHasNoTime) {
  EXPECT_FALSE(ReferenceTime(MustParse("$GPZDA,000001.000,,01,2020,00,00")).value());
  EXPECT_FALSE(ReferenceTime(MustParse("$GPZDA,,01,01,2020,00,00")).value());
  EXPECT_FALSE(ReferenceTime(MustParse("$GPZDA,250000,01,01,2020,00,00")).value());
  EXPECT_FALSE(ReferenceTime(MustParse("$GPZDA,000000,30,02,2020,00,00")).value());
}

TEST(Nmea0183, RmcTime) {
  auto time = ReferenceTime(
      MustParse(WithChecksum("$GPRMC,123519.50,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W")));
  ASSERT_TRUE(time && *time);
  EXPECT_EQ(FormatUtcMicros(**time), "1994-03-23T12:35:19.500000Z");
  auto y2k = ReferenceTime(MustParse("$GPRMC,000000,A,4807.038,N,01131.000,E,0,0,010168,,"));
  ASSERT_TRUE(y2k && *y2k);
  EXPECT_EQ(FormatUtcMicros(**y2k), "2068-01-01T00:00:00.000000Z");
  auto century = ReferenceTime(MustParse("$GPRMC,000000,A,4807.038,N,01131.000,E,0,0,010169,,"));
  EXPECT_EQ(FormatUtcMicros(**century), "1969-01-01T00:00:00.000000Z");
  EXPECT_FALSE(ReferenceTime(MustParse("$GPRMC,000000,A,1,N,1,E,0,0,,,")).value());
  EXPECT_FALSE(ReferenceTime(MustParse("$SDDBT,1,f,2,M")));
}

TEST(Nmea0183, DepthHeadingTemperatureWindFields) {
  EXPECT_EQ(*DecimalField(MustParse("$SDDBT,32.6,f,9.9,M,5.4,F*30"), 2).value(), 9.9);
  EXPECT_EQ(*DecimalField(MustParse("$SDDPT,12.25,0.5,100"), 0).value(), 12.25);
  EXPECT_EQ(*DecimalField(MustParse("$HEHDT,274.07,T"), 0).value(), 274.07);
  EXPECT_EQ(*DecimalField(MustParse("$YXMTW,17.75,C"), 0).value(), 17.75);
  const Sentence mwd = MustParse("$WIMWD,270.0,T,275.0,M,12.4,N,6.4,M");
  EXPECT_EQ(*DecimalField(mwd, 0).value(), 270.0);
  EXPECT_EQ(*DecimalField(mwd, 6).value(), 6.4);
  // Empty → no value; not a number → error (pynmea2's Decimal raises).
  EXPECT_FALSE(DecimalField(MustParse("$SDDBT,32.6,f,,M,5.4,F"), 2).value());
  EXPECT_FALSE(DecimalField(MustParse("$SDDBT,32.6,f,abc,M,5.4,F"), 2));
  EXPECT_FALSE(DecimalField(MustParse("$SDDBT,32.6,f"), 4).value());  // beyond the last field
}

TEST(Nmea0183, PythonFloatSyntax) {
  EXPECT_EQ(ParsePythonFloat(" 1.5\r\n"), 1.5);
  EXPECT_EQ(ParsePythonFloat(".197"), 0.197);
  EXPECT_EQ(ParsePythonFloat("+2e3"), 2000.0);
  EXPECT_EQ(ParsePythonFloat("1."), 1.0);
  EXPECT_TRUE(std::isinf(*ParsePythonFloat("-inf")));
  EXPECT_FALSE(ParsePythonFloat("."));
  EXPECT_FALSE(ParsePythonFloat("0x10"));
  EXPECT_FALSE(ParsePythonFloat("1e"));
  EXPECT_FALSE(ParsePythonFloat(""));
}

}  // namespace
}  // namespace sluice::wibl::nmea
