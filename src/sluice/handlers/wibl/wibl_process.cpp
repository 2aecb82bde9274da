#include "sluice/handlers/wibl/wibl_process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <numeric>
#include <utility>

#include "sluice/handlers/wibl/nmea0183.hpp"
#include "sluice/handlers/wibl/python_compat.hpp"

namespace sluice::wibl {

namespace {

constexpr double kSecondsPerDay = 86400.0;
/// The NMEA2000 library's "not available" double (§1.3), which nodatareject looks for.
constexpr double kNotAvailable = -1e9;
/// datetime's range, 0001-01-01 to 9999-12-31, in seconds since 1970.
constexpr double kFirstValidTime = -62135596800.0;
constexpr double kEndValidTime = 253402300800.0;
/// Version of wibl-python's nodatareject and deduplicate algorithms (§2.5).
constexpr std::string_view kAlgorithmVersion = "1.0.0";
/// At most this many different (name, parameters) AlgorithmRequests are run. A logger writes one
/// or two; without a bound, a file of 50,000 distinct requests took minutes (the list is
/// de-duplicated by linear search, and every nodatareject or deduplicate runs over all the data).
constexpr std::size_t kMaxAlgorithmRequests = 64;
/// The deepest nesting of arrays and objects accepted in a JSONMetadata packet. Copying, merging
/// and writing JSON recurse once per level, so a packet of a few kB of '[' would overflow the
/// stack; B.12 metadata nests about 5 deep (and Python's json stops near 1000).
constexpr std::size_t kMaxJsonMetadataDepth = 100;

/// The deepest nesting of '[' and '{' outside string literals in a JSON text, without recursion.
/// Exact for valid JSON; for invalid JSON only an estimate (the parse rejects it anyway).
std::size_t JsonNestingDepth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

/// What processing needs of a packet; views point into the file's bytes.
enum class Kind : std::uint8_t {
  Version,
  SystemTime,
  Gnss,
  Depth,
  Serial,
  Metadata,
  Algorithm,
  JsonMetadata,
  Other,
};

/// 16 bytes per packet: a 10 MiB file has ~200,000 packets. The values and strings of the few
/// kinds processing reads live in side tables, indexed by `slot`.
struct Record {
  double elapsed = 0;       ///< ms; may become fractional in the fix-up (§2.2 step 5)
  std::uint32_t slot = 0;   ///< index into Processor::values_ or Processor::texts_
  Kind kind = Kind::Other;
  bool has_elapsed = true;  ///< false once wibl-python's fix-up sets elapsed to None
};

struct Algorithm {
  std::string name;
  std::string parameters;
  bool operator==(const Algorithm&) const = default;
};

/// One interpolation table (wibl-python InterpTable): knots in insertion order.
struct Table {
  std::vector<double> index;
  std::vector<double> a;
  std::vector<double> b;

  void Add(double x, double va, double vb = 0) {
    index.push_back(x);
    a.push_back(va);
    b.push_back(vb);
  }
  [[nodiscard]] bool Empty() const { return index.empty(); }
  void SortByIndex() {
    std::vector<std::size_t> order(index.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t l, std::size_t r) { return index[l] < index[r]; });
    Table sorted;
    for (const std::size_t i : order) sorted.Add(index[i], a[i], b[i]);
    *this = std::move(sorted);
  }
};

bool ValidUtf8(std::string_view s) {
  // NMEA0183 is ASCII: answer that common case without decoding, eight bytes at a time.
  std::uint64_t high_bits = 0;
  std::size_t at = 0;
  for (; at + 8 <= s.size(); at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + at, 8);
    high_bits |= word;
  }
  for (; at < s.size(); ++at) high_bits |= static_cast<unsigned char>(s[at]);
  if ((high_bits & 0x8080808080808080ULL) == 0) return true;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0, min = 0;
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    if ((b0 & 0xE0) == 0xC0) {
      n = 1, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 2, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 3, cp = b0 & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto bk = static_cast<unsigned char>(s[i + k]);
      if ((bk & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (bk & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

/// Whether valid UTF-8 `s` has more than `limit` code points (Python's len() of the decoded
/// str); stops counting there.
bool MoreCodePointsThan(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return false;  // a code point takes at least one byte
  std::size_t n = 0;
  for (const char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    if (n > limit) return true;
  }
  return false;
}

/// wibl-python's statistics name of a SerialString: bytes [3:6] (e.g. "GGA"), nullopt when they
/// are not valid UTF-8 (such packets are dropped at load, §2.2 step 3).
std::optional<std::string_view> SentenceName(std::string_view data) {
  const std::string_view name = data.size() > 3 ? data.substr(3, 3) : std::string_view();
  if (!ValidUtf8(name)) return std::nullopt;
  return name;
}

std::string LineageTimestamp(std::chrono::system_clock::time_point now) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::int64_t seconds = micros / 1000000;
  std::int64_t fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  // Exact microseconds: format the integral second and splice the fraction in.
  std::string text = FormatUtcMicros(static_cast<double>(seconds));
  text.replace(text.size() - 7, 6, fmt::format("{:06d}", fraction));
  return text;
}

/// Lineage.export(): "a=1,b=2" → {"a": "1", "b": "2"}; "" stays "".
Result<nlohmann::ordered_json> ExportParameters(const std::string& parameters) {
  if (parameters.empty()) return nlohmann::ordered_json("");
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  std::string_view rest = parameters;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view pair = rest.substr(0, comma);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos || pair.find('=', equals + 1) != std::string_view::npos) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("algorithm parameters '{}' are not comma-separated key=value pairs",
                              parameters));
    }
    object[std::string(pair.substr(0, equals))] = std::string(pair.substr(equals + 1));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return object;
}

class Processor {
 public:
  Processor(std::string_view bytes, std::string_view file_name, const ProcessOptions& options)
      : bytes_(bytes), file_name_(file_name), options_(options) {
    now_ = options.now.value_or(std::chrono::system_clock::now());
  }

  Result<ProcessedFile> Run() {
    if (options_.elapsed_time_width < 1 || options_.elapsed_time_width > 63) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("elapsed_time_width must be 1..63, not {}",
                              options_.elapsed_time_width),
                  std::string(file_name_));
    }
    if (options_.metadata && !options_.metadata->is_object()) {
      return Fail(ErrorCode::InvalidArgument, "metadata must be a JSON object",
                  std::string(file_name_));
    }
    auto status = Load();
    if (!status) return Fail(std::move(status).error().WithContext(file_name_));
    status = Interpolate();
    if (!status) return Fail(std::move(status).error().WithContext(file_name_));
    status = BuildProperties();
    if (!status) return Fail(std::move(status).error().WithContext(file_name_));
    return std::move(out_);
  }

 private:
  // ---- §2.2 load --------------------------------------------------------------------------
  Status Load() {
    PacketReader reader(bytes_, ReadOptions{options_.strict});
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(auto packet, reader.Next());
      if (!packet) break;
      ++out_.packets;
      records_.push_back(ToRecord(*packet));
      if (records_.size() == 1) records_.reserve(bytes_.size() / 40);
    }
    out_.skipped_packets = reader.Skipped();
    out_.unknown_packets = reader.UnknownPackets();

    for (const Record& r : records_) {
      if (!options_.process_algorithms) break;
      if (r.kind != Kind::Algorithm) continue;
      Algorithm algorithm{std::string(T(r).first), std::string(T(r).second)};
      if (std::find(algorithms_.begin(), algorithms_.end(), algorithm) == algorithms_.end()) {
        if (algorithms_.size() == kMaxAlgorithmRequests) {
          return Fail(ErrorCode::Corrupt,
                      fmt::format("more than {} different algorithm requests",
                                  kMaxAlgorithmRequests));
        }
        algorithms_.push_back(std::move(algorithm));
      }
    }
    if (options_.process_algorithms) {
      for (const Algorithm& algorithm : algorithms_) {
        if (algorithm.name != "nodatareject" && algorithm.name != "deduplicate") {
          return Fail(ErrorCode::Unsupported, fmt::format("Unknown algorithm '{}' for {}.",
                                                          algorithm.name, file_name_));
        }
        if (algorithm.name == "nodatareject") SLUICE_RETURN_IF_ERROR(NoDataReject(algorithm));
      }
    }

    // Statistics pass: undecodable sentence names are dropped; time source; fix-up needed?
    bool seen_systime = false, seen_gnss = false, seen_zda = false, seen_rmc = false;
    bool needs_fixup = false;
    std::erase_if(records_, [this](const Record& r) {
      return r.kind == Kind::Serial && !SentenceName(T(r).first).has_value();
    });
    for (const Record& r : records_) {
      if (r.kind == Kind::SystemTime) seen_systime = true;
      if (r.kind == Kind::Gnss) seen_gnss = true;
      if (r.kind == Kind::Serial) {
        const std::string_view name = *SentenceName(T(r).first);
        seen_zda = seen_zda || name == "ZDA";
        seen_rmc = seen_rmc || name == "RMC";
      }
      if (r.elapsed == 0) needs_fixup = true;
    }
    if (seen_systime) {
      out_.time_source = TimeSource::SystemTime;
    } else if (seen_gnss) {
      out_.time_source = TimeSource::Gnss;
    } else if (seen_zda) {
      out_.time_source = TimeSource::Zda;
    } else if (seen_rmc) {
      out_.time_source = TimeSource::Rmc;
    } else {
      return Fail(ErrorCode::Corrupt,
                  "no time source: the file has no SystemTime, GNSS, ZDA or RMC data");
    }
    if (needs_fixup) FixMissingElapsed();
    return Ok();
  }

  Record ToRecord(const Packet& packet) {
    Record r;
    r.elapsed = static_cast<double>(packet.Elapsed().value_or(0));
    const auto values = [&](double a, double b, double c, double d) {
      r.slot = static_cast<std::uint32_t>(values_.size());
      values_.push_back({a, b, c, d});
    };
    const auto texts = [&](std::string_view first, std::string_view second) {
      r.slot = static_cast<std::uint32_t>(texts_.size());
      texts_.emplace_back(first, second);
    };
    std::visit(
        [&](const auto& p) {
          using T = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<T, SerialiserVersion>) {
            r.kind = Kind::Version;
            values(p.major, p.minor, p.nmea2000[0] * 1e6 + p.nmea2000[1] * 1e3 + p.nmea2000[2],
                   p.nmea0183[0] * 1e6 + p.nmea0183[1] * 1e3 + p.nmea0183[2]);
          } else if constexpr (std::is_same_v<T, SystemTime>) {
            r.kind = Kind::SystemTime;
            values(p.date, p.timestamp, 0, 0);
          } else if constexpr (std::is_same_v<T, Gnss>) {
            r.kind = Kind::Gnss;
            values(p.msg_date, p.msg_timestamp, p.latitude, p.longitude);
          } else if constexpr (std::is_same_v<T, Depth>) {
            r.kind = Kind::Depth;
            values(p.depth, 0, 0, 0);
          } else if constexpr (std::is_same_v<T, SerialString>) {
            r.kind = Kind::Serial;
            texts(p.data, {});
          } else if constexpr (std::is_same_v<T, Metadata>) {
            r.kind = Kind::Metadata;
            texts(p.first, p.second);
          } else if constexpr (std::is_same_v<T, AlgorithmRequest>) {
            r.kind = Kind::Algorithm;
            texts(p.name, p.parameters);
          } else if constexpr (std::is_same_v<T, Text>) {
            if (packet.id == static_cast<std::uint32_t>(PacketId::JsonMetadata)) {
              r.kind = Kind::JsonMetadata;
              texts(p.text, {});
            }
          }
        },
        packet.payload);
    return r;
  }

  const std::array<double, 4>& V(const Record& r) const { return values_[r.slot]; }
  const std::pair<std::string_view, std::string_view>& T(const Record& r) const {
    return texts_[r.slot];
  }

  /// nodatareject (§2.5): drops GNSS with a -1e9 coordinate, Depth of -1e9, and SystemTime dated
  /// after today (UTC) or with more than 86400 s in the day.
  Status NoDataReject(const Algorithm& algorithm) {
    const auto today = std::chrono::floor<std::chrono::days>(now_).time_since_epoch().count();
    std::uint64_t total = 0, gnss = 0, gnss_out = 0, depth = 0, depth_out = 0, systime = 0,
                  systime_out = 0;
    std::erase_if(records_, [&](const Record& r) {
      ++total;
      if (r.kind == Kind::Gnss) {
        ++gnss;
        if (V(r)[3] == kNotAvailable || V(r)[2] == kNotAvailable) return ++gnss_out, true;
      }
      if (r.kind == Kind::Depth) {
        ++depth;
        if (V(r)[0] == kNotAvailable) return ++depth_out, true;
      }
      if (r.kind == Kind::SystemTime) {
        ++systime;
        if (V(r)[0] > static_cast<double>(today) || V(r)[1] > kSecondsPerDay) return ++systime_out, true;
      }
      return false;
    });
    return AddLineage(
        algorithm,
        fmt::format("Filtered {} packets of {} total. Filtered {} of {} GNSS packets. Filtered {} "
                    "of {} Depth packets. Filtered {} of {} SystemTime packets.",
                    gnss_out + depth_out + systime_out, total, gnss_out, gnss, depth_out, depth,
                    systime_out, systime));
  }

  Status AddLineage(const Algorithm& algorithm, std::string comment) {
    SLUICE_ASSIGN_OR_RETURN(auto parameters, ExportParameters(algorithm.parameters));
    nlohmann::ordered_json element = nlohmann::ordered_json::object();
    element["type"] = "Algorithm";
    element["timestamp"] = LineageTimestamp(now_);
    element["name"] = algorithm.name;
    if (options_.null_empty_parameters && parameters.is_string() &&
        parameters.get_ref<const std::string&>().empty()) {
      parameters = nullptr;
    }
    element["parameters"] = std::move(parameters);
    element["source"] = options_.algorithm_source;
    element["version"] = kAlgorithmVersion;
    element["comment"] = std::move(comment);
    lineage_.push_back(std::move(element));
    return Ok();
  }

  /// §2.2 step 5: ZDA/RMC-derived elapsed times, bracket fill, and None for the rest.
  void FixMissingElapsed() {
    const TimeSource source = out_.time_source;
    if (source == TimeSource::Zda || source == TimeSource::Rmc) {
      const std::string_view wanted = source == TimeSource::Zda ? "ZDA" : "RMC";
      std::optional<double> zero;
      for (Record& r : records_) {
        if (r.kind != Kind::Serial || r.elapsed != 0) continue;
        if (*SentenceName(T(r).first) != wanted || T(r).first.size() < 11 || !ValidUtf8(T(r).first)) continue;
        auto sentence = nmea::ParseSentence(T(r).first);
        if (!sentence) continue;
        auto time = nmea::ReferenceTime(*sentence);
        if (!time || !time->has_value()) continue;
        if (!zero) {
          zero = **time;
        } else {
          r.elapsed = 1000.0 * (**time - *zero);
        }
      }
    }
    // (A sentinel rather than std::optional: GCC 12 -O2 warns maybe-uninitialized on the latter.)
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t oldest = kNone;
    for (std::size_t n = 0; n < records_.size(); ++n) {
      if (records_[n].elapsed == 0) {
        if (n > 0 && records_[n - 1].elapsed > 0) oldest = n - 1;
      } else if (oldest != kNone && n - oldest > 1) {
        const double target = (records_[oldest].elapsed + records_[n].elapsed) / 2.0;
        for (std::size_t i = oldest + 1; i < n; ++i) records_[i].elapsed = target;
        oldest = kNone;
      }
    }
    for (Record& r : records_) {
      if (r.elapsed == 0) r.has_elapsed = false;
    }
  }

  // ---- §2.3 tables and §2.4 interpolation ---------------------------------------------------
  Status Interpolate() {
    const double quantum = std::ldexp(1.0, options_.elapsed_time_width);
    bool seen_version = false;
    double offset = 0;
    double last_elapsed = 0;
    Table time_table, position_table, depth_table;

    // Fix options: decide the single depth/position source up front.
    enum class DepthFrom { Any, N2k, Dpt, Dbt } depth_from = DepthFrom::Any;
    bool positions_from_n2k = false;
    if (options_.single_depth_source) {
      depth_from = DepthFrom::Dbt;
      for (const Record& r : records_) {
        if (r.kind == Kind::Depth) {
          depth_from = DepthFrom::N2k;
          break;
        }
        if (r.kind == Kind::Serial && *SentenceName(T(r).first) == "DPT") depth_from = DepthFrom::Dpt;
      }
    }
    if (options_.single_position_source) {
      positions_from_n2k = std::any_of(records_.begin(), records_.end(),
                                       [](const Record& r) { return r.kind == Kind::Gnss; });
    }
    std::optional<double> newest_fix;
    std::optional<std::pair<std::array<char, 2>, std::array<char, 3>>> position_stream;

    for (const Record& r : records_) {
      if (r.kind == Kind::Version) {
        seen_version = true;
        const auto version_text = [](double packed) {
          const auto v = static_cast<std::uint64_t>(packed);
          return fmt::format("{}.{}.{}", v / 1000000, (v / 1000) % 1000, v % 1000);
        };
        out_.logger_version =
            fmt::format("{}.{}/{}/{}", static_cast<int>(V(r)[0]), static_cast<int>(V(r)[1]),
                        version_text(V(r)[2]), version_text(V(r)[3]));
      }
      if (r.kind == Kind::Metadata) {
        out_.logger_name = std::string(T(r).first);
        platform_name_ = std::string(T(r).second);
      }
      if (r.kind == Kind::JsonMetadata) json_metadata_ = T(r).first;
      if (!r.has_elapsed) continue;

      if (r.elapsed < last_elapsed &&
          (!options_.robust_counter_wrap || last_elapsed - r.elapsed > quantum / 2)) {
        offset += quantum;
      }
      last_elapsed = r.elapsed;
      const double index = r.elapsed + offset;

      switch (r.kind) {
        case Kind::SystemTime:
          if (out_.time_source == TimeSource::SystemTime) {
            time_table.Add(index, V(r)[0] * kSecondsPerDay + V(r)[1]);
          }
          break;
        case Kind::Depth:
          if (depth_from == DepthFrom::Any || depth_from == DepthFrom::N2k) {
            depth_table.Add(index, V(r)[0]);
          }
          break;
        case Kind::Gnss: {
          const double fix_time = V(r)[0] * kSecondsPerDay + V(r)[1];
          if (out_.time_source == TimeSource::Gnss) time_table.Add(index, fix_time);
          if (options_.reject_null_positions && (V(r)[2] == kNotAvailable || V(r)[3] == kNotAvailable)) {
            break;
          }
          if (options_.single_position_source) {
            if (!positions_from_n2k || (newest_fix && fix_time <= *newest_fix)) break;
            newest_fix = fix_time;
          }
          position_table.Add(index, V(r)[2], V(r)[3]);
          break;
        }
        case Kind::Serial: {
          if (!ValidUtf8(T(r).first) || !MoreCodePointsThan(T(r).first, 11)) {
            ++out_.nmea_faults;
            break;
          }
          auto sentence = nmea::ParseSentence(T(r).first);
          if (!sentence) {
            ++out_.nmea_faults;
            break;
          }
          if (!UseSentence(*sentence, index, depth_from == DepthFrom::Any,
                           depth_from == DepthFrom::Dpt, depth_from == DepthFrom::Dbt,
                           positions_from_n2k, position_stream, time_table, position_table,
                           depth_table)) {
            ++out_.nmea_faults;
          }
          break;
        }
        default:
          break;
      }
    }

    if (!seen_version) {
      return Fail(ErrorCode::Corrupt,
                  "no SerialiserVersion packet (id 0): not a WIBL file, or its start is missing");
    }
    if (depth_table.Empty()) return Fail(ErrorCode::Corrupt, "no depth data in the file");
    if (time_table.Empty()) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("no usable time reference: no {} data could be decoded",
                              ToString(out_.time_source)));
    }
    if (position_table.Empty()) {
      return Fail(ErrorCode::Corrupt, "no position data (no GNSS, GGA or GLL) in the file");
    }
    if (options_.robust_counter_wrap) {
      time_table.SortByIndex();
      position_table.SortByIndex();
    }
    const std::vector<double> times = NumpyInterp(depth_table.index, time_table.index, time_table.a);
    const std::vector<double> lats =
        NumpyInterp(depth_table.index, position_table.index, position_table.a);
    const std::vector<double> lons =
        NumpyInterp(depth_table.index, position_table.index, position_table.b);
    out_.raw_depths = depth_table.index.size();
    out_.soundings.resize(depth_table.index.size());
    for (std::size_t i = 0; i < out_.soundings.size(); ++i) {
      // Python's datetime cannot hold these either (wibl-python stops with an exception).
      if (!(times[i] >= kFirstValidTime && times[i] < kEndValidTime)) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("sounding {} has time {} s, outside the years 1-9999: the time "
                                "references are corrupt",
                                i, times[i]));
      }
      out_.soundings[i] = Sounding{times[i], lons[i], lats[i], depth_table.a[i]};
    }

    if (options_.process_algorithms) {
      for (const Algorithm& algorithm : algorithms_) {
        if (algorithm.name == "deduplicate") SLUICE_RETURN_IF_ERROR(Deduplicate(algorithm));
      }
    }
    return Ok();
  }

  /// Feeds one parsed sentence into the tables (§2.3). Returns false for a fault.
  bool UseSentence(const nmea::Sentence& s, double index, bool any_depth, bool dpt_only,
                   bool dbt_only, bool positions_from_n2k,
                   std::optional<std::pair<std::array<char, 2>, std::array<char, 3>>>& stream,
                   Table& time_table, Table& position_table, Table& depth_table) const {
    const std::string_view type = s.Type();
    if ((type == "ZDA" && out_.time_source == TimeSource::Zda) ||
        (type == "RMC" && out_.time_source == TimeSource::Rmc)) {
      auto time = nmea::ReferenceTime(s);
      if (!time) return false;
      if (*time) time_table.Add(index, **time);
    }
    if (type == "GGA" || type == "GLL") {
      auto position = nmea::LatLon(s);
      if (!position) return false;
      if (options_.reject_null_positions && !nmea::HasFix(s)) return true;
      if (options_.single_position_source) {
        if (positions_from_n2k) return true;
        if (!stream) stream.emplace(s.talker, s.type);
        if (stream->first != s.talker || stream->second != s.type) return true;
      }
      position_table.Add(index, position->latitude, position->longitude);
    }
    if (type == "DBT" && (any_depth || dbt_only)) {
      auto depth = nmea::DecimalField(s, 2);
      if (!depth) return false;
      if (*depth) depth_table.Add(index, **depth);
    }
    if (type == "DPT" && (any_depth || dpt_only)) {
      auto depth = nmea::DecimalField(s, 0);
      if (!depth) return false;
      if (*depth) depth_table.Add(index, **depth);
    }
    return true;
  }

  /// deduplicate (§2.5): keeps a depth only when it differs from the last kept one (initially 0).
  Status Deduplicate(const Algorithm& algorithm) {
    const std::size_t before = out_.soundings.size();
    double previous = 0;
    std::vector<Sounding> kept;
    kept.reserve(before);
    for (const Sounding& s : out_.soundings) {
      if (s.depth != previous) {
        kept.push_back(s);
        previous = s.depth;
      }
    }
    out_.soundings = std::move(kept);
    return AddLineage(algorithm, fmt::format("Selected {} non-duplicate depths from {} in input.",
                                             out_.soundings.size(), before));
  }

  // ---- §2.6 GeoJSON properties --------------------------------------------------------------
  Status BuildProperties() {
    using ojson = nlohmann::ordered_json;
    const ojson vessel = out_.logger_name ? ojson(*out_.logger_name) : ojson(nullptr);
    out_.crs = ojson::object();
    out_.crs["type"] = "name";
    out_.crs["properties"] = ojson{{"name", "EPSG:4326"}};
    ojson trusted = ojson::object();
    trusted["providerOrganizationName"] = "CCOM/JHC, UNH";
    trusted["providerEmail"] = "wibl@ccom.unh.edu";
    trusted["uniqueVesselID"] = vessel;
    trusted["convention"] = "GeoJSON CSB 3.1";
    trusted["dataLicense"] = "CC0 1.0";
    trusted["providerLogger"] = "WIBL";
    trusted["providerLoggerVersion"] = out_.logger_version;
    trusted["navigationCRS"] = "EPSG:4326";
    trusted["verticalReferenceOfDepth"] = "Transducer";
    trusted["vesselPositionReferencePoint"] = "GNSS";
    ojson platform = ojson::object();
    platform["uniqueID"] = vessel;
    platform["type"] = "Ship";
    platform["name"] = platform_name_ ? ojson(*platform_name_) : ojson(nullptr);
    platform["soundSpeedDocumented"] = false;
    platform["positionOffsetsDocumented"] = false;
    platform["dataProcessed"] = false;
    out_.properties = ojson::object();
    out_.properties["trustedNode"] = std::move(trusted);
    out_.properties["platform"] = std::move(platform);

    if (json_metadata_) {
      if (JsonNestingDepth(*json_metadata_) > kMaxJsonMetadataDepth) {
        return Fail(ErrorCode::Corrupt, fmt::format("JSONMetadata packet nests deeper than {} "
                                                    "levels",
                                                    kMaxJsonMetadataDepth));
      }
      ojson meta = ojson::parse(*json_metadata_, nullptr, /*allow_exceptions=*/false);
      if (meta.is_discarded()) {
        return Fail(ErrorCode::Corrupt, "JSONMetadata packet is not valid JSON");
      }
      MergeMetadata(meta);
    }
    if (options_.metadata) MergeMetadata(*options_.metadata);

    // References into an ordered_json object die when a key is added, so look up each time.
    auto& props = out_.properties;
    if (props["trustedNode"].is_object() && props["trustedNode"].contains("uniqueVesselID") &&
        props["trustedNode"]["uniqueVesselID"].is_string()) {
      const std::string id = props["trustedNode"]["uniqueVesselID"].get<std::string>();
      if (id.find(options_.provider_id) == std::string::npos) {
        props["trustedNode"]["uniqueVesselID"] = options_.provider_id + "-" + id;
      }
    }
    if (props["trustedNode"].is_object() && props["platform"].is_object()) {
      props["platform"]["uniqueID"] = props["trustedNode"].value("uniqueVesselID", ojson(nullptr));
    }
    if (!lineage_.empty()) {
      if (!props.contains("processing") || !props["processing"].is_array()) {
        props["processing"] = ojson::array();
      }
      for (ojson& element : lineage_) props["processing"].push_back(std::move(element));
    }
    if (props.contains("processing") && !props["processing"].empty() &&
        props["platform"].is_object()) {
      props["platform"]["dataProcessed"] = true;
    }
    return Ok();
  }

  void MergeMetadata(const nlohmann::ordered_json& meta) {
    if (!meta.is_object()) return;
    if (meta.contains("crs")) out_.crs = meta["crs"];
    // deepmerge only changes the template when both sides are objects.
    if (meta.contains("properties") && meta["properties"].is_object()) {
      DeepMerge(out_.properties, meta["properties"]);
    }
  }

  std::string_view bytes_;
  std::string_view file_name_;
  const ProcessOptions& options_;
  std::chrono::system_clock::time_point now_;
  std::vector<Record> records_;
  std::vector<std::array<double, 4>> values_;
  std::vector<std::pair<std::string_view, std::string_view>> texts_;
  std::vector<Algorithm> algorithms_;
  std::vector<nlohmann::ordered_json> lineage_;
  std::optional<std::string> platform_name_;
  std::optional<std::string_view> json_metadata_;
  ProcessedFile out_;
};

}  // namespace

std::string_view ToString(TimeSource source) {
  switch (source) {
    case TimeSource::SystemTime: return "SystemTime";
    case TimeSource::Gnss: return "GNSS";
    case TimeSource::Zda: return "ZDA";
    case TimeSource::Rmc: return "RMC";
  }
  return "unknown";
}

std::string ProcessedFile::UniqueVesselId() const {
  const auto node = properties.find("trustedNode");
  if (node == properties.end() || !node->is_object()) return "";
  const auto id = node->find("uniqueVesselID");
  return id != node->end() && id->is_string() ? id->get<std::string>() : std::string();
}

void DeepMerge(nlohmann::ordered_json& base, const nlohmann::ordered_json& addition) {
  if (base.is_object() && addition.is_object()) {
    for (const auto& [key, value] : addition.items()) {
      auto found = base.find(key);
      if (found == base.end()) {
        base[key] = value;
      } else {
        DeepMerge(*found, value);
      }
    }
  } else if (base.is_array() && addition.is_array()) {
    for (const auto& value : addition) base.push_back(value);
  } else {
    base = addition;
  }
}

Result<ProcessedFile> ProcessWibl(std::string_view bytes, std::string_view file_name,
                                  const ProcessOptions& options) {
  return Processor(bytes, file_name, options).Run();
}

std::string FormatGeoJson(const ProcessedFile& file) {
  std::string out;
  // A feature is about 180 bytes (two 17-digit coordinates); one reservation, no regrowth.
  out.reserve(4096 + file.soundings.size() * 200);
  out += "{\"type\": \"FeatureCollection\", \"crs\": ";
  AppendPythonJson(out, file.crs);
  out += ", \"properties\": ";
  AppendPythonJson(out, file.properties);
  out += ", \"features\": [";
  bool first = true;
  for (const Sounding& s : file.soundings) {
    if (!first) out += ", ";
    first = false;
    out += "{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [";
    AppendPythonFloat(out, s.longitude);
    out += ", ";
    AppendPythonFloat(out, s.latitude);
    out += "]}, \"properties\": {\"depth\": ";
    AppendPythonFloat(out, s.depth);
    out += ", \"time\": \"";
    AppendUtcMicros(out, s.time);
    out += "\"}}";
  }
  out += "]}";
  return out;
}

std::string GeoJsonKeyFor(std::string_view wibl_key) {
  constexpr std::string_view kSuffix = ".wibl";
  if (wibl_key.size() > kSuffix.size() && wibl_key.ends_with(kSuffix)) {
    wibl_key.remove_suffix(kSuffix.size());
  }
  return std::string(wibl_key) + ".json";
}

}  // namespace sluice::wibl
