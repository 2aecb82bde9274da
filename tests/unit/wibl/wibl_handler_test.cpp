// The wibl-process handler against memory:// object stores.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sluice/engine/handler.hpp"
#include "sluice/handlers/handlers.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_process_handler.hpp"
#include "sluice/handlers/wibl/wibl_writer.hpp"

namespace sluice::wibl {
namespace {

using ::testing::HasSubstr;

std::string SmallFile() {
  PacketWriter w;
  SerialiserVersion v;
  v.major = 1;
  v.minor = 3;
  w.Version(v);
  w.Metadata("Vessel-1", "Ship");
  w.SystemTime({18262, 0, 1000, 0});
  Gnss g;
  g.datum.elapsed = 1000;
  g.latitude = 43;
  g.longitude = -70;
  w.Gnss(g);
  w.Depth({TimeDatum{18262, 0, 1500}, 10.0, 0, 0});
  w.SystemTime({18262, 1, 2000, 0});
  return w.Take();
}

class WiblHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string unique = fmt::format("wibl-handler-{}-{}", ::getpid(), ++counter);
    auto incoming = MakeObjectStore("memory://" + unique + "-incoming");
    ASSERT_TRUE(incoming);
    incoming_ = std::shared_ptr<ObjectStore>(std::move(*incoming));
    auto staging = MakeObjectStore("memory://" + unique + "-staging");
    ASSERT_TRUE(staging);
    staging_ = std::shared_ptr<ObjectStore>(std::move(*staging));
    resources_.stores["incoming"] = incoming_;
    resources_.stores["staging"] = staging_;
  }

  Result<std::unique_ptr<Handler>> Make(const nlohmann::json& values) {
    return MakeProcessHandler(Options(values, {}, "pipeline.toml", "routes[0].options"),
                              resources_);
  }

  static Result<Outcome> Handle(Handler& handler, std::string_view key,
                                std::string_view store = "incoming") {
    Event event;
    event.kind = std::string(kEventObjectCreatedPut);
    event.store = std::string(store);
    event.key = std::string(key);
    HandlerContext context("wibl", "job-1",
                           std::chrono::steady_clock::now() + std::chrono::hours(1), nullptr);
    return handler.Handle(event, context);
  }

  std::shared_ptr<ObjectStore> incoming_;
  std::shared_ptr<ObjectStore> staging_;
  Resources resources_;
};

TEST_F(WiblHandlerTest, WritesGeoJsonNextToTheKeyInTheStagingStore) {
  ASSERT_TRUE(incoming_->Put("logs/abc.wibl", SmallFile()));
  auto handler = Make({{"store", "staging"}, {"provider_id", "UNHJHC"}});
  ASSERT_TRUE(handler) << handler.error().ToString();
  auto outcome = Handle(**handler, "logs/abc.wibl");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->objects_written, 1u);
  EXPECT_THAT(outcome->summary, HasSubstr("SourceID=UNHJHC-Vessel-1"));
  EXPECT_THAT(outcome->summary, HasSubstr("Logger=Vessel-1"));
  EXPECT_THAT(outcome->summary, HasSubstr("Soundings=1"));
  auto text = staging_->Get("logs/abc.json");
  ASSERT_TRUE(text) << text.error().ToString();
  const auto geojson = nlohmann::json::parse(*text);
  EXPECT_EQ(geojson["features"].size(), 1u);
  EXPECT_EQ(geojson["properties"]["trustedNode"]["uniqueVesselID"], "UNHJHC-Vessel-1");
  EXPECT_EQ(geojson["features"][0]["properties"]["time"], "2020-01-01T00:00:00.500000Z");
  // Running again writes the same bytes (idempotent, deterministic key).
  ASSERT_TRUE(Handle(**handler, "logs/abc.wibl"));
  EXPECT_EQ(*staging_->Get("logs/abc.json"), *text);
}

TEST_F(WiblHandlerTest, OutputCarriesTheConversionLambdasSourceIdLoggerAndSoundingsTags) {
  ASSERT_TRUE(incoming_->Put("logs/abc.wibl", SmallFile()));
  auto handler = Make({{"store", "staging"}, {"provider_id", "UNHJHC"}});
  ASSERT_TRUE(handler) << handler.error().ToString();
  ASSERT_TRUE(Handle(**handler, "logs/abc.wibl"));
  const auto tags = staging_->GetTags("logs/abc.json");
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, (ObjectTags{{"SourceID", "UNHJHC-Vessel-1"},
                               {"Logger", "Vessel-1"},
                               {"Soundings", "1"}}));
}

TEST_F(WiblHandlerTest, TagValuesS3WouldRefuseAreLeftOutAndTheFileStillWritten) {
  PacketWriter w;
  SerialiserVersion v;
  v.major = 1;
  v.minor = 3;
  w.Version(v);
  w.Metadata("Vessel #1 (O'Brien)", "Ship");  // '#', '(' and '\'' are no tag characters
  w.SystemTime({18262, 0, 1000, 0});
  Gnss g;
  g.datum.elapsed = 1000;
  g.latitude = 43;
  g.longitude = -70;
  w.Gnss(g);
  w.Depth({TimeDatum{18262, 0, 1500}, 10.0, 0, 0});
  w.SystemTime({18262, 1, 2000, 0});
  ASSERT_TRUE(incoming_->Put("odd.wibl", w.Take()));
  auto handler = Make({{"store", "staging"}});
  ASSERT_TRUE(handler) << handler.error().ToString();
  const auto outcome = Handle(**handler, "odd.wibl");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  const auto tags = staging_->GetTags("odd.json");
  ASSERT_TRUE(tags) << tags.error().ToString();
  EXPECT_EQ(*tags, (ObjectTags{{"Soundings", "1"}}));
  EXPECT_THAT(outcome->summary, HasSubstr("SourceID=Vessel #1 (O'Brien)"));
}

TEST_F(WiblHandlerTest, OptionsReachTheProcessing) {
  ASSERT_TRUE(incoming_->Put("a.wibl", SmallFile()));
  nlohmann::json options = {{"store", "staging"},
                            {"elapsed_time_width", 16},
                            {"strict", true},
                            {"reject_null_positions", true},
                            {"robust_counter_wrap", true},
                            {"single_position_source", true},
                            {"single_depth_source", true},
                            {"metadata", {{"properties", {{"platform", {{"name", "Boaty"}}}}}}}};
  auto handler = Make(options);
  ASSERT_TRUE(handler) << handler.error().ToString();
  ASSERT_TRUE(Handle(**handler, "a.wibl"));
  const auto geojson = nlohmann::json::parse(*staging_->Get("a.json"));
  EXPECT_EQ(geojson["properties"]["platform"]["name"], "Boaty");
}

TEST_F(WiblHandlerTest, BadOptionsAreRejectedWithTheirKey) {
  auto unknown = Make({{"store", "staging"}, {"colour", "red"}});
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().ToString(), HasSubstr("colour"));
  auto missing = Make(nlohmann::json::object());
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().ToString(), HasSubstr("store"));
  EXPECT_FALSE(Make({{"store", "nowhere"}}));
  EXPECT_FALSE(Make({{"store", "staging"}, {"elapsed_time_width", 0}}));
  EXPECT_FALSE(Make({{"store", "staging"}, {"strict", "yes"}}));
  EXPECT_FALSE(Make({{"store", "staging"}, {"metadata", "x"}}));
}

TEST_F(WiblHandlerTest, MissingObjectIsNotFoundAndBadFileIsCorrupt) {
  auto handler = Make({{"store", "staging"}});
  ASSERT_TRUE(handler);
  auto missing = Handle(**handler, "none.wibl");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);

  PacketWriter w;
  w.Metadata("x", "y");
  ASSERT_TRUE(incoming_->Put("bad.wibl", w.Bytes()));
  auto bad = Handle(**handler, "bad.wibl");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(bad.error().ToString(), HasSubstr("bad.wibl"));
  EXPECT_FALSE(staging_->Head("bad.json"));

  auto unknown_store = Handle(**handler, "a.wibl", "elsewhere");
  ASSERT_FALSE(unknown_store);
  EXPECT_EQ(unknown_store.error().code, ErrorCode::InvalidArgument);
}

TEST_F(WiblHandlerTest, IsRegisteredAsWiblProcess) {
  HandlerRegistry registry;
  RegisterBuiltinHandlers(registry);
  EXPECT_THAT(registry.Names(), ::testing::Contains("wibl-process"));
  auto handler = registry.Create("wibl-process",
                                 Options(nlohmann::json{{"store", "staging"}}, {}, "p.toml", "r"),
                                 resources_);
  EXPECT_TRUE(handler) << handler.error().ToString();
}

TEST_F(WiblHandlerTest, ProcessesTheRealSampleLikeWiblPython) {
  const auto path = std::filesystem::path(SLUICE_SHARED_DIR) / "data/wibl/wibl-python/tests/data/test-algo-dedup.wibl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  ASSERT_TRUE(incoming_->Put("3f2a.wibl", bytes.str()));
  auto handler = Make({{"store", "staging"}, {"provider_id", "UNHJHC"}});
  ASSERT_TRUE(handler);
  auto outcome = Handle(**handler, "3f2a.wibl");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("Soundings=234"));
  EXPECT_THAT(outcome->summary, HasSubstr("SourceID=UNHJHC-Gulf Surveyor"));
}

}  // namespace
}  // namespace sluice::wibl
