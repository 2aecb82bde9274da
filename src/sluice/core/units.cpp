#include "sluice/core/units.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace sluice {
namespace {

struct NumberAndUnit {
  double number = 0;
  std::string_view unit;
};

Result<NumberAndUnit> SplitNumber(std::string_view text, std::string_view what) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("invalid {} '{}': expected a number followed by a unit", what, text));
  }
  NumberAndUnit out;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, out.number);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(out.number)) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("invalid {} '{}'", what, text));
  }
  out.unit = text.substr(i);
  while (!out.unit.empty() && out.unit.front() == ' ') out.unit.remove_prefix(1);
  return out;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(NumberAndUnit parsed, SplitNumber(text, "duration"));
  double factor_ms = 0;
  if (parsed.unit == "ms") factor_ms = 1;
  else if (parsed.unit == "s") factor_ms = 1000;
  else if (parsed.unit == "m") factor_ms = 60'000;
  else if (parsed.unit == "h") factor_ms = 3'600'000;
  else if (parsed.unit == "d") factor_ms = 86'400'000;
  else {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("invalid duration '{}': unit must be one of ms, s, m, h, d", text));
  }
  const double ms = std::round(parsed.number * factor_ms);
  if (ms >= 9.2e18) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("invalid duration '{}': too large", text));
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms != 0 && ms % 86'400'000 == 0) return fmt::format("{}d", ms / 86'400'000);
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

Result<std::uint64_t> ParseSize(std::string_view text) {
  SLUICE_ASSIGN_OR_RETURN(NumberAndUnit parsed, SplitNumber(text, "size"));
  double factor = 0;
  const std::string_view u = parsed.unit;
  if (u.empty() || u == "B") factor = 1;
  else if (u == "KB") factor = 1e3;
  else if (u == "MB") factor = 1e6;
  else if (u == "GB") factor = 1e9;
  else if (u == "TB") factor = 1e12;
  else if (u == "KiB") factor = 1024.0;
  else if (u == "MiB") factor = 1024.0 * 1024;
  else if (u == "GiB") factor = 1024.0 * 1024 * 1024;
  else if (u == "TiB") factor = 1024.0 * 1024 * 1024 * 1024;
  else {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("invalid size '{}': unit must be B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", text));
  }
  const double bytes = std::round(parsed.number * factor);
  if (bytes >= 18446744073709551616.0) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("invalid size '{}': too large", text));
  }
  return static_cast<std::uint64_t>(bytes);
}

std::string FormatSize(std::uint64_t size_bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(size_bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", size_bytes);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace sluice
