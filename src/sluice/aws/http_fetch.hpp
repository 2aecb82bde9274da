#pragma once
/// A minimal one-shot HTTP client for the credential endpoints (ECS/EKS container credentials,
/// EC2 instance metadata). It is a function type so that tests inject fakes and never touch the
/// network; the default is CurlFetch (libcurl easy interface).

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::aws {

/// One HTTP request. Header names are sent as written.
struct HttpRequest {
  std::string method = "GET";  ///< "GET", "PUT", "HEAD", …
  std::string url;             ///< "http://169.254.169.254/latest/api/token"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  ///< sent when not empty (and as an empty body for PUT/POST)
  std::chrono::milliseconds timeout{2000};          ///< whole exchange, connect included
  std::chrono::milliseconds connect_timeout{1000};  ///< TCP (and TLS) connect only
  /// Responses longer than this fail with Corrupt: credential documents are a few hundred bytes.
  std::size_t max_body_bytes = 1 << 20;
};

/// One HTTP response; a 4xx or 5xx status is a response, not an error.
struct HttpResponse {
  int status = 0;                                            ///< 200, 404, …
  std::vector<std::pair<std::string, std::string>> headers;  ///< names as the server wrote them
  std::string body;
};

/// Performs one exchange. Implementations return Timeout when a deadline passes, Transient when
/// the peer cannot be reached or the connection breaks, InvalidArgument for an unusable URL.
using HttpFetch = std::function<Result<HttpResponse>(const HttpRequest&)>;

/// The default HttpFetch: libcurl's easy interface, http and https only, no redirects followed,
/// no proxy (credential endpoints are link-local or loopback addresses), no signals (safe in
/// threads). Errors carry "METHOD scheme://host/path" as context, never the query or headers.
/// Thread-safe: each call uses its own curl handle.
Result<HttpResponse> CurlFetch(const HttpRequest& request);

}  // namespace sluice::aws
