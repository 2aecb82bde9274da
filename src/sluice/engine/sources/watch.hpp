#pragma once
/// The `watch` source: a local folder (a `file://` store, or a prefix of one) watched for files
/// that are complete. Configuration: docs/configuration.md, "watch".
///
/// Instruments and copy tools write files in pieces, so a file is emitted only once its size and
/// mtime have stayed the same for `stable_for` (checked on a timer, not only when the kernel
/// reports a change). A file whose mtime is already older than `stable_for` when first seen counts
/// as stable at once. A file that changes after it was emitted is emitted again once it is stable
/// again; a candidate deleted before it is stable is dropped silently.
///
/// Keys are paths below the store root, '/'-separated, as the `file://` store lists them. Every
/// path component starting with '.' is skipped: dot-files, the store's own `.sluice/` folder and
/// with it the temp files of its atomic writes (`.sluice/tmp/`), and the temp files of tools that
/// write ".name.XXXX" and rename (rsync). Symbolic links and other non-regular files are skipped,
/// as the store's listings skip them.
///
/// Under `sluice serve` (Start/Stop) one thread scans the folder once (files already there are
/// emitted once stable; the queue's dedupe key makes re-emission after a restart harmless), then
/// follows it with inotify(7), recursively, or by rescanning every `interval`:
///  - mode "auto" polls when statfs(2) says the folder is on a network filesystem (NFS, SMB/CIFS,
///    FUSE, 9P, Ceph, Lustre, AFS, GPFS: inotify sees only this host's writes there), else uses
///    inotify; "inotify" and "poll" force one. The choice and the reason are logged.
///  - inotify falls back to polling (with a warning) when the per-user watch or instance limit is
///    reached (ENOSPC from inotify_add_watch, EMFILE from inotify_init1); a queue overflow
///    (IN_Q_OVERFLOW) triggers a full rescan.
/// Under `sluice run` (Pass) one scan emits the files that are stable now, waiting out
/// `stable_for` for the ones modified within it.
///
/// Events have the shape a `poll` source gives: ObjectCreatedEvent(store, Head(key)), so the ETag
/// (hex MD5 of the content) is in the job's dedupe key.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sluice/core/config.hpp"
#include "sluice/engine/sources/source.hpp"

namespace sluice {

/// How a watch source follows its folder.
enum class WatchMode {
  Inotify,  ///< inotify(7) events, recursively
  Poll,     ///< a rescan every `interval`, comparing (size, mtime) snapshots
};

/// The name of the network filesystem whose statfs(2) `f_type` magic is `f_type` (from
/// linux/magic.h and the filesystems' own headers: NFS 0x6969, SMB 0x517B, CIFS 0xFF534D42, SMB2
/// 0xFE534D42, FUSE 0x65735546, 9P 0x01021997, Ceph 0x00C36400, Lustre 0x0BD00BD0, AFS
/// 0x5346414F, GPFS 0x47504653), or "" for any other (local) filesystem. Thread-safe.
std::string_view NetworkFilesystemName(std::uint64_t f_type);

/// The `watch` push source (see the top of this file). Pass() and Start()/Stop() keep separate
/// state; Start/Stop/ActiveMode are thread-safe, Pass is called from one thread at a time.
class WatchSource final : public Source {
 public:
  /// `root` is the store's folder (absolute); `store` is the opened `file://` store at `root`,
  /// used for Head(). `store` must outlive the source.
  WatchSource(SourceConfig config, ObjectStore* store, std::string root);
  /// Stops the thread if started.
  ~WatchSource() override;

  /// The config name.
  const std::string& Name() const override { return config_.name; }
  /// One scan; emits the files that are stable now and waits (sleeping) for the ones modified
  /// within the last `stable_for`. A file still changing after 10 × `stable_for` (at least 1 s)
  /// of waiting is left for the next pass, with a log line. Remembers what it emitted, so a
  /// later Pass emits only new or changed files. Returns the sink's Error, if any.
  Status Pass(const EventSink& sink) override;
  /// nullopt: under `sluice serve` it runs its own thread.
  std::optional<std::chrono::milliseconds> Interval() const override { return std::nullopt; }
  /// True: Engine::Serve starts and stops it.
  bool IsPush() const override { return true; }
  /// True: `sluice run` calls Pass() for one scan.
  bool ScansOnRun() const override { return true; }
  /// Chooses the mode (logged) and starts the thread that scans and follows the folder.
  /// InvalidArgument when already started; Internal when the wake-up eventfd cannot be made.
  /// A missing folder is not an error: it is looked for again every `interval`.
  Status Start(PushContext context) override;
  /// Wakes and joins the thread (it finishes the sink call in progress, if any). Idempotent.
  void Stop() override;

  /// The mode in use: the configured or detected one after Start(), Poll after a fallback.
  [[nodiscard]] WatchMode ActiveMode() const { return mode_.load(); }

 private:
  class Watcher;

  SourceConfig config_;
  ObjectStore* store_;
  std::string root_;
  std::atomic<WatchMode> mode_{WatchMode::Inotify};
  std::atomic<bool> stopping_{false};  // set by Stop(): the thread leaves scans and emission early
  std::mutex mutex_;  // guards Start/Stop
  std::unique_ptr<Watcher> watcher_;  // the state of the serve thread, while started
  std::thread thread_;
  int wake_fd_ = -1;  // eventfd that Stop() writes to wake the thread
  std::unique_ptr<Watcher> pass_state_;  // Pass()'s own snapshots, kept between passes
};

/// Builds a watch source over the opened stores. InvalidArgument when `config.store` is not
/// defined or is not a `file://` store, or `mode` is not "auto", "inotify" or "poll".
/// Thread-safe.
Result<std::unique_ptr<Source>> MakeWatchSource(const SourceConfig& config, const Resources& resources);

}  // namespace sluice
