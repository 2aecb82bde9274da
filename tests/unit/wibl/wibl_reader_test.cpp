// The WIBL packet reader (research/wibl.md §1): every packet type, versions, truncation, unknown
// ids, malformed payloads.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sluice/handlers/wibl/wibl_reader.hpp"
#include "sluice/handlers/wibl/wibl_writer.hpp"

namespace sluice::wibl {
namespace {

using ::testing::HasSubstr;

SerialiserVersion Version(std::uint16_t major, std::uint16_t minor) {
  SerialiserVersion v;
  v.major = major;
  v.minor = minor;
  v.nmea2000 = {1, 1, 0};
  v.nmea0183 = {1, 0, 1};
  if (major * 1000 + minor >= 1003) v.imu = std::array<std::uint16_t, 3>{1, 0, 0};
  return v;
}

TimeDatum Datum(std::uint32_t elapsed) { return TimeDatum{18262, 12.5, elapsed}; }

template <class T>
const T& As(const Packet& packet) {
  const T* value = std::get_if<T>(&packet.payload);
  EXPECT_NE(value, nullptr) << "packet " << packet.id << " has another payload type";
  static const T kEmpty{};
  return value != nullptr ? *value : kEmpty;
}

TEST(WiblReader, ReadsEveryPacketTypeOfVersion13) {
  PacketWriter w;
  w.Version(Version(1, 3));
  w.SystemTime({18262, 3600.25, 1000, 0});
  w.Attitude({Datum(1001), 0.1, 0.2, 0.3});
  w.Depth({Datum(1002), 12.5, 0.4, 200});
  w.Cog({Datum(1003), 1.5, 2.5});
  Gnss gnss;
  gnss.datum = Datum(1004);
  gnss.msg_date = 18262;
  gnss.msg_timestamp = 3600.5;
  gnss.latitude = 43.5;
  gnss.longitude = -70.25;
  gnss.altitude = -19.3;
  gnss.receiver_type = 1;
  gnss.receiver_method = 2;
  gnss.num_svs = 12;
  gnss.horizontal_dop = 1.5;
  gnss.position_dop = 2.5;
  gnss.geoid_separation = 22.5;
  gnss.num_ref_stations = 1;
  gnss.ref_station_type = 4;
  gnss.ref_station_id = 513;
  gnss.correction_age = 1.25;
  w.Gnss(gnss);
  w.Environment({Datum(1005), 1, 290.5, 2, 55.5, 101325});
  w.Scalar(PacketId::Temperature, {Datum(1006), 0, 285.25});
  w.Scalar(PacketId::Humidity, {Datum(1007), 1, 60.5});
  w.Scalar(PacketId::Pressure, {Datum(1008), 0, 101000});
  w.Serial(1009, "$SDDBT,32.6,f,9.9,M,5.4,F*30");
  w.Motion({1010, {0.5f, -0.5f, 9.75f}, {0.125f, 0.25f, 0.375f}, 21.5f});
  w.Metadata("Gulf Surveyor", "WIBL-Simulator");
  w.Algorithm("nodatareject", "phase=raw");
  w.Text(PacketId::JsonMetadata, R"({"properties":{}})");
  w.Text(PacketId::Nmea0183Filter, "GGA");
  w.Text(PacketId::SensorScales, R"({"imu":{"recipAccelScale":8191.75}})");
  w.RawImu({1011, 512, {1, -2, 3}, {-4, 5, -6}});
  w.Text(PacketId::Setup, R"({"version":{"commandproc":"1.4.0"}})");

  auto contents = ReadWibl(w.Bytes(), ReadOptions{true});
  ASSERT_TRUE(contents) << contents.error().ToString();
  const auto& p = contents->packets;
  ASSERT_EQ(p.size(), 19u);
  const auto& version = As<SerialiserVersion>(p[0]);
  EXPECT_EQ(version.Numeric(), 1003);
  EXPECT_EQ(p[0].payload_bytes, 22u);
  ASSERT_TRUE(version.imu.has_value());
  EXPECT_EQ(version.nmea0183[2], 1);
  const auto& systime = As<SystemTime>(p[1]);
  EXPECT_EQ(systime.date, 18262);
  EXPECT_EQ(systime.timestamp, 3600.25);
  EXPECT_EQ(systime.elapsed, 1000u);
  EXPECT_EQ(p[1].payload_bytes, 15u);
  EXPECT_EQ(As<Attitude>(p[2]).roll, 0.3);
  EXPECT_EQ(p[2].payload_bytes, 38u);
  EXPECT_EQ(As<Depth>(p[3]).depth, 12.5);
  EXPECT_EQ(As<Depth>(p[3]).datum.elapsed, 1002u);
  EXPECT_EQ(As<Cog>(p[4]).sog, 2.5);
  EXPECT_EQ(p[4].payload_bytes, 30u);
  const auto& read_gnss = As<Gnss>(p[5]);
  EXPECT_EQ(p[5].payload_bytes, 87u);
  EXPECT_EQ(read_gnss.latitude, 43.5);
  EXPECT_EQ(read_gnss.longitude, -70.25);
  EXPECT_EQ(read_gnss.ref_station_id, 513);
  EXPECT_EQ(read_gnss.correction_age, 1.25);
  EXPECT_EQ(read_gnss.msg_timestamp, 3600.5);
  EXPECT_EQ(As<Environment>(p[6]).pressure, 101325);
  EXPECT_EQ(p[6].payload_bytes, 40u);
  EXPECT_EQ(As<ScalarObservation>(p[7]).value, 285.25);
  EXPECT_EQ(p[7].payload_bytes, 23u);
  EXPECT_EQ(As<ScalarObservation>(p[8]).value, 60.5);
  EXPECT_EQ(As<ScalarObservation>(p[9]).value, 101000);
  EXPECT_EQ(As<SerialString>(p[10]).data, "$SDDBT,32.6,f,9.9,M,5.4,F*30");
  EXPECT_EQ(As<SerialString>(p[10]).elapsed, 1009u);
  EXPECT_EQ(As<Motion>(p[11]).acceleration[2], 9.75f);
  EXPECT_EQ(p[11].payload_bytes, 32u);
  EXPECT_EQ(As<Metadata>(p[12]).first, "Gulf Surveyor");
  EXPECT_EQ(As<Metadata>(p[12]).second, "WIBL-Simulator");
  EXPECT_EQ(As<AlgorithmRequest>(p[13]).name, "nodatareject");
  EXPECT_EQ(As<AlgorithmRequest>(p[13]).parameters, "phase=raw");
  EXPECT_EQ(As<Text>(p[14]).text, R"({"properties":{}})");
  EXPECT_EQ(As<Text>(p[15]).text, "GGA");
  EXPECT_EQ(p[16].id, 16u);
  EXPECT_EQ(As<RawImu>(p[17]).acceleration[2], -6);
  EXPECT_EQ(p[17].payload_bytes, 18u);
  EXPECT_EQ(p[18].id, 18u);
  EXPECT_THAT(std::string(As<Text>(p[18]).text), HasSubstr("commandproc"));

  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].id, i) << "packet " << i;
  EXPECT_EQ(p[3].Elapsed(), 1002u);
  EXPECT_EQ(p[10].Elapsed(), 1009u);
  EXPECT_EQ(p[12].Elapsed(), std::nullopt);
  EXPECT_THAT(DescribePacket(p[1]), HasSubstr("@30 id=1 SystemTime elapsed=1000"));
}

TEST(WiblReader, Version10Has16ByteVersionPacketWithoutImu) {
  PacketWriter w;
  w.Version(Version(1, 0));
  auto contents = ReadWibl(w.Bytes(), ReadOptions{true});
  ASSERT_TRUE(contents) << contents.error().ToString();
  EXPECT_EQ(contents->packets[0].payload_bytes, 16u);
  EXPECT_FALSE(As<SerialiserVersion>(contents->packets[0]).imu.has_value());
  for (const int minor : {1, 2}) {
    PacketWriter older;
    older.Version(Version(1, static_cast<std::uint16_t>(minor)));
    EXPECT_TRUE(ReadWibl(older.Bytes(), ReadOptions{true}));
  }
}

TEST(WiblReader, NewerSerialiserVersionIsRefused) {
  PacketWriter w;
  w.Version(Version(1, 4));
  auto contents = ReadWibl(w.Bytes());
  ASSERT_FALSE(contents);
  EXPECT_EQ(contents.error().code, ErrorCode::Unsupported);
  EXPECT_THAT(contents.error().message, HasSubstr("serialiser version 1.4"));
  EXPECT_THAT(contents.error().message, HasSubstr("newer than 1.3"));
  PacketWriter two;
  two.Version(Version(2, 0));
  EXPECT_FALSE(ReadWibl(two.Bytes()));
}

TEST(WiblReader, UnknownIdsAreSkippedByTheirLength) {
  PacketWriter w;
  w.Version(Version(1, 3));
  w.Raw(19, std::string(100, '\xAB'));  // 1.4's RawGNSS
  w.Raw(4000, "xyz");
  w.SystemTime({18262, 1.0, 5, 0});
  auto contents = ReadWibl(w.Bytes(), ReadOptions{true});
  ASSERT_TRUE(contents) << contents.error().ToString();
  ASSERT_EQ(contents->packets.size(), 2u);
  EXPECT_EQ(contents->packets[1].id, 1u);
  EXPECT_EQ(contents->unknown_packets, 2u);
}

TEST(WiblReader, TruncatedPacketNamesOffsetAndIdWhenStrict) {
  PacketWriter w;
  w.Version(Version(1, 3));  // 30 bytes
  w.Depth({Datum(10), 5.0, 0, 0});
  std::string bytes = w.Take();
  bytes.resize(bytes.size() - 5);
  auto strict = ReadWibl(bytes, ReadOptions{true});
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(strict.error().message, HasSubstr("packet 3 (Depth) at byte offset 30"));
  EXPECT_THAT(strict.error().message, HasSubstr("truncated"));

  auto lenient = ReadWibl(bytes, ReadOptions{false});
  ASSERT_TRUE(lenient) << lenient.error().ToString();
  EXPECT_EQ(lenient->packets.size(), 1u);
  ASSERT_EQ(lenient->warnings.size(), 1u);
  EXPECT_EQ(lenient->warnings[0].offset, 30u);
  EXPECT_EQ(lenient->warnings[0].id, 3u);
}

TEST(WiblReader, WrongSizeOfFixedPacketIsCorruptOrSkipped) {
  PacketWriter w;
  w.Version(Version(1, 3));
  w.Raw(1, std::string(14, '\0'));  // SystemTime needs 15
  w.SystemTime({18262, 1.0, 5, 0});
  auto strict = ReadWibl(w.Bytes(), ReadOptions{true});
  ASSERT_FALSE(strict);
  EXPECT_THAT(strict.error().message,
              HasSubstr("packet 1 (SystemTime) at byte offset 30: payload is 14 bytes"));
  auto lenient = ReadWibl(w.Bytes());
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->packets.size(), 2u);  // the good SystemTime after the bad one is kept
  EXPECT_EQ(lenient->warnings.size(), 1u);
}

TEST(WiblReader, HugeStringLengthFailsWithoutAllocating) {
  PacketWriter w;
  w.Version(Version(1, 3));
  PayloadBuilder payload;
  payload.Put(std::uint32_t{0xFFFFFFF0u});  // claims a 4 GiB string in a 8-byte payload
  payload.Put(std::uint32_t{0});
  w.Raw(12, payload.Bytes());
  auto strict = ReadWibl(w.Bytes(), ReadOptions{true});
  ASSERT_FALSE(strict);
  EXPECT_THAT(strict.error().message, HasSubstr("packet 12 (Metadata) at byte offset 30"));
}

TEST(WiblReader, HugePayloadLengthIsTruncationNotAllocation) {
  PacketWriter w;
  w.Version(Version(1, 3));
  PayloadBuilder header;
  header.Put(std::uint32_t{10}).Put(std::uint32_t{0xFFFFFFFFu});
  std::string bytes = w.Bytes() + header.Bytes() + "short";
  auto strict = ReadWibl(bytes, ReadOptions{true});
  ASSERT_FALSE(strict);
  EXPECT_THAT(strict.error().message, HasSubstr("packet 10 (SerialString) at byte offset 30"));
}

TEST(WiblReader, TrailingBytesShorterThanAHeader) {
  PacketWriter w;
  w.Version(Version(1, 3));
  const std::string bytes = w.Bytes() + "abc";
  EXPECT_FALSE(ReadWibl(bytes, ReadOptions{true}));
  auto lenient = ReadWibl(bytes);
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->warnings.size(), 1u);
}

TEST(WiblReader, EmptyInputHasNoPackets) {
  auto contents = ReadWibl("", ReadOptions{true});
  ASSERT_TRUE(contents);
  EXPECT_TRUE(contents->packets.empty());
}

TEST(WiblReader, ManyCorruptPacketsDoNotRecurse) {
  PacketWriter w;
  w.Version(Version(1, 3));
  for (int i = 0; i < 200000; ++i) w.Raw(3, "x");
  auto lenient = ReadWibl(w.Bytes());
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->skipped, 200000u);
  EXPECT_EQ(lenient->warnings.size(), kMaxStoredWarnings);
}

TEST(WiblReader, PacketNames) {
  EXPECT_EQ(PacketName(5), "GNSS");
  EXPECT_EQ(PacketName(10), "SerialString");
  EXPECT_EQ(PacketName(18), "Setup");
  EXPECT_EQ(PacketName(19), "Unknown");
}

}  // namespace
}  // namespace sluice::wibl
