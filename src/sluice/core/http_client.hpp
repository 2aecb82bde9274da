#pragma once
/// A small HTTP/1.1 client on libcurl for the AWS-protocol clients (S3 first) and HTTP
/// submissions. It keeps a free-list of curl easy handles so connections are reused across
/// requests, streams response bodies into a sink instead of memory, and converts curl's failures
/// into our Error once, here (timeouts → Timeout; refused, reset or dropped connections →
/// Transient). It never logs and never puts a URL's query string (which may hold a presigned
/// signature) or a request header (which may hold Authorization) into an Error.
/// libcurl reference: https://curl.se/libcurl/c/ (curl_easy_setopt, libcurl-errors).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice {

/// HTTP header fields in order, names as given or received.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// What the server answered.
struct HttpResponse {
  int status = 0;        ///< HTTP status code, e.g. 200, 404
  HttpHeaders headers;   ///< header fields of the final response, names as received
  /// The body, unless it went to a sink (a sink gets only 2xx bodies; others are collected here,
  /// cut at HttpClientOptions::max_collected_body_bytes).
  std::string body;

  /// Value of header `name`, compared case-insensitively (RFC 9110 §5.1); nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> Header(std::string_view name) const;
};

/// Produces a request body of known size on demand: fills `buffer` with the body's bytes from
/// `offset` on and returns how many it wrote (fewer than buffer.size() only at the end of the
/// body). Called from the sending thread, in order, and again from offset 0 when the request is
/// resent on a new connection. An Error stops the transfer and is what Send returns.
using HttpBodySource = std::function<Result<std::size_t>(std::uint64_t offset, std::span<char> buffer)>;

/// One request. The body is sent with a Content-Length (never chunked) for any method but GET,
/// HEAD and DELETE; it must stay alive until Send returns.
struct HttpRequest {
  std::string method = "GET";  ///< "GET", "HEAD", "PUT", "POST", "DELETE"
  std::string url;             ///< absolute, already percent-encoded as it goes on the wire
  HttpHeaders headers;         ///< extra header fields; "Expect: 100-continue" is never sent
  std::string_view body;       ///< request body (empty for none), unless body_source is set
  /// Streams the body instead of `body` (which must then be empty): `body_size_bytes` bytes are
  /// read from it as they are sent, so a large body need not be held in memory.
  HttpBodySource body_source;
  std::uint64_t body_size_bytes = 0;  ///< size of the body_source's body, in bytes
  /// Called once the header of a 2xx response is complete (status and headers set, body
  /// empty), before any body byte; an Error stops the transfer and is what Send returns.
  std::function<Status(const HttpResponse& head)> on_head;
};

/// Receives a 2xx response body in order, in chunks of any size. An Error stops the transfer and
/// is what Send returns.
using HttpBodySink = std::function<Status(std::string_view chunk)>;

/// Connection settings of one client.
struct HttpClientOptions {
  /// Longest wait for a TCP (and TLS) connection to be set up.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// A transfer moving fewer than `stall_bytes_per_second` for this long is abandoned (Timeout).
  std::chrono::seconds stall_timeout{30};
  /// See stall_timeout; bytes per second.
  long stall_bytes_per_second = 1;
  /// Whole-request deadline; zero for none (large part uploads take as long as they take).
  std::chrono::milliseconds total_timeout{0};
  /// A body not streamed to a sink larger than this is an error (Internal), in bytes.
  std::size_t max_collected_body_bytes = 64 * 1024 * 1024;
  /// Verify the server's TLS certificate and host name. Only for private test endpoints.
  bool verify_tls = true;
};

/// Sends HTTP requests, reusing connections. Thread-safe: any number of threads may Send at once;
/// each request uses its own curl handle taken from (and returned to) a shared free-list.
class HttpClient {
 public:
  /// A client with no connection open yet; initialises libcurl once per process.
  explicit HttpClient(HttpClientOptions options = {});
  /// Closes every pooled connection. No Send may be running.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `request` and waits for the whole response. A 2xx body goes to `sink` when one is
  /// given, else into HttpResponse::body. Any HTTP status is a successful Result: the caller
  /// interprets it. Errors (context "METHOD scheme://host/path", without the query):
  /// Timeout (connect or stall timeout, total_timeout), Transient (cannot connect, connection
  /// reset or closed early, DNS failure), InvalidArgument (malformed URL, unsupported scheme,
  /// TLS certificate rejected), the sink's own Error, Internal (anything else).
  Result<HttpResponse> Send(const HttpRequest& request, const HttpBodySink& sink = nullptr);

 private:
  struct Pool;
  HttpClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

/// `url` without its query string and fragment: safe for errors and logs. Thread-safe.
std::string UrlWithoutQuery(std::string_view url);

}  // namespace sluice
