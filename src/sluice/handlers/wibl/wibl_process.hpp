#pragma once
/// WIBL → CSB 3.1 GeoJSON processing, reproducing wibl-python 1.2.0 (research/wibl.md §2.2–§2.6):
/// load every packet, run the requested ON_LOAD algorithms (`nodatareject`), choose the time
/// source, repair missing elapsed times, undo counter wraps, build the time, position and depth
/// tables, interpolate time and position at every depth with numpy.interp's clamping, run
/// `deduplicate`, and fill the GeoJSON template with metadata merged in.
///
/// Compatibility first: with default options the soundings (count, order, times to the
/// microsecond, coordinates and depths as doubles) equal wibl-python's. Where wibl-python is wrong
/// (§2.8) an option, off by default, does the right thing: see ProcessOptions.
///
/// Deliberate differences, all where wibl-python raises and aborts the file: a malformed number or
/// coordinate in an NMEA0183 sentence skips that sentence; a file without positions or without a
/// usable time reference is an error with that reason; naive ZDA/RMC times are taken as UTC.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sluice/core/error.hpp"
#include "sluice/handlers/wibl/wibl_reader.hpp"

namespace sluice::wibl {

/// Where real time comes from (§2.2 step 4, first match wins).
enum class TimeSource { SystemTime, Gnss, Zda, Rmc };

/// "SystemTime", "GNSS", "ZDA" or "RMC". Thread-safe.
std::string_view ToString(TimeSource source);

/// How to process a file.
struct ProcessOptions {
  /// DCDB trusted-node id (wibl-python's PROVIDER_ID, e.g. "UNHJHC"): prefixed with '-' to the
  /// uniqueVesselID unless already a substring of it (§2.6 step 2). Empty: no prefix.
  std::string provider_id;
  /// Bits of the logger's elapsed-time counter, 1..63: 32 for WIBL loggers, 16 for files
  /// converted from YDVR-04 logs (§1.5, §3.1 `elapsed_time_width`).
  int elapsed_time_width = 32;
  /// A truncated or malformed packet fails the file (Corrupt) instead of being skipped (§1.1).
  bool strict = false;
  /// Run the algorithms the file requests (AlgorithmRequest packets); false skips them all.
  bool process_algorithms = true;
  /// Extra metadata merged after the file's JSONMetadata packet, with the same rules (§2.6 step
  /// 1): `crs` replaces, `properties` deep-merges. Must be an object when set.
  std::optional<nlohmann::ordered_json> metadata;
  /// "Now", for lineage timestamps and nodatareject's "date in the future" test. Default: the
  /// system clock at processing time.
  std::optional<std::chrono::system_clock::time_point> now;
  /// `source` of the lineage elements: the implementation whose algorithms are reproduced.
  std::string algorithm_source = "WIBL-1.2.0";

  // ---- Fixes of wibl-python's mistakes (research §2.8); all off by default. ----

  /// GGA/GLL sentences without a fix (empty coordinate or hemisphere, GGA quality 0, GLL status
  /// 'V') and GNSS packets with the N/A value -1e9 give no position. wibl-python turns empty GGA
  /// fields into 0°,0° ("null island") and interpolates towards it.
  bool reject_null_positions = false;
  /// Only a backward step of more than half the counter range counts as a counter wrap; smaller
  /// ones (NMEA0183 stamped at '$' but stored at end of line, interleaved with NMEA2000) are
  /// jitter, and the time and position tables are sorted before interpolation. wibl-python adds
  /// 2^width for every backward step, throwing all later data ~49.7 days (width 32) forward.
  bool robust_counter_wrap = false;
  /// Positions come from one stream: NMEA2000 GNSS if the file has any, keeping only fixes newer
  /// than the newest kept (a second, lagging talker repeats old fixes); else the first NMEA0183
  /// talker and sentence (GGA or GLL) seen. wibl-python merges all talkers (issue #51).
  bool single_position_source = false;
  /// Depths come from one source: NMEA2000 Depth if the file has any, else DPT, else DBT.
  /// wibl-python keeps all of them, so one ping logged on both buses becomes two soundings.
  bool single_depth_source = false;
  /// An algorithm request without parameters (e.g. `deduplicate`) gets `"parameters": null` in
  /// its lineage element. wibl-python writes `""`, which csbschema 3.1 refuses (parameters must
  /// be null or an object), so its own validation step rejects such files (research §2.6).
  bool null_empty_parameters = false;
};

/// One sounding: time, position and depth at the moment a depth was logged.
struct Sounding {
  double time = 0;       ///< seconds since 1970-01-01 UTC (interpolated)
  double longitude = 0;  ///< degrees east (interpolated)
  double latitude = 0;   ///< degrees north (interpolated)
  double depth = 0;      ///< metres below the transducer (as logged)
};

/// The result of processing one file.
struct ProcessedFile {
  std::vector<Sounding> soundings;      ///< in file order, after the algorithms
  nlohmann::ordered_json crs;           ///< the GeoJSON `crs` member
  nlohmann::ordered_json properties;    ///< the GeoJSON `properties` member (CSB 3.1)
  std::optional<std::string> logger_name;  ///< first string of the Metadata packet
  std::string logger_version;              ///< e.g. "1.3/1.0.0/1.0.1" (§1.4)
  TimeSource time_source = TimeSource::SystemTime;
  std::uint64_t packets = 0;           ///< packets decoded
  std::uint64_t skipped_packets = 0;   ///< malformed or truncated packets skipped (non-strict)
  std::uint64_t unknown_packets = 0;   ///< packets with unknown ids, skipped by length
  std::uint64_t nmea_faults = 0;       ///< NMEA0183 sentences that could not be used
  std::uint64_t raw_depths = 0;        ///< depths before the AFTER_TIME_INTERP algorithms

  /// properties.trustedNode.uniqueVesselID, or "" when absent or not a string.
  [[nodiscard]] std::string UniqueVesselId() const;
};

/// Processes the bytes of one WIBL file; `file_name` appears in messages. Errors (context =
/// `file_name`): Unsupported "serialiser version X.Y is newer than 1.3…" and "Unknown algorithm
/// 'NAME' for FILE." (wibl-python's UnknownAlgorithm text); Corrupt "no time source: …", "no
/// depth data …", "no position data …", "no usable time reference …", "no SerialiserVersion
/// packet", "JSONMetadata packet is not valid JSON: …", "JSONMetadata packet nests deeper than 100
/// levels", "more than 64 different algorithm requests", a packet error when `strict`;
/// InvalidArgument for bad options or malformed algorithm parameters. Thread-safe.
Result<ProcessedFile> ProcessWibl(std::string_view bytes, std::string_view file_name,
                                  const ProcessOptions& options = {});

/// The GeoJSON text of a processed file, byte for byte as the conversion lambda's
/// `json.dumps(geojson)` writes it (§2.1, §2.6). Thread-safe.
std::string FormatGeoJson(const ProcessedFile& file);

/// Merges `addition` into `base` like Python deepmerge's `always_merger` (§2.6): objects merge
/// key by key (new keys appended), arrays are concatenated, anything else is replaced.
void DeepMerge(nlohmann::ordered_json& base, const nlohmann::ordered_json& addition);

/// The output key of a WIBL object key: ".wibl" replaced by ".json" (or ".json" appended).
std::string GeoJsonKeyFor(std::string_view wibl_key);

}  // namespace sluice::wibl
