#pragma once
/// Progress of a long transfer. ProgressSink is the counter every party updates (the lister adds
/// to the totals, the copier or a store's writer adds bytes as the destination takes them): a few
/// atomics, cheap enough to call per chunk from any thread. ProgressBar draws a sink on stderr
/// while stderr is a terminal, from a background thread, and keeps spdlog lines from landing in
/// the middle of the bar.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace sluice {

/// A point-in-time copy of a ProgressSink's counters. The counters are read one by one, so a
/// snapshot taken while others update them may mix moments (fine for display, not for accounting).
struct ProgressSnapshot {
  std::uint64_t objects_total = 0;   ///< objects found so far (all of them once total_known)
  std::uint64_t objects_done = 0;    ///< objects finished, succeeded or failed
  std::uint64_t objects_failed = 0;  ///< of objects_done, those that failed
  std::uint64_t bytes_total = 0;     ///< sum of the sizes of the objects found so far
  std::uint64_t bytes_done = 0;      ///< bytes the destinations have taken (see AddBytes)
  bool total_known = false;          ///< discovery finished: the totals are final
};

/// Counters of one transfer. Every method is thread-safe and lock-free; a sink is shared by the
/// lister, the copy threads and (later) a store's upload threads, and read by a ProgressBar.
class ProgressSink {
 public:
  /// Adds `objects` objects of `bytes` bytes in all to the totals (called as a listing finds
  /// them, so totals grow until MarkTotalKnown).
  void AddTotal(std::uint64_t objects, std::uint64_t bytes);
  /// Says the totals are final: discovery is over.
  void MarkTotalKnown();
  /// Counts `bytes` more as done. Whoever knows best when bytes have left calls it: the copier
  /// when the destination writer accepted a chunk (Write() returned OK), or a store writer when
  /// the server acknowledged them. Exactly one party counts a given transfer's bytes.
  void AddBytes(std::uint64_t bytes);
  /// Takes back bytes counted by AddBytes that will be sent again (e.g. a part whose upload
  /// attempt failed and will be retried), so bytes_done stays "bytes really sent once".
  /// `bytes` must not exceed what this sender counted and has not yet taken back.
  void RetractBytes(std::uint64_t bytes);
  /// Counts one object as finished; `succeeded` false counts it as failed too.
  void ObjectDone(bool succeeded);
  /// The counters now.
  [[nodiscard]] ProgressSnapshot Snapshot() const;

 private:
  std::atomic<std::uint64_t> objects_total_{0};
  std::atomic<std::uint64_t> objects_done_{0};
  std::atomic<std::uint64_t> objects_failed_{0};
  std::atomic<std::uint64_t> bytes_total_{0};
  std::atomic<std::uint64_t> bytes_done_{0};
  std::atomic<bool> total_known_{false};
};

/// How a ProgressBar behaves.
struct ProgressBarOptions {
  /// False draws nothing (`--no-progress`). True draws only when stderr is a terminal.
  bool enabled = true;
  /// Pause between redraws; 100 ms = at most 10 redraws per second.
  std::chrono::milliseconds redraw_interval{100};
  /// Over how much recent time the transfer rate is averaged.
  std::chrono::milliseconds rate_window{5000};
};

/// Draws a ProgressSink on stderr as one line that is rewritten in place ("\r" + text +
/// "\x1b[K", ECMA-48 EL), from a background thread, while it is alive and stderr is a terminal;
/// does nothing otherwise. While drawing it routes the default spdlog logger through a sink
/// that first clears the bar's line, so a log line never lands in the middle of the bar (the bar
/// reappears below it at the next redraw). Construct it and call Finish() while no other thread
/// logs (before the transfer starts and after it ended): swapping the default logger is not
/// thread-safe in spdlog. The methods are not thread-safe; the sink may be updated from any thread.
class ProgressBar {
 public:
  /// Starts drawing `sink` (which must outlive the bar) when options.enabled and stderr is a
  /// terminal.
  explicit ProgressBar(const ProgressSink& sink, ProgressBarOptions options = {});
  /// Calls Finish().
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Stops drawing, clears the bar's line and restores the logger. Idempotent. Call it before
  /// printing a summary.
  void Finish();
  /// True while the bar is being drawn.
  [[nodiscard]] bool Drawing() const { return thread_.joinable(); }

  /// State shared with the drawing thread and the log sink; defined in progress.cpp.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

/// The bar's text: "[=====>      ]  45%  512.0 MiB/1.1 GiB  85.3 MiB/s  ETA 0:07  12/1,000
/// objects  1 failed", at most `width_columns` columns (ASCII only, so bytes = columns). Totals
/// still growing end in '+' and have no percentage or ETA. `rate_bytes_per_second` < 0 means
/// unknown. Thread-safe.
std::string FormatProgressLine(const ProgressSnapshot& snapshot, double rate_bytes_per_second,
                               std::size_t width_columns);

/// `count` with thousands separators: 1234567 -> "1,234,567". Thread-safe.
std::string FormatCount(std::uint64_t count);

/// A duration as "0:07", "12:34" or "1:02:03" (h:mm:ss). Thread-safe.
std::string FormatClock(std::chrono::seconds duration);

}  // namespace sluice
