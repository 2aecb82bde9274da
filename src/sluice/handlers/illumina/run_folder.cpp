// The one file of sluice::illumina that touches the local filesystem (see run_folder.hpp).
#include "sluice/handlers/illumina/run_folder.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

namespace sluice::illumina {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxXmlBytes = 32u << 20;          // S4 RunInfo.xml is ~100 KB
constexpr std::uintmax_t kMaxSamplesheetBytes = 16u << 20;  // real ones are < 1 MB

ErrorCode CodeOf(const std::error_code& ec) {
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    return ErrorCode::NotFound;
  }
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
    return ErrorCode::PermissionDenied;
  }
  return ErrorCode::Transient;
}

std::unexpected<Error> FailFs(const std::error_code& ec, std::string_view operation,
                              const fs::path& path) {
  return Fail(CodeOf(ec), ec.message(), fmt::format("{} {}", operation, path.string()));
}

std::chrono::system_clock::time_point ToSystemClock(fs::file_time_type time) {
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(time));
}

Status RequireDirectory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::NotFound, "not a directory", dir.string());
  }
  return Ok();
}

/// Names of the regular files (following symlinks) in `dir`'s root, dot-files excluded.
Result<std::vector<std::string>> RootFileNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return FailFs(ec, "list", dir);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!name.starts_with('.') && it->is_regular_file(type_ec)) names.push_back(std::move(name));
  }
  if (ec) return FailFs(ec, "list", dir);
  std::sort(names.begin(), names.end());
  return names;
}

/// True when `inner` equals `outer` or lies below it (both canonical).
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  auto [outer_end, inner_it] =
      std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return outer_end == outer.end();
}

struct Walker {
  const fs::path& root_canonical;
  std::string root_absolute;  // for exclude matching, without trailing '/'
  const ExcludeFilter& exclude;
  const EnumerateOptions& options;
  RunListing listing;
  std::vector<fs::path> chain;  // canonical paths of the directories being walked

  Status Walk(const fs::path& dir, const std::string& relative_dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return FailFs(ec, "list", dir);
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const fs::directory_entry& entry = *it;
      const std::string name = entry.path().filename().string();
      if (name.starts_with('.')) continue;
      const std::string relative = relative_dir.empty() ? name : relative_dir + "/" + name;
      SLUICE_RETURN_IF_ERROR(Visit(entry, relative));
    }
    if (ec) return FailFs(ec, "list", dir);
    return Ok();
  }

  Status Visit(const fs::directory_entry& entry, const std::string& relative) {
    std::error_code ec;
    const bool is_link = entry.is_symlink(ec);
    fs::path target;
    if (is_link) {
      target = fs::canonical(entry.path(), ec);
      if (ec) {
        listing.skipped.push_back({relative, "dangling symlink"});
        return Ok();
      }
      if (!options.follow_symlinks_outside_run && !IsWithin(target, root_canonical)) {
        listing.skipped.push_back({relative, "symlink target outside the run folder"});
        return Ok();
      }
    }
    const fs::file_status status = entry.status(ec);  // follows links
    if (ec) return FailFs(ec, "stat", entry.path());
    if (fs::is_directory(status)) {
      fs::path canonical = is_link ? target : fs::canonical(entry.path(), ec);
      if (ec) return FailFs(ec, "resolve", entry.path());
      if (std::any_of(chain.begin(), chain.end(),
                      [&](const fs::path& p) { return IsWithin(p, canonical); })) {
        listing.skipped.push_back({relative, "symlink to the directory itself or an ancestor"});
        return Ok();
      }
      chain.push_back(std::move(canonical));
      if (is_link) ++linked_depth;
      Status walked = Walk(entry.path(), relative);
      if (is_link) --linked_depth;
      chain.pop_back();
      return walked;
    }
    if (!fs::is_regular_file(status)) {
      listing.skipped.push_back({relative, "not a regular file"});
      return Ok();
    }
    if (!exclude.Empty() && exclude.Excludes(root_absolute + "/" + relative)) {
      listing.excluded.push_back(relative);
      return Ok();
    }
    RunFile file;
    file.relative_path = relative;
    file.size_bytes = fs::file_size(entry.path(), ec);
    if (ec) return FailFs(ec, "stat", entry.path());
    file.mtime = ToSystemClock(fs::last_write_time(entry.path(), ec));
    if (ec) return FailFs(ec, "stat", entry.path());
    file.marker_rank = MarkerRank(relative);
    file.via_symlink = is_link || linked_depth > 0;
    listing.total_bytes += file.size_bytes;
    listing.files.push_back(std::move(file));
    return Ok();
  }
  int linked_depth = 0;  // > 0 below a directory reached through a symlink
};

}  // namespace

Result<std::string> RunFolderName(const fs::path& run_dir) {
  std::error_code ec;
  fs::path absolute = fs::absolute(run_dir, ec);
  if (ec) return FailFs(ec, "resolve", run_dir);
  absolute = absolute.lexically_normal();
  if (!absolute.has_filename()) absolute = absolute.parent_path();
  std::string name = absolute.filename().string();
  if (name.empty() || name == "." || name == ".." || name == "/") {
    return Fail(ErrorCode::InvalidArgument, "path has no folder name", run_dir.string());
  }
  return name;
}

Result<RunCompletion> CheckRunCompletion(const fs::path& run_dir, CompletionPolicy policy) {
  SLUICE_RETURN_IF_ERROR(RequireDirectory(run_dir));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, RootFileNames(run_dir));
  std::string run_parameters;
  std::string run_info;
  for (const std::string& name : names) {
    if (name == "RunParameters.xml" || (name == "runParameters.xml" && run_parameters.empty())) {
      if (auto text = ReadTextFile(run_dir / name, kMaxXmlBytes)) run_parameters = std::move(*text);
    } else if (name == "RunInfo.xml") {
      if (auto text = ReadTextFile(run_dir / name, kMaxXmlBytes)) run_info = std::move(*text);
    }
  }
  return EvaluateCompletion(names, GuessInstrument(run_parameters, run_info), policy);
}

Result<RunListing> EnumerateRunFiles(const fs::path& run_dir, const ExcludeFilter& exclude,
                                     const EnumerateOptions& options) {
  SLUICE_RETURN_IF_ERROR(RequireDirectory(run_dir));
  std::error_code ec;
  const fs::path canonical = fs::canonical(run_dir, ec);
  if (ec) return FailFs(ec, "resolve", run_dir);
  fs::path absolute = fs::absolute(run_dir, ec).lexically_normal();
  if (ec) return FailFs(ec, "resolve", run_dir);
  if (!absolute.has_filename()) absolute = absolute.parent_path();
  Walker walker{canonical, absolute.string(), exclude, options, {}, {canonical}, 0};
  SLUICE_RETURN_IF_ERROR(walker.Walk(run_dir, ""));
  RunListing listing = std::move(walker.listing);
  std::sort(listing.files.begin(), listing.files.end(),
            [](const RunFile& a, const RunFile& b) { return a.relative_path < b.relative_path; });
  std::sort(listing.excluded.begin(), listing.excluded.end());
  std::sort(listing.skipped.begin(), listing.skipped.end(),
            [](const SkippedEntry& a, const SkippedEntry& b) {
              return a.relative_path < b.relative_path;
            });
  return listing;
}

Result<std::chrono::system_clock::time_point> RunInfoMtime(const fs::path& run_dir) {
  std::error_code ec;
  const auto time = fs::last_write_time(run_dir / "RunInfo.xml", ec);
  if (ec) return FailFs(ec, "stat", run_dir / "RunInfo.xml");
  return ToSystemClock(time);
}

Result<std::vector<SamplesheetFile>> ReadSamplesheets(const fs::path& run_dir) {
  SLUICE_RETURN_IF_ERROR(RequireDirectory(run_dir));
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, RootFileNames(run_dir));
  std::vector<SamplesheetFile> sheets;
  for (std::string& name : names) {
    if (!IsSamplesheetName(name)) continue;
    auto content = ReadTextFile(run_dir / name, kMaxSamplesheetBytes);
    if (!content) {
      Error error = std::move(content).error();
      if (error.code == ErrorCode::InvalidArgument) error.code = ErrorCode::Corrupt;
      return Fail(std::move(error));
    }
    sheets.push_back({std::move(name), std::move(*content)});
  }
  return sheets;
}

Result<std::vector<fs::path>> ListRunFolders(const fs::path& monitored_dir) {
  SLUICE_RETURN_IF_ERROR(RequireDirectory(monitored_dir));
  std::vector<fs::path> folders;
  std::error_code ec;
  fs::directory_iterator it(monitored_dir, ec);
  if (ec) return FailFs(ec, "list", monitored_dir);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->path().filename().string().starts_with('.') && it->is_directory(type_ec)) {
      folders.push_back(it->path());
    }
  }
  if (ec) return FailFs(ec, "list", monitored_dir);
  std::sort(folders.begin(), folders.end());
  return folders;
}

Result<std::string> ReadTextFile(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return FailFs(ec, "read", path);
  if (size > max_bytes) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("file is {} bytes, more than the {} allowed", size, max_bytes),
                path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(errno == EACCES ? ErrorCode::PermissionDenied : ErrorCode::Transient,
                std::strerror(errno), fmt::format("open {}", path.string()));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Fail(ErrorCode::Transient, "read error", path.string());
  return std::move(bytes).str();
}

Status WriteFileAtomically(const fs::path& path, std::string_view bytes) {
  std::error_code ec;
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(dir, ec);
  if (ec) return FailFs(ec, "create directory", dir);
  std::random_device random;
  const fs::path temp = dir / fmt::format(".{}.tmp-{:08x}", path.filename().string(), random());
  auto fail_errno = [&](std::string_view operation) {
    const int saved = errno;
    const ErrorCode code =
        (saved == EACCES || saved == EPERM) ? ErrorCode::PermissionDenied : ErrorCode::Transient;
    return Fail(code, std::strerror(saved), fmt::format("{} {}", operation, temp.string()));
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("create");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto error = fail_errno("write");
      ::close(fd);
      ::unlink(temp.c_str());
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto error = fail_errno("fsync");
    ::close(fd);
    ::unlink(temp.c_str());
    return error;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = fail_errno("rename");
    ::unlink(temp.c_str());
    return error;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the rename is already visible
    ::close(dir_fd);
  }
  return Ok();
}

Result<std::optional<RunLog>> ReadRunLogFile(const fs::path& log_dir, std::string_view run_id) {
  const fs::path path = RunLogPath(log_dir, run_id);
  auto text = ReadTextFile(path);
  if (!text) {
    if (text.error().code == ErrorCode::NotFound) return std::optional<RunLog>();
    return Fail(std::move(text).error());
  }
  auto log = ParseRunLog(*text);
  if (!log) return Fail(std::move(log).error().WithContext(path.string()));
  return std::optional<RunLog>(std::move(*log));
}

Status WriteRunLogFile(const fs::path& log_dir, const RunLog& log) {
  return WriteFileAtomically(RunLogPath(log_dir, log.run_id), FormatRunLog(log));
}

DirectoryStatus InspectDirectory(const fs::path& path, bool check_creatable) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::is_directory(status)) return DirectoryStatus::Exists;
  if (fs::exists(status)) return DirectoryStatus::NotDirectory;
  if (!check_creatable) return DirectoryStatus::Missing;
  fs::path ancestor = fs::absolute(path, ec).lexically_normal();
  while (ancestor.has_relative_path()) {
    ancestor = ancestor.parent_path();
    const fs::file_status ancestor_status = fs::status(ancestor, ec);
    if (fs::exists(ancestor_status)) {
      return fs::is_directory(ancestor_status) && IsWritableDirectory(ancestor)
                 ? DirectoryStatus::Creatable
                 : DirectoryStatus::Missing;
    }
  }
  return DirectoryStatus::Missing;
}

bool IsWritableDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && ::access(path.c_str(), W_OK | X_OK) == 0;
}

}  // namespace sluice::illumina
