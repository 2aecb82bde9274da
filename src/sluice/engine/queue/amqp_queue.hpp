#pragma once
/// The `amqp://` queue: jobs on a RabbitMQ broker, so that any number of `sluice worker` processes
/// on any hosts share them (DESIGN.md, "Queue"; issue 5, "Scale-out on a real broker").
///
/// URL: `amqp://user:pass@host:port/vhost?queue=PREFIX` (ParseAmqpUrl). For PREFIX (default
/// "sluice") and each route R the queue declares, all durable:
///   PREFIX.R                 a quorum queue (x-queue-type=quorum) holding R's jobs, with
///                            dead-letter exchange PREFIX.dlx and x-delivery-limit kAmqpDeliveryLimit
///                            (a job whose worker keeps dying is dead-lettered by the broker)
///   PREFIX.R.retry.<ms>ms    one classic queue per delay of kAmqpRetryDelays, x-message-ttl=<ms>,
///                            dead-lettering back to PREFIX.R through the default exchange: a
///                            failed attempt waits there (delayed retry)
///   PREFIX.dlx               a direct exchange; PREFIX.dead, a quorum queue bound to it with key
///                            "dead", is the dead-letter queue of every route
/// A job is one persistent message: the body is sluice's JSON job (EncodeAmqpJob), the message id
/// its job id, and the headers carry its history: kAmqpAttemptsHeader (failed attempts so far) and
/// kAmqpErrorsHeader (every error, oldest first), kAmqpAttemptLogHeader (one JSON object per
/// failed attempt: number, owner, started_ms, ended_ms, outcome "failed"/"dead", error; the source
/// of `sluice dlq show`'s attempt history); a dead job also has kAmqpDeadReasonHeader.
///
/// Delivery: publishes wait for publisher confirms; workers consume with basic.qos(prefetch = the
/// route's concurrency) and ack only after the handler succeeded. A failed attempt is published
/// to the retry queue of the smallest delay >= the backoff (or to the dead-letter queue when
/// attempts are used up or the error is not retryable), confirmed, and only then acked. Release
/// is basic.nack with requeue. There are no leases: when a worker's connection dies (`kill -9`),
/// the broker returns its unacknowledged jobs to the queue, so an interrupted attempt is not
/// counted (x-delivery-limit bounds the crash loops).
///
/// Not supported, with ErrorCode::Unsupported: listing or showing jobs that are not dead (a broker
/// queue cannot be browsed without taking its messages). AMQP has no dedupe: Enqueue publishes
/// every job, and a job may run more than once (a crash after the handler, before the ack);
/// exactly-once in effect comes from idempotent handlers (deterministic output keys,
/// replace-not-append rows), as everywhere in sluice.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/queue/queue.hpp"

namespace sluice {

/// Delays of the retry queues; a backoff is rounded up to the next one (the last one caps it).
inline constexpr std::array<std::chrono::milliseconds, 14> kAmqpRetryDelays = {
    std::chrono::milliseconds(100), std::chrono::milliseconds(250), std::chrono::milliseconds(500),
    std::chrono::seconds(1),        std::chrono::seconds(2),        std::chrono::seconds(5),
    std::chrono::seconds(10),       std::chrono::seconds(30),       std::chrono::minutes(1),
    std::chrono::minutes(2),        std::chrono::minutes(5),        std::chrono::minutes(15),
    std::chrono::hours(1),          std::chrono::hours(6)};

/// Deliveries of one message (crashes and releases included) before the broker dead-letters it.
inline constexpr std::int64_t kAmqpDeliveryLimit = 20;

/// Message header: failed attempts so far (integer).
inline constexpr std::string_view kAmqpAttemptsHeader = "x-sluice-attempts";
/// Message header: every attempt's error, oldest first (array of strings).
inline constexpr std::string_view kAmqpErrorsHeader = "x-sluice-errors";
/// Message header of a dead job: why it was dead-lettered (string).
inline constexpr std::string_view kAmqpDeadReasonHeader = "x-sluice-dead-reason";
/// Message header: one JSON object per ended attempt (number, owner, started_ms, ended_ms,
/// outcome, error), read back by AmqpQueue's Attempts().
inline constexpr std::string_view kAmqpAttemptLogHeader = "x-sluice-attempt-log";

/// The retry delay used for a wanted backoff: the smallest of kAmqpRetryDelays that is >= `wanted`,
/// or the largest. Thread-safe.
std::chrono::milliseconds AmqpRetryDelay(std::chrono::milliseconds wanted);

/// Names of the broker objects of one queue prefix (see the file comment).
struct AmqpNames {
  std::string prefix;
  [[nodiscard]] std::string RouteQueue(std::string_view route) const;
  [[nodiscard]] std::string RetryQueue(std::string_view route, std::chrono::milliseconds delay) const;
  [[nodiscard]] std::string DeadQueue() const;
  [[nodiscard]] std::string DeadExchange() const;
};
/// Routing key of the dead-letter queue's binding.
inline constexpr std::string_view kAmqpDeadRoutingKey = "dead";

/// The body of a job message.
struct AmqpJob {
  std::int64_t id = 0;
  std::string route;
  std::string dedupe_key;
  int max_attempts = 1;
  std::chrono::system_clock::time_point created;
  Event event;
};

/// JSON: {"id", "route", "dedupe_key", "max_attempts", "created_ms", "event": Event::ToJson()}.
std::string EncodeAmqpJob(const AmqpJob& job);
/// Parses EncodeAmqpJob's form; InvalidArgument naming the field (or the JSON error and its byte
/// offset). Thread-safe.
Result<AmqpJob> DecodeAmqpJob(std::string_view body);

/// A new job id: milliseconds since 2024 in the high bits, a per-process counter (random start)
/// in the low 22, so ids sort by creation time and processes do not collide in practice.
/// Thread-safe.
std::int64_t NewAmqpJobId();

/// Connects to the broker of `url`, declares the dead-letter exchange and queue, and returns the
/// queue; route queues are declared on first use. InvalidArgument for a bad URL; Transient when the
/// broker cannot be reached; PermissionDenied when the login is refused. Every method is
/// thread-safe (one publishing and one consuming connection, each behind its own mutex).
Result<std::unique_ptr<Queue>> MakeAmqpQueue(std::string_view url);

}  // namespace sluice
