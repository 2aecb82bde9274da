/// sluice-gen-wibl: writes a realistic synthetic WIBL logger file (research/wibl.md §1) for the
/// quickstart, the CLI tests and benchmarks.
///
///   sluice-gen-wibl --out FILE [--size BYTES] [--seed S] [--vessel NAME]
///
/// The file looks like a firmware 1.6 logger's (§1.2): SerialiserVersion 1.3, Metadata, Setup,
/// an AlgorithmRequest "deduplicate", NMEA0183Filter packets, then one second after another of
/// a vessel steaming at ~5 m/s over a sloping, rippled bottom: NMEA2000 SystemTime, GNSS and COG
/// at 1 Hz, Depth at 2 Hz (repeating values now and then, as sounders do), Attitude at 5 Hz,
/// water temperature every 10 s; NMEA0183 ZDA, GGA and DBT at 1 Hz (CR/LF stripped, valid
/// checksums, stamped at their '$'). It stops at the first whole second past --size bytes
/// (default 10 MiB, the firmware's rotation size). Same arguments → same bytes (own PRNG).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/units.hpp"
#include "sluice/handlers/wibl/wibl_writer.hpp"

namespace {

using namespace sluice::wibl;

/// splitmix64: tiny and fully specified, so a seed gives the same stream everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Between(double low, double high) { return low + (high - low) * Unit(); }

 private:
  std::uint64_t state_;
};

struct Arguments {
  std::string out;
  std::uint64_t size_bytes = 10ULL << 20;
  std::uint64_t seed = 1;
  std::string vessel = "SLUICE-0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9";
};

std::string DegreesMinutes(double degrees, int degree_digits) {
  const double value = std::fabs(degrees);
  const int whole = static_cast<int>(value);
  const double minutes = (value - whole) * 60.0;
  return fmt::format("{:0{}d}{:09.6f}", whole, degree_digits, minutes);
}

std::string Clock(double seconds_of_day) {
  const int s = static_cast<int>(seconds_of_day);
  const int ms = static_cast<int>(std::lround((seconds_of_day - s) * 1000.0)) % 1000;
  return fmt::format("{:02d}{:02d}{:02d}.{:03d}", s / 3600, (s / 60) % 60, s % 60, ms);
}

void Generate(const Arguments& args, PacketWriter& w) {
  Random random(args.seed);
  SerialiserVersion version;
  version.major = 1;
  version.minor = 3;
  version.nmea2000 = {1, 1, 0};
  version.nmea0183 = {1, 0, 1};
  version.imu = std::array<std::uint16_t, 3>{1, 0, 0};
  w.Version(version);
  w.Metadata(args.vessel, "Synthetic Surveyor");
  w.Text(PacketId::Setup,
         R"({"version":{"firmware":"1.6.1","commandproc":"1.4.0"},"uploads":{"enable":false}})");
  w.Algorithm("deduplicate", "");
  for (const char* id : {"GGA", "ZDA", "DBT"}) w.Text(PacketId::Nmea0183Filter, id);

  const std::uint16_t day = 19875;  // 2024-06-01
  double seconds_of_day = 6 * 3600.0;
  double lat = 43.0712, lon = -70.7104;  // off Portsmouth, NH
  const double heading = 2.2;          // radians, roughly south-east
  std::uint32_t elapsed = 15000;         // ms since boot
  double last_depth = 0;
  // One second's packets, written in the order of their elapsed stamps as the logger does.
  std::vector<std::pair<std::uint32_t, std::function<void()>>> second;
  const auto at_time = [&second](std::uint32_t stamp, std::function<void()> write) {
    second.emplace_back(stamp, std::move(write));
  };
  while (w.Bytes().size() < args.size_bytes) {
    second.clear();
    const double speed = 5.0 + random.Between(-0.3, 0.3);
    lat += speed * std::cos(heading) / 111120.0;
    lon += speed * std::sin(heading) / (111120.0 * std::cos(lat * std::numbers::pi / 180.0));
    const TimeDatum datum{day, seconds_of_day, elapsed};
    at_time(elapsed + 3, [&w, day, seconds_of_day, elapsed] {
      w.SystemTime({day, seconds_of_day, elapsed + 3, 0});
    });
    Gnss fix;
    fix.datum = TimeDatum{day, seconds_of_day, elapsed + 5};
    fix.msg_date = day;
    fix.msg_timestamp = seconds_of_day;
    fix.latitude = lat;
    fix.longitude = lon;
    fix.altitude = -19.3 + random.Between(-0.2, 0.2);
    fix.receiver_type = 0;
    fix.receiver_method = 1;
    fix.num_svs = static_cast<std::uint8_t>(9 + random.Next() % 5);
    fix.horizontal_dop = random.Between(0.7, 1.4);
    fix.position_dop = fix.horizontal_dop + 0.4;
    fix.geoid_separation = -27.9;
    at_time(elapsed + 5, [&w, fix] { w.Gnss(fix); });
    at_time(elapsed + 7, [&w, day, seconds_of_day, elapsed, speed, heading] {
      w.Cog({TimeDatum{day, seconds_of_day, elapsed + 7}, heading, speed});
    });
    const std::string sod = Clock(seconds_of_day);
    std::string zda = WithChecksum(fmt::format("$GPZDA,{},01,06,2024,00,00", sod));
    at_time(elapsed + 11, [&w, elapsed, zda] { w.Serial(elapsed + 11, zda); });
    std::string gga =
        WithChecksum(fmt::format("$GPGGA,{},{},N,{},W,1,{:02d},{:.1f},-19.3,M,-27.9,M,,", sod,
                                 DegreesMinutes(lat, 2), DegreesMinutes(lon, 3), fix.num_svs,
                                 fix.horizontal_dop));
    at_time(elapsed + 40, [&w, elapsed, gga] { w.Serial(elapsed + 40, gga); });
    for (int ping = 0; ping < 2; ++ping) {
      const std::uint32_t at = elapsed + 100 + 500 * static_cast<std::uint32_t>(ping);
      double depth = 30.0 + 12.0 * std::sin(seconds_of_day / 900.0) +
                     1.5 * std::sin(seconds_of_day / 37.0) + random.Between(-0.15, 0.15);
      depth = std::round(depth * 100.0) / 100.0;
      if (random.Unit() < 0.1) depth = last_depth;  // sounders repeat a value now and then
      last_depth = depth;
      const TimeDatum ping_datum{day, seconds_of_day + 0.1 + 0.5 * ping, at};
      at_time(at, [&w, ping_datum, depth] { w.Depth({ping_datum, depth, 0.4, 200}); });
      if (ping == 0) {
        std::string dbt = WithChecksum(fmt::format("$SDDBT,{:.1f},f,{:.1f},M,{:.1f},F",
                                                   depth * 3.28084, depth, depth * 0.546807));
        at_time(at + 60, [&w, at, dbt] { w.Serial(at + 60, dbt); });
      }
    }
    for (std::uint32_t k = 0; k < 5; ++k) {
      const Attitude attitude{TimeDatum{day, seconds_of_day + 0.2 * k, elapsed + 150 + 200 * k},
                              heading + random.Between(-0.02, 0.02), random.Between(-0.05, 0.05),
                              random.Between(-0.1, 0.1)};
      at_time(attitude.datum.elapsed, [&w, attitude] { w.Attitude(attitude); });
    }
    if (static_cast<int>(seconds_of_day) % 10 == 0) {
      const ScalarObservation water{datum, 0, 273.15 + 14.0 + random.Between(-0.05, 0.05)};
      at_time(elapsed, [&w, water] { w.Scalar(PacketId::Temperature, water); });
    }
    std::stable_sort(second.begin(), second.end(),
                     [](const auto& l, const auto& r) { return l.first < r.first; });
    for (const auto& [stamp, write] : second) write();
    seconds_of_day += 1.0;
    elapsed += 1000;
  }
}

int Usage(std::FILE* to) {
  std::fputs("usage: sluice-gen-wibl --out FILE [--size BYTES|10MiB] [--seed S] [--vessel ID]\n",
             to);
  return to == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") return Usage(stdout);
    if (i + 1 >= argc) return Usage(stderr);
    const std::string value = argv[++i];
    if (arg == "--out") {
      args.out = value;
    } else if (arg == "--size") {
      auto size = sluice::ParseSize(value);
      if (!size) {
        std::fprintf(stderr, "--size: %s\n", size.error().message.c_str());
        return 2;
      }
      args.size_bytes = *size;
    } else if (arg == "--seed") {
      args.seed = std::stoull(value);
    } else if (arg == "--vessel") {
      args.vessel = value;
    } else {
      return Usage(stderr);
    }
  }
  if (args.out.empty()) return Usage(stderr);
  PacketWriter writer;
  Generate(args, writer);
  std::FILE* file = std::fopen(args.out.c_str(), "wb");
  if (file == nullptr) {
    std::perror(args.out.c_str());
    return 1;
  }
  const std::string& bytes = writer.Bytes();
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (std::fclose(file) != 0 || !ok) {
    std::perror(args.out.c_str());
    return 1;
  }
  return 0;
}
