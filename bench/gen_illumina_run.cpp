/// sluice-gen-illumina: writes a realistic synthetic Illumina run folder for benchmarks and tests
/// of `sluice upload` / `sluice monitor` (layout rules: research/s3_upload.md §5).
///
///   sluice-gen-illumina --instrument NAME --out DIR [--files N] [--size SIZE] [--seed S]
///                       [--run-name NAME] [--samples N] [--sparse] [--incomplete]
///
/// NAME is miseq, hiseq2500, nextseq500, nextseq2000, novaseq6000 or novaseqx. The run folder
/// DIR/<run name> gets the instrument's layout (§5.2, §5.5):
/// - CBCL instruments (NovaSeq 6000/X, NextSeq 1000/2000): `L00l/C<c>.1/L00l_<s>.cbcl` per lane,
///   cycle and surface; a `.filter` per tile; `s_<l>.locs`; per-cycle InterOp (6 per cycle, 14
///   on NovaSeq X) and ~10 top-level InterOp files; NovaSeq 6000 thumbnails (first cycle of each
///   read, tiles ending in 3, 2 channels); per-cycle logs; Config and Recipe.
/// - NextSeq 500/550 (RTA2): `L00l/<cycle>.bcl.bgzf` + `.bci`, per-lane `.bci`, `.filter`,
///   `.locs`, 8 InterOp files, RTALogs, thumbnails of tiles 1, 6, 12 of each swath per cycle.
/// - MiSeq / HiSeq 2500 (RTA1): per tile per cycle `.bcl` (HiSeq `.bcl.gz`) + `.stats`, per tile
///   `.filter`/`.control`/`.locs`, thumbnails per tile per cycle per base.
/// - RunInfo.xml (reads, flow-cell layout, tiles), RunParameters.xml (the instrument's software
///   name, so sluice::illumina::GuessInstrument recognises it), SampleSheet.csv (v1, or v2 on
///   CBCL instruments) with --samples samples, and the instrument's completion markers written
///   last, in the instrument's order (per-read markers, RTAComplete, then
///   SequenceComplete/RunCompletionStatus, then CopyComplete); --incomplete leaves them out.
///
/// --files N (default: the instrument's full layout, capped at 3,000 files) shrinks or grows the
/// number of cycles, then the tiles, until the file count is as close to N as the layout allows;
/// reads are re-derived from the cycle count (index reads kept when they fit). --size (default
/// 1GiB) is spread over the files by their kind's typical size (CBCL/BCL dominate; e.g. a
/// NovaSeq-like `--files 3000 --size 2GB` run, the benchmark's shape). Content is random bytes
/// from a seeded pool (fast: written in 1 MiB blocks), or holes with --sparse. The output
/// depends only on the arguments: the same seed gives the same names, sizes and bytes.
/// Prints "<run folder>\t<files>\t<bytes>" on success.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/units.hpp"

namespace {

namespace fs = std::filesystem;

/// splitmix64 (Steele, Lea, Flood 2014): a fixed stream per seed on every platform.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t Below(std::uint64_t bound) { return Next() % bound; }

 private:
  std::uint64_t state_;
};

enum class Layout { Cbcl, Bgzf, BclPerTile };

/// One instrument's defaults (research §5.3 flow-cell table; §5.4 sizes).
struct Model {
  std::string_view name;
  Layout layout;
  int lanes;
  int surfaces;
  int swaths;
  int tiles_per_swath;
  std::array<int, 4> reads;       // R1, I1, I2, R2 cycles (0: absent)
  std::string_view id_prefix;     // instrument id prefix
  std::string_view software;      // RunParameters ApplicationName / InstrumentType
  std::uint64_t data_file_bytes;  // nominal CBCL / bgzf / BCL size
  int interop_per_cycle;          // per-cycle InterOp files (CBCL)
  bool v2_samplesheet;
};

constexpr std::array<Model, 6> kModels{{
    {"miseq",
     Layout::BclPerTile,
     1,
     2,
     1,
     14,
     {151, 8, 8, 151},
     "M",
     "MiSeq Control Software",
     600'000,
     0,
     false},
    {"hiseq2500",
     Layout::BclPerTile,
     8,
     2,
     3,
     16,
     {101, 8, 8, 101},
     "D",
     "HiSeq Control Software",
     1'500'000,
     0,
     false},
    {"nextseq500",
     Layout::Bgzf,
     4,
     2,
     3,
     12,
     {75, 8, 0, 75},
     "NB",
     "NextSeq Control Software",
     20'000'000,
     0,
     false},
    {"nextseq2000",
     Layout::Cbcl,
     1,
     2,
     4,
     40,
     {151, 10, 10, 151},
     "VH",
     "NextSeq 1000/2000 Control Software",
     100'000'000,
     6,
     true},
    {"novaseq6000",
     Layout::Cbcl,
     2,
     2,
     2,
     78,
     {151, 10, 10, 151},
     "A",
     "NovaSeq Control Software",
     115'000'000,
     6,
     true},
    {"novaseqx",
     Layout::Cbcl,
     8,
     2,
     2,
     98,
     {151, 10, 10, 151},
     "LH",
     "NovaSeqXPlus",
     830'000'000,
     14,
     true},
}};

struct Arguments {
  std::string instrument;
  fs::path out;
  std::uint64_t files = 0;  // 0: default
  std::uint64_t size_bytes = 1ULL << 30;
  std::uint64_t seed = 1;
  std::string run_name;
  int samples = 24;
  bool sparse = false;
  bool incomplete = false;
};

constexpr std::string_view kUsage =
    "usage: sluice-gen-illumina --instrument miseq|hiseq2500|nextseq500|nextseq2000|novaseq6000|"
    "novaseqx\n"
    "                           --out DIR [--files N] [--size SIZE] [--seed S] [--run-name NAME]\n"
    "                           [--samples N] [--sparse] [--incomplete]\n";

/// A file to write: its path below the run, and either fixed content or a nominal size.
struct Planned {
  std::string path;
  std::uint64_t nominal = 0;  // weight for --size
  std::string content;        // fixed bytes (XML, CSV, markers) when `fixed`
  bool fixed = false;
  int marker = 0;  // > 0: a marker, written last in this order
};

struct Shape {
  int tiles_per_swath;
  std::array<int, 4> reads;
  [[nodiscard]] int Cycles() const { return reads[0] + reads[1] + reads[2] + reads[3]; }
};

/// Reads for `cycles`: the model's index reads when they leave ≥ 2 cycles, the rest split R1/R2.
std::array<int, 4> ReadsFor(const Model& model, int cycles) {
  int i1 = model.reads[1];
  int i2 = model.reads[2];
  if (cycles - i1 - i2 < 2) i1 = i2 = 0;
  const int rest = std::max(cycles - i1 - i2, 1);
  const int r2 = rest >= 2 ? rest / 2 : 0;
  return {rest - r2, i1, i2, r2};
}

std::vector<int> Tiles(const Model& model, const Shape& shape) {
  std::vector<int> tiles;
  for (int s = 1; s <= model.surfaces; ++s) {
    for (int w = 1; w <= model.swaths; ++w) {
      for (int t = 1; t <= shape.tiles_per_swath; ++t) tiles.push_back(s * 1000 + w * 100 + t);
    }
  }
  return tiles;
}

/// First cycle (1-based) of each read.
std::vector<int> ReadStarts(const Shape& shape) {
  std::vector<int> starts;
  int cycle = 1;
  for (int length : shape.reads) {
    if (length > 0) starts.push_back(cycle);
    cycle += length;
  }
  return starts;
}

/// Every non-root data file of the layout (research §5.2, §5.5).
std::vector<Planned> DataFiles(const Model& model, const Shape& shape, std::string_view run) {
  std::vector<Planned> files;
  auto add = [&](std::string path, std::uint64_t nominal) {
    files.push_back({std::move(path), nominal, {}, false, 0});
  };
  const std::vector<int> tiles = Tiles(model, shape);
  const int cycles = shape.Cycles();
  const std::string base = "Data/Intensities/BaseCalls";
  for (int l = 1; l <= model.lanes; ++l) {
    const std::string lane = fmt::format("L{:03d}", l);
    switch (model.layout) {
      case Layout::Cbcl:
        for (int c = 1; c <= cycles; ++c) {
          for (int s = 1; s <= model.surfaces; ++s) {
            add(fmt::format("{}/{}/C{}.1/{}_{}.cbcl", base, lane, c, lane, s),
                model.data_file_bytes);
          }
        }
        for (int tile : tiles)
          add(fmt::format("{}/{}/s_{}_{}.filter", base, lane, l, tile), 2'500'000);
        add(fmt::format("Data/Intensities/s_{}.locs", l), 2'000'000);
        if (model.name == "novaseq6000") {
          for (int start : ReadStarts(shape)) {
            for (int tile : tiles) {
              if (tile % 10 != 3) continue;
              for (std::string_view channel : {"green", "red"}) {
                add(fmt::format("Thumbnail_Images/{}/C{}.1/s_{}_{}_{}.jpg", lane, start, l, tile,
                                channel),
                    60'000);
              }
            }
          }
        }
        break;
      case Layout::Bgzf:
        for (int c = 1; c <= cycles; ++c) {
          add(fmt::format("{}/{}/{:04d}.bcl.bgzf", base, lane, c), model.data_file_bytes);
          add(fmt::format("{}/{}/{:04d}.bcl.bgzf.bci", base, lane, c), 5'000);
        }
        add(fmt::format("{}/{}/s_{}.bci", base, lane, l), 5'000);
        add(fmt::format("{}/{}/s_{}.filter", base, lane, l), 5'000'000);
        add(fmt::format("Data/Intensities/{}/s_{}.locs", lane, l), 20'000'000);
        for (int c = 1; c <= cycles; ++c) {
          for (int tile : tiles) {
            const int t = tile % 100;
            if (t != 1 && t != 6 && t != 12) continue;
            for (std::string_view channel : {"green", "red"}) {
              add(fmt::format("Thumbnail_Images/{}/C{}.1/s_{}_{}_{}.jpg", lane, c, l, tile,
                              channel),
                  40'000);
            }
          }
        }
        break;
      case Layout::BclPerTile: {
        const bool hiseq = model.name == "hiseq2500";
        for (int c = 1; c <= cycles; ++c) {
          for (int tile : tiles) {
            add(fmt::format("{}/{}/C{}.1/s_{}_{}.{}", base, lane, c, l, tile,
                            hiseq ? "bcl.gz" : "bcl"),
                model.data_file_bytes);
            add(fmt::format("{}/{}/C{}.1/s_{}_{}.stats", base, lane, c, l, tile), 108);
            for (std::string_view letter : {"a", "c", "g", "t"}) {
              add(fmt::format("Thumbnail_Images/{}/C{}.1/s_{}_{}_{}.jpg", lane, c, l, tile, letter),
                  30'000);
            }
          }
        }
        for (int tile : tiles) {
          add(fmt::format("{}/{}/s_{}_{}.filter", base, lane, l, tile), 600'000);
          add(fmt::format("{}/{}/s_{}_{}.control", base, lane, l, tile), 1'200'000);
          add(fmt::format("Data/Intensities/{}/s_{}_{}.locs", lane, l, tile), 4'800'000);
        }
        break;
      }
    }
  }
  // InterOp (§5.2 "Per-cycle InterOp"; top-level *.bin).
  static constexpr std::array<std::string_view, 14> kPerCycle{
      "BasecallingMetricsOut.bin",   "EmpiricalPhasingMetricsOut.bin",
      "EventMetricsOut.bin",         "ExtractionMetricsOut.bin",
      "ImageMetricsOut.bin",         "RegistrationMetricsOut.bin",
      "ClusterStatsMetricsOut.bin",  "DiversityMetricsOut.bin",
      "RunInfoMetricsOut.bin",       "ImageQualityMetricsOut.bin",
      "BandEdgeXGridMetricsOut.bin", "BandEdgeYGridMetricsOut.bin",
      "FWHMGridMetricsOut.bin",      "OpticalModelMetricsOut.bin"};
  for (int c = 1; c <= cycles && model.interop_per_cycle > 0; ++c) {
    for (int i = 0; i < model.interop_per_cycle; ++i) {
      add(fmt::format("InterOp/C{}.1/{}", c, kPerCycle[static_cast<std::size_t>(i)]), 200'000);
    }
  }
  static constexpr std::array<std::string_view, 10> kTopLevel{
      "TileMetricsOut.bin",         "QMetricsOut.bin",
      "CorrectedIntMetricsOut.bin", "ErrorMetricsOut.bin",
      "ExtractionMetricsOut.bin",   "ImageMetricsOut.bin",
      "IndexMetricsOut.bin",        "QMetrics2030Out.bin",
      "QMetricsByLaneOut.bin",      "EmpiricalPhasingMetricsOut.bin"};
  const std::size_t top_level = model.layout == Layout::Bgzf   ? 8
                                : model.layout == Layout::Cbcl ? 10
                                                               : 6;
  for (std::size_t i = 0; i < top_level; ++i) add(fmt::format("InterOp/{}", kTopLevel[i]), 500'000);
  // Logs, Config, Recipe.
  if (model.layout == Layout::Bgzf) {
    for (int i = 1; i <= 9; ++i) add(fmt::format("RTALogs/{:02d}_GlobalLog.tsv", i), 2'300'000);
  }
  for (int c = 1; c <= cycles; ++c) {
    add(fmt::format("Logs/{}_Cycle{}_Log.00.log", run, c), 500'000);
  }
  add("Logs/info_00000.log", 1'000'000);
  add("Logs/warning_00000.log", 50'000);
  add("Config/Effective.cfg", 70'000);
  add("Config/Options.cfg", 2'000);
  add("Recipe/Recipe.xml", 200'000);
  return files;
}

std::string RunInfoXml(const Model& model, const Shape& shape, std::string_view run,
                       std::string_view instrument_id, std::string_view flowcell) {
  std::string reads;
  int number = 1;
  for (std::size_t i = 0; i < shape.reads.size(); ++i) {
    if (shape.reads[i] == 0) continue;
    const bool index = i == 1 || i == 2;
    reads += fmt::format("      <Read Number=\"{}\" NumCycles=\"{}\" IsIndexedRead=\"{}\"/>\n",
                         number++, shape.reads[i], index ? "Y" : "N");
  }
  std::string tiles;
  for (int l = 1; l <= model.lanes; ++l) {
    for (int tile : Tiles(model, shape))
      tiles += fmt::format("          <Tile>{}_{}</Tile>\n", l, tile);
  }
  return fmt::format(
      "<?xml version=\"1.0\"?>\n<RunInfo Version=\"5\">\n  <Run Id=\"{}\" Number=\"{}\">\n"
      "    <Flowcell>{}</Flowcell>\n    <Instrument>{}</Instrument>\n    <Date>{}</Date>\n"
      "    <Reads>\n{}    </Reads>\n"
      "    <FlowcellLayout LaneCount=\"{}\" SurfaceCount=\"{}\" SwathCount=\"{}\" "
      "TileCount=\"{}\">\n"
      "      <TileSet TileNamingConvention=\"FourDigit\">\n        <Tiles>\n{}        </Tiles>\n"
      "      </TileSet>\n    </FlowcellLayout>\n  </Run>\n</RunInfo>\n",
      run, 1, flowcell, instrument_id, run.substr(0, 6), reads, model.lanes, model.surfaces,
      model.swaths, shape.tiles_per_swath, tiles);
}

std::string RunParametersXml(const Model& model, std::string_view run,
                             std::string_view instrument_id) {
  const bool x = model.name == "novaseqx";
  return fmt::format(
      "<?xml version=\"1.0\"?>\n<RunParameters>\n  <RunId>{}</RunId>\n"
      "  <{}>{}</{}>\n  <InstrumentName>{}</InstrumentName>\n</RunParameters>\n",
      run, x ? "InstrumentType" : "ApplicationName", model.software,
      x ? "InstrumentType" : "ApplicationName", instrument_id);
}

std::string SampleSheet(const Model& model, const Shape& shape, int samples, Random& random) {
  std::string sheet;
  auto index = [&](int length) {
    std::string bases;
    for (int i = 0; i < length; ++i) bases += "ACGT"[random.Below(4)];
    return bases;
  };
  const int i1 = std::max(shape.reads[1], 8);
  const int i2 = std::max(shape.reads[2], 8);
  if (model.v2_samplesheet) {
    sheet = fmt::format(
        "[Header]\nFileFormatVersion,2\nRunName,synthetic\n[Reads]\nRead1Cycles,{}\n"
        "Read2Cycles,{}\nIndex1Cycles,{}\nIndex2Cycles,{}\n[BCLConvert_Settings]\n"
        "SoftwareVersion,4.1.7\n[BCLConvert_Data]\nLane,Sample_ID,Index,Index2\n",
        shape.reads[0], shape.reads[3], shape.reads[1], shape.reads[2]);
    for (int l = 1; l <= model.lanes; ++l) {
      for (int s = 1; s <= samples; ++s) {
        sheet += fmt::format("{},SYN{:04d}_assay_1,{},{}\n", l, s, index(i1), index(i2));
      }
    }
  } else {
    sheet = fmt::format(
        "[Header]\r\nIEMFileVersion,4\r\nExperiment Name,synthetic\r\n\r\n[Reads]\r\n{}\r\n{}\r\n"
        "\r\n[Settings]\r\n\r\n[Data]\r\nSample_ID,Sample_Name,index,index2\r\n",
        shape.reads[0], shape.reads[3]);
    for (int s = 1; s <= samples; ++s) {
      sheet += fmt::format("SYN{:04d}_assay_1,SYN{:04d},{},{}\r\n", s, s, index(i1), index(i2));
    }
  }
  return sheet;
}

/// Root files, markers last (research §5.1, §5.5).
std::vector<Planned> RootFiles(const Model& model, const Shape& shape, std::string_view run,
                               std::string_view instrument_id, std::string_view flowcell,
                               int samples, bool incomplete, Random& random) {
  std::vector<Planned> files;
  auto fixed = [&](std::string path, std::string content, int marker = 0) {
    files.push_back({std::move(path), 0, std::move(content), true, marker});
  };
  fixed("RunInfo.xml", RunInfoXml(model, shape, run, instrument_id, flowcell));
  fixed(model.layout == Layout::BclPerTile ? "runParameters.xml" : "RunParameters.xml",
        RunParametersXml(model, run, instrument_id));
  fixed("SampleSheet.csv", SampleSheet(model, shape, samples, random));
  if (model.layout == Layout::Cbcl)
    fixed(model.name == "novaseqx" ? "RTA.cfg" : "RTA3.cfg", "[RTA]\n");
  if (model.layout == Layout::Bgzf) fixed("RTAConfiguration.xml", "<RTAConfiguration/>\n");
  if (incomplete) return files;
  int read = 1;
  for (int length : shape.reads) {
    if (length == 0) continue;
    if (model.layout == Layout::Bgzf) {
      fixed(fmt::format("RTARead{}Complete.txt", read), "RTA read complete\r\n", 1);
    } else if (model.layout == Layout::BclPerTile) {
      fixed(fmt::format("ImageAnalysis_Netcopy_complete_Read{}.txt", read), "Illumina RTA 1.18\n",
            1);
      fixed(fmt::format("Basecalling_Netcopy_complete_Read{}.txt", read), "Illumina RTA 1.18\n", 1);
    }
    ++read;
  }
  fixed("RTAComplete.txt", model.layout == Layout::Cbcl ? "" : "RTA complete\r\n", 2);
  switch (model.layout) {
    case Layout::BclPerTile:
      fixed("Basecalling_Netcopy_complete.txt", "Illumina RTA 1.18\n", 2);
      break;
    case Layout::Bgzf:
      fixed("RunCompletionStatus.xml",
            "<RunCompletionStatus><CompletionStatus>CompletedAsPlanned"
            "</CompletionStatus></RunCompletionStatus>\n",
            3);
      break;
    case Layout::Cbcl:
      if (model.name == "novaseqx") {
        fixed("RTAExited.txt", "0", 2);
        fixed("RunCompletionStatus.xml",
              "<RunCompletionStatus><RunStatus>RunCompleted</RunStatus>"
              "</RunCompletionStatus>\n",
              3);
      } else {
        fixed("SequenceComplete.txt", "", 3);
      }
      fixed("CopyComplete.txt", "", 4);
      break;
  }
  return files;
}

/// Number of files DataFiles would plan, plus about a dozen root files (arithmetic, so the
/// search below stays fast for HiSeq-sized layouts of millions of files).
std::size_t CountFiles(const Model& model, const Shape& shape) {
  const auto lanes = static_cast<std::size_t>(model.lanes);
  const auto cycles = static_cast<std::size_t>(shape.Cycles());
  const auto tiles =
      static_cast<std::size_t>(model.surfaces * model.swaths * shape.tiles_per_swath);
  std::size_t count = 12 + 5 + cycles;  // root, Logs/Config/Recipe, per-cycle logs
  switch (model.layout) {
    case Layout::Cbcl: {
      count += lanes * (cycles * static_cast<std::size_t>(model.surfaces) + tiles + 1);
      count += cycles * static_cast<std::size_t>(model.interop_per_cycle) + 10;
      if (model.name == "novaseq6000") {
        std::size_t ending_in_3 = 0;
        for (int tile : Tiles(model, shape)) ending_in_3 += tile % 10 == 3 ? 1 : 0;
        count += lanes * ReadStarts(shape).size() * ending_in_3 * 2;
      }
      break;
    }
    case Layout::Bgzf: {
      std::size_t thumbnail_tiles = 0;
      for (int tile : Tiles(model, shape)) {
        const int t = tile % 100;
        thumbnail_tiles += (t == 1 || t == 6 || t == 12) ? 1 : 0;
      }
      count += lanes * (2 * cycles + 3 + cycles * thumbnail_tiles * 2) + 8 + 9;
      break;
    }
    case Layout::BclPerTile:
      count += lanes * (cycles * tiles * 6 + tiles * 3) + 6;
      break;
  }
  return count;
}

/// The layout closest to `target` files: fewer (or more) cycles first, then fewer tiles.
Shape ShapeFor(const Model& model, std::uint64_t target) {
  const int default_cycles = model.reads[0] + model.reads[1] + model.reads[2] + model.reads[3];
  for (int tiles = model.tiles_per_swath; tiles >= 1; tiles = tiles > 1 ? tiles * 2 / 3 : 0) {
    int low = 2;
    int high = default_cycles * 4;
    if (CountFiles(model, {tiles, ReadsFor(model, low)}) > target && tiles > 1) continue;
    while (low < high) {  // smallest cycle count reaching the target
      const int mid = (low + high) / 2;
      if (CountFiles(model, {tiles, ReadsFor(model, mid)}) >= target) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    if (low > 2) {  // take the closer of low and low - 1
      const auto above = CountFiles(model, {tiles, ReadsFor(model, low)});
      const auto below = CountFiles(model, {tiles, ReadsFor(model, low - 1)});
      if (target - below < above - target) --low;
    }
    return {tiles, ReadsFor(model, low)};
  }
  return {1, ReadsFor(model, 2)};
}

bool ParseNumber(std::string_view text, std::uint64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

/// Returns 0 on success, 2 on a usage error (message printed), 1 for --help.
int ParseArguments(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      return 1;
    }
    if (arg == "--sparse") {
      args.sparse = true;
      continue;
    }
    if (arg == "--incomplete") {
      args.incomplete = true;
      continue;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "sluice-gen-illumina: {} needs a value\n{}", arg, kUsage);
      return 2;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    std::uint64_t number = 0;
    if (arg == "--instrument") {
      args.instrument = value;
    } else if (arg == "--out") {
      args.out = fs::path(value);
    } else if (arg == "--files") {
      ok = ParseNumber(value, args.files) && args.files > 0;
    } else if (arg == "--size") {
      auto size = sluice::ParseSize(value);
      ok = size.has_value();
      if (ok) args.size_bytes = *size;
    } else if (arg == "--seed") {
      ok = ParseNumber(value, args.seed);
    } else if (arg == "--run-name") {
      args.run_name = value;
    } else if (arg == "--samples") {
      ok = ParseNumber(value, number) && number > 0 && number < 100'000;
      args.samples = static_cast<int>(number);
    } else {
      fmt::print(stderr, "sluice-gen-illumina: unknown option '{}'\n{}", arg, kUsage);
      return 2;
    }
    if (!ok) {
      fmt::print(stderr, "sluice-gen-illumina: bad value '{}' for {}\n", value, arg);
      return 2;
    }
  }
  if (args.out.empty() || args.instrument.empty()) {
    fmt::print(stderr, "sluice-gen-illumina: --instrument and --out are required\n{}", kUsage);
    return 2;
  }
  return 0;
}

/// Writes `size` bytes from the random pool (or a hole with `sparse`) to `path`.
bool WriteData(const fs::path& path, std::uint64_t size, const std::vector<char>& pool,
               std::uint64_t offset, bool sparse) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = true;
  if (sparse) {
    ok = ::ftruncate(fd, static_cast<off_t>(size)) == 0;
  } else {
    std::uint64_t written = 0;
    std::size_t start = static_cast<std::size_t>(offset % (pool.size() / 2));
    while (ok && written < size) {
      const std::size_t chunk =
          static_cast<std::size_t>(std::min<std::uint64_t>(size - written, pool.size() / 2));
      const ssize_t n = ::write(fd, pool.data() + start, chunk);
      ok = n > 0;
      if (ok) written += static_cast<std::uint64_t>(n);
      start = (start + 4099) % (pool.size() / 2);  // blocks of one file differ
    }
  }
  return ::close(fd) == 0 && ok;
}

bool WriteFixed(const fs::path& path, std::string_view content) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  return std::fclose(file) == 0 && written;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (const int status = ParseArguments(argc, argv, args); status != 0) return status == 1 ? 0 : 2;
  const auto model_it = std::find_if(kModels.begin(), kModels.end(),
                                     [&](const Model& m) { return m.name == args.instrument; });
  if (model_it == kModels.end()) {
    fmt::print(stderr, "sluice-gen-illumina: unknown instrument '{}'\n{}", args.instrument, kUsage);
    return 2;
  }
  const Model& model = *model_it;
  Random random(args.seed);

  // Names in the instrument's style (research §4 fixtures).
  const std::string instrument_id =
      fmt::format("{}{:05d}", model.id_prefix, 100 + random.Below(900));
  std::string flowcell;
  for (int i = 0; i < 5; ++i) flowcell += "ABCDEFGHJKLMNPRSTVWXYZ0123456789"[random.Below(32)];
  flowcell += model.name == "novaseqx"            ? "LT3"
              : model.name.starts_with("novaseq") ? "DRXX"
                                                  : "BGX2";
  const std::string date = model.name == "novaseqx" ? "20240531" : "240531";
  const std::string run =
      args.run_name.empty()
          ? fmt::format("{}_{}_{:04d}_A{}", date, instrument_id, 1 + random.Below(999), flowcell)
          : args.run_name;

  const Shape shape = ShapeFor(model, args.files == 0 ? 3000 : args.files);
  std::vector<Planned> files = DataFiles(model, shape, run);
  std::vector<Planned> root =
      RootFiles(model, shape, run, instrument_id, flowcell, args.samples, args.incomplete, random);

  // Spread --size over the data files by nominal size.
  std::uint64_t fixed_bytes = 0;
  for (const Planned& file : root) fixed_bytes += file.content.size();
  long double nominal_total = 0;
  for (const Planned& file : files) nominal_total += static_cast<long double>(file.nominal);
  const long double budget =
      args.size_bytes > fixed_bytes ? static_cast<long double>(args.size_bytes - fixed_bytes) : 0;
  const long double scale = nominal_total > 0 ? budget / nominal_total : 0;

  std::vector<char> pool(2u << 20);
  for (std::size_t i = 0; i < pool.size(); i += 8) {
    const std::uint64_t value = random.Next();
    std::memcpy(pool.data() + i, &value, 8);
  }

  const fs::path run_dir = args.out / run;
  std::error_code error;
  fs::create_directories(run_dir, error);
  if (error) {
    fmt::print(stderr, "sluice-gen-illumina: cannot create {}: {}\n", run_dir.string(),
               error.message());
    return 1;
  }
  std::uint64_t total = 0;
  std::size_t count = 0;
  fs::path last_dir;
  auto ensure_parent = [&](const fs::path& path) {
    if (path.parent_path() != last_dir) {
      fs::create_directories(path.parent_path(), error);
      last_dir = path.parent_path();
    }
    return !error;
  };
  for (const Planned& file : files) {
    const fs::path path = run_dir / file.path;
    const auto size = static_cast<std::uint64_t>(static_cast<long double>(file.nominal) * scale);
    if (!ensure_parent(path) || !WriteData(path, size, pool, random.Next(), args.sparse)) {
      fmt::print(stderr, "sluice-gen-illumina: cannot write {}\n", path.string());
      return 1;
    }
    total += size;
    ++count;
  }
  // Root files; markers last, each newer than everything before (the instrument's order).
  std::stable_sort(root.begin(), root.end(),
                   [](const Planned& a, const Planned& b) { return a.marker < b.marker; });
  for (const Planned& file : root) {
    const fs::path path = run_dir / file.path;
    if (!WriteFixed(path, file.content)) {
      fmt::print(stderr, "sluice-gen-illumina: cannot write {}\n", path.string());
      return 1;
    }
    total += file.content.size();
    ++count;
  }
  fmt::print("{}\t{}\t{}\n", run_dir.string(), count, total);
  return 0;
}
