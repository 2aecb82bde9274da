#pragma once
/// Error and Result: the one way sluice reports failure (DESIGN.md, "Choices already made").
/// Third-party errors (SQLite, OpenSSL, libc) are converted into an Error once, at the adapter
/// edge, with the operation and the object it concerned in `context`.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

/// What kind of failure happened; decides retrying (IsRetryable) and exit codes.
enum class ErrorCode {
  InvalidArgument,   ///< bad input or configuration; retrying cannot help
  NotFound,          ///< the object, file, table or job does not exist
  AlreadyExists,     ///< a create found the thing already there
  PermissionDenied,  ///< credentials or file modes forbid the operation
  Transient,         ///< a temporary failure (I/O hiccup, busy database); retry
  Throttled,         ///< the service asked us to slow down; retry with backoff
  Timeout,           ///< a deadline passed; retry
  Corrupt,           ///< data is malformed or fails an integrity check
  Unsupported,       ///< a valid request this build or backend does not implement
  Cancelled,         ///< the operation was cancelled (shutdown, deadline)
  Internal,          ///< a bug or an unexpected failure of the environment
};

/// Stable lower-case name of a code, e.g. "not_found". Thread-safe.
std::string_view ToString(ErrorCode code);

/// The only retry oracle: true for Transient, Throttled and Timeout. Thread-safe.
bool IsRetryable(ErrorCode code);

/// A failure: its code, a human message, and where it happened (operation, object, line).
/// Never holds a secret: callers redact credentials before building one.
struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;  ///< what went wrong, e.g. "line 3: missing key 'score'"
  std::string context;  ///< where: "get summary2/ERR1.summary", "config.toml:12"

  /// "context: message" (or just the message when there is no context).
  [[nodiscard]] std::string ToString() const;

  /// Returns this error with `outer` prepended to the context ("outer: inner").
  [[nodiscard]] Error WithContext(std::string_view outer) &&;
};

/// A value or an Error. `Result<void>` is the status of an operation without a value.
template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for an operation that returns nothing but may fail.
using Status = Result<void>;

/// Builds the unexpected side of a Result: `return Fail(ErrorCode::NotFound, "no such key", key);`
[[nodiscard]] inline std::unexpected<Error> Fail(ErrorCode code, std::string message,
                                                 std::string context = {}) {
  return std::unexpected<Error>(Error{code, std::move(message), std::move(context)});
}

/// Re-raises an existing Error as the unexpected side of a Result.
[[nodiscard]] inline std::unexpected<Error> Fail(Error error) {
  return std::unexpected<Error>(std::move(error));
}

/// A successful Status.
[[nodiscard]] inline Status Ok() { return {}; }

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

/// Evaluates `expr` (a Result or Status); returns its Error from the enclosing function on failure.
#define SLUICE_RETURN_IF_ERROR(expr) \
  SLUICE_RETURN_IF_ERROR_IMPL(SLUICE_CONCAT(sluice_status_, __COUNTER__), expr)
#define SLUICE_RETURN_IF_ERROR_IMPL(tmp, expr)                     \
  do {                                                             \
    auto&& tmp = (expr);                                           \
    if (!tmp) return ::sluice::Fail(std::move(tmp).error());       \
  } while (false)

#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)           \
  auto tmp = (expr);                                           \
  if (!tmp) return ::sluice::Fail(std::move(tmp).error());     \
  lhs = std::move(*tmp)

/// `SLUICE_ASSIGN_OR_RETURN(auto x, Compute());` declares x from a Result or returns its Error.
#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(sluice_result_, __COUNTER__), lhs, expr)
