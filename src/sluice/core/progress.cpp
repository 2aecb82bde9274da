#include "sluice/core/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "sluice/core/units.hpp"

namespace sluice {

void ProgressSink::AddTotal(std::uint64_t objects, std::uint64_t bytes) {
  objects_total_.fetch_add(objects, std::memory_order_relaxed);
  bytes_total_.fetch_add(bytes, std::memory_order_relaxed);
}

void ProgressSink::MarkTotalKnown() { total_known_.store(true, std::memory_order_release); }

void ProgressSink::AddBytes(std::uint64_t bytes) {
  bytes_done_.fetch_add(bytes, std::memory_order_relaxed);
}

void ProgressSink::RetractBytes(std::uint64_t bytes) {
  bytes_done_.fetch_sub(bytes, std::memory_order_relaxed);
}

void ProgressSink::ObjectDone(bool succeeded) {
  if (!succeeded) objects_failed_.fetch_add(1, std::memory_order_relaxed);
  objects_done_.fetch_add(1, std::memory_order_relaxed);
}

ProgressSnapshot ProgressSink::Snapshot() const {
  ProgressSnapshot snapshot;
  // Read "known" first: once it is true, the totals read after it are final.
  snapshot.total_known = total_known_.load(std::memory_order_acquire);
  snapshot.objects_total = objects_total_.load(std::memory_order_relaxed);
  snapshot.bytes_total = bytes_total_.load(std::memory_order_relaxed);
  snapshot.objects_failed = objects_failed_.load(std::memory_order_relaxed);
  snapshot.objects_done = objects_done_.load(std::memory_order_relaxed);
  snapshot.bytes_done = bytes_done_.load(std::memory_order_relaxed);
  return snapshot;
}

std::string FormatCount(std::uint64_t count) {
  std::string digits = std::to_string(count);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string FormatClock(std::chrono::seconds duration) {
  const auto total = std::max<std::int64_t>(0, duration.count());
  const auto hours = total / 3600;
  const auto minutes = (total / 60) % 60;
  const auto seconds = total % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, seconds);
  return fmt::format("{}:{:02}", minutes, seconds);
}

std::string FormatProgressLine(const ProgressSnapshot& snapshot, double rate_bytes_per_second,
                               std::size_t width_columns) {
  const char* more = snapshot.total_known ? "" : "+";
  // The fraction done, when the totals are final: by bytes, or by objects when all are empty.
  double fraction = -1;
  if (snapshot.total_known) {
    if (snapshot.bytes_total > 0) {
      fraction = static_cast<double>(snapshot.bytes_done) / static_cast<double>(snapshot.bytes_total);
    } else if (snapshot.objects_total > 0) {
      fraction =
          static_cast<double>(snapshot.objects_done) / static_cast<double>(snapshot.objects_total);
    } else {
      fraction = 1;
    }
    fraction = std::clamp(fraction, 0.0, 1.0);
  }

  std::vector<std::string> parts;
  if (fraction >= 0) parts.push_back(fmt::format("{:3}%", static_cast<int>(fraction * 100)));
  parts.push_back(fmt::format("{}/{}{}", FormatSize(snapshot.bytes_done),
                              FormatSize(snapshot.bytes_total), more));
  parts.push_back(rate_bytes_per_second >= 0
                      ? FormatSize(static_cast<std::uint64_t>(rate_bytes_per_second)) + "/s"
                      : std::string("--/s"));
  if (snapshot.total_known && rate_bytes_per_second > 0 &&
      snapshot.bytes_total >= snapshot.bytes_done) {
    const double remaining_seconds =
        static_cast<double>(snapshot.bytes_total - snapshot.bytes_done) / rate_bytes_per_second;
    parts.push_back("ETA " + FormatClock(std::chrono::seconds(
                                 static_cast<std::int64_t>(std::ceil(remaining_seconds)))));
  }
  parts.push_back(fmt::format("{}/{}{} objects", FormatCount(snapshot.objects_done),
                              FormatCount(snapshot.objects_total), more));
  if (snapshot.objects_failed > 0) {
    parts.push_back(fmt::format("{} failed", FormatCount(snapshot.objects_failed)));
  }
  std::string stats = fmt::format("{}", fmt::join(parts, "  "));

  constexpr std::size_t kMinBarColumns = 10;  // narrower than this says nothing
  constexpr std::size_t kMaxBarColumns = 40;
  std::string line;
  if (fraction >= 0 && width_columns >= stats.size() + 3 + kMinBarColumns) {
    const std::size_t bar = std::min(kMaxBarColumns, width_columns - stats.size() - 3);
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar));
    line = "[" + std::string(filled, '=');
    if (filled < bar) line += '>' + std::string(bar - filled - 1, ' ');
    line += "] ";
  }
  line += stats;
  if (line.size() > width_columns) line.resize(width_columns);
  return line;
}

/// State shared by the bar, its drawing thread and the log sink that clears its line.
struct ProgressBar::Shared {
  const ProgressSink* sink = nullptr;
  ProgressBarOptions options;
  std::mutex mutex;  ///< guards the terminal line and the fields below
  std::condition_variable wake;
  bool stop = false;        ///< guarded by mutex
  bool line_drawn = false;  ///< guarded by mutex: the bar is on the terminal's current line
  std::shared_ptr<spdlog::logger> saved_logger;  ///< the default logger before the bar
  std::shared_ptr<spdlog::logger> bar_logger;    ///< its clone with line-clearing sinks

  /// Erases the bar's line so the next output starts on a clean line.
  void ClearLineLocked() {
    if (!line_drawn) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    line_drawn = false;
  }
};

namespace {

/// Wraps a sink of the default logger: clears the bar's line before each log line.
class LineClearingSink final : public spdlog::sinks::sink {
 public:
  LineClearingSink(std::shared_ptr<spdlog::sinks::sink> inner,
                   std::shared_ptr<ProgressBar::Shared> shared)
      : inner_(std::move(inner)), shared_(std::move(shared)) {
    set_level(inner_->level());
  }

  void log(const spdlog::details::log_msg& msg) override {
    const std::lock_guard lock(shared_->mutex);
    shared_->ClearLineLocked();
    inner_->log(msg);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  std::shared_ptr<ProgressBar::Shared> shared_;
};

std::size_t TerminalColumns() {
  constexpr std::size_t kDefaultColumns = 80;
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultColumns;
}

void DrawLoop(ProgressBar::Shared& shared) {
  using Clock = std::chrono::steady_clock;
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples;
  samples.emplace_back(Clock::now(), shared.sink->Snapshot().bytes_done);  // so frame 1 has a rate
  std::unique_lock lock(shared.mutex);
  while (true) {
    // Wait first: a copy that ends within one interval never shows a bar.
    if (shared.wake.wait_for(lock, shared.options.redraw_interval, [&] { return shared.stop; })) {
      return;
    }
    const ProgressSnapshot snapshot = shared.sink->Snapshot();
    const auto now = Clock::now();
    samples.emplace_back(now, snapshot.bytes_done);
    while (samples.size() > 2 && now - samples.front().first > shared.options.rate_window) {
      samples.pop_front();
    }
    double rate = -1;
    if (samples.size() >= 2) {
      const double seconds =
          std::chrono::duration<double>(now - samples.front().first).count();
      const auto bytes = static_cast<double>(snapshot.bytes_done) -
                         static_cast<double>(samples.front().second);
      if (seconds > 0) rate = std::max(0.0, bytes / seconds);
    }
    // One column short of the width: writing the last column makes some terminals wrap, and
    // then "\r" no longer returns to the bar's line.
    const std::string line = FormatProgressLine(snapshot, rate, TerminalColumns() - 1);
    std::fputs("\r", stderr);
    std::fputs(line.c_str(), stderr);
    std::fputs("\x1b[K", stderr);
    std::fflush(stderr);
    shared.line_drawn = true;
  }
}

}  // namespace

ProgressBar::ProgressBar(const ProgressSink& sink, ProgressBarOptions options) {
  if (!options.enabled || ::isatty(STDERR_FILENO) == 0) return;
  shared_ = std::make_shared<Shared>();
  shared_->sink = &sink;
  shared_->options = options;
  if (auto logger = spdlog::default_logger()) {
    shared_->saved_logger = logger;
    shared_->bar_logger = logger->clone(logger->name());
    for (auto& inner : shared_->bar_logger->sinks()) {
      inner = std::make_shared<LineClearingSink>(inner, shared_);
    }
    spdlog::set_default_logger(shared_->bar_logger);
  }
  thread_ = std::thread([shared = shared_] { DrawLoop(*shared); });
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Finish() {
  if (!shared_) return;
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->stop = true;
  }
  shared_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->ClearLineLocked();
  }
  if (shared_->saved_logger) spdlog::set_default_logger(shared_->saved_logger);
  // The clone's sinks point back at shared_; dropping it here breaks that cycle.
  shared_->bar_logger.reset();
  shared_->saved_logger.reset();
  shared_.reset();
}

}  // namespace sluice
