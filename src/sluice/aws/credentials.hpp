#pragma once
/// Where AWS credentials, the region and the endpoint come from, in the order of the AWS CLI
/// (botocore's credential resolver). Sources: AWS SDKs and Tools Reference Guide, "Standardized
/// credential providers" (environment variables, shared config and credentials files, container
/// credential provider, IMDS credential provider) and "Configuration and credential file settings";
/// Amazon EC2 User Guide, "Use IMDSv2"; Amazon ECS Developer Guide, "Task IAM role".
/// Secrets never reach a log line or an Error: use Redact() to name credentials.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/aws/http_fetch.hpp"
#include "sluice/aws/sigv4.hpp"
#include "sluice/core/error.hpp"

namespace sluice::aws {

/// Reads one environment variable: its value, or nullopt when unset. Product code reads the
/// environment only through one of these so that tests can inject a fake.
using GetEnv = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (std::getenv). Thread-safe as long as nothing calls setenv.
std::optional<std::string> ProcessEnv(std::string_view name);

/// What the store's configuration says about AWS identity, plus the seams tests replace.
struct CredentialOptions {
  /// The config's profile (`[stores.x] profile`). Empty: AWS_PROFILE, else "default". A profile
  /// named here is explicit, like `aws --profile`: the environment's keys are then not used.
  std::string profile;
  std::string region;           ///< the config's region; empty: see ResolveRegion
  GetEnv getenv = ProcessEnv;   ///< every environment lookup goes through this
  HttpFetch fetch = CurlFetch;  ///< container and IMDS requests go through this
  /// The clock deciding when temporary credentials need refreshing.
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

/// Temporary credentials are fetched again this long before they expire, so that a request
/// signed with them still reaches AWS in time (botocore refreshes 10–15 minutes ahead).
inline constexpr std::chrono::minutes kCredentialRefreshMargin{5};

/// IMDS timeouts: the link-local endpoint answers in milliseconds on EC2 and not at all elsewhere,
/// so a short deadline keeps a laptop without credentials from hanging (botocore uses 1 s).
inline constexpr std::chrono::milliseconds kImdsConnectTimeout{1000};
inline constexpr std::chrono::milliseconds kImdsTimeout{2000};

/// IMDSv2 session token lifetime requested, in seconds (the maximum, 6 hours; EC2 User Guide,
/// "Use IMDSv2").
inline constexpr int kImdsTokenTtlSeconds = 21600;

/// The chain of credential sources, first match wins:
///  1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN ("environment");
///     skipped when CredentialOptions::profile names a profile explicitly;
///  2. shared files: the profile's aws_access_key_id / aws_secret_access_key / aws_session_token
///     in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then in AWS_CONFIG_FILE
///     (~/.aws/config) ("profile NAME");
///  3. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
///     AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header read from
///     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN ("container");
///  4. EC2 instance metadata, IMDSv2 only, unless AWS_EC2_METADATA_DISABLED=true; endpoint
///     http://169.254.169.254 or AWS_EC2_METADATA_SERVICE_ENDPOINT ("imds").
/// The source found first is kept; its temporary credentials are cached and fetched again from
/// the same source kCredentialRefreshMargin before they expire. Thread-safe: concurrent Get()
/// calls share one cache and one refresh.
class CredentialsProvider {
 public:
  /// Keeps `options`; nothing is read or fetched until the first Get().
  explicit CredentialsProvider(CredentialOptions options = {});

  /// Current credentials. Errors: PermissionDenied "no AWS credentials found: tried environment,
  /// shared files (~/.aws/credentials), container, IMDS" when no source has any;
  /// InvalidArgument for half-set keys (a key id without its secret or the reverse), a malformed
  /// shared file, an unknown named profile or a disallowed container URI; Unsupported for a
  /// profile that only uses role_arn, credential_process, SSO or web identity; the container
  /// endpoint's error (Transient, Timeout, PermissionDenied, Corrupt) when it is configured but
  /// fails. When a refresh fails while the cached credentials have not expired yet, those are
  /// returned (and a warning is logged).
  [[nodiscard]] Result<Credentials> Get();

  /// Where the last credentials came from: "environment", "profile lab", "container", "imds";
  /// empty before the first successful Get().
  [[nodiscard]] std::string SourceName() const;

 private:
  enum class Source { None, Environment, Profile, Container, Imds };
  struct Found {
    Source source = Source::None;
    std::string name;
    Credentials credentials;
  };

  /// Tries every source in order; nullopt when none has credentials.
  Result<std::optional<Found>> ResolveLocked() const;
  /// Asks `source` again (refresh of temporary credentials).
  Result<std::optional<Found>> FetchLocked(Source source) const;

  const CredentialOptions options_;

  /// Guarded by mutex_.
  mutable std::mutex mutex_;
  std::optional<Found> cached_;
};

/// One parsed INI file: section name ("default", "profile lab") -> lower-cased key -> value.
using IniFile =
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>>;

/// Parses the AWS shared file format (Python configparser syntax as botocore reads it): `[section]`
/// headers, `key = value` or `key: value`, full-line comments starting with '#' or ';', indented
/// continuation lines (nested settings such as `s3 =`) ignored. A later duplicate key wins.
/// InvalidArgument "FILE:LINE: …" for a key outside a section or a line that is not `key = value`;
/// the message never repeats the line (it may hold a secret). Thread-safe.
Result<IniFile> ParseIni(std::string_view text, std::string_view file_name);

/// The shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials ('~' is
/// HOME). Empty when neither can be known.
std::filesystem::path SharedCredentialsPath(const GetEnv& getenv);

/// The shared config file: AWS_CONFIG_FILE, else ~/.aws/config. Empty when neither can be known.
std::filesystem::path SharedConfigPath(const GetEnv& getenv);

/// The profile in effect: `configured` when set, else AWS_PROFILE, else "default".
std::string ResolveProfileName(std::string_view configured, const GetEnv& getenv);

/// The region: CredentialOptions::region, else AWS_REGION, else AWS_DEFAULT_REGION, else the
/// profile's `region` in the shared config file, else "us-east-1". InvalidArgument for a malformed
/// config file or a region that is not lower-case letters, digits and '-'. Thread-safe.
Result<std::string> ResolveRegion(const CredentialOptions& options, const GetEnv& getenv);

/// ResolveRegion reading the environment through `options.getenv`.
Result<std::string> ResolveRegion(const CredentialOptions& options);

/// The S3 endpoint override: `store_endpoint`, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL,
/// else "" (the caller uses AWS's regional endpoint). The environment is ignored when
/// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. Source: AWS SDKs and Tools Reference Guide,
/// "Service-specific endpoints". Thread-safe.
std::string ResolveEndpoint(std::string_view store_endpoint, const GetEnv& getenv);

/// ResolveEndpoint for any service: `service_id` is the upper-case environment suffix ("S3",
/// "DYNAMODB", "SQS", "LAMBDA", "OMICS"), read as AWS_ENDPOINT_URL_<service_id>.
std::string ResolveServiceEndpoint(std::string_view service_id,
                                   std::string_view configured_endpoint, const GetEnv& getenv);

/// A loggable name for credentials: the key id's first 4 characters and "…" (plus its last 4
/// when the id is at least 16 characters long, as "AKIA…WXYZ"), " (temporary)" for session
/// credentials; never the secret or the session token. "(no access key)" for an empty id.
std::string Redact(const Credentials& credentials);

}  // namespace sluice::aws
