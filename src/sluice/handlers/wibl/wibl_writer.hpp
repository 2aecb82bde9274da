#pragma once
/// Writer of WIBL packets (research/wibl.md §1.1, §1.3): the inverse of wibl_reader.hpp, used by
/// the tests and by the synthetic-data generator `sluice-gen-wibl`. Little-endian, no padding,
/// strings as uint32 length + bytes. Not thread-safe; one writer per buffer.

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/handlers/wibl/wibl_reader.hpp"

namespace sluice::wibl {

/// Appends packets to an in-memory file.
class PacketWriter {
 public:
  /// The file so far.
  [[nodiscard]] const std::string& Bytes() const { return bytes_; }
  /// Moves the file out; the writer is empty afterwards.
  std::string Take() { return std::move(bytes_); }

  /// Any packet: header (id, payload length) then `payload` verbatim.
  void Raw(std::uint32_t id, std::string_view payload);

  /// id 0, 22 bytes when version >= 1.3 (with `imu`), else 16 bytes.
  void Version(const SerialiserVersion& version);
  void SystemTime(const wibl::SystemTime& packet);          ///< id 1, 15 bytes
  void Attitude(const wibl::Attitude& packet);              ///< id 2, 38 bytes
  void Depth(const wibl::Depth& packet);                    ///< id 3, 38 bytes
  void Cog(const wibl::Cog& packet);                        ///< id 4, 30 bytes
  void Gnss(const wibl::Gnss& packet);                      ///< id 5, 87 bytes
  void Environment(const wibl::Environment& packet);        ///< id 6, 40 bytes
  /// ids 7 (Temperature), 8 (Humidity), 9 (Pressure), 23 bytes.
  void Scalar(PacketId id, const ScalarObservation& packet);
  void Serial(std::uint32_t elapsed, std::string_view sentence);  ///< id 10
  void Motion(const wibl::Motion& packet);                  ///< id 11, 32 bytes
  void Metadata(std::string_view first, std::string_view second);           ///< id 12
  void Algorithm(std::string_view name, std::string_view parameters);       ///< id 13
  /// ids 14 (JSONMetadata), 15 (NMEA0183Filter), 16 (SensorScales), 18 (Setup).
  void Text(PacketId id, std::string_view text);
  void RawImu(const wibl::RawImu& packet);                  ///< id 17, 18 bytes

 private:
  std::string bytes_;
};

/// Little-endian payload builder used by PacketWriter (public for tests that forge payloads).
class PayloadBuilder {
 public:
  /// Appends `value` little-endian (uint8/16/32, int16, float, double).
  template <class T>
  PayloadBuilder& Put(T value);
  /// Appends a uint32 length then the bytes (no NUL), as the firmware writes strings (§1.1).
  PayloadBuilder& PutString(std::string_view text);
  /// The payload so far.
  [[nodiscard]] const std::string& Bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

/// Appends `*hh` (the NMEA0183 checksum of what follows the '$') to a sentence "$…". Thread-safe.
std::string WithChecksum(std::string_view sentence);

}  // namespace sluice::wibl
