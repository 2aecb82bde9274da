#include "sluice/store/transfer.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/log.hpp"
#include "sluice/core/units.hpp"
#include "sluice/core/uri.hpp"
#include "sluice/store/internal.hpp"
#include "sluice/store/local/local_store.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using store_internal::PrintableKey;

constexpr std::string_view kFileScheme = "file://";
/// The file:// store's own folder below its root (local/local_store.hpp).
/// Objects the listing may run ahead of the copies: keeps the progress totals ahead of the
/// copies while bounding memory (about 200 bytes per queued object).
constexpr std::size_t kMaxQueuedObjects = 10'000;

bool IsSchemeText(std::string_view text) {
  if (text.empty() || std::isalpha(static_cast<unsigned char>(text.front())) == 0) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
  });
}

Result<ObjectLocation> ParseLocalPath(std::string_view path_text, bool recursive,
                                      std::string_view uri) {
  if (path_text.empty()) {
    return Fail(ErrorCode::InvalidArgument, "file:// needs a path, e.g. file:///srv/data",
                std::string(uri));
  }
  fs::path path{std::string(path_text)};
  if (path.is_relative()) {
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (ec) {
      return Fail(ErrorCode::Internal, "cannot resolve a relative path: " + ec.message(),
                  std::string(uri));
    }
    path = cwd / path;
  }
  path = path.lexically_normal();
  ObjectLocation location;
  // lexically_normal keeps a trailing '/' (and turns "x/." and "x/y/.." into "x/"): a folder.
  if (recursive || !path.has_filename()) {
    std::string folder = path.string();
    while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
    location.store_url = std::string(kFileScheme) + folder;
    return location;
  }
  location.store_url = std::string(kFileScheme) + path.parent_path().string();
  location.key = path.filename().string();
  return location;
}

/// The folder of a file:// location's store.
fs::path LocalRoot(const ObjectLocation& location) {
  return fs::path(location.store_url.substr(kFileScheme.size()));
}

/// The file or folder a file:// location names.
fs::path LocalPath(const ObjectLocation& location) {
  return location.key.empty() ? LocalRoot(location) : LocalRoot(location) / location.key;
}

/// A file:// location whose store is `folder` itself.
ObjectLocation LocalFolder(const fs::path& folder) {
  std::string text = folder.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return ObjectLocation{std::string(kFileScheme) + text, ""};
}

/// `key` taken as a folder: "" stays "", anything else ends with '/'.
std::string AsFolder(std::string_view key) {
  std::string folder(key);
  if (!folder.empty() && folder.back() != '/') folder.push_back('/');
  return folder;
}

/// A location taken as a folder, comparable across stores: "/abs/path/" for file://,
/// "s3://bucket/prefix/" otherwise.
std::string FolderText(const ObjectLocation& location) {
  if (location.IsLocal()) {
    std::string text = LocalPath(location).lexically_normal().string();
    if (text.back() != '/') text.push_back('/');
    return text;
  }
  return location.store_url + "/" + AsFolder(location.key);
}

std::string LastSegment(std::string_view key) {
  const auto slash = key.rfind('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

bool IsCancelled(const TransferOptions& options) {
  return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
}

/// A store opened for a copy or listing. A file:// destination gets root/.sluice/tmp/ for its
/// atomic writes; when the copy made that folder, it is removed again once empty, so `sluice cp`
/// leaves nothing beside the user's files.
class OpenedStore {
 public:
  OpenedStore(std::unique_ptr<ObjectStore> store, fs::path created_state_folder)
      : store_(std::move(store)), created_state_folder_(std::move(created_state_folder)) {}
  OpenedStore(const OpenedStore&) = delete;
  OpenedStore& operator=(const OpenedStore&) = delete;
  ~OpenedStore() {
    store_.reset();
    if (created_state_folder_.empty()) return;
    // remove() only removes empty folders: a temp file of a concurrent writer keeps them.
    std::error_code ec;
    fs::remove(created_state_folder_ / "tmp", ec);
    fs::remove(created_state_folder_, ec);
  }
  [[nodiscard]] ObjectStore& Store() const { return *store_; }

 private:
  std::unique_ptr<ObjectStore> store_;
  fs::path created_state_folder_;  ///< empty when it existed before or the store is not file://
};

Result<std::unique_ptr<OpenedStore>> OpenStore(const ObjectLocation& location,
                                               const StoreOptions& options) {
  if (!location.IsLocal()) {
    SLUICE_ASSIGN_OR_RETURN(auto store, MakeObjectStore(location.store_url, options));
    return std::make_unique<OpenedStore>(std::move(store), fs::path());
  }
  // MakeLocalStore directly rather than through its URL: a folder name may hold '?', which
  // URL parsing would take for a query.
  const fs::path root = LocalRoot(location);
  const fs::path state_folder = root / ".sluice";
  std::error_code ec;
  const bool existed = fs::exists(fs::symlink_status(state_folder, ec));
  SLUICE_ASSIGN_OR_RETURN(auto store, MakeLocalStore(root));
  return std::make_unique<OpenedStore>(std::move(store), existed ? fs::path() : state_folder);
}

/// Checks a file:// source exists and is what `recursive` expects, before anything is created.
Status CheckLocalSource(const ObjectLocation& location, bool recursive, std::string_view uri) {
  const fs::path path = LocalPath(location);
  const std::string context = fmt::format("cp {}", uri);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Fail(ErrorCode::NotFound, "no such file or folder", context);
    }
    return Fail(err == EACCES ? ErrorCode::PermissionDenied : ErrorCode::Internal,
                fmt::format("cannot stat {}: {}", path.string(),
                            std::generic_category().message(err)),
                context);
  }
  // A link to a folder works as the root of a recursive copy; below it, links are skipped.
  const bool is_folder = S_ISDIR(st.st_mode) ||
                         (S_ISLNK(st.st_mode) && recursive && fs::is_directory(path));
  if (recursive && !is_folder) {
    return Fail(ErrorCode::InvalidArgument,
                "not a folder: drop --recursive to copy a single file", context);
  }
  if (!recursive && S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::InvalidArgument,
                "is a folder: add --recursive to copy what is in it", context);
  }
  if (!recursive && !S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::InvalidArgument,
                "not a regular file (file:// stores hold regular files only; links are "
                "not followed)",
                context);
  }
  return Ok();
}

/// One object to copy.
struct CopyTask {
  std::string source_key;
  std::string destination_key;
};

/// A queue of copy tasks between the lister (Push) and the copy threads (Pop); Push blocks
/// while it is full. Thread-safe.
class TaskQueue {
 public:
  explicit TaskQueue(std::size_t capacity) : capacity_(capacity) {}

  /// Adds a task, waiting for room. False once closed.
  bool Push(CopyTask task) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || tasks_.size() < capacity_; });
    if (closed_) return false;
    tasks_.push_back(std::move(task));
    not_empty_.notify_one();
    return true;
  }

  /// The next task; nullopt once closed and drained.
  std::optional<CopyTask> Pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !tasks_.empty(); });
    if (tasks_.empty()) return std::nullopt;
    CopyTask task = std::move(tasks_.front());
    tasks_.pop_front();
    not_full_.notify_one();
    return task;
  }

  /// No more tasks will come; Pop drains what is queued.
  void Close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<CopyTask> tasks_;  ///< guarded by mutex_
  bool closed_ = false;         ///< guarded by mutex_
  std::size_t capacity_;
};

/// Copies one object: server-side within one store; else from a random-access source (a local
/// file) with PutFrom, whose parts go up in parallel straight from the file; else streamed
/// chunk by chunk.
Result<ObjectInfo> CopyObject(ObjectStore& source, ObjectStore& destination,
                              const CopyTask& task, const TransferOptions& options) {
  if (&source == &destination) {
    SLUICE_ASSIGN_OR_RETURN(auto info, destination.Copy(task.source_key, task.destination_key));
    if (options.progress != nullptr) options.progress->AddBytes(info.size_bytes);
    return info;
  }
  auto reader = source.OpenReader(task.source_key);
  if (reader) {
    return destination.PutFrom(task.destination_key, **reader,
                               PutOptions{.progress = options.progress, .cancel = options.cancel});
  }
  if (reader.error().code != ErrorCode::Unsupported) return Fail(std::move(reader).error());
  SLUICE_ASSIGN_OR_RETURN(auto writer, destination.OpenWriter(task.destination_key));
  // Bytes count as done when the destination acknowledged them (s3://) or, for writers that
  // cannot tell, when Write() accepted them (file:// has written them by then).
  const bool writer_counts = options.progress != nullptr && writer->ReportSentBytes(options.progress);
  std::uint64_t accepted_bytes = 0;
  const ByteSink sink = [&](std::string_view chunk) -> Status {
    if (IsCancelled(options)) {
      return Fail(ErrorCode::Cancelled, "copy cancelled",
                  store_internal::OpContext("copy", task.source_key));
    }
    SLUICE_RETURN_IF_ERROR(writer->Write(chunk));
    accepted_bytes += chunk.size();
    if (options.progress != nullptr && !writer_counts) options.progress->AddBytes(chunk.size());
    return Ok();
  };
  SLUICE_ASSIGN_OR_RETURN(const ObjectInfo source_info, source.GetTo(task.source_key, sink));
  if (accepted_bytes != source_info.size_bytes) {
    // The writer is dropped unclosed, so nothing is committed.
    return Fail(ErrorCode::Corrupt,
                fmt::format("read {} bytes but the object has {} (did it change during the copy?)",
                            accepted_bytes, source_info.size_bytes),
                store_internal::OpContext("get", task.source_key));
  }
  return writer->Close();
}

/// `key`'s size and existence without hashing it: an ObjectReader's metadata where the store
/// offers one (file://, whose Head computes the MD5 ETag), else Head.
Result<ObjectInfo> SizeOf(ObjectStore& store, std::string_view key) {
  auto reader = store.OpenReader(key);
  if (reader) return (*reader)->Info();
  if (reader.error().code != ErrorCode::Unsupported) return Fail(std::move(reader).error());
  return store.Head(key);
}

/// The state of one Copy shared by its threads.
class CopyRun {
 public:
  CopyRun(ObjectStore& source, ObjectStore& destination, const TransferOptions& options)
      : source_(source), destination_(destination), options_(options) {}

  /// Copies `task` and records the outcome. Thread-safe.
  void Run(const CopyTask& task) {
    if (IsCancelled(options_)) {
      MarkCancelled();
      return;
    }
    auto result = CopyObject(source_, destination_, task, options_);
    if (!result && result.error().code == ErrorCode::Cancelled && IsCancelled(options_)) {
      MarkCancelled();
      return;
    }
    if (options_.progress != nullptr) options_.progress->ObjectDone(result.has_value());
    if (!result) {
      spdlog::warn("cp: {} -> {} failed: {}", PrintableKey(task.source_key),
                   PrintableKey(task.destination_key), result.error().ToString());
      RecordFailure(TransferFailure{task.source_key, task.destination_key, result.error()});
      return;
    }
    const std::lock_guard lock(mutex_);
    ++summary_.objects;
    summary_.bytes += result->size_bytes;
  }

  /// Records a failure that is not one object's (a listing error). Thread-safe.
  void RecordFailure(TransferFailure failure) {
    const std::lock_guard lock(mutex_);
    summary_.failed.push_back(std::move(failure));
  }

  void MarkCancelled() {
    const std::lock_guard lock(mutex_);
    summary_.cancelled = true;
  }

  /// The summary so far; call once every thread is done.
  TransferSummary TakeSummary() {
    const std::lock_guard lock(mutex_);
    std::sort(summary_.failed.begin(), summary_.failed.end(),
              [](const TransferFailure& a, const TransferFailure& b) { return a.key < b.key; });
    return std::move(summary_);
  }

 private:
  ObjectStore& source_;
  ObjectStore& destination_;
  const TransferOptions& options_;
  std::mutex mutex_;
  TransferSummary summary_;  ///< guarded by mutex_
};

Result<TransferSummary> CopySingle(ObjectStore& source, std::string_view source_key,
                                   ObjectStore& destination, std::string_view destination_key,
                                   const TransferOptions& options) {
  const std::string context = fmt::format("cp {}", PrintableKey(source_key));
  const auto prefix_error = [&] {
    return Fail(ErrorCode::InvalidArgument,
                "names a prefix (a folder), not an object: add --recursive to copy what is "
                "below it",
                context);
  };
  if (source_key.empty() || source_key.back() == '/') return prefix_error();
  auto head = SizeOf(source, source_key);
  if (!head) {
    if (head.error().code == ErrorCode::NotFound) {
      ListOptions probe;
      probe.prefix = std::string(source_key) + "/";
      probe.max_keys = 1;
      if (auto page = source.List(probe);
          page && (!page->objects.empty() || !page->common_prefixes.empty())) {
        return prefix_error();
      }
    }
    return Fail(std::move(head).error());
  }
  CopyTask task{std::string(source_key), std::string(destination_key)};
  if (destination_key.empty() || destination_key.back() == '/') {
    task.destination_key += LastSegment(source_key);
  }
  if (&source == &destination && task.destination_key == task.source_key) {
    return Fail(ErrorCode::InvalidArgument, "source and destination are the same object",
                context);
  }
  if (options.progress != nullptr) {
    options.progress->AddTotal(1, head->size_bytes);
    options.progress->MarkTotalKnown();
  }
  CopyRun run(source, destination, options);
  run.Run(task);
  return run.TakeSummary();
}

Result<TransferSummary> CopyPrefix(ObjectStore& source, std::string_view source_prefix_text,
                                   ObjectStore& destination,
                                   std::string_view destination_prefix_text,
                                   const TransferOptions& options) {
  const std::string source_prefix = AsFolder(source_prefix_text);
  const std::string destination_prefix = AsFolder(destination_prefix_text);
  if (&source == &destination && destination_prefix.starts_with(source_prefix)) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("the destination '{}' lies inside the source '{}': the copy would "
                            "copy its own copies",
                            PrintableKey(destination_prefix), PrintableKey(source_prefix)),
                "cp");
  }
  CopyRun run(source, destination, options);
  TaskQueue queue(kMaxQueuedObjects);
  std::vector<std::jthread> workers;
  workers.reserve(static_cast<std::size_t>(options.jobs));
  for (int i = 0; i < options.jobs; ++i) {
    workers.emplace_back(WithLogContext([&run, &queue] {
      while (auto task = queue.Pop()) run.Run(*task);
    }));
  }

  ListOptions list;
  list.prefix = source_prefix;
  list.need_etags = false;  // a local source would hash every file just to list it
  bool listing_done = false;
  while (!listing_done && !IsCancelled(options)) {
    auto page = source.List(list);
    if (!page) {
      spdlog::warn("cp: listing '{}' failed: {}", PrintableKey(source_prefix),
                   page.error().ToString());
      run.RecordFailure(TransferFailure{source_prefix, "", std::move(page).error()});
      break;
    }
    for (ObjectInfo& object : page->objects) {
      // S3 console "folder" markers: no store here can hold a key ending with '/'.
      if (object.key.ends_with('/')) continue;
      if (options.progress != nullptr) options.progress->AddTotal(1, object.size_bytes);
      std::string destination_key = destination_prefix + object.key.substr(source_prefix.size());
      if (!queue.Push(CopyTask{std::move(object.key), std::move(destination_key)})) break;
    }
    listing_done = !page->IsTruncated();
    list.continuation_token = std::move(page->next_continuation_token);
  }
  if (!listing_done && IsCancelled(options)) run.MarkCancelled();
  if (options.progress != nullptr) options.progress->MarkTotalKnown();
  queue.Close();
  workers.clear();  // joins
  return run.TakeSummary();
}

std::string FormatLocalTime(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  ::localtime_r(&seconds, &tm);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(text, length);
}

std::string FormatUtcIso(std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
  const std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  ::gmtime_r(&whole, &tm);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", std::string_view(text, length), millis.count());
}

/// The name `ls` shows for an entry listed without --recursive: the last segment.
std::string ShortName(std::string_view key, bool is_prefix) {
  if (key.empty()) return {};
  const std::size_t search_end = is_prefix ? key.size() - 1 : key.size();
  const auto slash = key.rfind('/', search_end == 0 ? 0 : search_end - 1);
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

}  // namespace

bool ObjectLocation::IsLocal() const { return store_url.starts_with(kFileScheme); }

std::string ObjectLocation::ToString() const {
  if (key.empty() || store_url.ends_with('/')) return store_url + key;
  return store_url + "/" + key;
}

Result<ObjectLocation> ParseLocation(std::string_view uri, bool recursive) {
  if (uri.empty()) return Fail(ErrorCode::InvalidArgument, "empty location");
  if (uri.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::InvalidArgument, "location contains a NUL byte");
  }
  const auto separator = uri.find("://");
  if (separator == std::string_view::npos || !IsSchemeText(uri.substr(0, separator))) {
    return ParseLocalPath(uri, recursive, uri);
  }
  std::string scheme;
  for (const char c : uri.substr(0, separator)) {
    scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  const std::string_view rest = uri.substr(separator + 3);
  if (scheme == "file") return ParseLocalPath(rest, recursive, uri);
  if (scheme == "s3" || scheme == "memory") {
    const auto slash = rest.find('/');
    const std::string_view bucket = rest.substr(0, slash);
    if (bucket.empty()) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("{}:// needs a {}, e.g. {}://{}/key", scheme,
                              scheme == "s3" ? "bucket" : "name", scheme,
                              scheme == "s3" ? "bucket" : "name"),
                  RedactUrl(uri));
    }
    ObjectLocation location;
    location.store_url = fmt::format("{}://{}", scheme, bucket);
    if (slash != std::string_view::npos) location.key = std::string(rest.substr(slash + 1));
    return location;
  }
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("unsupported scheme '{}://': use s3://bucket/key, file:///path or a "
                          "plain path",
                          scheme),
              RedactUrl(uri));
}

Result<TransferSummary> Copy(ObjectStore& source, std::string_view source_key_or_prefix,
                             ObjectStore& destination,
                             std::string_view destination_key_or_prefix,
                             const TransferOptions& options) {
  if (options.jobs < 1) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("jobs must be at least 1, got {}", options.jobs), "cp");
  }
  const auto started = std::chrono::steady_clock::now();
  auto summary = options.recursive
                     ? CopyPrefix(source, source_key_or_prefix, destination,
                                  destination_key_or_prefix, options)
                     : CopySingle(source, source_key_or_prefix, destination,
                                  destination_key_or_prefix, options);
  if (summary) {
    summary->elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
  }
  return summary;
}

Result<TransferSummary> CopyUris(std::string_view source_uri, std::string_view destination_uri,
                                 const TransferOptions& options,
                                 const StoreOptions& store_options) {
  SLUICE_ASSIGN_OR_RETURN(const ObjectLocation source,
                          ParseLocation(source_uri, options.recursive));
  SLUICE_ASSIGN_OR_RETURN(ObjectLocation destination,
                          ParseLocation(destination_uri, options.recursive));
  if (source.IsLocal()) {
    SLUICE_RETURN_IF_ERROR(CheckLocalSource(source, options.recursive, source_uri));
  }
  if (destination.IsLocal() && !options.recursive && !destination.key.empty()) {
    // cp(1): a file copied to an existing folder goes into it.
    std::error_code ec;
    if (fs::is_directory(LocalPath(destination), ec)) {
      destination = LocalFolder(LocalPath(destination));
    }
  }
  if (options.recursive) {
    const std::string from = FolderText(source);
    if (FolderText(destination).starts_with(from)) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("the destination {} lies inside the source {}: the copy would copy "
                              "its own copies",
                              destination.ToString(), source.ToString()),
                  "cp");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto source_store, OpenStore(source, store_options));
  std::unique_ptr<OpenedStore> destination_store;
  if (destination.store_url != source.store_url) {
    SLUICE_ASSIGN_OR_RETURN(destination_store, OpenStore(destination, store_options));
  }
  ObjectStore& to =
      destination_store ? destination_store->Store() : source_store->Store();
  return Copy(source_store->Store(), source.key, to, destination.key, options);
}

std::string FormatTransferReport(const TransferSummary& summary,
                                 std::size_t max_failures_shown) {
  const double seconds = static_cast<double>(summary.elapsed.count()) / 1000.0;
  // Under a millisecond the rate would be noise; show the bytes as the rate's floor.
  const double rate = static_cast<double>(summary.bytes) / std::max(seconds, 0.001);
  std::string text = fmt::format(
      "copied {} object{} ({}) in {:.1f} s ({}/s); {} failed", FormatCount(summary.objects),
      summary.objects == 1 ? "" : "s", FormatSize(summary.bytes), seconds,
      FormatSize(static_cast<std::uint64_t>(rate)), FormatCount(summary.failed.size()));
  if (summary.cancelled) text += "; cancelled before every object was copied";
  for (std::size_t i = 0; i < summary.failed.size() && i < max_failures_shown; ++i) {
    const TransferFailure& failure = summary.failed[i];
    if (failure.destination_key.empty()) {
      text += fmt::format("\nfailed to list '{}': {}", PrintableKey(failure.key),
                          failure.error.ToString());
    } else {
      text += fmt::format("\nfailed: {}: {}", PrintableKey(failure.key), failure.error.ToString());
    }
  }
  if (summary.failed.size() > max_failures_shown) {
    text += fmt::format("\n… and {} more failure(s)",
                        FormatCount(summary.failed.size() - max_failures_shown));
  }
  return text;
}

Result<std::uint64_t> ListLocation(ObjectStore& store, std::string_view prefix, bool recursive,
                                   const ListEntrySink& on_entry) {
  ListOptions list;
  list.prefix = std::string(prefix);
  if (!recursive) list.delimiter = "/";
  std::uint64_t count = 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(ListPage page, store.List(list));
    // Objects and prefixes come in two sorted lists; merge them so the output is in key order.
    std::size_t object = 0;
    std::size_t common = 0;
    while (object < page.objects.size() || common < page.common_prefixes.size()) {
      ListEntry entry;
      const bool take_prefix =
          common < page.common_prefixes.size() &&
          (object == page.objects.size() || page.common_prefixes[common] < page.objects[object].key);
      if (take_prefix) {
        entry.is_prefix = true;
        entry.object.key = std::move(page.common_prefixes[common++]);
      } else {
        entry.object = std::move(page.objects[object++]);
      }
      entry.name = recursive ? entry.object.key : ShortName(entry.object.key, entry.is_prefix);
      SLUICE_RETURN_IF_ERROR(on_entry(entry));
      ++count;
    }
    if (!page.IsTruncated()) return count;
    list.continuation_token = std::move(page.next_continuation_token);
  }
}

Result<std::uint64_t> ListUri(std::string_view uri, bool recursive,
                              const StoreOptions& store_options, const ListEntrySink& on_entry) {
  SLUICE_ASSIGN_OR_RETURN(ObjectLocation location, ParseLocation(uri, /*recursive=*/false));
  if (location.IsLocal()) {
    std::error_code ec;
    if (fs::is_directory(LocalPath(location), ec)) {
      location = LocalFolder(LocalPath(location));
    } else if (!fs::is_directory(LocalRoot(location), ec)) {
      return Fail(ErrorCode::NotFound, "no such folder", fmt::format("ls {}", uri));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto store, OpenStore(location, store_options));
  return ListLocation(store->Store(), location.key, recursive, on_entry);
}

std::string FormatListLine(const ListEntry& entry) {
  // Column layout of `aws s3 ls`: 19 columns of time, a space, the size in 10 columns; "PRE"
  // ends in the size column.
  if (entry.is_prefix) return fmt::format("{:>30} {}", "PRE", entry.name);
  return fmt::format("{} {:>10} {}", FormatLocalTime(entry.object.last_modified),
                     entry.object.size_bytes, entry.name);
}

std::string FormatListJson(const ListEntry& entry) {
  if (entry.is_prefix) return fmt::format(R"({{"prefix":"{}"}})", JsonEscape(entry.object.key));
  return fmt::format(R"({{"key":"{}","size":{},"etag":"{}","last_modified":"{}"}})",
                     JsonEscape(entry.object.key), entry.object.size_bytes,
                     JsonEscape(entry.object.etag), FormatUtcIso(entry.object.last_modified));
}

}  // namespace sluice
