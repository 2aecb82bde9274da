// The serratus-summary handler against memory:// object stores and a sqlite:// table store.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/engine/handler.hpp"
#include "sluice/handlers/handlers.hpp"
#include "sluice/handlers/serratus/summary_handler.hpp"
#include "sluice/store/object_store.hpp"
#include "sluice/tables/table.hpp"
#include "support/serratus_lines.hpp"

namespace sluice::serratus {
namespace {

using namespace sluice::serratus::testing;  // the verbatim §1.1 lines

using ::testing::ElementsAre;
using ::testing::HasSubstr;


constexpr std::string_view kKey = "summary2/ERR2756788.summary";

std::string SmallFile() {
  return std::string(kRunLine) + std::string(kFamilyAmr) + std::string(kFamilyCorona) +
         std::string(kSequenceAmr) + std::string(kSequenceEu);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// An ObjectStore that forwards to another and records, in order, the keys whose upload
/// committed and the keys deleted (to check that run/ is written last).
class RecordingStore final : public ObjectStore {
 public:
  explicit RecordingStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  std::string Url() const override { return inner_->Url(); }
  StoreCapabilities Capabilities() const override { return inner_->Capabilities(); }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    return inner_->GetTo(key, sink, range);
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override {
    SLUICE_ASSIGN_OR_RETURN(auto writer, inner_->OpenWriter(key, options));
    return std::unique_ptr<ObjectWriter>(
        std::make_unique<Writer>(*this, std::string(key), std::move(writer)));
  }
  Result<ObjectTags> GetTags(std::string_view key) override { return inner_->GetTags(key); }
  Result<ListPage> List(const ListOptions& options) override { return inner_->List(options); }
  Status Delete(std::string_view key) override {
    {
      std::lock_guard lock(mutex_);
      deleted_.emplace_back(key);
    }
    return inner_->Delete(key);
  }
  Result<ObjectInfo> Copy(std::string_view source, std::string_view destination) override {
    return inner_->Copy(source, destination);
  }

  std::vector<std::string> Committed() const {
    std::lock_guard lock(mutex_);
    return committed_;
  }
  std::vector<std::string> Deleted() const {
    std::lock_guard lock(mutex_);
    return deleted_;
  }
  void Reset() {
    std::lock_guard lock(mutex_);
    committed_.clear();
    deleted_.clear();
  }

 private:
  class Writer final : public ObjectWriter {
   public:
    Writer(RecordingStore& store, std::string key, std::unique_ptr<ObjectWriter> inner)
        : store_(store), key_(std::move(key)), inner_(std::move(inner)) {}
    Status Write(std::string_view bytes) override { return inner_->Write(bytes); }
    Result<ObjectInfo> Close() override {
      auto info = inner_->Close();
      if (info) {
        std::lock_guard lock(store_.mutex_);
        store_.committed_.push_back(key_);
      }
      return info;
    }

   private:
    RecordingStore& store_;
    std::string key_;
    std::unique_ptr<ObjectWriter> inner_;
  };

  std::shared_ptr<ObjectStore> inner_;
  mutable std::mutex mutex_;
  std::vector<std::string> committed_;
  std::vector<std::string> deleted_;
};

class SummaryHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string unique = fmt::format("serratus-handler-{}-{}", ::getpid(), ++counter);
    auto incoming = MakeObjectStore("memory://" + unique + "-incoming");
    ASSERT_TRUE(incoming) << incoming.error().ToString();
    incoming_ = std::shared_ptr<ObjectStore>(std::move(*incoming));
    auto lake = MakeObjectStore("memory://" + unique + "-lake");
    ASSERT_TRUE(lake) << lake.error().ToString();
    lake_inner_ = std::shared_ptr<ObjectStore>(std::move(*lake));
    lake_ = std::make_shared<RecordingStore>(lake_inner_);

    db_path_ = std::filesystem::temp_directory_path() / (unique + ".db");
    auto table = MakeTableStore("sqlite://" + db_path_.string());
    ASSERT_TRUE(table) << table.error().ToString();
    table_ = std::shared_ptr<TableStore>(std::move(*table));

    resources_.stores["incoming"] = incoming_;
    resources_.stores["lake"] = lake_;
    resources_.tables["summary"] = table_;
  }

  void TearDown() override {
    table_.reset();
    resources_.tables.clear();
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(db_path_.string() + suffix, ignored);
    }
  }

  static Options MakeOptions(const nlohmann::json& values) {
    return Options(values, {}, "pipeline.toml", "routes[0].options");
  }

  Result<std::unique_ptr<Handler>> Make(const nlohmann::json& values) {
    return MakeSummaryHandler(MakeOptions(values), resources_);
  }

  std::unique_ptr<Handler> MakeOrDie(const nlohmann::json& values) {
    auto handler = Make(values);
    EXPECT_TRUE(handler) << handler.error().ToString();
    return handler ? std::move(*handler) : nullptr;
  }

  static nlohmann::json Nucleotide() {
    return {{"kind", "nucleotide"}, {"table", "summary"}, {"json_store", "lake"}};
  }

  void PutIncoming(std::string_view key, std::string_view text) {
    ASSERT_TRUE(incoming_->Put(key, text));
  }

  static Result<Outcome> Process(Handler& handler, std::string_view key,
                                 std::string_view store = "incoming",
                                 const std::atomic<bool>* cancelled = nullptr) {
    Event event;
    event.kind = std::string(kEventObjectCreatedPut);
    event.store = std::string(store);
    event.key = std::string(key);
    HandlerContext context("nucleotide", "job-1",
                           std::chrono::steady_clock::now() + std::chrono::hours(1), cancelled);
    return handler.Handle(event, context);
  }

  std::int64_t Rows(std::string_view table) {
    auto count = table_->CountRows(table);
    EXPECT_TRUE(count) << count.error().ToString();
    return count ? *count : -1;
  }

  std::vector<std::string> LakeKeys(const std::string& prefix = "") {
    ListOptions options;
    options.prefix = prefix;
    auto page = lake_inner_->List(options);
    EXPECT_TRUE(page) << page.error().ToString();
    std::vector<std::string> keys;
    if (page) {
      for (const auto& object : page->objects) keys.push_back(object.key);
    }
    return keys;
  }

  std::shared_ptr<ObjectStore> incoming_;
  std::shared_ptr<ObjectStore> lake_inner_;
  std::shared_ptr<RecordingStore> lake_;
  std::shared_ptr<TableStore> table_;
  std::filesystem::path db_path_;
  Resources resources_;
};

TEST_F(SummaryHandlerTest, RealFileBecomesOneRunTwelveFamiliesAndThreeHundredFortyNineSequences) {
  const auto path = std::filesystem::path(SLUICE_SHARED_DIR "/data/serratus") /
                    "derived/ERR2756788.summary.reconstructed";
  const auto json_path = std::filesystem::path(SLUICE_SHARED_DIR "/data/serratus") /
                         "summary2_parsed_json/ERR2756788.json";
  if (!std::filesystem::exists(path) || !std::filesystem::exists(json_path)) {
    GTEST_SKIP() << "shared Serratus data not found: " << path;
  }
  PutIncoming(kKey, ReadFile(path));
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);

  auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->summary, "ERR2756788: 1 run, 12 families, 349 sequences");
  EXPECT_EQ(outcome->rows_written, 362U);
  EXPECT_EQ(outcome->objects_written, 362U);
  EXPECT_EQ(Rows("nsra"), 1);
  EXPECT_EQ(Rows("nfamily"), 12);
  EXPECT_EQ(Rows("nsequence"), 349);
  EXPECT_EQ(LakeKeys("family/").size(), 12U);
  EXPECT_EQ(LakeKeys("sequence/").size(), 349U);

  auto run_object = lake_inner_->Get("run/ERR2756788.json");
  ASSERT_TRUE(run_object) << run_object.error().ToString();
  const auto expected = nlohmann::ordered_json::parse(ReadFile(json_path));
  EXPECT_EQ(nlohmann::ordered_json::parse(*run_object), expected["properties"]);
  EXPECT_EQ(lake_->Committed().back(), "run/ERR2756788.json");

  // Processing the same file again leaves the same rows and objects.
  auto again = Process(*handler, kKey);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Rows("nsra"), 1);
  EXPECT_EQ(Rows("nfamily"), 12);
  EXPECT_EQ(Rows("nsequence"), 349);
  EXPECT_EQ(LakeKeys().size(), 362U);
  EXPECT_TRUE(lake_->Deleted().empty());
}

TEST_F(SummaryHandlerTest, ProcessingTwiceLeavesTheSameRows) {
  PutIncoming(kKey, SmallFile());
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  for (int i = 0; i < 2; ++i) {
    auto outcome = Process(*handler, kKey);
    ASSERT_TRUE(outcome) << outcome.error().ToString();
    EXPECT_EQ(outcome->rows_written, 5U);
    EXPECT_EQ(Rows("nsra"), 1);
    EXPECT_EQ(Rows("nfamily"), 2);
    EXPECT_EQ(Rows("nsequence"), 2);
    EXPECT_EQ(LakeKeys().size(), 5U);
  }
}

TEST_F(SummaryHandlerTest, AChangedFileReplacesStaleRowsAndObjects) {
  PutIncoming(kKey, SmallFile());
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  ASSERT_TRUE(Process(*handler, kKey));
  EXPECT_EQ(Rows("nfamily"), 2);

  // The new version lost the Coronaviridae family and its sequence.
  PutIncoming(kKey, std::string(kRunLine) + std::string(kFamilyAmr) + std::string(kSequenceAmr));
  lake_->Reset();
  auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->summary, "ERR2756788: 1 run, 1 family, 1 sequence");
  EXPECT_EQ(Rows("nsra"), 1);
  EXPECT_EQ(Rows("nfamily"), 1);
  EXPECT_EQ(Rows("nsequence"), 1);
  EXPECT_THAT(LakeKeys(), ElementsAre("family/ERR2756788_AMR.json", "run/ERR2756788.json",
                                      "sequence/ERR2756788_AY874537_3000883.json"));
  EXPECT_THAT(lake_->Deleted(), ElementsAre("family/ERR2756788_Coronaviridae.json",
                                            "sequence/ERR2756788_EU769558.1.json"));
  EXPECT_EQ(lake_->Committed().back(), "run/ERR2756788.json");
}

TEST_F(SummaryHandlerTest, JsonObjectsFollowTheEraALayoutWithTheRunMarkerLast) {
  PutIncoming(kKey, SmallFile());
  auto handler =
      MakeOrDie({{"kind", "nucleotide"}, {"json_store", "lake"}, {"json_prefix", "athena/"}});
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->objects_written, 5U);
  EXPECT_EQ(outcome->rows_written, 0U);
  EXPECT_THAT(lake_->Committed(), ElementsAre("athena/family/ERR2756788_AMR.json",
                                              "athena/family/ERR2756788_Coronaviridae.json",
                                              "athena/sequence/ERR2756788_AY874537_3000883.json",
                                              "athena/sequence/ERR2756788_EU769558.1.json",
                                              "athena/run/ERR2756788.json"));
  auto family = lake_inner_->Get("athena/family/ERR2756788_AMR.json");
  ASSERT_TRUE(family);
  const auto json = nlohmann::ordered_json::parse(*family);
  EXPECT_EQ(json["fam"], "AMR");
  EXPECT_EQ(json["score"], "100");  // era A kept the strings as written
  EXPECT_EQ(json["run"], "ERR2756788");
  EXPECT_EQ(json.begin().key(), "famcvg");
  // No table was configured, so none was created.
  EXPECT_EQ(table_->CountRows("nsra").error().code, ErrorCode::NotFound);
}

TEST_F(SummaryHandlerTest, MalformedFileIsCorruptNamingTheObjectAndLine) {
  std::string file = SmallFile();
  file.replace(file.find("glb=301;"), 8, "");
  PutIncoming(kKey, file);
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, kKey);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::Corrupt);
  EXPECT_EQ(outcome.error().message, "line 2: missing key 'glb'");
  EXPECT_THAT(outcome.error().context, HasSubstr(incoming_->Url() + "/" + std::string(kKey)));
  EXPECT_FALSE(IsRetryable(outcome.error().code));
  EXPECT_TRUE(lake_->Committed().empty());
}

TEST_F(SummaryHandlerTest, MissingObjectIsNotFoundAndNotRetryable) {
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, "summary2/ERR1.summary");
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::NotFound);
  EXPECT_EQ(outcome.error().message, "object incoming/summary2/ERR1.summary does not exist");
  EXPECT_FALSE(IsRetryable(outcome.error().code));
}

TEST_F(SummaryHandlerTest, KeyNamingAnotherRunIsCorrupt) {
  PutIncoming("summary2/ERR9.summary", SmallFile());
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, "summary2/ERR9.summary");
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::Corrupt);
  EXPECT_THAT(outcome.error().message, HasSubstr("'ERR2756788'"));
  EXPECT_THAT(outcome.error().message, HasSubstr("'ERR9'"));

  // Keys that do not look like <RUN>.<suffix> are not checked.
  PutIncoming("inbox/upload-17", SmallFile());
  EXPECT_TRUE(Process(*handler, "inbox/upload-17"));
}

TEST_F(SummaryHandlerTest, ProteinSummaryFillsTheProteinTables) {
  const std::string file =
      "sra=SRR11780077;SUMZER_COMMENT=sra=SRR11780077,genome=rdrp0,date=201214-05:07,type=protein;"
      "totalalns=18349;readlength=72;truncated=no;\n"
      "sra=SRR11780077;famcvg=.ww:uuawwwwawaauuwwuwowwu;fam=Dicistroviridae;score=100;pctid=68;"
      "alns=265;avgcols=31;\n"
      "sra=SRR11780077;gencvg=_::_::awwwww.::::uwuuowwu;gen=Dicistroviridae.ORF1;score=78;"
      "pctid=68;alns=186;avgcols=32;\n"
      "sra=SRR11780077;seqcvg=__.___:_.uuw_____.:._____;seq=Dicistroviridae.ORF1.KJ938718.1;"
      "score=20;pctid=61;alns=29;avgcols=32;\n";
  PutIncoming("psummary/SRR11780077.psummary", file);
  auto handler = MakeOrDie({{"kind", "protein"}, {"table", "summary"}, {"json_store", "lake"}});
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, "psummary/SRR11780077.psummary");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->summary, "SRR11780077: 1 run, 1 family, 1 protein, 1 sequence");
  EXPECT_EQ(Rows("psra"), 1);
  EXPECT_EQ(Rows("pfamily"), 1);
  EXPECT_EQ(Rows("protein"), 1);
  EXPECT_EQ(Rows("psequence"), 1);
  EXPECT_THAT(LakeKeys(),
              ElementsAre("family/SRR11780077_Dicistroviridae.json",
                          "protein/SRR11780077_Dicistroviridae.ORF1.json", "run/SRR11780077.json",
                          "sequence/SRR11780077_Dicistroviridae.ORF1.KJ938718.1.json"));
}

TEST_F(SummaryHandlerTest, RdrpSummaryFillsTheRdrpTables) {
  const std::string file =
      "sra=DRR015317;SUMZER_COMMENT=sra=DRR015317,genome=rdrp1,date=210109-10:00,type=protein;"
      "totalalns=3;readlength=100;truncated=no;\n"
      "sra=DRR015317;phycvg=_________________._______;phy=pisu;score=2;depth=0.1;pctid=50;alns=1;"
      "avgcols=26;\n"
      "sra=DRR015317;famcvg=_________________._______;fam=pisu.Unc159;score=2;depth=0.1;pctid=50;"
      "alns=1;avgcols=26;\n"
      "sra=DRR015317;famcvg=__.______________________;fam=kiti.Tombusviridae-14;score=1;depth=0.0;"
      "pctid=67;alns=1;avgcols=21;\n"
      "sra=DRR015317;vircvg=_________________._______;vir=pisu.Unc159.picalivirus_c:AFR11839;"
      "score=2;depth=0.1;pctid=50;alns=1;avgcols=26;\n";
  PutIncoming("rsummary/DRR015317.psummary", file);
  auto handler = MakeOrDie({{"kind", "rdrp"}, {"table", "summary"}});
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, "rsummary/DRR015317.psummary");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->summary, "DRR015317: 1 run, 1 phylum, 2 families, 1 sequence");
  EXPECT_EQ(outcome->objects_written, 0U);
  EXPECT_EQ(Rows("rsra"), 1);
  EXPECT_EQ(Rows("rphylum"), 1);
  EXPECT_EQ(Rows("rfamily"), 2);
  EXPECT_EQ(Rows("rsequence"), 1);
  EXPECT_TRUE(LakeKeys().empty());
}

TEST_F(SummaryHandlerTest, StoreOptionOverridesTheEventsStore) {
  PutIncoming(kKey, SmallFile());
  auto handler = MakeOrDie({{"kind", "nucleotide"}, {"store", "incoming"}, {"table", "summary"}});
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, kKey, "somewhere-else");
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(Rows("nfamily"), 2);
}

TEST_F(SummaryHandlerTest, EventFromAnUnknownStoreIsInvalidArgument) {
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  auto outcome = Process(*handler, kKey, "nowhere");
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(outcome.error().message, HasSubstr("'nowhere'"));
}

TEST_F(SummaryHandlerTest, CancelledJobStopsBeforeWriting) {
  PutIncoming(kKey, SmallFile());
  auto handler = MakeOrDie(Nucleotide());
  ASSERT_TRUE(handler);
  std::atomic<bool> cancelled{true};
  auto outcome = Process(*handler, kKey, "incoming", &cancelled);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::Cancelled);
  EXPECT_TRUE(lake_->Committed().empty());
}

TEST_F(SummaryHandlerTest, OptionsAreCheckedStrictly) {
  const auto expect_invalid = [&](const nlohmann::json& values, std::string_view where) {
    auto handler = Make(values);
    ASSERT_FALSE(handler) << values.dump();
    EXPECT_EQ(handler.error().code, ErrorCode::InvalidArgument) << values.dump();
    EXPECT_THAT(handler.error().context, HasSubstr("pipeline.toml")) << values.dump();
    EXPECT_THAT(handler.error().context, HasSubstr(where)) << values.dump();
  };
  expect_invalid({{"kind", "nucleotide"}, {"table", "summary"}, {"tabel", "x"}}, "tabel");
  expect_invalid({{"table", "summary"}}, "kind");
  expect_invalid({{"kind", "dna"}, {"table", "summary"}}, "kind");
  expect_invalid({{"kind", 3}, {"table", "summary"}}, "kind");
  expect_invalid({{"kind", "nucleotide"}}, "routes[0].options");
  expect_invalid({{"kind", "nucleotide"}, {"table", "nope"}}, "table");
  expect_invalid({{"kind", "nucleotide"}, {"json_store", "nope"}}, "json_store");
  expect_invalid({{"kind", "nucleotide"}, {"table", "summary"}, {"store", "nope"}}, "store");
  EXPECT_TRUE(Make({{"kind", "rdrp"}, {"json_store", "lake"}, {"json_prefix", "r/"}}));
}

TEST(BuiltinHandlers, RegistersSerratusSummary) {
  HandlerRegistry registry;
  RegisterBuiltinHandlers(registry);
  EXPECT_THAT(registry.Names(), ::testing::Contains("serratus-summary"));
  Resources resources;
  auto handler = registry.Create("serratus-summary",
                                 Options(nlohmann::json{{"kind", "nucleotide"}}, {}, "p.toml", "r"),
                                 resources);
  ASSERT_FALSE(handler);  // no output configured: the factory itself ran
  EXPECT_EQ(handler.error().code, ErrorCode::InvalidArgument);
}

TEST(RunIdFromKey, AcceptsAccessionLikeFileNames) {
  EXPECT_EQ(RunIdFromKey("summary2/ERR2756788.summary").value(), "ERR2756788");
  EXPECT_EQ(RunIdFromKey("SRR1.psummary").value(), "SRR1");
  EXPECT_EQ(RunIdFromKey("a/b/DRR015317.psummary.gz").value(), "DRR015317");
  EXPECT_FALSE(RunIdFromKey("summary2/ERR2756788"));
  EXPECT_FALSE(RunIdFromKey("inbox/upload-17.txt"));
  EXPECT_FALSE(RunIdFromKey("inbox/err1.summary"));
  EXPECT_FALSE(RunIdFromKey("inbox/ERR.summary"));
  EXPECT_FALSE(RunIdFromKey("ERR1."));
}

}  // namespace
}  // namespace sluice::serratus
