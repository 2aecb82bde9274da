#include "sluice/store/s3/s3_protocol.hpp"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "sluice/core/hash.hpp"
#include "sluice/core/uri.hpp"

namespace sluice::s3 {
namespace {

/// The namespace S3 puts on its documents and expects on ours.
constexpr const char* kS3XmlNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";

Error Malformed(std::string_view what, std::string_view detail) {
  return Error{ErrorCode::Corrupt, fmt::format("malformed {}: {}", what, detail), {}};
}

Result<pugi::xml_document> LoadXml(std::string_view xml, std::string_view what) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) return Fail(Malformed(what, parsed.description()));
  return doc;
}

/// Percent-decodes as botocore does for encoding-type=url (unquote_plus: '+' is a space).
Result<std::string> DecodeUrlEncoded(std::string_view text) {
  std::string plus_as_space(text);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return PercentDecode(plus_as_space);
}

/// True when the document says its keys are URL-encoded (the server honoured encoding-type=url;
/// botocore decodes only then, too).
bool KeysAreUrlEncoded(const pugi::xml_node& root) {
  return std::string_view(root.child_value("EncodingType")) == "url";
}

Result<std::string> KeyText(const pugi::xml_node& node, bool url_encoded, std::string_view what) {
  const std::string_view text = node.text().as_string();
  if (!url_encoded) return std::string(text);
  auto decoded = DecodeUrlEncoded(text);
  if (!decoded) return Fail(Malformed(what, decoded.error().message));
  return decoded;
}

template <class Int>
bool ParseInt(std::string_view text, Int& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string SaveXml(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace

std::uint64_t StreamPartSizeBytes(std::uint64_t base_part_size_bytes, int part_number) {
  std::uint64_t size = std::clamp(base_part_size_bytes, kMinPartSizeBytes, kMaxPartSizeBytes);
  for (int doublings = (std::max(part_number, 1) - 1) / kPartsPerDoubling;
       doublings > 0 && size < kMaxPartSizeBytes; --doublings) {
    size *= 2;
  }
  return std::min(size, kMaxPartSizeBytes);
}

std::uint64_t FixedPartSizeBytes(std::uint64_t base_part_size_bytes,
                                 std::uint64_t object_size_bytes) {
  const std::uint64_t needed =
      (object_size_bytes + static_cast<std::uint64_t>(kMaxParts) - 1) / kMaxParts;
  std::uint64_t size = std::max(base_part_size_bytes, needed);
  size = (size + kMiB - 1) / kMiB * kMiB;
  return std::clamp(size, kMinPartSizeBytes, kMaxPartSizeBytes);
}

std::string MultipartEtag(const std::vector<std::array<std::uint8_t, 16>>& part_md5s) {
  Md5 md5;
  for (const auto& digest : part_md5s) {
    md5.Update(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  }
  return fmt::format("{}-{}", md5.FinishHex(), part_md5s.size());
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  // Some servers send the XML escape literally when the document was double-escaped.
  if (etag.starts_with("&quot;") && etag.ends_with("&quot;") && etag.size() >= 12) {
    etag = etag.substr(6, etag.size() - 12);
  }
  return std::string(etag);
}

Result<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  const auto fail = [text] {
    return Fail(ErrorCode::InvalidArgument, fmt::format("not an ISO 8601 UTC time: '{}'", text));
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return fail();
  }
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ParseInt(text.substr(0, 4), year) || !ParseInt(text.substr(5, 2), month) ||
      !ParseInt(text.substr(8, 2), day) || !ParseInt(text.substr(11, 2), hour) ||
      !ParseInt(text.substr(14, 2), minute) || !ParseInt(text.substr(17, 2), second)) {
    return fail();
  }
  std::chrono::milliseconds fraction{0};
  const std::string_view rest = text.substr(19, text.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2) return fail();
    int value = 0;
    const std::string_view digits = rest.substr(1, 3);
    if (!ParseInt(digits, value)) return fail();
    for (std::size_t i = digits.size(); i < 3; ++i) value *= 10;
    fraction = std::chrono::milliseconds(value);
  }
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return fail();
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) + fraction;
}

Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text) {
  // "Sat, 21 Nov 2026 09:15:30 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto fail = [text] {
    return Fail(ErrorCode::InvalidArgument, fmt::format("not an HTTP date: '{}'", text));
  };
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return fail();
  unsigned day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ParseInt(text.substr(5, 2), day) || !ParseInt(text.substr(12, 4), year) ||
      !ParseInt(text.substr(17, 2), hour) || !ParseInt(text.substr(20, 2), minute) ||
      !ParseInt(text.substr(23, 2), second)) {
    return fail();
  }
  const auto month = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  if (month == kMonths.end()) return fail();
  const std::chrono::year_month_day date{
      std::chrono::year(year),
      std::chrono::month(static_cast<unsigned>(month - kMonths.begin() + 1)),
      std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return fail();
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::optional<std::string_view> header, std::chrono::system_clock::time_point now) {
  if (!header || header->empty()) return std::nullopt;
  std::int64_t seconds = 0;
  if (ParseInt(*header, seconds)) {
    return std::chrono::milliseconds(std::max<std::int64_t>(seconds, 0) * 1000);
  }
  const auto date = ParseHttpDate(*header);
  if (!date) return std::nullopt;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(*date - now));
}

std::chrono::milliseconds FullJitterDelay(std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap, int attempt,
                                          double random_unit) {
  const int exponent = std::clamp(attempt - 1, 0, 40);
  const double step = std::min(static_cast<double>(cap.count()),
                               static_cast<double>(base.count()) * std::ldexp(1.0, exponent));
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(step * std::clamp(random_unit, 0.0, 1.0)));
}

std::optional<S3ErrorDocument> ParseErrorDocument(std::string_view xml) {
  if (xml.empty()) return std::nullopt;
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  const pugi::xml_node root = doc.child("Error");
  if (!root) return std::nullopt;
  return S3ErrorDocument{root.child_value("Code"), root.child_value("Message"),
                         root.child_value("RequestId")};
}

ErrorCode MapS3Error(int http_status, std::string_view s3_code) {
  if (s3_code == "NoSuchKey" || s3_code == "NoSuchBucket" || s3_code == "NoSuchUpload") {
    return ErrorCode::NotFound;
  }
  if (s3_code == "AccessDenied" || s3_code == "InvalidAccessKeyId" ||
      s3_code == "SignatureDoesNotMatch" || s3_code == "ExpiredToken" ||
      s3_code == "InvalidToken" || s3_code == "AllAccessDisabled") {
    return ErrorCode::PermissionDenied;
  }
  if (s3_code == "SlowDown") return ErrorCode::Throttled;
  if (s3_code == "InternalError" || s3_code == "RequestTimeout") return ErrorCode::Transient;
  if (s3_code == "InvalidRange") return ErrorCode::InvalidArgument;
  if (s3_code == "BadDigest" || s3_code == "InvalidDigest") return ErrorCode::Corrupt;
  if (s3_code == "NotImplemented") return ErrorCode::Unsupported;
  switch (http_status) {
    case 403:
      return ErrorCode::PermissionDenied;
    case 404:
      return ErrorCode::NotFound;
    case 416:
      return ErrorCode::InvalidArgument;
    case 500:
    case 502:
    case 504:
      return ErrorCode::Transient;
    case 501:
      return ErrorCode::Unsupported;
    case 503:
      return ErrorCode::Throttled;
    default:
      break;
  }
  if (http_status >= 300 && http_status < 500) return ErrorCode::InvalidArgument;
  return ErrorCode::Internal;
}

Result<ListObjectsV2Result> ParseListObjectsV2(std::string_view xml) {
  constexpr std::string_view kWhat = "ListObjectsV2 response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  const pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Fail(Malformed(kWhat, "no ListBucketResult"));
  const bool url_encoded = KeysAreUrlEncoded(root);
  ListObjectsV2Result result;
  for (const pugi::xml_node contents : root.children("Contents")) {
    ObjectInfo info;
    SLUICE_ASSIGN_OR_RETURN(info.key, KeyText(contents.child("Key"), url_encoded, kWhat));
    if (info.key.empty()) return Fail(Malformed(kWhat, "Contents without a Key"));
    if (!ParseInt(std::string_view(contents.child_value("Size")), info.size_bytes)) {
      return Fail(Malformed(kWhat, fmt::format("bad Size of '{}'", info.key)));
    }
    info.etag = UnquoteEtag(contents.child_value("ETag"));
    auto modified = ParseIso8601(contents.child_value("LastModified"));
    if (!modified) return Fail(Malformed(kWhat, modified.error().message));
    info.last_modified = *modified;
    result.objects.push_back(std::move(info));
  }
  for (const pugi::xml_node common : root.children("CommonPrefixes")) {
    SLUICE_ASSIGN_OR_RETURN(auto prefix, KeyText(common.child("Prefix"), url_encoded, kWhat));
    result.common_prefixes.push_back(std::move(prefix));
  }
  const bool truncated = std::string_view(root.child_value("IsTruncated")) == "true";
  if (truncated) {
    result.next_continuation_token = root.child_value("NextContinuationToken");
    if (result.next_continuation_token.empty()) {
      return Fail(Malformed(kWhat, "IsTruncated without NextContinuationToken"));
    }
  }
  return result;
}

std::string BuildTagging(const ObjectTags& tags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Tagging");
  root.append_attribute("xmlns").set_value(kS3XmlNamespace);
  pugi::xml_node set = root.append_child("TagSet");
  for (const auto& [key, value] : tags) {
    pugi::xml_node tag = set.append_child("Tag");
    tag.append_child("Key").text().set(key.c_str());
    tag.append_child("Value").text().set(value.c_str());
  }
  return SaveXml(doc);
}

Result<ObjectTags> ParseGetObjectTagging(std::string_view xml) {
  constexpr std::string_view kWhat = "GetObjectTagging response";
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) return ObjectTags{};
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  const pugi::xml_node root = doc.child("Tagging");
  if (!root) return Fail(Malformed(kWhat, "no Tagging"));
  ObjectTags tags;
  for (const pugi::xml_node tag : root.child("TagSet").children("Tag")) {
    std::string key = tag.child_value("Key");
    if (!tags.emplace(key, tag.child_value("Value")).second) {
      return Fail(Malformed(kWhat, fmt::format("tag '{}' appears twice", key)));
    }
  }
  return tags;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  constexpr std::string_view kWhat = "CreateMultipartUpload response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  std::string upload_id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload_id.empty()) return Fail(Malformed(kWhat, "no UploadId"));
  return upload_id;
}

std::string BuildCompleteMultipartUpload(const std::vector<std::string>& etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns").set_value(kS3XmlNamespace);
  for (std::size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(std::to_string(i + 1).c_str());
    part.append_child("ETag").text().set(fmt::format("\"{}\"", etags[i]).c_str());
  }
  return SaveXml(doc);
}

Result<std::string> ParseCompleteMultipartUpload(std::string_view xml) {
  constexpr std::string_view kWhat = "CompleteMultipartUpload response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  const pugi::xml_node root = doc.child("CompleteMultipartUploadResult");
  if (!root) return Fail(Malformed(kWhat, "no CompleteMultipartUploadResult"));
  return UnquoteEtag(root.child_value("ETag"));
}

Result<std::string> ParseCopyResult(std::string_view xml) {
  constexpr std::string_view kWhat = "copy response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  pugi::xml_node root = doc.child("CopyObjectResult");
  if (!root) root = doc.child("CopyPartResult");
  std::string etag = UnquoteEtag(root.child_value("ETag"));
  if (etag.empty()) return Fail(Malformed(kWhat, "no ETag"));
  return etag;
}

std::string BuildDeleteObjects(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_attribute("xmlns").set_value(kS3XmlNamespace);
  root.append_child("Quiet").text().set("true");
  for (const auto& key : keys) {
    root.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  return SaveXml(doc);
}

Result<std::vector<DeleteObjectsFailure>> ParseDeleteObjects(std::string_view xml) {
  constexpr std::string_view kWhat = "DeleteObjects response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  const pugi::xml_node root = doc.child("DeleteResult");
  if (!root) return Fail(Malformed(kWhat, "no DeleteResult"));
  std::vector<DeleteObjectsFailure> failures;
  for (const pugi::xml_node error : root.children("Error")) {
    failures.push_back(DeleteObjectsFailure{error.child_value("Key"), error.child_value("Code"),
                                            error.child_value("Message")});
  }
  return failures;
}

Result<ListMultipartUploadsResult> ParseListMultipartUploads(std::string_view xml) {
  constexpr std::string_view kWhat = "ListMultipartUploads response";
  SLUICE_ASSIGN_OR_RETURN(auto doc, LoadXml(xml, kWhat));
  const pugi::xml_node root = doc.child("ListMultipartUploadsResult");
  if (!root) return Fail(Malformed(kWhat, "no ListMultipartUploadsResult"));
  const bool url_encoded = KeysAreUrlEncoded(root);
  ListMultipartUploadsResult result;
  for (const pugi::xml_node upload : root.children("Upload")) {
    MultipartUploadInfo info;
    SLUICE_ASSIGN_OR_RETURN(info.key, KeyText(upload.child("Key"), url_encoded, kWhat));
    info.upload_id = upload.child_value("UploadId");
    if (info.key.empty() || info.upload_id.empty()) {
      return Fail(Malformed(kWhat, "Upload without Key or UploadId"));
    }
    auto initiated = ParseIso8601(upload.child_value("Initiated"));
    if (!initiated) return Fail(Malformed(kWhat, initiated.error().message));
    info.initiated = *initiated;
    result.uploads.push_back(std::move(info));
  }
  if (std::string_view(root.child_value("IsTruncated")) == "true") {
    SLUICE_ASSIGN_OR_RETURN(result.next_key_marker,
                            KeyText(root.child("NextKeyMarker"), url_encoded, kWhat));
    result.next_upload_id_marker = root.child_value("NextUploadIdMarker");
    if (result.next_key_marker.empty()) {
      return Fail(Malformed(kWhat, "IsTruncated without NextKeyMarker"));
    }
  }
  return result;
}

}  // namespace sluice::s3
