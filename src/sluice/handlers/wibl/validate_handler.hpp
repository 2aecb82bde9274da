#pragma once
/// The `wibl-validate` handler: one CSB GeoJSON object in, checked against csbschema
/// 3.1.0-2024-04 and its semantic checks (csb_validate.hpp; research/wibl.md §5), passed on to
/// an output store when valid — the validation stage of the WIBL cloud pipeline (research §2.1:
/// the validation lambda forwards only valid files to submission).
///
/// Options (route `options = { … }`, checked strictly):
/// | key             | need | meaning |
/// |-----------------|------|---------|
/// | store           | no   | store to read the object from; default: the event's `store` |
/// | output          | no   | store (config `[stores.NAME]`) that receives valid objects |
/// | output_prefix   | no   | prepended to the event's key to make the output key (default "") |
/// | semantic_checks | no   | also run csbschema's semantic checks (default true) |
/// | max_listed      | no   | violations quoted in a failed job's error, 1..1000 (default 10) |
///
/// Per event: Get `event.key` (at most 512 MiB); a valid document is written unchanged to
/// `output` as `<output_prefix><key>` (nothing else happens without `output`).
/// Errors: InvalidArgument "N violations of csbschema 3.1.0-2024-04: /path: reason; …; and M
/// more" (the document breaks rules; not retryable), Corrupt (not JSON, or too large), NotFound
/// (the object does not exist), InvalidArgument (the event names an unknown store), Cancelled
/// (checked before writing), and whatever the stores return. Emits no events. Thread-safe.

#include <memory>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::wibl {

/// The registry name of the handler.
inline constexpr std::string_view kValidateHandlerName = "wibl-validate";

/// Builds a `wibl-validate` handler from route options (see above). InvalidArgument (located by
/// Options::MakeError) for an unknown key, a wrong type, `max_listed` out of range, or a `store`
/// or `output` not in `resources`. Thread-safe.
Result<std::unique_ptr<Handler>> MakeValidateHandler(const Options& options,
                                                     const Resources& resources);

}  // namespace sluice::wibl
