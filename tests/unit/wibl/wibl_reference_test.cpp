// Processing the sample WIBL files of ../shared reproduces wibl-python's reference GeoJSON
// (research/wibl.md §6 derived/, §8) and the golden numbers of its unit tests (§5).

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "sluice/handlers/wibl/python_compat.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"

namespace sluice::wibl {
namespace {

const std::filesystem::path kWiblData = std::filesystem::path(SLUICE_SHARED_DIR) / "data" / "wibl";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The instant the reference files were generated (their lineage timestamps are that day), so
/// nodatareject's "SystemTime in the future" test sees the same "today".
std::chrono::system_clock::time_point ReferenceNow() {
  return std::chrono::sys_days(std::chrono::year(2026) / 11 / 21) + std::chrono::hours(8) +
         std::chrono::minutes(33) + std::chrono::seconds(29);
}

struct Case {
  const char* wibl;       // below data/wibl/
  const char* reference;  // below data/wibl/derived/
  std::size_t features;
};

class ReferenceOutput : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceOutput, SoundingsAndTextEqualWiblPython) {
  const Case& c = GetParam();
  const auto wibl_path = kWiblData / c.wibl;
  const auto reference_path = kWiblData / "derived" / c.reference;
  if (!std::filesystem::exists(wibl_path) || !std::filesystem::exists(reference_path)) {
    GTEST_SKIP() << wibl_path << " or its reference is absent (../shared not beside the repo)";
  }
  const std::string bytes = ReadFile(wibl_path);
  ProcessOptions options;
  options.provider_id = "UNHJHC";
  options.now = ReferenceNow();
  auto processed = ProcessWibl(bytes, wibl_path.filename().string(), options);
  ASSERT_TRUE(processed) << processed.error().ToString();

  const std::string reference_text = ReadFile(reference_path);
  const auto reference = nlohmann::json::parse(reference_text);
  const auto& features = reference.at("features");
  ASSERT_EQ(features.size(), c.features);
  ASSERT_EQ(processed->soundings.size(), features.size());
  std::size_t exact = 0;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const Sounding& s = processed->soundings[i];
    const auto& coordinates = features[i].at("geometry").at("coordinates");
    const auto& properties = features[i].at("properties");
    const auto close = [](double got, double want) {
      return std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
    };
    ASSERT_EQ(FormatUtcMicros(s.time), properties.at("time").get<std::string>()) << "feature " << i;
    ASSERT_PRED2(close, s.longitude, coordinates.at(0).get<double>()) << "feature " << i;
    ASSERT_PRED2(close, s.latitude, coordinates.at(1).get<double>()) << "feature " << i;
    ASSERT_PRED2(close, s.depth, properties.at("depth").get<double>()) << "feature " << i;
    exact += s.longitude == coordinates.at(0).get<double>() &&
             s.latitude == coordinates.at(1).get<double>() &&
             s.depth == properties.at("depth").get<double>();
  }
  EXPECT_EQ(exact, features.size()) << "coordinates or depths differ in the last bits";

  // The whole text equals json.dumps' output once the lineage timestamps (generation times) are
  // set to ours.
  const std::string ours = FormatGeoJson(*processed);
  std::string expected = reference_text;
  const std::regex lineage_time(
      R"("type": "Algorithm", "timestamp": "2026-11-21T08:3\d:\d\d\.\d{6}Z")");
  expected = std::regex_replace(expected, lineage_time,
                                R"("type": "Algorithm", "timestamp": "2026-11-21T08:33:29.000000Z")");
  EXPECT_EQ(ours, expected);
}

INSTANTIATE_TEST_SUITE_P(
    WiblPython, ReferenceOutput,
    ::testing::Values(
        Case{"wibl-python/doc/test/test.bin", "test.bin.reference.geojson", 242},
        Case{"wibl-python/tests/data/test-algo-dedup.wibl", "test-algo-dedup.wibl.reference.geojson",
             234},
        Case{"wibl-python/tests/data/test-algo-dedup-nodata.wibl",
             "test-algo-dedup-nodata.wibl.reference.geojson", 201},
        Case{"wibl-python/tests/data/test-bin-algo-nodatafilter.wibl",
             "test-bin-algo-nodatafilter.wibl.reference.geojson", 218},
        Case{"derived/test-algo-dedup-with-b12meta.wibl",
             "test-algo-dedup-with-b12meta.wibl.reference.geojson", 234}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      std::string name = std::filesystem::path(param_info.param.reference).stem().stem().string();
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

/// Processes a shared sample with `options` (provider UNHJHC, reference "now").
Result<ProcessedFile> ProcessSample(const char* relative, ProcessOptions options = {}) {
  const auto path = kWiblData / relative;
  options.provider_id = "UNHJHC";
  if (!options.now) options.now = ReferenceNow();
  static thread_local std::string bytes;
  bytes = ReadFile(path);
  return ProcessWibl(bytes, path.string(), options);
}

#define SKIP_WITHOUT_SHARED(relative)                                                    \
  if (!std::filesystem::exists(kWiblData / (relative))) {                               \
    GTEST_SKIP() << (kWiblData / (relative)) << " is absent (../shared not beside the repo)"; \
  }

TEST(WiblGolden, DeduplicateKeeps234Of277) {
  SKIP_WITHOUT_SHARED("wibl-python/tests/data/test-algo-dedup.wibl");
  ProcessOptions raw;
  raw.process_algorithms = false;
  auto without = ProcessSample("wibl-python/tests/data/test-algo-dedup.wibl", raw);
  ASSERT_TRUE(without) << without.error().ToString();
  EXPECT_EQ(without->soundings.size(), 277u);
  auto with = ProcessSample("wibl-python/tests/data/test-algo-dedup.wibl");
  ASSERT_TRUE(with) << with.error().ToString();
  EXPECT_EQ(with->soundings.size(), 234u);
  EXPECT_EQ(with->raw_depths, 277u);
  const auto& processing = with->properties.at("processing");
  ASSERT_EQ(processing.size(), 1u);
  EXPECT_EQ(processing[0].at("comment"), "Selected 234 non-duplicate depths from 277 in input.");
  EXPECT_EQ(processing[0].at("name"), "deduplicate");
  EXPECT_EQ(processing[0].at("parameters"), "");
  EXPECT_EQ(with->properties.at("platform").at("dataProcessed"), true);
}

TEST(WiblGolden, NoDataRejectKeeps218Of246WithItsExactComment) {
  SKIP_WITHOUT_SHARED("wibl-python/tests/data/test-bin-algo-nodatafilter.wibl");
  ProcessOptions raw;
  raw.process_algorithms = false;
  auto without = ProcessSample("wibl-python/tests/data/test-bin-algo-nodatafilter.wibl", raw);
  ASSERT_TRUE(without) << without.error().ToString();
  EXPECT_EQ(without->soundings.size(), 246u);
  auto with = ProcessSample("wibl-python/tests/data/test-bin-algo-nodatafilter.wibl");
  ASSERT_TRUE(with) << with.error().ToString();
  EXPECT_EQ(with->soundings.size(), 218u);
  EXPECT_EQ(with->properties.at("processing").at(0).at("comment"),
            "Filtered 97 packets of 975 total. Filtered 29 of 181 GNSS packets. Filtered 29 of "
            "124 Depth packets. Filtered 39 of 181 SystemTime packets.");
}

TEST(WiblGolden, DedupNodataHas287RawDepths28NotAvailableAnd201Features) {
  SKIP_WITHOUT_SHARED("wibl-python/tests/data/test-algo-dedup-nodata.wibl");
  ProcessOptions raw;
  raw.process_algorithms = false;
  auto without = ProcessSample("wibl-python/tests/data/test-algo-dedup-nodata.wibl", raw);
  ASSERT_TRUE(without) << without.error().ToString();
  ASSERT_EQ(without->soundings.size(), 287u);
  std::size_t not_available = 0;
  for (const Sounding& s : without->soundings) not_available += s.depth == -1e9;
  EXPECT_EQ(not_available, 28u);

  auto with = ProcessSample("wibl-python/tests/data/test-algo-dedup-nodata.wibl");
  ASSERT_TRUE(with) << with.error().ToString();
  EXPECT_EQ(with->soundings.size(), 201u);
  const std::regex time_form(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  for (const Sounding& s : with->soundings) {
    EXPECT_NE(s.depth, -1e9);
    EXPECT_GE(s.longitude, -180.0);
    EXPECT_LE(s.longitude, 180.0);
    EXPECT_GE(s.latitude, -90.0);
    EXPECT_LE(s.latitude, 90.0);
    EXPECT_TRUE(std::regex_match(FormatUtcMicros(s.time), time_form));
  }
}

TEST(WiblGolden, UnknownAlgorithmFailsWithWiblPythonsMessage) {
  SKIP_WITHOUT_SHARED("wibl-python/tests/data/test-algo-unknown.wibl");
  auto result = ProcessSample("wibl-python/tests/data/test-algo-unknown.wibl");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Unsupported);
  const std::string path = (kWiblData / "wibl-python/tests/data/test-algo-unknown.wibl").string();
  EXPECT_EQ(result.error().message, "Unknown algorithm 'magicalgorithm' for " + path + ".");
}

TEST(WiblGolden, ObsoleteNodatafilterNameIsAnUnknownAlgorithm) {
  SKIP_WITHOUT_SHARED("wibl-python/tests/data/test-algo-nodatafilter.wibl");
  auto result = ProcessSample("wibl-python/tests/data/test-algo-nodatafilter.wibl");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("Unknown algorithm 'nodatafilter'"), std::string::npos);
}

TEST(WiblGolden, TestBinUsesZdaAndDropsTheSoundingStampedAtElapsedZero) {
  SKIP_WITHOUT_SHARED("wibl-python/doc/test/test.bin");
  auto result = ProcessSample("wibl-python/doc/test/test.bin");
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->time_source, TimeSource::Zda);
  EXPECT_EQ(result->logger_version, "1.0/1.0.0/1.0.0");
  EXPECT_EQ(result->UniqueVesselId(), "UNHJHC-Gulf Surveyor");
  EXPECT_EQ(FormatUtcMicros(result->soundings.front().time), "2020-01-01T00:00:02.197374Z");
}

}  // namespace
}  // namespace sluice::wibl
