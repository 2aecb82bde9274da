#include "sluice/store/memory/memory_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "sluice/core/hash.hpp"
#include "sluice/store/internal.hpp"

namespace sluice {
namespace {

using store_internal::OpContext;

/// One stored object. The bytes are shared and immutable so a reader streams them unlocked
/// while a writer replaces the entry.
struct MemoryObject {
  std::shared_ptr<const std::string> bytes;
  std::string etag;
  std::chrono::system_clock::time_point last_modified;
  ObjectTags tags;
};

/// The objects of one named store, shared by every MemoryStore of that name.
struct MemoryBucket {
  std::mutex mutex;
  std::map<std::string, MemoryObject, std::less<>> objects;  ///< guarded by mutex
};

/// Process-wide registry of named buckets. Buckets live as long as the process.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<MemoryBucket>, std::less<>> buckets;  ///< guarded by mutex
};

Registry& TheRegistry() {
  static Registry registry;
  return registry;
}

ObjectInfo InfoOf(std::string_view key, const MemoryObject& object) {
  return ObjectInfo{std::string(key), object.bytes->size(), object.etag, object.last_modified};
}

class MemoryWriter final : public ObjectWriter {
 public:
  MemoryWriter(std::shared_ptr<MemoryBucket> bucket, std::string key, ObjectTags tags)
      : bucket_(std::move(bucket)), key_(std::move(key)), tags_(std::move(tags)) {}

  Status Write(std::string_view bytes) override {
    if (closed_)
      return Fail(ErrorCode::InvalidArgument, "writer already closed", OpContext("put", key_));
    bytes_.append(bytes);
    md5_.Update(bytes);
    return Ok();
  }

  Result<ObjectInfo> Close() override {
    if (closed_)
      return Fail(ErrorCode::InvalidArgument, "writer already closed", OpContext("put", key_));
    closed_ = true;
    MemoryObject object{std::make_shared<const std::string>(std::move(bytes_)), md5_.FinishHex(),
                        std::chrono::system_clock::now(), std::move(tags_)};
    ObjectInfo info = InfoOf(key_, object);
    const std::lock_guard lock(bucket_->mutex);
    bucket_->objects.insert_or_assign(key_, std::move(object));
    return info;
  }

 private:
  std::shared_ptr<MemoryBucket> bucket_;
  std::string key_;
  ObjectTags tags_;
  std::string bytes_;
  Md5 md5_;
  bool closed_ = false;
};

/// Random access to one version of an object: it shares the immutable bytes.
class MemoryReader final : public ObjectReader {
 public:
  MemoryReader(std::shared_ptr<const std::string> bytes, ObjectInfo info)
      : bytes_(std::move(bytes)), info_(std::move(info)) {}

  [[nodiscard]] const ObjectInfo& Info() const override { return info_; }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<char> buffer) override {
    if (offset > bytes_->size()) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("offset {} is past the end ({} bytes)", offset, bytes_->size()),
                  OpContext("read", info_.key));
    }
    return bytes_->copy(buffer.data(), buffer.size(), static_cast<std::size_t>(offset));
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  ObjectInfo info_;
};

class MemoryStore final : public ObjectStore {
 public:
  MemoryStore(std::string name, std::shared_ptr<MemoryBucket> bucket)
      : name_(std::move(name)), bucket_(std::move(bucket)) {}

  [[nodiscard]] std::string Url() const override { return "memory://" + name_; }

  [[nodiscard]] StoreCapabilities Capabilities() const override {
    return StoreCapabilities{.durable = false, .key_and_folder_may_share_name = true};
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    SLUICE_RETURN_IF_ERROR(Check("head", key));
    SLUICE_ASSIGN_OR_RETURN(MemoryObject object, Find("head", key));
    return InfoOf(key, object);
  }

  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    SLUICE_RETURN_IF_ERROR(Check("get", key));
    SLUICE_ASSIGN_OR_RETURN(MemoryObject object, Find("get", key));
    const std::string_view bytes = *object.bytes;
    SLUICE_ASSIGN_OR_RETURN(
        auto span, store_internal::ResolveRange(range, bytes.size(), OpContext("get", key)));
    // Chunked like the other backends, so sinks see the same shapes everywhere.
    for (auto at = span.begin; at < span.end;) {
      const auto length = std::min<std::uint64_t>(store_internal::kReadChunkBytes, span.end - at);
      SLUICE_RETURN_IF_ERROR(sink(bytes.substr(at, length)));
      at += length;
    }
    return InfoOf(key, object);
  }

  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override {
    SLUICE_RETURN_IF_ERROR(Check("open", key));
    SLUICE_ASSIGN_OR_RETURN(MemoryObject object, Find("open", key));
    return std::make_unique<MemoryReader>(object.bytes, InfoOf(key, object));
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override {
    SLUICE_RETURN_IF_ERROR(Check("put", key));
    if (auto valid = ValidateTags(options.tags); !valid) {
      return Fail(std::move(valid).error().WithContext(OpContext("put", key)));
    }
    return std::make_unique<MemoryWriter>(bucket_, std::string(key), options.tags);
  }

  Result<ObjectTags> GetTags(std::string_view key) override {
    SLUICE_RETURN_IF_ERROR(Check("get tags", key));
    SLUICE_ASSIGN_OR_RETURN(MemoryObject object, Find("get tags", key));
    return std::move(object.tags);
  }

  Result<ListPage> List(const ListOptions& options) override {
    SLUICE_RETURN_IF_ERROR(store_internal::ValidateListOptions(options));
    ListPageBuilder builder(options);
    const std::lock_guard lock(bucket_->mutex);
    const std::string& from = std::max(options.prefix, builder.StartAfter());
    for (auto it = bucket_->objects.lower_bound(from);
         it != bucket_->objects.end() && it->first.starts_with(options.prefix); ++it) {
      if (!builder.Add(InfoOf(it->first, it->second))) break;
    }
    return std::move(builder).Finish();
  }

  Status Delete(std::string_view key) override {
    SLUICE_RETURN_IF_ERROR(Check("delete", key));
    const std::lock_guard lock(bucket_->mutex);
    if (const auto it = bucket_->objects.find(key); it != bucket_->objects.end()) {
      bucket_->objects.erase(it);
    }
    return Ok();
  }

  Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) override {
    const auto context = fmt::format("copy {} to {}", store_internal::PrintableKey(source_key),
                                     store_internal::PrintableKey(destination_key));
    for (const auto key : {source_key, destination_key}) {
      if (auto valid = ValidateKey(key); !valid)
        return Fail(std::move(valid).error().WithContext(context));
    }
    const std::lock_guard lock(bucket_->mutex);
    const auto it = bucket_->objects.find(source_key);
    if (it == bucket_->objects.end()) return Fail(ErrorCode::NotFound, "no such key", context);
    MemoryObject copy = it->second;
    copy.last_modified = std::chrono::system_clock::now();
    ObjectInfo info = InfoOf(destination_key, copy);
    bucket_->objects.insert_or_assign(std::string(destination_key), std::move(copy));
    return info;
  }

 private:
  static Status Check(std::string_view operation, std::string_view key) {
    if (auto valid = ValidateKey(key); !valid) {
      return Fail(std::move(valid).error().WithContext(OpContext(operation, key)));
    }
    return Ok();
  }

  Result<MemoryObject> Find(std::string_view operation, std::string_view key) {
    const std::lock_guard lock(bucket_->mutex);
    const auto it = bucket_->objects.find(key);
    if (it == bucket_->objects.end()) {
      return Fail(ErrorCode::NotFound, "no such key", OpContext(operation, key));
    }
    return it->second;
  }

  std::string name_;
  std::shared_ptr<MemoryBucket> bucket_;
};

std::shared_ptr<MemoryBucket> BucketNamed(std::string_view name) {
  Registry& registry = TheRegistry();
  const std::lock_guard lock(registry.mutex);
  auto it = registry.buckets.find(name);
  if (it == registry.buckets.end()) {
    it = registry.buckets.emplace(std::string(name), std::make_shared<MemoryBucket>()).first;
  }
  return it->second;
}

}  // namespace

std::unique_ptr<ObjectStore> MakeMemoryStore(std::string_view name) {
  return std::make_unique<MemoryStore>(std::string(name), BucketNamed(name));
}

void ClearMemoryStore(std::string_view name) {
  std::shared_ptr<MemoryBucket> bucket;
  {
    Registry& registry = TheRegistry();
    const std::lock_guard lock(registry.mutex);
    const auto it = registry.buckets.find(name);
    if (it == registry.buckets.end()) return;
    bucket = it->second;
  }
  std::map<std::string, MemoryObject, std::less<>> dropped;
  const std::lock_guard lock(bucket->mutex);
  dropped.swap(bucket->objects);
}

}  // namespace sluice
