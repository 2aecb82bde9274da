#pragma once
/// Durations and sizes written with units, as in pipeline configs: "250ms", "5s", "5m", "1h",
/// "2d"; "512", "64KiB", "8MiB", "1GiB", "5MB" (DESIGN.md, "Pipeline config").

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"

namespace sluice {

/// Parses "<number><unit>" with unit ms, s, m, h or d (a decimal fraction is allowed: "1.5s").
/// Returns InvalidArgument naming the text on a missing unit, unknown unit or negative value.
/// Thread-safe.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// Formats milliseconds back into the shortest exact unit form ("90s", "250ms", "2h").
std::string FormatDuration(std::chrono::milliseconds duration);

/// Parses a byte size: a plain integer (bytes) or with B, KB, MB, GB, TB (powers of 1000) or
/// KiB, MiB, GiB, TiB (powers of 1024). Returns InvalidArgument on anything else. Thread-safe.
Result<std::uint64_t> ParseSize(std::string_view text);

/// Human size with binary units and one decimal: "1.5 MiB", "812 B".
std::string FormatSize(std::uint64_t size_bytes);

}  // namespace sluice
