#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <utility>

namespace sluice::it {
namespace {

using Clock = std::chrono::steady_clock;

/// Longest a client connection may sit idle between requests, and the server may take to start
/// answering; generous, since only Stop() should end a healthy test's connections.
constexpr std::chrono::seconds kIdleLimit{120};
/// Poll slice: how soon a blocked read notices Stop().
constexpr int kPollSliceMs = 100;
/// Largest request or response head accepted.
constexpr std::size_t kMaxHeadBytes = 64 * 1024;
/// Bytes relayed per read.
constexpr std::size_t kRelayChunkBytes = 64 * 1024;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

/// Value of header `name` in a head ("start line\r\nName: value\r\n…\r\n\r\n").
std::optional<std::string_view> HeaderValue(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const std::size_t start = at + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && EqualsIgnoringCase(Trim(line.substr(0, colon)), name)) {
      return Trim(line.substr(colon + 1));
    }
    at = end;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ParseNumber(std::string_view text, int base = 10) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool ContainsToken(std::optional<std::string_view> value, std::string_view token) {
  if (!value) return false;
  std::string lower(*value);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(token) != std::string::npos;
}

void SetNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// Closes `fd` with a TCP reset rather than an orderly FIN (SO_LINGER with a zero timeout).
void CloseWithReset(int fd) {
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
}

std::string SlowDownResponse(std::uint64_t request, bool head_request) {
  const std::string body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please "
      "reduce your request rate.</Message><RequestId>fault-proxy-{}</RequestId></Error>",
      request);
  return fmt::format(
      "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n"
      "x-amz-request-id: fault-proxy-{}\r\nConnection: keep-alive\r\n\r\n{}",
      head_request ? 0 : body.size(), request, head_request ? "" : body);
}

std::uint64_t Uniform(std::mt19937_64& rng, std::uint64_t low, std::uint64_t high) {
  if (high <= low) return low;
  return std::uniform_int_distribution<std::uint64_t>(low, high)(rng);
}

}  // namespace

std::string FaultCounts::ToString() const {
  return fmt::format(
      "requests {}: passed {}, slow_down {}, reset_reading_request {}, reset_before_response {}, "
      "reset_mid_response {}, stall {}, long_stall {}; refused connections {}, upstream errors {}",
      requests, passed, slow_down, reset_reading_request, reset_before_response,
      reset_mid_response, stall, long_stall, refused_connections, upstream_errors);
}

/// One client connection and the server connection serving it, on its own thread.
class FaultProxy::Connection {
 public:
  Connection(FaultProxy& proxy, int client_fd) : proxy_(proxy), client_(client_fd) {
    proxy_.Track(client_);
  }
  ~Connection() {
    CloseClient(false);
    CloseUpstream();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Serves requests until the client leaves, a fault ends the connection, or Stop().
  void Run() {
    while (!proxy_.stopping_) {
      std::string head;
      if (!ReadHead(client_, client_buffer_, head)) return;
      if (!Serve(head)) return;
    }
  }

 private:
  /// What to do once `offset` bytes of the answer (head included) have reached the client.
  struct Trigger {
    std::uint64_t offset = 0;
    Fault fault = Fault::None;
    std::chrono::milliseconds pause{0};
  };

  /// One request; false when the connection must end.
  bool Serve(const std::string& head) {
    const std::uint64_t index = proxy_.next_request_.fetch_add(1);
    ++proxy_.counters_.requests;
    std::mt19937_64 rng(proxy_.plan_.seed * 0x9E3779B97F4A7C15ULL + index);
    const Fault fault = proxy_.NextFault(rng);

    const std::string_view method = std::string_view(head).substr(0, head.find(' '));
    const bool head_request = method == "HEAD";
    if (ContainsToken(HeaderValue(head, "Transfer-Encoding"), "chunked")) {
      WriteAll(client_,
               "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return false;
    }
    const auto length_header = HeaderValue(head, "Content-Length");
    const std::uint64_t length = length_header ? ParseNumber(*length_header).value_or(0) : 0;

    if (fault == Fault::ResetReadingRequest) {
      ++proxy_.counters_.reset_reading_request;
      std::string partial;
      ReadExactly(client_, client_buffer_, Uniform(rng, 0, length / 2), partial);
      CloseClient(true);
      return false;
    }
    std::string body;
    if (!ReadExactly(client_, client_buffer_, length, body)) return false;
    if (fault == Fault::SlowDown) {
      ++proxy_.counters_.slow_down;
      return WriteAll(client_, SlowDownResponse(index, head_request));
    }

    std::string response_head;
    if (!Forward(head, body, response_head)) {
      ++proxy_.counters_.upstream_errors;
      CloseClient(true);
      return false;
    }
    if (fault == Fault::ResetBeforeResponse) {
      ++proxy_.counters_.reset_before_response;
      CloseClient(true);
      CloseUpstream();
      return false;
    }

    if (response_head.size() < 12) return UpstreamLost();
    // How the answer's body is framed (RFC 9112 §6.3).
    const std::string_view status_text = std::string_view(response_head).substr(9, 3);
    const int status = static_cast<int>(ParseNumber(status_text).value_or(0));
    const bool chunked = ContainsToken(HeaderValue(response_head, "Transfer-Encoding"), "chunked");
    const auto response_length_header = HeaderValue(response_head, "Content-Length");
    std::optional<std::uint64_t> body_length;
    if (head_request || status == 204 || status == 304) {
      body_length = 0;
    } else if (!chunked && response_length_header) {
      body_length = ParseNumber(*response_length_header);
      if (!body_length) return false;
    }
    const bool until_close = !chunked && !body_length;
    const bool close_after =
        until_close || ContainsToken(HeaderValue(response_head, "Connection"), "close");

    // Where the fault strikes, in bytes of head + body; unknown (chunked) bodies count as 2 KiB.
    const std::uint64_t head_size = response_head.size();
    const std::uint64_t known_body = body_length.value_or(2048);
    trigger_ = Trigger{};
    trigger_.fault = fault;
    switch (fault) {
      case Fault::ResetMidResponse:
        ++proxy_.counters_.reset_mid_response;
        trigger_.offset = known_body == 0 || Uniform(rng, 0, 3) == 0
                              ? Uniform(rng, 1, head_size - 1)              // inside the head
                              : head_size + Uniform(rng, 0, known_body - 1);  // inside the body
        break;
      case Fault::Stall:
        ++proxy_.counters_.stall;
        trigger_.pause = std::chrono::milliseconds(
            Uniform(rng, 1, static_cast<std::uint64_t>(proxy_.plan_.stall_max.count())));
        trigger_.offset = known_body == 0 || Uniform(rng, 0, 1) == 0
                              ? 0
                              : head_size + Uniform(rng, 0, known_body - 1);
        break;
      case Fault::LongStall:
        ++proxy_.counters_.long_stall;
        trigger_.pause = proxy_.plan_.long_stall_duration;
        trigger_.offset = known_body == 0 || Uniform(rng, 0, 1) == 0
                              ? 0
                              : head_size + Uniform(rng, 0, known_body - 1);
        break;
      default:
        ++proxy_.counters_.passed;
        trigger_.fault = Fault::None;
        break;
    }
    sent_ = 0;

    if (!Relay(response_head)) return false;
    bool complete = false;
    if (chunked) {
      complete = RelayChunked();
    } else if (body_length) {
      complete = RelayLength(*body_length);
    } else {
      complete = RelayUntilClose();
    }
    if (!complete) return false;
    if (trigger_.fault == Fault::ResetMidResponse) {
      // The answer ended before the cut: reset the now idle connection instead.
      CloseClient(true);
      return false;
    }
    if (close_after) {
      CloseUpstream();
      return false;
    }
    return true;
  }

  /// Sends the request upstream and reads the answer's head. A kept-alive server connection may
  /// have been closed by the server meanwhile; then the request goes once more on a new one.
  bool Forward(const std::string& head, const std::string& body, std::string& response_head) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = upstream_ >= 0;
      if (!reused && !ConnectUpstream()) return false;
      if (WriteAll(upstream_, head) && WriteAll(upstream_, body) &&
          ReadHead(upstream_, upstream_buffer_, response_head)) {
        // Skip interim answers (100 Continue): the client asked for none.
        while (response_head.size() > 12 && response_head[9] == '1' &&
               !response_head.starts_with("HTTP/1.1 101")) {
          if (!ReadHead(upstream_, upstream_buffer_, response_head)) return false;
        }
        return true;
      }
      CloseUpstream();
      if (!reused || proxy_.stopping_) return false;
    }
    return false;
  }

  bool ConnectUpstream() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(proxy_.upstream_port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return false;
    }
    SetNoDelay(fd);
    upstream_ = fd;
    upstream_buffer_.clear();
    proxy_.Track(upstream_);
    return true;
  }

  void CloseUpstream() {
    if (upstream_ < 0) return;
    proxy_.Untrack(upstream_);
    ::close(upstream_);
    upstream_ = -1;
    upstream_buffer_.clear();
  }

  void CloseClient(bool reset) {
    if (client_ < 0) return;
    proxy_.Untrack(client_);
    if (reset) {
      CloseWithReset(client_);
    } else {
      ::close(client_);
    }
    client_ = -1;
  }

  /// Sends answer bytes to the client, applying the trigger when its offset falls among them.
  bool Relay(std::string_view bytes) {
    if (trigger_.fault != Fault::None && trigger_.offset >= sent_ &&
        trigger_.offset < sent_ + bytes.size()) {
      const std::size_t before = static_cast<std::size_t>(trigger_.offset - sent_);
      if (!WriteAll(client_, bytes.substr(0, before))) return false;
      sent_ += before;
      bytes.remove_prefix(before);
      const Fault fault = std::exchange(trigger_.fault, Fault::None);
      if (fault == Fault::ResetMidResponse) {
        CloseClient(true);
        CloseUpstream();
        return false;
      }
      if (!proxy_.Sleep(trigger_.pause)) return false;
    }
    if (!WriteAll(client_, bytes)) {
      // The client gave up (e.g. after a long stall): the server connection is mid-answer.
      CloseUpstream();
      return false;
    }
    sent_ += bytes.size();
    return true;
  }

  bool RelayLength(std::uint64_t remaining) {
    while (remaining > 0) {
      if (upstream_buffer_.empty() && !ReadSome(upstream_, upstream_buffer_)) return UpstreamLost();
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, upstream_buffer_.size()));
      const std::string chunk = upstream_buffer_.substr(0, take);
      upstream_buffer_.erase(0, take);
      remaining -= take;
      if (!Relay(chunk)) return false;
    }
    return true;
  }

  bool RelayChunked() {
    while (true) {
      std::string line;
      if (!ReadLine(line)) return UpstreamLost();
      if (!Relay(line)) return false;
      std::string_view size_text = line;
      size_text = Trim(size_text.substr(0, size_text.find_first_of(";\r")));
      const auto size = ParseNumber(size_text, 16);
      if (!size) return UpstreamLost();
      if (*size == 0) {
        // Trailer fields, then the empty line.
        while (true) {
          if (!ReadLine(line)) return UpstreamLost();
          if (!Relay(line)) return false;
          if (line == "\r\n") return true;
        }
      }
      if (!RelayLength(*size + 2)) return false;  // data and its CRLF
    }
  }

  bool RelayUntilClose() {
    while (true) {
      if (upstream_buffer_.empty() && !ReadSome(upstream_, upstream_buffer_)) return true;
      const std::string chunk = std::exchange(upstream_buffer_, {});
      if (!Relay(chunk)) return false;
    }
  }

  bool UpstreamLost() {
    ++proxy_.counters_.upstream_errors;
    CloseClient(true);
    CloseUpstream();
    return false;
  }

  /// One line ending in CRLF from the server (included).
  bool ReadLine(std::string& line) {
    while (true) {
      const std::size_t end = upstream_buffer_.find("\r\n");
      if (end != std::string::npos) {
        line = upstream_buffer_.substr(0, end + 2);
        upstream_buffer_.erase(0, end + 2);
        return true;
      }
      if (upstream_buffer_.size() > kMaxHeadBytes || !ReadSome(upstream_, upstream_buffer_)) {
        return false;
      }
    }
  }

  /// A head up to and including its empty line; false on end of stream, error, or Stop().
  bool ReadHead(int fd, std::string& buffer, std::string& head) {
    while (true) {
      const std::size_t end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        head = buffer.substr(0, end + 4);
        buffer.erase(0, end + 4);
        return true;
      }
      if (buffer.size() > kMaxHeadBytes || !ReadSome(fd, buffer)) return false;
    }
  }

  /// `size` bytes (fewer on failure) into `out`, buffered bytes first.
  bool ReadExactly(int fd, std::string& buffer, std::uint64_t size, std::string& out) {
    out.clear();
    while (out.size() < size) {
      if (buffer.empty() && !ReadSome(fd, buffer)) return false;
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(size - out.size(), buffer.size()));
      out.append(buffer, 0, take);
      buffer.erase(0, take);
    }
    return true;
  }

  /// Appends what `fd` has (waiting up to kIdleLimit); false on end of stream, error or Stop().
  bool ReadSome(int fd, std::string& buffer) {
    const auto deadline = Clock::now() + kIdleLimit;
    while (!proxy_.stopping_ && Clock::now() < deadline) {
      pollfd poll_fd{fd, POLLIN, 0};
      const int ready = ::poll(&poll_fd, 1, kPollSliceMs);
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) continue;
      char chunk[kRelayChunkBytes];
      const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(got));
      return true;
    }
    return false;
  }

  bool WriteAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      if (proxy_.stopping_ || fd < 0) return false;
      const ssize_t put = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(put));
    }
    return true;
  }

  FaultProxy& proxy_;
  int client_ = -1;
  int upstream_ = -1;
  std::string client_buffer_;    ///< read from the client, not yet used
  std::string upstream_buffer_;  ///< read from the server, not yet relayed
  Trigger trigger_;              ///< the current answer's fault
  std::uint64_t sent_ = 0;       ///< bytes of the current answer sent to the client
};

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port, FaultPlan plan) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::Internal, std::strerror(errno), "fault proxy socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t address_size = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_size) != 0) {
    const std::string message = std::strerror(errno);
    ::close(fd);
    return Fail(ErrorCode::Internal, message, "fault proxy listen on 127.0.0.1");
  }
  auto proxy = std::unique_ptr<FaultProxy>(
      new FaultProxy(fd, ntohs(address.sin_port), upstream_port, plan));
  proxy->acceptor_ = std::thread([raw = proxy.get()] { raw->AcceptLoop(); });
  return proxy;
}

FaultProxy::FaultProxy(int listen_fd, int port, int upstream_port, FaultPlan plan)
    : listen_fd_(listen_fd), port_(port), upstream_port_(upstream_port), plan_(plan) {}

FaultProxy::~FaultProxy() { Stop(); }

std::string FaultProxy::Endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }

FaultCounts FaultProxy::Counts() const {
  FaultCounts counts;
  counts.requests = counters_.requests;
  counts.passed = counters_.passed;
  counts.slow_down = counters_.slow_down;
  counts.reset_reading_request = counters_.reset_reading_request;
  counts.reset_before_response = counters_.reset_before_response;
  counts.reset_mid_response = counters_.reset_mid_response;
  counts.stall = counters_.stall;
  counts.long_stall = counters_.long_stall;
  counts.refused_connections = counters_.refused_connections;
  counts.upstream_errors = counters_.upstream_errors;
  return counts;
}

void FaultProxy::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      stopped_.notify_all();
      for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& worker : workers_) worker.thread.join();
    workers_.clear();
    ::close(listen_fd_);
  });
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    std::erase_if(workers_, [](Worker& worker) {
      if (!worker.done->load()) return false;
      worker.thread.join();
      return true;
    });
    pollfd poll_fd{listen_fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, kPollSliceMs) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (stopping_ || active_connections_.load() >= kMaxConnections) {
      ++counters_.refused_connections;
      CloseWithReset(client);
      continue;
    }
    SetNoDelay(client);
    ++active_connections_;
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back(Worker{std::thread([this, client, done] {
                                {
                                  Connection connection(*this, client);
                                  connection.Run();
                                }
                                --active_connections_;
                                done->store(true);
                              }),
                              done});
  }
}

FaultProxy::Fault FaultProxy::NextFault(std::mt19937_64& rng) {
  double draw = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const std::pair<double, Fault> table[] = {
      {plan_.slow_down, Fault::SlowDown},
      {plan_.reset_reading_request, Fault::ResetReadingRequest},
      {plan_.reset_before_response, Fault::ResetBeforeResponse},
      {plan_.reset_mid_response, Fault::ResetMidResponse},
      {plan_.stall, Fault::Stall},
      {plan_.long_stall, Fault::LongStall},
  };
  for (const auto& [probability, fault] : table) {
    if (draw < probability) return fault;
    draw -= probability;
  }
  return Fault::None;
}

bool FaultProxy::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stopped_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void FaultProxy::Track(int fd) {
  std::lock_guard lock(mutex_);
  open_fds_.insert(fd);
  if (stopping_) ::shutdown(fd, SHUT_RDWR);
}

void FaultProxy::Untrack(int fd) {
  std::lock_guard lock(mutex_);
  open_fds_.erase(fd);
}

}  // namespace sluice::it
