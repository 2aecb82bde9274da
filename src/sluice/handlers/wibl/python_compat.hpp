#pragma once
/// The numeric and text behaviour of the Python stack wibl-python runs on, reproduced so that
/// sluice's WIBL output equals wibl-python's (research/wibl.md §2.4, §2.6): `numpy.interp`,
/// `datetime.fromtimestamp(t, utc)` with `%Y-%m-%dT%H:%M:%S.%fZ`, and `json.dumps` with its
/// default separators, `ensure_ascii` and `repr` of floats.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::wibl {

/// `numpy.interp(x, xp, fp)` (numpy's `arr_interp`, research §2.4): xp is assumed
/// non-decreasing (not checked); values left of xp[0] are fp[0] and right of xp[n-1] are
/// fp[n-1] (clamped, never extrapolated); x equal to a knot gives its fp; NaN x gives NaN. The
/// knot search uses numpy's guess-then-bisect, so even unsorted xp give numpy's answer.
/// Requires xp.size() == fp.size() >= 1. Thread-safe.
std::vector<double> NumpyInterp(std::span<const double> x, std::span<const double> xp,
                                std::span<const double> fp);

/// `datetime.fromtimestamp(t, tz=utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')`: seconds since
/// 1970-01-01 UTC rounded to microseconds half-to-even, always six fraction digits, e.g.
/// "2020-01-01T00:00:02.197374Z"; "invalid time" outside the years 1–9999 (where Python
/// raises). Thread-safe.
std::string FormatUtcMicros(double seconds_since_epoch);

/// FormatUtcMicros appended to `out` (no temporary string: one call per sounding). Thread-safe.
void AppendUtcMicros(std::string& out, double seconds_since_epoch);

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..15 with
/// ".0" for integral values, otherwise "1e-05" / "1.5e+16"; "NaN", "Infinity", "-Infinity" as
/// `json.dumps` writes them. Appends to `out`. Thread-safe.
void AppendPythonFloat(std::string& out, double value);

/// Appends `value` as `json.dumps(value)` writes it: ", " and ": " separators, keys in the
/// object's order. Thread-safe.
void AppendPythonJson(std::string& out, const nlohmann::ordered_json& value);

}  // namespace sluice::wibl
