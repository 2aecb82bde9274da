#pragma once
/// Reader of WIBL logger files (research/wibl.md §1): a plain concatenation of packets, each
/// `uint32 id, uint32 payload_len, payload` little-endian, no file header, no padding, strings
/// length-prefixed (uint32) and not NUL-terminated. Serialiser versions 1.0–1.3 (§1.4) are read;
/// a SerialiserVersion packet newer than 1.3 is refused. Packet ids 0–18 are decoded (§1.3);
/// other ids are skipped by their length. Everything is read from bytes in memory: packets hold
/// views into those bytes, which must outlive them. No allocation depends on a length field
/// before that length has been checked against the bytes that remain.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::wibl {

/// Packet ids (research/wibl.md §1.3; firmware `enum PacketIDs`, wibl-python `PacketTypes`).
enum class PacketId : std::uint32_t {
  SerialiserVersion = 0,
  SystemTime = 1,
  Attitude = 2,
  Depth = 3,
  Cog = 4,
  Gnss = 5,
  Environment = 6,
  Temperature = 7,
  Humidity = 8,
  Pressure = 9,
  SerialString = 10,
  Motion = 11,
  Metadata = 12,
  AlgorithmRequest = 13,
  JsonMetadata = 14,
  Nmea0183Filter = 15,
  SensorScales = 16,
  RawImu = 17,
  Setup = 18,
};

/// The highest packet id this reader decodes; larger ids are skipped (§1.4: 19 = RawGNSS in the
/// unmerged 1.4 branch).
inline constexpr std::uint32_t kMaxKnownPacketId = 18;

/// The newest serialiser version read, as major*1000+minor (§1.4: wibl-python refuses > 1003).
inline constexpr int kNewestSerialiserVersion = 1003;

/// wibl-python's name of packet `id` ("SystemTime", "GNSS", …; §1.3 table), or "Unknown".
/// Thread-safe.
std::string_view PacketName(std::uint32_t id);

/// The NMEA2000 prefix of packets 2–9 (§1.3 "TimeDatum"): the logger's own estimate of real time
/// (ignored by processing) and the logger's millisecond counter.
struct TimeDatum {
  std::uint16_t date = 0;     ///< days since 1970-01-01 (logger estimate)
  double timestamp = 0;       ///< seconds since midnight (logger estimate)
  std::uint32_t elapsed = 0;  ///< ms since logger boot (millis())
};

/// id 0. `imu` is present from serialiser 1.3 on (22-byte payload; 16 bytes before).
struct SerialiserVersion {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::array<std::uint16_t, 3> nmea2000{};  ///< NMEA2000 logger version major, minor, patch
  std::array<std::uint16_t, 3> nmea0183{};  ///< NMEA0183 logger version major, minor, patch
  std::optional<std::array<std::uint16_t, 3>> imu;
  /// major*1000+minor, the comparison wibl-python uses (§1.4).
  [[nodiscard]] int Numeric() const { return major * 1000 + minor; }
};

/// id 1, PGN 126992: `date`/`timestamp` are the message's own time (days since epoch, s since
/// midnight UTC); `source` is tN2kTimeSource (0 GPS … 5 local crystal).
struct SystemTime {
  std::uint16_t date = 0;
  double timestamp = 0;
  std::uint32_t elapsed = 0;
  std::uint8_t source = 0;
};

/// id 2, PGN 127257; radians.
struct Attitude {
  TimeDatum datum;
  double yaw = 0, pitch = 0, roll = 0;
};

/// id 3, PGN 128267; metres below the transducer (offset and range are not used by processing).
/// -1e9 marks "not available" (§1.3).
struct Depth {
  TimeDatum datum;
  double depth = 0, offset = 0, range = 0;
};

/// id 4, PGN 129026: course over ground (rad, true) and speed over ground (m/s).
struct Cog {
  TimeDatum datum;
  double cog = 0, sog = 0;
};

/// id 5, PGN 129029. `msg_date`/`msg_timestamp` are the fix's time (days since epoch, s since
/// midnight UTC); latitude/longitude in degrees, altitude in metres; -1e9 = not available.
struct Gnss {
  TimeDatum datum;
  std::uint16_t msg_date = 0;
  double msg_timestamp = 0;
  double latitude = 0, longitude = 0, altitude = 0;
  std::uint8_t receiver_type = 0, receiver_method = 0, num_svs = 0;
  double horizontal_dop = 0, position_dop = 0, geoid_separation = 0;
  std::uint8_t num_ref_stations = 0, ref_station_type = 0;
  std::uint16_t ref_station_id = 0;
  double correction_age = 0;
};

/// id 6, PGN 130311 (deprecated): temperature K, humidity %, pressure Pa.
struct Environment {
  TimeDatum datum;
  std::uint8_t temperature_source = 0;
  double temperature = 0;
  std::uint8_t humidity_source = 0;
  double humidity = 0, pressure = 0;
};

/// ids 7 (temperature, K), 8 (humidity, %), 9 (pressure, Pa): one sourced value.
struct ScalarObservation {
  TimeDatum datum;
  std::uint8_t source = 0;
  double value = 0;
};

/// id 10: an NMEA0183 sentence as received (leading '$', '*hh'; CR/LF stripped by the firmware,
/// kept by wibl-python's simulator). `elapsed` is the counter when the '$' arrived.
struct SerialString {
  std::uint32_t elapsed = 0;
  std::string_view data;
};

/// id 11: legacy local IMU (MPU-6050), floats as logged.
struct Motion {
  std::uint32_t elapsed = 0;
  std::array<float, 3> acceleration{};
  std::array<float, 3> gyro{};
  float temperature = 0;
};

/// id 12: two strings. wibl-python treats the first as the logger's unique id and the second as
/// the ship name, although the firmware writes them the other way round (§1.6).
struct Metadata {
  std::string_view first;   ///< wibl-python `logger_name` → uniqueVesselID
  std::string_view second;  ///< wibl-python `ship_name` → platform.name
};

/// id 13: a processing request, e.g. "deduplicate" with "" or "nodatareject" with "phase=raw".
struct AlgorithmRequest {
  std::string_view name;
  std::string_view parameters;
};

/// ids 14 (JSONMetadata), 15 (NMEA0183Filter), 16 (SensorScales), 18 (Setup): one string.
struct Text {
  std::string_view text;
};

/// id 17: raw LSM6DSL readings (scale with the SensorScales packet).
struct RawImu {
  std::uint32_t elapsed = 0;
  std::int16_t temperature = 0;
  std::array<std::int16_t, 3> gyro{};
  std::array<std::int16_t, 3> acceleration{};
};

/// A decoded payload; std::monostate for ids this reader does not know.
using Payload = std::variant<std::monostate, SerialiserVersion, SystemTime, Attitude, Depth, Cog,
                             Gnss, Environment, ScalarObservation, SerialString, Motion, Metadata,
                             AlgorithmRequest, Text, RawImu>;

/// One packet of a file.
struct Packet {
  std::uint32_t id = 0;
  std::uint64_t offset = 0;          ///< byte offset of the packet header in the file
  std::uint32_t payload_bytes = 0;   ///< payload length as recorded
  Payload payload;

  /// The logger's millisecond counter of the packet, or nullopt for packets that carry none
  /// (version, metadata, algorithm, filter, scales, setup, unknown).
  [[nodiscard]] std::optional<std::uint32_t> Elapsed() const;
};

/// How strictly to read.
struct ReadOptions {
  /// true: a truncated or malformed packet is a Corrupt error. false (wibl-python's default,
  /// §1.1 "Corrupt packets"): it is skipped and counted in Reader::Warnings().
  bool strict = false;
};

/// A packet skipped because it was truncated or malformed (non-strict reading).
struct ReadWarning {
  std::uint64_t offset = 0;  ///< byte offset of the packet header
  std::uint32_t id = 0;      ///< the packet id, when the header was complete
  std::string message;       ///< e.g. "payload is 10 bytes, SystemTime needs 15"
};

/// Reads packets one at a time from bytes in memory. Not thread-safe; cheap to create.
class PacketReader {
 public:
  /// `bytes` must outlive the reader and the packets it returns.
  explicit PacketReader(std::string_view bytes, ReadOptions options = {});

  /// The next packet, or nullopt at the end of the file. Errors: Corrupt "packet <id> (<name>)
  /// at byte offset <n>: …" for a truncated or malformed packet when strict (otherwise the packet
  /// is skipped and a warning recorded; a truncated packet ends the file); Unsupported
  /// "serialiser version X.Y is newer than 1.3, the newest this build reads" for a newer file.
  Result<std::optional<Packet>> Next();

  /// The first kMaxStoredWarnings packets skipped (non-strict reading).
  [[nodiscard]] const std::vector<ReadWarning>& Warnings() const { return warnings_; }
  /// How many packets were skipped in all (warnings beyond the first ones are only counted, so
  /// a file of garbage cannot make the reader hold more memory than the file).
  [[nodiscard]] std::uint64_t Skipped() const { return skipped_; }
  /// Packets with ids above kMaxKnownPacketId, skipped by length.
  [[nodiscard]] std::uint64_t UnknownPackets() const { return unknown_packets_; }
  /// The byte offset of the next packet header.
  [[nodiscard]] std::uint64_t Offset() const { return offset_; }

 private:
  /// Records a skipped packet, or (strict) returns the Corrupt error naming it.
  Status Skip(std::uint64_t offset, std::uint32_t id, std::string message);

  std::string_view bytes_;
  ReadOptions options_;
  std::uint64_t offset_ = 0;
  std::vector<ReadWarning> warnings_;
  std::uint64_t skipped_ = 0;
  std::uint64_t unknown_packets_ = 0;
};

/// At most this many ReadWarnings are kept; later skipped packets are only counted.
inline constexpr std::size_t kMaxStoredWarnings = 1000;

/// Decodes one payload of packet `id` (exact sizes of §1.3; strings must fit the payload and
/// fill it). For id 0 the layout (16 or 22 bytes) follows the version in its own first 4 bytes,
/// as wibl-python decides (§1.3). Returns std::monostate for unknown ids; Corrupt "…" (without
/// offset) when the payload does not match its layout. Thread-safe.
Result<Payload> DecodePayload(std::uint32_t id, std::string_view payload);

/// Every packet of a file, with the skipped ones accounted for.
struct WiblContents {
  std::vector<Packet> packets;
  std::vector<ReadWarning> warnings;  ///< the first kMaxStoredWarnings skipped packets
  std::uint64_t skipped = 0;          ///< all skipped packets
  std::uint64_t unknown_packets = 0;
};

/// Reads every packet. Same errors as PacketReader::Next. Thread-safe.
Result<WiblContents> ReadWibl(std::string_view bytes, ReadOptions options = {});

/// Packet counts by name, as `wibl parsewibl -s` reports them: the packet name, or for
/// SerialString "SerialString:<sentence id>" (bytes 3..5 of the sentence, e.g. "GGA").
using PacketCounts = std::map<std::string, std::uint64_t, std::less<>>;

/// Adds `packet` to `counts`. Thread-compatible.
void CountPacket(const Packet& packet, PacketCounts& counts);

/// One human-readable line describing a packet (for `sluice wibl dump`), e.g.
/// "@120 id=1 SystemTime elapsed=2050 date=18262 timestamp=2.05 source=0". Thread-safe.
std::string DescribePacket(const Packet& packet);

}  // namespace sluice::wibl
