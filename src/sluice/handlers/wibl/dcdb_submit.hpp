#pragma once
/// Submission of one CSB GeoJSON file to the IHO Data Centre for Digital Bathymetry (DCDB) at
/// NOAA NCEI, as the WIBL submission stage does it (research/wibl.md §4; endpoints §3.2):
/// one `multipart/form-data` POST to the upload point with the trusted node's token in the
/// `x-auth-token` header and two parts,
///   `file`          (filename = the object's name; the GeoJSON bytes, no Content-Type), and
///   `metadataInput` (no filename; the JSON text `{"uniqueID": "<id>"}` indented by 4 spaces),
/// accepted only when the answer is a JSON object with `"success": true`, e.g.
/// `{"success": true, "message": "Submission successful.", "submissionIds": ["60ba…"]}`.
///
/// Unlike the upstream lambda (research §4: it POSTs a second time unconditionally, also in its
/// `local` mode), a submission here is sent once, and sent again only after an outcome that
/// reports no acceptance: a connection failure, a timeout, or an HTTP 5xx. (A timeout or a
/// dropped connection after the whole body went out could hide an acceptance DCDB never got to
/// report: that rare duplicate is the price of riding out network failures.) Those are retried
/// with exponential backoff and full jitter ("Exponential Backoff And Jitter", AWS Architecture
/// Blog, 2015: each delay uniform in [0, step]); 4xx answers, `"success": false` and unreadable
/// 2xx bodies are never retried. The dry-run mode builds the request and sends nothing (what the
/// upstream `local` flag was meant to be, issue #37).
///
/// Secrets: the token goes only into the `x-auth-token` header. It never appears in a log line,
/// an Error or a DcdbReceipt; any text taken from a server answer is scrubbed of it too.

#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/core/http_client.hpp"
#include "sluice/core/retry.hpp"

namespace sluice::wibl {

/// The production and test upload points (research/wibl.md §3.2, UPLOAD_POINT).
inline constexpr std::string_view kDcdbUploadPoint =
    "https://www.ngdc.noaa.gov/ingest-external/upload/csb/geojson/";
/// DCDB's test upload point: accepts submissions without publishing them.
inline constexpr std::string_view kDcdbTestUploadPoint =
    "https://www.ngdc.noaa.gov/ingest-external/upload/csb/test/geojson/";

/// How to submit.
struct DcdbSubmitOptions {
  /// Absolute http(s) URL the POST goes to, e.g. kDcdbUploadPoint. Required unless dry_run.
  std::string upload_point;
  /// The trusted node's DCDB token (PROVIDER_AUTH upstream), sent as `x-auth-token`. Leading and
  /// trailing white space is removed (as upstream does). Required unless dry_run. Secret.
  std::string token;
  /// The trusted node's DCDB prefix, e.g. "UNHJHC" (PROVIDER_ID upstream); see DcdbUniqueId.
  /// Empty: the file's vessel ID is sent as is.
  std::string provider_id;
  /// Build and check the request, log what would be sent, send nothing.
  bool dry_run = false;
  /// POST attempts for one file (>= 1) and the backoff steps between them (full jitter).
  RetryPolicy retry{3, std::chrono::seconds(2), std::chrono::seconds(60)};
};

/// One file to submit.
struct DcdbFile {
  /// File name sent in the `file` part, e.g. "0b5c….json" (upstream sends its local path).
  std::string file_name;
  /// The CSB GeoJSON document, sent byte for byte.
  std::string geojson;
  /// The vessel's source ID as the object's `SourceID` tag gives it (research §4: the
  /// submission lambda reads the tags); empty: taken from the document (DcdbUniqueId).
  std::string source_id{};
};

/// What DCDB answered to a successful submission (or what a dry run would have sent).
struct DcdbReceipt {
  std::string unique_id;                    ///< the `metadataInput` uniqueID sent
  bool dry_run = false;                     ///< true: nothing was sent
  int attempts = 0;                         ///< POSTs sent, 1..max_attempts (0 in a dry run)
  int http_status = 0;                      ///< status of the accepting answer (0 in a dry run)
  std::string message;                      ///< DCDB's "message", e.g. "Submission successful."
  std::vector<std::string> submission_ids;  ///< DCDB's "submissionIds"
  std::size_t body_bytes = 0;               ///< size of the multipart body, in bytes
};

/// A built `multipart/form-data` body (RFC 7578).
struct MultipartBody {
  std::string content_type;  ///< "multipart/form-data; boundary=<boundary>"
  std::string body;          ///< the parts, CRLF-delimited, closed by "--<boundary>--\r\n"
};

/// Builds the two-part DCDB body with `boundary` (which must not occur in the GeoJSON; the
/// caller picks a random one). Quotes, CR and LF in `file_name` are percent-encoded as HTML
/// forms do. Thread-safe.
MultipartBody BuildDcdbMultipart(std::string_view file_name, std::string_view geojson,
                                 std::string_view unique_id, std::string_view boundary);

/// `source_id` prefixed with "<provider_id>-" unless provider_id already occurs in it (research
/// §4, `transmit_geojson`: a substring test). Thread-safe.
std::string PrefixedUniqueId(std::string_view source_id, std::string_view provider_id);

/// The uniqueID DCDB is told (research §4, `transmit_geojson`): the file's source ID —
/// `properties.trustedNode.uniqueVesselID`, or `properties.platform.uniqueID` in files of the
/// older conventions — prefixed with "<provider_id>-" unless provider_id already occurs in it.
/// InvalidArgument when the document has neither ID as a non-empty string. Thread-safe.
Result<std::string> DcdbUniqueId(const nlohmann::json& document, std::string_view provider_id);

/// Submits files to DCDB through an HttpClient. Thread-safe: Submit may run on many threads
/// (the client is thread-safe; the hooks must be too).
class DcdbSubmitter {
 public:
  /// Seams for tests: how to wait between attempts, and where jitter comes from.
  struct Hooks {
    std::function<void(std::chrono::milliseconds)> sleep;  ///< default: this thread sleeps
    std::function<double()> random_unit;  ///< uniform in [0, 1); default RandomUnit
  };

  /// `http` must outlive the submitter. InvalidArgument is returned by Submit, not here, for
  /// bad options, so that a handler can build one from config and report errors per job.
  DcdbSubmitter(HttpClient& http, DcdbSubmitOptions options, Hooks hooks = {});

  /// Checks the options: upload_point an http(s) URL and a token free of control characters
  /// (both required unless dry_run), retry.max_attempts >= 1. InvalidArgument naming the option
  /// (never showing the token). Thread-safe.
  [[nodiscard]] static Status CheckOptions(const DcdbSubmitOptions& options);

  /// Submits `file` (see the header comment), giving up before a retry whose delay would end
  /// after `deadline`, and before any attempt once `cancelled` returns true.
  /// Errors (context "POST <upload point without query>"):
  /// - Corrupt: the file is not JSON, or DCDB answered 2xx with a body that is not a JSON object
  ///   (not retried: the upload may have been accepted);
  /// - InvalidArgument: bad options; no vessel ID in the file; `"success"` not true (DCDB's
  ///   message quoted); HTTP 4xx other than those below; an unexpected status;
  /// - PermissionDenied: HTTP 401 or 403 (token refused); Throttled: HTTP 429;
  /// - Transient/Timeout: the last attempt's connection failure or HTTP 5xx, once attempts or
  ///   time ran out; Cancelled.
  Result<DcdbReceipt> Submit(
      const DcdbFile& file,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
      const std::function<bool()>& cancelled = nullptr) const;

  /// Replaces every occurrence of the token in `text` with "***" (for text received from
  /// servers). Thread-safe.
  [[nodiscard]] std::string Scrub(std::string_view text) const;

 private:
  Result<DcdbReceipt> Post(const DcdbFile& file, const std::string& unique_id,
                           const MultipartBody& body,
                           std::chrono::steady_clock::time_point deadline,
                           const std::function<bool()>& cancelled) const;
  [[nodiscard]] Error ScrubError(Error error) const;

  HttpClient& http_;
  DcdbSubmitOptions options_;
  std::string token_;  ///< options_.token without surrounding white space
  Hooks hooks_;
};

}  // namespace sluice::wibl
