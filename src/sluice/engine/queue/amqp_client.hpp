#pragma once
/// A small AMQP 0-9-1 client over librabbitmq (rabbitmq-c, Debian librabbitmq-dev): one TCP
/// connection with numbered channels, and the handful of operations the `amqp://` queue and the
/// `amqp` source need. librabbitmq errors are converted here, once, into sluice Errors.
/// Protocol: AMQP 0-9-1 specification and RabbitMQ's extensions (publisher confirms, quorum
/// queues, per-queue message TTL, dead-letter exchanges: rabbitmq.com/docs, research/infra.md).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice {

/// A parsed `amqp://user:pass@host:port/vhost?queue=NAME` URL (RabbitMQ's URI spec: user, password
/// and vhost are percent-decoded; "%2f" is the default vhost "/").
struct AmqpUrl {
  std::string host = "127.0.0.1";
  int port = 5672;           ///< AMQP's IANA port when the URL has none
  std::string user = "guest";
  std::string password = "guest";  ///< never logged: use Redacted()
  std::string vhost = "/";   ///< an empty or "/" path means the default vhost "/"
  std::string queue = "sluice";  ///< `?queue=`: the prefix of every queue and exchange name
  std::string exchange;      ///< `?exchange=` (amqp source only): bind the queue to it
  std::string routing_key;   ///< `?routing_key=` (amqp source only)

  /// "amqp://user:***@host:port/vhost?queue=…", safe for logs and errors.
  [[nodiscard]] std::string Redacted() const;
};

/// Parses an amqp:// URL. InvalidArgument (naming the redacted URL) for another scheme, a bad port,
/// a bad percent escape or an unknown query parameter (queue, exchange, routing_key are known).
/// Thread-safe.
Result<AmqpUrl> ParseAmqpUrl(std::string_view url);

/// A value in an AMQP field table (message headers, queue arguments).
using AmqpValue = std::variant<std::string, std::int64_t, std::vector<std::string>>;
/// An AMQP field table, in order.
using AmqpTable = std::vector<std::pair<std::string, AmqpValue>>;

/// What a message carries besides its body.
struct AmqpProperties {
  std::string message_id;
  std::string content_type = "application/json";
  bool persistent = true;  ///< delivery-mode 2: written to disk by the broker
  AmqpTable headers;
};

/// One message received by basic.consume or basic.get.
struct AmqpDelivery {
  std::uint16_t channel = 0;
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string message_id;
  AmqpTable headers;  ///< strings, integers and arrays of strings; other kinds are left out
};

/// Message counts of a queue (queue.declare-ok).
struct AmqpQueueInfo {
  std::int64_t messages = 0;   ///< ready (not delivered, or returned) messages
  std::int64_t consumers = 0;
};

/// One connection. Not thread-safe: callers serialise every call (one mutex per connection).
/// Any error that breaks the connection makes Broken() true; the owner then opens a new one.
/// A channel closed by the broker (e.g. queue.declare with other arguments) is reopened by the
/// next call that uses it.
class AmqpConnection {
 public:
  /// Connects (TCP, 5 s timeout) and logs in with heartbeats off (a handler may run for long
  /// without calling into the connection; a dead peer is seen through TCP). `client_name` shows in
  /// the broker's connection list. Transient if the broker cannot be reached, PermissionDenied if
  /// the login is refused. Errors name the redacted URL.
  static Result<std::unique_ptr<AmqpConnection>> Open(const AmqpUrl& url, std::string_view client_name);
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  /// True once the connection failed; every call then fails with Transient.
  [[nodiscard]] bool Broken() const;

  /// Declares a durable queue with `arguments` (x-queue-type, x-message-ttl, x-dead-letter-*, …)
  /// and returns its counts. InvalidArgument (406 PRECONDITION_FAILED) when it exists with other
  /// arguments.
  Result<AmqpQueueInfo> DeclareQueue(std::uint16_t channel, std::string_view name, const AmqpTable& arguments);
  /// Declares a durable exchange of `type` ("direct", "topic").
  Status DeclareExchange(std::uint16_t channel, std::string_view name, std::string_view type);
  /// Binds `queue` to `exchange` with `routing_key`.
  Status BindQueue(std::uint16_t channel, std::string_view queue, std::string_view exchange,
                   std::string_view routing_key);

  /// Puts `channel` in confirm mode (once per channel); Publish on it then counts toward
  /// WaitConfirms.
  Status ConfirmSelect(std::uint16_t channel);
  /// basic.publish with mandatory set (an unroutable message is reported by WaitConfirms).
  Status Publish(std::uint16_t channel, std::string_view exchange, std::string_view routing_key,
                 std::string_view body, const AmqpProperties& properties);
  /// Waits until the broker confirmed every message published on `channel` (a confirm channel)
  /// since the last call: Ok when all were acked and routed; Transient when one was nacked,
  /// returned as unroutable, or `timeout` passed (the messages may or may not be stored).
  Status WaitConfirms(std::uint16_t channel, std::chrono::milliseconds timeout);

  /// basic.qos: at most `prefetch` unacknowledged deliveries on `channel`.
  Status Qos(std::uint16_t channel, int prefetch);
  /// basic.consume with manual acknowledgements; returns the consumer tag.
  Result<std::string> Consume(std::uint16_t channel, std::string_view queue);
  /// The next delivery of any consumer of this connection, or nullopt after `timeout`. A consumer
  /// cancelled by the broker (its queue was deleted) is reported as Transient.
  Result<std::optional<AmqpDelivery>> NextDelivery(std::chrono::milliseconds timeout);
  /// basic.get with manual acknowledgement: one message or nullopt when the queue is empty.
  Result<std::optional<AmqpDelivery>> Get(std::uint16_t channel, std::string_view queue);

  /// basic.ack of one delivery.
  Status Ack(std::uint16_t channel, std::uint64_t delivery_tag);
  /// basic.nack of one delivery: back to its queue when `requeue`, else dead-lettered.
  Status Nack(std::uint16_t channel, std::uint64_t delivery_tag, bool requeue);
  /// Closes a channel; the broker returns its unacknowledged deliveries to their queues.
  Status CloseChannel(std::uint16_t channel);

 private:
  struct Impl;
  explicit AmqpConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The integer header `name` of `table` (0 when absent or not an integer).
std::int64_t HeaderInt(const AmqpTable& table, std::string_view name);
/// The string-array header `name` of `table` (empty when absent).
std::vector<std::string> HeaderStrings(const AmqpTable& table, std::string_view name);
/// The string header `name` of `table` (empty when absent).
std::string HeaderString(const AmqpTable& table, std::string_view name);

}  // namespace sluice
