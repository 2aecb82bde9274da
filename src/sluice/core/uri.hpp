#pragma once
/// URLs of stores, tables and queues: "file:///srv/lake", "sqlite://queue.db", "s3://bucket/prefix",
/// "amqp://user:pass@host:5672/%2f?queue=q". For the local schemes (file, sqlite, memory) every
/// character after "://" is a path; a relative path is resolved against a base folder (the folder
/// of the config file that names it).

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"

namespace sluice {

/// A parsed URL. `authority` is "user:pass@host:port" for network schemes, empty for local ones.
struct Uri {
  std::string scheme;     ///< lower-case, without "://"
  std::string authority;  ///< network schemes only
  std::string path;       ///< local schemes: the whole path; network schemes: from the first '/'
  std::map<std::string, std::string> query;  ///< decoded "?a=b&c=d" parameters

  /// The URL with any password replaced by "***", safe for logs and errors.
  [[nodiscard]] std::string Redacted() const;
};

/// True for the schemes whose text after "://" is a filesystem path (file, sqlite, memory).
bool IsLocalScheme(std::string_view scheme);

/// Parses `text`; a relative local path is resolved against `base_dir` when it is not empty.
/// Returns InvalidArgument for a missing "://", an empty scheme, or a NUL byte.
Result<Uri> ParseUri(std::string_view text, const std::filesystem::path& base_dir = {});

/// Percent-decodes "%2f" style escapes ('+' stays '+'). Returns InvalidArgument on a bad escape.
Result<std::string> PercentDecode(std::string_view text);

/// Replaces the password of "scheme://user:pass@host" in any URL text with "***".
std::string RedactUrl(std::string_view url);

}  // namespace sluice
