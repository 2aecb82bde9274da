#include "sluice/core/uri.hpp"

#include <fmt/format.h>

namespace sluice {

bool IsLocalScheme(std::string_view scheme) {
  return scheme == "file" || scheme == "sqlite" || scheme == "memory";
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return Fail(ErrorCode::InvalidArgument, fmt::format("bad percent escape at offset {}", i));
    }
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

Result<Uri> ParseUri(std::string_view text, const std::filesystem::path& base_dir) {
  if (text.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::InvalidArgument, "URL contains a NUL byte");
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("'{}' is not a URL: expected scheme://…", RedactUrl(text)));
  }
  Uri uri;
  for (char c : text.substr(0, sep)) uri.scheme.push_back(static_cast<char>(std::tolower(c)));
  std::string_view rest = text.substr(sep + 3);
  const auto q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  rest = rest.substr(0, q == std::string_view::npos ? rest.size() : q);

  if (IsLocalScheme(uri.scheme)) {
    std::filesystem::path path{std::string(rest)};
    if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
    uri.path = path.lexically_normal().string();
  } else {
    const auto slash = rest.find('/');
    uri.authority = std::string(rest.substr(0, slash));
    uri.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  }

  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    SLUICE_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      SLUICE_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1)));
    }
    uri.query[key] = value;
  }
  return uri;
}

std::string RedactUrl(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::string(url);
  const auto start = sep + 3;
  const auto end = url.find_first_of("/?", start);
  const std::string_view authority =
      url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const auto colon = authority.find(':');
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  std::string out(url.substr(0, start + colon + 1));
  out += "***";
  out += url.substr(start + at);
  return out;
}

std::string Uri::Redacted() const {
  std::string out = scheme + "://";
  if (IsLocalScheme(scheme)) {
    out += path;
  } else {
    out += RedactUrl("x://" + authority).substr(4);
    out += path;
  }
  if (!query.empty()) {
    char sep = '?';
    for (const auto& [k, v] : query) {
      out += sep;
      out += k;
      out += '=';
      std::string lower;
      for (char c : k) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      const bool secret = lower.find("token") != std::string::npos ||
                          lower.find("secret") != std::string::npos ||
                          lower.find("password") != std::string::npos ||
                          lower.find("signature") != std::string::npos ||
                          lower.find("credential") != std::string::npos;
      out += secret ? "***" : v;
      sep = '&';
    }
  }
  return out;
}

}  // namespace sluice
