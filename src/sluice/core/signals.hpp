#pragma once
/// Graceful-shutdown signals: SIGINT and SIGTERM are blocked in every thread and received by one
/// watcher thread (sigwait), which sets a flag the engine polls. A second signal exits at once.

#include <atomic>
#include <thread>

namespace sluice {

/// Watches SIGINT/SIGTERM while alive. Construct in main() before starting any thread, so every
/// later thread inherits the blocked mask. Not copyable; one per process.
class ShutdownSignals {
 public:
  ShutdownSignals();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  /// Becomes true at the first SIGINT or SIGTERM.
  [[nodiscard]] const std::atomic<bool>& Requested() const { return requested_; }

 private:
  std::atomic<bool> requested_{false};
  std::thread watcher_;
};

}  // namespace sluice
