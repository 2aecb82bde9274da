#include "sluice/handlers/illumina/run_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

namespace sluice::illumina {

namespace {

Error IoError(int err, std::string_view what, const std::filesystem::path& path) {
  const ErrorCode code = err == EACCES || err == EPERM ? ErrorCode::PermissionDenied
                                                       : ErrorCode::Transient;
  return Error{code, fmt::format("{}: {}", what, std::strerror(err)), path.string()};
}

std::int64_t ToNanoseconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

RunJournal::RunJournal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

RunJournal::~RunJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::filesystem::path RunJournal::PathFor(const std::filesystem::path& log_dir,
                                          std::string_view run_name) {
  return log_dir / "uploads" / (std::string(run_name) + ".journal.jsonl");
}

Result<std::unique_ptr<RunJournal>> RunJournal::Open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Fail(IoError(ec.value(), "create folder", path.parent_path()));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(IoError(errno, "open journal", path));
  std::unique_ptr<RunJournal> journal(new RunJournal(path, fd));

  std::string text;
  char buffer[64 * 1024];
  for (ssize_t n; (n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(IoError(errno, "read journal", path));
    text.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a torn last line: the append never finished
    const auto line = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                                            text.begin() + static_cast<std::ptrdiff_t>(end),
                                            nullptr, false);
    start = end + 1;
    if (line.is_object() && line.contains("alert") && line["alert"].is_string()) {
      journal->alerts_.insert(line["alert"].get<std::string>());
      continue;
    }
    if (!line.is_object() || !line.contains("path") || !line["path"].is_string()) continue;
    JournalEntry entry;
    entry.key = line.value("key", "");
    entry.size_bytes = line.value("size", std::uint64_t{0});
    entry.mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<
        std::chrono::system_clock::duration>(std::chrono::nanoseconds(line.value("mtime_ns", std::int64_t{0}))));
    entry.etag = line.value("etag", "");
    journal->entries_.insert_or_assign(line["path"].get<std::string>(), std::move(entry));
  }
  if (start < text.size()) {
    // Cut the torn line so the next append starts a line of its own.
    if (::ftruncate(fd, static_cast<off_t>(start)) != 0) {
      return Fail(IoError(errno, "truncate journal", path));
    }
  }
  return journal;
}

std::optional<JournalEntry> RunJournal::Find(std::string_view relative_path) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(relative_path);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

Status RunJournal::Append(std::string_view relative_path, const JournalEntry& entry) {
  const nlohmann::json line = {{"path", relative_path},
                               {"key", entry.key},
                               {"size", entry.size_bytes},
                               {"mtime_ns", ToNanoseconds(entry.mtime)},
                               {"etag", entry.etag}};
  // Invalid UTF-8 in a path is replaced rather than thrown on: the journal is only a hint.
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  SLUICE_RETURN_IF_ERROR(AppendLine(text));
  entries_.insert_or_assign(std::string(relative_path), entry);
  return Ok();
}

bool RunJournal::AlertSent(std::string_view kind) const {
  std::lock_guard lock(mutex_);
  return alerts_.contains(kind);
}

Status RunJournal::RecordAlert(std::string_view kind) {
  const std::string text = nlohmann::json{{"alert", kind}}.dump() + "\n";
  std::lock_guard lock(mutex_);
  SLUICE_RETURN_IF_ERROR(AppendLine(text));
  alerts_.insert(std::string(kind));
  return Ok();
}

Status RunJournal::AppendLine(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(IoError(errno, "append to journal", path_));
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Fail(IoError(errno, "fsync journal", path_));
  return Ok();
}

}  // namespace sluice::illumina
