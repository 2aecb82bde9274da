#include "sluice/handlers/serratus/summary_json.hpp"

#include <fmt/format.h>

namespace sluice::serratus {

namespace {

/// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629 §4: no overlongs, no
/// surrogates, at most U+10FFFF), or 0 when the bytes there are not valid UTF-8.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void AppendFieldValue(std::string& out, const Field& field) {
  switch (field.type) {
    case FieldType::Integer:
      fmt::format_to(std::back_inserter(out), "{}", field.integer);
      return;
    case FieldType::Real:
      fmt::format_to(std::back_inserter(out), "{}", field.real);
      return;
    case FieldType::Text:
      AppendJsonString(out, field.text);
      return;
  }
}

void AppendMember(std::string& out, std::string_view name, std::string_view value) {
  out += ',';
  AppendJsonString(out, name);
  out += ':';
  AppendJsonString(out, value);
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
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
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string FormatEraARecord(const ParsedSummary& summary, const Record& record) {
  std::string out;
  out.reserve(512);
  out += '{';
  bool first = true;
  for (const Field& field : summary.Fields(record)) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, field.key);
    out += ':';
    AppendJsonString(out, field.text);
  }
  if (record.type != RecordType::Run) {
    if (!first) out += ',';
    AppendJsonString(out, "run");
    out += ':';
    AppendJsonString(out, summary.RunId());
  }
  out += '}';
  return out;
}

std::string EraAObjectKey(const ParsedSummary& summary, const Record& record,
                          std::string_view prefix) {
  std::string key(prefix);
  if (record.type == RecordType::Run) {
    key += "run/";
    key += summary.RunId();
    key += ".json";
    return key;
  }
  key += ToString(record.type);
  key += '/';
  key += summary.RunId();
  key += '_';
  const std::size_t id_start = key.size();
  key += record.id;
  for (std::size_t i = id_start; i < key.size(); ++i) {
    if (key[i] == '/') key[i] = '_';
  }
  key += ".json";
  return key;
}

std::string FormatParsedJsonLine(const ParsedSummary& summary, const Record& record) {
  std::string out;
  out.reserve(512);
  out += "{\"record\":";
  AppendJsonString(out, ToString(record.type));
  fmt::format_to(std::back_inserter(out), ",\"line\":{}", record.line);
  AppendMember(out, "run", summary.RunId());
  for (const Field& field : summary.Fields(record)) {
    out += ',';
    AppendJsonString(out, field.key);
    out += ':';
    AppendFieldValue(out, field);
  }
  const bool protein = summary.Kind() == SummaryKind::Protein;
  if (!record.phylum_name.empty()) AppendMember(out, "phylum_name", record.phylum_name);
  if (!record.family_name.empty()) AppendMember(out, "family_name", record.family_name);
  if (!record.family_group.empty()) AppendMember(out, "family_group", record.family_group);
  if (!record.protein_name.empty()) AppendMember(out, "protein_name", record.protein_name);
  if (!record.virus_name.empty()) AppendMember(out, "virus_name", record.virus_name);
  if (!record.accession.empty()) {
    AppendMember(out, protein ? "genbank_id" : "sequence_accession", record.accession);
  }
  out += '}';
  return out;
}

Status WriteParsedJsonLines(const ParsedSummary& summary, std::ostream& out) {
  std::string buffer;
  for (const Record& record : summary.Records()) {
    buffer += FormatParsedJsonLine(summary, record);
    buffer += '\n';
    if (buffer.size() >= 64 * 1024) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  if (!out) return Fail(ErrorCode::Internal, "could not write the JSON lines");
  return Ok();
}

}  // namespace sluice::serratus
