#include "sluice/store/object_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "sluice/aws/sigv4.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/core/uri.hpp"
#include "sluice/store/internal.hpp"
#include "sluice/store/local/local_store.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice {

namespace store_internal {

Status CheckCancelled(const std::atomic<bool>* cancel, std::string_view operation,
                      std::string_view key) {
  if (cancel != nullptr && cancel->load()) {
    return Fail(ErrorCode::Cancelled, "cancelled", OpContext(operation, key));
  }
  return Ok();
}

Status ValidateListOptions(const ListOptions& options) {
  if (options.max_keys < kMinListKeys || options.max_keys > kMaxListKeys) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("max_keys must be {}..{}, got {}", kMinListKeys, kMaxListKeys,
                            options.max_keys),
                OpContext("list", options.prefix));
  }
  return Ok();
}

std::optional<std::string_view> CommonPrefixOf(std::string_view key, const ListOptions& options) {
  if (options.delimiter.empty() || !key.starts_with(options.prefix)) return std::nullopt;
  const auto pos = key.find(options.delimiter, options.prefix.size());
  if (pos == std::string_view::npos) return std::nullopt;
  return key.substr(0, pos + options.delimiter.size());
}

std::string PrintableKey(std::string_view key) {
  constexpr std::size_t kMaxShownBytes = 200;
  std::string out;
  for (std::size_t i = 0; i < key.size() && i < kMaxShownBytes; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    // Bytes >= 0x80 stay as they are so UTF-8 keys read naturally.
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.push_back(key[i]);
    }
  }
  if (key.size() > kMaxShownBytes) out += "…";
  return out;
}

std::string OpContext(std::string_view operation, std::string_view key) {
  return fmt::format("{} {}", operation, PrintableKey(key));
}

Result<ByteSpan> ResolveRange(const std::optional<ByteRange>& range, std::uint64_t size_bytes,
                              std::string_view context) {
  if (!range) return ByteSpan{0, size_bytes};
  if (range->last && *range->last < range->first) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("range bytes={}-{} ends before it starts", range->first, *range->last),
                std::string(context));
  }
  if (range->first >= size_bytes) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("range starts at byte {} but the object has {} bytes", range->first,
                            size_bytes),
                std::string(context));
  }
  const std::uint64_t end = range->last ? std::min(*range->last + 1, size_bytes) : size_bytes;
  return ByteSpan{range->first, end};
}

}  // namespace store_internal

Result<std::string> ObjectStore::Get(std::string_view key, std::optional<ByteRange> range) {
  std::string bytes;
  SLUICE_RETURN_IF_ERROR(GetTo(
      key,
      [&bytes](std::string_view chunk) -> Status {
        bytes.append(chunk);
        return Ok();
      },
      range));
  return bytes;
}

Result<ObjectInfo> ObjectStore::Put(std::string_view key, std::string_view bytes,
                                    const WriteOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWriter(key, options));
  SLUICE_RETURN_IF_ERROR(writer->Write(bytes));
  return writer->Close();
}

Result<std::unique_ptr<ObjectReader>> ObjectStore::OpenReader(std::string_view key) {
  return Fail(ErrorCode::Unsupported, fmt::format("{} reads objects only by streaming", Url()),
              store_internal::OpContext("open", key));
}

Result<ObjectInfo> ObjectStore::PutFrom(std::string_view key, ObjectReader& source,
                                        const PutOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(auto writer, OpenWriter(key, WriteOptions{.tags = options.tags}));
  const bool writer_counts =
      options.progress != nullptr && writer->ReportSentBytes(options.progress);
  const std::uint64_t size_bytes = source.Info().size_bytes;
  std::string buffer(std::min<std::uint64_t>(store_internal::kPutFromChunkBytes, size_bytes), '\0');
  for (std::uint64_t offset = 0; offset < size_bytes;) {
    SLUICE_RETURN_IF_ERROR(store_internal::CheckCancelled(options.cancel, "put", key));
    SLUICE_ASSIGN_OR_RETURN(const std::size_t read, source.ReadAt(offset, buffer));
    if (read == 0) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the source ended at byte {} of {}", offset, size_bytes),
                  store_internal::OpContext("put", key));
    }
    SLUICE_RETURN_IF_ERROR(writer->Write(std::string_view(buffer.data(), read)));
    if (options.progress != nullptr && !writer_counts) options.progress->AddBytes(read);
    offset += read;
  }
  return writer->Close();  // a writer dropped on an error above commits nothing
}

Status ValidateKey(std::string_view key) {
  // S3 itself accepts most of these; we refuse them because a file:// store maps keys to paths
  // and the same key must mean the same thing on every backend.
  constexpr std::size_t kMaxKeyBytes = 1024;  // "Creating object key names", Amazon S3 User Guide
  constexpr std::string_view kReserved = ".sluice";  // local/ keeps its temp files there
  const auto fail = [key](std::string_view why) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("invalid key '{}': {}", store_internal::PrintableKey(key), why));
  };
  if (key.empty()) return fail("empty");
  if (key.size() > kMaxKeyBytes) {
    return fail(fmt::format("{} bytes, more than the {} allowed", key.size(), kMaxKeyBytes));
  }
  if (key.find('\0') != std::string_view::npos) return fail("contains a NUL byte");
  if (key.front() == '/') return fail("starts with '/'");
  if (key == kReserved || (key.starts_with(kReserved) && key[kReserved.size()] == '/')) {
    return fail("'.sluice/' is reserved for the store's own files");
  }
  std::size_t start = 0;
  while (true) {
    const auto slash = key.find('/', start);
    const auto segment =
        key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (segment.empty()) return fail("empty segment ('//' or a trailing '/')");
    if (segment == "." || segment == "..") {
      return fail(fmt::format("'{}' segment", segment));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Ok();
}

namespace {

/// Limits of object tags (Amazon S3 User Guide, "Categorizing your storage using tags").
constexpr std::size_t kMaxTags = 10;
constexpr std::size_t kMaxTagKeyChars = 128;
constexpr std::size_t kMaxTagValueChars = 256;

/// Code points of `text` when it is valid UTF-8 made of the characters the tag pattern
/// `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$` allows (non-ASCII taken as letters); nullopt otherwise.
std::optional<std::size_t> TagTextChars(std::string_view text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      const bool allowed = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                           (byte >= '0' && byte <= '9') ||
                           std::string_view(" _.:/=+-@").find(static_cast<char>(byte)) !=
                               std::string_view::npos;
      if (!allowed) return std::nullopt;
      ++i;
      continue;
    }
    // A UTF-8 lead byte and its continuation bytes (RFC 3629 §4), no overlongs or surrogates
    // checked beyond the length: the server refuses what this lets through.
    const std::size_t length = byte >= 0xf0 && byte < 0xf5 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 0;
    if (length == 0 || byte >= 0xf5 || i + length > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0U) != 0x80) return std::nullopt;
    }
    i += length;
  }
  return chars;
}

}  // namespace

Status ValidateTags(const ObjectTags& tags) {
  const auto fail = [](std::string_view tag_key, std::string_view why) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("invalid object tag '{}': {}", store_internal::PrintableKey(tag_key), why));
  };
  if (tags.size() > kMaxTags) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("{} object tags, more than the {} S3 allows", tags.size(), kMaxTags));
  }
  for (const auto& [tag_key, value] : tags) {
    const auto key_chars = TagTextChars(tag_key);
    if (!key_chars) {
      return fail(tag_key, "the key may hold only letters, digits, spaces and _ . : / = + - @");
    }
    if (*key_chars == 0) return fail(tag_key, "empty key");
    if (*key_chars > kMaxTagKeyChars) {
      return fail(tag_key, fmt::format("the key has {} characters, more than {}", *key_chars,
                                       kMaxTagKeyChars));
    }
    if (tag_key.starts_with("aws:")) return fail(tag_key, "keys starting with 'aws:' are AWS's");
    const auto value_chars = TagTextChars(value);
    if (!value_chars) {
      return fail(tag_key, "the value may hold only letters, digits, spaces and _ . : / = + - @");
    }
    if (*value_chars > kMaxTagValueChars) {
      return fail(tag_key, fmt::format("the value has {} characters, more than {}", *value_chars,
                                       kMaxTagValueChars));
    }
  }
  return Ok();
}

std::string FormatTagging(const ObjectTags& tags) {
  std::string text;
  for (const auto& [tag_key, value] : tags) {
    if (!text.empty()) text += '&';
    text += aws::UriEncode(tag_key, false);
    text += '=';
    text += aws::UriEncode(value, false);
  }
  return text;
}

Result<ObjectTags> ParseTagging(std::string_view text) {
  ObjectTags tags;
  const auto decode = [](std::string_view part) -> Result<std::string> {
    std::string spaced(part);
    std::replace(spaced.begin(), spaced.end(), '+', ' ');
    return PercentDecode(spaced);
  };
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    SLUICE_ASSIGN_OR_RETURN(auto tag_key, decode(pair.substr(0, eq)));
    SLUICE_ASSIGN_OR_RETURN(auto value, decode(eq == std::string_view::npos ? std::string_view()
                                                                           : pair.substr(eq + 1)));
    if (!tags.emplace(tag_key, std::move(value)).second) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("tag '{}' appears twice", store_internal::PrintableKey(tag_key)));
    }
  }
  return tags;
}

ListPageBuilder::ListPageBuilder(const ListOptions& options)
    : options_(options),
      start_after_(options.continuation_token.empty() ? options.start_after
                                                      : options.continuation_token) {}

bool ListPageBuilder::Add(const ObjectInfo& object) {
  if (full_) return false;
  const std::string& key = object.key;
  if (!key.starts_with(options_.prefix) || key <= start_after_) return true;
  const auto common_prefix = store_internal::CommonPrefixOf(key, options_);
  // A common prefix at or before the token was returned on an earlier page (it sorts before every
  // key below it); one equal to the last entry was returned on this page.
  if (common_prefix) {
    if (*common_prefix <= start_after_) return true;
    if (!page_.common_prefixes.empty() && page_.common_prefixes.back() == *common_prefix) {
      return true;
    }
  }
  if (page_.objects.size() + page_.common_prefixes.size() >=
      static_cast<std::size_t>(options_.max_keys)) {
    full_ = true;
    // Entries arrive in ascending order, so the greater of the last key and the last common
    // prefix is the last entry returned (keys between a prefix and its keys start with it).
    const std::string* last = nullptr;
    if (!page_.objects.empty()) last = &page_.objects.back().key;
    if (!page_.common_prefixes.empty() &&
        (last == nullptr || page_.common_prefixes.back() > *last)) {
      last = &page_.common_prefixes.back();
    }
    if (last != nullptr) page_.next_continuation_token = *last;
    return false;
  }
  if (common_prefix) {
    page_.common_prefixes.emplace_back(*common_prefix);
  } else {
    page_.objects.push_back(object);
  }
  return true;
}

ListPage ListPageBuilder::Finish() && {
  return std::move(page_);
}

Result<std::unique_ptr<ObjectStore>> MakeObjectStore(std::string_view url,
                                                     const StoreOptions& options) {
  auto parsed = ParseUri(url);
  if (!parsed) {
    return Fail(
        std::move(parsed).error().WithContext(fmt::format("open store {}", RedactUrl(url))));
  }
  const Uri& uri = *parsed;
  const auto fail = [&uri](std::string message) {
    return Fail(ErrorCode::InvalidArgument, std::move(message),
                fmt::format("open store {}", uri.Redacted()));
  };
  if (uri.scheme == "file") {
    if (uri.path.empty() || uri.path.front() != '/') {
      return fail("file:// needs an absolute folder, e.g. file:///srv/lake");
    }
    return MakeLocalStore(uri.path);
  }
  if (uri.scheme == "memory") {
    if (uri.path.empty() || uri.path == ".")
      return fail("memory:// needs a name, e.g. memory://test");
    return MakeMemoryStore(uri.path);
  }
  if (uri.scheme == "s3") {
    SLUICE_ASSIGN_OR_RETURN(auto store, MakeS3Store(uri, options));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  return fail(fmt::format(
      "unsupported scheme '{}://': supported are file://, memory:// and s3://", uri.scheme));
}

}  // namespace sluice
