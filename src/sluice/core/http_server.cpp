#include "sluice/core/http_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

namespace sluice {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::pair<time_t, time_t> SecondsAndMicros(std::chrono::milliseconds duration) {
  return {static_cast<time_t>(duration.count() / 1000), static_cast<time_t>((duration.count() % 1000) * 1000)};
}

const char* ReasonText(int status) {
  switch (status) {
    case 400: return "bad request\n";
    case 404: return "not found\n";
    case 405: return "method not allowed\n";
    case 408: return "request timeout\n";
    case 413: return "request body too large\n";
    case 414: return "request URI too long\n";
    case 500: return "internal server error\n";
    default: return "";
  }
}

}  // namespace

std::optional<std::string_view> HttpServerRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

struct HttpServer::Impl {
  httplib::Server server;
  HttpRequestHandler handler;
  std::string host;
  int port = 0;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  std::atomic<bool> stopped{false};

  void Serve(const httplib::Request& request, httplib::Response& response) {
    HttpServerRequest req;
    req.method = request.method;
    req.path = request.path;
    req.headers.reserve(request.headers.size());
    for (const auto& [key, value] : request.headers) {
      // httplib adds these pseudo-headers for the peer and local addresses; they are not sent.
      if (key == "REMOTE_ADDR" || key == "REMOTE_PORT" || key == "LOCAL_ADDR" || key == "LOCAL_PORT") continue;
      req.headers.emplace_back(key, value);
    }
    req.body = request.body;
    req.remote_addr = request.remote_addr;
    HttpServerResponse answer;
    try {
      answer = handler(req);
    } catch (const std::exception& e) {
      answer.status = 500;
      answer.body = fmt::format("internal error: {}\n", e.what());
    }
    response.status = answer.status;
    for (const auto& [key, value] : answer.headers) response.set_header(key, value);
    response.set_content(std::move(answer.body), answer.content_type);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpRequestHandler handler) {
  const std::string where = fmt::format("http server {}:{}", options.host, options.port);
  if (options.port < 0 || options.port > 65535) {
    return Fail(ErrorCode::InvalidArgument, "port must be between 0 and 65535", where);
  }
  if (options.threads < 1) return Fail(ErrorCode::InvalidArgument, "threads must be at least 1", where);
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->host = options.host;
  httplib::Server& server = impl->server;
  const auto threads = static_cast<std::size_t>(options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  const auto [read_s, read_us] = SecondsAndMicros(options.read_timeout);
  const auto [write_s, write_us] = SecondsAndMicros(options.write_timeout);
  server.set_read_timeout(read_s, read_us);
  server.set_write_timeout(write_s, write_us);
  // An idle keep-alive connection holds its thread until this passes, and Stop() waits for it:
  // keep it short (senders reconnect cheaply; notifications are not a stream).
  server.set_keep_alive_timeout(1);
  server.set_payload_max_length(static_cast<std::size_t>(options.max_body_bytes));
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same port and
  // silently take half the connections; keep only SO_REUSEADDR (restart without TIME_WAIT errors).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Impl* self = impl.get();
  const auto route = [self](const httplib::Request& request, httplib::Response& response) {
    self->Serve(request, response);
  };
  server.Get(".*", route);
  server.Post(".*", route);
  server.Put(".*", route);
  server.Patch(".*", route);
  server.Delete(".*", route);
  server.Options(".*", route);
  // httplib's own answers (413 over the body limit, 400 for an unparsable request) get a short
  // text body instead of an empty one.
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (response.body.empty()) response.set_content(ReasonText(response.status), "text/plain; charset=utf-8");
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    response.status = 500;
    response.set_content(ReasonText(500), "text/plain; charset=utf-8");
  });

  if (options.port == 0) {
    const int port = server.bind_to_any_port(options.host);
    if (port <= 0) {
      return Fail(ErrorCode::Transient, "cannot bind an ephemeral port (bad address?)", where);
    }
    impl->port = port;
  } else {
    if (!server.bind_to_port(options.host, options.port)) {
      return Fail(ErrorCode::Transient, "cannot bind (address in use or not local?)", where);
    }
    impl->port = options.port;
  }
  impl->thread = std::thread([self] {
    self->server.listen_after_bind();
    self->listen_returned = true;
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::Port() const { return impl_->port; }

std::string HttpServer::Address() const { return fmt::format("{}:{}", impl_->host, impl_->port); }

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  // httplib's stop() is a no-op until listen_after_bind() has marked the server running, so wait
  // for that (or for the listener to have given up) before asking it to stop.
  while (!impl_->server.is_running() && !impl_->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace sluice
