#include "sluice/aws/http_fetch.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

// CurlFetch against a one-connection HTTP server on 127.0.0.1: the only network these tests use.

namespace sluice::aws {
namespace {

using namespace std::chrono_literals;

/// Listens on 127.0.0.1 on a free port; Serve() answers one connection with a canned reply.
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 1) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackServer() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  /// Accepts one connection, reads the request (headers and Content-Length body), then sends
  /// `reply` unless it is empty (then holds the connection for `hold` and closes it).
  void Serve(std::string reply, std::chrono::milliseconds hold = 0ms) {
    thread_ = std::thread([this, reply = std::move(reply), hold] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::array<char, 4096> buffer{};
      std::size_t expected = std::string::npos;
      while (expected == std::string::npos || request_.size() < expected) {
        const auto n = ::read(client, buffer.data(), buffer.size());
        if (n <= 0) break;
        request_.append(buffer.data(), static_cast<std::size_t>(n));
        const auto end = request_.find("\r\n\r\n");
        if (end != std::string::npos && expected == std::string::npos) {
          std::size_t body = 0;
          if (const auto cl = request_.find("Content-Length: ");
              cl != std::string::npos && cl < end) {
            body = std::stoul(request_.substr(cl + 16));
          }
          expected = end + 4 + body;
        }
      }
      if (reply.empty()) {
        std::this_thread::sleep_for(hold);
      } else {
        (void)::write(client, reply.data(), reply.size());
      }
      ::close(client);
    });
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  /// The raw request, once Serve's thread has finished.
  std::string Request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(CurlFetch, SendsMethodHeadersAndBodyAndReadsTheResponse) {
  LoopbackServer server;
  server.Serve(
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Reply: yes\r\nConnection: "
      "close\r\n\r\nimdsSESSION");
  HttpRequest request;
  request.method = "PUT";
  request.url = server.Url("/latest/api/token");
  request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  const auto response = CurlFetch(request);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "imdsSESSION");
  bool saw_header = false;
  for (const auto& [name, value] : response->headers)
    saw_header |= name == "X-Reply" && value == "yes";
  EXPECT_TRUE(saw_header);
  const std::string raw = server.Request();
  EXPECT_TRUE(raw.starts_with("PUT /latest/api/token HTTP/1.1\r\n")) << raw;
  EXPECT_NE(raw.find("X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"), std::string::npos) << raw;
}

TEST(CurlFetch, ErrorStatusIsAResponseNotAnError) {
  LoopbackServer server;
  server.Serve("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  HttpRequest request;
  request.url = server.Url("/latest/meta-data/iam/security-credentials/");
  const auto response = CurlFetch(request);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_TRUE(
      server.Request().starts_with("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n"));
}

TEST(CurlFetch, SilentServerTimesOut) {
  LoopbackServer server;
  server.Serve("", 700ms);
  HttpRequest request;
  request.url = server.Url("/slow?token=never-in-errors");
  request.timeout = 200ms;
  const auto started = std::chrono::steady_clock::now();
  const auto response = CurlFetch(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 650ms);
  EXPECT_EQ(response.error().ToString().find("never-in-errors"), std::string::npos);
}

TEST(CurlFetch, ClosedPortIsTransient) {
  int port = 0;
  {
    LoopbackServer probe;  // bound then closed: nothing listens there afterwards
    port = std::stoi(probe.Url("").substr(std::string("http://127.0.0.1:").size()));
  }
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const auto response = CurlFetch(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::Transient);
}

TEST(CurlFetch, OversizedBodyIsCorrupt) {
  LoopbackServer server;
  server.Serve("HTTP/1.1 200 OK\r\nContent-Length: 64\r\nConnection: close\r\n\r\n" +
               std::string(64, 'x'));
  HttpRequest request;
  request.url = server.Url("/big");
  request.max_body_bytes = 16;
  const auto response = CurlFetch(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::Corrupt);
}

TEST(CurlFetch, OnlyHttpAndHttpsAreAllowed) {
  HttpRequest request;
  request.url = "file:///etc/passwd";
  const auto response = CurlFetch(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace sluice::aws
