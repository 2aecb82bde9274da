#include "sluice/store/local/local_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/store/internal.hpp"

namespace sluice {
namespace {

using store_internal::OpContext;

/// Where the ETag cache lives: "<mtime_ns>:<size>:<md5hex>" (see local_store.hpp).
constexpr const char* kEtagAttribute = "user.sluice.etag";
/// The store's own folder below the root, hidden from listings; ValidateKey rejects keys in it.
constexpr std::string_view kStateFolder = ".sluice";
/// Temp files older than this are a crashed writer's leftovers (no write takes a day).
constexpr auto kStaleTempAge = std::chrono::hours(24);
/// How often Close() retries when a concurrent Delete removes an emptied parent folder between
/// our mkdir and rename.
constexpr int kRenameAttempts = 5;

/// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  [[nodiscard]] int Get() const { return fd_; }
  [[nodiscard]] bool Valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  /// Closes and reports close()'s errno (0 on success): a write error can surface only here.
  int Close() {
    const int result = ::close(std::exchange(fd_, -1));
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

/// Converts an errno from operation `what` into an Error with `context` ("put a/b").
Error ErrnoError(int err, std::string_view what, std::string context) {
  ErrorCode code = ErrorCode::Internal;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      code = ErrorCode::NotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = ErrorCode::PermissionDenied;
      break;
    case ENAMETOOLONG:
      // A key segment longer than the file system's name limit (255 bytes on ext4, xfs).
      code = ErrorCode::InvalidArgument;
      break;
    case ENOSPC:
    case EDQUOT:
    case EAGAIN:
    case EINTR:
    case EBUSY:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ETIMEDOUT:
      // Space, descriptors and memory can be freed by others; worth a retry with backoff.
      code = ErrorCode::Transient;
      break;
    default:
      break;  // EIO and the unexpected: Internal
  }
  return Error{code, fmt::format("{}: {}", what, std::generic_category().message(err)),
               std::move(context)};
}

std::int64_t MtimeNs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::chrono::system_clock::time_point MtimeOf(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(MtimeNs(st))));
}

std::string EtagAttributeValue(const struct stat& st, std::string_view md5_hex) {
  return fmt::format("{}:{}:{}", MtimeNs(st), st.st_size, md5_hex);
}

/// Best effort: the cache is an optimisation, so any failure (ENOTSUP on tmpfs before Linux 6.6,
/// EPERM on a file we do not own, EROFS, …) just means the next reader hashes again.
void TrySetEtagAttribute(int fd, const struct stat& st, std::string_view md5_hex) {
  const std::string value = EtagAttributeValue(st, md5_hex);
  (void)::fsetxattr(fd, kEtagAttribute, value.data(), value.size(), 0);
}

/// The cached ETag of `fd` when the attribute exists and matches its mtime and size.
std::optional<std::string> CachedEtag(int fd, const struct stat& st) {
  char buffer[128];
  const ssize_t length = ::fgetxattr(fd, kEtagAttribute, buffer, sizeof(buffer));
  if (length <= 0) return std::nullopt;
  const std::string_view value(buffer, static_cast<std::size_t>(length));
  const std::string expected_stamp = fmt::format("{}:{}:", MtimeNs(st), st.st_size);
  constexpr std::size_t kMd5HexChars = 32;
  if (!value.starts_with(expected_stamp) || value.size() != expected_stamp.size() + kMd5HexChars) {
    return std::nullopt;
  }
  const auto md5_hex = value.substr(expected_stamp.size());
  if (md5_hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  return std::string(md5_hex);
}

/// Reads [begin, end) of `fd` in kReadChunkBytes chunks, feeding each to `md5` (when set) and
/// `sink` (when set). Transient when the file shrinks underneath (another tool rewrote it).
Status ReadSpan(int fd, store_internal::ByteSpan span, Md5* md5, const ByteSink* sink,
                const std::string& context) {
  std::string buffer(
      std::min<std::uint64_t>(store_internal::kReadChunkBytes, span.end - span.begin), '\0');
  for (auto at = span.begin; at < span.end;) {
    const auto wanted = std::min<std::uint64_t>(buffer.size(), span.end - at);
    const ssize_t got = ::pread(fd, buffer.data(), wanted, static_cast<off_t>(at));
    if (got < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoError(errno, "read", context));
    }
    if (got == 0) {
      return Fail(ErrorCode::Transient, "the file shrank while being read", context);
    }
    const std::string_view chunk(buffer.data(), static_cast<std::size_t>(got));
    if (md5 != nullptr) md5->Update(chunk);
    if (sink != nullptr) SLUICE_RETURN_IF_ERROR((*sink)(chunk));
    at += static_cast<std::uint64_t>(got);
  }
  return Ok();
}

/// Hashes the whole file and refreshes the cache if the file did not change meanwhile.
Result<std::string> ComputeEtag(int fd, const struct stat& st, const std::string& context) {
  Md5 md5;
  SLUICE_RETURN_IF_ERROR(
      ReadSpan(fd, {0, static_cast<std::uint64_t>(st.st_size)}, &md5, nullptr, context));
  std::string md5_hex = md5.FinishHex();
  struct stat after {};
  if (::fstat(fd, &after) == 0 && MtimeNs(after) == MtimeNs(st) && after.st_size == st.st_size) {
    TrySetEtagAttribute(fd, st, md5_hex);
  }
  return md5_hex;
}

Result<std::string> EtagOf(int fd, const struct stat& st, const std::string& context) {
  if (auto cached = CachedEtag(fd, st)) return *std::move(cached);
  return ComputeEtag(fd, st, context);
}

/// fsyncs a folder so the entries created or removed in it survive a crash.
Status SyncFolder(const std::string& path, const std::string& context) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.Valid()) return Fail(ErrnoError(errno, "open folder " + path, context));
  if (::fsync(fd.Get()) != 0 && errno != EINVAL) {
    return Fail(ErrnoError(errno, "fsync folder " + path, context));
  }
  return Ok();
}

std::string ParentOf(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

/// The tag sets of objects (see local_store.hpp): root/.sluice/tags/<hex MD5 of the key> holds
/// one line per version of the object, "<inode> <mtime_ns> <size> <x-amz-tagging text>", and
/// a version's tags are the line matching the object file now at the key. A tagged write adds
/// its line before renaming its file into place (so the tags are there the moment the object
/// is) and drops the other lines afterwards. Commits that change a sidecar hold an flock on
/// root/.sluice/tags.lock, so concurrent writers of one key cannot drop each other's lines.
class TagSidecars {
 public:
  explicit TagSidecars(const std::string& root)
      : folder_(root + "/" + std::string(kStateFolder) + "/tags"),
        lock_path_(root + "/" + std::string(kStateFolder) + "/tags.lock") {}

  /// The stamp of a file that a line must carry to apply to it.
  static std::string StampOf(const struct stat& st) {
    return fmt::format("{} {} {}", st.st_ino, MtimeNs(st), st.st_size);
  }

  /// The tags of the object whose open file has `st`: empty when no line matches.
  Result<ObjectTags> Read(std::string_view key, const struct stat& st,
                          const std::string& context) const {
    SLUICE_ASSIGN_OR_RETURN(auto lines, ReadLines(PathOf(key), context));
    const std::string stamp = StampOf(st) + " ";
    for (const auto& line : lines) {
      if (!line.starts_with(stamp)) continue;
      auto tags = ParseTagging(std::string_view(line).substr(stamp.size()));
      if (!tags) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("unreadable tag set in {}: {}", PathOf(key), tags.error().message),
                    context);
      }
      return tags;
    }
    return ObjectTags{};
  }

  /// Commits a write of `key` whose finished temp file has `st` and tag text `tagging` (empty
  /// for none): `rename` puts the file in place; the sidecar changes around it as described above.
  Status Commit(std::string_view key, const std::string& object_path, const struct stat& st,
                const std::string& tagging, const std::function<Status()>& rename,
                const std::string& context) {
    const std::string path = PathOf(key);
    if (tagging.empty()) {
      SLUICE_RETURN_IF_ERROR(rename());
      (void)Forget(key, object_path, context);  // best effort, as below
      return Ok();
    }
    SLUICE_ASSIGN_OR_RETURN(auto lock, Lock(context));
    SLUICE_ASSIGN_OR_RETURN(auto lines, ReadLines(path, context));
    std::vector<std::string> kept = Current(lines, object_path);
    kept.push_back(StampOf(st) + " " + tagging);
    SLUICE_RETURN_IF_ERROR(WriteLines(path, kept, /*durable=*/true, context));
    SLUICE_RETURN_IF_ERROR(rename());
    // Best effort: the object and its tags are in place; a line left behind matches no file.
    (void)KeepOnlyCurrent(path, object_path, context);
    return Ok();
  }

  /// After `key`'s file was removed: drops its sidecar lines that no longer apply.
  Status Forget(std::string_view key, const std::string& object_path, const std::string& context) {
    const std::string path = PathOf(key);
    if (::access(path.c_str(), F_OK) != 0) return Ok();
    SLUICE_ASSIGN_OR_RETURN(auto lock, Lock(context));
    return KeepOnlyCurrent(path, object_path, context);
  }

 private:
  [[nodiscard]] std::string PathOf(std::string_view key) const {
    return folder_ + "/" + Md5Hex(key);
  }

  Result<Fd> Lock(const std::string& context) {
    for (int attempt = 0;; ++attempt) {
      Fd fd(::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
      if (!fd.Valid()) {
        if (errno == ENOENT && attempt == 0) {
          std::error_code ec;
          std::filesystem::create_directories(folder_, ec);
          continue;
        }
        return Fail(ErrnoError(errno, "open " + lock_path_, context));
      }
      while (::flock(fd.Get(), LOCK_EX) != 0) {
        if (errno != EINTR) return Fail(ErrnoError(errno, "lock " + lock_path_, context));
      }
      return fd;  // closing it releases the lock
    }
  }

  static Result<std::vector<std::string>> ReadLines(const std::string& path,
                                                    const std::string& context) {
    std::vector<std::string> lines;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.Valid()) {
      if (errno == ENOENT) return lines;
      return Fail(ErrnoError(errno, "open " + path, context));
    }
    std::string text;
    char buffer[4096];
    while (true) {
      const ssize_t got = ::read(fd.Get(), buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Fail(ErrnoError(errno, "read " + path, context));
      if (got == 0) break;
      text.append(buffer, static_cast<std::size_t>(got));
    }
    for (std::size_t start = 0; start < text.size();) {
      const auto end = std::min(text.find('\n', start), text.size());
      if (end > start) lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  /// The lines that apply to the file now at `object_path` (none when it is absent).
  static std::vector<std::string> Current(const std::vector<std::string>& lines,
                                          const std::string& object_path) {
    std::vector<std::string> kept;
    struct stat st {};
    if (::lstat(object_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return kept;
    const std::string stamp = StampOf(st) + " ";
    for (const auto& line : lines) {
      if (line.starts_with(stamp)) kept.push_back(line);
    }
    return kept;
  }

  Status KeepOnlyCurrent(const std::string& path, const std::string& object_path,
                         const std::string& context) {
    SLUICE_ASSIGN_OR_RETURN(auto lines, ReadLines(path, context));
    const auto kept = Current(lines, object_path);
    if (kept.size() == lines.size()) return Ok();
    if (kept.empty()) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return Fail(ErrnoError(errno, "unlink " + path, context));
      }
      return Ok();
    }
    // Not durable: after a crash the older lines come back, and they match no file.
    return WriteLines(path, kept, /*durable=*/false, context);
  }

  /// Replaces `path` atomically (temp file, rename); `durable` fsyncs file and folder.
  Status WriteLines(const std::string& path, const std::vector<std::string>& lines, bool durable,
                    const std::string& context) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    const std::string temp = path + ".tmp";  // only lock holders write, so one name suffices
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!fd.Valid() && errno == ENOENT) {
      std::error_code ec;
      std::filesystem::create_directories(folder_, ec);
      fd = Fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    }
    if (!fd.Valid()) return Fail(ErrnoError(errno, "create " + temp, context));
    std::string_view rest = text;
    while (!rest.empty()) {
      const ssize_t written = ::write(fd.Get(), rest.data(), rest.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return Fail(ErrnoError(errno, "write " + temp, context));
      rest.remove_prefix(static_cast<std::size_t>(written));
    }
    if (durable && ::fsync(fd.Get()) != 0) return Fail(ErrnoError(errno, "fsync " + temp, context));
    if (const int err = fd.Close(); err != 0) return Fail(ErrnoError(err, "close " + temp, context));
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      return Fail(ErrnoError(errno, "rename " + temp, context));
    }
    if (durable) return SyncFolder(folder_, context);
    return Ok();
  }

  std::string folder_;
  std::string lock_path_;
};

Error KeyUnderObjectError(std::string_view object_key, std::string context) {
  return Error{ErrorCode::AlreadyExists,
               fmt::format("'{}' is an object, so no key can go below it (a file:// store keeps "
                           "keys as files: 'x' and 'x/…' cannot both exist)",
                           store_internal::PrintableKey(object_key)),
               std::move(context)};
}

Error KeyOverFolderError(std::string_view key, std::string context) {
  return Error{ErrorCode::AlreadyExists,
               fmt::format("keys below '{}/' exist, so '{}' cannot be an object (a file:// store "
                           "keeps keys as files: 'x' and 'x/…' cannot both exist)",
                           store_internal::PrintableKey(key), store_internal::PrintableKey(key)),
               std::move(context)};
}

/// An ObjectInfo with only the key, for keys that roll up into a common prefix.
ObjectInfo KeyOnly(std::string key) {
  ObjectInfo info;
  info.key = std::move(key);
  return info;
}

/// One entry of a folder that can hold objects: a regular file or a real folder.
struct FolderEntry {
  std::string sort_name;  ///< the name, plus '/' for a folder: S3 key order of what is below
  bool is_folder = false;
};

/// The regular files and folders of `path` (symlinks and special files left out), unsorted.
/// A folder that vanished (a concurrent Delete) reads as empty.
Result<std::vector<FolderEntry>> ReadFolder(const std::string& path, bool skip_state_folder,
                                            const std::string& context) {
  std::vector<FolderEntry> entries;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return entries;
    return Fail(ErrnoError(errno, "open folder " + path, context));
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) return Fail(ErrnoError(errno, "read folder " + path, context));
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || (skip_state_folder && name == kStateFolder)) continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {  // some file systems (xfs without ftype, NFS) leave it to us
      struct stat st {};
      if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
    }
    if (type == DT_REG) entries.push_back({std::string(name), false});
    if (type == DT_DIR) entries.push_back({std::string(name) + "/", true});
  }
  return entries;
}

/// The key of some regular file below folder `path` (whose key prefix is `key_prefix`), if any.
Result<std::optional<std::string>> AnyKeyBelow(const std::string& path,
                                               const std::string& key_prefix,
                                               const std::string& context) {
  SLUICE_ASSIGN_OR_RETURN(auto entries, ReadFolder(path, false, context));
  for (const auto& entry : entries) {
    if (!entry.is_folder) return key_prefix + entry.sort_name;
  }
  for (const auto& entry : entries) {
    const std::string name = entry.sort_name.substr(0, entry.sort_name.size() - 1);
    SLUICE_ASSIGN_OR_RETURN(auto found,
                            AnyKeyBelow(path + "/" + name, key_prefix + entry.sort_name, context));
    if (found) return found;
  }
  return std::optional<std::string>();
}

/// Random access to one file through a descriptor opened once: a rename of a new version into
/// place does not affect it, a rewrite in place that shrinks the file is Corrupt.
class LocalReader final : public ObjectReader {
 public:
  LocalReader(Fd fd, ObjectInfo info) : fd_(std::move(fd)), info_(std::move(info)) {}

  [[nodiscard]] const ObjectInfo& Info() const override { return info_; }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<char> buffer) override {
    if (offset > info_.size_bytes) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("offset {} is past the end ({} bytes)", offset, info_.size_bytes),
                  OpContext("read", info_.key));
    }
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(buffer.size(), info_.size_bytes - offset));
    std::size_t done = 0;
    while (done < want) {
      const ssize_t n = ::pread(fd_.Get(), buffer.data() + done, want - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrnoError(errno, "read", OpContext("read", info_.key)));
      if (n == 0) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("the file shrank while it was read: it ends at byte {}, not {}",
                                offset + done, info_.size_bytes),
                    OpContext("read", info_.key));
      }
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

 private:
  Fd fd_;
  ObjectInfo info_;
};

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(std::string root)
      : root_(std::move(root)),
        temp_folder_(root_ + "/" + std::string(kStateFolder) + "/tmp"),
        nonce_(std::random_device{}()) {}

  [[nodiscard]] std::string Url() const override { return "file://" + root_; }

  [[nodiscard]] StoreCapabilities Capabilities() const override {
    return StoreCapabilities{.durable = true, .key_and_folder_may_share_name = false};
  }

  Result<ObjectInfo> Head(std::string_view key) override { return Stat(key, true); }

  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    const std::string context = OpContext("get", key);
    SLUICE_RETURN_IF_ERROR(Check(key, context));
    // Reading through one descriptor: a concurrent Close() renames a new file into place but
    // this one keeps the old inode, so we see one complete version.
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key, context));
    const int fd = opened.first.Get();
    const struct stat& st = opened.second;
    const auto size_bytes = static_cast<std::uint64_t>(st.st_size);
    SLUICE_ASSIGN_OR_RETURN(auto span, store_internal::ResolveRange(range, size_bytes, context));
    ObjectInfo info{std::string(key), size_bytes, {}, MtimeOf(st)};
    if (auto cached = CachedEtag(fd, st)) {
      info.etag = *std::move(cached);
      SLUICE_RETURN_IF_ERROR(ReadSpan(fd, span, nullptr, &sink, context));
    } else if (span.begin == 0 && span.end == size_bytes) {
      Md5 md5;  // hash while streaming: one pass over the file
      SLUICE_RETURN_IF_ERROR(ReadSpan(fd, span, &md5, &sink, context));
      info.etag = md5.FinishHex();
      TrySetEtagAttribute(fd, st, info.etag);
    } else {
      SLUICE_ASSIGN_OR_RETURN(info.etag, ComputeEtag(fd, st, context));
      SLUICE_RETURN_IF_ERROR(ReadSpan(fd, span, nullptr, &sink, context));
    }
    return info;
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override;

  Result<ObjectTags> GetTags(std::string_view key) override {
    const std::string context = OpContext("get tags", key);
    SLUICE_RETURN_IF_ERROR(Check(key, context));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key, context));
    return TagSidecars(root_).Read(key, opened.second, context);
  }

  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override {
    const std::string context = OpContext("open", key);
    SLUICE_RETURN_IF_ERROR(Check(key, context));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key, context));
    const struct stat& st = opened.second;
    ObjectInfo info{std::string(key), static_cast<std::uint64_t>(st.st_size),
                    CachedEtag(opened.first.Get(), st).value_or(""), MtimeOf(st)};
    return std::make_unique<LocalReader>(std::move(opened.first), std::move(info));
  }

  Result<ListPage> List(const ListOptions& options) override {
    SLUICE_RETURN_IF_ERROR(store_internal::ValidateListOptions(options));
    const std::string context = OpContext("list", options.prefix);
    ListPageBuilder builder(options);
    SLUICE_RETURN_IF_ERROR(ListFolder(root_, "", options, builder, context));
    return std::move(builder).Finish();
  }

  Status Delete(std::string_view key) override {
    const std::string context = OpContext("delete", key);
    SLUICE_RETURN_IF_ERROR(Check(key, context));
    const std::string path = PathOf(key);
    if (::unlink(path.c_str()) != 0) {
      // Absent, or a folder of other keys (EISDIR): either way no such object, which is fine.
      if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Ok();
      return Fail(ErrnoError(errno, "unlink", context));
    }
    // Best effort: a line left behind matches no file (its inode and mtime were this file's).
    (void)TagSidecars(root_).Forget(key, path, context);
    // S3 has no folders: remove the ones this emptied, up to (not including) the root. rmdir
    // fails on a folder that is not empty, so a concurrent Put below it is safe.
    std::string folder = ParentOf(path);
    while (folder.size() > root_.size() && ::rmdir(folder.c_str()) == 0) {
      folder = ParentOf(folder);
    }
    return SyncFolder(folder, context);
  }

  Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) override {
    const std::string context =
        fmt::format("copy {} to {}", store_internal::PrintableKey(source_key),
                    store_internal::PrintableKey(destination_key));
    SLUICE_RETURN_IF_ERROR(Check(source_key, context));
    SLUICE_RETURN_IF_ERROR(Check(destination_key, context));
    SLUICE_ASSIGN_OR_RETURN(auto tags, GetTags(source_key));
    SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWriter(destination_key, WriteOptions{std::move(tags)}));
    const auto copied = GetTo(
        source_key, [&writer](std::string_view chunk) { return writer->Write(chunk); },
        std::nullopt);
    if (!copied) return Fail(Error(copied.error()).WithContext(context));
    return writer->Close();
  }

  [[nodiscard]] std::string PathOf(std::string_view key) const {
    return root_ + "/" + std::string(key);
  }

 private:
  static Status Check(std::string_view key, const std::string& context) {
    if (auto valid = ValidateKey(key); !valid)
      return Fail(std::move(valid).error().WithContext(context));
    return Ok();
  }

  /// Head, with the ETag only when `need_etag` or cached.
  Result<ObjectInfo> Stat(std::string_view key, bool need_etag) {
    const std::string context = OpContext("head", key);
    SLUICE_RETURN_IF_ERROR(Check(key, context));
    SLUICE_ASSIGN_OR_RETURN(auto opened, OpenObject(key, context));
    const int fd = opened.first.Get();
    const struct stat& st = opened.second;
    std::string etag;
    if (need_etag) {
      SLUICE_ASSIGN_OR_RETURN(etag, EtagOf(fd, st, context));
    } else {
      etag = CachedEtag(fd, st).value_or("");
    }
    return ObjectInfo{std::string(key), static_cast<std::uint64_t>(st.st_size), std::move(etag),
                      MtimeOf(st)};
  }

  /// Opens `key` for reading and stats it. NotFound unless it is a regular file (not a link).
  Result<std::pair<Fd, struct stat>> OpenObject(std::string_view key,
                                                const std::string& context) const {
    // O_NONBLOCK so a FIFO dropped in the folder cannot hang us; it is not an object anyway.
    Fd fd(::open(PathOf(key).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.Valid()) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
        return Fail(ErrorCode::NotFound, "no such key", context);
      }
      return Fail(ErrnoError(errno, "open", context));
    }
    struct stat st {};
    if (::fstat(fd.Get(), &st) != 0) return Fail(ErrnoError(errno, "stat", context));
    if (S_ISDIR(st.st_mode)) {
      return Fail(ErrorCode::NotFound, "no such key (a folder of other keys has this name)",
                  context);
    }
    if (!S_ISREG(st.st_mode))
      return Fail(ErrorCode::NotFound, "no such key (not a regular file)", context);
    return std::pair<Fd, struct stat>(std::move(fd), st);
  }

  /// Feeds `builder` the keys below `folder` (whose keys start with `key_prefix`, "" or ending in
  /// '/') in S3 order, skipping what the page cannot contain and stopping once it is full.
  // A folder's entries sorted in S3 key order. A continuation page of a listing re-uses the
  // entries the previous page read (for kFolderCacheTtl), so paging through one folder of n files
  // costs one read and one sort instead of one per page.
  Result<std::shared_ptr<const std::vector<FolderEntry>>> SortedFolder(
      const std::string& folder, bool skip_state_folder, bool continuation,
      const std::string& context) {
    const auto now = std::chrono::steady_clock::now();
    if (continuation) {
      std::lock_guard lock(folder_cache_mutex_);
      const auto it = folder_cache_.find(folder);
      if (it != folder_cache_.end() && now - it->second.read_at < kFolderCacheTtl) {
        return it->second.entries;
      }
    }
    SLUICE_ASSIGN_OR_RETURN(auto entries, ReadFolder(folder, skip_state_folder, context));
    // Comparing folders as "name/" puts each folder's keys where S3 puts them: "a-c" < "a/b"
    // because '-' < '/'; byte order because std::string compares as unsigned char.
    std::sort(entries.begin(), entries.end(),
              [](const FolderEntry& a, const FolderEntry& b) { return a.sort_name < b.sort_name; });
    auto shared = std::make_shared<const std::vector<FolderEntry>>(std::move(entries));
    std::lock_guard lock(folder_cache_mutex_);
    std::erase_if(folder_cache_, [&](const auto& entry) { return now - entry.second.read_at >= kFolderCacheTtl; });
    if (folder_cache_.size() >= kFolderCacheSize) folder_cache_.clear();
    folder_cache_[folder] = FolderCache{now, shared};
    return shared;
  }

  Status ListFolder(const std::string& folder, const std::string& key_prefix,
                    const ListOptions& options, ListPageBuilder& builder,
                    const std::string& context) {
    SLUICE_ASSIGN_OR_RETURN(auto sorted,
                            SortedFolder(folder, key_prefix.empty(),
                                         !options.continuation_token.empty(), context));
    const std::vector<FolderEntry>& all = *sorted;
    // Start at the first entry that can hold keys after the continuation token: binary search,
    // then step back onto a folder that contains the token's key.
    auto first = all.begin();
    const std::string& token = builder.StartAfter();
    if (token.starts_with(key_prefix) && token.size() > key_prefix.size()) {
      const std::string_view relative = std::string_view(token).substr(key_prefix.size());
      first = std::lower_bound(all.begin(), all.end(), relative,
                               [](const FolderEntry& e, std::string_view r) { return e.sort_name < r; });
      if (first != all.begin() && std::prev(first)->is_folder &&
          relative.starts_with(std::prev(first)->sort_name)) {
        --first;
      }
    }
    const std::span<const FolderEntry> entries(first, all.end());
    const std::string& prefix = options.prefix;
    for (const auto& entry : entries) {
      if (builder.Full()) break;
      const std::string key = key_prefix + entry.sort_name;
      const std::string& start_after = builder.StartAfter();
      if (entry.is_folder) {
        // `key` is the folder's key prefix: skip it when no key below can match the prefix or
        // when every key below lies at or before the continuation token.
        if (!key.starts_with(prefix) && !prefix.starts_with(key)) continue;
        if (start_after > key && !start_after.starts_with(key)) continue;
        const std::string path =
            folder + "/" + entry.sort_name.substr(0, entry.sort_name.size() - 1);
        if (const auto common_prefix = store_internal::CommonPrefixOf(key, options)) {
          // Every key below rolls up into this one common prefix: one file proves it is there.
          if (*common_prefix <= start_after) continue;
          SLUICE_ASSIGN_OR_RETURN(auto any_key, AnyKeyBelow(path, key, context));
          if (any_key) builder.Add(KeyOnly(*std::move(any_key)));
          continue;
        }
        SLUICE_RETURN_IF_ERROR(ListFolder(path, key, options, builder, context));
        continue;
      }
      if (!key.starts_with(prefix) || key <= start_after) continue;
      if (store_internal::CommonPrefixOf(key, options)) {
        builder.Add(KeyOnly(key));  // it rolls up: size and ETag are not reported
        continue;
      }
      auto info = Stat(key, options.need_etags);
      if (!info) {
        // Deleted since we read the folder, or a name no key can have (longer than 1024 bytes).
        const ErrorCode code = info.error().code;
        if (code == ErrorCode::NotFound || code == ErrorCode::InvalidArgument) continue;
        return Fail(std::move(info).error());
      }
      builder.Add(*info);
    }
    return Ok();
  }

  struct FolderCache {
    std::chrono::steady_clock::time_point read_at;
    std::shared_ptr<const std::vector<FolderEntry>> entries;
  };
  static constexpr auto kFolderCacheTtl = std::chrono::seconds(30);
  static constexpr std::size_t kFolderCacheSize = 16;

  std::mutex folder_cache_mutex_;
  std::map<std::string, FolderCache> folder_cache_;  // folder path → entries; guarded by the mutex
  std::string root_;
  std::string temp_folder_;
  std::uint64_t nonce_;  ///< tells this store's temp files from other processes'
  std::atomic<std::uint64_t> next_temp_{0};
};

/// Writes to a temp file below root/.sluice/tmp/; Close() fsyncs it and renames it into place.
class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(std::string root, std::string key, std::string temp_path, Fd fd, std::string tagging,
              bool need_etag)
      : root_(std::move(root)),
        key_(std::move(key)),
        context_(OpContext("put", key_)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)),
        tagging_(std::move(tagging)),
        need_etag_(need_etag) {}

  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  ~LocalWriter() override { Abort(); }

  Status Write(std::string_view bytes) override {
    if (!fd_.Valid()) return Fail(Failed());
    if (need_etag_) md5_.Update(bytes);
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_.Get(), bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return Fail(AbortWith(ErrnoError(errno, "write", context_)));
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return Ok();
  }

  Result<ObjectInfo> Close() override {
    if (!fd_.Valid()) return Fail(Failed());
    struct stat st {};
    if (::fstat(fd_.Get(), &st) != 0) return Fail(AbortWith(ErrnoError(errno, "stat", context_)));
    ObjectInfo info{key_, static_cast<std::uint64_t>(st.st_size),
                    need_etag_ ? md5_.FinishHex() : std::string(), MtimeOf(st)};
    // Set before the fsync so the cache is as durable as the bytes; setting an attribute changes
    // ctime only, and rename changes neither, so the stamp stays valid.
    if (need_etag_) TrySetEtagAttribute(fd_.Get(), st, info.etag);
    if (::fsync(fd_.Get()) != 0) return Fail(AbortWith(ErrnoError(errno, "fsync", context_)));
    if (const int err = fd_.Close(); err != 0)
      return Fail(AbortWith(ErrnoError(err, "close", context_)));
    if (auto committed = TagSidecars(root_).Commit(key_, root_ + "/" + key_, st, tagging_,
                                                   [this] { return Commit(); }, context_);
        !committed) {
      return Fail(AbortWith(std::move(committed).error()));
    }
    error_ = Error{ErrorCode::InvalidArgument, "writer already closed", context_};
    return info;
  }

 private:
  /// Renames the temp file to the key's path, creating parent folders, then fsyncs the folders
  /// whose entries changed.
  Status Commit() {
    const std::string path = root_ + "/" + key_;
    for (int attempt = 1;; ++attempt) {
      // ENOENT in mkdir or rename: a concurrent Delete removed an emptied folder we had just
      // made (see Delete); make it again.
      std::vector<std::string> changed_folders{ParentOf(path)};
      if (auto parents = MakeParents(changed_folders); !parents) {
        if (parents.error().code == ErrorCode::NotFound && attempt < kRenameAttempts) continue;
        return Fail(AbortWith(std::move(parents).error()));
      }
      if (::rename(temp_path_.c_str(), path.c_str()) == 0) {
        temp_path_.clear();
        for (const auto& folder : changed_folders) {
          SLUICE_RETURN_IF_ERROR(SyncFolder(folder, context_));
        }
        return Ok();
      }
      const int err = errno;
      if (err == ENOENT && attempt < kRenameAttempts) continue;
      if (err == EISDIR) return Fail(AbortWith(KeyOverFolderError(key_, context_)));
      if (err == ENOTDIR) return Fail(AbortWith(KeyUnderObjectError(key_, context_)));
      return Fail(AbortWith(ErrnoError(err, "rename", context_)));
    }
  }

  /// mkdir of each parent of the key below the root; adds the folders whose entries changed.
  Status MakeParents(std::vector<std::string>& changed_folders) {
    for (auto slash = key_.find('/'); slash != std::string::npos;
         slash = key_.find('/', slash + 1)) {
      const std::string folder = root_ + "/" + key_.substr(0, slash);
      if (::mkdir(folder.c_str(), 0777) == 0) {
        changed_folders.push_back(ParentOf(folder));
        continue;
      }
      if (errno == EEXIST) {
        struct stat st {};
        if (::lstat(folder.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
        return Fail(KeyUnderObjectError(key_.substr(0, slash), context_));
      }
      if (errno == ENOTDIR) return Fail(KeyUnderObjectError(key_.substr(0, slash), context_));
      return Fail(ErrnoError(errno, "mkdir " + folder, context_));
    }
    return Ok();
  }

  /// Drops the temp file; later calls return `error`.
  Error AbortWith(Error error) {
    Abort();
    error_ = error;
    return error;
  }

  void Abort() {
    fd_.Reset();
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }

  [[nodiscard]] Error Failed() const {
    return error_ ? *error_ : Error{ErrorCode::Internal, "writer is not open", context_};
  }

  std::string root_;
  std::string key_;
  std::string context_;
  std::string temp_path_;  ///< empty once renamed or removed
  Fd fd_;                  ///< invalid once closed or aborted
  std::string tagging_;    ///< the object's tags as FormatTagging text; empty for none
  bool need_etag_ = true;  ///< hash the bytes for the ETag (WriteOptions::need_etag)
  Md5 md5_;
  std::optional<Error> error_;
};

Result<std::unique_ptr<ObjectWriter>> LocalStore::OpenWriter(std::string_view key,
                                                              const WriteOptions& options) {
  const std::string context = OpContext("put", key);
  SLUICE_RETURN_IF_ERROR(Check(key, context));
  if (auto valid = ValidateTags(options.tags); !valid) {
    return Fail(std::move(valid).error().WithContext(context));
  }
  // Fail early on a folder in the way; Close() checks again.
  struct stat st {};
  if (::lstat(PathOf(key).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Fail(KeyOverFolderError(key, context));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string temp_path =
        fmt::format("{}/{}-{:x}-{}", temp_folder_, ::getpid(), nonce_, next_temp_.fetch_add(1));
    // 0666 so umask decides, as for any file a program creates (mkstemp would force 0600).
    Fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (fd.Valid()) {
      return std::make_unique<LocalWriter>(root_, std::string(key), temp_path, std::move(fd),
                                           FormatTagging(options.tags), options.need_etag);
    }
    if (errno != ENOENT) return Fail(ErrnoError(errno, "create temp file " + temp_path, context));
    // The first write of this store, or someone removed root/.sluice/tmp/: make it, once.
    std::error_code ec;
    std::filesystem::create_directories(temp_folder_, ec);
    if (ec) return Fail(ErrnoError(ec.value(), "create folder " + temp_folder_, context));
  }
  return Fail(ErrorCode::Internal, "cannot create a temp file in " + temp_folder_, context);
}

/// Removes temp files older than kStaleTempAge: a crashed writer's, never a live one's.
void RemoveStaleTempFiles(const std::string& temp_folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(temp_folder, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code entry_ec;
    const auto modified = it->last_write_time(entry_ec);
    if (!entry_ec && it->is_regular_file(entry_ec) && now - modified > kStaleTempAge) {
      fs::remove(it->path(), entry_ec);
    }
  }
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> MakeLocalStore(const std::filesystem::path& root) {
  const std::string context = "open store file://" + root.string();
  if (!root.is_absolute()) {
    return Fail(ErrorCode::InvalidArgument, "the folder must be an absolute path", context);
  }
  std::string root_text = root.lexically_normal().string();
  while (root_text.size() > 1 && root_text.back() == '/') root_text.pop_back();
  // Only the folder itself: root/.sluice/tmp/ is made by the first write, so a store that is only
  // read (a read-only sequencer share, the source of `sluice cp`) is never changed.
  std::error_code ec;
  std::filesystem::create_directories(root_text, ec);
  if (ec) {
    if (ec.value() == EEXIST || ec.value() == ENOTDIR) {
      return Fail(ErrorCode::AlreadyExists, "a file is in the way of the store's folder", context);
    }
    return Fail(ErrnoError(ec.value(), "create folder " + root_text, context));
  }
  RemoveStaleTempFiles(root_text + "/" + std::string(kStateFolder) + "/tmp");
  return std::make_unique<LocalStore>(std::move(root_text));
}

}  // namespace sluice
