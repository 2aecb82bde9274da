#pragma once
// An in-memory S3 bucket behind LoopbackServer, enough of the protocol for S3Store's unit tests:
// PutObject (Content-MD5 checked), GetObject with Range, HeadObject, DeleteObject, CopyObject,
// multipart upload (create, part, part copy, complete with the AWS ETag rule, abort, list),
// ListObjectsV2 (prefix, delimiter, max-keys, continuation token, encoding-type=url) and
// DeleteObjects. It does not check signatures. A fault hook can answer any request first.

#include <pugixml.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "loopback_server.hpp"
#include "sluice/aws/sigv4.hpp"
#include "sluice/core/hash.hpp"
#include "sluice/store/s3/s3_protocol.hpp"

namespace sluice::testing {

class FakeS3 {
 public:
  /// Answers a request instead of the bucket (which then never sees it) when it returns one.
  using Fault = std::function<std::optional<CannedResponse>(const RecordedRequest&)>;
  /// Changes the bucket's answer after the bucket acted on the request (a lost or garbled reply).
  using Tamper = std::function<void(const RecordedRequest&, CannedResponse&)>;

  explicit FakeS3(std::string bucket) : bucket_(std::move(bucket)) {}

  CannedResponse Handle(const RecordedRequest& request) {
    std::lock_guard lock(mutex_);
    if (fault_) {
      if (auto answer = fault_(request)) return *answer;
    }
    CannedResponse response = Serve(request);
    if (tamper_) tamper_(request, response);
    return response;
  }

  void SetFault(Fault fault) {
    std::lock_guard lock(mutex_);
    fault_ = std::move(fault);
  }
  void SetTamper(Tamper tamper) {
    std::lock_guard lock(mutex_);
    tamper_ = std::move(tamper);
  }

  std::optional<std::string> Object(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return it->second.bytes;
  }
  std::string Etag(const std::string& key) {
    std::lock_guard lock(mutex_);
    return objects_.at(key).etag;
  }
  void PutObject(const std::string& key, std::string bytes) {
    std::lock_guard lock(mutex_);
    objects_[key] = Stored{Md5Hex(bytes), std::move(bytes)};
  }
  std::size_t OpenUploads() {
    std::lock_guard lock(mutex_);
    return uploads_.size();
  }
  int AbortedUploads() {
    std::lock_guard lock(mutex_);
    return aborted_;
  }
  std::size_t ObjectCount() {
    std::lock_guard lock(mutex_);
    return objects_.size();
  }

  static CannedResponse Error(int status, std::string code, std::string message = "msg",
                              std::string request_id = "req-1") {
    CannedResponse response;
    response.status = status;
    response.headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", request_id}};
    response.body = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message>"
        "<RequestId>{}</RequestId></Error>",
        code, message, request_id);
    return response;
  }

 private:
  struct Stored {
    std::string etag;
    std::string bytes;
  };
  struct Upload {
    std::string key;
    std::map<int, Stored> parts;
  };

  static CannedResponse Xml(std::string body, int status = 200) {
    CannedResponse response;
    response.status = status;
    response.headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", "req-ok"}};
    response.body = std::move(body);
    return response;
  }

  static std::string Quoted(const std::string& etag) { return "\"" + etag + "\""; }

  static std::string RawMd5Base64(std::string_view bytes) {
    Md5 md5;
    md5.Update(bytes);
    const auto digest = md5.Finish();
    return s3::Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
  }

  CannedResponse Serve(const RecordedRequest& request) {
    const std::string path = request.Path();
    const std::string prefix = "/" + bucket_;
    if (!path.starts_with(prefix)) return Error(404, "NoSuchBucket");
    std::string key = path.substr(prefix.size());
    if (key.starts_with("/")) key.erase(0, 1);
    const auto query = request.Query();
    const std::string& method = request.method;

    if (!request.Header("content-md5").empty() &&
        request.Header("content-md5") != RawMd5Base64(request.body)) {
      return Error(400, "BadDigest", "The Content-MD5 you specified did not match");
    }
    if (key.empty()) {
      if (method == "GET" && query.contains("list-type")) return List(query);
      if (method == "GET" && query.contains("uploads")) return ListUploads();
      if (method == "POST" && query.contains("delete")) return DeleteObjects(request);
      return Error(400, "InvalidRequest");
    }
    if (method == "POST" && query.contains("uploads")) {
      const std::string id = fmt::format("upload-{}", ++next_upload_);
      uploads_[id] = Upload{key, {}};
      return Xml(fmt::format("<InitiateMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key>"
                             "<UploadId>{}</UploadId></InitiateMultipartUploadResult>",
                             bucket_, key, id));
    }
    if (query.contains("uploadId")) return UploadOperation(request, key, query);
    if (method == "GET" && query.contains("tagging")) {
      // This fake keeps no tags (the conformance suite checks them on Ceph RGW): every object
      // has an empty tag set.
      if (!objects_.contains(key)) return Error(404, "NoSuchKey");
      return Xml("<Tagging><TagSet></TagSet></Tagging>");
    }
    if (method == "PUT" && !request.Header("x-amz-copy-source").empty()) {
      auto source = Source(request);
      if (!source) return Error(404, "NoSuchKey");
      objects_[key] = *source;
      return Xml(fmt::format("<CopyObjectResult><ETag>{}</ETag><LastModified>"
                             "2026-11-21T09:15:30.000Z</LastModified></CopyObjectResult>",
                             Quoted(source->etag)));
    }
    if (method == "PUT") {
      objects_[key] = Stored{Md5Hex(request.body), request.body};
      CannedResponse response;
      response.headers = {{"ETag", Quoted(objects_[key].etag)}};
      return response;
    }
    if (method == "DELETE") {
      objects_.erase(key);
      CannedResponse response;
      response.status = 204;
      return response;
    }
    const auto it = objects_.find(key);
    if (it == objects_.end()) {
      if (method == "HEAD") {
        CannedResponse response;
        response.status = 404;
        response.headers = {{"x-amz-request-id", "req-head-404"}};
        return response;
      }
      return Error(404, "NoSuchKey", "The specified key does not exist.");
    }
    const Stored& object = it->second;
    CannedResponse response;
    response.headers = {{"ETag", Quoted(object.etag)},
                        {"Last-Modified", "Sat, 21 Nov 2026 09:15:30 GMT"},
                        {"x-amz-request-id", "req-ok"}};
    std::uint64_t first = 0;
    std::uint64_t end = object.bytes.size();
    const std::string range = request.Header("range");
    if (!range.empty()) {
      const auto dash = range.find('-');
      first = std::stoull(range.substr(6, dash - 6));
      const std::string last = range.substr(dash + 1);
      if (first >= object.bytes.size()) return Error(416, "InvalidRange");
      if (!last.empty()) end = std::min<std::uint64_t>(end, std::stoull(last) + 1);
      response.status = 206;
      response.headers.emplace_back(
          "Content-Range", fmt::format("bytes {}-{}/{}", first, end - 1, object.bytes.size()));
    }
    if (method == "HEAD") {
      response.headers.emplace_back("Content-Length", std::to_string(object.bytes.size()));
      return response;
    }
    response.body = object.bytes.substr(first, end - first);
    return response;
  }

  /// The object x-amz-copy-source names, cut to x-amz-copy-source-range.
  std::optional<Stored> Source(const RecordedRequest& request) {
    std::string source = PercentDecode(request.Header("x-amz-copy-source")).value_or("");
    const std::string prefix = "/" + bucket_ + "/";
    if (!source.starts_with(prefix)) return std::nullopt;
    const auto it = objects_.find(source.substr(prefix.size()));
    if (it == objects_.end()) return std::nullopt;
    const std::string if_match = request.Header("x-amz-copy-source-if-match");
    if (!if_match.empty() && if_match != Quoted(it->second.etag)) return std::nullopt;
    const std::string range = request.Header("x-amz-copy-source-range");
    if (range.empty()) return it->second;
    const auto dash = range.find('-');
    const auto first = std::stoull(range.substr(6, dash - 6));
    const auto last = std::stoull(range.substr(dash + 1));
    const std::string& whole = it->second.bytes;
    std::string bytes = first < whole.size() ? whole.substr(first, last - first + 1) : "";
    return Stored{Md5Hex(bytes), bytes};
  }

  CannedResponse UploadOperation(const RecordedRequest& request, const std::string& key,
                                 const std::map<std::string, std::string>& query) {
    const auto it = uploads_.find(query.at("uploadId"));
    if (it == uploads_.end() || it->second.key != key) {
      return Error(404, "NoSuchUpload", "The specified upload does not exist.");
    }
    Upload& upload = it->second;
    if (request.method == "PUT") {
      const int number = std::stoi(query.at("partNumber"));
      if (!request.Header("x-amz-copy-source").empty()) {
        auto source = Source(request);
        if (!source) return Error(412, "PreconditionFailed");
        upload.parts[number] = *source;
        return Xml(fmt::format("<CopyPartResult><ETag>{}</ETag></CopyPartResult>",
                               Quoted(source->etag)));
      }
      upload.parts[number] = Stored{Md5Hex(request.body), request.body};
      CannedResponse response;
      response.headers = {{"ETag", Quoted(upload.parts[number].etag)}};
      return response;
    }
    if (request.method == "DELETE") {
      uploads_.erase(it);
      ++aborted_;
      CannedResponse response;
      response.status = 204;
      return response;
    }
    // POST: complete.
    pugi::xml_document doc;
    if (!doc.load_buffer(request.body.data(), request.body.size())) {
      return Error(400, "MalformedXML");
    }
    std::string bytes;
    Md5 md5s;
    int count = 0;
    for (const auto part : doc.child("CompleteMultipartUpload").children("Part")) {
      const int number = part.child("PartNumber").text().as_int();
      const auto stored = upload.parts.find(number);
      if (stored == upload.parts.end() ||
          Quoted(stored->second.etag) != part.child_value("ETag") || number != count + 1) {
        return Error(400, "InvalidPart");
      }
      bytes += stored->second.bytes;
      std::array<std::uint8_t, 16> raw{};
      for (std::size_t i = 0; i < 16; ++i) {
        raw[i] = static_cast<std::uint8_t>(std::stoi(stored->second.etag.substr(2 * i, 2), nullptr, 16));
      }
      md5s.Update(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
      ++count;
    }
    const std::string etag = fmt::format("{}-{}", md5s.FinishHex(), count);
    objects_[key] = Stored{etag, std::move(bytes)};
    uploads_.erase(it);
    return Xml(fmt::format("<CompleteMultipartUploadResult><Key>{}</Key><ETag>{}</ETag>"
                           "</CompleteMultipartUploadResult>",
                           key, Quoted(etag)));
  }

  static std::string Encode(const std::string& text) { return aws::UriEncode(text, true); }

  CannedResponse List(const std::map<std::string, std::string>& query) {
    const auto get = [&query](const std::string& name) {
      const auto it = query.find(name);
      return it == query.end() ? std::string() : it->second;
    };
    const std::string prefix = get("prefix");
    const std::string delimiter = get("delimiter");
    const std::string token = get("continuation-token");
    const int max_keys = get("max-keys").empty() ? 1000 : std::stoi(get("max-keys"));
    const bool encode = get("encoding-type") == "url";
    std::string contents;
    std::string common;
    std::set<std::string> seen_prefixes;
    int count = 0;
    std::string last;
    bool truncated = false;
    for (const auto& [key, object] : objects_) {
      if (!key.starts_with(prefix) || (!token.empty() && key <= token)) continue;
      std::string entry = key;
      bool is_prefix = false;
      if (!delimiter.empty()) {
        const auto pos = key.find(delimiter, prefix.size());
        if (pos != std::string::npos) {
          entry = key.substr(0, pos + delimiter.size());
          is_prefix = true;
          if (seen_prefixes.contains(entry) || (!token.empty() && entry <= token)) continue;
        }
      }
      if (count == max_keys) {
        truncated = true;
        break;
      }
      ++count;
      last = is_prefix ? entry + "\xff" : entry;  // skip the rest of a rolled-up prefix
      if (is_prefix) {
        seen_prefixes.insert(entry);
        common += fmt::format("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                              encode ? Encode(entry) : entry);
      } else {
        contents += fmt::format(
            "<Contents><Key>{}</Key><LastModified>2026-11-21T09:15:30.000Z</LastModified>"
            "<ETag>&quot;{}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass>"
            "</Contents>",
            encode ? Encode(key) : key, object.etag, object.bytes.size());
      }
    }
    return Xml(fmt::format(
        "<ListBucketResult><Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount>"
        "{}<IsTruncated>{}</IsTruncated>{}{}{}</ListBucketResult>",
        bucket_, encode ? Encode(prefix) : prefix, count,
        encode ? "<EncodingType>url</EncodingType>" : "", truncated ? "true" : "false", contents, common,
        truncated ? fmt::format("<NextContinuationToken>{}</NextContinuationToken>", last)
                  : ""));
  }

  CannedResponse ListUploads() {
    std::string body =
        "<ListMultipartUploadsResult><EncodingType>url</EncodingType>"
        "<IsTruncated>false</IsTruncated>";
    for (const auto& [id, upload] : uploads_) {
      body += fmt::format("<Upload><Key>{}</Key><UploadId>{}</UploadId>"
                          "<Initiated>2026-11-21T09:15:30.000Z</Initiated></Upload>",
                          Encode(upload.key), id);
    }
    return Xml(body + "</ListMultipartUploadsResult>");
  }

  CannedResponse DeleteObjects(const RecordedRequest& request) {
    if (request.Header("content-md5").empty()) return Error(400, "InvalidRequest", "Content-MD5");
    pugi::xml_document doc;
    if (!doc.load_buffer(request.body.data(), request.body.size())) {
      return Error(400, "MalformedXML");
    }
    std::vector<std::string> keys;
    for (const auto object : doc.child("Delete").children("Object")) {
      keys.emplace_back(object.child_value("Key"));
    }
    if (keys.size() > 1000) return Error(400, "MalformedXML", "more than 1000 keys");
    for (const auto& key : keys) objects_.erase(key);
    return Xml("<DeleteResult></DeleteResult>");
  }

  std::mutex mutex_;
  std::string bucket_;
  Fault fault_;
  Tamper tamper_;
  std::map<std::string, Stored> objects_;
  std::map<std::string, Upload> uploads_;
  int next_upload_ = 0;
  int aborted_ = 0;
};

}  // namespace sluice::testing
