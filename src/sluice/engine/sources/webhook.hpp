#pragma once
/// The `webhook` source: an HTTP endpoint that object stores POST S3 event notifications to (AWS
/// S3 through SNS, Ceph RGW's HTTP push endpoint, MinIO's webhook target, EventBridge API
/// destinations; bodies parsed by s3_notification.hpp). Configuration: docs/configuration.md,
/// "webhook".
///
/// Answers on the configured path (POST only, else 405):
///  - 401 when the bearer token or HMAC signature is missing or wrong (nothing is parsed or
///    enqueued; compared in constant time);
///  - 413 when the body is over `max_body` (answered by the server before the handler runs);
///  - 400 with the reason when the body is not a notification or names a bucket with no store;
///  - 200 once every event of the body is durably enqueued (the sink returned after the queue's
///    transaction committed); 503 when enqueueing failed (the sender retries).
/// GET /metrics (Prometheus text) and GET /healthz are served on the same port, without auth.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sluice/core/config.hpp"
#include "sluice/core/http_client.hpp"
#include "sluice/core/http_server.hpp"
#include "sluice/engine/sources/s3_notification.hpp"
#include "sluice/engine/sources/source.hpp"

namespace sluice {

/// True when `request` carries the credentials `config.auth` asks for: "Authorization: Bearer
/// <bearer>", or in `signature_header` the lower- or upper-case hex HMAC-SHA256 of the body under
/// `hmac_sha256`, optionally written "sha256=<hex>" (as GitHub-style senders do). True when no
/// auth is configured. Secrets are compared in constant time. Thread-safe.
bool WebhookAuthorized(const WebhookConfig& config, const HttpServerRequest& request);

/// The `webhook` push source. Handle() is the request logic (public for tests); Start() serves it
/// on config.webhook.host:port. Thread-safe: Handle() runs on the server's threads concurrently.
class WebhookSource final : public Source {
 public:
  /// `stores` maps store names to their configs (for bucket → store, see ResolveS3EventStore).
  WebhookSource(SourceConfig config, std::map<std::string, StoreConfig> stores);
  ~WebhookSource() override;

  /// The config name.
  const std::string& Name() const override { return config_.name; }
  /// Ok without events: a webhook receives only while started.
  Status Pass(const EventSink& sink) override;
  /// nullopt: never passed over.
  std::optional<std::chrono::milliseconds> Interval() const override { return std::nullopt; }
  /// True: Engine::Serve starts and stops it.
  bool IsPush() const override { return true; }
  /// Binds and serves; Transient when the address cannot be bound. InvalidArgument when already
  /// started.
  Status Start(PushContext context) override;
  /// Stops listening once requests in progress are answered. Idempotent.
  void Stop() override;

  /// The bound port while started (the ephemeral one for `listen = "127.0.0.1:0"`), else 0.
  [[nodiscard]] int Port() const;
  /// Answers one request (see the top of this file). Needs Start()'s context for the sink; before
  /// Start() a POST with valid events answers 503.
  HttpServerResponse Handle(const HttpServerRequest& request);

 private:
  HttpServerResponse HandleEvents(const HttpServerRequest& request);
  HttpServerResponse Confirm(const std::string& subscribe_url);
  void Count(int status);

  SourceConfig config_;
  std::map<std::string, StoreConfig> stores_;
  PushContext context_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;  // SNS subscription confirmations only
  std::mutex mutex_;                    // guards Start/Stop
};

/// Builds a webhook source over the opened stores (their URLs give the buckets). Thread-safe.
Result<std::unique_ptr<Source>> MakeWebhookSource(const SourceConfig& config, const Resources& resources);

/// Serves GET /metrics (from `metrics`, 404 when null) and GET /healthz ("ok", or 503 with the
/// health Error) for any server of the process; nullopt for other paths. Thread-safe.
std::optional<HttpServerResponse> ServeOpsEndpoint(const HttpServerRequest& request, MetricsRegistry* metrics,
                                                   const std::function<Status()>& health);

}  // namespace sluice
