#include "sluice/aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "sluice/core/hash.hpp"
#include "sluice/core/uri.hpp"

namespace sluice::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
/// X-Amz-Expires bounds. Source: Amazon S3 API Reference, "Authenticating Requests: Using Query
/// Parameters" — minimum 1 second, maximum 604800 seconds (7 days).
constexpr std::chrono::seconds kMinPresignExpiry{1};
constexpr std::chrono::seconds kMaxPresignExpiry{604800};

/// Headers never signed, as botocore's SIGNED_HEADERS_BLACKLIST (proxies and the HTTP stack may
/// change them in flight), plus the ones SignRequest itself owns.
constexpr std::array<std::string_view, 9> kUnsignedHeaders = {
    "expect",         "transfer-encoding", "user-agent",           "x-amzn-trace-id",
    "authorization",  "x-amz-date",        "x-amz-security-token", "x-amz-content-sha256",
    "x-amz-signature"};

/// The query parameters PresignUrl adds; a URL already carrying one is rejected.
constexpr std::array<std::string_view, 7> kPresignParams = {
    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",     "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"};

char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ToLowerAscii);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ToLowerAscii(x) == ToLowerAscii(y);
         });
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/// SigV4 "Trimall": leading and trailing whitespace removed, inner runs collapsed to one space
/// (botocore: ' '.join(value.split())).
std::string TrimAll(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(),
           &length) == nullptr) {
    throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

/// The parts of a URL SigV4 needs, as views into the caller's text.
struct ParsedUrl {
  std::string_view scheme;  ///< "http" or "https", as written
  std::string_view prefix;  ///< "scheme://authority", as written
  std::string_view path;    ///< as on the wire; may be empty
  std::string_view query;   ///< without '?'; may be empty
  std::string host_header;  ///< lower-case host, ":port" unless the scheme's default
};

/// Where a URL is, for error messages: scheme and host only (the query may hold a session token).
std::string Where(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return "signing a request";
  auto authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  return "signing a request to " + std::string(url.substr(0, sep + 3)) + std::string(authority);
}

Result<ParsedUrl> ParseUrl(std::string_view url) {
  const auto fail = [&](std::string message) {
    return Fail(ErrorCode::InvalidArgument, std::move(message), Where(url));
  };
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F)
      return fail("URL must be percent-encoded (found a space, control or non-ASCII byte)");
  }
  ParsedUrl parsed;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return fail("not a URL: expected http(s)://host/path");
  parsed.scheme = url.substr(0, sep);
  const bool https = EqualsIgnoreCase(parsed.scheme, "https");
  if (!https && !EqualsIgnoreCase(parsed.scheme, "http"))
    return fail("URL scheme must be http or https");

  auto rest = url.substr(sep + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto authority_end = rest.find_first_of("/?");
  const auto authority = rest.substr(0, authority_end);
  parsed.prefix = url.substr(0, sep + 3 + authority.size());
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    parsed.path = rest.substr(0, q);
    parsed.query = rest.substr(q + 1);
  } else {
    parsed.path = rest;
  }

  if (authority.find('@') != std::string_view::npos)
    return fail("URL must not carry user information");
  std::string_view host = authority;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {  // IPv6 literal, kept with its brackets
    const auto close = host.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address in URL");
    const auto after = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("bad authority in URL");
      port = after.substr(1);
    }
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return fail("URL has no host");
  if (!port.empty() &&
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fail("URL port is not a number");
  }
  port.remove_prefix(std::min(port.find_first_not_of('0'), port.size()));  // ":080" is port 80
  parsed.host_header = ToLower(host);
  const std::string_view default_port = https ? "443" : "80";
  if (!port.empty() && port != default_port) {
    parsed.host_header += ':';
    parsed.host_header += port;
  }
  return parsed;
}

/// RFC 3986 section 5.2.4 dot-segment removal, also dropping empty segments ("//"), as botocore's
/// remove_dot_segments does for every service but S3.
std::string RemoveDotSegments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out += '/';
  return out;
}

/// S3 signs the path exactly as sent; other services sign it normalised and encoded once more
/// (so "%20" on the wire is "%2520" in the canonical request). Source: AWS General Reference,
/// "Create a canonical request" ("Each path segment must be URI-encoded twice … except for
/// Amazon S3"), and botocore's S3SigV4Auth._normalize_url_path.
/// An S3 path must already be in canonical form (each segment as UriEncode writes it): servers
/// that re-encode the decoded key (AWS's own rule) and servers that sign the raw path then agree,
/// and a mis-encoded key fails here, clearly, instead of as SignatureDoesNotMatch.
Result<std::string> CanonicalUri(std::string_view path, std::string_view service,
                                 std::string_view url) {
  if (service != "s3") return UriEncode(RemoveDotSegments(path), /*keep_slash=*/true);
  if (path.empty()) return std::string("/");
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    const auto decoded = PercentDecode(segment);
    if (!decoded || UriEncode(*decoded, false) != segment) {
      return Fail(
          ErrorCode::InvalidArgument,
          "S3 path segment '" + std::string(segment) +
              "' is not percent-encoded as UriEncode(key, true) writes it (upper-case hex, only "
              "A-Z a-z 0-9 - _ . ~ left as they are)",
          Where(url));
    }
    start = end + 1;
  }
  return std::string(path);
}

using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// Splits a wire query into (key, value) pairs, each decoded and re-encoded with UriEncode so that
/// "%2f", "%2F" and "~" all reach the canonical form. "acl" yields ("acl", "").
Result<QueryParams> EncodedQueryParams(std::string_view query, std::string_view url) {
  QueryParams params;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const auto pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    auto value =
        eq == std::string_view::npos ? Result<std::string>("") : PercentDecode(pair.substr(eq + 1));
    if (!key || !value) {
      return Fail(ErrorCode::InvalidArgument, "bad percent escape in the URL query", Where(url));
    }
    params.emplace_back(UriEncode(*key, false), UriEncode(*value, false));
  }
  return params;
}

/// Sorted by encoded key, then value; "k=v" joined by '&'. Source: AWS General Reference,
/// "Create a canonical request", CanonicalQueryString.
std::string CanonicalQuery(QueryParams params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

struct Timestamps {
  std::string date_time;  ///< "20261121T091530Z"
  std::string date;       ///< "20261121"
};

Timestamps FormatTime(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d%02u%02uT%02d%02d%02dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  Timestamps out;
  out.date_time = buffer.data();
  out.date = out.date_time.substr(0, 8);
  return out;
}

Status CheckSigningInputs(const Credentials& credentials, std::string_view region,
                          std::string_view service, std::string_view url) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Fail(ErrorCode::InvalidArgument,
                "credentials lack an access key id or a secret access key", Where(url));
  }
  if (region.empty() || service.empty()) {
    return Fail(ErrorCode::InvalidArgument, "region and service must not be empty", Where(url));
  }
  const auto bad = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == '/' || IsSpace(c); });
  };
  if (bad(region) || bad(service)) {
    return Fail(ErrorCode::InvalidArgument, "region and service must not contain '/' or spaces",
                Where(url));
  }
  return Ok();
}

std::string Scope(const Timestamps& t, std::string_view region, std::string_view service) {
  std::string scope = t.date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";
  return scope;
}

/// Steps 2–4 of SigV4 (AWS General Reference, "Create a string to sign", "Calculate the
/// signature"): hex HMAC of the string to sign under the derived signing key.
std::string Signature(std::string_view canonical_request, const Timestamps& t,
                      std::string_view scope, const Credentials& credentials,
                      std::string_view region, std::string_view service) {
  std::string string_to_sign(kAlgorithm);
  string_to_sign += '\n';
  string_to_sign += t.date_time;
  string_to_sign += '\n';
  string_to_sign += scope;
  string_to_sign += '\n';
  string_to_sign += Sha256Hex(canonical_request);

  const std::string k_date = Hmac("AWS4" + credentials.secret_access_key, t.date);
  const std::string k_region = Hmac(k_date, region);
  const std::string k_service = Hmac(k_region, service);
  const std::string k_signing = Hmac(k_service, "aws4_request");
  return ToHex(Hmac(k_signing, string_to_sign));
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  }
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0xF]);
    }
  }
  return out;
}

Result<SignedHeaders> SignRequest(const SigningRequest& request, const Credentials& credentials,
                                  std::string_view region, std::string_view service,
                                  std::chrono::system_clock::time_point time) {
  SLUICE_RETURN_IF_ERROR(CheckSigningInputs(credentials, region, service, request.url));
  if (request.method.empty()) {
    return Fail(ErrorCode::InvalidArgument, "request has no method", Where(request.url));
  }
  SLUICE_ASSIGN_OR_RETURN(const ParsedUrl url, ParseUrl(request.url));
  SLUICE_ASSIGN_OR_RETURN(QueryParams query, EncodedQueryParams(url.query, request.url));
  const Timestamps t = FormatTime(time);
  const bool is_s3 = service == "s3";

  SignedHeaders out;
  out.x_amz_date = t.date_time;
  out.x_amz_security_token = credentials.session_token;
  const std::string payload_hash =
      request.payload_hash.empty() ? Sha256Hex(request.body) : request.payload_hash;
  // botocore adds X-Amz-Content-SHA256 only for S3; other services hash the body but send no
  // header.
  if (is_s3) out.x_amz_content_sha256 = payload_hash;

  // Lower-cased name -> trimmed values in the caller's order (repeats are joined with ',').
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lname = ToLower(TrimAll(name));
    if (std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), lname) !=
        kUnsignedHeaders.end())
      continue;
    auto [it, inserted] = headers.try_emplace(std::move(lname), TrimAll(value));
    if (!inserted) {
      it->second += ',';
      it->second += TrimAll(value);
    }
  }
  headers.try_emplace("host", url.host_header);
  headers["x-amz-date"] = out.x_amz_date;
  if (!credentials.session_token.empty())
    headers["x-amz-security-token"] = credentials.session_token;
  if (is_s3) headers["x-amz-content-sha256"] = payload_hash;

  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name;
    canonical_headers += ':';
    canonical_headers += value;
    canonical_headers += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  SLUICE_ASSIGN_OR_RETURN(const std::string canonical_uri,
                          CanonicalUri(url.path, service, request.url));
  std::string canonical_request = request.method;
  canonical_request += '\n';
  canonical_request += canonical_uri;
  canonical_request += '\n';
  canonical_request += CanonicalQuery(std::move(query));
  canonical_request += '\n';
  canonical_request += canonical_headers;
  canonical_request += '\n';
  canonical_request += signed_headers;
  canonical_request += '\n';
  canonical_request += payload_hash;

  const std::string scope = Scope(t, region, service);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      scope + ", SignedHeaders=" + signed_headers + ", Signature=" +
                      Signature(canonical_request, t, scope, credentials, region, service);
  return out;
}

Result<std::string> PresignUrl(std::string_view method, std::string_view url,
                               const Credentials& credentials, std::string_view region,
                               std::string_view service, std::chrono::seconds expires,
                               std::chrono::system_clock::time_point time) {
  SLUICE_RETURN_IF_ERROR(CheckSigningInputs(credentials, region, service, url));
  if (method.empty()) return Fail(ErrorCode::InvalidArgument, "request has no method", Where(url));
  if (expires < kMinPresignExpiry || expires > kMaxPresignExpiry) {
    return Fail(ErrorCode::InvalidArgument,
                "presigned URL expiry must be 1 to 604800 seconds (7 days), got " +
                    std::to_string(expires.count()),
                Where(url));
  }
  SLUICE_ASSIGN_OR_RETURN(const ParsedUrl parsed, ParseUrl(url));
  SLUICE_ASSIGN_OR_RETURN(QueryParams params, EncodedQueryParams(parsed.query, url));
  for (const auto& [key, value] : params) {
    for (std::string_view reserved : kPresignParams) {
      if (EqualsIgnoreCase(key, reserved)) {
        return Fail(ErrorCode::InvalidArgument, "URL already carries " + std::string(reserved),
                    Where(url));
      }
    }
  }
  const Timestamps t = FormatTime(time);
  const std::string scope = Scope(t, region, service);

  // botocore's order: the operation's own parameters, then the authentication parameters in this
  // order, then X-Amz-Signature last (S3SigV4QueryAuth._modify_request_before_signing).
  params.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  params.emplace_back("X-Amz-Credential",
                      UriEncode(credentials.access_key_id + "/" + scope, false));
  params.emplace_back("X-Amz-Date", t.date_time);
  params.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  params.emplace_back("X-Amz-SignedHeaders", "host");
  if (!credentials.session_token.empty()) {
    params.emplace_back("X-Amz-Security-Token", UriEncode(credentials.session_token, false));
  }

  std::string query;
  for (const auto& [key, value] : params) {
    if (!query.empty()) query += '&';
    query += key;
    query += '=';
    query += value;
  }

  SLUICE_ASSIGN_OR_RETURN(const std::string canonical_uri, CanonicalUri(parsed.path, service, url));
  std::string canonical_request(method);
  canonical_request += '\n';
  canonical_request += canonical_uri;
  canonical_request += '\n';
  canonical_request += CanonicalQuery(params);
  canonical_request += "\nhost:";
  canonical_request += parsed.host_header;
  canonical_request += "\n\nhost\n";
  canonical_request += kUnsignedPayload;

  std::string out(parsed.prefix);
  out += parsed.path;
  out += '?';
  out += query;
  out += "&X-Amz-Signature=";
  out += Signature(canonical_request, t, scope, credentials, region, service);
  return out;
}

}  // namespace sluice::aws
