#pragma once
// Small CSB GeoJSON documents of our own for the wibl_submit tests (the rules they exercise are
// in research/wibl.md §5; the real examples live in ../shared and are read when present).

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace sluice::wibl::testing {

inline constexpr const char* kVesselId = "EXNODE-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/// A valid document: full trusted node, a platform, `soundings` features.
inline nlohmann::json ValidDocument(int soundings = 3) {
  nlohmann::json document = {{"type", "FeatureCollection"},
                             {"crs", {{"type", "name"}, {"properties", {{"name", "EPSG:4326"}}}}},
                             {"properties",
                              {{"trustedNode",
                                {{"providerOrganizationName", "Example Node"},
                                 {"providerEmail", "csb@example.org"},
                                 {"uniqueVesselID", kVesselId},
                                 {"convention", "GeoJSON CSB 3.1"},
                                 {"dataLicense", "CC0 1.0"},
                                 {"providerLogger", "sluice-test"},
                                 {"providerLoggerVersion", "0.1"},
                                 {"navigationCRS", "EPSG:4326"},
                                 {"verticalReferenceOfDepth", "Transducer"},
                                 {"vesselPositionReferencePoint", "GNSS"}}},
                               {"platform",
                                {{"uniqueID", kVesselId},
                                 {"type", "Research vessel"},
                                 {"name", "Test Boat"},
                                 {"soundSpeedDocumented", false},
                                 {"positionOffsetsDocumented", false},
                                 {"dataProcessed", false}}}}},
                             {"features", nlohmann::json::array()}};
  for (int i = 0; i < soundings; ++i) {
    document["features"].push_back(
        {{"type", "Feature"},
         {"geometry", {{"type", "Point"}, {"coordinates", {-70.5 + i * 0.001, 43.1}}}},
         {"properties",
          {{"depth", 12.5 + i},
           {"time", "2025-06-01T12:00:0" + std::to_string(i % 10) + ".250Z"}}}});
  }
  return document;
}

/// The file at `path`, or "" when it cannot be read.
inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// ../shared/data/wibl, or "" when this build was configured without the shared folder.
inline std::filesystem::path SharedWiblDir() {
#ifdef SLUICE_SHARED_DIR
  const std::filesystem::path dir = std::filesystem::path(SLUICE_SHARED_DIR) / "data" / "wibl";
  if (std::filesystem::is_directory(dir / "csbschema")) return dir;
#endif
  return {};
}

}  // namespace sluice::wibl::testing
