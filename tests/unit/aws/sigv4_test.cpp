#include "sluice/aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::aws {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const std::filesystem::path kVectors =
    std::filesystem::path(SLUICE_SHARED_DIR) / "data" / "sigv4" / "vectors.json";
constexpr std::size_t kVectorCount = 28;

/// "20261121T091530Z" -> time point (UTC).
system_clock::time_point ParseAmzDate(const std::string& text) {
  using namespace std::chrono;
  const auto number = [&](std::size_t pos, std::size_t len) {
    return std::stoi(text.substr(pos, len));
  };
  const year_month_day ymd{year{number(0, 4)}, month{static_cast<unsigned>(number(4, 2))},
                           day{static_cast<unsigned>(number(6, 2))}};
  return sys_days{ymd} + hours{number(9, 2)} + minutes{number(11, 2)} + seconds{number(13, 2)};
}

std::string Base64Decode(const std::string& text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const auto index = kAlphabet.find(c);
    if (index == std::string_view::npos) continue;
    bits = (bits << 6) | static_cast<unsigned>(index);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFFu));
    }
  }
  return out;
}

std::string OrEmpty(const nlohmann::json& value) {
  return value.is_null() ? std::string() : value.get<std::string>();
}

nlohmann::json LoadVectors() {
  std::ifstream in(kVectors);
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

Credentials CredentialsOf(const nlohmann::json& vector) {
  const auto& c = vector.at("credentials");
  return Credentials{c.at("access_key_id").get<std::string>(),
                     c.at("secret_access_key").get<std::string>(), OrEmpty(c.at("session_token")),
                     std::nullopt};
}

/// The vectors, or one null placeholder when the file is absent (so the suite reports a skip).
std::vector<nlohmann::json> VectorsOrPlaceholder() {
  const nlohmann::json vectors = LoadVectors();
  if (!vectors.is_array()) return {nlohmann::json()};
  return std::vector<nlohmann::json>(vectors.begin(), vectors.end());
}

std::string VectorName(const testing::TestParamInfo<nlohmann::json>& info) {
  if (info.param.is_null()) return "missing";
  std::string name = info.param.at("name").get<std::string>();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class SigV4Vector : public testing::TestWithParam<nlohmann::json> {};

TEST(SigV4Vectors, AllTwentyEightArePresent) {
  if (!std::filesystem::exists(kVectors)) GTEST_SKIP() << "no SigV4 vectors at " << kVectors;
  const nlohmann::json vectors = LoadVectors();
  ASSERT_TRUE(vectors.is_array());
  EXPECT_EQ(vectors.size(), kVectorCount);
}

// Every vector botocore signed must come out byte for byte: the four headers of header signing,
// or the whole URL of query signing.
TEST_P(SigV4Vector, ReproducesBotocoreByteForByte) {
  const nlohmann::json& vector = GetParam();
  if (vector.is_null()) GTEST_SKIP() << "no SigV4 vectors at " << kVectors;
  const auto& request = vector.at("request");
  const auto& expected = vector.at("expected");
  const auto time = ParseAmzDate(vector.at("time").get<std::string>());
  const std::string region = vector.at("region").get<std::string>();
  const std::string service = vector.at("service").get<std::string>();
  const Credentials credentials = CredentialsOf(vector);

  if (vector.at("signing") == "query") {
    const auto url = PresignUrl(request.at("method").get<std::string>(),
                                request.at("url").get<std::string>(), credentials, region, service,
                                seconds(vector.at("expires_seconds").get<int>()), time);
    ASSERT_TRUE(url.has_value()) << url.error().ToString();
    EXPECT_EQ(*url, expected.at("url").get<std::string>());
    return;
  }

  ASSERT_EQ(vector.at("signing"), "header");
  SigningRequest signing;
  signing.method = request.at("method").get<std::string>();
  signing.url = request.at("url").get<std::string>();
  for (const auto& [header, value] : request.at("headers").items()) {
    signing.headers.emplace_back(header, value.get<std::string>());
  }
  const std::string body = Base64Decode(request.at("body_base64").get<std::string>());
  signing.body = body;
  // The vector records which payload hash botocore chose for S3 (UNSIGNED-PAYLOAD for some parts
  // over HTTPS); otherwise the signer hashes the body itself.
  if (OrEmpty(expected.at("x-amz-content-sha256")) == "UNSIGNED-PAYLOAD")
    signing.payload_hash = "UNSIGNED-PAYLOAD";
  const auto signed_headers = SignRequest(signing, credentials, region, service, time);
  ASSERT_TRUE(signed_headers.has_value()) << signed_headers.error().ToString();
  EXPECT_EQ(signed_headers->authorization, expected.at("authorization").get<std::string>());
  EXPECT_EQ(signed_headers->x_amz_date, expected.at("x-amz-date").get<std::string>());
  EXPECT_EQ(signed_headers->x_amz_content_sha256, OrEmpty(expected.at("x-amz-content-sha256")));
  EXPECT_EQ(signed_headers->x_amz_security_token, OrEmpty(expected.at("x-amz-security-token")));
}

INSTANTIATE_TEST_SUITE_P(Botocore, SigV4Vector, testing::ValuesIn(VectorsOrPlaceholder()),
                         VectorName);

// AWS General Reference, "Example: GET request" (the get-vanilla case of the SigV4 test suite).
TEST(SignRequest, MatchesTheAwsDocumentationExample) {
  SigningRequest request;
  request.method = "GET";
  request.url = "https://example.amazonaws.com/";
  const Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "",
                                std::nullopt};
  const auto result =
      SignRequest(request, credentials, "us-east-1", "service", ParseAmzDate("20150830T123600Z"));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(result->x_amz_content_sha256, "");
}

TEST(SignRequest, IgnoresCallerCopiesOfTheHeadersItOwns) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  SigningRequest plain;
  plain.method = "GET";
  plain.url = "http://127.0.0.1:7480/bucket/k";
  SigningRequest noisy = plain;
  noisy.headers = {
      {"Authorization", "old"}, {"X-Amz-Date", "19700101T000000Z"}, {"User-Agent", "curl"}};
  const auto time = ParseAmzDate("20261121T091530Z");
  const auto a = SignRequest(plain, credentials, "us-east-1", "s3", time);
  const auto b = SignRequest(noisy, credentials, "us-east-1", "s3", time);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->authorization, b->authorization);
}

TEST(SignRequest, RepeatedHeadersAreJoinedWithCommas) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  SigningRequest twice;
  twice.method = "GET";
  twice.url = "https://example.amazonaws.com/";
  twice.headers = {{"X-Amz-Meta-A", "1"}, {"x-amz-meta-a", " 2 "}};
  SigningRequest joined = twice;
  joined.headers = {{"x-amz-meta-a", "1,2"}};
  const auto a = SignRequest(twice, credentials, "us-east-1", "service", time);
  const auto b = SignRequest(joined, credentials, "us-east-1", "service", time);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->authorization, b->authorization);
  EXPECT_NE(a->authorization.find("SignedHeaders=host;x-amz-date;x-amz-meta-a,"),
            std::string::npos);
}

TEST(SignRequest, QueryEscapesAreCanonicalisedWhateverTheirCase) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  SigningRequest lower;
  lower.method = "GET";
  lower.url = "http://127.0.0.1:7480/bucket?prefix=a%2fb&list-type=2";
  SigningRequest upper = lower;
  upper.url = "http://127.0.0.1:7480/bucket?list-type=2&prefix=a%2Fb";
  const auto a = SignRequest(lower, credentials, "us-east-1", "s3", time);
  const auto b = SignRequest(upper, credentials, "us-east-1", "s3", time);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->authorization, b->authorization);
}

TEST(SignRequest, DefaultPortsAreLeftOutOfTheHostHeader) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  SigningRequest with_port;
  with_port.method = "GET";
  with_port.url = "https://Example.amazonaws.com:443/";
  SigningRequest without = with_port;
  without.url = "https://example.amazonaws.com/";
  SigningRequest other_port = with_port;
  other_port.url = "https://example.amazonaws.com:8443/";
  const auto a = SignRequest(with_port, credentials, "us-east-1", "service", time);
  const auto b = SignRequest(without, credentials, "us-east-1", "service", time);
  const auto c = SignRequest(other_port, credentials, "us-east-1", "service", time);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->authorization, b->authorization);
  EXPECT_NE(a->authorization, c->authorization);
}

TEST(SignRequest, RejectsUrlsAndInputsItCannotSign) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  SigningRequest request;
  request.method = "GET";
  for (const char* url : {"example.com/x", "ftp://example.com/x", "http:///x", "http://h/a b",
                          "http://user:pw@h/x", "http://h:x/", "http://h/?a=%zz"}) {
    request.url = url;
    const auto result = SignRequest(request, credentials, "us-east-1", "s3", time);
    ASSERT_FALSE(result.has_value()) << url;
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument) << url;
    EXPECT_EQ(result.error().ToString().find("pw"), std::string::npos);
  }
  request.url = "http://h/x";
  EXPECT_FALSE(SignRequest(request, Credentials{}, "us-east-1", "s3", time).has_value());
  EXPECT_FALSE(SignRequest(request, credentials, "", "s3", time).has_value());
  request.method.clear();
  EXPECT_FALSE(SignRequest(request, credentials, "us-east-1", "s3", time).has_value());
}

TEST(SignRequest, ErrorsNeverQuoteTheQueryOrTheSecret) {
  const Credentials credentials{"AKIDEXAMPLE", "topsecret", "", std::nullopt};
  SigningRequest request;
  request.method = "GET";
  request.url = "http://h/x?X-Amz-Security-Token=tok%zz";
  const auto result = SignRequest(request, credentials, "us-east-1", "s3", system_clock::now());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().ToString().find("tok"), std::string::npos);
  EXPECT_EQ(result.error().ToString().find("topsecret"), std::string::npos);
}

TEST(SignRequest, S3PathsMustBeCanonicallyEncoded) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  SigningRequest request;
  request.method = "GET";
  for (const char* path : {"/bucket/a(b)", "/bucket/c%2bd", "/bucket/x=y", "/bucket/%zz"}) {
    request.url = std::string("http://127.0.0.1:7480") + path;
    const auto result = SignRequest(request, credentials, "us-east-1", "s3", time);
    ASSERT_FALSE(result.has_value()) << path;
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument) << path;
    EXPECT_FALSE(PresignUrl("GET", request.url, credentials, "us-east-1", "s3", seconds(60), time)
                     .has_value());
  }
  // The same raw characters are fine for other services, whose paths are encoded again.
  request.url = "https://example.amazonaws.com/a(b)";
  EXPECT_TRUE(SignRequest(request, credentials, "us-east-1", "service", time).has_value());
  // An encoded slash inside a key is canonical and is signed as sent.
  request.url = "http://127.0.0.1:7480/bucket/a%2Fb";
  EXPECT_TRUE(SignRequest(request, credentials, "us-east-1", "s3", time).has_value());
}

TEST(SignRequest, OnlyNonS3PathsAreNormalised) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  const auto sign = [&](const char* url, const char* service) {
    SigningRequest request;
    request.method = "GET";
    request.url = url;
    return SignRequest(request, credentials, "us-east-1", service, time).value().authorization;
  };
  EXPECT_EQ(sign("https://h/a/./b/../c//d", "execute-api"), sign("https://h/a/c/d", "execute-api"));
  EXPECT_NE(sign("https://h/bucket/a//b", "s3"), sign("https://h/bucket/a/b", "s3"));
  EXPECT_NE(sign("https://h/bucket/./b", "s3"), sign("https://h/bucket/b", "s3"));
  EXPECT_EQ(sign("https://h", "s3"), sign("https://h/", "s3"));
}

TEST(PresignUrl, AcceptsOneSecondToSevenDays) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto time = ParseAmzDate("20261121T091530Z");
  const std::string url = "https://bucket.s3.amazonaws.com/k";
  for (const auto expires : {seconds(1), seconds(604800)}) {
    const auto result = PresignUrl("GET", url, credentials, "us-east-1", "s3", expires, time);
    ASSERT_TRUE(result.has_value()) << expires.count();
    EXPECT_NE(result->find("X-Amz-Expires=" + std::to_string(expires.count()) + "&"),
              std::string::npos);
  }
  for (const auto expires : {seconds(0), seconds(-5), seconds(604801)}) {
    const auto result = PresignUrl("GET", url, credentials, "us-east-1", "s3", expires, time);
    ASSERT_FALSE(result.has_value()) << expires.count();
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
  }
}

TEST(PresignUrl, KeepsTheOperationsParametersFirstAndTheSignatureLast) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto result = PresignUrl(
      "GET", "https://bucket.s3.amazonaws.com/k?versionId=v1&response-content-type=a%2Fb",
      credentials, "us-east-1", "s3", seconds(60), ParseAmzDate("20261121T091530Z"));
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(
      result->rfind("https://bucket.s3.amazonaws.com/k?versionId=v1&response-content-type=a%2Fb&"
                    "X-Amz-Algorithm=AWS4-HMAC-SHA256&",
                    0),
      0u);
  const auto signature = result->find("&X-Amz-Signature=");
  ASSERT_NE(signature, std::string::npos);
  EXPECT_EQ(result->size() - signature, std::string("&X-Amz-Signature=").size() + 64);
}

TEST(PresignUrl, RefusesAUrlThatIsAlreadyPresigned) {
  const Credentials credentials{"AKIDEXAMPLE", "secret", "", std::nullopt};
  const auto result = PresignUrl("GET", "https://b.s3.amazonaws.com/k?X-Amz-Signature=00",
                                 credentials, "us-east-1", "s3", seconds(60), system_clock::now());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
}

TEST(UriEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b+c", false), "a%20b%2Bc");
  EXPECT_EQ(UriEncode("!'()*", false), "%21%27%28%29%2A");
  EXPECT_EQ(UriEncode("=&?#%", false), "%3D%26%3F%23%25");
}

TEST(UriEncode, SlashIsKeptOnlyWhenAsked) {
  EXPECT_EQ(UriEncode("a/b", true), "a/b");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
}

TEST(UriEncode, EncodesUtf8BytesWithUpperCaseHex) {
  EXPECT_EQ(UriEncode("caf\xC3\xA9", true), "caf%C3%A9");
  EXPECT_EQ(UriEncode(std::string("\x00\xff", 2), false), "%00%FF");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(Sha256Hex, MatchesFips180Examples) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sluice::aws
