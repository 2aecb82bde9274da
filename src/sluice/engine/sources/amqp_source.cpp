// The `amqp` source: S3 event notifications that an object store pushes into RabbitMQ (Ceph RGW's
// AMQP push endpoint: research/infra.md, "Bucket notifications": push-endpoint=amqp://…,
// amqp-exchange=amq.topic, the routing key is the topic name). It declares its durable queue,
// binds it to the exchange, and acks each message only after its events were durably enqueued
// (the sink returned Ok); a message whose enqueue failed is returned to the queue. Bodies are
// parsed by ParseS3Notification, as the webhook source's are.

#include "sluice/engine/sources/amqp_source.hpp"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/engine/queue/amqp_client.hpp"

#include "sluice/engine/sources/s3_notification.hpp"

namespace sluice {

namespace {

constexpr std::uint16_t kChannel = 1;
constexpr int kPrefetch = 64;
constexpr auto kIdleEndsPass = std::chrono::milliseconds(250);
constexpr auto kMaxPass = std::chrono::seconds(2);
constexpr auto kErrorPause = std::chrono::seconds(1);

class AmqpSource final : public Source {
 public:
  AmqpSource(SourceConfig config, AmqpUrl url, std::map<std::string, StoreConfig> stores)
      : config_(std::move(config)), url_(std::move(url)), stores_(std::move(stores)) {}

  const std::string& Name() const override { return config_.name; }
  // a pass returns after kIdleEndsPass without messages; serve starts the next one at once
  std::optional<std::chrono::milliseconds> Interval() const override { return std::chrono::milliseconds(0); }

  Status Pass(const EventSink& sink) override {
    Status status = Consume(sink);
    // serve starts the next pass at once (Interval 0): pause so a broker or queue that keeps
    // failing is not hammered, and the log is not flooded
    if (!status) std::this_thread::sleep_for(kErrorPause);
    return status;
  }

 private:
  Status Consume(const EventSink& sink) {
    if (auto r = Connect(); !r) return Fail(std::move(r).error().WithContext(Where()));
    const auto started = std::chrono::steady_clock::now();
    std::size_t messages = 0, events = 0;
    while (std::chrono::steady_clock::now() - started < kMaxPass) {
      auto delivery = connection_->NextDelivery(kIdleEndsPass);
      if (!delivery) {
        connection_.reset();  // its unacked messages go back to the queue
        return Fail(std::move(delivery).error().WithContext(Where()));
      }
      if (!*delivery) break;
      const AmqpDelivery& message = **delivery;
      ++messages;
      auto parsed = ParseS3Notification(message.body);
      if (!parsed) {
        // not retryable: requeueing would loop; the queue's dead-letter policy (if any) keeps it
        spdlog::error("source '{}': rejecting an unreadable notification (routing key '{}'): {}", config_.name,
                      message.routing_key, parsed.error().ToString());
        SLUICE_RETURN_IF_ERROR(Settle(message, /*ok=*/false, /*requeue=*/false));
        continue;
      }
      std::vector<Event> batch;
      for (const auto& record : parsed->records) {
        auto resolved = ResolveS3EventStore(record, stores_, config_.store);
        if (!resolved) {
          spdlog::warn("source '{}': skipping an event: {}", config_.name, resolved.error().ToString());
          continue;
        }
        Event event = std::move(*resolved);
        if (!config_.prefix.empty() && !event.key.starts_with(config_.prefix)) continue;
        if (!event.key.ends_with(config_.suffix)) continue;
        batch.push_back(std::move(event));
      }
      events += batch.size();
      Status stored = batch.empty() ? Ok() : sink(std::move(batch));
      if (!stored) {
        SLUICE_RETURN_IF_ERROR(Settle(message, /*ok=*/false, /*requeue=*/true));
        return Fail(std::move(stored).error().WithContext(Where()));
      }
      SLUICE_RETURN_IF_ERROR(Settle(message, /*ok=*/true, false));
    }
    if (messages > 0) spdlog::debug("source '{}': {} notification(s), {} event(s)", config_.name, messages, events);
    return Ok();
  }

  std::string Where() const { return fmt::format("source '{}' ({})", config_.name, url_.Redacted()); }

  Status Connect() {
    if (connection_ && !connection_->Broken()) return Ok();
    connection_.reset();
    SLUICE_ASSIGN_OR_RETURN(auto c, AmqpConnection::Open(url_, "sluice source " + config_.name));
    SLUICE_RETURN_IF_ERROR(c->DeclareQueue(kChannel, url_.queue, {}));
    if (!url_.exchange.empty()) {
      SLUICE_RETURN_IF_ERROR(c->BindQueue(kChannel, url_.queue, url_.exchange, url_.routing_key));
    }
    SLUICE_RETURN_IF_ERROR(c->Qos(kChannel, kPrefetch));
    SLUICE_RETURN_IF_ERROR(c->Consume(kChannel, url_.queue));
    connection_ = std::move(c);
    return Ok();
  }

  Status Settle(const AmqpDelivery& message, bool ok, bool requeue) {
    Status r = ok ? connection_->Ack(message.channel, message.delivery_tag)
                  : connection_->Nack(message.channel, message.delivery_tag, requeue);
    if (!r) {
      connection_.reset();
      return Fail(std::move(r).error().WithContext(Where()));
    }
    return Ok();
  }

  SourceConfig config_;
  AmqpUrl url_;
  std::map<std::string, StoreConfig> stores_;
  std::unique_ptr<AmqpConnection> connection_;  // Pass() runs on one thread at a time
};

}  // namespace

Result<std::unique_ptr<Source>> MakeAmqpSource(const SourceConfig& config, const Resources& resources) {
  auto stores = NotificationStores(resources);
  if (!config.store.empty() && !stores.contains(config.store)) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", config.store));
  }
  SLUICE_ASSIGN_OR_RETURN(AmqpUrl url, ParseAmqpUrl(config.url));
  if (!config.queue.empty()) url.queue = config.queue;
  if (!config.exchange.empty()) url.exchange = config.exchange;
  if (!config.routing_key.empty()) url.routing_key = config.routing_key;
  return std::unique_ptr<Source>(std::make_unique<AmqpSource>(config, std::move(url), std::move(stores)));
}

}  // namespace sluice
