#include "sluice/core/http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace sluice {
namespace {

/// Bodies of non-2xx answers to a streamed request are error documents: a few KiB at most.
constexpr std::size_t kMaxErrorBodyBytes = 1024 * 1024;
/// Size of curl's send buffer for request bodies (CURLOPT_UPLOAD_BUFFERSIZE allows up to 2 MiB).
constexpr long kUploadBufferBytes = 256 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

/// Per-transfer state the curl callbacks share.
struct Transfer {
  CURL* handle = nullptr;
  std::string_view body;    ///< the whole request body (when there is no source)
  std::string_view upload;  ///< what remains to be sent (when there is no source)
  const HttpBodySource* source = nullptr;  ///< streams the body instead, when set
  std::uint64_t source_size = 0;           ///< bytes the source's body holds
  std::uint64_t source_offset = 0;         ///< next byte of the source's body to send
  std::optional<Error> source_error;
  const HttpBodySink* sink = nullptr;
  const std::function<Status(const HttpResponse&)>* on_head = nullptr;
  HttpResponse response;
  std::size_t max_body_bytes = 0;
  bool body_too_large = false;
  std::optional<Error> sink_error;
};

std::size_t ReadCallback(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->source != nullptr) {
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(size * count, transfer->source_size - transfer->source_offset));
    if (want == 0) return 0;
    auto read = (*transfer->source)(transfer->source_offset, std::span<char>(buffer, want));
    if (!read) {
      transfer->source_error = std::move(read).error();
      return CURL_READFUNC_ABORT;
    }
    if (*read != want) {
      transfer->source_error = Error{ErrorCode::Corrupt,
                                     fmt::format("the request body ended at byte {} of {}",
                                                 transfer->source_offset + *read,
                                                 transfer->source_size),
                                     {}};
      return CURL_READFUNC_ABORT;
    }
    transfer->source_offset += want;
    return want;
  }
  const std::size_t n = std::min(size * count, transfer->upload.size());
  std::memcpy(buffer, transfer->upload.data(), n);
  transfer->upload.remove_prefix(n);
  return n;
}

// Lets curl rewind the body when it resends a request on a new connection (a reused keep-alive
// connection reset under a PUT); without it curl fails with CURLE_SEND_FAIL_REWIND.
int SeekCallback(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::uint64_t size =
      transfer->source != nullptr ? transfer->source_size : transfer->body.size();
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > size) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer->source_offset = static_cast<std::uint64_t>(offset);
  if (transfer->source == nullptr) {
    transfer->upload = transfer->body.substr(static_cast<std::size_t>(offset));
  }
  return CURL_SEEKFUNC_OK;
}

std::size_t WriteCallback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  if (success && transfer->sink != nullptr && *transfer->sink) {
    auto written = (*transfer->sink)(std::string_view(data, n));
    if (!written) {
      transfer->sink_error = std::move(written).error();
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    return n;
  }
  const std::size_t limit =
      transfer->sink != nullptr && *transfer->sink
          ? std::min(kMaxErrorBodyBytes, transfer->max_body_bytes)
          : transfer->max_body_bytes;
  if (transfer->response.body.size() + n > limit) {
    if (success) {
      transfer->body_too_large = true;
      return 0;
    }
    // An oversized error document is cut, not failed: its head still names the error.
    transfer->response.body.append(data, limit - transfer->response.body.size());
    return n;
  }
  transfer->response.body.append(data, n);
  return n;
}

std::size_t HeaderCallback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response begins (the first, or the final one after "100 Continue").
    transfer->response.headers.clear();
    return n;
  }
  if (line == "\r\n" || line == "\n") {
    // The end of a header block. 1xx blocks are followed by the real response.
    long status = 0;
    curl_easy_getinfo(transfer->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300 && transfer->on_head != nullptr && *transfer->on_head) {
      transfer->response.status = static_cast<int>(status);
      auto accepted = (*transfer->on_head)(transfer->response);
      if (!accepted) {
        transfer->sink_error = std::move(accepted).error();
        return 0;  // curl stops with CURLE_WRITE_ERROR
      }
    }
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  transfer->response.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                          std::string(Trim(line.substr(colon + 1))));
  return n;
}

/// Converts a curl failure into our Error (libcurl-errors(3)).
Error CurlError(CURLcode code, const char* detail, std::string context) {
  const std::string message =
      fmt::format("{}{}{}", curl_easy_strerror(code), detail[0] != '\0' ? ": " : "", detail);
  ErrorCode error_code = ErrorCode::Internal;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      error_code = ErrorCode::Timeout;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      error_code = ErrorCode::Transient;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      error_code = ErrorCode::InvalidArgument;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      error_code = ErrorCode::Cancelled;
      break;
    default:
      break;
  }
  return Error{error_code, message, std::move(context)};
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl: curl_global_init failed");
    }
  });
}

}  // namespace

/// Idle curl handles: each keeps its open connections, so taking one back reuses them.
struct HttpClient::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;  // guarded by mutex

  ~Pool() {
    for (CURL* handle : idle) curl_easy_cleanup(handle);
  }

  CURL* Take() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Give(CURL* handle) {
    // Resets options only; live connections and the DNS cache stay (curl_easy_reset(3)).
    curl_easy_reset(handle);
    std::lock_guard lock(mutex);
    idle.push_back(handle);
  }
};

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string UrlWithoutQuery(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

HttpClient::HttpClient(HttpClientOptions options)
    : options_(options), pool_(std::make_unique<Pool>()) {
  InitCurlOnce();
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Send(const HttpRequest& request, const HttpBodySink& sink) {
  const std::string context = fmt::format("{} {}", request.method, UrlWithoutQuery(request.url));
  CURL* handle = pool_->Take();
  if (handle == nullptr) return Fail(ErrorCode::Internal, "curl_easy_init failed", context);

  Transfer transfer;
  transfer.handle = handle;
  transfer.body = request.body;
  transfer.upload = request.body;
  if (request.body_source) {
    transfer.source = &request.body_source;
    transfer.source_size = request.body_size_bytes;
  }
  transfer.sink = &sink;
  transfer.on_head = &request.on_head;
  transfer.max_body_bytes = options_.max_collected_body_bytes;

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  // curl would send "Expect: 100-continue" for bodies over 1 MiB; one round trip less without it.
  headers = curl_slist_append(headers, "Expect:");

  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // we are multi-threaded
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, options_.stall_bytes_per_second);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  if (options_.total_timeout.count() > 0) {
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  }
  if (!options_.verify_tls) {
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteCallback);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &HeaderCallback);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);

  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET" || request.method == "DELETE") {
    if (request.method != "GET") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    // PUT, POST, …: an "upload" with a known size, so a Content-Length and no chunked encoding.
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    // Fewer read callbacks and send(2) calls per byte than curl's 64 KiB default.
    curl_easy_setopt(handle, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, &ReadCallback);
    curl_easy_setopt(handle, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, &SeekCallback);
    curl_easy_setopt(handle, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(transfer.source != nullptr ? transfer.source_size
                                                                        : request.body.size()));
    if (request.method != "PUT") {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  const CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  pool_->Give(handle);

  if (transfer.sink_error) return Fail(std::move(*transfer.sink_error));
  if (transfer.source_error) return Fail(std::move(*transfer.source_error).WithContext(context));
  if (transfer.body_too_large) {
    return Fail(ErrorCode::Internal,
                fmt::format("response body larger than {} bytes", transfer.max_body_bytes),
                context);
  }
  if (code != CURLE_OK) return Fail(CurlError(code, error_buffer, context));
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace sluice
