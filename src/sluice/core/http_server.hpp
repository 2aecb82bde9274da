#pragma once
/// A small HTTP/1.1 server for the `webhook` source and the `/metrics` and `/healthz` endpoints,
/// on cpp-httplib (Debian `libcpp-httplib-dev` 0.11; https://github.com/yhirose/cpp-httplib). It
/// binds one address (127.0.0.1 unless configured otherwise), bounds request bodies, read and
/// write waits and the number of connections served at once, and stops gracefully: no new
/// connections, requests in progress finish. All requests go to one handler, which dispatches on
/// method and path itself (so it can answer 405 for a known path). It never logs request headers
/// or bodies (they may hold tokens).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/core/http_client.hpp"

namespace sluice {

/// Where and how a server listens.
struct HttpServerOptions {
  std::string host = "127.0.0.1";  ///< address to bind (an IP address or "localhost")
  int port = 0;                    ///< TCP port; 0 picks a free ephemeral port (see Port())
  /// A request whose body is larger is answered 413 before the handler runs, in bytes.
  std::uint64_t max_body_bytes = 1ULL << 20;
  /// Longest wait for the next bytes of a request (headers or body); then the connection is closed.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  /// Longest wait for the client to accept response bytes.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  /// Connections served at once (one thread each); more wait in the accept backlog.
  int threads = 4;
};

/// One request as the handler sees it; the body is complete (at most max_body_bytes).
struct HttpServerRequest {
  std::string method;       ///< "GET", "POST", …
  std::string path;         ///< the path without the query string, e.g. "/events"
  HttpHeaders headers;      ///< header fields as received
  std::string body;         ///< the whole body
  std::string remote_addr;  ///< the peer's IP address

  /// Value of header `name`, compared case-insensitively (RFC 9110 §5.1); nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> Header(std::string_view name) const;
};

/// What the handler answers.
struct HttpServerResponse {
  int status = 200;                                       ///< HTTP status code
  std::string content_type = "text/plain; charset=utf-8";  ///< Content-Type of `body`
  std::string body;                                       ///< the response body
  HttpHeaders headers;                                    ///< extra header fields (e.g. "Allow")
};

/// Called for every request, on one of the server's threads (concurrently with itself).
/// Exceptions it throws become a 500 answer.
using HttpRequestHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

/// A listening server. Thread-safe; the handler runs on the server's own threads.
class HttpServer {
 public:
  /// Binds `options.host:options.port` and starts serving on a thread of its own. Errors:
  /// InvalidArgument for a port outside 0..65535 or a non-positive thread count; Transient when
  /// the address cannot be bound (port in use, address not local), naming host:port.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpRequestHandler handler);
  /// Stops (see Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the ephemeral one when options.port was 0).
  [[nodiscard]] int Port() const;
  /// "host:port" as bound, for logs.
  [[nodiscard]] std::string Address() const;
  /// Stops accepting connections and returns once the requests in progress have been answered.
  /// Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
