#include "sluice/handlers/wibl/wibl_writer.hpp"

#include <fmt/format.h>

#include <bit>
#include <type_traits>

#include "sluice/handlers/wibl/nmea0183.hpp"

namespace sluice::wibl {

template <class T>
PayloadBuilder& PayloadBuilder::Put(T value) {
  static_assert(std::is_arithmetic_v<T>);
  using Bits = std::conditional_t<sizeof(T) == 1, std::uint8_t,
               std::conditional_t<sizeof(T) == 2, std::uint16_t,
               std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
  const auto bits = std::bit_cast<Bits>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bytes_ += static_cast<char>((bits >> (8 * i)) & 0xFFu);
  }
  return *this;
}

template PayloadBuilder& PayloadBuilder::Put<std::uint8_t>(std::uint8_t);
template PayloadBuilder& PayloadBuilder::Put<std::uint16_t>(std::uint16_t);
template PayloadBuilder& PayloadBuilder::Put<std::int16_t>(std::int16_t);
template PayloadBuilder& PayloadBuilder::Put<std::uint32_t>(std::uint32_t);
template PayloadBuilder& PayloadBuilder::Put<float>(float);
template PayloadBuilder& PayloadBuilder::Put<double>(double);

PayloadBuilder& PayloadBuilder::PutString(std::string_view text) {
  Put(static_cast<std::uint32_t>(text.size()));
  bytes_.append(text);
  return *this;
}

namespace {

void PutDatum(PayloadBuilder& b, const TimeDatum& d) {
  b.Put(d.date).Put(d.timestamp).Put(d.elapsed);
}

}  // namespace

void PacketWriter::Raw(std::uint32_t id, std::string_view payload) {
  PayloadBuilder header;
  header.Put(id).Put(static_cast<std::uint32_t>(payload.size()));
  bytes_ += header.Bytes();
  bytes_.append(payload);
}

void PacketWriter::Version(const SerialiserVersion& v) {
  PayloadBuilder b;
  b.Put(v.major).Put(v.minor);
  for (const auto part : v.nmea2000) b.Put(part);
  for (const auto part : v.nmea0183) b.Put(part);
  if (v.Numeric() >= 1003) {
    const auto imu = v.imu.value_or(std::array<std::uint16_t, 3>{1, 0, 0});
    for (const auto part : imu) b.Put(part);
  }
  Raw(0, b.Bytes());
}

void PacketWriter::SystemTime(const wibl::SystemTime& p) {
  PayloadBuilder b;
  b.Put(p.date).Put(p.timestamp).Put(p.elapsed).Put(p.source);
  Raw(1, b.Bytes());
}

void PacketWriter::Attitude(const wibl::Attitude& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.yaw).Put(p.pitch).Put(p.roll);
  Raw(2, b.Bytes());
}

void PacketWriter::Depth(const wibl::Depth& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.depth).Put(p.offset).Put(p.range);
  Raw(3, b.Bytes());
}

void PacketWriter::Cog(const wibl::Cog& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.cog).Put(p.sog);
  Raw(4, b.Bytes());
}

void PacketWriter::Gnss(const wibl::Gnss& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.msg_date).Put(p.msg_timestamp).Put(p.latitude).Put(p.longitude).Put(p.altitude);
  b.Put(p.receiver_type).Put(p.receiver_method).Put(p.num_svs);
  b.Put(p.horizontal_dop).Put(p.position_dop).Put(p.geoid_separation);
  b.Put(p.num_ref_stations).Put(p.ref_station_type).Put(p.ref_station_id).Put(p.correction_age);
  Raw(5, b.Bytes());
}

void PacketWriter::Environment(const wibl::Environment& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.temperature_source).Put(p.temperature).Put(p.humidity_source).Put(p.humidity);
  b.Put(p.pressure);
  Raw(6, b.Bytes());
}

void PacketWriter::Scalar(PacketId id, const ScalarObservation& p) {
  PayloadBuilder b;
  PutDatum(b, p.datum);
  b.Put(p.source).Put(p.value);
  Raw(static_cast<std::uint32_t>(id), b.Bytes());
}

void PacketWriter::Serial(std::uint32_t elapsed, std::string_view sentence) {
  PayloadBuilder b;
  b.Put(elapsed);
  Raw(10, b.Bytes() + std::string(sentence));
}

void PacketWriter::Motion(const wibl::Motion& p) {
  PayloadBuilder b;
  b.Put(p.elapsed);
  for (const float a : p.acceleration) b.Put(a);
  for (const float g : p.gyro) b.Put(g);
  b.Put(p.temperature);
  Raw(11, b.Bytes());
}

void PacketWriter::Metadata(std::string_view first, std::string_view second) {
  PayloadBuilder b;
  b.PutString(first).PutString(second);
  Raw(12, b.Bytes());
}

void PacketWriter::Algorithm(std::string_view name, std::string_view parameters) {
  PayloadBuilder b;
  b.PutString(name).PutString(parameters);
  Raw(13, b.Bytes());
}

void PacketWriter::Text(PacketId id, std::string_view text) {
  PayloadBuilder b;
  b.PutString(text);
  Raw(static_cast<std::uint32_t>(id), b.Bytes());
}

void PacketWriter::RawImu(const wibl::RawImu& p) {
  PayloadBuilder b;
  b.Put(p.elapsed).Put(p.temperature);
  for (const auto g : p.gyro) b.Put(g);
  for (const auto a : p.acceleration) b.Put(a);
  Raw(17, b.Bytes());
}

std::string WithChecksum(std::string_view sentence) {
  const std::string_view body =
      !sentence.empty() && sentence.front() == '$' ? sentence.substr(1) : sentence;
  return fmt::format("{}*{:02X}", sentence, nmea::Checksum(body));
}

}  // namespace sluice::wibl
