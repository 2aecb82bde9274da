/// AFL++ harness for the NMEA0183 parser (src/sluice/handlers/wibl/nmea0183.hpp): every line of
/// the input is parsed as a sentence, and every accessor processing uses is run on the result,
/// as wibl_process.cpp does for SerialString packets. The whole input is parsed once as well,
/// since a SerialString may hold any bytes, CR/LF and NULs included.

#include <cstddef>
#include <string_view>

#include "fuzz_input.hpp"
#include "sluice/handlers/wibl/nmea0183.hpp"

namespace {

namespace nmea = sluice::wibl::nmea;

volatile double g_sink = 0;  // keeps results alive

void Use(double v) { g_sink = g_sink + v; }

void FuzzSentence(std::string_view text) {
  (void)nmea::Checksum(text);
  auto sentence = nmea::ParseSentence(text);
  if (!sentence) return;
  const auto& s = *sentence;
  for (std::size_t i = 0; i <= s.field_count && i < nmea::kMaxFields + 1; ++i) {
    const auto field = s.Field(i);
    if (auto f = nmea::ParsePythonFloat(field)) Use(*f);
    if (auto d = nmea::DegreesFromDm(field)) Use(*d);
    if (auto d = nmea::DecimalField(s, i); d && *d) Use(**d);
  }
  if (auto p = nmea::LatLon(s)) Use(p->latitude + p->longitude);
  Use(nmea::HasFix(s) ? 1 : 0);
  if (auto t = nmea::ReferenceTime(s); t && *t) Use(**t);
}

void FuzzOne(std::string_view input) {
  FuzzSentence(input);
  std::size_t start = 0;
  while (start < input.size()) {
    auto end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    FuzzSentence(input.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

SLUICE_FUZZ_MAIN(FuzzOne)
