#include "sluice/aws/credentials.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>  // mkdtemp

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::aws {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

constexpr std::string_view kNoCredentials =
    "no AWS credentials found: tried environment, shared files (~/.aws/credentials), container, "
    "IMDS";

/// A fake environment: only what the test puts in it exists.
GetEnv FakeEnv(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto it = variables.find(std::string(name));
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

/// A fake network: records every request and answers through `handler`. The default handler
/// behaves like a machine off EC2 and outside a container: nothing answers.
class FakeNetwork {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  explicit FakeNetwork(Handler handler = Unreachable) : handler_(std::move(handler)) {}

  HttpFetch Fetch() {
    return [this](const HttpRequest& request) {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      return handler_(request);
    };
  }

  std::vector<HttpRequest> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  void SetHandler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  static Result<HttpResponse> Unreachable(const HttpRequest& request) {
    return Fail(ErrorCode::Timeout, "connect timed out (fake)", request.url);
  }

 private:
  std::mutex mutex_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
};

HttpResponse Ok200(std::string body) { return HttpResponse{200, {}, std::move(body)}; }

std::string CredentialsJson(std::string_view key_id, std::string_view expiration) {
  return std::string(R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":")") +
         std::string(key_id) +
         R"(","SecretAccessKey":"roleSECRET","Token":"roleTOKEN","Expiration":")" +
         std::string(expiration) + "\"}";
}

std::optional<std::string> HeaderOf(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header == name) return value;
  }
  return std::nullopt;
}

/// A temporary HOME-like folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-aws-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Write(const std::string& name, std::string_view text) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Options that can never reach a real network or the real environment.
CredentialOptions Offline(std::map<std::string, std::string> env, FakeNetwork& network) {
  CredentialOptions options;
  options.getenv = FakeEnv(std::move(env));
  options.fetch = network.Fetch();
  return options;
}

// ---- the chain's order ------------------------------------------------------------------------

TEST(CredentialsProvider, EnvironmentComesBeforeProfileContainerAndImds) {
  TempDir home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fileSECRET\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()},
               {"AWS_ACCESS_KEY_ID", "AKIDENV"},
               {"AWS_SECRET_ACCESS_KEY", "envSECRET"},
               {"AWS_SESSION_TOKEN", "envTOKEN"},
               {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}},
              network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDENV");
  EXPECT_EQ(credentials->secret_access_key, "envSECRET");
  EXPECT_EQ(credentials->session_token, "envTOKEN");
  EXPECT_FALSE(credentials->expiration.has_value());
  EXPECT_EQ(provider.SourceName(), "environment");
  EXPECT_TRUE(network.Requests().empty());
}

TEST(CredentialsProvider, SharedCredentialsFileComesBeforeContainer) {
  TempDir home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fileSECRET\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()},
               {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}},
              network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDFILE");
  EXPECT_EQ(provider.SourceName(), "profile default");
  EXPECT_TRUE(network.Requests().empty());
}

TEST(CredentialsProvider, ContainerComesBeforeImds) {
  FakeNetwork network([](const HttpRequest& request) -> Result<HttpResponse> {
    if (request.url.starts_with("http://169.254.170.2/"))
      return Ok200(CredentialsJson("ASIACONTAINER", "2026-11-21T10:15:30Z"));
    return FakeNetwork::Unreachable(request);
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(provider.SourceName(), "container");
  ASSERT_EQ(network.Requests().size(), 1u);
}

TEST(CredentialsProvider, NothingAnywhereIsPermissionDeniedNamingEverySourceTried) {
  TempDir empty_home;
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"HOME", empty_home.path().string()}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(credentials.error().message, kNoCredentials);
  EXPECT_EQ(provider.SourceName(), "");
  // Only IMDS was asked (no container variables), and it did not answer the token request.
  ASSERT_EQ(network.Requests().size(), 1u);
  EXPECT_EQ(network.Requests()[0].method, "PUT");
}

TEST(CredentialsProvider, ImdsIsNotAskedWhenDisabled) {
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().message, kNoCredentials);
  EXPECT_TRUE(network.Requests().empty());
}

// ---- environment ------------------------------------------------------------------------------

TEST(CredentialsProvider, KeyIdWithoutSecretIsAClearErrorNotAFallThrough) {
  TempDir home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fileSECRET\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()}, {"AWS_ACCESS_KEY_ID", "AKIDENV"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(
      credentials.error().message.find("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
      std::string::npos);
  EXPECT_TRUE(network.Requests().empty());
}

TEST(CredentialsProvider, SecretWithoutKeyIdIsAnErrorThatDoesNotQuoteTheSecret) {
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"AWS_SECRET_ACCESS_KEY", "envSECRET"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(credentials.error().message.find("AWS_ACCESS_KEY_ID is not"), std::string::npos);
  EXPECT_EQ(credentials.error().ToString().find("envSECRET"), std::string::npos);
}

TEST(CredentialsProvider, EmptyEnvironmentVariablesCountAsUnset) {
  TempDir home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fileSECRET\n");
  FakeNetwork network;
  CredentialsProvider provider(Offline(
      {{"HOME", home.path().string()}, {"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}},
      network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(provider.SourceName(), "profile default");
}

// ---- shared files -----------------------------------------------------------------------------

TEST(CredentialsProvider, AwsProfileSelectsTheSectionOfTheCredentialsFile) {
  TempDir dir;
  const auto file = dir.Write(
      "creds.ini",
      "# shared\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n\n"
      "[lab]\n; the lab account\nAWS_Access_Key_ID=AKIDLAB\naws_secret_access_key= labSECRET \n"
      "aws_session_token = labTOKEN\nsome_future_key = ignored\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "lab"}}, network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDLAB");
  EXPECT_EQ(credentials->secret_access_key, "labSECRET");
  EXPECT_EQ(credentials->session_token, "labTOKEN");
  EXPECT_EQ(provider.SourceName(), "profile lab");
}

TEST(CredentialsProvider, ConfigFileNamesProfilesWithThePrefixExceptDefault) {
  TempDir dir;
  const auto config =
      dir.Write("config",
                "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n"
                "[lab]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = w\n"
                "[profile lab]\naws_access_key_id = AKIDLAB\naws_secret_access_key = l\n");
  FakeNetwork network;
  const std::string missing = (dir.path() / "no-such-credentials").string();
  {
    CredentialsProvider provider(Offline({{"AWS_CONFIG_FILE", config},
                                          {"AWS_SHARED_CREDENTIALS_FILE", missing},
                                          {"AWS_PROFILE", "lab"}},
                                         network));
    const auto credentials = provider.Get();
    ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
    EXPECT_EQ(credentials->access_key_id, "AKIDLAB");
  }
  {
    CredentialsProvider provider(
        Offline({{"AWS_CONFIG_FILE", config}, {"AWS_SHARED_CREDENTIALS_FILE", missing}}, network));
    const auto credentials = provider.Get();
    ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
    EXPECT_EQ(credentials->access_key_id, "AKIDDEFAULT");
    EXPECT_EQ(provider.SourceName(), "profile default");
  }
}

TEST(CredentialsProvider, CredentialsFileWinsOverConfigFileForTheSameProfile) {
  TempDir home;
  home.Write(".aws/credentials",
             "[lab]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = c\n");
  home.Write(".aws/config",
             "[profile lab]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = c\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()}, {"AWS_PROFILE", "lab"}}, network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDCREDS");
}

TEST(CredentialsProvider, ConfiguredProfileBeatsAwsProfileAndTheEnvironmentKeys) {
  TempDir home;
  home.Write(".aws/credentials",
             "[lab]\naws_access_key_id = AKIDLAB\naws_secret_access_key = l\n"
             "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = o\n");
  FakeNetwork network;
  CredentialOptions options = Offline({{"HOME", home.path().string()},
                                       {"AWS_PROFILE", "other"},
                                       {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                       {"AWS_SECRET_ACCESS_KEY", "envSECRET"}},
                                      network);
  options.profile = "lab";
  CredentialsProvider provider(std::move(options));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDLAB");
  EXPECT_EQ(provider.SourceName(), "profile lab");
}

TEST(CredentialsProvider, AwsProfileDoesNotOverrideEnvironmentKeys) {
  TempDir home;
  home.Write(".aws/credentials", "[lab]\naws_access_key_id = AKIDLAB\naws_secret_access_key = l\n");
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"HOME", home.path().string()},
                                        {"AWS_PROFILE", "lab"},
                                        {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                        {"AWS_SECRET_ACCESS_KEY", "envSECRET"}},
                                       network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(provider.SourceName(), "environment");
}

TEST(CredentialsProvider, UnknownNamedProfileIsAnErrorNamingItAndTheFiles) {
  TempDir home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = d\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()}, {"AWS_PROFILE", "typo"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(credentials.error().message.find("'typo' not found"), std::string::npos);
  EXPECT_NE(credentials.error().message.find(".aws/credentials"), std::string::npos);
  EXPECT_TRUE(network.Requests().empty());
}

TEST(CredentialsProvider, ProfileWithOnlyAKeyIdIsAnError) {
  TempDir home;
  home.Write(".aws/credentials", "[default]\naws_access_key_id = AKIDHALF\n");
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"HOME", home.path().string()}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(credentials.error().message.find("aws_access_key_id but no aws_secret_access_key"),
            std::string::npos);
}

TEST(CredentialsProvider, ProfileThatAssumesARoleIsUnsupported) {
  TempDir home;
  home.Write(
      ".aws/config",
      "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default\n");
  FakeNetwork network;
  CredentialsProvider provider(
      Offline({{"HOME", home.path().string()}, {"AWS_PROFILE", "ops"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::Unsupported);
  EXPECT_NE(credentials.error().message.find("role_arn"), std::string::npos);
}

TEST(CredentialsProvider, ProfileWithOnlyARegionFallsThroughToTheNextSource) {
  TempDir home;
  home.Write(".aws/config", "[default]\nregion = eu-west-1\n");
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"HOME", home.path().string()}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().message, kNoCredentials);
}

TEST(CredentialsProvider, MalformedSharedFileIsAnErrorWithItsLineButNotItsText) {
  TempDir home;
  home.Write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\nfileSECRET\n");
  FakeNetwork network;
  CredentialsProvider provider(Offline({{"HOME", home.path().string()}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(credentials.error().context.find("credentials:3"), std::string::npos);
  EXPECT_EQ(credentials.error().ToString().find("fileSECRET"), std::string::npos);
}

TEST(ParseIni, ReadsSectionsKeysCommentsAndNestedSettings) {
  const auto ini = ParseIni(
      "\xEF\xBB\xBF# top comment\r\n"
      "[default]\r\n"
      "region = us-west-2\r\n"
      "s3 =\r\n"
      "    max_concurrent_requests = 20\r\n"
      "    addressing_style = path\r\n"
      "Output: json\r\n"
      "\r\n"
      "[ profile lab ]\n"
      "  ; indented comment\n"
      "  aws_access_key_id = AKIDLAB\n"
      "value_with_equals = a=b:c\n",
      "config");
  ASSERT_TRUE(ini.has_value()) << ini.error().ToString();
  ASSERT_EQ(ini->size(), 2u);
  const auto& def = ini->at("default");
  EXPECT_EQ(def.at("region"), "us-west-2");
  EXPECT_EQ(def.at("s3"), "");
  EXPECT_EQ(def.at("output"), "json");
  EXPECT_FALSE(def.contains("max_concurrent_requests"));
  const auto& lab = ini->at("profile lab");
  EXPECT_EQ(lab.at("aws_access_key_id"), "AKIDLAB");
  EXPECT_EQ(lab.at("value_with_equals"), "a=b:c");
}

TEST(ParseIni, RejectsKeysOutsideSectionsAndLinesWithoutAValue) {
  const auto before = ParseIni("key = value\n[default]\n", "f");
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().context, "f:1");
  const auto bare = ParseIni("[default]\n\njustaword\n", "f");
  ASSERT_FALSE(bare.has_value());
  EXPECT_EQ(bare.error().context, "f:3");
  EXPECT_EQ(bare.error().ToString().find("justaword"), std::string::npos);
  EXPECT_FALSE(ParseIni("[default\n", "f").has_value());
  EXPECT_FALSE(ParseIni("[]\n", "f").has_value());
}

TEST(SharedFiles, PathsComeFromTheVariablesOrHome) {
  EXPECT_EQ(SharedCredentialsPath(FakeEnv({{"HOME", "/home/u"}})), "/home/u/.aws/credentials");
  EXPECT_EQ(SharedConfigPath(FakeEnv({{"HOME", "/home/u"}})), "/home/u/.aws/config");
  EXPECT_EQ(SharedConfigPath(FakeEnv({{"HOME", "/home/u"}, {"AWS_CONFIG_FILE", "~/alt/config"}})),
            "/home/u/alt/config");
  EXPECT_EQ(SharedCredentialsPath(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"}})),
            "/etc/creds");
  EXPECT_EQ(SharedCredentialsPath(FakeEnv({})), "");
}

// ---- container --------------------------------------------------------------------------------

TEST(CredentialsProvider, ContainerRelativeUriGoesToTheEcsAgentWithTheToken) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(CredentialsJson("ASIAECS", "2026-11-21T10:15:30Z"));
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer ecsTOKEN"}},
              network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAECS");
  EXPECT_EQ(credentials->secret_access_key, "roleSECRET");
  EXPECT_EQ(credentials->session_token, "roleTOKEN");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration,
            std::chrono::sys_days{std::chrono::November / 21 / 2026} + 10h + 15min + 30s);
  const auto requests = network.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(HeaderOf(requests[0], "Authorization"), "Bearer ecsTOKEN");
  EXPECT_LE(requests[0].timeout, 2000ms);
}

TEST(CredentialsProvider, ContainerTokenFileWinsOverTheTokenVariable) {
  TempDir dir;
  const auto token_file = dir.Write("eks-token", "eksTOKEN\n");
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(CredentialsJson("ASIAEKS", "2026-11-21T10:15:30.000+00:00"));
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}},
              network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  const auto requests = network.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "http://169.254.170.23/v1/credentials");
  EXPECT_EQ(HeaderOf(requests[0], "Authorization"), "eksTOKEN");
}

TEST(CredentialsProvider, ContainerFullUriOverPlainHttpMustStayLocal) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(CredentialsJson("ASIALOCAL", "2026-11-21T10:15:30Z"));
  });
  for (const char* url : {"http://evil.example.com/creds", "http://127.0.0.1.evil.example.com/x",
                          "http://user@127.0.0.1/x", "ftp://127.0.0.1/x"}) {
    CredentialsProvider provider(Offline({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}, network));
    const auto credentials = provider.Get();
    ASSERT_FALSE(credentials.has_value()) << url;
    EXPECT_EQ(credentials.error().code, ErrorCode::InvalidArgument) << url;
  }
  EXPECT_TRUE(network.Requests().empty());
  for (const char* url : {"http://127.0.0.1:51679/creds", "http://localhost/creds",
                          "http://[::1]:80/creds", "https://creds.example.com/x"}) {
    CredentialsProvider provider(Offline({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}, network));
    EXPECT_TRUE(provider.Get().has_value()) << url;
  }
}

TEST(CredentialsProvider, ContainerServerErrorsAreRetriedThenReported) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse{503, {}, "busy"};
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::Transient);
  EXPECT_EQ(network.Requests().size(), 3u);
}

TEST(CredentialsProvider, ContainerRefusalIsPermissionDeniedWithoutRetry) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return HttpResponse{403, {}, "no"};
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::PermissionDenied);
  EXPECT_EQ(network.Requests().size(), 1u);
}

TEST(CredentialsProvider, MalformedContainerDocumentIsCorruptAndNeverQuoted) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(
        R"({"AccessKeyId":"ASIAX","SecretAccessKey":"leakedSECRET","Expiration":"tomorrow"})");
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().code, ErrorCode::Corrupt);
  EXPECT_EQ(credentials.error().ToString().find("leakedSECRET"), std::string::npos);

  network.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(R"({"SecretAccessKey":"leakedSECRET" oops)");
  });
  CredentialsProvider again(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  const auto broken = again.Get();
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code, ErrorCode::Corrupt);
  EXPECT_EQ(broken.error().ToString().find("leakedSECRET"), std::string::npos);
}

// ---- IMDSv2 -----------------------------------------------------------------------------------

/// Behaves like the EC2 instance metadata service with one role attached.
Result<HttpResponse> FakeImds(const HttpRequest& request) {
  if (request.method == "PUT" && request.url == "http://169.254.169.254/latest/api/token") {
    if (HeaderOf(request, "X-aws-ec2-metadata-token-ttl-seconds") != "21600")
      return HttpResponse{400, {}, ""};
    return Ok200("imdsSESSION");
  }
  if (HeaderOf(request, "X-aws-ec2-metadata-token") != "imdsSESSION")
    return HttpResponse{401, {}, ""};
  if (request.url == "http://169.254.169.254/latest/meta-data/iam/security-credentials/") {
    return Ok200("serratus-worker\n");
  }
  if (request.url ==
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/serratus-worker") {
    return Ok200(CredentialsJson("ASIAIMDS", "2026-11-21T15:00:00Z"));
  }
  return HttpResponse{404, {}, ""};
}

TEST(CredentialsProvider, ImdsV2AsksForASessionTokenFirstThenTheRoleThenItsCredentials) {
  FakeNetwork network(FakeImds);
  CredentialsProvider provider(Offline({}, network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS");
  EXPECT_EQ(credentials->session_token, "roleTOKEN");
  EXPECT_EQ(provider.SourceName(), "imds");

  const auto requests = network.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(HeaderOf(requests[0], "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/serratus-worker");
  for (const auto& request : requests) {
    EXPECT_LE(request.connect_timeout, 1000ms);
    EXPECT_LE(request.timeout, 2000ms);
  }
  EXPECT_EQ(HeaderOf(requests[1], "X-aws-ec2-metadata-token"), "imdsSESSION");
  EXPECT_EQ(HeaderOf(requests[2], "X-aws-ec2-metadata-token"), "imdsSESSION");
}

TEST(CredentialsProvider, ImdsWithoutAnAttachedRoleMeansNoCredentials) {
  FakeNetwork network([](const HttpRequest& request) -> Result<HttpResponse> {
    if (request.method == "PUT") return Ok200("imdsSESSION");
    return HttpResponse{404, {}, ""};
  });
  CredentialsProvider provider(Offline({}, network));
  const auto credentials = provider.Get();
  ASSERT_FALSE(credentials.has_value());
  EXPECT_EQ(credentials.error().message, kNoCredentials);
  EXPECT_EQ(network.Requests().size(), 2u);
}

TEST(CredentialsProvider, ImdsEndpointCanBeOverridden) {
  FakeNetwork network([](const HttpRequest& request) -> Result<HttpResponse> {
    if (!request.url.starts_with("http://127.0.0.1:1338/")) return HttpResponse{404, {}, ""};
    HttpRequest moved = request;
    moved.url =
        "http://169.254.169.254" + request.url.substr(std::string("http://127.0.0.1:1338").size());
    return FakeImds(moved);
  });
  CredentialsProvider provider(
      Offline({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/"}}, network));
  const auto credentials = provider.Get();
  ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "ASIAIMDS");
}

// ---- caching and refresh ----------------------------------------------------------------------

/// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<system_clock::time_point>> now =
      std::make_shared<std::atomic<system_clock::time_point>>(
          std::chrono::sys_days{std::chrono::November / 21 / 2026} + 9h);
  std::function<system_clock::time_point()> Function() const {
    return [now = now] { return now->load(); };
  }
  void Advance(std::chrono::seconds by) const { now->store(now->load() + by); }
};

TEST(CredentialsProvider, TemporaryCredentialsAreCachedUntilFiveMinutesBeforeExpiry) {
  // The role's credentials expire at 10:00; the clock starts at 09:00.
  int issued = 0;
  FakeNetwork network([&issued](const HttpRequest&) -> Result<HttpResponse> {
    ++issued;
    return Ok200(CredentialsJson("ASIA" + std::to_string(issued),
                                 issued == 1 ? "2026-11-21T10:00:00Z" : "2026-11-21T11:00:00Z"));
  });
  FakeClock clock;
  CredentialOptions options =
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network);
  options.now = clock.Function();
  CredentialsProvider provider(std::move(options));

  ASSERT_EQ(provider.Get().value().access_key_id, "ASIA1");
  clock.Advance(54min);  // 09:54, six minutes left
  ASSERT_EQ(provider.Get().value().access_key_id, "ASIA1");
  EXPECT_EQ(network.Requests().size(), 1u);
  clock.Advance(2min);  // 09:56, four minutes left: refresh
  ASSERT_EQ(provider.Get().value().access_key_id, "ASIA2");
  EXPECT_EQ(network.Requests().size(), 2u);
  EXPECT_EQ(provider.SourceName(), "container");
  ASSERT_EQ(provider.Get().value().access_key_id, "ASIA2");
  EXPECT_EQ(network.Requests().size(), 2u);
}

TEST(CredentialsProvider, FailedRefreshKeepsUnexpiredCredentialsThenFails) {
  FakeNetwork network([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok200(CredentialsJson("ASIAFIRST", "2026-11-21T10:00:00Z"));
  });
  FakeClock clock;
  CredentialOptions options =
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network);
  options.now = clock.Function();
  CredentialsProvider provider(std::move(options));
  ASSERT_TRUE(provider.Get().has_value());

  network.SetHandler([](const HttpRequest& request) -> Result<HttpResponse> {
    return Fail(ErrorCode::Transient, "connection refused (fake)", request.url);
  });
  clock.Advance(58min);  // 09:58: refresh due, fails, the old ones still work for two minutes
  const auto kept = provider.Get();
  ASSERT_TRUE(kept.has_value()) << kept.error().ToString();
  EXPECT_EQ(kept->access_key_id, "ASIAFIRST");
  clock.Advance(3min);  // 10:01: expired
  const auto expired = provider.Get();
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, ErrorCode::Transient);
  EXPECT_NE(expired.error().context.find("container"), std::string::npos);
}

TEST(CredentialsProvider, LongTermCredentialsAreNeverFetchedAgain) {
  TempDir home;
  const auto file = home.Write(
      ".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  FakeNetwork network;
  FakeClock clock;
  CredentialOptions options = Offline({{"HOME", home.path().string()}}, network);
  options.now = clock.Function();
  CredentialsProvider provider(std::move(options));
  ASSERT_TRUE(provider.Get().has_value());
  std::filesystem::remove(file);
  clock.Advance(std::chrono::hours(24 * 365));
  const auto again = provider.Get();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->access_key_id, "AKIDFILE");
}

TEST(CredentialsProvider, ConcurrentCallersShareOneFetch) {
  std::atomic<int> calls{0};
  FakeNetwork network([&calls](const HttpRequest&) -> Result<HttpResponse> {
    ++calls;
    std::this_thread::sleep_for(20ms);
    return Ok200(CredentialsJson("ASIASHARED", "2099-01-01T00:00:00Z"));
  });
  CredentialsProvider provider(
      Offline({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}, network));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const auto credentials = provider.Get();
      if (credentials && credentials->access_key_id == "ASIASHARED") ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(calls.load(), 1);
}

// ---- region and endpoint ----------------------------------------------------------------------

TEST(ResolveRegion, ConfigThenAwsRegionThenAwsDefaultRegionThenProfileThenUsEast1) {
  TempDir home;
  home.Write(".aws/config",
             "[default]\nregion = ap-southeast-2\n[profile lab]\nregion = eu-north-1\n");
  const std::string h = home.path().string();
  CredentialOptions options;
  options.region = "us-west-2";
  EXPECT_EQ(ResolveRegion(options, FakeEnv({{"HOME", h}, {"AWS_REGION", "eu-west-1"}})).value(),
            "us-west-2");
  options.region.clear();
  EXPECT_EQ(
      ResolveRegion(
          options,
          FakeEnv({{"HOME", h}, {"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "eu-west-2"}}))
          .value(),
      "eu-west-1");
  EXPECT_EQ(
      ResolveRegion(options, FakeEnv({{"HOME", h}, {"AWS_DEFAULT_REGION", "eu-west-2"}})).value(),
      "eu-west-2");
  EXPECT_EQ(ResolveRegion(options, FakeEnv({{"HOME", h}})).value(), "ap-southeast-2");
  EXPECT_EQ(ResolveRegion(options, FakeEnv({{"HOME", h}, {"AWS_PROFILE", "lab"}})).value(),
            "eu-north-1");
  options.profile = "lab";
  EXPECT_EQ(ResolveRegion(options, FakeEnv({{"HOME", h}})).value(), "eu-north-1");
  options.profile = "unknown";
  EXPECT_EQ(ResolveRegion(options, FakeEnv({{"HOME", h}})).value(), "us-east-1");
  EXPECT_EQ(ResolveRegion(CredentialOptions{}, FakeEnv({})).value(), "us-east-1");
}

TEST(ResolveRegion, UsesTheOptionsEnvironmentByDefault) {
  CredentialOptions options;
  options.getenv = FakeEnv({{"AWS_REGION", "sa-east-1"}});
  EXPECT_EQ(ResolveRegion(options).value(), "sa-east-1");
}

TEST(ResolveRegion, RejectsARegionThatCannotBeOne) {
  const auto result = ResolveRegion(CredentialOptions{}, FakeEnv({{"AWS_REGION", "us-east-1 "}}));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(result.error().message.find("AWS_REGION"), std::string::npos);
}

TEST(ResolveEndpoint, StoreEndpointThenS3VariableThenGenericVariableThenNothing) {
  const auto both = FakeEnv(
      {{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"}, {"AWS_ENDPOINT_URL", "http://generic"}});
  EXPECT_EQ(ResolveEndpoint("http://minio:9000", both), "http://minio:9000");
  EXPECT_EQ(ResolveEndpoint("", both), "http://127.0.0.1:7480");
  EXPECT_EQ(ResolveEndpoint("", FakeEnv({{"AWS_ENDPOINT_URL", "http://generic"}})),
            "http://generic");
  EXPECT_EQ(ResolveEndpoint("", FakeEnv({})), "");
}

TEST(ResolveEndpoint, IgnoreConfiguredEndpointsDropsOnlyTheEnvironment) {
  const auto env = FakeEnv({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7480"},
                            {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(ResolveEndpoint("", env), "");
  EXPECT_EQ(ResolveEndpoint("http://minio:9000", env), "http://minio:9000");
}

TEST(ResolveServiceEndpoint, ReadsTheServicesOwnVariable) {
  const auto env = FakeEnv(
      {{"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"}, {"AWS_ENDPOINT_URL_S3", "x"}});
  EXPECT_EQ(ResolveServiceEndpoint("DYNAMODB", "", env), "http://127.0.0.1:8000");
  EXPECT_EQ(ResolveServiceEndpoint("SQS", "", env), "");
}

// ---- redaction --------------------------------------------------------------------------------

TEST(Redact, ShowsOnlyTheEndsOfTheKeyIdAndNeverTheSecretOrToken) {
  Credentials long_term{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                        std::nullopt};
  EXPECT_EQ(Redact(long_term), "AKIA\u2026MPLE");
  Credentials temporary{"ASIAIOSFODNN7EXAMPLE", "secretSECRET", "tokenTOKEN", system_clock::now()};
  const std::string text = Redact(temporary);
  EXPECT_EQ(text, "ASIA\u2026MPLE (temporary)");
  EXPECT_EQ(text.find("secretSECRET"), std::string::npos);
  EXPECT_EQ(text.find("tokenTOKEN"), std::string::npos);
  EXPECT_EQ(Redact(Credentials{"AKIDEXAMPLE", "s", "", std::nullopt}), "AKID\u2026");
  EXPECT_EQ(Redact(Credentials{}), "(no access key)");
}

}  // namespace
}  // namespace sluice::aws
