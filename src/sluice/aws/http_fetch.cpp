#include "sluice/aws/http_fetch.hpp"

#include <curl/curl.h>

#include <array>
#include <memory>
#include <mutex>
#include <string_view>

namespace sluice::aws {
namespace {

/// curl_global_init is thread-safe only from libcurl 7.84; do it once anyway for older ones.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Exchange {
  HttpResponse response;
  std::size_t max_body_bytes = 0;
  bool too_long = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::size_t bytes = size * count;
  if (exchange->response.body.size() + bytes > exchange->max_body_bytes) {
    exchange->too_long = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, bytes);
  return bytes;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const std::size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    exchange->response.headers.clear();  // a new response (after 100 Continue)
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    exchange->response.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                            std::string(Trim(line.substr(colon + 1))));
  }
  return bytes;
}

/// "PUT http://host/path": what errors may say about a request (no query, no headers).
std::string Where(const HttpRequest& request) {
  std::string_view url = request.url;
  url = url.substr(0, url.find_first_of("?#"));
  if (const auto sep = url.find("://"); sep != std::string_view::npos) {
    const auto at = url.find('@', sep);
    const auto slash = url.find('/', sep + 3);
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
      return request.method + " " + std::string(url.substr(0, sep + 3)) +
             std::string(url.substr(at + 1));
    }
  }
  return request.method + " " + std::string(url);
}

ErrorCode CodeOf(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::Timeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ErrorCode::InvalidArgument;
    case CURLE_WRITE_ERROR:
      return ErrorCode::Corrupt;
    case CURLE_OUT_OF_MEMORY:
      return ErrorCode::Internal;
    default:
      return ErrorCode::Transient;  // cannot resolve, connect, send or receive
  }
}

}  // namespace

Result<HttpResponse> CurlFetch(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  if (!handle) return Fail(ErrorCode::Internal, "libcurl: cannot create a handle", Where(request));
  CURL* curl = handle.get();

  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(list, line.c_str());
    if (appended == nullptr) {
      curl_slist_free_all(list);
      return Fail(ErrorCode::Internal, "libcurl: out of memory", Where(request));
    }
    list = appended;
  }
  const std::unique_ptr<curl_slist, SlistDeleter> headers(list);

  Exchange exchange;
  exchange.max_body_bytes = request.max_body_bytes;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &exchange);
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || !request.body.empty()) {
    // POSTFIELDS sends the body (and Content-Length, 0 included) with any method.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    if (exchange.too_long) {
      return Fail(ErrorCode::Corrupt,
                  "response longer than " + std::to_string(request.max_body_bytes) + " bytes",
                  Where(request));
    }
    std::string message = curl_easy_strerror(code);
    if (error_buffer[0] != '\0') message += std::string(": ") + error_buffer.data();
    return Fail(CodeOf(code), "libcurl: " + message, Where(request));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  exchange.response.status = static_cast<int>(status);
  return std::move(exchange.response);
}

}  // namespace sluice::aws
