#include "sluice/handlers/wibl/wibl_reader.hpp"

// GCC 12 at -O2 reports the fully initialised packet structs copied into the std::variant below
// as maybe-uninitialized (a known false positive of its variant copy inlining; GCC bug 107138).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <type_traits>

namespace sluice::wibl {

namespace {

constexpr std::size_t kHeaderBytes = 8;

/// Reads little-endian fields from a payload, front to back (§1.1: no alignment padding).
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  [[nodiscard]] std::size_t Remaining() const { return bytes_.size() - position_; }
  [[nodiscard]] bool Failed() const { return failed_; }

  template <class T>
  T Get() {
    static_assert(std::is_arithmetic_v<T>);
    if (Remaining() < sizeof(T)) {
      failed_ = true;
      position_ = bytes_.size();
      return T{};
    }
    using Bits = std::conditional_t<sizeof(T) == 1, std::uint8_t,
                 std::conditional_t<sizeof(T) == 2, std::uint16_t,
                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    Bits bits = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&bits, bytes_.data() + position_, sizeof(T));
      position_ += sizeof(T);
      return std::bit_cast<T>(bits);
    }
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bits = static_cast<Bits>(
          bits | static_cast<Bits>(static_cast<Bits>(static_cast<unsigned char>(bytes_[position_ + i]))
                                   << (8 * i)));
    }
    position_ += sizeof(T);
    return std::bit_cast<T>(bits);
  }

  /// A uint32 length then that many bytes; fails (without allocating) when they do not fit.
  std::string_view String() {
    const auto length = Get<std::uint32_t>();
    if (failed_ || length > Remaining()) {
      failed_ = true;
      position_ = bytes_.size();
      return {};
    }
    const std::string_view text = bytes_.substr(position_, length);
    position_ += length;
    return text;
  }

  std::string_view Rest() {
    const std::string_view rest = bytes_.substr(position_);
    position_ = bytes_.size();
    return rest;
  }

 private:
  std::string_view bytes_;
  std::size_t position_ = 0;
  bool failed_ = false;
};

TimeDatum GetDatum(Cursor& in) {
  TimeDatum datum;
  datum.date = in.Get<std::uint16_t>();
  datum.timestamp = in.Get<double>();
  datum.elapsed = in.Get<std::uint32_t>();
  return datum;
}

/// Fixed payload sizes of §1.3 (computed from the struct formats, not wibl-python's docstrings).
std::optional<std::size_t> FixedSize(std::uint32_t id) {
  switch (static_cast<PacketId>(id)) {
    case PacketId::SystemTime: return 15;
    case PacketId::Attitude: return 38;
    case PacketId::Depth: return 38;
    case PacketId::Cog: return 30;
    case PacketId::Gnss: return 87;
    case PacketId::Environment: return 40;
    case PacketId::Temperature:
    case PacketId::Humidity:
    case PacketId::Pressure: return 23;
    case PacketId::Motion: return 32;
    case PacketId::RawImu: return 18;
    default: return std::nullopt;
  }
}

}  // namespace

std::string_view PacketName(std::uint32_t id) {
  static constexpr std::array<std::string_view, kMaxKnownPacketId + 1> kNames = {
      "SerialiserVersion", "SystemTime",       "Attitude",     "Depth",          "COG",
      "GNSS",              "Environment",      "Temperature",  "Humidity",       "Pressure",
      "SerialString",      "Motion",           "Metadata",     "AlgorithmRequest", "JSONMetadata",
      "NMEA0183Filter",    "SensorScales",     "RawIMU",       "Setup"};
  return id <= kMaxKnownPacketId ? kNames[id] : std::string_view("Unknown");
}

std::optional<std::uint32_t> Packet::Elapsed() const {
  return std::visit(
      [](const auto& p) -> std::optional<std::uint32_t> {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, SystemTime> || std::is_same_v<T, SerialString> ||
                      std::is_same_v<T, Motion> || std::is_same_v<T, RawImu>) {
          return p.elapsed;
        } else if constexpr (requires { p.datum; }) {
          return p.datum.elapsed;
        } else {
          return std::nullopt;
        }
      },
      payload);
}

Result<Payload> DecodePayload(std::uint32_t id, std::string_view payload) {
  if (id > kMaxKnownPacketId) return Payload{};
  if (const auto size = FixedSize(id); size && payload.size() != *size) {
    return Fail(ErrorCode::Corrupt, fmt::format("payload is {} bytes, {} needs {}", payload.size(),
                                                PacketName(id), *size));
  }
  Cursor in(payload);
  Payload decoded;
  switch (static_cast<PacketId>(id)) {
    case PacketId::SerialiserVersion: {
      SerialiserVersion v;
      v.major = in.Get<std::uint16_t>();
      v.minor = in.Get<std::uint16_t>();
      // wibl-python picks the layout from the version itself: 8 uint16 before 1.3, 11 from 1.3.
      const std::size_t expected = v.Numeric() < 1003 ? 16 : 22;
      if (payload.size() != expected) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("payload is {} bytes, SerialiserVersion {}.{} needs {}",
                                payload.size(), v.major, v.minor, expected));
      }
      for (auto& part : v.nmea2000) part = in.Get<std::uint16_t>();
      for (auto& part : v.nmea0183) part = in.Get<std::uint16_t>();
      if (expected == 22) {
        std::array<std::uint16_t, 3> imu{};
        for (auto& part : imu) part = in.Get<std::uint16_t>();
        v.imu = imu;
      }
      decoded = v;
      break;
    }
    case PacketId::SystemTime: {
      SystemTime p;
      p.date = in.Get<std::uint16_t>();
      p.timestamp = in.Get<double>();
      p.elapsed = in.Get<std::uint32_t>();
      p.source = in.Get<std::uint8_t>();
      decoded = p;
      break;
    }
    case PacketId::Attitude: {
      Attitude p;
      p.datum = GetDatum(in);
      p.yaw = in.Get<double>();
      p.pitch = in.Get<double>();
      p.roll = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::Depth: {
      Depth p;
      p.datum = GetDatum(in);
      p.depth = in.Get<double>();
      p.offset = in.Get<double>();
      p.range = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::Cog: {
      Cog p;
      p.datum = GetDatum(in);
      p.cog = in.Get<double>();
      p.sog = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::Gnss: {
      Gnss p;
      p.datum = GetDatum(in);
      p.msg_date = in.Get<std::uint16_t>();
      p.msg_timestamp = in.Get<double>();
      p.latitude = in.Get<double>();
      p.longitude = in.Get<double>();
      p.altitude = in.Get<double>();
      p.receiver_type = in.Get<std::uint8_t>();
      p.receiver_method = in.Get<std::uint8_t>();
      p.num_svs = in.Get<std::uint8_t>();
      p.horizontal_dop = in.Get<double>();
      p.position_dop = in.Get<double>();
      p.geoid_separation = in.Get<double>();
      p.num_ref_stations = in.Get<std::uint8_t>();
      p.ref_station_type = in.Get<std::uint8_t>();
      p.ref_station_id = in.Get<std::uint16_t>();
      p.correction_age = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::Environment: {
      Environment p;
      p.datum = GetDatum(in);
      p.temperature_source = in.Get<std::uint8_t>();
      p.temperature = in.Get<double>();
      p.humidity_source = in.Get<std::uint8_t>();
      p.humidity = in.Get<double>();
      p.pressure = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::Temperature:
    case PacketId::Humidity:
    case PacketId::Pressure: {
      ScalarObservation p;
      p.datum = GetDatum(in);
      p.source = in.Get<std::uint8_t>();
      p.value = in.Get<double>();
      decoded = p;
      break;
    }
    case PacketId::SerialString: {
      SerialString p;
      p.elapsed = in.Get<std::uint32_t>();
      p.data = in.Rest();
      decoded = p;
      break;
    }
    case PacketId::Motion: {
      Motion p;
      p.elapsed = in.Get<std::uint32_t>();
      for (auto& a : p.acceleration) a = in.Get<float>();
      for (auto& g : p.gyro) g = in.Get<float>();
      p.temperature = in.Get<float>();
      decoded = p;
      break;
    }
    case PacketId::Metadata: {
      Metadata p;
      p.first = in.String();
      p.second = in.String();
      decoded = p;
      break;
    }
    case PacketId::AlgorithmRequest: {
      AlgorithmRequest p;
      p.name = in.String();
      p.parameters = in.String();
      decoded = p;
      break;
    }
    case PacketId::JsonMetadata:
    case PacketId::Nmea0183Filter:
    case PacketId::SensorScales:
    case PacketId::Setup: {
      decoded = Text{in.String()};
      break;
    }
    case PacketId::RawImu: {
      RawImu p;
      p.elapsed = in.Get<std::uint32_t>();
      p.temperature = in.Get<std::int16_t>();
      for (auto& g : p.gyro) g = in.Get<std::int16_t>();
      for (auto& a : p.acceleration) a = in.Get<std::int16_t>();
      decoded = p;
      break;
    }
  }
  if (in.Failed()) {
    return Fail(ErrorCode::Corrupt,
                fmt::format("payload of {} bytes ends inside a field or string", payload.size()));
  }
  if (in.Remaining() != 0) {
    return Fail(ErrorCode::Corrupt, fmt::format("{} unused bytes at the end of the payload",
                                                in.Remaining()));
  }
  return decoded;
}

PacketReader::PacketReader(std::string_view bytes, ReadOptions options)
    : bytes_(bytes), options_(options) {}

Status PacketReader::Skip(std::uint64_t offset, std::uint32_t id, std::string message) {
  if (options_.strict) {
    return Fail(ErrorCode::Corrupt, fmt::format("packet {} ({}) at byte offset {}: {}", id,
                                                PacketName(id), offset, message));
  }
  ++skipped_;
  if (warnings_.size() < kMaxStoredWarnings) {
    warnings_.push_back(ReadWarning{offset, id, std::move(message)});
  }
  return Ok();
}

Result<std::optional<Packet>> PacketReader::Next() {
  while (true) {
    const std::uint64_t remaining = bytes_.size() - offset_;
    if (remaining == 0) return std::optional<Packet>();
    const std::uint64_t offset = offset_;
    if (remaining < kHeaderBytes) {
      if (options_.strict) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("{} bytes at byte offset {} are too short for a packet header",
                                remaining, offset));
      }
      ++skipped_;
      if (warnings_.size() < kMaxStoredWarnings) {
        warnings_.push_back(ReadWarning{
            offset, 0, fmt::format("{} trailing bytes, too short for a packet header", remaining)});
      }
      offset_ = bytes_.size();
      return std::optional<Packet>();
    }
    Cursor header(bytes_.substr(offset, kHeaderBytes));
    Packet packet;
    packet.id = header.Get<std::uint32_t>();
    packet.payload_bytes = header.Get<std::uint32_t>();
    packet.offset = offset;
    if (packet.payload_bytes > remaining - kHeaderBytes) {
      SLUICE_RETURN_IF_ERROR(Skip(offset, packet.id,
                                  fmt::format("truncated: payload of {} bytes but only {} remain",
                                              packet.payload_bytes, remaining - kHeaderBytes)));
      offset_ = bytes_.size();
      return std::optional<Packet>();
    }
    offset_ = offset + kHeaderBytes + packet.payload_bytes;
    if (packet.id > kMaxKnownPacketId) {
      ++unknown_packets_;
      continue;
    }
    const std::string_view payload = bytes_.substr(offset + kHeaderBytes, packet.payload_bytes);
    auto decoded = DecodePayload(packet.id, payload);
    if (!decoded) {
      SLUICE_RETURN_IF_ERROR(Skip(offset, packet.id, std::move(decoded).error().message));
      continue;
    }
    if (const auto* version = std::get_if<SerialiserVersion>(&*decoded);
        version != nullptr && version->Numeric() > kNewestSerialiserVersion) {
      return Fail(ErrorCode::Unsupported,
                  fmt::format("serialiser version {}.{} (packet at byte offset {}) is newer than "
                              "1.3, the newest this build reads",
                              version->major, version->minor, offset));
    }
    packet.payload = std::move(*decoded);
    return std::optional<Packet>(std::move(packet));
  }
}

Result<WiblContents> ReadWibl(std::string_view bytes, ReadOptions options) {
  PacketReader reader(bytes, options);
  WiblContents contents;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(auto packet, reader.Next());
    if (!packet) break;
    contents.packets.push_back(std::move(*packet));
  }
  contents.warnings = reader.Warnings();
  contents.skipped = reader.Skipped();
  contents.unknown_packets = reader.UnknownPackets();
  return contents;
}

void CountPacket(const Packet& packet, PacketCounts& counts) {
  if (const auto* serial = std::get_if<SerialString>(&packet.payload)) {
    const std::string_view id = serial->data.size() > 3 ? serial->data.substr(3, 3) : "";
    ++counts[fmt::format("SerialString:{}", id)];
    return;
  }
  const std::string_view name = PacketName(packet.id);
  const auto found = counts.find(name);
  if (found != counts.end()) {
    ++found->second;
  } else {
    counts.emplace(std::string(name), 1);
  }
}

namespace {

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Datum(const TimeDatum& d) {
  return fmt::format("elapsed={} date={} timestamp={}", d.elapsed, d.date, d.timestamp);
}

}  // namespace

std::string DescribePacket(const Packet& packet) {
  const std::string head =
      fmt::format("@{} id={} {}", packet.offset, packet.id, PacketName(packet.id));
  const std::string body = std::visit(
      [&](const auto& p) -> std::string {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return fmt::format("{} bytes", packet.payload_bytes);
        } else if constexpr (std::is_same_v<T, SerialiserVersion>) {
          std::string text = fmt::format("version={}.{} nmea2000={}.{}.{} nmea0183={}.{}.{}",
                                         p.major, p.minor, p.nmea2000[0], p.nmea2000[1],
                                         p.nmea2000[2], p.nmea0183[0], p.nmea0183[1],
                                         p.nmea0183[2]);
          if (p.imu) text += fmt::format(" imu={}.{}.{}", (*p.imu)[0], (*p.imu)[1], (*p.imu)[2]);
          return text;
        } else if constexpr (std::is_same_v<T, SystemTime>) {
          return fmt::format("elapsed={} date={} timestamp={} source={}", p.elapsed, p.date,
                             p.timestamp, p.source);
        } else if constexpr (std::is_same_v<T, Attitude>) {
          return fmt::format("{} yaw={} pitch={} roll={}", Datum(p.datum), p.yaw, p.pitch, p.roll);
        } else if constexpr (std::is_same_v<T, Depth>) {
          return fmt::format("{} depth={} offset={} range={}", Datum(p.datum), p.depth, p.offset,
                             p.range);
        } else if constexpr (std::is_same_v<T, Cog>) {
          return fmt::format("{} cog={} sog={}", Datum(p.datum), p.cog, p.sog);
        } else if constexpr (std::is_same_v<T, Gnss>) {
          return fmt::format("{} msg_date={} msg_timestamp={} lat={} lon={} alt={} svs={} hdop={}",
                             Datum(p.datum), p.msg_date, p.msg_timestamp, p.latitude, p.longitude,
                             p.altitude, p.num_svs, p.horizontal_dop);
        } else if constexpr (std::is_same_v<T, Environment>) {
          return fmt::format("{} temperature={} humidity={} pressure={}", Datum(p.datum),
                             p.temperature, p.humidity, p.pressure);
        } else if constexpr (std::is_same_v<T, ScalarObservation>) {
          return fmt::format("{} source={} value={}", Datum(p.datum), p.source, p.value);
        } else if constexpr (std::is_same_v<T, SerialString>) {
          return fmt::format("elapsed={} {}", p.elapsed, Printable(p.data));
        } else if constexpr (std::is_same_v<T, Motion>) {
          return fmt::format("elapsed={} accel={},{},{} gyro={},{},{} temp={}", p.elapsed,
                             p.acceleration[0], p.acceleration[1], p.acceleration[2], p.gyro[0],
                             p.gyro[1], p.gyro[2], p.temperature);
        } else if constexpr (std::is_same_v<T, Metadata>) {
          return fmt::format("first='{}' second='{}'", Printable(p.first), Printable(p.second));
        } else if constexpr (std::is_same_v<T, AlgorithmRequest>) {
          return fmt::format("name='{}' parameters='{}'", Printable(p.name),
                             Printable(p.parameters));
        } else if constexpr (std::is_same_v<T, Text>) {
          return Printable(p.text);
        } else {
          static_assert(std::is_same_v<T, RawImu>);
          return fmt::format("elapsed={} temp={} gyro={},{},{} accel={},{},{}", p.elapsed,
                             p.temperature, p.gyro[0], p.gyro[1], p.gyro[2], p.acceleration[0],
                             p.acceleration[1], p.acceleration[2]);
        }
      },
      packet.payload);
  return head + " " + body;
}

}  // namespace sluice::wibl
