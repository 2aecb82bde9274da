#pragma once
/// Logging: spdlog to stderr, human lines on a TTY (or when asked), JSON lines otherwise or with
/// `--log-format json`. A job's lines carry its route, job id and object key through LogScope.

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "sluice/core/error.hpp"

namespace sluice {

/// How log lines are written.
enum class LogFormat {
  Auto,   ///< human on a TTY, JSON lines otherwise
  Human,  ///< "2026-11-21 09:30:01.123 info  [route=… job=… key=…] message"
  Json,   ///< {"ts":"…","level":"info","msg":"…","route":"…","job":"…","key":"…"}
};

/// Parses "auto", "human"/"text" or "json". Returns InvalidArgument otherwise.
Result<LogFormat> ParseLogFormat(std::string_view text);

/// Configures the default spdlog logger (stderr) once per process; `level` is an spdlog level name
/// ("debug", "info", "warn", "error"). Not thread-safe: call from main() before starting threads.
Status InitLogging(LogFormat format, std::string_view level);

/// Also writes every log line (human format) to the file at `path`, appending; for daily log
/// files such as `sluice monitor`'s. Call after InitLogging, before starting threads.
/// PermissionDenied/Transient when the file cannot be opened.
Status AddLogFile(const std::string& path);

/// Sets the level of the default logger ("debug", "info", "warn", "error"; also Python's
/// "WARNING", "CRITICAL", "NOTSET" in any case, as s3_upload's log_level). InvalidArgument for
/// anything else. Call before starting threads.
Status SetLogLevel(std::string_view level);

/// A job's log context: route, job id and object key; empty strings when outside a job.
struct LogContext {
  std::string route;
  std::string job;
  std::string key;
};

/// The calling thread's current log context (the innermost LogScope's), to carry into threads
/// the job starts. Thread-safe (reads only the caller's own context).
LogContext CurrentLogContext();

/// Per-thread job context added to every log line written while it is alive (route, job id, key).
/// Scopes nest; the innermost wins. Thread-compatible: each thread has its own context.
class LogScope {
 public:
  /// Sets the calling thread's context to this job's route, id and object key until destroyed.
  LogScope(std::string route, std::string job, std::string key);
  /// Adopts a context captured on another thread by CurrentLogContext().
  explicit LogScope(const LogContext& context);
  /// Restores the context that was current before this scope.
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  LogContext saved_;
};

/// Wraps `task` so that, wherever it runs, its log lines carry the context of the thread that
/// called WithLogContext: `threads.emplace_back(WithLogContext([&] { … }))` gives the part
/// uploads of a job's multipart upload the job's route, id and key. Thread-safe.
template <typename Task>
auto WithLogContext(Task task) {
  return [context = CurrentLogContext(), task = std::move(task)]() mutable {
    LogScope scope(context);
    return task();
  };
}

/// Escapes `text` for inclusion inside a JSON string literal (without the quotes).
std::string JsonEscape(std::string_view text);

}  // namespace sluice
