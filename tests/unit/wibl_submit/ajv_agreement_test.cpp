// sluice's CSB verdicts against ajv (an independent JSON Schema 2020-12 validator, run by node)
// on csbschema's own schema file: the IHO/NOAA examples, the WIBL outputs in ../shared, and
// edge-case variants of our own document. The JSON Schema part must agree on every document;
// the semantic checks (csb_validate.hpp) may only turn a schema-valid document invalid, and
// they do so exactly on the variants built to break them.
//
// ajv and ajv-formats are installed on first use with
//   npm install --no-save --prefix <build>/tests/npm-cache/ajv ajv@8 ajv-formats@3
// The test is skipped when node or npm is missing; it fails when npm exists but the install
// fails (no network to the npm registry, for instance), so a broken setup is not silent.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sluice/handlers/wibl/csb_validate.hpp"
#include "support/temp_dir.hpp"
#include "unit/wibl_submit/csb_documents.hpp"

namespace sluice::wibl {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::ReadFile;

bool OnPath(const char* program) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", program).c_str()) == 0;
}

/// Runs `command` through the shell; its standard output, or nullopt when it exits non-zero.
std::optional<std::string> Capture(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  return ::pclose(pipe) == 0 ? std::optional<std::string>(out) : std::nullopt;
}

std::string Quote(const fs::path& path) { return "'" + path.string() + "'"; }

/// A variant of our valid document: `pointer` set to `value` (or erased when value is
/// discarded), after `prepare` ran.
struct Variant {
  std::string name;
  Json document;
  bool semantic_only = false;  ///< schema-valid by construction, semantically invalid
};

Json Set(Json document, const std::string& pointer, const Json& value) {
  document[Json::json_pointer(pointer)] = value;
  return document;
}

std::vector<Variant> Variants() {
  std::vector<Variant> variants;
  const Json base = testing::ValidDocument();
  Json no_platform_id = base;
  no_platform_id["properties"]["platform"].erase("uniqueID");
  Json processed = base;
  processed["properties"]["platform"]["dataProcessed"] = true;

  variants.push_back({"base", base});
  int n = 0;
  const auto add = [&](const std::string& what, Json document, bool semantic_only = false) {
    variants.push_back({fmt::format("{:03}-{}", n++, what), std::move(document), semantic_only});
  };
  for (const char* time :
       {"2016-03-03T18:41:49Z", "2016-03-03T18:41:52.2342z", "2016-03-03t18:41:52Z",
        "2016-12-31T23:59:60Z", "12016-01-01T00:00:00Z", "2016-03-03 18:41:49Z",
        "2016-03-03T18:41:49", "2016-03-03T18:41:49+00:00", "2016-13-01T00:00:00Z",
        "2016-01-32T00:00:00Z", "2016-01-01T24:00:00Z", "2016-01-01T00:00:61Z",
        "2016-01-01T00:00:00.Z", "2016-1-01T00:00:00Z", "2016-01-01T00:00:00Z\n",
        "\u0662\u0660\u0661\u0666-01-01T00:00:00Z", ""}) {
    add("time", Set(base, "/features/0/properties/time", time));
  }
  for (const char* crs : {"EPSG:4326", "EPSG:1024", "EPSG:32767", "EPSG:10240", "EPSG:1024abc",
                          "EPSG:102999999", "EPSG:1023", "EPSG:32768", "EPSG:04326", "epsg:4326",
                          "EPSG:4326 ", "EPSG:99999", "EPSG:1000", "EPSG:123"}) {
    add("crs", Set(base, "/crs/properties/name", crs));
    add("navcrs", Set(base, "/properties/trustedNode/navigationCRS", crs));
  }
  for (const char* email :
       {"csb@example.org", "a.b+c%d_e-f@x-y.z.museum", "csb@example", "csb@example.abcdefg",
        "@example.org", "csb@.org", "c sb@example.org", "csb@@example.org", "csb@example.org1",
        "cs\u00e9@example.org", "csb@exampl\u00e9.org"}) {
    add("email", Set(base, "/properties/trustedNode/providerEmail", email));
  }
  for (const char* id :
       {"SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478", "a1-E8C469F8-DF38-11E5-B86D-9A79F06E9478",
        "UNHJHC-Gulf Surveyor", "1SEA-e8c469f8-df38-11e5-b86d-9a79f06e9478",
        "UNHJHC-SEAID-e8c469f8-df38-11e5-b86d-9a79f06e9478",
        "SEAID-e8c469f8-df38-11e5-b86d-9a79f06e94788",
        "SEAID-g8c469f8-df38-11e5-b86d-9a79f06e9478"}) {
    add("vesselid", Set(no_platform_id, "/properties/trustedNode/uniqueVesselID", id));
  }
  for (const Json& length : {Json(65), Json(65.0), Json(1), Json(0), Json(65.5), Json("65")}) {
    add("length", Set(base, "/properties/platform/length", length));
  }
  add("crs-string", Set(base, "/crs", "EPSG:4326"));
  add("crs-no-properties", Set(base, "/crs", Json::object()));
  add("geometry-null", Set(base, "/features/0/geometry", nullptr));
  add("geometry-string", Set(base, "/features/0/geometry", "POINT(1 2)"));
  add("coordinates-one", Set(base, "/features/0/geometry/coordinates", {1.0}));
  add("coordinates-three", Set(base, "/features/0/geometry/coordinates", {1.0, 2.0, 3.0}));
  add("bbox-three", Set(base, "/features/0/geometry/bbox", {1, 2, 3}));
  add("id-bool", Set(base, "/features/0/id", true));
  add("id-string", Set(base, "/features/0/id", "x"));
  add("depth-string", Set(base, "/features/0/properties/depth", "12"));
  add("features-empty", Set(base, "/features", Json::array()));
  add("uncertainty-two", Set(base, "/features/0/properties/uncertainty", {1, 2}));
  add("idnumber-number", Set(Set(base, "/properties/platform/IDType", "IMO"),
                             "/properties/platform/IDNumber", 9083380));
  const Json sounder = {
      {"type", "Sounder"}, {"make", "m"}, {"model", "x"}, {"position", {1, 2, 3}}};
  add("sensors-ok", Set(base, "/properties/platform/sensors", Json::array({sounder})));
  add("sensors-empty", Set(base, "/properties/platform/sensors", Json::array()));
  add("sensor-motion",
      Set(base, "/properties/platform/sensors", Json::array({Set(sounder, "/type", "Motion")})));
  add("sensor-imu-no-position",
      Set(base, "/properties/platform/sensors",
          Json::array({{{"type", "IMU"}, {"make", "m"}, {"model", "x"}}})));
  add("sensor-gnss-no-position",
      Set(base, "/properties/platform/sensors",
          Json::array({{{"type", "GNSS"}, {"make", "m"}, {"model", "x"}}})));
  const Json algorithm = {
      {"type", "Algorithm"}, {"timestamp", "2025-06-01T13:00:00Z"}, {"name", "dedup"}};
  add("processing-ok", Set(processed, "/properties/processing", Json::array({algorithm})));
  add("processing-empty", Set(processed, "/properties/processing", Json::array()));
  add("processing-params-empty-string",
      Set(processed, "/properties/processing", Json::array({Set(algorithm, "/parameters", "")})));
  add("processing-params-null", Set(processed, "/properties/processing",
                                    Json::array({Set(algorithm, "/parameters", nullptr)})));
  add("processing-unknown-type",
      Set(processed, "/properties/processing", Json::array({Set(algorithm, "/type", "Dedup")})));
  add("processing-gnss-ppk",
      Set(processed, "/properties/processing",
          Json::array(
              {{{"type", "GNSS"}, {"timestamp", "2025-06-01T13:00:00Z"}, {"algorithm", "PPK"}}})));
  add("root-array", Json::array());
  // Semantically invalid, schema-valid: where sluice and ajv must disagree.
  add("semantic-mmsi-shaped-as-imo",
      Set(Set(base, "/properties/platform/IDType", "MMSI"), "/properties/platform/IDNumber",
          "IMO3699580"),
      true);
  add("semantic-idnumber-without-type", Set(base, "/properties/platform/IDNumber", "369958000"),
      true);
  add("semantic-processed-without-processing", processed, true);
  add("semantic-processing-but-not-processed",
      Set(base, "/properties/processing", Json::array({algorithm})), true);
  add("semantic-platform-id-differs",
      Set(base, "/properties/platform/uniqueID", "SEAID-45f5c322-10f2-4946-802e-d5992ad36727"),
      true);
  add("semantic-uncertainty-without-step",
      Set(base, "/features/0/properties/uncertainty", {1, 2, 3}), true);
  return variants;
}

TEST(AjvAgreement, SchemaVerdictsMatchAjvOnEveryExampleOutputAndVariant) {
  const fs::path shared = testing::SharedWiblDir();
  if (shared.empty()) GTEST_SKIP() << "../shared/data/wibl is not present (SLUICE_SHARED_DIR)";
  const fs::path schema = shared / "csbschema" / "CSB-schema-3_1_0-2024-04.json";
  if (!OnPath("node")) GTEST_SKIP() << "node is not installed: cannot run ajv";

  const fs::path prefix = fs::read_symlink("/proc/self/exe").parent_path() / "npm-cache" / "ajv";
  const bool installed = fs::exists(prefix / "node_modules" / "ajv" / "package.json") &&
                         fs::exists(prefix / "node_modules" / "ajv-formats" / "package.json");
  if (!installed) {
    if (!OnPath("npm")) GTEST_SKIP() << "npm is not installed: cannot install ajv";
    fs::create_directories(prefix);
    const fs::path log = prefix / "npm-install.log";
    const int rc = std::system(
        fmt::format("npm install --no-save --no-audit --no-fund --prefix {} ajv@8 ajv-formats@3 "
                    ">{} 2>&1",
                    Quote(prefix), Quote(log))
            .c_str());
    ASSERT_EQ(rc, 0) << "npm install of ajv failed:\n" << ReadFile(log);
  }

  sluice::testing::TempDir temp;
  std::vector<fs::path> documents;
  std::set<std::string> semantic_only;
  for (const char* relative :
       {"csbschema/b12_v3_1_0_example.json", "csbschema/b12_v3_1_0_example-required.json",
        "csbschema/b12_v3_1_0_example-invalid.json", "csbschema/example_csb_geojson_file.geojson",
        "derived/test.bin.reference.geojson", "derived/test-algo-dedup.wibl.reference.geojson",
        "derived/test-algo-dedup-nodata.wibl.reference.geojson",
        "derived/test-bin-algo-nodatafilter.wibl.reference.geojson",
        "derived/test-algo-dedup-with-b12meta.wibl.reference.geojson"}) {
    documents.push_back(shared / relative);
  }
  for (const Variant& variant : Variants()) {
    const fs::path path = temp / (variant.name + ".json");
    std::ofstream(path, std::ios::binary) << variant.document.dump();
    documents.push_back(path);
    if (variant.semantic_only) semantic_only.insert(path.string());
  }

  std::string command =
      fmt::format("node {} {} {}", Quote(fs::path(__FILE__).parent_path() / "ajv_check.mjs"),
                  Quote(prefix), Quote(schema));
  for (const fs::path& document : documents) command += " " + Quote(document);
  const auto output = Capture(command);
  ASSERT_TRUE(output) << "node ajv_check.mjs failed";
  const Json verdicts = Json::parse(*output);

  int disagreements = 0;
  for (const fs::path& document : documents) {
    SCOPED_TRACE(document.filename().string());
    const std::string key = document.string();
    ASSERT_TRUE(verdicts.contains(key));
    const Json& ajv = verdicts[key];
    const auto schema_only = ValidateCsbText(ReadFile(document), {.semantic_checks = false});
    const auto full = ValidateCsbText(ReadFile(document));
    ASSERT_TRUE(schema_only && full) << "not JSON";
    EXPECT_EQ(schema_only->Valid(), ajv["valid"].get<bool>())
        << "sluice: " << schema_only->Summary(20) << "\najv: " << ajv.dump();
    const bool expect_disagreement = semantic_only.contains(key);
    EXPECT_EQ(full->Valid() != ajv["valid"].get<bool>(), expect_disagreement)
        << "sluice: " << full->Summary(20) << "\najv: " << ajv.dump();
    if (full->Valid() != ajv["valid"].get<bool>()) ++disagreements;
  }
  EXPECT_EQ(disagreements, static_cast<int>(semantic_only.size()));
  EXPECT_GT(documents.size(), 100u);
}

}  // namespace
}  // namespace sluice::wibl
