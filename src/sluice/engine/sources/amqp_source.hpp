#pragma once
/// The `amqp` source: consumes S3 event notifications that an object store (Ceph RGW's AMQP push
/// endpoint; research/infra.md, "Bucket notifications") publishes to RabbitMQ, and acks each
/// message only after its events were durably enqueued.

#include <memory>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"
#include "sluice/engine/sources/source.hpp"

namespace sluice {

/// Builds the amqp source of `config`: `url` names the broker (amqp://user:pass@host:port/vhost),
/// `queue` the durable queue it declares and consumes (default: the URL's `?queue=`), and
/// `exchange` + `routing_key` the binding it declares (RGW pushes to amq.topic with the topic name
/// as routing key). Each record's store is found as the webhook's is (ResolveS3EventStore: the
/// s3:// store of its bucket, else `config.store`; records with neither are skipped with a
/// warning), then filtered by `prefix`/`suffix`. Each Pass consumes until the queue has been idle
/// for 250 ms (at most 2 s). InvalidArgument for a bad URL or an unknown `store`.
Result<std::unique_ptr<Source>> MakeAmqpSource(const SourceConfig& config, const Resources& resources);

}  // namespace sluice
