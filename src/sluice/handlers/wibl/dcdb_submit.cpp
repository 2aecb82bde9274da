#include "sluice/handlers/wibl/dcdb_submit.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <thread>
#include <utility>

namespace sluice::wibl {

namespace {

/// At most this much of a server's answer is quoted in an Error or a log line.
constexpr std::size_t kQuotedBodyBytes = 300;

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

/// `name` for a Content-Disposition quoted string: '"', CR and LF percent-encoded (the HTML
/// form-submission encoding of file names, WHATWG HTML "multipart/form-data encoding algorithm").
std::string QuoteFileName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    switch (c) {
      case '"':
        out += "%22";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

/// "sluice-" and 32 random hex digits.
std::string RandomBoundary(const std::function<double()>& random_unit) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string boundary = "sluice-";
  for (int i = 0; i < 32; ++i) {
    const auto digit = static_cast<std::size_t>(std::clamp(random_unit(), 0.0, 0.999999) * 16);
    boundary.push_back(kHex[digit]);
  }
  return boundary;
}

/// Full jitter: uniform in [0, step], step = min(max_backoff, initial_backoff * 2^(attempt-1)).
std::chrono::milliseconds FullJitterDelay(const RetryPolicy& policy, int attempt,
                                          double random_unit) {
  const int exponent = std::clamp(attempt - 1, 0, 40);
  const double step = std::min(
      static_cast<double>(policy.max_backoff.count()),
      static_cast<double>(policy.initial_backoff.count()) * static_cast<double>(1ULL << exponent));
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(step * std::clamp(random_unit, 0.0, 1.0)));
}

/// The first kQuotedBodyBytes of a body on one line, for messages.
std::string Excerpt(std::string_view body) {
  std::string out;
  for (const char c : body.substr(0, kQuotedBodyBytes)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  if (body.size() > kQuotedBodyBytes) out += "…";
  return out;
}

/// DCDB's "message" when the body is a JSON object that has one, else an excerpt of the body.
std::string ServerMessage(const nlohmann::json& answer, std::string_view body) {
  if (answer.is_object()) {
    const auto it = answer.find("message");
    if (it != answer.end() && it->is_string()) return Excerpt(it->get_ref<const std::string&>());
  }
  return body.empty() ? std::string("(empty body)") : Excerpt(body);
}

}  // namespace

MultipartBody BuildDcdbMultipart(std::string_view file_name, std::string_view geojson,
                                 std::string_view unique_id, std::string_view boundary) {
  // nlohmann's dump(4) writes exactly the upstream text: {\n    "uniqueID": "<id>"\n}.
  const std::string metadata = nlohmann::json{{"uniqueID", unique_id}}.dump(4);
  MultipartBody out;
  out.content_type = fmt::format("multipart/form-data; boundary={}", boundary);
  out.body.reserve(geojson.size() + metadata.size() + 4 * boundary.size() + 256);
  out.body +=
      fmt::format("--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\r\n",
                  boundary, QuoteFileName(file_name));
  out.body += geojson;
  out.body += fmt::format(
      "\r\n--{}\r\nContent-Disposition: form-data; name=\"metadataInput\"\r\n\r\n", boundary);
  out.body += metadata;
  out.body += fmt::format("\r\n--{}--\r\n", boundary);
  return out;
}

Result<std::string> DcdbUniqueId(const nlohmann::json& document, std::string_view provider_id) {
  const auto string_at = [&document](const nlohmann::json::json_pointer& pointer) -> std::string {
    if (!document.contains(pointer)) return {};
    const auto& value = document.at(pointer);
    return value.is_string() ? value.get<std::string>() : std::string();
  };
  std::string source_id =
      string_at(nlohmann::json::json_pointer("/properties/trustedNode/uniqueVesselID"));
  if (source_id.empty()) {
    source_id = string_at(nlohmann::json::json_pointer("/properties/platform/uniqueID"));
  }
  if (source_id.empty()) {
    return Fail(ErrorCode::InvalidArgument,
                "the file names no vessel: neither /properties/trustedNode/uniqueVesselID nor "
                "/properties/platform/uniqueID is a non-empty string");
  }
  return PrefixedUniqueId(source_id, provider_id);
}

std::string PrefixedUniqueId(std::string_view source_id, std::string_view provider_id) {
  // Upstream's rule (research §4): a substring test, not a prefix test, so that IDs the
  // conversion stage already prefixed (and any that embed the node name) are sent unchanged.
  if (provider_id.empty() || source_id.find(provider_id) != std::string_view::npos) {
    return std::string(source_id);
  }
  return fmt::format("{}-{}", provider_id, source_id);
}

DcdbSubmitter::DcdbSubmitter(HttpClient& http, DcdbSubmitOptions options, Hooks hooks)
    : http_(http),
      options_(std::move(options)),
      token_(Trim(options_.token)),
      hooks_(std::move(hooks)) {
  if (!hooks_.sleep) {
    hooks_.sleep = [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
  }
  if (!hooks_.random_unit) hooks_.random_unit = RandomUnit;
}

Status DcdbSubmitter::CheckOptions(const DcdbSubmitOptions& options) {
  if (options.retry.max_attempts < 1) {
    return Fail(ErrorCode::InvalidArgument, "max_attempts must be at least 1");
  }
  if (options.retry.initial_backoff.count() < 0 || options.retry.max_backoff.count() < 0) {
    return Fail(ErrorCode::InvalidArgument, "backoff durations must not be negative");
  }
  if (!options.upload_point.empty() || !options.dry_run) {
    const std::string_view url = options.upload_point;
    if (!url.starts_with("https://") && !url.starts_with("http://")) {
      return Fail(
          ErrorCode::InvalidArgument,
          fmt::format("upload_point must be an http(s) URL, got '{}'", UrlWithoutQuery(url)));
    }
  }
  const std::string_view token = Trim(options.token);
  if (!options.dry_run && token.empty()) {
    return Fail(ErrorCode::InvalidArgument,
                "token is required (set it from an environment "
                "variable, e.g. token = \"${DCDB_TOKEN}\")");
  }
  if (HasControlCharacter(token)) {
    return Fail(ErrorCode::InvalidArgument, "token contains control characters");
  }
  return Ok();
}

std::string DcdbSubmitter::Scrub(std::string_view text) const {
  std::string out(text);
  if (token_.empty()) return out;
  for (std::size_t at = out.find(token_); at != std::string::npos; at = out.find(token_, at + 3)) {
    out.replace(at, token_.size(), "***");
  }
  return out;
}

Error DcdbSubmitter::ScrubError(Error error) const {
  error.message = Scrub(error.message);
  error.context = Scrub(error.context);
  return error;
}

Result<DcdbReceipt> DcdbSubmitter::Submit(const DcdbFile& file,
                                          std::chrono::steady_clock::time_point deadline,
                                          const std::function<bool()>& cancelled) const {
  const std::string where = fmt::format("POST {}", UrlWithoutQuery(options_.upload_point));
  if (auto checked = CheckOptions(options_); !checked) {
    return Fail(std::move(checked).error().WithContext(where));
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(file.geojson);
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::Corrupt, fmt::format("{} is not JSON: {}", file.file_name, e.what()),
                where);
  }
  auto unique_id = file.source_id.empty()
                       ? DcdbUniqueId(document, options_.provider_id)
                       : Result<std::string>(PrefixedUniqueId(file.source_id, options_.provider_id));
  if (!unique_id) return Fail(std::move(unique_id).error().WithContext(where));

  std::string boundary = RandomBoundary(hooks_.random_unit);
  while (file.geojson.find(boundary) != std::string::npos) {
    boundary = RandomBoundary(hooks_.random_unit);
  }
  const MultipartBody body = BuildDcdbMultipart(file.file_name, file.geojson, *unique_id, boundary);

  if (options_.dry_run) {
    spdlog::info("dry run: would POST {} ({} bytes) as uniqueID {} to {}", file.file_name,
                 body.body.size(), *unique_id, UrlWithoutQuery(options_.upload_point));
    DcdbReceipt receipt;
    receipt.unique_id = *unique_id;
    receipt.dry_run = true;
    receipt.body_bytes = body.body.size();
    return receipt;
  }
  auto receipt = Post(file, *unique_id, body, deadline, cancelled);
  if (!receipt) return Fail(ScrubError(std::move(receipt).error()));
  return receipt;
}

Result<DcdbReceipt> DcdbSubmitter::Post(const DcdbFile& file, const std::string& unique_id,
                                        const MultipartBody& body,
                                        std::chrono::steady_clock::time_point deadline,
                                        const std::function<bool()>& cancelled) const {
  const std::string where = fmt::format("POST {}", UrlWithoutQuery(options_.upload_point));
  HttpRequest request;
  request.method = "POST";
  request.url = options_.upload_point;
  request.headers = {{"x-auth-token", token_},
                     {"Content-Type", body.content_type},
                     {"Accept", "application/json"}};
  request.body = body.body;

  for (int attempt = 1;; ++attempt) {
    if (cancelled && cancelled()) {
      return Fail(ErrorCode::Cancelled,
                  fmt::format("cancelled before POST attempt {} of {}", attempt, file.file_name),
                  where);
    }
    Error failure;  // why this attempt may be retried
    auto response = http_.Send(request);
    if (!response) {
      failure = std::move(response).error();
      if (!IsRetryable(failure.code)) return Fail(std::move(failure));  // context: POST <url>
    } else if (response->status >= 500 && response->status <= 599) {
      failure = Error{ErrorCode::Transient,
                      fmt::format("DCDB answered HTTP {}: {}", response->status,
                                  Scrub(Excerpt(response->body))),
                      where};
    } else {
      const int status = response->status;
      const nlohmann::json answer = nlohmann::json::parse(response->body, nullptr, false);
      const std::string message = Scrub(ServerMessage(answer, response->body));
      if (status >= 200 && status <= 299) {
        if (!answer.is_object()) {
          return Fail(ErrorCode::Corrupt,
                      fmt::format("DCDB answered HTTP {} with a body that is not a JSON object "
                                  "(not resubmitted: it may have been accepted): {}",
                                  status, message),
                      where);
        }
        const auto success = answer.find("success");
        if (success == answer.end() || !success->is_boolean() || !success->get<bool>()) {
          return Fail(
              ErrorCode::InvalidArgument,
              fmt::format("DCDB refused {} (uniqueID {}): {}", file.file_name, unique_id, message),
              where);
        }
        DcdbReceipt receipt;
        receipt.unique_id = unique_id;
        receipt.attempts = attempt;
        receipt.http_status = status;
        receipt.body_bytes = body.body.size();
        if (const auto it = answer.find("message"); it != answer.end() && it->is_string()) {
          receipt.message = Scrub(it->get<std::string>());
        }
        if (const auto it = answer.find("submissionIds"); it != answer.end() && it->is_array()) {
          for (const auto& id : *it) {
            if (id.is_string()) receipt.submission_ids.push_back(Scrub(id.get<std::string>()));
          }
        }
        spdlog::info("DCDB accepted {} as uniqueID {} (attempt {}): {} submission id(s) {}",
                     file.file_name, unique_id, attempt, receipt.submission_ids.size(),
                     fmt::join(receipt.submission_ids, ", "));
        return receipt;
      }
      const ErrorCode code = status == 401 || status == 403 ? ErrorCode::PermissionDenied
                             : status == 429                ? ErrorCode::Throttled
                                                            : ErrorCode::InvalidArgument;
      return Fail(code,
                  fmt::format("DCDB answered HTTP {} to {} (uniqueID {}): {}", status,
                              file.file_name, unique_id, message),
                  where);
    }

    // A connection failure, a timeout or a 5xx: no acceptance was reported, so the file goes
    // again (see the header on the rare acceptance a lost answer can hide).
    failure = ScrubError(std::move(failure));
    if (attempt >= options_.retry.max_attempts) {
      failure.message =
          fmt::format("{} (after {} attempt{})", failure.message, attempt, attempt == 1 ? "" : "s");
      return Fail(std::move(failure));
    }
    const auto delay = FullJitterDelay(options_.retry, attempt, hooks_.random_unit());
    if (deadline != std::chrono::steady_clock::time_point::max() &&
        std::chrono::steady_clock::now() + delay > deadline) {
      failure.message =
          fmt::format("{} (attempt {}; no time left for another)", failure.message, attempt);
      return Fail(std::move(failure));
    }
    spdlog::warn("DCDB submission of {} failed (attempt {} of {}), retrying in {} ms: {}",
                 file.file_name, attempt, options_.retry.max_attempts, delay.count(),
                 failure.ToString());
    hooks_.sleep(delay);
  }
}

}  // namespace sluice::wibl
