#include "sluice/handlers/illumina/slack.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>

namespace sluice::illumina {

namespace {

constexpr std::string_view kBullet = "\n\t\t\xE2\x80\xA2 ";  // "\n\t\t• "

std::string RunList(std::string_view head, std::span<const std::string> runs) {
  std::string message = fmt::format("{} {} run{}", head, runs.size(), runs.size() == 1 ? "" : "s");
  for (const std::string& run : runs) {
    message += kBullet;
    message += run;
  }
  return message;
}

/// Decodes one UTF-8 code point at `text[i]`, advancing `i`; U+FFFD for an invalid sequence.
std::uint32_t NextCodePoint(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1Fu;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0Fu;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07u;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + length > text.size()) {
    ++i;
    return 0xFFFD;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    code = (code << 6) | (byte(i + k) & 0x3Fu);
  }
  i += length;
  return code;
}

std::string JsonList(std::span<const std::string> items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += PythonJsonString(items[i]);
  }
  return out + "]";
}

}  // namespace

std::string SuccessMessage(std::span<const std::string> runs) {
  return RunList(":white_check_mark:  *S3 Upload*: Successfully uploaded", runs);
}

std::string FailureMessage(std::span<const std::string> runs) {
  return RunList(":x:  *S3 Upload*: Failed uploading", runs);
}

std::string CombinedMessage(std::span<const std::string> succeeded,
                            std::span<const std::string> failed) {
  std::string message;
  if (!succeeded.empty()) message = SuccessMessage(succeeded);
  if (!failed.empty()) {
    if (!message.empty()) message += "\n\n";
    message += FailureMessage(failed);
  }
  return message;
}

std::string AwsAuthErrorMessage(std::string_view message) {
  return fmt::format(":warning:  *S3 Upload*: Error in connecting to AWS!\n\n{}", message);
}

std::string AwsConnectionErrorMessage(std::string_view error) {
  return fmt::format(":warning:  *S3 Upload*: Error in connecting to AWS!\n\n\t\t{}", error);
}

std::string BucketErrorMessage(std::span<const std::string> buckets) {
  return fmt::format(
      ":warning:  *S3 Upload*: Error in accessing specified S3 buckets!\n\n\t\t{} bucket(s) not "
      "accessible or do not exist: {}",
      buckets.size(), fmt::join(buckets, ", "));
}

std::string HeldRunMessage(std::string_view run, std::string_view reason) {
  return fmt::format(":warning:  *S3 Upload*: Run {} held: {}", run, reason);
}

std::string PythonJsonString(std::string_view text) {
  std::string out = "\"";
  std::size_t i = 0;
  while (i < text.size()) {
    const std::uint32_t code = NextCodePoint(text, i);
    switch (code) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (code >= 0x20 && code <= 0x7E) {
          out += static_cast<char>(code);
        } else if (code <= 0xFFFF) {
          out += fmt::format("\\u{:04x}", code);
        } else {
          const std::uint32_t v = code - 0x10000;
          out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        }
    }
  }
  return out + "\"";
}

std::string SlackPayload(std::string_view message) {
  return fmt::format("{{\"text\": {}}}", PythonJsonString(message));
}

std::string GenericWebhookPayload(std::span<const std::string> succeeded,
                                  std::span<const std::string> failed) {
  return fmt::format(
      "{{\"source\": \"sluice\", \"event\": \"upload_summary\", \"succeeded\": {}, "
      "\"failed\": {}, \"text\": {}}}",
      JsonList(succeeded), JsonList(failed), PythonJsonString(CombinedMessage(succeeded, failed)));
}

}  // namespace sluice::illumina
