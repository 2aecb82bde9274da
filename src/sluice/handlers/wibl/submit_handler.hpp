#pragma once
/// The `wibl-submit` handler: one CSB GeoJSON object in, one submission to DCDB out
/// (dcdb_submit.hpp; research/wibl.md §4) — the submission stage of the WIBL cloud pipeline.
///
/// Options (route `options = { … }`, checked strictly):
/// | key             | need | meaning |
/// |-----------------|------|---------|
/// | upload_point    | yes* | DCDB upload URL (dcdb_submit.hpp kDcdbUploadPoint, kDcdbTestUploadPoint) |
/// | token           | yes* | DCDB token; write it as `"${DCDB_TOKEN}"` so the config holds none |
/// | provider_id     | no   | trusted-node prefix of the uniqueID, e.g. "UNHJHC" (DcdbUniqueId) |
/// | dry_run         | no   | build and log the request, send nothing (default false) |
/// | store           | no   | store to read the object from; default: the event's `store` |
/// | validate        | no   | refuse documents failing csb_validate.hpp, unsent (default true) |
/// | max_attempts    | no   | POSTs per job on connection failures and HTTP 5xx, 1..20 (default 3) |
/// | initial_backoff | no   | first backoff step, full jitter (default "2s") |
/// | max_backoff     | no   | cap on a backoff step (default "1m") |
/// | timeout         | no   | whole-request deadline of one POST (default "2m") |
/// | receipt_store   | no   | store receiving `<receipt_prefix><key>.dcdb.json` after acceptance |
/// | receipt_prefix  | no   | prefix of receipt keys (default "") |
/// (* not needed with dry_run = true.)
///
/// The uniqueID: the object's `SourceID` tag when it has a non-empty one (as the submission
/// lambda reads it, research §4; wibl-process sets it), else the document's vessel ID
/// (DcdbUniqueId); either way prefixed with provider_id unless it already holds it. A `Logger`
/// tag is named in the outcome summary.
///
/// Idempotency: with `receipt_store`, an object whose receipt exists is not submitted again, so
/// a job re-run after a crash between DCDB's answer and the job's completion does not submit
/// twice. A receipt that cannot be written is logged, not failed: failing would re-run the job
/// and submit the file a second time.
/// Errors: those of DcdbSubmitter::Submit (InvalidArgument/PermissionDenied/Corrupt are final;
/// Transient/Timeout/Throttled let the route's retry policy run the job again later),
/// InvalidArgument for a document that fails validation, Corrupt for an object over 512 MiB,
/// NotFound for a missing object, the store's errors reading the tags, Cancelled. Emits no events. Thread-safe.

#include <memory>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::wibl {

/// The registry name of the handler.
inline constexpr std::string_view kSubmitHandlerName = "wibl-submit";

/// Builds a `wibl-submit` handler from route options (see above). InvalidArgument (located by
/// Options::MakeError, never quoting the token) for an unknown key, a wrong type, a missing
/// upload_point or token without dry_run, a bad URL, an out-of-range number, or a store not in
/// `resources`. The handler owns its HTTP client. Thread-safe.
Result<std::unique_ptr<Handler>> MakeSubmitHandler(const Options& options,
                                                   const Resources& resources);

}  // namespace sluice::wibl
