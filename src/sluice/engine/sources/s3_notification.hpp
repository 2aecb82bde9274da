#pragma once
/// S3 event notifications: the JSON bodies object stores push when objects change, parsed into
/// sluice Events. Pure functions, no I/O; the `webhook` and `amqp` sources call them.
///
/// Accepted shapes (one body each):
///  - AWS S3 "event message structure" (S3 User Guide, "Event notification message structure",
///    eventVersion 2.1-2.3): `{"Records":[{eventName, eventTime, s3.bucket.name, s3.object.key,
///    size, eTag, versionId, sequencer}]}`; the key is form-URL-encoded ("red+flower.jpg").
///    An `{"Event":"s3:TestEvent"}` body (sent once when a configuration is saved) is a test event.
///  - The same inside an Amazon SNS HTTP(S) envelope (SNS Developer Guide, "Parsing message
///    formats"): `Type` "Notification" with the record JSON as the string `Message`;
///    "SubscriptionConfirmation" with `SubscribeURL`; "UnsubscribeConfirmation" (nothing to do).
///  - Ceph RGW (research/infra.md "Bucket notifications"; samples in
///    research/infra/ceph-notification-samples.jsonl): `eventSource` "ceph:s3", empty `awsRegion`,
///    eventVersion 2.2, `s3.object.metadata` a list of {key,val}. RGW does not URL-encode keys,
///    so a "ceph:s3" key is taken as is.
///  - MinIO: `{"EventName":"s3:ObjectCreated:Put","Key":"bucket/key","Records":[…]}` whose
///    records carry `eventSource` "minio:s3" and an `s3:`-prefixed eventName; keys URL-encoded.
///  - Amazon EventBridge (S3 User Guide, "EventBridge message structure"): `source` "aws.s3",
///    `detail-type` "Object Created"/"Object Deleted", `detail.bucket.name`,
///    `detail.object.{key,size,etag,version-id,sequencer}`, `detail.reason`, `time`. Keys are
///    taken as is. Other aws.s3 detail-types (restore, tagging, ACL, storage class) carry no
///    object change sluice acts on and parse to no records.
///
/// Event kinds are normalised to the S3 names sluice routes on: an "s3:" prefix is dropped
/// ("s3:ObjectCreated:Put" → "ObjectCreated:Put"); EventBridge reasons map to
/// "ObjectCreated:Put|Post|Copy|CompleteMultipartUpload" and "ObjectRemoved:Delete|
/// DeleteMarkerCreated".

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice {

/// One object event of a notification, before it is tied to a configured store.
struct S3EventRecord {
  std::string bucket;  ///< the bucket name as the notification gives it
  Event event;         ///< kind, key (decoded), size, etag, version, sequencer, time; store empty
};

/// A parsed notification body.
struct S3Notification {
  std::vector<S3EventRecord> records;  ///< in body order; empty for test and confirmation bodies
  std::string subscribe_url;           ///< SNS SubscriptionConfirmation only: the URL to GET
  bool test_event = false;  ///< s3:TestEvent or SNS UnsubscribeConfirmation: nothing to do
};

/// Parses one notification body (any shape listed at the top of this file). Returns
/// InvalidArgument with a precise reason: "not JSON: … at byte N" (1-based offset into `body`, or
/// into the SNS Message string with "SNS Message: " in front), or the JSON path of a missing or
/// mistyped field ("Records[2].s3.object.key is missing"), or an unknown shape. A missing or
/// empty event time (MinIO sometimes sends "") is taken as the time of parsing. Thread-safe.
Result<S3Notification> ParseS3Notification(std::string_view body);

/// Drops an "s3:" prefix from an event name ("s3:ObjectRemoved:Delete" → "ObjectRemoved:Delete");
/// other names are returned unchanged. Thread-safe.
std::string NormalizeS3EventName(std::string_view name);

/// Decodes an object key as AWS writes it in notifications (application/x-www-form-urlencoded:
/// '+' is a space, "%XX" a byte). InvalidArgument on a bad "%" escape. Thread-safe.
Result<std::string> DecodeS3NotificationKey(std::string_view key);

/// Ties a record to a configured store: the `s3://` store whose bucket is `record.bucket` and whose
/// prefix (if any) starts the key, the longest such prefix winning, with the key made relative to
/// that prefix; else `fallback_store` (the source's configured `store`) with the key unchanged.
/// NotFound naming the bucket and key when neither applies (no matching s3:// store and an empty
/// fallback). Thread-safe.
Result<Event> ResolveS3EventStore(const S3EventRecord& record,
                                  const std::map<std::string, StoreConfig>& stores,
                                  std::string_view fallback_store);

/// What ResolveS3EventStore needs of the opened stores: each one's config name and URL. Used by
/// the sources that receive notifications (webhook, amqp). Thread-safe.
std::map<std::string, StoreConfig> NotificationStores(const Resources& resources);

}  // namespace sluice
