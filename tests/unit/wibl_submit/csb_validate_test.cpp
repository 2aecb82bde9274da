// csb_validate: the csbschema 3.1.0-2024-04 rules and semantic checks (research/wibl.md §5), on
// our own small documents and on the real examples and WIBL outputs in ../shared/data/wibl.

#include "sluice/handlers/wibl/csb_validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "unit/wibl_submit/csb_documents.hpp"

namespace sluice::wibl {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::SharedWiblDir;
using testing::ValidDocument;

using Json = nlohmann::json;

std::vector<std::string> Paths(const CsbReport& report) {
  std::vector<std::string> paths;
  for (const auto& violation : report.violations) paths.push_back(violation.path);
  return paths;
}

std::string Describe(const CsbReport& report) { return report.Summary(50); }

/// The violations of `document` with `pointer` set to `value`.
CsbReport With(const std::string& pointer, const Json& value,
               const CsbValidateOptions& options = {}) {
  Json document = ValidDocument();
  document[Json::json_pointer(pointer)] = value;
  return ValidateCsb(document, options);
}

/// The violations of `document` without the member at `pointer`.
CsbReport Without(const std::string& pointer) {
  Json document = ValidDocument();
  const Json::json_pointer at(pointer);
  document[at.parent_pointer()].erase(at.back());
  return ValidateCsb(document);
}

TEST(CsbValidate, OurMinimalDocumentIsValid) {
  const CsbReport report = ValidateCsb(ValidDocument());
  EXPECT_TRUE(report.Valid()) << Describe(report);
  EXPECT_EQ(report.features, 3u);
  EXPECT_EQ(report.Summary(), "valid");
}

TEST(CsbValidate, MissingMembersAreReportedAtTheirOwnPath) {
  for (const std::string pointer :
       {"/type", "/crs", "/properties", "/features", "/properties/trustedNode",
        "/properties/trustedNode/providerEmail", "/properties/trustedNode/dataLicense",
        "/properties/trustedNode/navigationCRS", "/crs/properties", "/crs/properties/name",
        "/features/1/properties/depth", "/features/2/properties/time", "/features/0/geometry",
        "/features/0/type", "/features/0/geometry/coordinates"}) {
    const CsbReport report = Without(pointer);
    EXPECT_THAT(Paths(report), ::testing::Contains(pointer)) << pointer << ": " << Describe(report);
    EXPECT_FALSE(report.Valid());
  }
  const CsbReport report = Without("/features/1/properties/depth");
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_EQ(report.violations[0].reason, "is required but missing");
}

TEST(CsbValidate, OptionalMembersMayBeAbsent) {
  for (const std::string pointer : {"/properties/platform", "/properties/platform/name",
                                    "/properties/platform/uniqueID", "/crs/type"}) {
    const CsbReport report = Without(pointer);
    EXPECT_TRUE(report.Valid()) << pointer << ": " << Describe(report);
  }
}

TEST(CsbValidate, TypesAreChecked) {
  EXPECT_THAT(Paths(With("/features/0/properties/depth", "12.5")),
              ::testing::ElementsAre("/features/0/properties/depth"));
  EXPECT_EQ(With("/features/0/properties/depth", "12.5").violations[0].reason, "must be a number");
  EXPECT_TRUE(With("/features/0/properties/depth", 12).Valid());
  EXPECT_FALSE(With("/features/0/properties/depth", nullptr).Valid());
  EXPECT_FALSE(With("/properties/trustedNode/dataLicense", 1).Valid());
  EXPECT_FALSE(With("/properties/platform/dataProcessed", "false").Valid());
  EXPECT_FALSE(With("/features", Json::object()).Valid());
  EXPECT_FALSE(With("/features/0", Json::array()).Valid());
  EXPECT_FALSE(With("/properties", "x").Valid());
  EXPECT_FALSE(ValidateCsb(Json::array()).Valid());
  EXPECT_EQ(ValidateCsb(Json::array()).violations[0].path, "");
  EXPECT_FALSE(ValidateCsb(Json("text")).Valid());
}

TEST(CsbValidate, EnumsAreChecked) {
  const CsbReport report = With("/properties/trustedNode/convention", "GeoJSON CSB 3.0");
  ASSERT_EQ(report.violations.size(), 1u) << Describe(report);
  EXPECT_EQ(report.violations[0].path, "/properties/trustedNode/convention");
  EXPECT_EQ(report.violations[0].reason, "must be \"GeoJSON CSB 3.1\"");
  EXPECT_FALSE(With("/type", "Feature").Valid());
  EXPECT_FALSE(With("/features/0/type", "feature").Valid());
  EXPECT_FALSE(With("/features/0/geometry/type", "LineString").Valid());
  EXPECT_THAT(With("/properties/trustedNode/verticalReferenceOfDepth", "Keel").violations[0].reason,
              HasSubstr("one of \"Transducer\", \"Waterline\", \"Unknown\""));
  EXPECT_TRUE(With("/properties/trustedNode/verticalReferenceOfDepth", "Waterline").Valid());
  EXPECT_TRUE(
      With("/properties/trustedNode/vesselPositionReferencePoint", "ReferencePlace").Valid());
  EXPECT_FALSE(With("/properties/trustedNode/vesselPositionReferencePoint", "gnss").Valid());
}

TEST(CsbValidate, TimesMustBeRfc3339InUtc) {
  for (const char* good : {"2016-03-03T18:41:49Z", "2016-03-03T18:41:49.000Z",
                           "2016-03-03T18:41:52.2342z", "2016-03-03t18:41:52Z",
                           "2016-12-31T23:59:60Z", "12016-01-01T00:00:00Z", "0-01-01T00:00:00Z"}) {
    EXPECT_TRUE(With("/features/0/properties/time", good).Valid()) << good;
  }
  for (const char* bad :
       {"2016-03-03 18:41:49Z", "2016-03-03T18:41:49", "2016-03-03T18:41:49+00:00",
        "2016-13-01T00:00:00Z", "2016-00-01T00:00:00Z", "2016-01-32T00:00:00Z",
        "2016-01-00T00:00:00Z", "2016-01-01T24:00:00Z", "2016-01-01T00:60:00Z",
        "2016-01-01T00:00:61Z", "2016-01-01T00:00:00.Z", "2016-1-01T00:00:00Z", "-01-01T00:00:00Z",
        "2016-01-01T00:00:00ZZ", "2016-01-01T00:00:00Z\n", ""}) {
    const CsbReport report = With("/features/0/properties/time", bad);
    ASSERT_FALSE(report.Valid()) << bad;
    EXPECT_EQ(report.violations[0].path, "/features/0/properties/time");
  }
  EXPECT_FALSE(With("/features/0/properties/time", 1456000000).Valid());
}

TEST(CsbValidate, UniqueVesselIdIsNodeDashUuid) {
  const std::string pointer = "/properties/trustedNode/uniqueVesselID";
  Json document = ValidDocument();
  document["properties"].erase("platform");
  const auto check = [&](const char* id) {
    document[Json::json_pointer(pointer)] = id;
    return ValidateCsb(document).Valid();
  };
  EXPECT_TRUE(check("SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_TRUE(check("a1-E8C469F8-DF38-11E5-B86D-9A79F06E9478"));
  EXPECT_FALSE(check("UNHJHC-Gulf Surveyor"));  // research §2.6: plain WIBL output
  EXPECT_FALSE(check("1SEA-e8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("SEA_ID-e8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("UNHJHC-SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("-e8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("SEAID-e8c469f8-df38-11e5-b86d-9a79f06e947"));
  EXPECT_FALSE(check("SEAID-e8c469f8-df38-11e5-b86d-9a79f06e94788"));
  EXPECT_FALSE(check("SEAID-e8c469f8df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("SEAID-g8c469f8-df38-11e5-b86d-9a79f06e9478"));
  EXPECT_FALSE(check("SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478 "));
}

TEST(CsbValidate, CrsNamesAreEpsgCodesFrom1024To32767) {
  for (const char* good : {"EPSG:4326", "EPSG:1024", "EPSG:32767", "EPSG:8252", "EPSG:10240",
                           "EPSG:29999", "EPSG:32760",
                           // The schema's 1024-1029 alternative has no end anchor.
                           "EPSG:1024abc", "EPSG:102999999"}) {
    EXPECT_TRUE(With("/crs/properties/name", good).Valid()) << good;
    EXPECT_TRUE(With("/properties/trustedNode/navigationCRS", good).Valid()) << good;
  }
  for (const char* bad : {"EPSG:1023", "EPSG:32768", "EPSG:04326", "epsg:4326", "EPSG:", "4326",
                          "EPSG:4326 ", "EPSG:99999", "EPSG:1000", "EPSG:123"}) {
    EXPECT_FALSE(With("/crs/properties/name", bad).Valid()) << bad;
    EXPECT_FALSE(With("/properties/trustedNode/navigationCRS", bad).Valid()) << bad;
  }
}

TEST(CsbValidate, CrsMustBeAnObjectWithAName) {
  EXPECT_THAT(Paths(With("/crs", "EPSG:4326")), ::testing::ElementsAre("/crs"));
  EXPECT_THAT(Paths(With("/crs/properties", "EPSG:4326")),
              ::testing::ElementsAre("/crs/properties"));
  EXPECT_THAT(Paths(With("/crs", nlohmann::json::object())),
              ::testing::ElementsAre("/crs/properties"));
}

TEST(CsbValidate, ProviderEmail) {
  for (const char* good : {"csb@example.org", "a.b+c%d_e-f@x-y.z.museum", "x@y.io"}) {
    EXPECT_TRUE(With("/properties/trustedNode/providerEmail", good).Valid()) << good;
  }
  for (const char* bad :
       {"csb@example", "csb@example.o", "csb@example.abcdefg", "@example.org", "csb@.org",
        "c sb@example.org", "csb@@example.org", "csb@ex_ample.org", "csb@example.org1"}) {
    EXPECT_FALSE(With("/properties/trustedNode/providerEmail", bad).Valid()) << bad;
  }
}

TEST(CsbValidate, PlatformLengthIsAPositiveInteger) {
  EXPECT_TRUE(With("/properties/platform/length", 65).Valid());
  EXPECT_TRUE(With("/properties/platform/length", 65.0).Valid());
  EXPECT_TRUE(With("/properties/platform/length", 1).Valid());
  EXPECT_FALSE(With("/properties/platform/length", 0).Valid());
  EXPECT_FALSE(With("/properties/platform/length", -3).Valid());
  EXPECT_FALSE(With("/properties/platform/length", 65.5).Valid());
  EXPECT_FALSE(With("/properties/platform/length", "65").Valid());
}

TEST(CsbValidate, SensorsDispatchOnTheirType) {
  const Json sounder = {{"type", "Sounder"},
                        {"make", "Garmin"},
                        {"model", "GT-50"},
                        {"position", {4.2, 0.0, 5.4}},
                        {"frequency", 200000}};
  const Json gnss = {{"type", "GNSS"}, {"make", "Acme"}, {"model", "G1"}};
  EXPECT_TRUE(With("/properties/platform/sensors", {sounder, gnss}).Valid());
  EXPECT_FALSE(With("/properties/platform/sensors", Json::array()).Valid());

  Json no_position = sounder;
  no_position.erase("position");
  EXPECT_THAT(Paths(With("/properties/platform/sensors", Json::array({no_position}))),
              ::testing::ElementsAre("/properties/platform/sensors/0/position"));
  Json imu = sounder;
  imu["type"] = "IMU";
  EXPECT_TRUE(With("/properties/platform/sensors", Json::array({imu})).Valid());
  Json two_numbers = sounder;
  two_numbers["position"] = {1, 2};
  EXPECT_THAT(Paths(With("/properties/platform/sensors", Json::array({two_numbers}))),
              ::testing::ElementsAre("/properties/platform/sensors/0/position"));
  Json motion = sounder;
  motion["type"] = "MotionSensor";  // the NOAA 3.0 example's type
  const CsbReport report = With("/properties/platform/sensors", Json::array({motion}));
  ASSERT_EQ(report.violations.size(), 1u);
  EXPECT_EQ(report.violations[0].path, "/properties/platform/sensors/0");
  EXPECT_THAT(report.violations[0].reason, HasSubstr("\"Sounder\", \"IMU\", \"GNSS\""));
}

TEST(CsbValidate, ProcessingStepsDispatchOnTheirType) {
  Json document = ValidDocument();
  document["properties"]["platform"]["dataProcessed"] = true;
  const auto with_steps = [&](const Json& steps) {
    document["properties"]["processing"] = steps;
    return ValidateCsb(document);
  };
  const Json algorithm = {{"type", "Algorithm"},
                          {"timestamp", "2025-06-01T13:00:00.000000Z"},
                          {"name", "deduplicate"},
                          {"parameters", nullptr},
                          {"source", "WIBL-1.2.0"}};
  EXPECT_TRUE(with_steps(Json::array({algorithm})).Valid())
      << Describe(with_steps(Json::array({algorithm})));

  Json empty_string_parameters = algorithm;  // what WIBL writes for "deduplicate" (§2.5)
  empty_string_parameters["parameters"] = "";
  EXPECT_THAT(Paths(with_steps({algorithm, empty_string_parameters})),
              ::testing::ElementsAre("/properties/processing/1/parameters"));

  EXPECT_FALSE(with_steps(Json::array()).Valid());
  EXPECT_THAT(Paths(with_steps(Json::array({{{"type", "Magic"}}}))),
              ::testing::ElementsAre("/properties/processing/0"));
  EXPECT_THAT(Paths(with_steps(Json::array({"deduplicate"}))),
              ::testing::ElementsAre("/properties/processing/0"));

  const Json offsets = {{"type", "VerticalOffsetAnalysis"},
                        {"timestamp", "2021-11-22T16:10:09.346821Z"},
                        {"name", "n"},
                        {"version", "1"},
                        {"offsets", {{{"x", 1}, {"y", 2}, {"delta", 0.1}}}}};
  EXPECT_TRUE(with_steps(Json::array({offsets})).Valid());
  Json no_offsets = offsets;
  no_offsets.erase("offsets");
  EXPECT_THAT(Paths(with_steps(Json::array({no_offsets}))),
              ::testing::ElementsAre("/properties/processing/0/offsets"));

  const Json gnss = {{"type", "GNSS"}, {"timestamp", "2023-02-14T04:00:00Z"}, {"algorithm", "PPK"}};
  EXPECT_THAT(Paths(with_steps(Json::array({gnss}))),
              ::testing::ElementsAre("/properties/processing/0/algorithm"));
  const Json reduction = {{"type", "VerticalReduction"},
                          {"timestamp", "2023-02-14T04:00:00Z"},
                          {"reference", "ChartDatum"},
                          {"datum", "d"},
                          {"method", "Predicted Waterlevel"}};
  EXPECT_TRUE(with_steps(Json::array({reduction})).Valid());
  Json bad_time = reduction;
  bad_time["timestamp"] = "2023-02-14T04:00:00";
  EXPECT_THAT(Paths(with_steps(Json::array({bad_time}))),
              ::testing::ElementsAre("/properties/processing/0/timestamp"));
}

TEST(CsbValidate, GeometryIsNullOrAPoint) {
  EXPECT_TRUE(With("/features/0/geometry", nullptr).Valid());
  EXPECT_FALSE(With("/features/0/geometry", "POINT(1 2)").Valid());
  EXPECT_FALSE(With("/features/0/geometry/coordinates", {1.0}).Valid());
  EXPECT_TRUE(With("/features/0/geometry/coordinates", {1.0, 2.0, -3.5}).Valid());
  EXPECT_THAT(Paths(With("/features/0/geometry/coordinates", {1.0, "2"})),
              ::testing::ElementsAre("/features/0/geometry/coordinates/1"));
  EXPECT_FALSE(With("/features/0/geometry/bbox", {1, 2, 3}).Valid());
  EXPECT_TRUE(With("/features/0/id", 7).Valid());
  EXPECT_TRUE(With("/features/0/id", "seven").Valid());
  EXPECT_FALSE(With("/features/0/id", true).Valid());
  // Schema-valid, but semantically an uncertainty needs an "Uncertainty" processing step.
  EXPECT_FALSE(With("/features/0/properties/uncertainty", {1, 2, 3}).Valid());
  EXPECT_FALSE(With("/features/0/properties/uncertainty", {1, 2},
                    CsbValidateOptions{.semantic_checks = false})
                   .Valid());
  EXPECT_TRUE(With("/features/0/properties/uncertainty", {1, 2, 3},
                   CsbValidateOptions{.semantic_checks = false})
                  .Valid());
}

TEST(CsbValidate, SemanticIdTypeAndIdNumberGoTogether) {
  Json document = ValidDocument();
  auto& platform = document["properties"]["platform"];
  platform["IDType"] = "MMSI";
  platform["IDNumber"] = "369958000";
  EXPECT_TRUE(ValidateCsb(document).Valid());
  platform["IDNumber"] = "IMO3699580";  // schema-valid (an IMO number), wrong for MMSI
  CsbReport report = ValidateCsb(document);
  EXPECT_THAT(Paths(report), ::testing::ElementsAre("/properties/platform/IDNumber"));
  EXPECT_TRUE(ValidateCsb(document, {.semantic_checks = false}).Valid());
  platform["IDType"] = "IMO";
  EXPECT_TRUE(ValidateCsb(document).Valid());
  platform.erase("IDType");
  EXPECT_THAT(Paths(ValidateCsb(document)), ::testing::ElementsAre("/properties/platform"));
  platform.erase("IDNumber");
  platform["IDType"] = "IMO";
  EXPECT_THAT(Paths(ValidateCsb(document)), ::testing::ElementsAre("/properties/platform"));
}

TEST(CsbValidate, SemanticDataProcessedMatchesProcessing) {
  Json document = ValidDocument();
  const Json step = {{"type", "TimeStampInterpolation"},
                     {"timestamp", "2023-02-14T01:00:00.0000Z"},
                     {"method", "Linear interpolation"}};
  document["properties"]["processing"] = Json::array({step});
  EXPECT_THAT(Paths(ValidateCsb(document)),
              ::testing::ElementsAre("/properties/platform/dataProcessed"));
  document["properties"]["platform"].erase("dataProcessed");  // absent counts as false
  EXPECT_THAT(Paths(ValidateCsb(document)),
              ::testing::ElementsAre("/properties/platform/dataProcessed"));
  document["properties"]["platform"]["dataProcessed"] = true;
  EXPECT_TRUE(ValidateCsb(document).Valid());
  document["properties"].erase("processing");
  EXPECT_THAT(Paths(ValidateCsb(document)),
              ::testing::ElementsAre("/properties/platform/dataProcessed"));
  // Without a platform there is nothing to compare.
  document["properties"].erase("platform");
  document["properties"]["processing"] = Json::array({step});
  EXPECT_TRUE(ValidateCsb(document).Valid());
}

TEST(CsbValidate, SemanticPlatformUniqueIdEqualsVesselId) {
  const CsbReport report =
      With("/properties/platform/uniqueID", "SEAID-45f5c322-10f2-4946-802e-d5992ad36727");
  ASSERT_THAT(Paths(report), ::testing::ElementsAre("/properties/platform/uniqueID"));
  EXPECT_THAT(report.violations[0].reason, HasSubstr(testing::kVesselId));
}

TEST(CsbValidate, SemanticUncertaintyNeedsAnUncertaintyStep) {
  Json document = ValidDocument(5);
  document["features"][3]["properties"]["uncertainty"] = {1.1, 2.2, 3.3};
  document["features"][4]["properties"]["uncertainty"] = {1.1, 2.2, 3.3};
  EXPECT_THAT(Paths(ValidateCsb(document)),
              ::testing::ElementsAre("/features/3/properties/uncertainty"));
  document["properties"]["platform"]["dataProcessed"] = true;
  document["properties"]["processing"] = {{{"type", "Uncertainty"},
                                           {"timestamp", "2023-02-14T06:00:00.0000Z"},
                                           {"name", "n"},
                                           {"parameters", Json::object()},
                                           {"version", "1"},
                                           {"comment", "c"},
                                           {"reference", "r"}}};
  EXPECT_TRUE(ValidateCsb(document).Valid()) << Describe(ValidateCsb(document));
}

TEST(CsbValidate, ManyViolationsAreCountedButKeptUpToTheLimit) {
  Json document = ValidDocument(2000);
  for (auto& feature : document["features"]) feature["properties"].erase("depth");
  const CsbReport report = ValidateCsb(document, {.max_kept_violations = 25});
  EXPECT_EQ(report.total_violations, 2000u);
  EXPECT_EQ(report.violations.size(), 25u);
  EXPECT_EQ(report.features, 2000u);
  EXPECT_EQ(report.violations[24].path, "/features/24/properties/depth");
  const std::string summary = report.Summary(3);
  EXPECT_THAT(summary, ::testing::StartsWith("2000 violations of csbschema 3.1.0-2024-04: "
                                             "/features/0/properties/depth: is required but "
                                             "missing; /features/1/properties/depth"));
  EXPECT_THAT(summary, ::testing::EndsWith("; and 1997 more"));
}

TEST(CsbValidate, TextThatIsNotJsonIsCorrupt) {
  for (const char* text : {"", "{", "{\"depth\": NaN}", "[1, 2,]", "// c\n{}"}) {
    const auto report = ValidateCsbText(text);
    ASSERT_FALSE(report) << text;
    EXPECT_EQ(report.error().code, ErrorCode::Corrupt);
    EXPECT_THAT(report.error().message, HasSubstr("not JSON"));
  }
  const auto report = ValidateCsbText(ValidDocument().dump());
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->Valid());
}

// ---- The real examples (csbschema @ af1c7a3, docs/) and WIBL outputs (research §8).

class SharedData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = SharedWiblDir();
    if (dir_.empty()) GTEST_SKIP() << "../shared/data/wibl is not present (SLUICE_SHARED_DIR)";
  }
  CsbReport Validate(const std::string& relative) {
    const std::string text = ReadFile(dir_ / relative);
    EXPECT_FALSE(text.empty()) << relative;
    auto report = ValidateCsbText(text);
    EXPECT_TRUE(report) << relative << ": " << report.error().ToString();
    return report ? *report : CsbReport{};
  }
  std::filesystem::path dir_;
};

TEST_F(SharedData, IhoExamplesAreValid) {
  for (const char* file :
       {"csbschema/b12_v3_1_0_example.json", "csbschema/b12_v3_1_0_example-required.json"}) {
    const CsbReport report = Validate(file);
    EXPECT_TRUE(report.Valid()) << file << ": " << Describe(report);
    EXPECT_EQ(report.features, 3u);
  }
}

TEST_F(SharedData, IhoInvalidExampleBreaksTheRulesCsbschemaFinds) {
  // csbschema's own test expects 9 errors here (tests/unit/test_validators_current.py); ours are
  // the same findings, with a missing member reported at its own path.
  const CsbReport report = Validate("csbschema/b12_v3_1_0_example-invalid.json");
  EXPECT_THAT(Paths(report),
              ::testing::UnorderedElementsAre(
                  "/properties/trustedNode/convention", "/properties/processing/5/offsets",
                  "/features/1/properties/depth", "/features/3/properties/time",
                  "/features/4/properties/time", "/properties/platform/IDNumber",
                  "/properties/platform/dataProcessed", "/properties/platform/uniqueID",
                  "/features/1/properties/uncertainty"))
      << Describe(report);
  const CsbReport schema_only =
      ValidateCsb(Json::parse(ReadFile(dir_ / "csbschema/b12_v3_1_0_example-invalid.json")),
                  {.semantic_checks = false});
  EXPECT_EQ(schema_only.total_violations, 5u) << Describe(schema_only);
}

TEST_F(SharedData, NoaaCsb30ExampleIsNotCsb31) {
  const CsbReport report = Validate("csbschema/example_csb_geojson_file.geojson");
  EXPECT_FALSE(report.Valid());
  EXPECT_THAT(Paths(report), ::testing::Contains("/properties/trustedNode"));
}

TEST_F(SharedData, WiblOutputsWithoutMetadataHaveAnInvalidVesselId) {
  // research §2.6: plain WIBL output uses the logger name as vessel ID ("UNHJHC-Gulf Surveyor"),
  // which is not <node>-<UUID> (WIBL issue #32).
  for (const char* file : {"derived/test.bin.reference.geojson",
                           "derived/test-algo-dedup-nodata.wibl.reference.geojson",
                           "derived/test-algo-dedup.wibl.reference.geojson",
                           "derived/test-bin-algo-nodatafilter.wibl.reference.geojson"}) {
    const CsbReport report = Validate(file);
    EXPECT_FALSE(report.Valid()) << file;
    EXPECT_THAT(Paths(report), ::testing::Contains("/properties/trustedNode/uniqueVesselID"))
        << file << ": " << Describe(report);
    EXPECT_GT(report.features, 100u) << file;
  }
}

TEST_F(SharedData, WiblOutputWithB12MetadataFailsOnlyOnTheDeduplicateParameters) {
  // research §2.5: WIBL exports the "deduplicate" lineage step with `"parameters": ""`, which
  // csbschema's Algorithm step (null or object) refuses; everything else is valid.
  const CsbReport report = Validate("derived/test-algo-dedup-with-b12meta.wibl.reference.geojson");
  ASSERT_EQ(report.total_violations, 1u) << Describe(report);
  EXPECT_THAT(report.violations[0].path,
              ::testing::MatchesRegex("/properties/processing/[0-9]+/parameters"));
  EXPECT_EQ(report.features, 234u);

  Json document =
      Json::parse(ReadFile(dir_ / "derived/test-algo-dedup-with-b12meta.wibl.reference.geojson"));
  for (auto& step : document["properties"]["processing"]) {
    if (step["parameters"] == "") step["parameters"] = nullptr;
  }
  EXPECT_TRUE(ValidateCsb(document).Valid()) << Describe(ValidateCsb(document));
}

}  // namespace
}  // namespace sluice::wibl
