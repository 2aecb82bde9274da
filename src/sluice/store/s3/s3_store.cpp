#include "sluice/store/s3/s3_store.hpp"

#include "sluice/aws/sigv4.hpp"
#include "sluice/core/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <semaphore>
#include <span>
#include <thread>
#include <utility>

#include "sluice/aws/credentials.hpp"
#include "sluice/core/hash.hpp"
#include "sluice/core/log.hpp"
#include "sluice/store/internal.hpp"

namespace sluice {

using store_internal::OpContext;

/// The bytes of one PutObject or UploadPart: in memory, or a range of an ObjectReader (then
/// read twice, once for Content-MD5 and once as it is sent, never held whole).
struct ObjectData {
  std::string_view bytes{};        ///< when `reader` is null
  ObjectReader* reader = nullptr;  ///< else `size_bytes` bytes of it from `offset`
  std::uint64_t offset = 0;
  std::uint64_t size_bytes = 0;

  [[nodiscard]] std::uint64_t Size() const { return reader != nullptr ? size_bytes : bytes.size(); }
};

/// What one PutObject or UploadPart stored.
struct SentData {
  std::string etag;                 ///< unquoted, as the server answered
  std::array<std::uint8_t, 16> md5{};  ///< of what was sent (zero when checksums are off)
};

/// Bytes read at a time when hashing a range of an ObjectReader.
constexpr std::size_t kHashChunkBytes = 256 * 1024;

struct S3Store::Core {
  S3StoreConfig config;
  std::unique_ptr<s3::S3Client> client;
  /// Bounds the PutObject and UploadPart requests of all writers and PutFrom calls of this
  /// store to config.parallelism at once. Only uploads take a slot, and each holds it for one
  /// request that waits on nothing else, so no slot holder can wait for another slot.
  std::shared_ptr<std::counting_semaphore<>> upload_slots;

  /// PutObject (`query` empty) or UploadPart of `data` as `full_key`, in one upload slot, with
  /// Content-MD5 (when checksums are on) and the returned ETag checked against it. A PutObject
  /// sends `tagging` (FormatTagging) as x-amz-tagging when it is not empty.
  Result<SentData> SendObjectData(const std::string& operation, const std::string& full_key,
                                  std::vector<std::pair<std::string, std::string>> query,
                                  const ObjectData& data, const std::string& tagging = {}) {
    upload_slots->acquire();
    struct Release {
      std::counting_semaphore<>& slots;
      ~Release() { slots.release(); }
    } release{*upload_slots};

    auto call = MakeCall(operation, "PUT", full_key);
    if (query.empty() && !config.storage_class.empty()) {
      call.headers.emplace_back("x-amz-storage-class", config.storage_class);
    }
    if (query.empty() && !tagging.empty()) call.headers.emplace_back("x-amz-tagging", tagging);
    call.query = std::move(query);
    call.unsigned_payload = true;
    if (data.reader != nullptr) {
      call.body_size_bytes = data.size_bytes;
      call.body_source = [&data](std::uint64_t offset, std::span<char> buffer) {
        return data.reader->ReadAt(data.offset + offset, buffer);
      };
    } else {
      call.body = data.bytes;
    }
    SentData sent;
    std::string md5_hex;
    if (config.md5_checksums) {
      SLUICE_ASSIGN_OR_RETURN(sent.md5, Md5Of(data));
      const std::string_view raw(reinterpret_cast<const char*>(sent.md5.data()), sent.md5.size());
      md5_hex = ToHex(raw);
      call.headers.emplace_back("Content-MD5", s3::Base64(raw));
    }
    SLUICE_ASSIGN_OR_RETURN(auto response, client->Call(std::move(call)));
    sent.etag = s3::UnquoteEtag(response.Header("ETag").value_or(""));
    if (sent.etag.empty() || (config.md5_checksums && sent.etag != md5_hex)) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the server's ETag '{}' differs from {}, the MD5 of what was sent",
                              sent.etag, md5_hex.empty() ? "(not computed)" : md5_hex),
                  Context(operation, full_key));
    }
    return sent;
  }

  /// MD5 of `data`, reading a reader's range in kHashChunkBytes pieces.
  static Result<std::array<std::uint8_t, 16>> Md5Of(const ObjectData& data) {
    Md5 md5;
    if (data.reader == nullptr) {
      md5.Update(data.bytes);
      return md5.Finish();
    }
    thread_local std::string buffer(kHashChunkBytes, '\0');
    for (std::uint64_t done = 0; done < data.size_bytes;) {
      const auto want = static_cast<std::size_t>(
          std::min<std::uint64_t>(buffer.size(), data.size_bytes - done));
      SLUICE_ASSIGN_OR_RETURN(const std::size_t read,
                              data.reader->ReadAt(data.offset + done, std::span(buffer.data(), want)));
      if (read != want) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("the source ended at byte {}", data.offset + done + read),
                    OpContext("read", data.reader->Info().key));
      }
      md5.Update(std::string_view(buffer.data(), read));
      done += read;
    }
    return md5.Finish();
  }

  [[nodiscard]] std::string FullKey(std::string_view key) const {
    return config.root_prefix + std::string(key);
  }

  /// ValidateKey, plus S3's 1024-byte limit on the full key (the root prefix counts too).
  /// InvalidArgument with context "<operation> <key>".
  [[nodiscard]] Status Validate(std::string_view key, std::string_view operation) const {
    constexpr std::size_t kMaxKeyBytes = 1024;  // "Creating object key names", S3 User Guide
    if (auto valid = ValidateKey(key); !valid) {
      return Fail(std::move(valid).error().WithContext(OpContext(operation, key)));
    }
    if (config.root_prefix.size() + key.size() > kMaxKeyBytes) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("with the store's prefix '{}' the key is {} bytes, more than the "
                              "{} S3 allows",
                              config.root_prefix, config.root_prefix.size() + key.size(),
                              kMaxKeyBytes),
                  OpContext(operation, key));
    }
    return Ok();
  }

  /// "s3 <operation> bucket/key": the context of errors raised here rather than by the server.
  [[nodiscard]] std::string Context(std::string_view operation, std::string_view full_key) const {
    return fmt::format("s3 {} {}", operation, client->Where(full_key));
  }

  static s3::S3Call MakeCall(std::string operation, std::string method, std::string full_key) {
    s3::S3Call call;
    call.operation = std::move(operation);
    call.method = std::move(method);
    call.key = std::move(full_key);
    return call;
  }

  /// CreateMultipartUpload: the new upload's id. The object gets `tagging` (FormatTagging) as
  /// its tag set when the upload completes.
  Result<std::string> CreateMultipartUpload(const std::string& full_key,
                                            const std::string& tagging) {
    auto call = MakeCall("create multipart upload", "POST", full_key);
    call.query = {{"uploads", ""}};
    if (!config.storage_class.empty()) {
      call.headers.emplace_back("x-amz-storage-class", config.storage_class);
    }
    if (!tagging.empty()) call.headers.emplace_back("x-amz-tagging", tagging);
    SLUICE_ASSIGN_OR_RETURN(auto response, client->Call(std::move(call)));
    auto upload_id = s3::ParseInitiateMultipartUpload(response.body);
    if (!upload_id) {
      return Fail(std::move(upload_id).error().WithContext(Context("create multipart upload", full_key)));
    }
    return upload_id;
  }

  /// CompleteMultipartUpload of parts with `etags` (1..N); checks the result against
  /// `expected_etag` when given. A lost answer to a completion that did happen shows up as
  /// NoSuchUpload on the retry; then the object's ETag decides.
  Result<std::string> CompleteMultipartUpload(const std::string& full_key,
                                              const std::string& upload_id,
                                              const std::vector<std::string>& etags,
                                              const std::optional<std::string>& expected_etag) {
    const std::string body = s3::BuildCompleteMultipartUpload(etags);
    auto call = MakeCall("complete multipart upload", "POST", full_key);
    call.query = {{"uploadId", upload_id}};
    call.headers = {{"Content-Type", "application/xml"}};
    call.body = body;
    call.error_may_come_with_200 = true;
    const std::string context = Context("complete multipart upload", full_key);
    auto response = client->Call(std::move(call));
    std::string etag;
    if (response) {
      auto parsed = s3::ParseCompleteMultipartUpload(response->body);
      if (!parsed) return Fail(std::move(parsed).error().WithContext(context));
      etag = std::move(*parsed);
      if (etag.empty()) {
        // Ceph RGW 16.2 answers <ETag></ETag>; the object itself has the ETag.
        SLUICE_ASSIGN_OR_RETURN(etag, HeadEtag(full_key));
      }
    } else {
      if (response.error().code != ErrorCode::NotFound || !expected_etag) {
        return Fail(std::move(response).error());
      }
      auto head_etag = HeadEtag(full_key);
      if (!head_etag || *head_etag != *expected_etag) return Fail(std::move(response).error());
      etag = std::move(*head_etag);
    }
    if (expected_etag && etag != *expected_etag) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the server's ETag {} differs from {}, the MD5 of the part MD5s "
                              "sent",
                              etag, *expected_etag),
                  context);
    }
    return etag;
  }

  /// After a multipart upload whose CreateMultipartUpload carried `tagging`: makes sure the
  /// object has those tags. Ceph RGW 16.2 ignores x-amz-tagging on CreateMultipartUpload (the
  /// conformance suite's TagsComeWithObjectsLargerThanTheMultipartThreshold found it), so when
  /// GetObjectTagging disagrees the tags are set with PutObjectTagging; there, unlike on AWS,
  /// the object is briefly visible without them.
  Status EnsureTags(const std::string& full_key, const std::string& tagging) {
    if (tagging.empty()) return Ok();
    const std::string context = Context("put tags", full_key);
    auto wanted = ParseTagging(tagging);
    if (!wanted) return Fail(std::move(wanted).error().WithContext(context));
    auto get = MakeCall("get tags", "GET", full_key);
    get.query = {{"tagging", ""}};
    SLUICE_ASSIGN_OR_RETURN(auto response, client->Call(std::move(get)));
    auto have = s3::ParseGetObjectTagging(response.body);
    if (have && *have == *wanted) return Ok();
    const std::string body = s3::BuildTagging(*wanted);
    Md5 md5;
    md5.Update(body);
    const auto digest = md5.Finish();
    auto put = MakeCall("put tags", "PUT", full_key);
    put.query = {{"tagging", ""}};
    put.headers = {
        {"Content-Type", "application/xml"},
        {"Content-MD5",
         s3::Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()))}};
    put.body = body;
    SLUICE_RETURN_IF_ERROR(client->Call(std::move(put)));
    return Ok();
  }

  /// The unquoted ETag HeadObject reports for `full_key`.
  Result<std::string> HeadEtag(const std::string& full_key) {
    SLUICE_ASSIGN_OR_RETURN(auto head, client->Call(MakeCall("head", "HEAD", full_key)));
    return s3::UnquoteEtag(head.Header("ETag").value_or(""));
  }

  /// AbortMultipartUpload.
  Status AbortMultipartUpload(const std::string& full_key, const std::string& upload_id) {
    auto call = MakeCall("abort multipart upload", "DELETE", full_key);
    call.query = {{"uploadId", upload_id}};
    SLUICE_RETURN_IF_ERROR(client->Call(std::move(call)));
    return Ok();
  }
};

namespace {

/// The 16 bytes of a hex MD5 ETag, or nullopt when it is not one.
std::optional<std::array<std::uint8_t, 16>> DigestOfEtag(std::string_view etag) {
  if (etag.size() != 32) return std::nullopt;
  std::array<std::uint8_t, 16> digest{};
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const auto [end, ec] = std::from_chars(etag.data() + 2 * i, etag.data() + 2 * i + 2,
                                           digest[i], 16);
    if (ec != std::errc() || end != etag.data() + 2 * i + 2) return std::nullopt;
  }
  return digest;
}

std::string QuotedEtag(std::string_view etag) { return fmt::format("\"{}\"", etag); }

void SetHeader(HttpHeaders& headers, std::string_view name, std::string value) {
  for (auto& [key, old] : headers) {
    if (key == name) {
      old = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::move(value));
}

/// Reads an ObjectInfo from a HeadObject/GetObject response header. The size is the whole
/// object's: from Content-Range ("bytes 2-5/10") when present, else Content-Length.
Result<ObjectInfo> InfoFromHeaders(std::string_view key, const HttpResponse& response,
                                   const std::string& context) {
  ObjectInfo info;
  info.key = std::string(key);
  std::string_view size_text = response.Header("Content-Length").value_or("");
  if (const auto range = response.Header("Content-Range")) {
    const auto slash = range->rfind('/');
    if (slash != std::string_view::npos) size_text = range->substr(slash + 1);
  }
  const auto [end, ec] =
      std::from_chars(size_text.data(), size_text.data() + size_text.size(), info.size_bytes);
  if (size_text.empty() || ec != std::errc() || end != size_text.data() + size_text.size()) {
    return Fail(ErrorCode::Corrupt, "the response has no valid object size", context);
  }
  info.etag = s3::UnquoteEtag(response.Header("ETag").value_or(""));
  if (const auto modified = response.Header("Last-Modified")) {
    auto parsed = s3::ParseHttpDate(*modified);
    if (!parsed) return Fail(ErrorCode::Corrupt, parsed.error().message, context);
    info.last_modified = *parsed;
  }
  return info;
}

std::string RangeHeader(std::uint64_t first, std::optional<std::uint64_t> last) {
  return last ? fmt::format("bytes={}-{}", first, *last) : fmt::format("bytes={}-", first);
}

/// The streaming upload of one key: buffered, then PutObject or a multipart upload whose parts
/// worker threads send while the caller keeps writing.
class S3Writer final : public ObjectWriter {
 public:
  S3Writer(std::shared_ptr<S3Store::Core> core, std::string key, std::string tagging)
      : core_(std::move(core)),
        key_(std::move(key)),
        full_key_(core_->FullKey(key_)),
        context_(core_->Context("put", full_key_)),
        tagging_(std::move(tagging)) {}

  ~S3Writer() override {
    if (!closed_) AbortUpload();
  }

  S3Writer(const S3Writer&) = delete;
  S3Writer& operator=(const S3Writer&) = delete;

  Status Write(std::string_view bytes) override {
    if (closed_) return Fail(ErrorCode::InvalidArgument, "writer already closed", context_);
    SLUICE_RETURN_IF_ERROR(BackgroundError());
    if (bytes.size() > s3::kMaxObjectSizeBytes - size_bytes_) {
      return Failed(Error{ErrorCode::InvalidArgument,
                          "the object would exceed S3's 5 TiB limit", context_});
    }
    size_bytes_ += bytes.size();
    const auto& config = core_->config;
    while (!bytes.empty()) {
      const std::uint64_t limit =
          upload_id_.empty() ? config.multipart_threshold_bytes + 1 : PartSize();
      const std::size_t take = std::min<std::size_t>(bytes.size(), limit - buffer_.size());
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (buffer_.size() < limit) break;
      if (upload_id_.empty()) SLUICE_RETURN_IF_ERROR(StartMultipart());
      while (buffer_.size() >= PartSize()) {
        const std::size_t part_size = PartSize();
        std::string part;
        if (buffer_.size() == part_size) {
          part = std::exchange(buffer_, {});
        } else {
          part = buffer_.substr(0, part_size);
          buffer_.erase(0, part_size);
        }
        SLUICE_RETURN_IF_ERROR(Submit(std::move(part)));
      }
      // One allocation per part rather than a doubling series.
      if (buffer_.capacity() < PartSize()) buffer_.reserve(PartSize());
    }
    return Ok();
  }

  bool ReportSentBytes(ProgressSink* sink) override {
    sent_ = sink;
    return true;
  }

  Result<ObjectInfo> Close() override {
    if (closed_) return Fail(ErrorCode::InvalidArgument, "writer already closed", context_);
    closed_ = true;
    if (auto failed = BackgroundError(); !failed) {
      AbortUpload();
      return Fail(std::move(failed).error());
    }
    auto result = upload_id_.empty() ? PutObject() : CompleteMultipart();
    if (!result) AbortUpload();
    return result;
  }

 private:
  struct Part {
    int number = 0;
    std::string bytes;
  };

  [[nodiscard]] std::size_t PartSize() const {
    return static_cast<std::size_t>(
        s3::StreamPartSizeBytes(core_->config.part_size_bytes, next_part_number_));
  }

  /// Records `error` as the writer's failure (so later calls return it) and returns it.
  std::unexpected<Error> Failed(Error error) {
    std::lock_guard lock(shared_.mutex);
    if (!shared_.error) shared_.error = error;
    return Fail(std::move(error));
  }

  Status BackgroundError() {
    std::lock_guard lock(shared_.mutex);
    if (shared_.error) return Fail(*shared_.error);
    return Ok();
  }

  Status StartMultipart() {
    auto upload_id = core_->CreateMultipartUpload(full_key_, tagging_);
    if (!upload_id) return Failed(std::move(upload_id).error());
    upload_id_ = std::move(*upload_id);
    const int workers = std::max(core_->config.parallelism, 1);
    for (int i = 0; i < workers; ++i) workers_.emplace_back(WithLogContext([this] { WorkerLoop(); }));
    return Ok();
  }

  /// Queues the next part; blocks while `parallelism` parts are queued or in flight.
  Status Submit(std::string bytes) {
    if (next_part_number_ > s3::kMaxParts) {
      return Failed(Error{ErrorCode::InvalidArgument,
                          fmt::format("more than {} parts", s3::kMaxParts), context_});
    }
    std::unique_lock lock(shared_.mutex);
    const auto limit = static_cast<std::size_t>(std::max(core_->config.parallelism, 1));
    shared_.changed.wait(lock, [&] {
      return shared_.error || shared_.queue.size() + shared_.busy < limit;
    });
    if (shared_.error) return Fail(*shared_.error);
    shared_.queue.push_back(Part{next_part_number_++, std::move(bytes)});
    shared_.changed.notify_all();
    return Ok();
  }

  void WorkerLoop() {
    while (true) {
      Part part;
      {
        std::unique_lock lock(shared_.mutex);
        shared_.changed.wait(lock, [&] { return shared_.stopping || !shared_.queue.empty(); });
        if (shared_.queue.empty()) return;
        part = std::move(shared_.queue.front());
        shared_.queue.pop_front();
        ++shared_.busy;
      }
      auto uploaded = UploadPart(part);
      if (uploaded && sent_ != nullptr) sent_->AddBytes(part.bytes.size());
      std::lock_guard lock(shared_.mutex);
      --shared_.busy;
      if (uploaded) {
        shared_.done[part.number] = std::move(*uploaded);
      } else {
        if (!shared_.error) shared_.error = std::move(uploaded).error();
        shared_.queue.clear();
      }
      shared_.changed.notify_all();
    }
  }

  /// UploadPart (API Reference, "UploadPart"). Runs on a worker thread: touches only the part,
  /// upload_id_ (set before any worker started) and the thread-safe core.
  Result<SentData> UploadPart(const Part& part) {
    return core_->SendObjectData(fmt::format("upload part {}", part.number), full_key_,
                                 {{"partNumber", std::to_string(part.number)},
                                  {"uploadId", upload_id_}},
                                 ObjectData{.bytes = part.bytes});
  }

  /// PutObject (API Reference, "PutObject") of the buffered bytes.
  Result<ObjectInfo> PutObject() {
    SLUICE_ASSIGN_OR_RETURN(auto sent,
                            core_->SendObjectData("put", full_key_, {}, ObjectData{.bytes = buffer_},
                                                  tagging_));
    if (sent_ != nullptr) sent_->AddBytes(buffer_.size());
    buffer_.clear();
    return ObjectInfo{key_, size_bytes_, std::move(sent.etag), std::chrono::system_clock::now()};
  }

  Result<ObjectInfo> CompleteMultipart() {
    if (!buffer_.empty()) SLUICE_RETURN_IF_ERROR(Submit(std::exchange(buffer_, {})));
    StopWorkers();
    SLUICE_RETURN_IF_ERROR(BackgroundError());
    const int parts = next_part_number_ - 1;
    std::vector<std::string> etags;
    std::vector<std::array<std::uint8_t, 16>> md5s;
    for (int number = 1; number <= parts; ++number) {
      const auto it = shared_.done.find(number);
      if (it == shared_.done.end()) {
        return Fail(ErrorCode::Internal, fmt::format("part {} was not uploaded", number),
                    context_);
      }
      etags.push_back(it->second.etag);
      md5s.push_back(it->second.md5);
    }
    std::optional<std::string> expected;
    if (core_->config.md5_checksums) expected = s3::MultipartEtag(md5s);
    SLUICE_ASSIGN_OR_RETURN(auto etag,
                            core_->CompleteMultipartUpload(full_key_, upload_id_, etags, expected));
    upload_id_.clear();
    SLUICE_RETURN_IF_ERROR(core_->EnsureTags(full_key_, tagging_));
    return ObjectInfo{key_, size_bytes_, std::move(etag), std::chrono::system_clock::now()};
  }

  /// Lets queued parts finish (Close) and joins the workers.
  void StopWorkers() {
    {
      std::lock_guard lock(shared_.mutex);
      shared_.stopping = true;
      shared_.changed.notify_all();
    }
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

  /// Drops queued parts, waits for those in flight and aborts the multipart upload, if any.
  void AbortUpload() {
    {
      std::lock_guard lock(shared_.mutex);
      shared_.queue.clear();
    }
    StopWorkers();
    if (upload_id_.empty()) return;
    if (auto aborted = core_->AbortMultipartUpload(full_key_, upload_id_); !aborted) {
      // Its parts stay billed until a lifecycle rule or `cleanup-uploads` removes them.
      spdlog::warn("could not abort multipart upload {} of {}: {}", upload_id_,
                   core_->client->Where(full_key_), aborted.error().ToString());
    }
    upload_id_.clear();
  }

  // The writing thread's state.
  std::shared_ptr<S3Store::Core> core_;
  std::string key_;
  std::string full_key_;
  std::string context_;
  std::string tagging_;            ///< x-amz-tagging of the object; empty for no tags
  std::string buffer_;             ///< bytes not yet handed to a part
  std::uint64_t size_bytes_ = 0;   ///< bytes written so far
  int next_part_number_ = 1;
  std::string upload_id_;          ///< set before the workers start, cleared after they stop
  bool closed_ = false;
  ProgressSink* sent_ = nullptr;  ///< counts acknowledged bytes when set (ReportSentBytes)
  std::vector<std::thread> workers_;

  // Shared with the workers, guarded by `mutex`.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Part> queue;
    std::size_t busy = 0;  ///< parts being uploaded
    bool stopping = false;
    std::optional<Error> error;           ///< the first failure
    std::map<int, SentData> done;       ///< by part number
  } shared_;
};

}  // namespace

S3Store::S3Store(std::shared_ptr<Core> core) : core_(std::move(core)) {}

S3Store::~S3Store() = default;

std::string S3Store::Url() const {
  std::string url = "s3://" + core_->config.client.bucket;
  if (!core_->config.root_prefix.empty()) {
    url += "/" + core_->config.root_prefix.substr(0, core_->config.root_prefix.size() - 1);
  }
  return url;
}

StoreCapabilities S3Store::Capabilities() const {
  return StoreCapabilities{.durable = true, .key_and_folder_may_share_name = true};
}

Result<ObjectInfo> S3Store::Head(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "head"));
  const std::string full_key = core_->FullKey(key);
  SLUICE_ASSIGN_OR_RETURN(auto response,
                          core_->client->Call(Core::MakeCall("head", "HEAD", full_key)));
  return InfoFromHeaders(key, response, core_->Context("head", full_key));
}

Result<ObjectInfo> S3Store::GetTo(std::string_view key, const ByteSink& sink,
                                  std::optional<ByteRange> range) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "get"));
  const std::string full_key = core_->FullKey(key);
  const std::string context = core_->Context("get", full_key);
  if (range && range->last && *range->last < range->first) {
    // S3 would ignore such a Range and send the whole object (RFC 9110 §14.2).
    return Fail(store_internal::ResolveRange(range, 0, context).error());
  }
  auto call = Core::MakeCall("get", "GET", full_key);
  if (range) call.headers.emplace_back("Range", RangeHeader(range->first, range->last));

  std::optional<ObjectInfo> info;
  std::uint64_t delivered = 0;
  call.on_head = [&](const HttpResponse& head) -> Status {
    SLUICE_ASSIGN_OR_RETURN(auto seen, InfoFromHeaders(key, head, context));
    if (!info) {
      if (head.status == 200 && range) {
        // Only an unsatisfiable range of an empty object, or a server ignoring Range, gets here.
        SLUICE_ASSIGN_OR_RETURN(auto span,
                                store_internal::ResolveRange(range, seen.size_bytes, context));
        if (span.begin != 0 || span.end != seen.size_bytes) {
          return Fail(ErrorCode::Internal, "the server ignored the Range header", context);
        }
      }
      info = std::move(seen);
    } else if (seen.etag != info->etag) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the object changed while being read (ETag {} became {})",
                              info->etag, seen.etag),
                  context);
    }
    return Ok();
  };
  call.before_retry = [&](s3::S3Call& retry) {
    if (delivered == 0) return;
    // Resume after the last byte the sink took; on_head checks it is still the same object.
    const std::uint64_t first = (range ? range->first : 0) + delivered;
    SetHeader(retry.headers, "Range", RangeHeader(first, range ? range->last : std::nullopt));
  };
  const HttpBodySink counting_sink = [&](std::string_view chunk) -> Status {
    SLUICE_RETURN_IF_ERROR(sink(chunk));
    delivered += chunk.size();
    return Ok();
  };
  SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call), counting_sink));
  if (!info) return InfoFromHeaders(key, response, context);
  return std::move(*info);
}

Result<ObjectInfo> S3Store::PutFrom(std::string_view key, ObjectReader& source,
                                    const PutOptions& options) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "put"));
  SLUICE_RETURN_IF_ERROR(store_internal::CheckCancelled(options.cancel, "put", key));
  if (auto valid = ValidateTags(options.tags); !valid) {
    return Fail(std::move(valid).error().WithContext(OpContext("put", key)));
  }
  const std::string tagging = FormatTagging(options.tags);
  const std::string full_key = core_->FullKey(key);
  const std::uint64_t size_bytes = source.Info().size_bytes;
  const auto& config = core_->config;
  if (size_bytes > s3::kMaxObjectSizeBytes) {
    return Fail(ErrorCode::InvalidArgument, "the object would exceed S3's 5 TiB limit",
                core_->Context("put", full_key));
  }
  if (size_bytes <= config.multipart_threshold_bytes) {
    SLUICE_ASSIGN_OR_RETURN(
        auto sent, core_->SendObjectData("put", full_key, {},
                                         ObjectData{.reader = &source, .size_bytes = size_bytes},
                                         tagging));
    if (options.progress != nullptr) options.progress->AddBytes(size_bytes);
    return ObjectInfo{std::string(key), size_bytes, std::move(sent.etag),
                      std::chrono::system_clock::now()};
  }

  const std::uint64_t part_size = s3::FixedPartSizeBytes(config.part_size_bytes, size_bytes);
  const auto parts = static_cast<int>((size_bytes + part_size - 1) / part_size);
  SLUICE_ASSIGN_OR_RETURN(const std::string upload_id,
                          core_->CreateMultipartUpload(full_key, tagging));
  // Part threads take part numbers in order; each part is read from the source twice (hash,
  // send) and never buffered, so memory stays flat however large the object.
  std::vector<SentData> sent(static_cast<std::size_t>(parts));
  std::atomic<int> next_part{0};
  std::mutex error_mutex;
  std::optional<Error> error;  // the first failure, guarded by error_mutex
  std::atomic<bool> failed{false};
  const auto upload_parts = [&] {
    for (int index = next_part++; index < parts && !failed; index = next_part++) {
      const std::uint64_t offset = static_cast<std::uint64_t>(index) * part_size;
      auto result = store_internal::CheckCancelled(options.cancel, "put", key);
      Result<SentData> part = result ? core_->SendObjectData(
                                           fmt::format("upload part {}", index + 1), full_key,
                                           {{"partNumber", std::to_string(index + 1)},
                                            {"uploadId", upload_id}},
                                           ObjectData{.reader = &source,
                                                      .offset = offset,
                                                      .size_bytes = std::min(part_size, size_bytes - offset)})
                                     : Result<SentData>(std::unexpected(std::move(result).error()));
      if (!part) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::move(part).error();
        failed = true;
        return;
      }
      if (options.progress != nullptr) {
        options.progress->AddBytes(std::min(part_size, size_bytes - offset));
      }
      sent[static_cast<std::size_t>(index)] = std::move(*part);
    }
  };
  {
    std::vector<std::jthread> threads;
    for (int i = 1; i < std::min(config.parallelism, parts); ++i) {
      threads.emplace_back(WithLogContext(upload_parts));
    }
    upload_parts();
  }
  if (!error) {
    std::vector<std::string> etags;
    std::vector<std::array<std::uint8_t, 16>> md5s;
    for (auto& part : sent) {
      etags.push_back(std::move(part.etag));
      md5s.push_back(part.md5);
    }
    std::optional<std::string> expected;
    if (config.md5_checksums) expected = s3::MultipartEtag(md5s);
    auto etag = core_->CompleteMultipartUpload(full_key, upload_id, etags, expected);
    if (etag) {
      SLUICE_RETURN_IF_ERROR(core_->EnsureTags(full_key, tagging));
      return ObjectInfo{std::string(key), size_bytes, std::move(*etag),
                        std::chrono::system_clock::now()};
    }
    error = std::move(etag).error();
  }
  if (auto aborted = core_->AbortMultipartUpload(full_key, upload_id); !aborted) {
    spdlog::warn("could not abort multipart upload {} of {}: {}", upload_id,
                 core_->client->Where(full_key), aborted.error().ToString());
  }
  return Fail(std::move(*error));
}

Result<std::unique_ptr<ObjectWriter>> S3Store::OpenWriter(std::string_view key,
                                                           const WriteOptions& options) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "put"));
  if (auto valid = ValidateTags(options.tags); !valid) {
    return Fail(std::move(valid).error().WithContext(OpContext("put", key)));
  }
  return std::make_unique<S3Writer>(core_, std::string(key), FormatTagging(options.tags));
}

Result<ObjectTags> S3Store::GetTags(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "get tags"));
  const std::string full_key = core_->FullKey(key);
  auto call = Core::MakeCall("get tags", "GET", full_key);
  call.query = {{"tagging", ""}};
  SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call)));
  auto tags = s3::ParseGetObjectTagging(response.body);
  if (!tags) return Fail(std::move(tags).error().WithContext(core_->Context("get tags", full_key)));
  return tags;
}

Result<ListPage> S3Store::List(const ListOptions& options) {
  SLUICE_RETURN_IF_ERROR(store_internal::ValidateListOptions(options));
  const std::string prefix = core_->FullKey(options.prefix);
  auto call = Core::MakeCall("list", "GET", "");
  call.query = {{"list-type", "2"},
                {"encoding-type", "url"},
                {"max-keys", std::to_string(options.max_keys)}};
  if (!prefix.empty()) call.query.emplace_back("prefix", prefix);
  if (!options.delimiter.empty()) call.query.emplace_back("delimiter", options.delimiter);
  if (!options.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", options.continuation_token);
  } else if (!options.start_after.empty()) {
    // S3 ignores start-after once a continuation token is sent; send it only on the first page.
    call.query.emplace_back("start-after", core_->FullKey(options.start_after));
  }
  SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call)));
  auto parsed = s3::ParseListObjectsV2(response.body);
  if (!parsed) return Fail(std::move(parsed).error().WithContext(core_->Context("list", prefix)));

  const std::string& root = core_->config.root_prefix;
  ListPage page;
  for (auto& object : parsed->objects) {
    if (!object.key.starts_with(root)) continue;
    object.key.erase(0, root.size());
    // HeadObject's Last-Modified has whole seconds; listings (Ceph RGW) may have milliseconds.
    object.last_modified = std::chrono::floor<std::chrono::seconds>(object.last_modified);
    page.objects.push_back(std::move(object));
  }
  for (auto& common : parsed->common_prefixes) {
    if (!common.starts_with(root)) continue;
    page.common_prefixes.push_back(common.substr(root.size()));
  }
  page.next_continuation_token = std::move(parsed->next_continuation_token);
  return page;
}

Status S3Store::Delete(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "delete"));
  SLUICE_RETURN_IF_ERROR(
      core_->client->Call(Core::MakeCall("delete", "DELETE", core_->FullKey(key))));
  return Ok();
}

Result<ObjectInfo> S3Store::Copy(std::string_view source_key, std::string_view destination_key) {
  for (const auto key : {source_key, destination_key}) {
    SLUICE_RETURN_IF_ERROR(core_->Validate(key, "copy"));
  }
  const std::string source = core_->FullKey(source_key);
  const std::string destination = core_->FullKey(destination_key);
  SLUICE_ASSIGN_OR_RETURN(auto head_response,
                          core_->client->Call(Core::MakeCall("copy", "HEAD", source)));
  SLUICE_ASSIGN_OR_RETURN(auto source_info,
                          InfoFromHeaders(source_key, head_response, core_->Context("copy", source)));
  if (source_info.size_bytes > core_->config.copy_multipart_threshold_bytes) {
    return CopyMultipart(source, destination, source_info);
  }
  auto call = Core::MakeCall("copy", "PUT", destination);
  call.headers = {
      {"x-amz-copy-source",
       "/" + core_->config.client.bucket + "/" + aws::UriEncode(source, true)},
      {"x-amz-copy-source-if-match", QuotedEtag(source_info.etag)}};
  call.error_may_come_with_200 = true;
  SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call)));
  const std::string context = core_->Context("copy", destination);
  auto etag = s3::ParseCopyResult(response.body);
  if (!etag) return Fail(std::move(etag).error().WithContext(context));
  // A copy of a single-part object has the same content, so the same MD5 ETag.
  if (core_->config.md5_checksums && DigestOfEtag(source_info.etag) && *etag != source_info.etag) {
    return Fail(ErrorCode::Corrupt,
                fmt::format("the copy's ETag {} differs from the source's {}", *etag,
                            source_info.etag),
                context);
  }
  return ObjectInfo{std::string(destination_key), source_info.size_bytes, std::move(*etag),
                    std::chrono::system_clock::now()};
}

Result<ObjectInfo> S3Store::CopyMultipart(const std::string& source,
                                          const std::string& destination,
                                          const ObjectInfo& source_info) {
  const std::uint64_t size = source_info.size_bytes;
  const std::uint64_t part_size = s3::FixedPartSizeBytes(core_->config.copy_part_size_bytes, size);
  const auto parts = static_cast<std::size_t>((size + part_size - 1) / part_size);
  // UploadPartCopy copies bytes only; the tags go with CreateMultipartUpload, as CopyObject's
  // default x-amz-tagging-directive COPY would take them.
  SLUICE_ASSIGN_OR_RETURN(auto source_tags,
                          GetTags(source.substr(core_->config.root_prefix.size())));
  SLUICE_ASSIGN_OR_RETURN(auto upload_id,
                          core_->CreateMultipartUpload(destination, FormatTagging(source_tags)));

  std::vector<std::string> etags(parts);
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::optional<Error> failure;  // guarded by mutex
  const auto copy_parts = [&] {
    for (std::size_t i = next.fetch_add(1); i < parts; i = next.fetch_add(1)) {
      {
        std::lock_guard lock(mutex);
        if (failure) return;
      }
      const std::uint64_t first = i * part_size;
      const std::uint64_t last = std::min(size, first + part_size) - 1;
      auto call = Core::MakeCall(fmt::format("copy part {}", i + 1), "PUT", destination);
      call.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}};
      call.headers = {
          {"x-amz-copy-source",
           "/" + core_->config.client.bucket + "/" + aws::UriEncode(source, true)},
          {"x-amz-copy-source-range", fmt::format("bytes={}-{}", first, last)},
          {"x-amz-copy-source-if-match", QuotedEtag(source_info.etag)}};
      call.error_may_come_with_200 = true;
      auto response = core_->client->Call(std::move(call));
      Result<std::string> etag = response ? s3::ParseCopyResult(response->body)
                                          : Result<std::string>(Fail(response.error()));
      if (!etag) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::move(etag).error();
        return;
      }
      etags[i] = std::move(*etag);
    }
  };
  std::vector<std::thread> threads;
  const std::size_t thread_count =
      std::min(parts, static_cast<std::size_t>(std::max(core_->config.parallelism, 1)));
  for (std::size_t t = 0; t < thread_count; ++t) threads.emplace_back(WithLogContext(copy_parts));
  for (auto& thread : threads) thread.join();

  std::optional<std::string> expected;
  if (!failure && core_->config.md5_checksums) {
    std::vector<std::array<std::uint8_t, 16>> digests;
    for (const auto& etag : etags) {
      if (const auto digest = DigestOfEtag(etag)) digests.push_back(*digest);
    }
    if (digests.size() == etags.size()) expected = s3::MultipartEtag(digests);
  }
  Result<std::string> etag = failure ? Result<std::string>(Fail(*failure))
                                     : core_->CompleteMultipartUpload(destination, upload_id,
                                                                      etags, expected);
  if (!etag) {
    if (auto aborted = core_->AbortMultipartUpload(destination, upload_id); !aborted) {
      spdlog::warn("could not abort multipart upload {} of {}: {}", upload_id,
                   core_->client->Where(destination), aborted.error().ToString());
    }
    return Fail(std::move(etag).error());
  }
  SLUICE_RETURN_IF_ERROR(core_->EnsureTags(destination, FormatTagging(source_tags)));
  return ObjectInfo{destination.substr(core_->config.root_prefix.size()), size, std::move(*etag),
                    std::chrono::system_clock::now()};
}

Status S3Store::DeleteMany(std::span<const std::string> keys) {
  for (const auto& key : keys) {
    SLUICE_RETURN_IF_ERROR(core_->Validate(key, "delete"));
  }
  for (std::size_t start = 0; start < keys.size(); start += s3::kMaxDeleteKeys) {
    const auto batch = keys.subspan(start, std::min(s3::kMaxDeleteKeys, keys.size() - start));
    std::vector<std::string> full_keys;
    for (const auto& key : batch) full_keys.push_back(core_->FullKey(key));
    const std::string body = s3::BuildDeleteObjects(full_keys);
    Md5 md5;
    md5.Update(body);
    const auto digest = md5.Finish();
    auto call = Core::MakeCall(fmt::format("delete {} keys", batch.size()), "POST", "");
    call.query = {{"delete", ""}};
    call.headers = {
        {"Content-Type", "application/xml"},
        {"Content-MD5",
         s3::Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()))}};
    call.body = body;
    SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call)));
    const std::string context = core_->Context("delete", full_keys.front());
    auto failures = s3::ParseDeleteObjects(response.body);
    if (!failures) return Fail(std::move(failures).error().WithContext(context));
    if (!failures->empty()) {
      const auto& first = failures->front();
      return Fail(s3::MapS3Error(0, first.code),
                  fmt::format("{} of {} keys not deleted; the first, '{}': {} ({})",
                              failures->size(), batch.size(), store_internal::PrintableKey(first.key),
                              first.message, first.code),
                  context);
    }
  }
  return Ok();
}

Result<std::vector<s3::MultipartUploadInfo>> S3Store::ListMultipartUploads(std::string_view prefix) {
  const std::string& root = core_->config.root_prefix;
  const std::string full_prefix = core_->FullKey(prefix);
  std::vector<s3::MultipartUploadInfo> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  while (true) {
    auto call = Core::MakeCall("list multipart uploads", "GET", "");
    call.query = {{"uploads", ""}, {"encoding-type", "url"}};
    if (!full_prefix.empty()) call.query.emplace_back("prefix", full_prefix);
    if (!key_marker.empty()) {
      call.query.emplace_back("key-marker", key_marker);
      call.query.emplace_back("upload-id-marker", upload_id_marker);
    }
    SLUICE_ASSIGN_OR_RETURN(auto response, core_->client->Call(std::move(call)));
    auto page = s3::ParseListMultipartUploads(response.body);
    if (!page) {
      return Fail(std::move(page).error().WithContext(
          core_->Context("list multipart uploads", full_prefix)));
    }
    for (auto& upload : page->uploads) {
      if (!upload.key.starts_with(root)) continue;
      upload.key.erase(0, root.size());
      uploads.push_back(std::move(upload));
    }
    if (page->next_key_marker.empty()) break;
    if (page->next_key_marker == key_marker && page->next_upload_id_marker == upload_id_marker) {
      return Fail(ErrorCode::Corrupt, "the listing does not advance",
                  core_->Context("list multipart uploads", full_prefix));
    }
    key_marker = std::move(page->next_key_marker);
    upload_id_marker = std::move(page->next_upload_id_marker);
  }
  return uploads;
}

Result<StaleUploadCleanup> CleanupStaleUploads(S3Store& store, std::string_view prefix,
                                               std::chrono::milliseconds older_than, bool dry_run) {
  SLUICE_ASSIGN_OR_RETURN(auto uploads, store.ListMultipartUploads(prefix));
  const auto cutoff = std::chrono::system_clock::now() - older_than;
  StaleUploadCleanup cleanup;
  for (auto& upload : uploads) {
    if (upload.initiated > cutoff) {
      ++cleanup.kept;
      continue;
    }
    if (!dry_run) SLUICE_RETURN_IF_ERROR(store.AbortMultipartUpload(upload.key, upload.upload_id));
    cleanup.aborted.push_back(std::move(upload));
  }
  return cleanup;
}

Result<std::string> S3Store::Presign(std::string_view method, std::string_view key,
                                     std::chrono::seconds expires) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "presign"));
  if (method != "GET" && method != "PUT") {
    return Fail(ErrorCode::InvalidArgument, "presign supports GET and PUT", std::string(method));
  }
  const s3::S3ClientConfig& client = core_->client->Config();
  SLUICE_ASSIGN_OR_RETURN(aws::Credentials credentials, client.credentials());
  return aws::PresignUrl(method, core_->client->UrlFor(core_->FullKey(key), {}), credentials,
                         client.region, "s3", expires, client.now());
}

Status S3Store::AbortMultipartUpload(std::string_view key, std::string_view upload_id) {
  SLUICE_RETURN_IF_ERROR(core_->Validate(key, "abort multipart upload"));
  return core_->AbortMultipartUpload(core_->FullKey(key), std::string(upload_id));
}

Result<bool> SourceMatchesEtag(ObjectReader& source, std::string_view etag,
                               std::uint64_t part_size_bytes) {
  const std::uint64_t size = source.Info().size_bytes;
  const auto dash = etag.find('-');
  if (dash == std::string_view::npos) {
    SLUICE_ASSIGN_OR_RETURN(const auto md5, S3Store::Core::Md5Of(
                                                ObjectData{.reader = &source, .size_bytes = size}));
    return ToHex(std::string_view(reinterpret_cast<const char*>(md5.data()), md5.size())) == etag;
  }
  std::uint64_t parts = 0;
  const auto count = etag.substr(dash + 1);
  if (std::from_chars(count.data(), count.data() + count.size(), parts).ec != std::errc() ||
      parts == 0 || parts > static_cast<std::uint64_t>(s3::kMaxParts)) {
    return false;
  }
  const std::uint64_t ours = s3::FixedPartSizeBytes(part_size_bytes, size);
  const std::uint64_t per_part = (size + parts - 1) / parts;
  const std::uint64_t whole_mib = (per_part + s3::kMiB - 1) / s3::kMiB * s3::kMiB;
  for (const std::uint64_t part_size : {ours, whole_mib}) {
    if (part_size == 0 || (size + part_size - 1) / part_size != parts) continue;
    std::vector<std::array<std::uint8_t, 16>> md5s;
    for (std::uint64_t offset = 0; offset < size; offset += part_size) {
      SLUICE_ASSIGN_OR_RETURN(
          auto md5, S3Store::Core::Md5Of(ObjectData{.reader = &source,
                                                    .offset = offset,
                                                    .size_bytes = std::min(part_size, size - offset)}));
      md5s.push_back(md5);
    }
    if (s3::MultipartEtag(md5s) == etag) return true;
    if (whole_mib == ours) break;
  }
  return false;
}

Result<std::unique_ptr<S3Store>> OpenS3Store(S3StoreConfig config) {
  config.multipart_threshold_bytes =
      std::min(config.multipart_threshold_bytes, s3::kMaxPartSizeBytes);
  config.part_size_bytes =
      std::clamp(config.part_size_bytes, s3::kMinPartSizeBytes, s3::kMaxPartSizeBytes);
  config.copy_multipart_threshold_bytes =
      std::min(config.copy_multipart_threshold_bytes, s3::kMaxPartSizeBytes);
  config.copy_part_size_bytes =
      std::clamp(config.copy_part_size_bytes, s3::kMinPartSizeBytes, s3::kMaxPartSizeBytes);
  config.parallelism = std::max(config.parallelism, 1);
  if (!config.root_prefix.empty() && !config.root_prefix.ends_with('/')) config.root_prefix += '/';
  SLUICE_ASSIGN_OR_RETURN(auto client, s3::S3Client::Make(config.client));
  auto core = std::make_shared<S3Store::Core>();
  core->config = std::move(config);
  core->client = std::move(client);
  core->upload_slots = core->config.upload_slots != nullptr
                           ? core->config.upload_slots
                           : std::make_shared<std::counting_semaphore<>>(core->config.parallelism);
  return std::unique_ptr<S3Store>(new S3Store(std::move(core)));
}

Result<std::unique_ptr<S3Store>> MakeS3Store(const Uri& uri, const StoreOptions& options) {
  const auto fail = [&uri](std::string message) {
    return Fail(ErrorCode::InvalidArgument, std::move(message),
                fmt::format("open store {}", uri.Redacted()));
  };
  if (uri.scheme != "s3") return fail("not an s3:// URL");
  if (uri.authority.empty() || uri.authority.find_first_of("@:") != std::string::npos) {
    return fail("s3:// needs a bucket name, e.g. s3://my-bucket/prefix");
  }
  if (!uri.query.empty()) return fail("s3:// URLs take no query; use the store's options");
  S3StoreConfig config;
  config.client.bucket = uri.authority;
  config.root_prefix = uri.path.empty() ? "" : uri.path.substr(1);
  if (!config.root_prefix.empty()) {
    std::string_view prefix = config.root_prefix;
    if (prefix.ends_with('/')) prefix.remove_suffix(1);
    if (auto valid = ValidateKey(prefix); !valid) {
      return fail(fmt::format("bad prefix: {}", valid.error().message));
    }
  }
  if (options.checksum == "md5") {
    config.md5_checksums = true;
  } else if (options.checksum == "none") {
    config.md5_checksums = false;
  } else {
    return fail(fmt::format("checksum must be \"md5\" or \"none\", got \"{}\"", options.checksum));
  }
  if (options.multipart_threshold_bytes > s3::kMaxPartSizeBytes) {
    return fail("multipart threshold must be at most 5 GiB (the PutObject limit)");
  }
  if (options.part_size_bytes < s3::kMinPartSizeBytes ||
      options.part_size_bytes > s3::kMaxPartSizeBytes) {
    return fail("part size must be 5 MiB..5 GiB (S3 multipart upload limits)");
  }
  if (options.parallelism < 1) return fail("parallelism must be at least 1");
  config.multipart_threshold_bytes = options.multipart_threshold_bytes;
  config.part_size_bytes = options.part_size_bytes;
  config.parallelism = options.parallelism;
  if (!std::all_of(options.storage_class.begin(), options.storage_class.end(),
                   [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; })) {
    return fail(fmt::format("storage_class must be an S3 storage class such as STANDARD_IA, "
                            "got \"{}\"", options.storage_class));
  }
  config.upload_slots = options.upload_slots;
  config.storage_class = options.storage_class;

  aws::CredentialOptions credential_options;
  credential_options.profile = options.profile;
  credential_options.region = options.region;
  auto region = aws::ResolveRegion(credential_options);
  if (!region) {
    return Fail(std::move(region).error().WithContext(fmt::format("open store {}", uri.Redacted())));
  }
  config.client.region = std::move(*region);
  config.client.endpoint = aws::ResolveEndpoint(options.endpoint, credential_options.getenv);
  auto provider = std::make_shared<aws::CredentialsProvider>(credential_options);
  config.client.credentials = [provider] { return provider->Get(); };
  auto store = OpenS3Store(std::move(config));
  if (!store) {
    return Fail(std::move(store).error().WithContext(fmt::format("open store {}", uri.Redacted())));
  }
  return store;
}

}  // namespace sluice
