#pragma once
// FaultProxy: an HTTP/1.1 proxy for tests that sits between an S3 client and the server on
// 127.0.0.1 and misbehaves at random, the way S3 and the networks in front of it do: it answers
// 503 SlowDown, resets connections (while reading the request, after the server acted but before
// any answer, partway through the answer) and stalls answers (briefly, or longer than the client's
// stall timeout). Everything else is relayed byte for byte, connections kept alive, so the Host
// header and SigV4 signatures stay valid.
//
// Bounds: 127.0.0.1 only (it listens there and forwards only there); at most kMaxConnections
// client connections at once (more are refused by a reset); every wait is cut short by Stop().
// Deterministic: request n (counted from 0 in arrival order) meets the fault that `seed` and n
// decide, so a run repeats its mix of faults, though threads decide which request is n-th.
//
// Limits: requests must carry a Content-Length (or no body); chunked request bodies are answered
// with 501. Responses may be framed by Content-Length, chunked transfer coding or connection
// close (RFC 9112 §6.3).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice::it {

/// How often each fault happens, as a probability per request (they exclude each other; the
/// rest of the requests pass untouched).
struct FaultPlan {
  std::uint64_t seed = 20261121;
  /// Answer "503 SlowDown" (S3's throttling error document) without forwarding the request.
  double slow_down = 0.04;
  /// Reset the connection partway through reading the request; nothing reaches the server.
  double reset_reading_request = 0.02;
  /// Forward the request, let the server act on it, then reset before any byte of its answer:
  /// the client must retry something that already happened (a lost answer).
  double reset_before_response = 0.02;
  /// Relay part of the answer (inside its head or body), then reset.
  double reset_mid_response = 0.03;
  /// Pause the answer (before its head, or partway through its body) for a random time up to
  /// `stall_max`, which must stay below the client's stall timeout: it must just wait.
  double stall = 0.04;
  std::chrono::milliseconds stall_max{400};
  /// Pause the answer for `long_stall_duration`, longer than the client's stall timeout: the
  /// client must give up on the connection and retry.
  double long_stall = 0.004;
  std::chrono::milliseconds long_stall_duration{3000};
};

/// What the proxy did, by kind of request outcome.
struct FaultCounts {
  std::uint64_t requests = 0;  ///< requests read (heads complete)
  std::uint64_t passed = 0;    ///< relayed untouched
  std::uint64_t slow_down = 0;
  std::uint64_t reset_reading_request = 0;
  std::uint64_t reset_before_response = 0;
  std::uint64_t reset_mid_response = 0;
  std::uint64_t stall = 0;
  std::uint64_t long_stall = 0;
  std::uint64_t refused_connections = 0;  ///< over kMaxConnections
  std::uint64_t upstream_errors = 0;      ///< the server could not be reached or cut us off

  /// "requests 2914: passed 2507, slow_down 120, …"
  [[nodiscard]] std::string ToString() const;
};

/// An HTTP/1.1 fault-injecting proxy on 127.0.0.1. Thread-safe.
class FaultProxy {
 public:
  /// Most client connections served at once; more are reset on arrival.
  static constexpr int kMaxConnections = 64;

  /// Listens on 127.0.0.1 on a free port and forwards to 127.0.0.1:`upstream_port`.
  /// Internal when a socket call fails.
  static Result<std::unique_ptr<FaultProxy>> Start(int upstream_port, FaultPlan plan);

  /// Stops (see Stop()).
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// "http://127.0.0.1:<port>": the endpoint to give the client.
  [[nodiscard]] std::string Endpoint() const;

  /// Counts so far.
  [[nodiscard]] FaultCounts Counts() const;

  /// Stops accepting, cuts every connection and stall short, and joins every thread. Idempotent.
  void Stop();

 private:
  enum class Fault {
    None,
    SlowDown,
    ResetReadingRequest,
    ResetBeforeResponse,
    ResetMidResponse,
    Stall,
    LongStall
  };
  struct Counters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> passed{0};
    std::atomic<std::uint64_t> slow_down{0};
    std::atomic<std::uint64_t> reset_reading_request{0};
    std::atomic<std::uint64_t> reset_before_response{0};
    std::atomic<std::uint64_t> reset_mid_response{0};
    std::atomic<std::uint64_t> stall{0};
    std::atomic<std::uint64_t> long_stall{0};
    std::atomic<std::uint64_t> refused_connections{0};
    std::atomic<std::uint64_t> upstream_errors{0};
  };
  class Connection;

  FaultProxy(int listen_fd, int port, int upstream_port, FaultPlan plan);
  void AcceptLoop();
  /// Fault for the next request, and the generator the request's other choices come from.
  Fault NextFault(std::mt19937_64& rng);
  /// Waits `duration` or until Stop(); false when stopped.
  bool Sleep(std::chrono::milliseconds duration);
  void Track(int fd);
  void Untrack(int fd);

  const int listen_fd_;
  const int port_;
  const int upstream_port_;
  const FaultPlan plan_;
  Counters counters_;
  std::atomic<std::uint64_t> next_request_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_connections_{0};

  // Stop() and the connection threads: open sockets, so Stop() can shut them down.
  mutable std::mutex mutex_;
  std::condition_variable stopped_;
  std::set<int> open_fds_;

  // The acceptor thread's: connection threads and whether each has finished.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;
  std::thread acceptor_;
  std::once_flag stop_once_;
};

}  // namespace sluice::it
