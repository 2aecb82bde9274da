#include "sluice/engine/sources/watch.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/units.hpp"

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What inotify reports for a watched folder. IN_ATTRIB too: `touch` changes only the mtime.
// IN_MOVED_FROM / IN_DELETE drop candidates and the watches of folders moved away.
constexpr std::uint32_t kWatchMask = IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO |
                                     IN_MOVED_FROM | IN_DELETE | IN_ATTRIB;

// How long `sluice run` (Pass) waits for files still being written, in units of stable_for.
constexpr int kPassPatience = 10;
constexpr auto kMinPassPatience = std::chrono::seconds(1);

// A sink or Head failure is retried after this long (or stable_for when longer).
constexpr auto kRetryDelay = std::chrono::seconds(1);

std::string Errno(int err) { return std::error_code(err, std::generic_category()).message(); }

// (size, mtime) of a regular file; what "stable" compares.
struct Snapshot {
  std::uint64_t size_bytes = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Snapshot&) const = default;
};

// The snapshot of the regular file at `path`, or nullopt when it is gone or not a regular file
// (links are not objects: the file:// store opens with O_NOFOLLOW).
std::optional<Snapshot> StatFile(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return Snapshot{static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace

std::string_view NetworkFilesystemName(std::uint64_t f_type) {
  switch (f_type) {
    case 0x6969: return "NFS";
    case 0x517B: return "SMB";
    case 0xFF534D42: return "CIFS";
    case 0xFE534D42: return "SMB2";
    case 0x65735546: return "FUSE";
    case 0x01021997: return "9P";
    case 0x00C36400: return "Ceph";
    case 0x0BD00BD0: return "Lustre";
    case 0x5346414F: return "AFS";
    case 0x47504653: return "GPFS";
    default: return "";
  }
}

// The state of one follower of the folder: the candidates and, in inotify mode, the watches.
// Used by one thread at a time (the serve thread, or Pass's caller).
class WatchSource::Watcher {
 public:
  Watcher(const SourceConfig& config, ObjectStore* store, std::string root,
          std::atomic<WatchMode>* mode, const std::atomic<bool>* stopping)
      : config_(config), store_(store), root_(std::move(root)), mode_(mode), stopping_(stopping) {
    // The deepest folder holding every key of the prefix: "incoming/run" → "incoming/".
    const auto slash = config_.prefix.rfind('/');
    top_ = slash == std::string::npos ? "" : config_.prefix.substr(0, slash + 1);
  }

  ~Watcher() {
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
  }

  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  [[nodiscard]] std::string Folder() const { return PathOf(top_); }

  // Scans the whole folder (adding watches in inotify mode): new and changed files become
  // candidates, files no longer there are forgotten.
  void Scan() {
    ++generation_;
    Walk(top_);
    if (Stopping()) return;  // an interrupted walk saw only part of the files
    std::erase_if(pending_, [&](const std::string& key) { return files_.at(key).generation != generation_; });
    std::erase_if(files_, [&](const auto& entry) { return entry.second.generation != generation_; });
  }

  // Emits the candidates that have been stable for stable_for, each after a last look (Head,
  // then a stat showing nothing changed meanwhile). Returns the sink's error; its events stay
  // candidates, retried after kRetryDelay.
  Status EmitDue(const EventSink& sink) {
    const auto now = SteadyClock::now();
    std::vector<std::string> due;
    for (const auto& key : pending_) {
      if (now >= DueAt(files_.at(key))) due.push_back(key);
    }
    std::vector<Event> events;
    std::vector<std::string> keys;
    for (const auto& key : due) {
      if (Stopping()) return Ok();
      File& file = files_.at(key);
      const Snapshot before = file.snapshot;
      if (!Observe(key) || file.snapshot != before) continue;
      auto info = store_->Head(key);
      if (!info) {
        if (info.error().code == ErrorCode::NotFound) {
          Forget(key);  // deleted (or replaced by a folder) before it was stable
        } else if (info.error().code == ErrorCode::InvalidArgument) {
          spdlog::warn("source '{}': skipping {}: {}", config_.name, key, info.error().ToString());
          MarkEmitted(key);  // not a valid key; looked at again only when it changes
        } else {
          spdlog::warn("source '{}': {}; retrying", config_.name, info.error().ToString());
          RetryLater(file);
        }
        continue;
      }
      // Head hashed the content: emit only if the file did not change while it did.
      if (!Observe(key) || file.snapshot != before) continue;
      events.push_back(ObjectCreatedEvent(config_.store, *info));
      keys.push_back(key);
    }
    if (events.empty()) return Ok();
    const std::size_t count = events.size();
    if (auto sent = sink(std::move(events)); !sent) {
      for (const auto& key : keys) RetryLater(files_.at(key));
      return Fail(std::move(sent).error().WithContext(
          fmt::format("source '{}': {} stable file(s) not enqueued", config_.name, count)));
    }
    for (const auto& key : keys) MarkEmitted(key);
    spdlog::debug("source '{}': {} stable file(s) emitted", config_.name, count);
    return Ok();
  }

  // When the next candidate becomes due; nullopt when there is none.
  [[nodiscard]] std::optional<SteadyClock::time_point> NextDue() const {
    std::optional<SteadyClock::time_point> next;
    for (const auto& key : pending_) {
      const auto at = DueAt(files_.at(key));
      if (!next || at < *next) next = at;
    }
    return next;
  }

  [[nodiscard]] std::size_t PendingCount() const { return pending_.size(); }

  // The serve thread: scan, then follow the folder until `wake_fd` is written.
  void Run(int wake_fd, const EventSink& sink) {
    if (Mode() == WatchMode::Inotify) StartInotify();
    auto next_scan = SteadyClock::now();
    rescan_ = true;
    while (!Stopping()) {
      // Polling, or the followed folder is missing (not created yet, or deleted): rescan on time.
      const bool timed_scans = Mode() == WatchMode::Poll || top_wd_ < 0;
      if (rescan_ || (timed_scans && SteadyClock::now() >= next_scan)) {
        rescan_ = false;
        Scan();
        next_scan = SteadyClock::now() + config_.interval;
        if (rescan_) continue;  // fell back to polling during the scan
      }
      if (auto emitted = EmitDue(sink); !emitted) {
        spdlog::error("{} (retrying): {}", emitted.error().context, emitted.error().message);
      }
      // Sleep until the next candidate is due, the next scan, a kernel event or Stop().
      std::optional<SteadyClock::time_point> wake_at = NextDue();
      if (Mode() == WatchMode::Poll || top_wd_ < 0) {
        wake_at = wake_at ? std::min(*wake_at, next_scan) : next_scan;
      }
      int timeout_ms = -1;
      if (wake_at) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*wake_at - SteadyClock::now());
        timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
      }
      pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
      const nfds_t count = inotify_fd_ >= 0 ? 2 : 1;
      if (::poll(fds, count, timeout_ms) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("source '{}': poll: {}; stopped watching", config_.name, Errno(errno));
        return;
      }
      if ((fds[0].revents & POLLIN) != 0) return;
      if (count == 2 && (fds[1].revents & POLLIN) != 0) ReadEvents();
    }
  }

 private:
  struct File {
    Snapshot snapshot;
    SteadyClock::time_point changed_at;  // when `snapshot` was last seen to change
    bool emitted = false;
    std::uint64_t generation = 0;  // the scan that last saw it
  };

  [[nodiscard]] WatchMode Mode() const { return mode_ != nullptr ? mode_->load() : WatchMode::Poll; }
  [[nodiscard]] bool Stopping() const { return stopping_ != nullptr && stopping_->load(); }

  [[nodiscard]] std::string PathOf(const std::string& relative) const {
    if (relative.empty()) return root_;
    std::string path = root_ + "/" + relative;
    if (path.ends_with('/')) path.pop_back();
    return path;
  }

  [[nodiscard]] bool Matches(const std::string& key) const {
    return key.starts_with(config_.prefix) && key.ends_with(config_.suffix);
  }

  // True when keys below the folder `folder` ("a/b/") can match the prefix.
  [[nodiscard]] bool CouldHoldMatches(const std::string& folder) const {
    return folder.starts_with(config_.prefix) || config_.prefix.starts_with(folder);
  }

  [[nodiscard]] SteadyClock::time_point DueAt(const File& file) const {
    return file.changed_at + config_.stable_for;
  }

  // Re-reads the file's snapshot. A new file counts as unchanged since its mtime (at most
  // stable_for ago), so files that were complete before we looked are due at once; a change
  // restarts the wait. Returns false (and forgets the key) when the file is gone.
  bool Observe(const std::string& key) {
    auto snapshot = StatFile(PathOf(key));
    if (!snapshot) {
      Forget(key);
      return false;
    }
    const auto now = SteadyClock::now();
    auto [it, inserted] = files_.try_emplace(key);
    File& file = it->second;
    file.generation = generation_;
    if (inserted) {
      const auto mtime = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(snapshot->mtime_ns)));
      const auto age = std::clamp<std::chrono::nanoseconds>(std::chrono::system_clock::now() - mtime,
                                                            std::chrono::nanoseconds(0), config_.stable_for);
      file.snapshot = *snapshot;
      file.changed_at = now - std::chrono::duration_cast<SteadyClock::duration>(age);
      pending_.insert(key);
    } else if (file.snapshot != *snapshot) {
      file.snapshot = *snapshot;
      file.changed_at = now;
      file.emitted = false;
      pending_.insert(key);
    }
    return true;
  }

  void Forget(const std::string& key) {
    files_.erase(key);
    pending_.erase(key);
  }

  // Forgets every candidate below `folder` ("a/b/") and drops the watches of it and below.
  void ForgetFolder(const std::string& folder) {
    for (auto it = files_.lower_bound(folder); it != files_.end() && it->first.starts_with(folder);) {
      pending_.erase(it->first);
      it = files_.erase(it);
    }
    std::erase_if(watches_, [&](const auto& entry) {
      if (!entry.second.starts_with(folder)) return false;
      ::inotify_rm_watch(inotify_fd_, entry.first);
      return true;
    });
  }

  void MarkEmitted(const std::string& key) {
    files_.at(key).emitted = true;
    pending_.erase(key);
  }

  void RetryLater(File& file) const {
    const auto delay = std::max<SteadyClock::duration>(kRetryDelay, config_.stable_for);
    file.changed_at = SteadyClock::now() + delay - config_.stable_for;
  }

  // Observes the files below `folder` ("" or "a/b/"), recursively, adding a watch to each
  // folder first in inotify mode (so no file created meanwhile is missed).
  void Walk(const std::string& folder) {
    if (Stopping()) return;
    if (Mode() == WatchMode::Inotify && inotify_fd_ >= 0 && !AddWatch(folder)) return;
    std::error_code ec;
    std::filesystem::directory_iterator it(PathOf(folder), ec);
    if (ec) {
      if (ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
        spdlog::warn("source '{}': cannot read folder {}: {}", config_.name, PathOf(folder), ec.message());
      }
      return;
    }
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec || Stopping()) break;
      const std::string name = it->path().filename().string();
      if (name.starts_with('.')) continue;
      const auto status = it->symlink_status(ec);
      if (ec) continue;
      if (std::filesystem::is_directory(status)) {
        const std::string child = folder + name + "/";
        if (CouldHoldMatches(child)) Walk(child);
      } else if (std::filesystem::is_regular_file(status)) {
        const std::string key = folder + name;
        if (Matches(key)) Observe(key);
      }
    }
  }

  void StartInotify() {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      FallBackToPolling(fmt::format("inotify_init1: {} (the limit is fs.inotify.max_user_instances)", Errno(errno)));
    }
  }

  // Watches `folder`; false when it cannot be watched (gone, unreadable, or the watch limit
  // reached, in which case the source now polls).
  bool AddWatch(const std::string& folder) {
    const std::string path = PathOf(folder);
    const int wd = ::inotify_add_watch(inotify_fd_, path.c_str(), kWatchMask | IN_ONLYDIR | IN_DONT_FOLLOW);
    if (wd < 0) {
      const int err = errno;
      if (err == ENOSPC) {
        FallBackToPolling(fmt::format(
            "the inotify watch limit is reached (sysctl fs.inotify.max_user_watches, {} folders watched)",
            watches_.size()));
      } else if (err != ENOENT && err != ENOTDIR) {
        spdlog::warn("source '{}': cannot watch {}: {}; files below it are found only by rescans",
                     config_.name, path, Errno(err));
      }
      return false;
    }
    watches_[wd] = folder;  // a folder moved within the tree keeps its wd: the path is updated
    if (folder == top_) top_wd_ = wd;
    return true;
  }

  void FallBackToPolling(const std::string& why) {
    spdlog::warn("source '{}': {}; falling back to polling {} every {}", config_.name, why, Folder(),
                 FormatDuration(config_.interval));
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
    inotify_fd_ = -1;
    watches_.clear();
    top_wd_ = -1;
    if (mode_ != nullptr) mode_->store(WatchMode::Poll);
    rescan_ = true;
  }

  void ReadEvents() {
    alignas(inotify_event) char buffer[64 * 1024];
    while (inotify_fd_ >= 0 && !Stopping()) {
      const ssize_t length = ::read(inotify_fd_, buffer, sizeof buffer);
      if (length < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) spdlog::warn("source '{}': reading inotify events: {}", config_.name, Errno(errno));
        return;
      }
      for (ssize_t offset = 0; offset < length && inotify_fd_ >= 0;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
        offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        HandleEvent(*event);
      }
    }
  }

  void HandleEvent(const inotify_event& event) {
    if ((event.mask & IN_Q_OVERFLOW) != 0) {
      spdlog::warn("source '{}': the inotify event queue overflowed (sysctl fs.inotify.max_queued_events); "
                   "rescanning {}", config_.name, Folder());
      rescan_ = true;
      return;
    }
    const auto watch = watches_.find(event.wd);
    if (watch == watches_.end()) return;
    if ((event.mask & IN_IGNORED) != 0) {  // the folder was deleted or its filesystem unmounted
      if (event.wd == top_wd_) {
        top_wd_ = -1;
        spdlog::info("source '{}': {} is gone; looking for it every {}", config_.name, Folder(),
                     FormatDuration(config_.interval));
      }
      watches_.erase(watch);
      return;
    }
    if (event.len == 0) return;  // about the watched folder itself
    const std::string name(event.name);  // NUL-padded
    if (name.empty() || name.starts_with('.')) return;
    const std::string path = watch->second + name;
    if ((event.mask & IN_ISDIR) != 0) {
      if ((event.mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
        // Files may have been created in it before its watch was added: Walk lists them.
        if (CouldHoldMatches(path + "/")) Walk(path + "/");
      } else if ((event.mask & (IN_MOVED_FROM | IN_DELETE)) != 0) {
        ForgetFolder(path + "/");
      }
      return;
    }
    if (Matches(path)) Observe(path);
  }

  const SourceConfig& config_;
  ObjectStore* store_;
  std::string root_;
  std::string top_;  // the folder followed, relative to root_: "" or "a/b/"
  std::atomic<WatchMode>* mode_;  // null for Pass(): polling only
  const std::atomic<bool>* stopping_;
  std::map<std::string, File> files_;  // key → what was last seen
  std::set<std::string> pending_;      // keys of files_ not emitted in their current snapshot
  std::uint64_t generation_ = 0;
  int inotify_fd_ = -1;
  std::map<int, std::string> watches_;  // watch descriptor → folder ("" or "a/b/")
  int top_wd_ = -1;
  bool rescan_ = false;
};

WatchSource::WatchSource(SourceConfig config, ObjectStore* store, std::string root)
    : config_(std::move(config)), store_(store), root_(std::move(root)) {}

WatchSource::~WatchSource() { Stop(); }

Status WatchSource::Pass(const EventSink& sink) {
  if (!pass_state_) pass_state_ = std::make_unique<Watcher>(config_, store_, root_, nullptr, nullptr);
  Watcher& watcher = *pass_state_;
  watcher.Scan();
  const auto patience = std::max<std::chrono::milliseconds>(kMinPassPatience, config_.stable_for * kPassPatience);
  const auto give_up = SteadyClock::now() + patience;
  while (true) {
    SLUICE_RETURN_IF_ERROR(watcher.EmitDue(sink));
    const auto next = watcher.NextDue();
    if (!next) return Ok();
    if (*next > give_up) {
      spdlog::info("source '{}': {} file(s) in {} still changing after {}; left for the next pass", config_.name,
                   watcher.PendingCount(), watcher.Folder(), FormatDuration(patience));
      return Ok();
    }
    std::this_thread::sleep_until(*next);
  }
}

Status WatchSource::Start(PushContext context) {
  std::lock_guard lock(mutex_);
  const std::string at = "source '" + config_.name + "'";
  if (thread_.joinable()) return Fail(ErrorCode::InvalidArgument, "already started", at);
  auto watcher = std::make_unique<Watcher>(config_, store_, root_, &mode_, &stopping_);
  const std::string folder = watcher->Folder();

  WatchMode mode = WatchMode::Inotify;
  std::string why;
  if (config_.watch_mode == "poll") {
    mode = WatchMode::Poll;
    why = "mode = \"poll\"";
  } else {
    struct statfs fs {};
    std::string network;
    std::uint32_t magic = 0;
    // The followed folder may not exist yet: its store's root says which filesystem it will be on.
    if (::statfs(folder.c_str(), &fs) == 0 || ::statfs(root_.c_str(), &fs) == 0) {
      magic = static_cast<std::uint32_t>(fs.f_type);
      network = NetworkFilesystemName(magic);
    } else if (config_.watch_mode == "auto") {
      mode = WatchMode::Poll;
      why = fmt::format("statfs failed ({}), so the filesystem is unknown", Errno(errno));
    }
    if (config_.watch_mode == "inotify") {
      why = "mode = \"inotify\"";
      if (!network.empty()) {
        spdlog::warn("source '{}': {} is on {}: inotify misses other hosts' writes there (mode = \"auto\" would poll)",
                     config_.name, folder, network);
      }
    } else if (why.empty() && !network.empty()) {
      mode = WatchMode::Poll;
      why = fmt::format("it is on {} (statfs f_type {:#x}), where inotify misses other hosts' writes", network, magic);
    } else if (why.empty()) {
      why = fmt::format("it is on a local filesystem (statfs f_type {:#x})", magic);
    }
  }
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Fail(ErrorCode::Internal, "eventfd: " + Errno(errno), at);
  mode_ = mode;
  stopping_ = false;
  spdlog::info("source '{}': watching {} {}, emitting files unchanged for {}: {}", config_.name, folder,
               mode == WatchMode::Inotify ? std::string("with inotify")
                                          : "by polling every " + FormatDuration(config_.interval),
               FormatDuration(config_.stable_for), why);
  wake_fd_ = wake_fd;
  watcher_ = std::move(watcher);
  thread_ = std::thread([watcher = watcher_.get(), wake_fd, sink = std::move(context.sink)] {
    watcher->Run(wake_fd, sink);
  });
  return Ok();
}

void WatchSource::Stop() {
  std::lock_guard lock(mutex_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    spdlog::warn("source '{}': waking the watch thread: {}", config_.name, Errno(errno));
  }
  thread_.join();
  ::close(wake_fd_);
  wake_fd_ = -1;
  watcher_.reset();
  spdlog::info("source '{}': stopped watching", config_.name);
}

Result<std::unique_ptr<Source>> MakeWatchSource(const SourceConfig& config, const Resources& resources) {
  // No context: MakeSource adds the config line and source name.
  const std::string at;
  ObjectStore* store = resources.FindStore(config.store);
  if (store == nullptr) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", config.store), at);
  }
  std::string root = store->Url();
  if (!root.starts_with("file://")) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("store '{}' is not a file:// store: a watch source follows a local folder", config.store),
                at);
  }
  root.erase(0, std::string_view("file://").size());
  while (root.size() > 1 && root.ends_with('/')) root.pop_back();
  if (config.watch_mode != "auto" && config.watch_mode != "inotify" && config.watch_mode != "poll") {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("mode '{}': expected \"auto\", \"inotify\" or \"poll\"", config.watch_mode), at);
  }
  return std::unique_ptr<Source>(std::make_unique<WatchSource>(config, store, std::move(root)));
}

}  // namespace sluice
