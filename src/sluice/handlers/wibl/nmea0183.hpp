#pragma once
/// NMEA0183 sentences as found in WIBL SerialString packets (research/wibl.md §1.5), parsed with
/// the semantics wibl-python gets from pynmea2 1.19 (§2.3, §2.8): sentence syntax
/// `[$]TTSSS,f1,f2,…[*hh][\r\n]`, the checksum checked only when present, and field conversions
/// that yield "no value" for an empty or unconvertible field. Only the sentences processing uses
/// are interpreted: GGA, GLL (position), DBT, DPT (depth), ZDA, RMC (time), HDT, MTW, MWD.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sluice/core/error.hpp"

namespace sluice::wibl::nmea {

/// At most this many data fields are kept; later ones are dropped (the sentences interpreted here
/// use at most 9, and the logger's sentences are at most 128 bytes: §1.5).
inline constexpr std::size_t kMaxFields = 24;

/// One parsed talker sentence. Views point into the text given to ParseSentence.
struct Sentence {
  std::array<char, 2> talker{};  ///< e.g. "GP", upper-cased
  std::array<char, 3> type{};    ///< e.g. "GGA", upper-cased
  std::array<std::string_view, kMaxFields> fields{};  ///< data fields after "TTSSS,"
  std::size_t field_count = 0;
  bool has_checksum = false;  ///< a `*hh` was present (and matched)

  [[nodiscard]] std::string_view Talker() const { return {talker.data(), talker.size()}; }
  [[nodiscard]] std::string_view Type() const { return {type.data(), type.size()}; }
  /// Field `i` (0 = first data field), or "" when the sentence has fewer fields.
  [[nodiscard]] std::string_view Field(std::size_t i) const {
    return i < field_count ? fields[i] : std::string_view();
  }
};

/// Parses a sentence. Errors: Corrupt "not an NMEA0183 sentence" (syntax), Corrupt "checksum
/// mismatch: sentence says 4F, computed 4E", Unsupported for proprietary (`$P…`) and query
/// sentences (which carry nothing processing uses). Thread-safe.
Result<Sentence> ParseSentence(std::string_view text);

/// XOR of the bytes between '$' and '*' (NMEA 0183 checksum). Thread-safe.
std::uint8_t Checksum(std::string_view body);

/// A latitude/longitude pair in signed decimal degrees.
struct Position {
  double latitude = 0;
  double longitude = 0;
};

/// pynmea2's `dm_to_sd`: "dddmm.mmmm" → degrees (deg + minutes/60, computed in double as
/// `float(deg) + float(min)/60`); "" and "0" give 0.0. Corrupt when the text does not match
/// `^\d+\d\d\.\d+$` (wibl-python aborts the file there; callers here skip the sentence).
Result<double> DegreesFromDm(std::string_view dm);

/// Position of a GGA (fields 1–4) or GLL (fields 0–3) sentence with pynmea2's semantics: an empty
/// coordinate or a hemisphere other than N/S (E/W) yields 0.0 — the "null island" of §2.8.
/// InvalidArgument for other sentence types; Corrupt for malformed coordinates.
Result<Position> LatLon(const Sentence& sentence);

/// True when a GGA/GLL sentence really carries a fix: both coordinates and hemispheres present,
/// and not a GGA with quality 0 nor a GLL with status 'V'. (Not pynmea2: used by the
/// `reject_null_positions` fix of §2.8.)
bool HasFix(const Sentence& sentence);

/// Real time of a ZDA or RMC sentence, seconds since 1970-01-01 UTC (µs resolution, as
/// `datetime.combine(date, time).timestamp()`), or nullopt when its date or time field is empty
/// or invalid. Time "hhmmss[.sss]": fraction truncated to µs like pynmea2
/// (`int(float(".sss")*1e6)`); ZDA date from day/month/year fields, RMC date "ddmmyy" (years
/// 69–99 → 19xx). InvalidArgument for other sentence types. Thread-safe.
Result<std::optional<double>> ReferenceTime(const Sentence& sentence);

/// pynmea2's Decimal fields (DBT metres = field 2, DPT depth = field 0, HDT heading = field 0,
/// MTW temperature = field 0, MWD true direction = field 0 and m/s speed = field 6): nullopt when
/// empty, Corrupt when not a number (Python's Decimal raises there). Thread-safe.
Result<std::optional<double>> DecimalField(const Sentence& sentence, std::size_t index);

/// Python's float() of a text: surrounding whitespace ignored, "inf"/"nan" accepted; nullopt when
/// not a number. Correctly rounded, like Python. Thread-safe.
std::optional<double> ParsePythonFloat(std::string_view text);

/// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative before). Thread-safe.
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);

}  // namespace sluice::wibl::nmea
