// DcdbSubmitter against a loopback HTTP server that answers like DCDB (research/wibl.md §4):
// one POST per accepted file, the multipart parts and headers upstream sends, retries only
// where nothing can have been accepted, and the token kept out of every error and log line.

#include "sluice/handlers/wibl/dcdb_submit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "unit/s3/loopback_server.hpp"
#include "unit/wibl_submit/csb_documents.hpp"

namespace sluice::wibl {
namespace {

using sluice::testing::CannedResponse;
using sluice::testing::LoopbackServer;
using sluice::testing::RecordedRequest;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "tok-5ecret-9f8e7d6c5b4a";
constexpr const char* kPath = "/ingest-external/upload/csb/test/geojson/";
constexpr const char* kSuccessBody =
    R"({"success": true, "message": "Submission successful.", "submissionIds": ["60ba2ee8-04ee-45e4-b723-d54ee031ea47"]})";

/// Routes spdlog's default logger into a string while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string Text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

/// A server answering from a script, the last answer repeating.
class ScriptedDcdb {
 public:
  explicit ScriptedDcdb(std::vector<CannedResponse> script)
      : script_(std::move(script)), server_([this](const RecordedRequest&) {
          const std::size_t n = served_.fetch_add(1);
          return script_[std::min(n, script_.size() - 1)];
        }) {}
  std::string UploadPoint() const { return server_.Url() + kPath; }
  std::vector<RecordedRequest> Requests() const { return server_.Requests(); }

 private:
  std::vector<CannedResponse> script_;
  std::atomic<std::size_t> served_{0};
  LoopbackServer server_;
};

CannedResponse Answer(int status, std::string content_type, std::string body) {
  CannedResponse response;
  response.status = status;
  if (!content_type.empty()) response.headers = {{"Content-Type", std::move(content_type)}};
  response.body = std::move(body);
  return response;
}

CannedResponse Json(int status, std::string body) {
  return Answer(status, "application/json", std::move(body));
}

struct Part {
  std::string headers;
  std::string content;
};

/// Splits a multipart body (RFC 7578) into its parts; empty on a malformed body.
std::vector<Part> ParseMultipart(const std::string& body, const std::string& boundary) {
  const std::string delimiter = "--" + boundary;
  std::vector<Part> parts;
  if (!body.starts_with(delimiter + "\r\n")) return {};
  std::size_t at = 0;
  while (true) {
    at += delimiter.size();
    if (body.compare(at, 4, "--\r\n") == 0 && at + 4 == body.size()) return parts;
    if (body.compare(at, 2, "\r\n") != 0) return {};
    at += 2;
    const std::size_t header_end = body.find("\r\n\r\n", at);
    const std::size_t next = body.find("\r\n" + delimiter, header_end);
    if (header_end == std::string::npos || next == std::string::npos) return {};
    parts.push_back(
        {body.substr(at, header_end - at), body.substr(header_end + 4, next - header_end - 4)});
    at = next + 2;
  }
}

std::string BoundaryOf(const std::string& content_type) {
  const std::string key = "boundary=";
  const auto at = content_type.find(key);
  return at == std::string::npos ? "" : content_type.substr(at + key.size());
}

class DcdbSubmitTest : public ::testing::Test {
 protected:
  DcdbSubmitOptions Options(const std::string& upload_point) {
    DcdbSubmitOptions options;
    options.upload_point = upload_point;
    options.token = kToken;
    options.retry = RetryPolicy{3, milliseconds(10), milliseconds(25)};
    return options;
  }

  DcdbSubmitter::Hooks Hooks() {
    DcdbSubmitter::Hooks hooks;
    hooks.sleep = [this](milliseconds delay) { sleeps_.push_back(delay); };
    hooks.random_unit = [this] { return random_unit_; };
    return hooks;
  }

  Result<DcdbReceipt> Submit(
      const DcdbSubmitOptions& options,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
      const std::function<bool()>& cancelled = nullptr) {
    DcdbSubmitter submitter(http_, options, Hooks());
    return submitter.Submit(file_, deadline, cancelled);
  }

  static void ExpectNoToken(const std::string& text) {
    EXPECT_THAT(text, Not(HasSubstr(kToken)));
    EXPECT_THAT(text, Not(HasSubstr("5ecret")));
  }

  HttpClient http_;
  DcdbFile file_{"0b5c9a7e-1111-4222-8333-944455556666.json", testing::ValidDocument().dump()};
  std::vector<milliseconds> sleeps_;
  double random_unit_ = 0.5;
};

TEST_F(DcdbSubmitTest, SuccessIsOnePostWithTheTokenAndBothParts) {
  ScriptedDcdb dcdb({Json(200, kSuccessBody)});
  auto options = Options(dcdb.UploadPoint());
  options.token = std::string("  ") + kToken + "\n";  // trimmed, as upstream strips it
  const auto receipt = Submit(options);
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  EXPECT_FALSE(receipt->dry_run);
  EXPECT_EQ(receipt->attempts, 1);
  EXPECT_EQ(receipt->http_status, 200);
  EXPECT_EQ(receipt->unique_id, testing::kVesselId);
  EXPECT_EQ(receipt->message, "Submission successful.");
  EXPECT_THAT(receipt->submission_ids,
              ::testing::ElementsAre("60ba2ee8-04ee-45e4-b723-d54ee031ea47"));
  EXPECT_TRUE(sleeps_.empty());

  const auto requests = dcdb.Requests();
  ASSERT_EQ(requests.size(), 1u) << "exactly one POST per accepted submission";
  const RecordedRequest& post = requests[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.target, kPath);
  EXPECT_EQ(post.Header("x-auth-token"), kToken);
  EXPECT_EQ(post.Header("content-length"), std::to_string(post.body.size()));
  EXPECT_EQ(post.Header("expect"), "");
  const std::string content_type = post.Header("content-type");
  ASSERT_THAT(content_type, ::testing::StartsWith("multipart/form-data; boundary="));
  const std::string boundary = BoundaryOf(content_type);
  ASSERT_FALSE(boundary.empty());
  EXPECT_EQ(receipt->body_bytes, post.body.size());

  const auto parts = ParseMultipart(post.body, boundary);
  ASSERT_EQ(parts.size(), 2u) << post.body.substr(0, 400);
  EXPECT_EQ(parts[0].headers,
            "Content-Disposition: form-data; name=\"file\"; "
            "filename=\"0b5c9a7e-1111-4222-8333-944455556666.json\"");
  EXPECT_EQ(parts[0].content, file_.geojson);
  EXPECT_EQ(parts[1].headers, "Content-Disposition: form-data; name=\"metadataInput\"");
  EXPECT_EQ(parts[1].content,
            std::string("{\n    \"uniqueID\": \"") + testing::kVesselId + "\"\n}");
}

TEST_F(DcdbSubmitTest, SuccessFalseIsARefusalAndIsNotRetried) {
  ScriptedDcdb dcdb({Json(200, R"({"success": false, "message": "Invalid uniqueID."})")});
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(receipt.error().message, HasSubstr("Invalid uniqueID."));
  EXPECT_THAT(receipt.error().context, HasSubstr("POST http://127.0.0.1:"));
  EXPECT_EQ(dcdb.Requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(DcdbSubmitTest, SuccessMustBeTheBooleanTrue) {
  for (const char* body : {R"({"success": "true"})", R"({"success": 1})", R"({"message": "ok"})",
                           R"({"success": null})"}) {
    ScriptedDcdb dcdb({Json(200, body)});
    const auto receipt = Submit(Options(dcdb.UploadPoint()));
    ASSERT_FALSE(receipt) << body;
    EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument) << body;
    EXPECT_EQ(dcdb.Requests().size(), 1u) << body;
  }
}

TEST_F(DcdbSubmitTest, ServerErrorIsRetriedWithFullJitterUntilSuccess) {
  ScriptedDcdb dcdb({Json(500, R"({"error": "busy"})"), Json(503, ""), Json(200, kSuccessBody)});
  random_unit_ = 0.5;
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  EXPECT_EQ(receipt->attempts, 3);
  EXPECT_EQ(dcdb.Requests().size(), 3u);
  // Steps 10 ms then 20 ms (cap 25 ms); full jitter at 0.5 gives half of each.
  EXPECT_THAT(sleeps_, ::testing::ElementsAre(milliseconds(5), milliseconds(10)));
  // Every attempt sends the same body.
  const auto requests = dcdb.Requests();
  EXPECT_EQ(requests[0].body, requests[2].body);
}

TEST_F(DcdbSubmitTest, FullJitterSpansZeroToTheCappedStep) {
  ScriptedDcdb dcdb({Json(502, "")});
  auto options = Options(dcdb.UploadPoint());
  options.retry.max_attempts = 5;
  random_unit_ = 0.0;
  ASSERT_FALSE(Submit(options));
  EXPECT_THAT(sleeps_, ::testing::Each(milliseconds(0)));
  sleeps_.clear();
  random_unit_ = 0.9999;
  ASSERT_FALSE(Submit(options));
  // Steps 10, 20, 40→25, 80→25.
  EXPECT_THAT(sleeps_, ::testing::ElementsAre(milliseconds(9), milliseconds(19), milliseconds(24),
                                              milliseconds(24)));
}

TEST_F(DcdbSubmitTest, ServerErrorsUntilAttemptsRunOutAreTransient) {
  ScriptedDcdb dcdb({Json(503, "Service Unavailable")});
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Transient);
  EXPECT_TRUE(IsRetryable(receipt.error().code));
  EXPECT_THAT(receipt.error().message, HasSubstr("HTTP 503"));
  EXPECT_THAT(receipt.error().message, HasSubstr("after 3 attempts"));
  EXPECT_EQ(dcdb.Requests().size(), 3u);
  EXPECT_EQ(sleeps_.size(), 2u);
}

TEST_F(DcdbSubmitTest, BadRequestIsNotRetried) {
  ScriptedDcdb dcdb({Json(400, R"({"success": false, "message": "metadataInput missing"})")});
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(IsRetryable(receipt.error().code));
  EXPECT_THAT(receipt.error().message, HasSubstr("HTTP 400"));
  EXPECT_THAT(receipt.error().message, HasSubstr("metadataInput missing"));
  EXPECT_EQ(dcdb.Requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(DcdbSubmitTest, RefusedTokenIsPermissionDeniedAndTooManyRequestsIsThrottled) {
  {
    ScriptedDcdb dcdb({Json(401, R"({"success": false, "message": "bad token"})")});
    const auto receipt = Submit(Options(dcdb.UploadPoint()));
    ASSERT_FALSE(receipt);
    EXPECT_EQ(receipt.error().code, ErrorCode::PermissionDenied);
    EXPECT_EQ(dcdb.Requests().size(), 1u);
  }
  {
    ScriptedDcdb dcdb({Json(429, "")});
    const auto receipt = Submit(Options(dcdb.UploadPoint()));
    ASSERT_FALSE(receipt);
    EXPECT_EQ(receipt.error().code, ErrorCode::Throttled);
    EXPECT_EQ(dcdb.Requests().size(), 1u) << "4xx is never re-sent within one submission";
  }
}

TEST_F(DcdbSubmitTest, NonJsonSuccessBodyIsCorruptAndNotRetried) {
  ScriptedDcdb dcdb({Answer(200, "text/html", "<html>ok</html>")});
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(receipt.error().message, HasSubstr("<html>ok</html>"));
  EXPECT_EQ(dcdb.Requests().size(), 1u) << "the upload may have been accepted: never re-sent";
}

TEST_F(DcdbSubmitTest, DroppedConnectionIsRetried) {
  CannedResponse reset;
  reset.reset = true;
  ScriptedDcdb dcdb({reset, Json(200, kSuccessBody)});
  const auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  EXPECT_EQ(receipt->attempts, 2);
  EXPECT_EQ(dcdb.Requests().size(), 2u);
}

TEST_F(DcdbSubmitTest, RefusedConnectionIsTransientAfterEveryAttempt) {
  std::string upload_point;
  {
    LoopbackServer closed([](const RecordedRequest&) { return CannedResponse{}; });
    upload_point = closed.Url() + kPath;
  }  // the port is closed now
  const auto receipt = Submit(Options(upload_point));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Transient) << receipt.error().ToString();
  EXPECT_EQ(sleeps_.size(), 2u);
}

TEST_F(DcdbSubmitTest, NoRetryWhoseDelayWouldPassTheDeadline) {
  ScriptedDcdb dcdb({Json(500, "")});
  auto options = Options(dcdb.UploadPoint());
  options.retry = RetryPolicy{5, std::chrono::hours(1), std::chrono::hours(1)};
  const auto receipt = Submit(options, std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Transient);
  EXPECT_THAT(receipt.error().message, HasSubstr("no time left"));
  EXPECT_EQ(dcdb.Requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(DcdbSubmitTest, CancelledBeforeSendingPostsNothing) {
  ScriptedDcdb dcdb({Json(200, kSuccessBody)});
  const auto receipt = Submit(Options(dcdb.UploadPoint()),
                              std::chrono::steady_clock::time_point::max(), [] { return true; });
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(dcdb.Requests().empty());
}

TEST_F(DcdbSubmitTest, DryRunPostsNothing) {
  ScriptedDcdb dcdb({Json(200, kSuccessBody)});
  LogCapture log;
  auto options = Options(dcdb.UploadPoint());
  options.dry_run = true;
  auto receipt = Submit(options);
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  EXPECT_TRUE(receipt->dry_run);
  EXPECT_EQ(receipt->attempts, 0);
  EXPECT_EQ(receipt->unique_id, testing::kVesselId);
  EXPECT_GT(receipt->body_bytes, file_.geojson.size());
  EXPECT_TRUE(dcdb.Requests().empty());
  EXPECT_THAT(log.Text(), HasSubstr("dry run"));
  ExpectNoToken(log.Text());

  // Neither an upload point nor a token is needed for a dry run.
  options.upload_point.clear();
  options.token.clear();
  receipt = Submit(options);
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  EXPECT_TRUE(dcdb.Requests().empty());
}

TEST_F(DcdbSubmitTest, TokenNeverAppearsInErrorsOrLogs) {
  // A server that quotes the token back (as a misconfigured proxy or a debug page might).
  const std::string echo =
      std::string(R"({"success": false, "message": "token )") + kToken + R"( is not valid"})";
  LogCapture log;
  std::vector<std::string> errors;
  for (const std::vector<CannedResponse>& script :
       {std::vector<CannedResponse>{Json(500, echo), Json(500, echo), Json(500, echo)},
        std::vector<CannedResponse>{Json(400, echo)}, std::vector<CannedResponse>{Json(403, echo)},
        std::vector<CannedResponse>{Json(200, echo)},
        std::vector<CannedResponse>{Answer(200, "", std::string("<p>") + kToken)}}) {
    ScriptedDcdb dcdb(script);
    const auto receipt = Submit(Options(dcdb.UploadPoint()));
    ASSERT_FALSE(receipt);
    errors.push_back(receipt.error().ToString());
    EXPECT_EQ(dcdb.Requests().back().Header("x-auth-token"), kToken);
  }
  // A successful submission's log line.
  ScriptedDcdb dcdb({Json(200, kSuccessBody)});
  ASSERT_TRUE(Submit(Options(dcdb.UploadPoint())));

  for (const std::string& error : errors) {
    ExpectNoToken(error);
    EXPECT_THAT(error, HasSubstr("***")) << error;
  }
  const std::string text = log.Text();
  EXPECT_THAT(text, HasSubstr("retrying"));
  EXPECT_THAT(text, HasSubstr("DCDB accepted"));
  ExpectNoToken(text);
}

TEST_F(DcdbSubmitTest, BadOptionsAreRefusedWithoutQuotingTheToken) {
  auto options = Options("ftp://example.org/upload");
  auto receipt = Submit(options);
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(receipt.error().message, HasSubstr("upload_point"));

  options = Options("http://127.0.0.1:9/");
  options.token = std::string(kToken) + "\r\nX-Injected: 1";
  receipt = Submit(options);
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument);
  ExpectNoToken(receipt.error().ToString());

  options.token = "   ";
  EXPECT_FALSE(DcdbSubmitter::CheckOptions(options));
  options.token = kToken;
  options.retry.max_attempts = 0;
  EXPECT_FALSE(DcdbSubmitter::CheckOptions(options));
}

TEST_F(DcdbSubmitTest, FileThatIsNotJsonOrNamesNoVesselIsNotSent) {
  ScriptedDcdb dcdb({Json(200, kSuccessBody)});
  file_.geojson = "{not json";
  auto receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::Corrupt);
  file_.geojson = R"({"type": "FeatureCollection", "properties": {}, "features": []})";
  receipt = Submit(Options(dcdb.UploadPoint()));
  ASSERT_FALSE(receipt);
  EXPECT_EQ(receipt.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(dcdb.Requests().empty());
}

TEST(DcdbUniqueId, ProviderPrefixIsAddedOnlyWhenMissing) {
  const nlohmann::json document = testing::ValidDocument();
  EXPECT_EQ(DcdbUniqueId(document, "").value(), testing::kVesselId);
  EXPECT_EQ(DcdbUniqueId(document, "EXNODE").value(), testing::kVesselId);
  EXPECT_EQ(DcdbUniqueId(document, "UNHJHC").value(), std::string("UNHJHC-") + testing::kVesselId);
  // Upstream tests for a substring, not a prefix (research §4).
  EXPECT_EQ(DcdbUniqueId(document, "NODE").value(), testing::kVesselId);

  nlohmann::json old_convention = {
      {"properties", {{"platform", {{"uniqueID", "SEAKEEPERS-Mokimak"}}}}}};
  EXPECT_EQ(DcdbUniqueId(old_convention, "UNHJHC").value(), "UNHJHC-SEAKEEPERS-Mokimak");
  const auto missing = DcdbUniqueId(nlohmann::json::object(), "UNHJHC");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidArgument);
}

TEST(DcdbMultipart, FileNameQuotesAreEncoded) {
  const MultipartBody body = BuildDcdbMultipart("a\"b\r\n.json", "{}", "N-1", "XYZ");
  EXPECT_EQ(body.content_type, "multipart/form-data; boundary=XYZ");
  EXPECT_EQ(body.body,
            "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a%22b%0D%0A.json\""
            "\r\n\r\n{}\r\n--XYZ\r\nContent-Disposition: form-data; name=\"metadataInput\"\r\n\r\n"
            "{\n    \"uniqueID\": \"N-1\"\n}\r\n--XYZ--\r\n");
}

}  // namespace
}  // namespace sluice::wibl
