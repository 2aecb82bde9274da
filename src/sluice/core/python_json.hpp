#pragma once
/// JSON text exactly as Python's `json.dumps` writes it, for tools whose outputs other programs
/// compare byte for byte: s3_upload's Slack payloads (research/s3_upload.md §1.9) and
/// wibl-python's GeoJSON (research/wibl.md §2.6).

#include <string>
#include <string_view>

namespace sluice {

/// Appends `utf8` as a JSON string literal the way `json.dumps` (ensure_ascii=True) writes it:
/// `"` and `\` escaped, \b \f \n \r \t by name, every other code point outside ' '..'~' as
/// lower-case \uXXXX (a UTF-16 surrogate pair above U+FFFF), and each byte of an invalid UTF-8
/// sequence (overlong, surrogate, truncated) as \ufffd. Thread-safe.
void AppendPythonJsonString(std::string& out, std::string_view utf8);

}  // namespace sluice
