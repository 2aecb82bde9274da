#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 for unit tests: one thread, one request per connection
// ("Connection: close"), answers from a handler. It can also misbehave on request: close the
// connection without answering, stop halfway through a body, or never answer at all.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/core/uri.hpp"

namespace sluice::testing {

/// What the server received.
struct RecordedRequest {
  std::string method;
  std::string target;                         ///< "/bucket/key?query" as sent
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;

  /// The path, percent-decoded.
  [[nodiscard]] std::string Path() const {
    return PercentDecode(target.substr(0, target.find('?'))).value_or("<bad escape>");
  }
  /// Decoded query parameters ("uploads" → "").
  [[nodiscard]] std::map<std::string, std::string> Query() const {
    std::map<std::string, std::string> query;
    const auto q = target.find('?');
    if (q == std::string::npos) return query;
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const auto eq = pair.find('=');
      query[PercentDecode(pair.substr(0, eq)).value_or("")] =
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)).value_or("");
    }
    return query;
  }
  [[nodiscard]] std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

/// What to answer.
struct CannedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Close the connection without answering (the client sees the connection drop).
  bool reset = false;
  /// Send the header and only this many body bytes (of a Content-Length of the whole body), then
  /// close.
  std::optional<std::size_t> cut_body_at;
  /// Never answer; the connection stays open until the server stops.
  bool stall = false;
};

using RequestHandler = std::function<CannedResponse(const RecordedRequest&)>;

class LoopbackServer {
 public:
  explicit LoopbackServer(RequestHandler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      throw std::runtime_error("bind/listen");
    }
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (::pipe(wake_) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([this] { Run(); });
  }

  ~LoopbackServer() {
    stop_ = true;
    const char byte = 0;
    [[maybe_unused]] const auto written = ::write(wake_[1], &byte, 1);
    thread_.join();
    for (int fd : stalled_) ::close(fd);
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  /// "http://127.0.0.1:PORT"
  [[nodiscard]] std::string Url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  /// Every request received so far, in order.
  [[nodiscard]] std::vector<RecordedRequest> Requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (stop_ || (fds[1].revents & POLLIN) != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      timeval timeout{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      Serve(fd);
    }
  }

  void Serve(int fd) {
    auto request = ReadRequest(fd);
    if (!request) {
      ::close(fd);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(*request);
    }
    const CannedResponse response = handler_(*request);
    if (response.stall) {
      stalled_.push_back(fd);
      return;
    }
    if (response.reset) {
      // SO_LINGER 0: the close sends a RST, as a crashed or overloaded server would.
      linger hard{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
      ::close(fd);
      return;
    }
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status, Reason(response.status));
    bool has_length = false;
    for (const auto& [name, value] : response.headers) {
      head += fmt::format("{}: {}\r\n", name, value);
      if (Lower(name) == "content-length") has_length = true;
    }
    if (!has_length) head += fmt::format("Content-Length: {}\r\n", response.body.size());
    head += "Connection: close\r\n\r\n";
    std::string out = head;
    if (request->method != "HEAD") {
      out += response.cut_body_at ? response.body.substr(0, *response.cut_body_at) : response.body;
    }
    WriteAll(fd, out);
    ::shutdown(fd, SHUT_WR);
    // Drain until the client closes so it reads the whole answer before our FIN/RST.
    char scratch[4096];
    while (::read(fd, scratch, sizeof(scratch)) > 0) {
    }
    ::close(fd);
  }

  static std::optional<RecordedRequest> ReadRequest(int fd) {
    std::string data;
    char buffer[65536];
    std::size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      const auto n = ::read(fd, buffer, sizeof(buffer));
      if (n <= 0) return std::nullopt;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    RecordedRequest request;
    const std::string head = data.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto space1 = request_line.find(' ');
    const auto space2 = request_line.rfind(' ');
    request.method = request_line.substr(0, space1);
    request.target = request_line.substr(space1 + 1, space2 - space1 - 1);
    while (line_end != std::string::npos && line_end < head.size()) {
      const auto next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next == std::string::npos
                                                             ? std::string::npos
                                                             : next - line_end - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        request.headers[Lower(line.substr(0, colon))] = value;
      }
      line_end = next;
    }
    std::size_t length = 0;
    if (const auto it = request.headers.find("content-length"); it != request.headers.end()) {
      length = std::stoull(it->second);
    }
    request.body = data.substr(header_end + 4);
    while (request.body.size() < length) {
      const auto n = ::read(fd, buffer, sizeof(buffer));
      if (n <= 0) return std::nullopt;
      request.body.append(buffer, static_cast<std::size_t>(n));
    }
    return request;
  }

  static void WriteAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  static std::string Lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  static std::string_view Reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 204: return "No Content";
      case 206: return "Partial Content";
      case 400: return "Bad Request";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 416: return "Range Not Satisfiable";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  RequestHandler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> stalled_;  // server thread only, then the destructor

  mutable std::mutex mutex_;
  std::vector<RecordedRequest> requests_;  // guarded by mutex_
};

}  // namespace sluice::testing
