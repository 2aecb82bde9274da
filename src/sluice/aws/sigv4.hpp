#pragma once
/// AWS Signature Version 4, shared by every AWS-protocol client (S3, DynamoDB, HealthOmics, Lambda,
/// SQS). Source: AWS General Reference, "Signing AWS API requests" (create a canonical request,
/// string to sign, signature) and Amazon S3 API Reference, "Authenticating Requests (AWS Signature
/// Version 4)" incl. "Query string authentication" for presigned URLs. Checked byte for byte
/// against botocore's output in shared/data/sigv4/vectors.json.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::aws {

/// Credentials of one signing identity. Never logged: ToString-like helpers redact them.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty for long-term keys
  /// When temporary credentials expire; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

/// An HTTP request to sign. `url` is exactly what will be sent ("https://host/path?query"), with the
/// path and query already percent-encoded as they go on the wire.
struct SigningRequest {
  std::string method;  ///< "GET", "PUT", …
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers to sign (Content-Type, …)
  /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". Empty: computed from `body`.
  std::string payload_hash;
  std::string_view body;  ///< used only when payload_hash is empty
};

/// The headers a signed request must carry (add them to what SigningRequest::headers held).
struct SignedHeaders {
  std::string authorization;         ///< "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"
  std::string x_amz_date;            ///< "YYYYMMDDTHHMMSSZ"
  /// The payload hash; S3 only. Empty for other services: botocore signs their body hash but
  /// sends no X-Amz-Content-SHA256 header, and neither should the caller.
  std::string x_amz_content_sha256;
  std::string x_amz_security_token;  ///< empty when there is no session token
};

/// Signs with the Authorization header. `service` is "s3", "dynamodb", …; S3 paths are signed as
/// sent, other services' paths are normalised (dot segments removed) and encoded twice, as
/// botocore does. InvalidArgument for a URL that cannot be parsed. Thread-safe.
/// Details (all checked against botocore by shared/data/sigv4/vectors.json):
/// - signed: host (from the URL, port left out when it is the scheme's default), x-amz-date,
///   x-amz-security-token (when there is a session token), x-amz-content-sha256 (S3 only) and every
///   header in `request.headers` except Expect, Transfer-Encoding, User-Agent and X-Amzn-Trace-Id;
///   the caller's own Authorization, X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-SHA256 are
///   ignored (this function owns them). Values are trimmed and inner whitespace runs collapsed;
///   a repeated header's values are joined with ','.
/// - the query is decoded and re-encoded with UriEncode, then sorted by key and value.
/// - an S3 path must be encoded as UriEncode(key, /*keep_slash=*/true) writes it (InvalidArgument
///   otherwise, e.g. for a raw '(' or lower-case "%2b"), so the wire and the signature agree.
/// - errors never quote the query, the headers or the credentials.
Result<SignedHeaders> SignRequest(const SigningRequest& request, const Credentials& credentials,
                                  std::string_view region, std::string_view service,
                                  std::chrono::system_clock::time_point time);

/// A presigned URL (query-string authentication, payload UNSIGNED-PAYLOAD) valid for `expires`
/// (1 s to 7 days, else InvalidArgument). Thread-safe.
/// The URL's own parameters come first (re-encoded, in their order), then X-Amz-Algorithm,
/// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders=host, X-Amz-Security-Token
/// (when there is a session token) and X-Amz-Signature last, as botocore writes them.
/// InvalidArgument when the URL already carries one of those parameters.
Result<std::string> PresignUrl(std::string_view method, std::string_view url,
                               const Credentials& credentials, std::string_view region,
                               std::string_view service, std::chrono::seconds expires,
                               std::chrono::system_clock::time_point time);

/// Lower-case hex SHA-256 of `bytes`. Thread-safe.
std::string Sha256Hex(std::string_view bytes);

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~) kept,
/// everything else "%XX" upper-case; '/' kept when `keep_slash`. Thread-safe.
std::string UriEncode(std::string_view text, bool keep_slash);

}  // namespace sluice::aws
