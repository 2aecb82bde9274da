/// AFL++ harness for the WIBL packet reader (src/sluice/handlers/wibl/wibl_reader.hpp) and, as a
/// bonus, the whole processing of a file (wibl_process.hpp): the input is read strictly and
/// leniently, every packet described and counted, every SerialString parsed as NMEA0183, and
/// the file processed with default options and with every §2.8 fix on (a fixed "now", so runs
/// are reproducible). Any outcome is fine except a crash, a sanitizer report or a hang.

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_input.hpp"
#include "sluice/handlers/wibl/nmea0183.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_reader.hpp"

namespace {

namespace wibl = sluice::wibl;

volatile std::size_t g_sink = 0;

void Read(std::string_view input, bool strict) {
  auto contents = wibl::ReadWibl(input, wibl::ReadOptions{.strict = strict});
  if (!contents) {
    g_sink = g_sink + contents.error().ToString().size();
    return;
  }
  wibl::PacketCounts counts;
  for (const auto& packet : contents->packets) {
    wibl::CountPacket(packet, counts);
    g_sink = g_sink + wibl::DescribePacket(packet).size() + packet.Elapsed().value_or(0);
    if (const auto* s = std::get_if<wibl::SerialString>(&packet.payload)) {
      if (auto sentence = wibl::nmea::ParseSentence(s->data)) {
        (void)wibl::nmea::LatLon(*sentence);
        (void)wibl::nmea::ReferenceTime(*sentence);
        (void)wibl::nmea::DecimalField(*sentence, 0);
      }
    }
  }
}

void Process(std::string_view input, bool fixes) {
  wibl::ProcessOptions options;
  options.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  options.provider_id = "FUZZ";
  if (fixes) {
    options.reject_null_positions = true;
    options.robust_counter_wrap = true;
    options.single_position_source = true;
    options.single_depth_source = true;
    options.elapsed_time_width = 16;
  }
  auto processed = wibl::ProcessWibl(input, "fuzz.wibl", options);
  if (processed) {
    g_sink = g_sink + wibl::FormatGeoJson(*processed).size();
  } else {
    g_sink = g_sink + processed.error().ToString().size();
  }
}

void FuzzOne(std::string_view input) {
  Read(input, /*strict=*/false);
  Read(input, /*strict=*/true);
  // DecodePayload directly: the first byte chooses the packet id (mod 20), bytes 4.. the payload.
  if (input.size() >= 4) {
    const auto id = static_cast<std::uint32_t>(static_cast<unsigned char>(input[0])) % 20;
    auto payload = wibl::DecodePayload(id, input.substr(4));
    g_sink = g_sink + (payload ? payload->index() : 99);
  }
  Process(input, /*fixes=*/false);
  Process(input, /*fixes=*/true);
}

}  // namespace

SLUICE_FUZZ_MAIN(FuzzOne)
