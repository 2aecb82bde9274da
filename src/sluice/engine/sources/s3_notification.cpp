#include "sluice/engine/sources/s3_notification.hpp"

#include <array>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "sluice/core/uri.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice {
namespace {

using Json = nlohmann::json;

Error Invalid(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message), {}}; }

Result<Json> ParseJson(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: …"; keep the
    // part after the location, and give the byte offset ourselves.
    std::string_view reason = e.what();
    if (const auto colon = reason.find(": "); colon != std::string_view::npos) {
      reason.remove_prefix(colon + 2);
    }
    return Fail(Invalid(fmt::format("{}not JSON at byte {}: {}", what, e.byte, reason)));
  }
}

// A member of an object, by JSON path for messages ("Records[0].s3.object").
struct Field {
  const Json* json = nullptr;
  std::string path;
};

const Json* Member(const Json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string_view TypeName(const Json& json) { return json.type_name(); }

Result<Field> RequireObject(const Field& parent, std::string_view name) {
  Field field{Member(*parent.json, name), parent.path.empty() ? std::string(name)
                                                              : parent.path + "." + std::string(name)};
  if (field.json == nullptr) return Fail(Invalid(field.path + " is missing"));
  if (!field.json->is_object()) {
    return Fail(Invalid(fmt::format("{} must be an object, not {}", field.path, TypeName(*field.json))));
  }
  return field;
}

Result<std::string> RequireString(const Field& parent, std::string_view name) {
  const std::string path = parent.path.empty() ? std::string(name) : parent.path + "." + std::string(name);
  const Json* value = Member(*parent.json, name);
  if (value == nullptr) return Fail(Invalid(path + " is missing"));
  if (!value->is_string()) {
    return Fail(Invalid(fmt::format("{} must be a string, not {}", path, TypeName(*value))));
  }
  if (value->get_ref<const std::string&>().empty()) return Fail(Invalid(path + " is empty"));
  return value->get<std::string>();
}

// An optional string member; null counts as absent.
Result<std::string> OptionalString(const Field& parent, std::string_view name) {
  const Json* value = Member(*parent.json, name);
  if (value == nullptr || value->is_null()) return std::string();
  if (!value->is_string()) {
    return Fail(Invalid(fmt::format("{}.{} must be a string, not {}", parent.path, name, TypeName(*value))));
  }
  return value->get<std::string>();
}

// An optional size in bytes: a non-negative integer, or a string of digits (some emitters quote
// numbers).
Result<std::uint64_t> OptionalSize(const Field& parent, std::string_view name) {
  const Json* value = Member(*parent.json, name);
  if (value == nullptr || value->is_null()) return std::uint64_t{0};
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    std::uint64_t size = 0;
    bool ok = !text.empty() && text.size() <= 19;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
      size = size * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (ok) return size;
  }
  return Fail(Invalid(fmt::format("{}.{} must be a non-negative integer, not {}", parent.path, name,
                                  value->dump())));
}

// An optional time; nullopt when absent or empty (some MinIO events send ""), and the caller
// uses the time of parsing instead.
Result<std::optional<std::chrono::system_clock::time_point>> OptionalTime(const Field& parent,
                                                                          std::string_view name) {
  SLUICE_ASSIGN_OR_RETURN(std::string text, OptionalString(parent, name));
  if (text.empty()) return std::optional<std::chrono::system_clock::time_point>();
  auto time = s3::ParseIso8601(text);
  if (!time) {
    return Fail(Invalid(fmt::format("{}.{}: {}", parent.path, name, time.error().message)));
  }
  return std::optional<std::chrono::system_clock::time_point>(*time);
}

// Parses one AWS-style record: Records[i].
Result<S3EventRecord> ParseRecord(const Field& record) {
  if (!record.json->is_object()) {
    return Fail(Invalid(fmt::format("{} must be an object, not {}", record.path, TypeName(*record.json))));
  }
  S3EventRecord out;
  SLUICE_ASSIGN_OR_RETURN(std::string name, RequireString(record, "eventName"));
  out.event.kind = NormalizeS3EventName(name);
  SLUICE_ASSIGN_OR_RETURN(std::string source, OptionalString(record, "eventSource"));
  SLUICE_ASSIGN_OR_RETURN(auto time, OptionalTime(record, "eventTime"));
  out.event.time = time.value_or(std::chrono::system_clock::now());
  SLUICE_ASSIGN_OR_RETURN(Field s3, RequireObject(record, "s3"));
  SLUICE_ASSIGN_OR_RETURN(Field bucket, RequireObject(s3, "bucket"));
  SLUICE_ASSIGN_OR_RETURN(out.bucket, RequireString(bucket, "name"));
  SLUICE_ASSIGN_OR_RETURN(Field object, RequireObject(s3, "object"));
  SLUICE_ASSIGN_OR_RETURN(std::string key, RequireString(object, "key"));
  if (source == "ceph:s3") {
    out.event.key = std::move(key);  // RGW sends keys unencoded
  } else {
    auto decoded = DecodeS3NotificationKey(key);
    if (!decoded) return Fail(Invalid(fmt::format("{}.key: {}", object.path, decoded.error().message)));
    out.event.key = std::move(*decoded);
  }
  SLUICE_ASSIGN_OR_RETURN(out.event.size_bytes, OptionalSize(object, "size"));
  SLUICE_ASSIGN_OR_RETURN(std::string etag, OptionalString(object, "eTag"));
  out.event.etag = s3::UnquoteEtag(etag);
  SLUICE_ASSIGN_OR_RETURN(out.event.version, OptionalString(object, "versionId"));
  SLUICE_ASSIGN_OR_RETURN(out.event.sequencer, OptionalString(object, "sequencer"));
  return out;
}

// EventBridge reason → S3 event kind (S3 User Guide, "EventBridge message structure": reason is
// the API that caused the event).
std::string EventBridgeKind(std::string_view detail_type, std::string_view reason,
                            std::string_view deletion_type) {
  if (detail_type == "Object Created") {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kCreated = {{
        {"PutObject", "ObjectCreated:Put"},
        {"POST Object", "ObjectCreated:Post"},
        {"CopyObject", "ObjectCreated:Copy"},
        {"CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"},
    }};
    for (const auto& [api, kind] : kCreated) {
      if (reason == api) return std::string(kind);
    }
    return "ObjectCreated:Put";
  }
  if (deletion_type == "Delete Marker Created") return "ObjectRemoved:DeleteMarkerCreated";
  return "ObjectRemoved:Delete";
}

Result<S3Notification> ParseEventBridge(const Json& root) {
  S3Notification out;
  const Field top{&root, ""};
  SLUICE_ASSIGN_OR_RETURN(std::string source, OptionalString(top, "source"));
  if (!source.empty() && source != "aws.s3") {
    return Fail(Invalid(fmt::format("EventBridge event from source '{}', expected aws.s3", source)));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string detail_type, RequireString(top, "detail-type"));
  if (detail_type != "Object Created" && detail_type != "Object Deleted") return out;
  SLUICE_ASSIGN_OR_RETURN(Field detail, RequireObject(top, "detail"));
  SLUICE_ASSIGN_OR_RETURN(Field bucket, RequireObject(detail, "bucket"));
  SLUICE_ASSIGN_OR_RETURN(Field object, RequireObject(detail, "object"));
  S3EventRecord record;
  SLUICE_ASSIGN_OR_RETURN(record.bucket, RequireString(bucket, "name"));
  SLUICE_ASSIGN_OR_RETURN(record.event.key, RequireString(object, "key"));
  SLUICE_ASSIGN_OR_RETURN(std::string reason, OptionalString(detail, "reason"));
  SLUICE_ASSIGN_OR_RETURN(std::string deletion_type, OptionalString(detail, "deletion-type"));
  record.event.kind = EventBridgeKind(detail_type, reason, deletion_type);
  SLUICE_ASSIGN_OR_RETURN(record.event.size_bytes, OptionalSize(object, "size"));
  SLUICE_ASSIGN_OR_RETURN(std::string etag, OptionalString(object, "etag"));
  record.event.etag = s3::UnquoteEtag(etag);
  SLUICE_ASSIGN_OR_RETURN(record.event.version, OptionalString(object, "version-id"));
  SLUICE_ASSIGN_OR_RETURN(record.event.sequencer, OptionalString(object, "sequencer"));
  SLUICE_ASSIGN_OR_RETURN(auto time, OptionalTime(top, "time"));
  record.event.time = time.value_or(std::chrono::system_clock::now());
  out.records.push_back(std::move(record));
  return out;
}

// A body that is not an SNS envelope: Records, EventBridge or a test event.
Result<S3Notification> ParseUnwrapped(const Json& root) {
  if (const Json* records = Member(root, "Records")) {
    if (!records->is_array()) {
      return Fail(Invalid(fmt::format("Records must be an array, not {}", TypeName(*records))));
    }
    S3Notification out;
    out.records.reserve(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(auto record, ParseRecord(Field{&(*records)[i], fmt::format("Records[{}]", i)}));
      out.records.push_back(std::move(record));
    }
    return out;
  }
  if (Member(root, "detail-type") != nullptr) return ParseEventBridge(root);
  if (const Json* event = Member(root, "Event"); event != nullptr && event->is_string() &&
                                                 event->get_ref<const std::string&>() == "s3:TestEvent") {
    S3Notification out;
    out.test_event = true;
    return out;
  }
  return Fail(Invalid(
      "not an S3 event notification: expected Records (S3, Ceph RGW, MinIO), an SNS envelope "
      "(Type), an EventBridge event (detail-type) or an s3:TestEvent"));
}

}  // namespace

std::string NormalizeS3EventName(std::string_view name) {
  if (name.starts_with("s3:")) name.remove_prefix(3);
  return std::string(name);
}

Result<std::string> DecodeS3NotificationKey(std::string_view key) {
  std::string spaced(key);
  for (char& c : spaced) {
    if (c == '+') c = ' ';
  }
  return PercentDecode(spaced);
}

Result<S3Notification> ParseS3Notification(std::string_view body) {
  SLUICE_ASSIGN_OR_RETURN(Json root, ParseJson(body, ""));
  if (!root.is_object()) {
    return Fail(Invalid(fmt::format("expected a JSON object, got {}", TypeName(root))));
  }
  const Json* type = Member(root, "Type");
  if (type == nullptr || Member(root, "Records") != nullptr) return ParseUnwrapped(root);

  // Amazon SNS HTTP(S) delivery.
  const Field top{&root, ""};
  SLUICE_ASSIGN_OR_RETURN(std::string sns_type, RequireString(top, "Type"));
  S3Notification out;
  if (sns_type == "SubscriptionConfirmation") {
    SLUICE_ASSIGN_OR_RETURN(out.subscribe_url, RequireString(top, "SubscribeURL"));
    return out;
  }
  if (sns_type == "UnsubscribeConfirmation") {
    out.test_event = true;
    return out;
  }
  if (sns_type != "Notification") {
    return Fail(Invalid(fmt::format(
        "unknown SNS message Type '{}': expected Notification, SubscriptionConfirmation or "
        "UnsubscribeConfirmation", sns_type)));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string message, RequireString(top, "Message"));
  SLUICE_ASSIGN_OR_RETURN(Json inner, ParseJson(message, "SNS Message: "));
  if (!inner.is_object()) {
    return Fail(Invalid(fmt::format("SNS Message: expected a JSON object, got {}", TypeName(inner))));
  }
  auto parsed = ParseUnwrapped(inner);
  if (!parsed) return Fail(Invalid("SNS Message: " + parsed.error().message));
  return parsed;
}

Result<Event> ResolveS3EventStore(const S3EventRecord& record,
                                  const std::map<std::string, StoreConfig>& stores,
                                  std::string_view fallback_store) {
  const StoreConfig* best = nullptr;
  std::string best_prefix;
  for (const auto& [name, store] : stores) {
    auto uri = ParseUri(store.url);
    if (!uri || uri->scheme != "s3" || uri->authority != record.bucket) continue;
    std::string prefix = uri->path.empty() ? std::string() : uri->path.substr(1);
    if (!prefix.empty() && !prefix.ends_with('/')) prefix.push_back('/');
    if (!record.event.key.starts_with(prefix)) continue;
    if (best == nullptr || prefix.size() > best_prefix.size()) {
      best = &store;
      best_prefix = std::move(prefix);
    }
  }
  Event event = record.event;
  if (best != nullptr) {
    event.store = best->name;
    event.key.erase(0, best_prefix.size());
    return event;
  }
  if (fallback_store.empty()) {
    return Fail(ErrorCode::NotFound,
                fmt::format("no s3:// store is bucket '{}' (with a prefix of key '{}') and the source "
                            "names no store", record.bucket, record.event.key));
  }
  event.store = std::string(fallback_store);
  return event;
}

std::map<std::string, StoreConfig> NotificationStores(const Resources& resources) {
  std::map<std::string, StoreConfig> stores;
  for (const auto& [name, store] : resources.stores) {
    StoreConfig entry;
    entry.name = name;
    entry.url = store->Url();
    stores.emplace(name, std::move(entry));
  }
  return stores;
}

}  // namespace sluice
