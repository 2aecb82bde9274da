#include "sluice/core/signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace sluice {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // internal: wakes the watcher when the process ends normally
  return set;
}

}  // namespace

ShutdownSignals::ShutdownSignals() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this, set] {
    int received = 0;
    while (sigwait(&set, &received) == 0) {
      if (received == SIGUSR2) return;
      if (requested_.exchange(true)) {
        spdlog::warn("second signal: exiting now");
        std::_Exit(130);
      }
      spdlog::info("received {}: shutting down gracefully (send again to exit at once)",
                   received == SIGINT ? "SIGINT" : "SIGTERM");
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
}

}  // namespace sluice
