#include "sluice/store/s3/s3_client.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "sluice/core/retry.hpp"
#include "sluice/store/internal.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice::s3 {
namespace {

constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

bool IsSuccess(int status) { return status >= 200 && status < 300; }

/// What to say when the server gave no <Message>: HEAD answers carry no body, and Ceph RGW
/// sends its error documents with an empty <Message>.
std::string_view DefaultMessage(std::string_view s3_code, ErrorCode code) {
  if (s3_code == "NoSuchKey") return "no such key";
  if (s3_code == "NoSuchBucket") return "no such bucket";
  if (s3_code == "NoSuchUpload") return "no such multipart upload";
  if (s3_code == "InvalidRange") return "the range is not satisfiable";
  if (s3_code == "SignatureDoesNotMatch") {
    return "the request signature does not match (check the secret access key)";
  }
  if (s3_code == "InvalidAccessKeyId") return "the access key id is unknown";
  switch (code) {
    case ErrorCode::NotFound: return "not found";
    case ErrorCode::PermissionDenied: return "access denied";
    case ErrorCode::Throttled: return "the server asks to slow down";
    case ErrorCode::Transient: return "the server failed";
    default: return "request failed";
  }
}

}  // namespace

Result<std::unique_ptr<S3Client>> S3Client::Make(S3ClientConfig config) {
  if (config.bucket.empty()) {
    return Fail(ErrorCode::InvalidArgument, "s3:// needs a bucket, e.g. s3://my-bucket/prefix");
  }
  if (!config.endpoint.empty() && !config.endpoint.starts_with("http://") &&
      !config.endpoint.starts_with("https://")) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("endpoint '{}' must start with http:// or https://",
                            UrlWithoutQuery(config.endpoint)));
  }
  if (!config.credentials) return Fail(ErrorCode::InvalidArgument, "no credentials provider");
  if (config.region.empty()) config.region = "us-east-1";
  config.max_attempts = std::max(config.max_attempts, 1);
  if (!config.sleep) config.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!config.random_unit) config.random_unit = [] { return RandomUnit(); };
  if (!config.now) config.now = [] { return std::chrono::system_clock::now(); };
  return std::unique_ptr<S3Client>(new S3Client(std::move(config)));
}

S3Client::S3Client(S3ClientConfig config) : config_(std::move(config)), http_(config_.http) {
  if (!config_.endpoint.empty()) {
    std::string endpoint = config_.endpoint;
    while (endpoint.ends_with('/')) endpoint.pop_back();
    base_url_ = endpoint + "/" + aws::UriEncode(config_.bucket, false);
  } else if (config_.bucket.find('.') != std::string::npos) {
    base_url_ = fmt::format("https://s3.{}.amazonaws.com/{}", config_.region, config_.bucket);
  } else {
    base_url_ = fmt::format("https://{}.s3.{}.amazonaws.com", config_.bucket, config_.region);
  }
}

std::string S3Client::UrlFor(std::string_view key,
                             const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string url = base_url_ + "/" + aws::UriEncode(key, true);
  char separator = '?';
  for (const auto& [name, value] : query) {
    url += separator;
    url += aws::UriEncode(name, false);
    if (!value.empty()) url += "=" + aws::UriEncode(value, false);
    separator = '&';
  }
  return url;
}

std::string S3Client::Where(std::string_view key) const {
  if (key.empty()) return config_.bucket;
  return config_.bucket + "/" + store_internal::PrintableKey(key);
}

Error S3Client::ResponseError(const S3Call& call, const HttpResponse& response) const {
  const auto document = ParseErrorDocument(response.body);
  std::string s3_code = document ? document->code : "";
  std::string message = document ? document->message : "";
  std::string request_id = document ? document->request_id : "";
  if (request_id.empty()) request_id = std::string(response.Header("x-amz-request-id").value_or(""));
  const ErrorCode code = MapS3Error(response.status, s3_code);
  if (message.empty()) message = DefaultMessage(s3_code, code);
  if (response.status == 301 || response.status == 307) {
    // A bucket in another region answers with a redirect naming it.
    const auto region = response.Header("x-amz-bucket-region");
    message = fmt::format("the bucket is in region '{}', not '{}'",
                          region.value_or("(unknown)"), config_.region);
  }
  std::string details = fmt::format("HTTP {}", response.status);
  if (!s3_code.empty()) details += " " + s3_code;
  if (!request_id.empty()) details += ", request id " + request_id;
  return Error{code, fmt::format("{} ({})", message, details),
               fmt::format("s3 {} {}", call.operation, Where(call.key))};
}

Result<HttpResponse> S3Client::Call(S3Call call, const HttpBodySink& sink) {
  const std::string context = fmt::format("s3 {} {}", call.operation, Where(call.key));
  std::optional<Error> caller_error;  // from the sink or on_head: never retried
  HttpBodySink wrapped_sink;
  if (sink) {
    wrapped_sink = [&](std::string_view chunk) -> Status {
      auto written = sink(chunk);
      if (!written) caller_error = written.error();
      return written;
    };
  }

  if (call.body_source && !call.unsigned_payload) {
    return Fail(ErrorCode::Internal, "a streamed body must be sent with UNSIGNED-PAYLOAD", context);
  }
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1 && call.before_retry) call.before_retry(call);
    auto credentials = config_.credentials();
    if (!credentials) return Fail(std::move(credentials).error().WithContext(context));

    HttpRequest request;
    request.method = call.method;
    request.url = UrlFor(call.key, call.query);
    request.body = call.body;
    request.headers = call.headers;
    if (call.body_source) {
      request.body_size_bytes = call.body_size_bytes;
      request.body_source = [&](std::uint64_t offset, std::span<char> buffer) -> Result<std::size_t> {
        auto read = call.body_source(offset, buffer);
        if (!read) caller_error = read.error();
        return read;
      };
    }
    if (call.on_head) {
      request.on_head = [&](const HttpResponse& head) -> Status {
        auto accepted = call.on_head(head);
        if (!accepted) caller_error = accepted.error();
        return accepted;
      };
    }
    aws::SigningRequest signing;
    signing.method = call.method;
    signing.url = request.url;
    signing.headers = call.headers;
    if (call.unsigned_payload) {
      signing.payload_hash = std::string(kUnsignedPayload);
    } else {
      signing.body = call.body;
    }
    auto signed_headers = aws::SignRequest(signing, *credentials, config_.region, "s3", config_.now());
    if (!signed_headers) return Fail(std::move(signed_headers).error().WithContext(context));
    request.headers.emplace_back("Authorization", signed_headers->authorization);
    request.headers.emplace_back("x-amz-date", signed_headers->x_amz_date);
    request.headers.emplace_back("x-amz-content-sha256", signed_headers->x_amz_content_sha256);
    if (!signed_headers->x_amz_security_token.empty()) {
      request.headers.emplace_back("x-amz-security-token", signed_headers->x_amz_security_token);
    }

    auto response = http_.Send(request, wrapped_sink);
    if (caller_error) return Fail(std::move(*caller_error));
    Error error;
    std::optional<std::chrono::milliseconds> retry_after;
    if (!response) {
      error = Error{response.error().code, response.error().message, context};
    } else if (IsSuccess(response->status)) {
      const auto document =
          call.error_may_come_with_200 ? ParseErrorDocument(response->body) : std::nullopt;
      if (!document) return std::move(*response);
      error = ResponseError(call, *response);
      // A 200 carrying <Error>: the code decides (InternalError, SlowDown are retried).
      error.code = MapS3Error(response->status, document->code);
      if (document->code.empty()) error.code = ErrorCode::Transient;
    } else {
      error = ResponseError(call, *response);
      retry_after = ParseRetryAfter(response->Header("Retry-After"), config_.now());
    }

    if (!IsRetryable(error.code) || attempt >= config_.max_attempts) {
      if (attempt > 1) error.message += fmt::format("; gave up after {} attempts", attempt);
      return Fail(std::move(error));
    }
    auto delay = FullJitterDelay(config_.initial_backoff, config_.max_backoff, attempt,
                                 config_.random_unit());
    if (retry_after) delay = std::max(delay, std::min(*retry_after, config_.max_retry_after));
    spdlog::debug("{}; retrying in {} ms (attempt {} of {})", error.ToString(), delay.count(),
                  attempt + 1, config_.max_attempts);
    config_.sleep(delay);
  }
}

}  // namespace sluice::s3
