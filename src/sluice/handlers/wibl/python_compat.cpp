#include "sluice/handlers/wibl/python_compat.hpp"

#include "sluice/core/python_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>


namespace sluice::wibl {

namespace {

/// numpy's `binary_search_with_guess` (numpy/core/src/multiarray/compiled_base.c): the index j
/// with xp[j] <= key < xp[j+1], -1 left of the table, n right of it.
std::ptrdiff_t SearchWithGuess(double key, std::span<const double> xp, std::ptrdiff_t guess) {
  constexpr std::ptrdiff_t kLikelyInCache = 8;
  const auto len = static_cast<std::ptrdiff_t>(xp.size());
  std::ptrdiff_t imin = 0;
  std::ptrdiff_t imax = len;
  if (key > xp[len - 1]) return len;
  if (key < xp[0]) return -1;
  if (len <= 4) {
    std::ptrdiff_t i = 1;
    while (i < len && key >= xp[i]) ++i;
    return i - 1;
  }
  if (guess > len - 3) guess = len - 3;
  if (guess < 1) guess = 1;
  if (key < xp[guess]) {
    if (key < xp[guess - 1]) {
      imax = guess - 1;
      if (guess > kLikelyInCache && key >= xp[guess - kLikelyInCache]) {
        imin = guess - kLikelyInCache;
      }
    } else {
      return guess - 1;
    }
  } else {
    if (key < xp[guess + 1]) return guess;
    if (key < xp[guess + 2]) return guess + 1;
    imin = guess + 2;
    if (guess < len - kLikelyInCache - 1 && key < xp[guess + kLikelyInCache]) {
      imax = guess + kLikelyInCache;
    }
  }
  while (imin < imax) {
    const std::ptrdiff_t imid = imin + ((imax - imin) >> 1);
    if (key >= xp[imid]) {
      imin = imid + 1;
    } else {
      imax = imid;
    }
  }
  return imin - 1;
}

/// CPython's `_PyTime_RoundHalfEven`.
double RoundHalfEven(double x) {
  double rounded = std::round(x);
  if (std::fabs(x - rounded) == 0.5) rounded = 2.0 * std::round(x / 2.0);
  return rounded;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  // H. Hinnant's civil_from_days (public domain algorithm).
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}


}  // namespace

std::vector<double> NumpyInterp(std::span<const double> x, std::span<const double> xp,
                                std::span<const double> fp) {
  std::vector<double> result(x.size());
  const std::size_t n = xp.size();
  const double left = fp[0];
  const double right = fp[n - 1];
  if (n == 1) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      result[i] = x[i] < xp[0] ? left : x[i] > xp[0] ? right : fp[0];
    }
    return result;
  }
  std::ptrdiff_t j = 0;
  const auto last = static_cast<std::ptrdiff_t>(n) - 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double value = x[i];
    if (std::isnan(value)) {
      result[i] = value;
      continue;
    }
    j = SearchWithGuess(value, xp, j);
    if (j == -1) {
      result[i] = left;
    } else if (j == last + 1) {
      result[i] = right;
    } else if (j == last) {
      result[i] = fp[j];
    } else if (xp[j] == value) {
      result[i] = fp[j];
    } else {
      const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
      double y = slope * (value - xp[j]) + fp[j];
      if (std::isnan(y)) {
        y = slope * (value - xp[j + 1]) + fp[j + 1];
        if (std::isnan(y) && fp[j] == fp[j + 1]) y = fp[j];
      }
      result[i] = y;
    }
  }
  return result;
}

std::string FormatUtcMicros(double seconds_since_epoch) {
  std::string out;
  AppendUtcMicros(out, seconds_since_epoch);
  return out;
}

void AppendUtcMicros(std::string& out, double seconds_since_epoch) {
  // Outside datetime's years 1-9999 Python raises; never convert such a double to an integer.
  if (!(seconds_since_epoch > -62135596800.0 && seconds_since_epoch < 253402300800.0)) {
    out += "invalid time";
    return;
  }
  double integral = 0;
  volatile double fraction = std::modf(seconds_since_epoch, &integral);
  fraction = fraction * 1e6;
  fraction = RoundHalfEven(fraction);
  if (fraction >= 1e6) {
    fraction = fraction - 1e6;
    integral += 1.0;
  } else if (fraction < 0) {
    fraction = fraction + 1e6;
    integral -= 1.0;
  }
  const auto seconds = static_cast<std::int64_t>(integral);
  const auto micros = static_cast<std::int64_t>(fraction);
  std::int64_t days = seconds / 86400;
  std::int64_t second_of_day = seconds % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --days;
  }
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  if (year < 0 || year > 9999) {
    out += fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z", year, month, day,
                       second_of_day / 3600, (second_of_day / 60) % 60, second_of_day % 60,
                       micros);
    return;
  }
  // Hot path (one call per sounding): fixed-width digits, two at a time, no format string.
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char text[] = "0000-00-00T00:00:00.000000Z";
  const auto put2 = [&text](std::size_t at, std::int64_t value) {  // value in 0..99
    std::memcpy(text + at, kPairs + 2 * value, 2);
  };
  put2(0, year / 100);
  put2(2, year % 100);
  put2(5, month);
  put2(8, day);
  put2(11, second_of_day / 3600);
  put2(14, (second_of_day / 60) % 60);
  put2(17, second_of_day % 60);
  put2(20, micros / 10000);
  put2(22, (micros / 100) % 100);
  put2(24, micros % 100);
  out.append(text, sizeof(text) - 1);
}

void AppendPythonFloat(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (std::signbit(value)) out += '-';
  if (value == 0) {
    out += "0.0";
    return;
  }
  // The shortest digits that read back as `value`, the nearest of them on a tie: what repr()
  // (David Gay's mode 0) and Dragonbox both produce. fmt's Dragonbox (exported by libfmt 9, the
  // Debian 12 package) costs a third of std::to_chars, and this runs three times per sounding.
  const auto decimal = fmt::detail::dragonbox::to_decimal(std::fabs(value));
  char digits[24] = {};
  int ndigits = 0;
  for (std::uint64_t rest = decimal.significand; rest != 0; rest /= 10) {
    digits[ndigits++] = static_cast<char>('0' + rest % 10);
  }
  std::reverse(digits, digits + ndigits);
  const int decpt = ndigits + decimal.exponent;  // digits before the decimal point
  // Laid out in a local buffer and appended once: at most 17 digits, 16 zeros, '.', "e+308".
  char text[48] = {};
  char* p = text;
  const auto copy = [&p](const char* from, int count) {
    std::memcpy(p, from, static_cast<std::size_t>(count));
    p += count;
  };
  if (decpt <= -4 || decpt > 16) {
    const int exponent = decpt - 1;  // as in d.ddde±XX
    *p++ = digits[0];
    if (ndigits > 1) {
      *p++ = '.';
      copy(digits + 1, ndigits - 1);
    }
    *p++ = 'e';
    *p++ = exponent < 0 ? '-' : '+';
    const int magnitude = exponent < 0 ? -exponent : exponent;
    if (magnitude >= 100) *p++ = static_cast<char>('0' + magnitude / 100);
    *p++ = static_cast<char>('0' + magnitude / 10 % 10);
    *p++ = static_cast<char>('0' + magnitude % 10);
  } else if (decpt <= 0) {
    *p++ = '0';
    *p++ = '.';
    for (int k = 0; k < -decpt; ++k) *p++ = '0';
    copy(digits, ndigits);
  } else if (decpt >= ndigits) {
    copy(digits, ndigits);
    for (int k = ndigits; k < decpt; ++k) *p++ = '0';
    *p++ = '.';
    *p++ = '0';
  } else {
    copy(digits, decpt);
    *p++ = '.';
    copy(digits + decpt, ndigits - decpt);
  }
  out.append(text, static_cast<std::size_t>(p - text));
}


void AppendPythonJson(std::string& out, const nlohmann::ordered_json& value) {
  using Type = nlohmann::ordered_json::value_t;
  switch (value.type()) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += value.get<bool>() ? "true" : "false"; break;
    case Type::number_integer: out += fmt::format("{}", value.get<std::int64_t>()); break;
    case Type::number_unsigned: out += fmt::format("{}", value.get<std::uint64_t>()); break;
    case Type::number_float: AppendPythonFloat(out, value.get<double>()); break;
    case Type::string: AppendPythonJsonString(out, value.get_ref<const std::string&>()); break;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ", ";
        first = false;
        AppendPythonJson(out, element);
      }
      out += ']';
      break;
    }
    case Type::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, element] : value.items()) {
        if (!first) out += ", ";
        first = false;
        AppendPythonJsonString(out, key);
        out += ": ";
        AppendPythonJson(out, element);
      }
      out += '}';
      break;
    }
    case Type::binary:
    case Type::discarded: out += "null"; break;
  }
}

}  // namespace sluice::wibl
