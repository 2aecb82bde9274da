#pragma once
/// The `wibl-process` handler: one `.wibl` logger file in, its CSB 3.1 GeoJSON out
/// (research/wibl.md §2.1 conversion lambda, processing as wibl_process.hpp).
///
/// Options (route `options = { … }`, checked strictly):
/// | key                    | need | meaning |
/// |------------------------|------|---------|
/// | store                  | yes  | staging store (config `[stores.NAME]`) receiving the GeoJSON |
/// | provider_id            | no   | DCDB trusted-node id prefixed to uniqueVesselID (default "") |
/// | elapsed_time_width     | no   | bits of the logger's ms counter, 1..63 (default 32; 16 for YDVR) |
/// | strict                 | no   | a malformed packet fails the file instead of being skipped (false) |
/// | reject_null_positions  | no   | §2.8 fix: no 0°,0° positions from empty GGA/GLL (false) |
/// | robust_counter_wrap    | no   | §2.8 fix: small backward steps are not counter wraps (false) |
/// | single_position_source | no   | §2.8 fix: one position stream, stale repeated fixes dropped (false) |
/// | single_depth_source    | no   | §2.8 fix: N2K Depth, else DPT, else DBT, not all of them (false) |
/// | metadata               | no   | table merged like a JSONMetadata packet, after it (`crs`, `properties`) |
///
/// Per event: Get `event.key` from the event's store; process; Put `<key without .wibl>.json`
/// into `store` (atomically: the store's writer commits on Close) with the object tags the
/// conversion lambda sets (research §2.1): SourceID = uniqueVesselID, Logger = the logger name,
/// Soundings = the number of features; a value that is no valid S3 tag value is left out with a
/// warning. The same values also go into the Outcome summary.
/// Errors: NotFound "object <store>/<key> does not exist"; InvalidArgument (the event names an
/// unknown store); Corrupt/Unsupported from processing (no time source, no data, unknown
/// algorithm, newer file, malformed packet when strict, an object over 256 MiB), all with the
/// object's URL as context; Cancelled before writing; whatever the stores return (Transient, …).
/// Emits no events: the GeoJSON object's own creation chains the next stage. Thread-safe.

#include <memory>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::wibl {

/// The registry name of the handler.
inline constexpr std::string_view kProcessHandlerName = "wibl-process";

/// Builds a `wibl-process` handler from route options (see above). InvalidArgument (located by
/// Options::MakeError) for an unknown key, a missing or unknown `store`, a wrong type, an
/// `elapsed_time_width` outside 1..63 or a `metadata` that is not a table. Thread-safe.
Result<std::unique_ptr<Handler>> MakeProcessHandler(const Options& options,
                                                    const Resources& resources);

}  // namespace sluice::wibl
