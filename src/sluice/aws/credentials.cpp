#include "sluice/aws/credentials.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

namespace sluice::aws {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kNoCredentials =
    "no AWS credentials found: tried environment, shared files (~/.aws/credentials), container, "
    "IMDS";

/// ECS task role endpoint host (ECS Developer Guide, "Task IAM role").
constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kImdsEndpoint = "http://169.254.169.254";
constexpr std::string_view kImdsTokenPath = "/latest/api/token";
constexpr std::string_view kImdsRolesPath = "/latest/meta-data/iam/security-credentials/";
constexpr std::string_view kDefaultRegion = "us-east-1";
/// Container endpoint attempts and deadlines (botocore's ContainerMetadataFetcher: 2 s, 3 tries).
constexpr int kContainerAttempts = 3;
constexpr std::chrono::milliseconds kContainerConnectTimeout{1000};
constexpr std::chrono::milliseconds kContainerTimeout{2000};

/// Profile settings that obtain credentials in ways this signer does not implement.
constexpr std::array<std::string_view, 6> kUnsupportedProfileKeys = {
    "role_arn",      "credential_process",      "sso_session",
    "sso_start_url", "web_identity_token_file", "credential_source"};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// A variable's value, nullopt when unset or empty (botocore treats "" as unset).
std::optional<std::string> Env(const GetEnv& getenv, std::string_view name) {
  auto value = getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

bool EnvIsTrue(const GetEnv& getenv, std::string_view name) {
  const auto value = Env(getenv, name);
  return value && ToLower(Trim(*value)) == "true";
}

std::filesystem::path ExpandHome(std::string_view path, const GetEnv& getenv) {
  if (path == "~" || path.starts_with("~/")) {
    const auto home = Env(getenv, "HOME");
    if (!home) return {};
    return std::filesystem::path(*home) /
           std::string(path.substr(std::min<std::size_t>(2, path.size())));
  }
  return std::filesystem::path(std::string(path));
}

std::filesystem::path SharedPath(const GetEnv& getenv, std::string_view variable,
                                 std::string_view fallback) {
  if (const auto value = Env(getenv, variable)) return ExpandHome(*value, getenv);
  return ExpandHome(fallback, getenv);
}

/// The whole file, nullopt when it does not exist; PermissionDenied / Internal when it cannot be
/// read.
Result<std::optional<std::string>> ReadFileIfExists(const std::filesystem::path& path) {
  if (path.empty()) return std::nullopt;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::PermissionDenied, "cannot read the file", path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::optional<std::string>(text.str());
}

Result<IniFile> LoadIni(const std::filesystem::path& path) {
  SLUICE_ASSIGN_OR_RETURN(const auto text, ReadFileIfExists(path));
  if (!text) return IniFile{};
  return ParseIni(*text, path.string());
}

using IniSection = IniFile::mapped_type;

/// The profile's section of the credentials file ("[name]").
const IniSection* CredentialsSection(const IniFile& file, std::string_view profile) {
  const auto it = file.find(profile);
  return it == file.end() ? nullptr : &it->second;
}

/// The profile's section of the config file ("[profile name]"; "[default]" for default).
const IniSection* ConfigSection(const IniFile& file, std::string_view profile) {
  if (profile == "default") {
    if (const auto it = file.find("default"); it != file.end()) return &it->second;
  }
  const auto it = file.find("profile " + std::string(profile));
  return it == file.end() ? nullptr : &it->second;
}

std::optional<std::string> Value(const IniSection& section, std::string_view key) {
  const auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

/// Static keys of one section: nullopt when it has neither; InvalidArgument when only one.
Result<std::optional<Credentials>> KeysOf(const IniSection& section, std::string_view profile,
                                          const std::filesystem::path& file) {
  const auto key_id = Value(section, "aws_access_key_id");
  const auto secret = Value(section, "aws_secret_access_key");
  if (!key_id && !secret) return std::nullopt;
  if (!key_id || !secret) {
    return Fail(ErrorCode::InvalidArgument,
                "profile '" + std::string(profile) + "' has " +
                    (key_id ? "aws_access_key_id but no aws_secret_access_key"
                            : "aws_secret_access_key but no aws_access_key_id") +
                    ": set both",
                file.string());
  }
  Credentials credentials;
  credentials.access_key_id = *key_id;
  credentials.secret_access_key = *secret;
  credentials.session_token = Value(section, "aws_session_token").value_or("");
  return std::optional<Credentials>(std::move(credentials));
}

Result<std::optional<Credentials>> FromEnvironment(const GetEnv& getenv) {
  auto key_id = Env(getenv, "AWS_ACCESS_KEY_ID");
  auto secret = Env(getenv, "AWS_SECRET_ACCESS_KEY");
  if (!key_id && !secret) return std::nullopt;
  if (!key_id || !secret) {
    return Fail(ErrorCode::InvalidArgument,
                key_id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or "
                         "neither to use a profile, container or instance credentials"
                       : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or "
                         "neither to use a profile, container or instance credentials",
                "AWS credentials from the environment");
  }
  Credentials credentials;
  credentials.access_key_id = std::move(*key_id);
  credentials.secret_access_key = std::move(*secret);
  credentials.session_token = Env(getenv, "AWS_SESSION_TOKEN").value_or("");
  return std::optional<Credentials>(std::move(credentials));
}

/// `named`: the profile was chosen (config or AWS_PROFILE), so its absence is an error.
Result<std::optional<Credentials>> FromProfile(std::string_view profile, bool named,
                                               const GetEnv& getenv) {
  const auto credentials_path = SharedCredentialsPath(getenv);
  const auto config_path = SharedConfigPath(getenv);
  SLUICE_ASSIGN_OR_RETURN(const IniFile credentials_file, LoadIni(credentials_path));
  SLUICE_ASSIGN_OR_RETURN(const IniFile config_file, LoadIni(config_path));
  const IniSection* in_credentials = CredentialsSection(credentials_file, profile);
  const IniSection* in_config = ConfigSection(config_file, profile);

  if (in_credentials != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(auto keys, KeysOf(*in_credentials, profile, credentials_path));
    if (keys) return keys;
  }
  if (in_config != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(auto keys, KeysOf(*in_config, profile, config_path));
    if (keys) return keys;
  }
  if (in_credentials == nullptr && in_config == nullptr) {
    if (named && profile != "default") {
      return Fail(ErrorCode::InvalidArgument,
                  "AWS profile '" + std::string(profile) + "' not found in " +
                      credentials_path.string() + " or " + config_path.string(),
                  "AWS credentials");
    }
    return std::nullopt;
  }
  for (const IniSection* section : {in_credentials, in_config}) {
    if (section == nullptr) continue;
    for (std::string_view key : kUnsupportedProfileKeys) {
      if (section->contains(key)) {
        return Fail(
            ErrorCode::Unsupported,
            "profile '" + std::string(profile) + "' gets credentials through " + std::string(key) +
                ", which sluice does not support: use static keys, the environment, container or "
                "instance credentials",
            "AWS credentials");
      }
    }
  }
  return std::nullopt;
}

/// "2026-11-21T10:15:30Z", with optional fractional seconds and a "Z" or "±HH:MM" offset.
std::optional<system_clock::time_point> ParseIso8601(std::string_view text) {
  using namespace std::chrono;
  const auto digits = [&](std::size_t pos, std::size_t count) -> std::optional<int> {
    if (pos + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2),
             mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  system_clock::time_point time = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s};
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;  // sub-second: dropped
  }
  const auto zone = text.substr(pos);
  if (zone == "Z" || zone == "z") return time;
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om) return std::nullopt;
    const minutes offset = hours{*oh} + minutes{*om};
    return zone[0] == '+' ? time - offset : time + offset;
  }
  return std::nullopt;
}

/// The JSON document of the container and IMDS endpoints: AccessKeyId, SecretAccessKey, Token,
/// Expiration. Errors never quote the document (it holds the secret).
Result<Credentials> ParseCredentialsDocument(std::string_view body, const std::string& where) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object())
    return Fail(ErrorCode::Corrupt, "credentials response is not a JSON object", where);
  const auto text = [&](std::string_view key) -> std::optional<std::string> {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (const auto code = text("Code"); code && *code != "Success") {
    return Fail(ErrorCode::PermissionDenied, "credentials response has Code " + *code, where);
  }
  Credentials credentials;
  auto key_id = text("AccessKeyId");
  auto secret = text("SecretAccessKey");
  if (!key_id || key_id->empty() || !secret || secret->empty()) {
    return Fail(ErrorCode::Corrupt, "credentials response lacks AccessKeyId or SecretAccessKey",
                where);
  }
  credentials.access_key_id = std::move(*key_id);
  credentials.secret_access_key = std::move(*secret);
  credentials.session_token = text("Token").value_or("");
  if (const auto expiration = text("Expiration")) {
    credentials.expiration = ParseIso8601(*expiration);
    if (!credentials.expiration) {
      return Fail(ErrorCode::Corrupt,
                  "credentials response has an unreadable Expiration '" + *expiration + "'", where);
    }
  }
  return credentials;
}

/// True for a dotted-quad IPv4 literal in 127.0.0.0/8 (not a name such as "127.0.0.1.example.com").
bool IsIpv4Loopback(std::string_view host) {
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    auto end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    const auto part = host.substr(start, end - start);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(part)) > 255) {
      return false;
    }
    if (parts == 0 && part != "127") return false;
    ++parts;
    start = end + 1;
  }
  return parts == 4;
}

/// AWS_CONTAINER_CREDENTIALS_FULL_URI over plain http must stay on this machine or the ECS/EKS
/// agent (botocore's ContainerProvider allow-list): the Authorization token must not leak.
bool FullUriAllowed(std::string_view url) {
  const auto lower = ToLower(url);
  if (lower.starts_with("https://")) return true;
  if (!lower.starts_with("http://")) return false;
  std::string_view authority = std::string_view(lower).substr(7);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || IsIpv4Loopback(host) || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

std::string WhereUrl(std::string_view what, std::string_view url) {
  return std::string(what) + " " + std::string(url.substr(0, url.find_first_of("?#")));
}

Result<std::optional<Credentials>> FromContainer(const CredentialOptions& options) {
  const GetEnv& getenv = options.getenv;
  const auto relative = Env(getenv, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const auto full = Env(getenv, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) return std::nullopt;

  HttpRequest request;
  if (relative) {
    request.url = std::string(kContainerHost) + (relative->starts_with('/') ? "" : "/") + *relative;
  } else {
    request.url = *full;
    if (!FullUriAllowed(request.url)) {
      return Fail(
          ErrorCode::InvalidArgument,
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to a loopback address, "
          "169.254.170.2 or 169.254.170.23",
          "container credentials");
    }
  }
  const std::string where = WhereUrl("container credentials from", request.url);

  std::optional<std::string> token;
  if (const auto token_file = Env(getenv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    SLUICE_ASSIGN_OR_RETURN(auto text, ReadFileIfExists(*token_file));
    if (!text) {
      return Fail(ErrorCode::NotFound, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE does not exist",
                  *token_file);
    }
    token = std::string(Trim(*text));
  } else {
    token = Env(getenv, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) {
    if (token->find_first_of("\r\n") != std::string::npos) {
      return Fail(ErrorCode::InvalidArgument,
                  "the container authorization token contains a line break", where);
    }
    request.headers.emplace_back("Authorization", *token);
  }
  request.headers.emplace_back("Accept", "application/json");
  request.connect_timeout = kContainerConnectTimeout;
  request.timeout = kContainerTimeout;

  Error last{ErrorCode::Transient, "no attempt made", where};
  for (int attempt = 1; attempt <= kContainerAttempts; ++attempt) {
    auto response = options.fetch(request);
    if (!response) {
      last = std::move(response).error().WithContext(where);
      if (!IsRetryable(last.code)) break;
      continue;
    }
    if (response->status == 200) {
      SLUICE_ASSIGN_OR_RETURN(auto credentials, ParseCredentialsDocument(response->body, where));
      return std::optional<Credentials>(std::move(credentials));
    }
    last = Error{response->status >= 500 ? ErrorCode::Transient : ErrorCode::PermissionDenied,
                 "the endpoint answered HTTP " + std::to_string(response->status), where};
    if (response->status < 500) break;
  }
  return Fail(std::move(last));
}

/// IMDSv2: a session token by PUT, then the role name, then the role's credentials (EC2 User
/// Guide, "Retrieve security credentials from instance metadata"). Any failure is an Error; the
/// chain treats it as "not on EC2" while resolving and as a failure while refreshing.
Result<std::optional<Credentials>> FromImds(const CredentialOptions& options) {
  const GetEnv& getenv = options.getenv;
  if (EnvIsTrue(getenv, "AWS_EC2_METADATA_DISABLED")) return std::nullopt;
  std::string base =
      Env(getenv, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kImdsEndpoint));
  while (base.ends_with('/')) base.pop_back();

  const auto call = [&](std::string method, std::string_view path, std::string_view header,
                        std::string_view header_value) -> Result<std::string> {
    HttpRequest request;
    request.method = std::move(method);
    request.url = base + std::string(path);
    request.headers.emplace_back(std::string(header), std::string(header_value));
    request.connect_timeout = kImdsConnectTimeout;
    request.timeout = kImdsTimeout;
    const std::string where = WhereUrl("IMDS " + request.method, request.url);
    SLUICE_ASSIGN_OR_RETURN(auto response, options.fetch(request));
    if (response.status == 404) return Fail(ErrorCode::NotFound, "IMDS answered HTTP 404", where);
    if (response.status != 200) {
      return Fail(response.status >= 500 ? ErrorCode::Transient : ErrorCode::PermissionDenied,
                  "IMDS answered HTTP " + std::to_string(response.status), where);
    }
    return std::move(response.body);
  };

  SLUICE_ASSIGN_OR_RETURN(const std::string token,
                          call("PUT", kImdsTokenPath, "X-aws-ec2-metadata-token-ttl-seconds",
                               std::to_string(kImdsTokenTtlSeconds)));
  if (Trim(token).empty())
    return Fail(ErrorCode::Corrupt, "IMDS returned an empty session token", base);
  SLUICE_ASSIGN_OR_RETURN(const std::string roles,
                          call("GET", kImdsRolesPath, "X-aws-ec2-metadata-token", Trim(token)));
  const std::string_view first_role = Trim(std::string_view(roles).substr(0, roles.find('\n')));
  if (first_role.empty()) return Fail(ErrorCode::NotFound, "the instance has no IAM role", base);
  const std::string path = std::string(kImdsRolesPath) + std::string(first_role);
  SLUICE_ASSIGN_OR_RETURN(const std::string document,
                          call("GET", path, "X-aws-ec2-metadata-token", Trim(token)));
  SLUICE_ASSIGN_OR_RETURN(auto credentials,
                          ParseCredentialsDocument(document, WhereUrl("IMDS", base + path)));
  return std::optional<Credentials>(std::move(credentials));
}

bool NeedsRefresh(const Credentials& credentials, system_clock::time_point now) {
  return credentials.expiration && now >= *credentials.expiration - kCredentialRefreshMargin;
}

}  // namespace

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<IniFile> ParseIni(std::string_view text, std::string_view file_name) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte order mark
  IniFile file;
  IniSection* section = nullptr;
  bool after_key = false;  // an indented line after a key continues its value
  int line_number = 0;
  const auto fail = [&](std::string message) {
    return Fail(ErrorCode::InvalidArgument, std::move(message),
                std::string(file_name) + ":" + std::to_string(line_number));
  };
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    const std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == ';') continue;
    const bool indented = IsSpace(line.front());
    if (indented && after_key) continue;  // nested settings ("s3 =\n  max_concurrency = 4")
    if (!indented && trimmed.front() == '[') {
      if (trimmed.back() != ']') return fail("section header without ']'");
      const std::string name(Trim(trimmed.substr(1, trimmed.size() - 2)));
      if (name.empty()) return fail("empty section name");
      section = &file[name];
      after_key = false;
      continue;
    }
    const auto delimiter = trimmed.find_first_of("=:");
    if (delimiter == std::string_view::npos || delimiter == 0)
      return fail("expected 'key = value'");
    if (section == nullptr) return fail("a key before the first [section]");
    std::string key = ToLower(Trim(trimmed.substr(0, delimiter)));
    if (key.empty()) return fail("expected 'key = value'");
    (*section)[std::move(key)] = std::string(Trim(trimmed.substr(delimiter + 1)));
    after_key = true;
  }
  return file;
}

std::filesystem::path SharedCredentialsPath(const GetEnv& getenv) {
  return SharedPath(getenv, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
}

std::filesystem::path SharedConfigPath(const GetEnv& getenv) {
  return SharedPath(getenv, "AWS_CONFIG_FILE", "~/.aws/config");
}

std::string ResolveProfileName(std::string_view configured, const GetEnv& getenv) {
  if (!configured.empty()) return std::string(configured);
  return Env(getenv, "AWS_PROFILE").value_or("default");
}

Result<std::string> ResolveRegion(const CredentialOptions& options, const GetEnv& getenv) {
  std::string region;
  std::string from;
  if (!options.region.empty()) {
    region = options.region;
    from = "the store's region";
  } else if (auto primary = Env(getenv, "AWS_REGION")) {
    region = std::move(*primary);
    from = "AWS_REGION";
  } else if (auto fallback = Env(getenv, "AWS_DEFAULT_REGION")) {
    region = std::move(*fallback);
    from = "AWS_DEFAULT_REGION";
  } else {
    const auto path = SharedConfigPath(getenv);
    SLUICE_ASSIGN_OR_RETURN(const IniFile config, LoadIni(path));
    const std::string profile = ResolveProfileName(options.profile, getenv);
    if (const IniSection* section = ConfigSection(config, profile)) {
      if (auto configured = Value(*section, "region")) {
        region = std::move(*configured);
        from = path.string() + " [" + profile + "]";
      }
    }
  }
  if (region.empty()) return std::string(kDefaultRegion);
  const bool valid = std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!valid) {
    return Fail(ErrorCode::InvalidArgument,
                "region '" + region + "' from " + from +
                    " is not like 'us-east-1' (lower-case letters, digits, '-')");
  }
  return region;
}

Result<std::string> ResolveRegion(const CredentialOptions& options) {
  return ResolveRegion(options, options.getenv);
}

std::string ResolveServiceEndpoint(std::string_view service_id,
                                   std::string_view configured_endpoint, const GetEnv& getenv) {
  if (!configured_endpoint.empty()) return std::string(configured_endpoint);
  if (EnvIsTrue(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) return {};
  if (auto value = Env(getenv, "AWS_ENDPOINT_URL_" + std::string(service_id)))
    return std::move(*value);
  return Env(getenv, "AWS_ENDPOINT_URL").value_or("");
}

std::string ResolveEndpoint(std::string_view store_endpoint, const GetEnv& getenv) {
  return ResolveServiceEndpoint("S3", store_endpoint, getenv);
}

std::string Redact(const Credentials& credentials) {
  const std::string& id = credentials.access_key_id;
  if (id.empty()) return "(no access key)";
  std::string out = id.substr(0, 4) + "\u2026";
  if (id.size() >= 16) out += id.substr(id.size() - 4);
  if (!credentials.session_token.empty()) out += " (temporary)";
  return out;
}

CredentialsProvider::CredentialsProvider(CredentialOptions options)
    : options_(std::move(options)) {}

std::string CredentialsProvider::SourceName() const {
  std::lock_guard lock(mutex_);
  return cached_ ? cached_->name : std::string();
}

Result<std::optional<CredentialsProvider::Found>> CredentialsProvider::FetchLocked(
    Source source) const {
  const GetEnv& getenv = options_.getenv;
  const auto found = [](Source s, std::string name,
                        std::optional<Credentials> credentials) -> std::optional<Found> {
    if (!credentials) return std::nullopt;
    return Found{s, std::move(name), std::move(*credentials)};
  };
  switch (source) {
    case Source::Environment: {
      SLUICE_ASSIGN_OR_RETURN(auto credentials, FromEnvironment(getenv));
      return found(source, "environment", std::move(credentials));
    }
    case Source::Profile: {
      const std::string profile = ResolveProfileName(options_.profile, getenv);
      const bool named = !options_.profile.empty() || Env(getenv, "AWS_PROFILE").has_value();
      SLUICE_ASSIGN_OR_RETURN(auto credentials, FromProfile(profile, named, getenv));
      return found(source, "profile " + profile, std::move(credentials));
    }
    case Source::Container: {
      SLUICE_ASSIGN_OR_RETURN(auto credentials, FromContainer(options_));
      return found(source, "container", std::move(credentials));
    }
    case Source::Imds: {
      SLUICE_ASSIGN_OR_RETURN(auto credentials, FromImds(options_));
      return found(source, "imds", std::move(credentials));
    }
    case Source::None:
      break;
  }
  return std::nullopt;
}

Result<std::optional<CredentialsProvider::Found>> CredentialsProvider::ResolveLocked() const {
  // An explicit profile negates the environment's keys, as `aws --profile` does (botocore's
  // create_credential_resolver removes the EnvProvider when a profile is given explicitly).
  if (options_.profile.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto found, FetchLocked(Source::Environment));
    if (found) return found;
  }
  for (Source source : {Source::Profile, Source::Container}) {
    SLUICE_ASSIGN_OR_RETURN(auto found, FetchLocked(source));
    if (found) return found;
  }
  // Off EC2 the metadata endpoint does not answer: that means "no credentials here", not an error.
  auto imds = FetchLocked(Source::Imds);
  if (!imds) {
    spdlog::debug("no AWS credentials from IMDS: {}", imds.error().ToString());
    return std::nullopt;
  }
  return imds;
}

Result<Credentials> CredentialsProvider::Get() {
  std::lock_guard lock(mutex_);
  const auto now = options_.now();
  if (cached_ && !NeedsRefresh(cached_->credentials, now)) return cached_->credentials;

  auto fresh = cached_ ? FetchLocked(cached_->source) : ResolveLocked();
  if (fresh && *fresh) {
    const bool first = !cached_;
    cached_ = std::move(**fresh);
    if (first) {
      spdlog::debug("AWS credentials from {}: {}", cached_->name, Redact(cached_->credentials));
    } else {
      spdlog::debug("AWS credentials from {} refreshed: {}", cached_->name,
                    Redact(cached_->credentials));
    }
    return cached_->credentials;
  }
  if (cached_) {
    Error error =
        fresh ? Error{ErrorCode::Transient, "credentials are no longer available", cached_->name}
              : std::move(fresh).error();
    if (cached_->credentials.expiration && now < *cached_->credentials.expiration) {
      spdlog::warn(
          "cannot refresh AWS credentials from {} ({}); using the cached ones until they expire",
          cached_->name, error.ToString());
      return cached_->credentials;
    }
    return Fail(std::move(error).WithContext("refreshing AWS credentials from " + cached_->name));
  }
  if (!fresh) return Fail(std::move(fresh).error());
  return Fail(ErrorCode::PermissionDenied, std::string(kNoCredentials));
}

}  // namespace sluice::aws
