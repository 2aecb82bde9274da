#include "sluice/handlers/wibl/nmea0183.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <limits>
#include <string>

namespace sluice::wibl::nmea {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWord(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  const char u = Upper(c);
  if (u >= 'A' && u <= 'F') return u - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

/// Python's int() of a decimal text (whitespace and one sign allowed), nullopt otherwise.
std::optional<std::int64_t> ParsePythonInt(std::string_view text) {
  text = Trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::int64_t value = 0;
  for (const char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

struct TimeOfDay {
  int hour = 0, minute = 0, second = 0;
  std::int64_t microsecond = 0;
};

/// pynmea2 `timestamp()`: "hhmmss[.sss]"; nullopt where it would raise ValueError (which its
/// field access turns into None).
std::optional<TimeOfDay> ParseTimestamp(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const auto part = [&](std::size_t from, std::size_t n) {
    return from < s.size() ? s.substr(from, n) : std::string_view();
  };
  TimeOfDay t;
  const std::string_view fraction = part(6, std::string_view::npos);
  if (!fraction.empty()) {
    const auto f = ParsePythonFloat(fraction);
    if (!f) return std::nullopt;
    const double scaled = *f * 1000000.0;
    if (!(scaled > -1e18 && scaled < 1e18)) return std::nullopt;
    t.microsecond = static_cast<std::int64_t>(scaled);  // int(): truncation toward zero
  }
  const auto h = ParsePythonInt(part(0, 2));
  const auto m = ParsePythonInt(part(2, 2));
  const auto sec = ParsePythonInt(part(4, 2));
  if (!h || !m || !sec) return std::nullopt;
  if (*h < 0 || *h > 23 || *m < 0 || *m > 59 || *sec < 0 || *sec > 59 || t.microsecond < 0 ||
      t.microsecond > 999999) {
    return std::nullopt;
  }
  t.hour = static_cast<int>(*h);
  t.minute = static_cast<int>(*m);
  t.second = static_cast<int>(*sec);
  return t;
}

bool IsLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ValidDate(std::int64_t y, std::int64_t m, std::int64_t d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const int days = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  return d <= days;
}

bool IsType(const Sentence& s, std::string_view type) { return s.Type() == type; }

}  // namespace

std::uint8_t Checksum(std::string_view body) {
  // Eight bytes at a time (XOR is bytewise, so the lanes fold into the same sum).
  std::uint64_t lanes = 0;
  std::size_t i = 0;
  for (; i + 8 <= body.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, body.data() + i, 8);
    lanes ^= word;
  }
  lanes ^= lanes >> 32;
  lanes ^= lanes >> 16;
  lanes ^= lanes >> 8;
  auto sum = static_cast<std::uint8_t>(lanes);
  for (; i < body.size(); ++i) {
    sum = static_cast<std::uint8_t>(sum ^ static_cast<std::uint8_t>(body[i]));
  }
  return sum;
}

Result<Sentence> ParseSentence(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  if (i < text.size() && text[i] == '$') ++i;
  const std::size_t body_start = i;
  // The body runs to the first '*' (or the end); after a '*' only two hex digits and trailing
  // whitespace may follow.
  std::size_t star = text.find('*', body_start);
  bool has_checksum = false;
  int declared = 0;
  std::size_t body_end = text.size();
  if (star != std::string_view::npos) {
    body_end = star;
    if (star + 3 > text.size() || HexValue(text[star + 1]) < 0 || HexValue(text[star + 2]) < 0) {
      return Fail(ErrorCode::Corrupt, "not an NMEA0183 sentence: bad checksum field");
    }
    for (std::size_t k = star + 3; k < text.size(); ++k) {
      if (!IsSpace(text[k])) {
        return Fail(ErrorCode::Corrupt, "not an NMEA0183 sentence: text after the checksum");
      }
    }
    has_checksum = true;
    declared = HexValue(text[star + 1]) * 16 + HexValue(text[star + 2]);
  }
  const std::string_view body = text.substr(body_start, body_end - body_start);
  // Sentence type alternatives in pynmea2's order: proprietary "P" + 3 word characters, query
  // "ttssQ,sss", talker "ttsss,".
  const auto word_run = [&](std::size_t from, std::size_t n) {
    if (from + n > body.size()) return false;
    for (std::size_t k = from; k < from + n; ++k) {
      if (!IsWord(body[k])) return false;
    }
    return true;
  };
  if (!body.empty() && Upper(body[0]) == 'P' && word_run(1, 3)) {
    return Fail(ErrorCode::Unsupported, "proprietary sentence");
  }
  if (word_run(0, 4) && body.size() > 5 && Upper(body[4]) == 'Q' && body[5] == ',' &&
      word_run(6, 3)) {
    return Fail(ErrorCode::Unsupported, "query sentence");
  }
  if (!word_run(0, 5) || body.size() < 6 || body[5] != ',') {
    return Fail(ErrorCode::Corrupt, "not an NMEA0183 sentence: no 'ttsss,' sentence type");
  }
  if (has_checksum) {
    const std::uint8_t computed = Checksum(body);
    if (computed != declared) {
      return Fail(ErrorCode::Corrupt, fmt::format("checksum mismatch: sentence says {:02X}, "
                                                  "computed {:02X}",
                                                  declared, computed));
    }
  }
  Sentence sentence;
  sentence.has_checksum = has_checksum;
  sentence.talker = {Upper(body[0]), Upper(body[1])};
  sentence.type = {Upper(body[2]), Upper(body[3]), Upper(body[4])};
  std::string_view data = body.substr(6);
  while (sentence.field_count < kMaxFields) {
    const std::size_t comma = data.find(',');
    sentence.fields[sentence.field_count++] = data.substr(0, comma);
    if (comma == std::string_view::npos) break;
    data.remove_prefix(comma + 1);
  }
  return sentence;
}

std::optional<double> ParsePythonFloat(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  std::string_view rest = text;
  bool negative = false;
  if (rest.front() == '+' || rest.front() == '-') {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  // "inf", "infinity" and "nan" in any case; only looked at when the text starts with a letter
  // (this runs for every number of every sentence).
  if (!rest.empty() && !IsDigit(rest.front()) && rest.front() != '.' && rest.size() <= 8) {
    char lower[8];
    for (std::size_t k = 0; k < rest.size(); ++k) {
      const char c = rest[k];
      lower[k] = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    const std::string_view word(lower, rest.size());
    if (word == "inf" || word == "infinity") {
      return negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    }
    if (word == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  // digits [. digits] [e [sign] digits], with at least one mantissa digit.
  std::size_t k = 0;
  std::size_t mantissa_digits = 0;
  while (k < rest.size() && IsDigit(rest[k])) ++k, ++mantissa_digits;
  if (k < rest.size() && rest[k] == '.') {
    ++k;
    while (k < rest.size() && IsDigit(rest[k])) ++k, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (k < rest.size() && (rest[k] == 'e' || rest[k] == 'E')) {
    ++k;
    if (k < rest.size() && (rest[k] == '+' || rest[k] == '-')) ++k;
    std::size_t exponent_digits = 0;
    while (k < rest.size() && IsDigit(rest[k])) ++k, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (k != rest.size()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (end != rest.data() + rest.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Python rounds overflow to inf and underflow to 0.
    bool big = false;
    for (std::size_t e = 0; e < rest.size(); ++e) {
      if (rest[e] == 'e' || rest[e] == 'E') big = rest.find('-', e) == std::string_view::npos;
    }
    value = big ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  // H. Hinnant's days_from_civil (public domain algorithm).
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Result<double> DegreesFromDm(std::string_view dm) {
  if (dm.empty() || dm == "0") return 0.0;
  const std::size_t dot = dm.find('.');
  // ^(\d+)(\d\d\.\d+)$: at least 3 digits before the one '.', at least one after.
  bool ok = dot != std::string_view::npos && dot >= 3 && dot + 1 < dm.size();
  for (std::size_t k = 0; ok && k < dm.size(); ++k) {
    if (k != dot && !IsDigit(dm[k])) ok = false;
  }
  if (!ok) {
    return Fail(ErrorCode::Corrupt,
                fmt::format("coordinate '{}' is not in DDDMM.MMM form", dm));
  }
  // The text is digits around one '.', so float() of each part is what from_chars reads (no
  // sign, space or exponent to handle as ParsePythonFloat does); whole degrees of up to 15
  // digits are exact as an integer. This runs twice per GGA/GLL sentence.
  const std::string_view degree_text = dm.substr(0, dot - 2);
  double degrees = 0;
  if (degree_text.size() <= 15) {
    std::int64_t whole = 0;
    for (const char c : degree_text) whole = whole * 10 + (c - '0');
    degrees = static_cast<double>(whole);
  } else {
    degrees = *ParsePythonFloat(degree_text);
  }
  double minutes = 0;
  const std::string_view minute_text = dm.substr(dot - 2);
  const auto [end, ec] =
      std::from_chars(minute_text.data(), minute_text.data() + minute_text.size(), minutes);
  if (ec != std::errc() || end != minute_text.data() + minute_text.size()) {
    minutes = *ParsePythonFloat(minute_text);  // out of range: Python's overflow rules
  }
  return degrees + minutes / 60;
}

Result<Position> LatLon(const Sentence& sentence) {
  std::size_t first = 0;
  if (IsType(sentence, "GGA")) {
    first = 1;
  } else if (!IsType(sentence, "GLL")) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("{} sentences carry no position", sentence.Type()));
  }
  SLUICE_ASSIGN_OR_RETURN(const double lat, DegreesFromDm(sentence.Field(first)));
  SLUICE_ASSIGN_OR_RETURN(const double lon, DegreesFromDm(sentence.Field(first + 2)));
  const std::string_view lat_dir = sentence.Field(first + 1);
  const std::string_view lon_dir = sentence.Field(first + 3);
  Position position;
  position.latitude = lat_dir == "N" ? lat : lat_dir == "S" ? -lat : 0.0;
  position.longitude = lon_dir == "E" ? lon : lon_dir == "W" ? -lon : 0.0;
  return position;
}

bool HasFix(const Sentence& sentence) {
  const bool gga = IsType(sentence, "GGA");
  if (!gga && !IsType(sentence, "GLL")) return false;
  const std::size_t first = gga ? 1 : 0;
  const std::string_view lat_dir = sentence.Field(first + 1);
  const std::string_view lon_dir = sentence.Field(first + 3);
  if (sentence.Field(first).empty() || sentence.Field(first + 2).empty()) return false;
  if ((lat_dir != "N" && lat_dir != "S") || (lon_dir != "E" && lon_dir != "W")) return false;
  if (gga) {
    const auto quality = ParsePythonInt(sentence.Field(5));
    return quality && *quality != 0;
  }
  return Trim(sentence.Field(5)) != "V";
}

Result<std::optional<double>> ReferenceTime(const Sentence& sentence) {
  std::optional<TimeOfDay> time;
  std::int64_t year = 0, month = 0, day = 0;
  if (IsType(sentence, "ZDA")) {
    time = ParseTimestamp(sentence.Field(0));
    const auto d = ParsePythonInt(sentence.Field(1));
    const auto m = ParsePythonInt(sentence.Field(2));
    const auto y = ParsePythonInt(sentence.Field(3));
    if (!d || !m || !y) return std::optional<double>();
    day = *d;
    month = *m;
    year = *y;
  } else if (IsType(sentence, "RMC")) {
    time = ParseTimestamp(sentence.Field(0));
    const std::string_view date = sentence.Field(8);
    if (date.size() != 6) return std::optional<double>();
    const auto d = ParsePythonInt(date.substr(0, 2));
    const auto m = ParsePythonInt(date.substr(2, 2));
    const auto y = ParsePythonInt(date.substr(4, 2));
    if (!d || !m || !y || *d < 0 || *m < 0 || *y < 0) return std::optional<double>();
    day = *d;
    month = *m;
    year = *y < 69 ? 2000 + *y : 1900 + *y;  // strptime %y
  } else {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("{} sentences carry no date and time", sentence.Type()));
  }
  if (!time || !ValidDate(year, month, day)) return std::optional<double>();
  const std::int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t micros =
      ((days * 86400 + time->hour * 3600 + time->minute * 60 + time->second) * 1000000) +
      time->microsecond;
  // timedelta.total_seconds(): integer microseconds / 10**6, correctly rounded.
  return std::optional<double>(static_cast<double>(micros) / 1e6);
}

Result<std::optional<double>> DecimalField(const Sentence& sentence, std::size_t index) {
  const std::string_view text = sentence.Field(index);
  if (text.empty()) return std::optional<double>();
  auto value = ParsePythonFloat(text);
  if (!value) {
    return Fail(ErrorCode::Corrupt,
                fmt::format("{} field {} '{}' is not a number", sentence.Type(), index + 1, text));
  }
  return value;
}

}  // namespace sluice::wibl::nmea
