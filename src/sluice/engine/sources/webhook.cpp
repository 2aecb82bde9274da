#include "sluice/engine/sources/webhook.hpp"

#include <cctype>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/hash.hpp"
#include "sluice/core/uri.hpp"

namespace sluice {
namespace {

HttpServerResponse Text(int status, std::string body) {
  HttpServerResponse response;
  response.status = status;
  response.body = std::move(body);
  if (!response.body.ends_with('\n')) response.body.push_back('\n');
  return response;
}

HttpServerResponse MethodNotAllowed(std::string_view allow) {
  HttpServerResponse response = Text(405, fmt::format("method not allowed: use {}", allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// SNS confirmation URLs are on the SNS endpoint of the topic's region (SNS Developer Guide,
// "Confirm the subscription"): refuse anything else, so a forged body cannot make sluice GET an
// arbitrary (e.g. internal) URL.
bool IsSnsUrl(std::string_view url) {
  auto uri = ParseUri(url);
  if (!uri || uri->scheme != "https") return false;
  std::string host = uri->authority;
  if (host.find('@') != std::string::npos) return false;
  if (const auto colon = host.find(':'); colon != std::string::npos) host.resize(colon);
  host = Lower(host);
  return host.starts_with("sns.") && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"));
}

}  // namespace

bool WebhookAuthorized(const WebhookConfig& config, const HttpServerRequest& request) {
  if (!config.bearer.empty()) {
    const auto header = request.Header("Authorization");
    if (!header) return false;
    const std::string_view value = TrimSpaces(*header);
    if (value.size() < 7 || Lower(value.substr(0, 7)) != "bearer ") return false;
    return ConstantTimeEquals(TrimSpaces(value.substr(7)), config.bearer);
  }
  if (!config.hmac_sha256.empty()) {
    const auto header = request.Header(config.signature_header);
    if (!header) return false;
    std::string given = Lower(TrimSpaces(*header));
    if (given.starts_with("sha256=")) given.erase(0, 7);
    return ConstantTimeEquals(given, ToHex(HmacSha256(config.hmac_sha256, request.body)));
  }
  return true;
}

std::optional<HttpServerResponse> ServeOpsEndpoint(const HttpServerRequest& request, MetricsRegistry* metrics,
                                                   const std::function<Status()>& health) {
  const bool read = request.method == "GET" || request.method == "HEAD";
  if (request.path == "/metrics") {
    if (!read) return MethodNotAllowed("GET");
    if (metrics == nullptr) return Text(404, "no metrics in this process");
    HttpServerResponse response;
    response.content_type = std::string(kPrometheusContentType);
    response.body = metrics->Serialize();
    return response;
  }
  if (request.path == "/healthz") {
    if (!read) return MethodNotAllowed("GET");
    if (health) {
      if (auto status = health(); !status) return Text(503, "unhealthy: " + status.error().ToString());
    }
    return Text(200, "ok");
  }
  return std::nullopt;
}

WebhookSource::WebhookSource(SourceConfig config, std::map<std::string, StoreConfig> stores)
    : config_(std::move(config)), stores_(std::move(stores)) {}

WebhookSource::~WebhookSource() { Stop(); }

Status WebhookSource::Pass(const EventSink& sink) {
  (void)sink;
  return Ok();  // events arrive only while started
}

Status WebhookSource::Start(PushContext context) {
  std::lock_guard lock(mutex_);
  if (server_) return Fail(ErrorCode::InvalidArgument, "already started", "source '" + config_.name + "'");
  context_ = std::move(context);
  if (context_.metrics != nullptr) {
    context_.metrics->Declare("sluice_webhook_requests_total", MetricType::Counter,
                              "Requests answered by a webhook source, by source and HTTP status code.");
  }
  if (config_.webhook.confirm_subscriptions && !client_) client_ = std::make_unique<HttpClient>();
  HttpServerOptions options;
  options.host = config_.webhook.host;
  options.port = config_.webhook.port;
  options.max_body_bytes = config_.webhook.max_body_bytes;
  options.read_timeout = config_.webhook.request_timeout;
  options.write_timeout = config_.webhook.request_timeout;
  auto server = HttpServer::Start(options, [this](const HttpServerRequest& request) { return Handle(request); });
  if (!server) return Fail(std::move(server).error().WithContext("source '" + config_.name + "'"));
  server_ = std::move(*server);
  spdlog::info("source '{}': listening on http://{}{} ({})", config_.name, server_->Address(), config_.webhook.path,
               !config_.webhook.bearer.empty()        ? "bearer token"
               : !config_.webhook.hmac_sha256.empty() ? "HMAC-SHA256 signature in " + config_.webhook.signature_header
                                                      : "no authentication");
  return Ok();
}

void WebhookSource::Stop() {
  std::unique_ptr<HttpServer> server;
  {
    std::lock_guard lock(mutex_);
    server = std::move(server_);
  }
  if (server) {
    server->Stop();
    spdlog::info("source '{}': stopped listening", config_.name);
  }
}

int WebhookSource::Port() const { return server_ ? server_->Port() : 0; }

void WebhookSource::Count(int status) {
  if (context_.metrics == nullptr) return;
  context_.metrics->Increment("sluice_webhook_requests_total",
                              {{"source", config_.name}, {"code", std::to_string(status)}});
}

HttpServerResponse WebhookSource::Handle(const HttpServerRequest& request) {
  HttpServerResponse response;
  if (request.path == config_.webhook.path) {
    response = request.method == "POST" ? HandleEvents(request) : MethodNotAllowed("POST");
  } else if (auto ops = ServeOpsEndpoint(request, context_.metrics, context_.health)) {
    return *ops;  // not counted: scrapes would drown the notifications
  } else {
    response = Text(404, fmt::format("not found: notifications go to POST {}", config_.webhook.path));
  }
  Count(response.status);
  return response;
}

HttpServerResponse WebhookSource::HandleEvents(const HttpServerRequest& request) {
  if (!WebhookAuthorized(config_.webhook, request)) {
    spdlog::warn("source '{}': rejected a request from {}: missing or wrong {}", config_.name, request.remote_addr,
                 config_.webhook.bearer.empty() ? "signature" : "bearer token");
    HttpServerResponse response = Text(401, "unauthorized");
    if (!config_.webhook.bearer.empty()) response.headers.emplace_back("WWW-Authenticate", "Bearer");
    return response;
  }
  auto notification = ParseS3Notification(request.body);
  if (!notification) {
    spdlog::warn("source '{}': rejected a body of {} bytes from {}: {}", config_.name, request.body.size(),
                 request.remote_addr, notification.error().message);
    return Text(400, "bad notification: " + notification.error().message);
  }
  if (!notification->subscribe_url.empty()) return Confirm(notification->subscribe_url);
  if (notification->test_event) {
    spdlog::info("source '{}': test event received", config_.name);
    return Text(200, "test event: nothing to do");
  }
  std::vector<Event> events;
  events.reserve(notification->records.size());
  for (const auto& record : notification->records) {
    auto event = ResolveS3EventStore(record, stores_, config_.store);
    if (!event) {
      spdlog::warn("source '{}': {}", config_.name, event.error().message);
      return Text(400, "bad notification: " + event.error().message);
    }
    events.push_back(std::move(*event));
  }
  const std::size_t count = events.size();
  if (count > 0) {
    if (!context_.sink) return Text(503, "not ready: the source is not started");
    if (auto enqueued = context_.sink(std::move(events)); !enqueued) {
      spdlog::error("source '{}': {} event(s) not enqueued (the sender will retry): {}", config_.name, count,
                    enqueued.error().ToString());
      return Text(503, "events not enqueued, retry: " + enqueued.error().message);
    }
  }
  return Text(200, fmt::format("accepted {} event(s)", count));
}

HttpServerResponse WebhookSource::Confirm(const std::string& subscribe_url) {
  if (!config_.webhook.confirm_subscriptions || !client_) {
    spdlog::warn("source '{}': SNS subscription confirmation received; confirm_subscriptions is off, so "
                 "confirm it by visiting: {}", config_.name, subscribe_url);
    return Text(200, "subscription confirmation logged, not confirmed");
  }
  if (!IsSnsUrl(subscribe_url)) {
    spdlog::warn("source '{}': refused to confirm a subscription at {}: not an https://sns.*.amazonaws.com URL",
                 config_.name, UrlWithoutQuery(subscribe_url));
    return Text(400, "bad notification: SubscribeURL is not an https://sns.<region>.amazonaws.com URL");
  }
  HttpRequest get;
  get.url = subscribe_url;
  auto response = client_->Send(get);
  if (!response || response->status / 100 != 2) {
    const std::string why = response ? fmt::format("HTTP {}", response->status) : response.error().ToString();
    spdlog::error("source '{}': subscription confirmation at {} failed: {}", config_.name,
                  UrlWithoutQuery(subscribe_url), why);
    return Text(502, "subscription confirmation failed: " + why);
  }
  spdlog::info("source '{}': confirmed the SNS subscription at {}", config_.name, UrlWithoutQuery(subscribe_url));
  return Text(200, "subscription confirmed");
}

Result<std::unique_ptr<Source>> MakeWebhookSource(const SourceConfig& config, const Resources& resources) {
  std::map<std::string, StoreConfig> stores = NotificationStores(resources);
  if (!config.store.empty() && !stores.contains(config.store)) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", config.store),
                fmt::format("source '{}'", config.name));
  }
  return std::unique_ptr<Source>(std::make_unique<WebhookSource>(config, std::move(stores)));
}

}  // namespace sluice
