// Processing semantics on synthetic files (research/wibl.md §2.2–§2.6) and the §2.8 fixes, each
// shown against wibl-python's default behaviour; plus the Python-compatibility helpers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "sluice/handlers/wibl/python_compat.hpp"
#include "sluice/handlers/wibl/wibl_process.hpp"
#include "sluice/handlers/wibl/wibl_writer.hpp"

namespace sluice::wibl {
namespace {

using ::testing::HasSubstr;

constexpr std::uint16_t kDay = 18262;  // 2020-01-01
constexpr double kT0 = kDay * 86400.0;

/// A v1.3 file header as the firmware writes it (§1.2): version, metadata.
PacketWriter NewFile() {
  PacketWriter w;
  SerialiserVersion v;
  v.major = 1;
  v.minor = 3;
  v.nmea2000 = {1, 1, 0};
  v.nmea0183 = {1, 0, 1};
  w.Version(v);
  w.Metadata("Vessel-1", "Ship");
  return w;
}

void SysTime(PacketWriter& w, std::uint32_t elapsed, double seconds) {
  w.SystemTime({kDay, seconds, elapsed, 0});
}

void N2kDepth(PacketWriter& w, std::uint32_t elapsed, double depth) {
  w.Depth({TimeDatum{kDay, 0, elapsed}, depth, 0, 200});
}

void N2kFix(PacketWriter& w, std::uint32_t elapsed, double fix_seconds, double lat, double lon) {
  Gnss g;
  g.datum = TimeDatum{kDay, 0, elapsed};
  g.msg_date = kDay;
  g.msg_timestamp = fix_seconds;
  g.latitude = lat;
  g.longitude = lon;
  w.Gnss(g);
}

ProcessOptions Fixed(std::chrono::system_clock::time_point now = {}) {
  ProcessOptions options;
  options.now = now == std::chrono::system_clock::time_point{}
                    ? std::chrono::sys_days(std::chrono::year(2026) / 11 / 21)
                    : now;
  return options;
}

Result<ProcessedFile> Process(const std::string& bytes, ProcessOptions options = Fixed()) {
  return ProcessWibl(bytes, "incoming/test.wibl", options);
}

// ---- basic semantics -----------------------------------------------------------------------

TEST(WiblProcess, InterpolatesTimeAndPositionAtEachDepthWithClamping) {
  PacketWriter w = NewFile();
  N2kDepth(w, 500, 9.0);  // before the first time reference: clamped to the first
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43.0, -70.0);
  N2kDepth(w, 1500, 10.0);
  SysTime(w, 2000, 1);
  N2kFix(w, 2000, 1, 43.002, -70.002);
  N2kDepth(w, 2000, 11.0);  // exactly on a knot
  N2kDepth(w, 2600, 12.0);  // after the last: clamped to the last
  auto result = Process(w.Bytes());
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(result->soundings.size(), 4u);
  EXPECT_EQ(result->time_source, TimeSource::SystemTime);
  EXPECT_EQ(result->soundings[0].time, kT0);
  EXPECT_EQ(result->soundings[0].latitude, 43.0);
  EXPECT_EQ(FormatUtcMicros(result->soundings[1].time), "2020-01-01T00:00:00.500000Z");
  EXPECT_DOUBLE_EQ(result->soundings[1].latitude, 43.001);
  EXPECT_EQ(result->soundings[2].time, kT0 + 1);
  EXPECT_EQ(result->soundings[2].longitude, -70.002);
  EXPECT_EQ(result->soundings[3].time, kT0 + 1);
  EXPECT_EQ(result->logger_version, "1.3/1.1.0/1.0.1");
  EXPECT_EQ(result->logger_name, "Vessel-1");
  EXPECT_EQ(result->properties["platform"]["name"], "Ship");
  EXPECT_EQ(result->properties["platform"]["dataProcessed"], false);
  EXPECT_FALSE(result->properties.contains("processing"));
}

TEST(WiblProcess, TimeSourcePreferenceIsSystemTimeThenGnssThenZdaThenRmc) {
  PacketWriter w = NewFile();
  N2kFix(w, 1000, 100, 43.0, -70.0);
  N2kDepth(w, 1500, 10.0);
  N2kFix(w, 2000, 101, 43.0, -70.0);
  w.Serial(2000, WithChecksum("$GPZDA,000500.000,01,01,2020,00,00"));
  auto gnss = Process(w.Bytes());
  ASSERT_TRUE(gnss) << gnss.error().ToString();
  EXPECT_EQ(gnss->time_source, TimeSource::Gnss);
  EXPECT_EQ(gnss->soundings[0].time, kT0 + 100.5);

  PacketWriter z = NewFile();
  z.Serial(1000, WithChecksum("$GPZDA,000500.000,01,01,2020,00,00"));
  z.Serial(1000, WithChecksum("$GPGGA,000500,4300.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  z.Serial(1500, WithChecksum("$SDDPT,12.5,0.3,100"));
  z.Serial(2000, WithChecksum("$GPZDA,000501.000,01,01,2020,00,00"));
  z.Serial(2000, WithChecksum("$GPRMC,000900,A,4300.0,N,07000.0,W,0,0,010120,,"));
  auto zda = Process(z.Bytes());
  ASSERT_TRUE(zda) << zda.error().ToString();
  EXPECT_EQ(zda->time_source, TimeSource::Zda);
  EXPECT_EQ(zda->soundings[0].depth, 12.5);
  EXPECT_EQ(FormatUtcMicros(zda->soundings[0].time), "2020-01-01T00:05:00.500000Z");
}

TEST(WiblProcess, NoTimeSourceNoDepthAndNoPositionAreErrorsNamingTheFile) {
  PacketWriter none = NewFile();
  N2kDepth(none, 1000, 10.0);
  auto no_time = Process(none.Bytes());
  ASSERT_FALSE(no_time);
  EXPECT_EQ(no_time.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(no_time.error().message, HasSubstr("no time source"));
  EXPECT_EQ(no_time.error().context, "incoming/test.wibl");

  PacketWriter no_depth = NewFile();
  SysTime(no_depth, 1000, 0);
  N2kFix(no_depth, 1000, 0, 43, -70);
  auto no_data = Process(no_depth.Bytes());
  ASSERT_FALSE(no_data);
  EXPECT_THAT(no_data.error().message, HasSubstr("no depth data"));
  EXPECT_EQ(no_data.error().context, "incoming/test.wibl");

  PacketWriter no_position = NewFile();
  SysTime(no_position, 1000, 0);
  N2kDepth(no_position, 1000, 10.0);
  auto no_fix = Process(no_position.Bytes());
  ASSERT_FALSE(no_fix);
  EXPECT_THAT(no_fix.error().message, HasSubstr("no position data"));
}

TEST(WiblProcess, NewerFileIsRefusedWithTheFileName) {
  PacketWriter w;
  SerialiserVersion v;
  v.major = 1;
  v.minor = 4;
  w.Version(v);
  auto result = Process(w.Bytes());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::Unsupported);
  EXPECT_THAT(result.error().ToString(), HasSubstr("incoming/test.wibl"));
  EXPECT_THAT(result.error().message, HasSubstr("newer than 1.3"));
}

TEST(WiblProcess, UnknownAlgorithmIsRefusedUnlessAlgorithmsAreOff) {
  PacketWriter w = NewFile();
  w.Algorithm("magicalgorithm", "");
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1000, 10.0);
  auto result = Process(w.Bytes());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "Unknown algorithm 'magicalgorithm' for incoming/test.wibl.");
  ProcessOptions off = Fixed();
  off.process_algorithms = false;
  EXPECT_TRUE(Process(w.Bytes(), off));
}

TEST(WiblProcess, ElapsedZeroPacketsBetweenStampedOnesGetTheMidpoint) {
  // §2.2 step 5: elapsed 0 means "missing"; a run of them between two stamped packets gets the
  // mean of the two; the sounding stamped 0 at the start of the file is dropped.
  PacketWriter w = NewFile();
  N2kDepth(w, 0, 5.0);  // dropped: nothing stamped before it
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 0, 10.0);  // between 1000 and 3000 → 2000
  SysTime(w, 3000, 2);
  N2kFix(w, 3000, 2, 43, -70);
  auto result = Process(w.Bytes());
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(result->soundings.size(), 1u);
  EXPECT_EQ(result->soundings[0].depth, 10.0);
  EXPECT_EQ(result->soundings[0].time, kT0 + 1);
}

TEST(WiblProcess, ZdaTimesStampSentencesLoggedWithoutElapsedTimes) {
  // Converted logs without elapsed times: ZDA sentences get 1000*(t - t_first) ms, the first
  // stays 0 (so "missing"), and the sentences between two ZDAs get the midpoint.
  PacketWriter w = NewFile();
  w.Serial(0, WithChecksum("$GPZDA,000000.000,01,01,2020,00,00"));
  w.Serial(0, WithChecksum("$GPGGA,000000,4300.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  w.Serial(0, WithChecksum("$SDDBT,32.8,f,10.0,M,5.4,F"));
  w.Serial(0, WithChecksum("$GPZDA,000001.000,01,01,2020,00,00"));
  w.Serial(0, WithChecksum("$GPGGA,000001,4300.6,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  w.Serial(0, WithChecksum("$SDDBT,36.1,f,11.0,M,6.0,F"));
  w.Serial(0, WithChecksum("$GPZDA,000002.000,01,01,2020,00,00"));
  w.Serial(0, WithChecksum("$GPGGA,000002,4301.2,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  auto result = Process(w.Bytes());
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(result->soundings.size(), 1u);  // the first DBT is before any stamped packet
  EXPECT_EQ(result->soundings[0].depth, 11.0);
  EXPECT_EQ(FormatUtcMicros(result->soundings[0].time), "2020-01-01T00:00:01.500000Z");
  EXPECT_EQ(result->soundings[0].latitude, 43.0 + 0.6 / 60);  // the one stamped GGA
}

TEST(WiblProcess, CounterWrapUsesTheConfiguredWidth) {
  // A 16-bit counter (YDVR conversions) wraps at 65536 ms.
  PacketWriter w = NewFile();
  SysTime(w, 64000, 0);
  N2kFix(w, 64000, 0, 43, -70);
  SysTime(w, 1464, 3);  // 65536 + 1464 - 64000 = 3000 ms later
  N2kFix(w, 1464, 3, 43, -70);
  N2kDepth(w, 464, 10.0);  // 2000 ms after the first (wraps again: 16-bit times only grow)
  ProcessOptions sixteen = Fixed();
  sixteen.elapsed_time_width = 16;
  auto result = Process(w.Bytes(), sixteen);
  ASSERT_TRUE(result) << result.error().ToString();
  // 464 < 1464 is a second wrap for wibl-python, so the depth lands at 2*65536+464: clamped.
  EXPECT_EQ(result->soundings[0].time, kT0 + 3);
  ProcessOptions bad = Fixed();
  bad.elapsed_time_width = 0;
  EXPECT_EQ(Process(w.Bytes(), bad).error().code, ErrorCode::InvalidArgument);
}

TEST(WiblProcess, DeduplicateAndNoDataRejectWriteLineage) {
  PacketWriter w = NewFile();
  w.Algorithm("nodatareject", "phase=raw");
  w.Algorithm("deduplicate", "");
  w.Algorithm("deduplicate", "");  // requested twice: runs once
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kFix(w, 1500, 0.5, -1e9, -1e9);  // N/A fix
  w.SystemTime({60000, 5, 1600, 0});  // far in the future
  N2kDepth(w, 1100, 0.0);             // leading zero: dropped by deduplicate
  N2kDepth(w, 1200, 10.0);
  N2kDepth(w, 1300, 10.0);  // duplicate
  N2kDepth(w, 1400, -1e9);  // N/A
  N2kDepth(w, 1500, 11.0);
  SysTime(w, 2000, 1);
  N2kFix(w, 2000, 1, 43.001, -70);
  auto result = Process(w.Bytes());
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ(result->soundings.size(), 2u);
  const auto& processing = result->properties["processing"];
  ASSERT_EQ(processing.size(), 2u);
  EXPECT_EQ(processing[0]["name"], "nodatareject");
  EXPECT_EQ(processing[0]["parameters"], nlohmann::ordered_json({{"phase", "raw"}}));
  EXPECT_EQ(processing[0]["comment"],
            "Filtered 3 packets of 16 total. Filtered 1 of 3 GNSS packets. Filtered 1 of 5 Depth "
            "packets. Filtered 1 of 3 SystemTime packets.");
  EXPECT_EQ(processing[0]["timestamp"], "2026-11-21T00:00:00.000000Z");
  EXPECT_EQ(processing[0]["source"], "WIBL-1.2.0");
  EXPECT_EQ(processing[1]["comment"], "Selected 2 non-duplicate depths from 4 in input.");
  EXPECT_EQ(result->properties["platform"]["dataProcessed"], true);
}

TEST(WiblProcess, ProviderIdPrefixesTheVesselIdOnce) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1000, 10.0);
  ProcessOptions options = Fixed();
  options.provider_id = "UNHJHC";
  auto result = Process(w.Bytes(), options);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->UniqueVesselId(), "UNHJHC-Vessel-1");
  EXPECT_EQ(result->properties["platform"]["uniqueID"], "UNHJHC-Vessel-1");
  options.provider_id = "Vessel";  // already a substring: unchanged
  EXPECT_EQ(Process(w.Bytes(), options)->UniqueVesselId(), "Vessel-1");
}

TEST(WiblProcess, MetadataPacketAndOptionMergeDeeply) {
  PacketWriter w = NewFile();
  w.Text(PacketId::JsonMetadata,
         R"({"crs":{"type":"name","properties":{"name":"EPSG:8252"}},)"
         R"("properties":{"trustedNode":{"uniqueVesselID":"ABC-1"},)"
         R"("platform":{"length":12.5},"processing":[{"type":"GNSS"}]}})");
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1000, 10.0);
  ProcessOptions options = Fixed();
  options.metadata = nlohmann::ordered_json::parse(
      R"({"properties":{"platform":{"name":"Override"},"processing":[{"type":"Uncertainty"}]}})");
  auto result = Process(w.Bytes(), options);
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(result->crs["properties"]["name"], "EPSG:8252");
  EXPECT_EQ(result->UniqueVesselId(), "ABC-1");
  EXPECT_EQ(result->properties["platform"]["uniqueID"], "ABC-1");
  EXPECT_EQ(result->properties["platform"]["name"], "Override");
  EXPECT_EQ(result->properties["platform"]["length"], 12.5);
  EXPECT_EQ(result->properties["processing"].size(), 2u);
  EXPECT_EQ(result->properties["platform"]["dataProcessed"], true);
  // New keys come after the template's, as Python dicts keep insertion order.
  EXPECT_EQ(result->properties["platform"].items().begin().key(), "uniqueID");
}

TEST(WiblProcess, BadJsonMetadataIsCorrupt) {
  PacketWriter w = NewFile();
  w.Text(PacketId::JsonMetadata, "{not json");
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1000, 10.0);
  auto result = Process(w.Bytes());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("JSONMetadata"));
}

TEST(WiblProcess, StrictFailsOnACorruptPacketOtherwiseItIsSkipped) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  w.Raw(3, "short");
  N2kDepth(w, 1000, 10.0);
  auto lenient = Process(w.Bytes());
  ASSERT_TRUE(lenient) << lenient.error().ToString();
  EXPECT_EQ(lenient->skipped_packets, 1u);
  ProcessOptions strict = Fixed();
  strict.strict = true;
  auto failed = Process(w.Bytes(), strict);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("packet 3 (Depth) at byte offset"));
}

// ---- §2.8 fixes: each off by default (wibl-python's result) and on --------------------------

TEST(WiblFixes, RejectNullPositionsIgnoresEmptyGga) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  w.Serial(1000, WithChecksum("$GPGGA,000000,4300.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  w.Serial(2000, WithChecksum("$GPGGA,000001,,,,,0,00,,,M,,M,,"));
  N2kDepth(w, 2000, 10.0);
  SysTime(w, 3000, 2);
  w.Serial(3000, WithChecksum("$GPGGA,000002,4301.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  auto compatible = Process(w.Bytes());
  ASSERT_TRUE(compatible) << compatible.error().ToString();
  EXPECT_EQ(compatible->soundings[0].latitude, 0.0);  // null island, as wibl-python
  EXPECT_EQ(compatible->soundings[0].longitude, 0.0);
  ProcessOptions fixed = Fixed();
  fixed.reject_null_positions = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  EXPECT_DOUBLE_EQ(corrected->soundings[0].latitude, 43.0 + 0.5 / 60);
  EXPECT_EQ(corrected->soundings[0].longitude, -70.0);
}

TEST(WiblFixes, RobustCounterWrapIgnoresSmallBackwardSteps) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  SysTime(w, 2000, 1);
  w.Serial(2500, WithChecksum("$GPHDT,274.07,T"));  // stamped at '$', stored at line end
  N2kDepth(w, 2400, 10.0);                           // 100 ms "backwards"
  SysTime(w, 3000, 2);
  N2kFix(w, 3000, 2, 43, -70);
  auto compatible = Process(w.Bytes());
  ASSERT_TRUE(compatible) << compatible.error().ToString();
  // wibl-python adds 2^32 ms at the backward step: the depth lands next to the next knot.
  EXPECT_GT(compatible->soundings[0].time, kT0 + 1.9999);
  ProcessOptions fixed = Fixed();
  fixed.robust_counter_wrap = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  EXPECT_EQ(FormatUtcMicros(corrected->soundings[0].time), "2020-01-01T00:00:01.400000Z");

  // A real wrap (a large backward step) still counts.
  PacketWriter wrap = NewFile();
  SysTime(wrap, 4294966296u, 0);  // 1000 ms before the 32-bit wrap
  N2kFix(wrap, 4294966296u, 0, 43, -70);
  SysTime(wrap, 1000, 2);
  N2kFix(wrap, 1000, 2, 43, -70);
  N2kDepth(wrap, 0 + 500, 10.0);  // never 0: that would mean "missing"
  auto wrapped = Process(wrap.Bytes(), fixed);
  ASSERT_TRUE(wrapped) << wrapped.error().ToString();
  // 500 < 1000 is a small step: with the fix it is jitter, so the depth sits 1.5 s in.
  EXPECT_EQ(FormatUtcMicros(wrapped->soundings[0].time), "2020-01-01T00:00:01.500000Z");
}

TEST(WiblFixes, SinglePositionSourceDropsALaggingTalkersRepeatedFixes) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43.000, -70);
  N2kFix(w, 2000, 1, 43.001, -70);
  N2kFix(w, 2100, 0, 43.000, -70);  // second talker, one fix behind
  N2kDepth(w, 2500, 10.0);
  SysTime(w, 3000, 2);
  N2kFix(w, 3000, 2, 43.002, -70);
  N2kFix(w, 3100, 1, 43.001, -70);
  auto compatible = Process(w.Bytes());
  ASSERT_TRUE(compatible) << compatible.error().ToString();
  EXPECT_NEAR(compatible->soundings[0].latitude, 43.0 + 0.002 * 400 / 900, 1e-12);
  ProcessOptions fixed = Fixed();
  fixed.single_position_source = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  EXPECT_NEAR(corrected->soundings[0].latitude, 43.0015, 1e-12);
}

TEST(WiblFixes, SinglePositionSourceUsesOneNmeaTalker) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  w.Serial(1000, WithChecksum("$GPGGA,000000,4300.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  w.Serial(1900, WithChecksum("$GNGGA,000000,4310.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  N2kDepth(w, 2000, 10.0);
  SysTime(w, 3000, 2);
  w.Serial(3000, WithChecksum("$GPGGA,000002,4301.0,N,07000.0,W,1,08,1.0,0,M,0,M,,"));
  ProcessOptions fixed = Fixed();
  fixed.single_position_source = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  EXPECT_DOUBLE_EQ(corrected->soundings[0].latitude, 43.0 + 0.5 / 60);
  auto compatible = Process(w.Bytes());
  EXPECT_GT(compatible->soundings[0].latitude, 43.1);  // pulled towards the other talker
}

TEST(WiblFixes, SingleDepthSourceKeepsOneSoundingPerPing) {
  PacketWriter w = NewFile();
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1500, 10.0);
  w.Serial(1500, WithChecksum("$SDDBT,32.8,f,10.0,M,5.4,F"));
  w.Serial(1500, WithChecksum("$SDDPT,10.0,0.0,100"));
  auto compatible = Process(w.Bytes());
  ASSERT_TRUE(compatible) << compatible.error().ToString();
  EXPECT_EQ(compatible->soundings.size(), 3u);
  ProcessOptions fixed = Fixed();
  fixed.single_depth_source = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  EXPECT_EQ(corrected->soundings.size(), 1u);

  PacketWriter nmea_only = NewFile();
  SysTime(nmea_only, 1000, 0);
  N2kFix(nmea_only, 1000, 0, 43, -70);
  nmea_only.Serial(1500, WithChecksum("$SDDBT,32.8,f,10.0,M,5.4,F"));
  nmea_only.Serial(1500, WithChecksum("$SDDPT,10.1,0.0,100"));
  auto dpt = Process(nmea_only.Bytes(), fixed);
  ASSERT_TRUE(dpt);
  ASSERT_EQ(dpt->soundings.size(), 1u);
  EXPECT_EQ(dpt->soundings[0].depth, 10.1);
}

TEST(WiblFixes, NullEmptyParametersMakesADeduplicatedFileValidCsb) {
  PacketWriter w = NewFile();
  w.Algorithm("deduplicate", "");
  SysTime(w, 1000, 0);
  N2kFix(w, 1000, 0, 43, -70);
  N2kDepth(w, 1500, 10.0);
  N2kDepth(w, 1600, 11.0);
  auto compatible = Process(w.Bytes());
  ASSERT_TRUE(compatible) << compatible.error().ToString();
  const auto as_json = [](const ProcessedFile& result) {
    return nlohmann::json::parse(FormatGeoJson(result));
  };
  const auto lineage = [](const nlohmann::json& doc) { return doc["properties"]["processing"]; };
  const auto compatible_doc = as_json(*compatible);
  ASSERT_FALSE(lineage(compatible_doc).empty());
  EXPECT_EQ(lineage(compatible_doc)[0]["parameters"], "");  // as wibl-python writes it
  ProcessOptions fixed = Fixed();
  fixed.null_empty_parameters = true;
  auto corrected = Process(w.Bytes(), fixed);
  ASSERT_TRUE(corrected);
  const auto corrected_doc = as_json(*corrected);
  EXPECT_TRUE(lineage(corrected_doc)[0]["parameters"].is_null());
  EXPECT_EQ(corrected->soundings.size(), compatible->soundings.size());
}

// ---- Python compatibility helpers ------------------------------------------------------------

TEST(PythonCompat, NumpyInterpClampsAndHitsKnotsExactly) {
  const std::vector<double> xp = {1, 2, 3, 4, 5, 6};
  const std::vector<double> fp = {10, 20, 30, 40, 50, 60};
  const std::vector<double> x = {0, 1, 1.5, 6, 7, 3, std::nan("")};
  const auto y = NumpyInterp(x, xp, fp);
  EXPECT_EQ(y[0], 10);
  EXPECT_EQ(y[1], 10);
  EXPECT_EQ(y[2], 15);
  EXPECT_EQ(y[3], 60);
  EXPECT_EQ(y[4], 60);
  EXPECT_EQ(y[5], 30);
  EXPECT_TRUE(std::isnan(y[6]));
  const std::vector<double> one_x = {5}, one_f = {7};
  const std::vector<double> probe = {1, 5, 9};
  EXPECT_EQ(NumpyInterp(probe, one_x, one_f), (std::vector<double>{7, 7, 7}));
}

TEST(PythonCompat, DatetimeFormattingRoundsToMicroseconds) {
  EXPECT_EQ(FormatUtcMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatUtcMicros(1577836802.1973739), "2020-01-01T00:00:02.197374Z");
  EXPECT_EQ(FormatUtcMicros(1577836802.9999997), "2020-01-01T00:00:03.000000Z");
  EXPECT_EQ(FormatUtcMicros(-0.25), "1969-12-31T23:59:59.750000Z");
  EXPECT_EQ(FormatUtcMicros(951782400), "2000-02-29T00:00:00.000000Z");
}

TEST(PythonCompat, FloatReprMatchesPython) {
  const auto repr = [](double v) {
    std::string out;
    AppendPythonFloat(out, v);
    return out;
  };
  EXPECT_EQ(repr(10.0), "10.0");
  EXPECT_EQ(repr(9.9), "9.9");
  EXPECT_EQ(repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(repr(-74.01666653127933), "-74.01666653127933");
  EXPECT_EQ(repr(0.0001), "0.0001");
  EXPECT_EQ(repr(0.00001), "1e-05");
  EXPECT_EQ(repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(repr(1e15), "1000000000000000.0");
  EXPECT_EQ(repr(1e16), "1e+16");
  EXPECT_EQ(repr(-1e9), "-1000000000.0");
  EXPECT_EQ(repr(-0.0), "-0.0");
  EXPECT_EQ(repr(5e-324), "5e-324");
  EXPECT_EQ(repr(std::nan("")), "NaN");
}

TEST(PythonCompat, JsonDumpsStyle) {
  std::string out;
  AppendPythonJson(out, nlohmann::ordered_json::parse(
                            R"({"b": [1, 2.0, true, null], "a": "é\n\"😀", "c": {}})"));
  EXPECT_EQ(out, R"({"b": [1, 2.0, true, null], "a": "\u00e9\n\"\ud83d\ude00", "c": {}})");
}

TEST(PythonCompat, DeepMergeAppendsListsAndOverridesScalars) {
  auto base = nlohmann::ordered_json::parse(R"({"a": {"x": 1, "l": [1]}, "s": "old"})");
  DeepMerge(base, nlohmann::ordered_json::parse(R"({"a": {"l": [2], "y": 2}, "s": {"n": 1}})"));
  EXPECT_EQ(base.dump(), R"({"a":{"x":1,"l":[1,2],"y":2},"s":{"n":1}})");
}

TEST(PythonCompat, GeoJsonKey) {
  EXPECT_EQ(GeoJsonKeyFor("in/abc.wibl"), "in/abc.json");
  EXPECT_EQ(GeoJsonKeyFor("in/abc.bin"), "in/abc.bin.json");
}

}  // namespace
}  // namespace sluice::wibl
