// The wibl-validate and wibl-submit handlers against memory:// stores and a loopback DCDB.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "sluice/engine/handler.hpp"
#include "sluice/handlers/handlers.hpp"
#include "sluice/handlers/wibl/submit_handler.hpp"
#include "sluice/handlers/wibl/validate_handler.hpp"
#include "sluice/store/object_store.hpp"
#include "unit/s3/loopback_server.hpp"
#include "unit/wibl_submit/csb_documents.hpp"

namespace sluice::wibl {
namespace {

using sluice::testing::CannedResponse;
using sluice::testing::LoopbackServer;
using sluice::testing::RecordedRequest;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "dcdb-t0ken-from-env-77";
constexpr const char* kKey = "staging/0b5c9a7e-1111-4222-8333-944455556666.json";

class WiblHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const std::string unique = fmt::format("wibl-handlers-{}-{}", ::getpid(), ++counter);
    for (const char* name : {"staging", "validated", "receipts"}) {
      auto store = MakeObjectStore(fmt::format("memory://{}-{}", unique, name));
      ASSERT_TRUE(store) << store.error().ToString();
      resources_.stores[name] = std::shared_ptr<ObjectStore>(std::move(*store));
    }
  }

  ObjectStore& Store(const std::string& name) { return *resources_.stores.at(name); }

  static Options MakeOptions(const nlohmann::json& values) {
    return Options(values, {}, "pipeline.toml", "routes[0].options");
  }

  static Result<Outcome> Process(Handler& handler, std::string_view key,
                                 std::string_view store = "staging") {
    Event event;
    event.kind = std::string(kEventObjectCreatedPut);
    event.store = std::string(store);
    event.key = std::string(key);
    HandlerContext context("wibl", "job-1",
                           std::chrono::steady_clock::now() + std::chrono::minutes(5), nullptr);
    return handler.Handle(event, context);
  }

  std::unique_ptr<Handler> Validator(const nlohmann::json& options) {
    auto handler = MakeValidateHandler(MakeOptions(options), resources_);
    EXPECT_TRUE(handler) << handler.error().ToString();
    return handler ? std::move(*handler) : nullptr;
  }

  std::unique_ptr<Handler> Submitter(const nlohmann::json& options) {
    auto handler = MakeSubmitHandler(MakeOptions(options), resources_);
    EXPECT_TRUE(handler) << handler.error().ToString();
    return handler ? std::move(*handler) : nullptr;
  }

  Resources resources_;
};

TEST_F(WiblHandlersTest, BothHandlersAreRegistered) {
  HandlerRegistry registry;
  RegisterBuiltinHandlers(registry);
  EXPECT_THAT(registry.Names(), ::testing::IsSupersetOf({"wibl-validate", "wibl-submit"}));
}

TEST_F(WiblHandlersTest, ValidDocumentIsCopiedToTheOutputStore) {
  const std::string text = testing::ValidDocument(4).dump(2);
  ASSERT_TRUE(Store("staging").Put(kKey, text));
  auto handler = Validator({{"output", "validated"}, {"output_prefix", "ok/"}});
  const auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->objects_written, 1u);
  EXPECT_THAT(outcome->summary, HasSubstr("4 soundings"));
  const auto copied = Store("validated").Get(std::string("ok/") + kKey);
  ASSERT_TRUE(copied) << copied.error().ToString();
  EXPECT_EQ(*copied, text);
}

TEST_F(WiblHandlersTest, ValidDocumentWithoutOutputWritesNothing) {
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  auto handler = Validator(nlohmann::json::object());
  const auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_EQ(outcome->objects_written, 0u);
}

TEST_F(WiblHandlersTest, InvalidDocumentFailsTheJobListingAFewViolations) {
  nlohmann::json document = testing::ValidDocument(30);
  for (auto& feature : document["features"]) feature["properties"].erase("time");
  ASSERT_TRUE(Store("staging").Put(kKey, document.dump()));
  auto handler = Validator({{"output", "validated"}, {"max_listed", 3}});
  const auto outcome = Process(*handler, kKey);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(IsRetryable(outcome.error().code));
  EXPECT_EQ(outcome.error().message,
            "30 violations of csbschema 3.1.0-2024-04: /features/0/properties/time: is required "
            "but missing; /features/1/properties/time: is required but missing; "
            "/features/2/properties/time: is required but missing; and 27 more");
  EXPECT_THAT(outcome.error().context, HasSubstr(kKey));
  EXPECT_FALSE(Store("validated").Head(kKey));
}

TEST_F(WiblHandlersTest, SemanticChecksCanBeTurnedOff) {
  nlohmann::json document = testing::ValidDocument();
  document["properties"]["platform"]["dataProcessed"] = true;  // but no processing
  ASSERT_TRUE(Store("staging").Put(kKey, document.dump()));
  EXPECT_FALSE(Process(*Validator(nlohmann::json::object()), kKey));
  EXPECT_TRUE(Process(*Validator({{"semantic_checks", false}}), kKey));
}

TEST_F(WiblHandlersTest, ValidatorRefusesTextThatIsNotJsonAndMissingObjects) {
  ASSERT_TRUE(Store("staging").Put(kKey, "{\"type\": \"FeatureCollection\", NaN"));
  auto handler = Validator(nlohmann::json::object());
  auto outcome = Process(*handler, kKey);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::Corrupt);
  outcome = Process(*handler, "staging/absent.json");
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::NotFound);
  outcome = Process(*handler, kKey, "nowhere");
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::InvalidArgument);
}

TEST_F(WiblHandlersTest, ValidatorOptionsAreStrict) {
  for (const nlohmann::json& options :
       {nlohmann::json{{"outptu", "validated"}}, nlohmann::json{{"output", "nowhere"}},
        nlohmann::json{{"store", "nowhere"}}, nlohmann::json{{"max_listed", 0}},
        nlohmann::json{{"max_listed", "3"}}, nlohmann::json{{"semantic_checks", "yes"}}}) {
    const auto handler = MakeValidateHandler(MakeOptions(options), resources_);
    ASSERT_FALSE(handler) << options.dump();
    EXPECT_EQ(handler.error().code, ErrorCode::InvalidArgument);
    EXPECT_THAT(handler.error().context, HasSubstr("pipeline.toml")) << options.dump();
  }
}

class SubmitHandlerTest : public WiblHandlersTest {
 protected:
  SubmitHandlerTest()
      : server_([this](const RecordedRequest&) {
          CannedResponse response;
          response.status = status_.load();
          response.headers = {{"Content-Type", "application/json"}};
          response.body =
              status_ == 200
                  ? R"({"success": true, "message": "Submission successful.", "submissionIds": ["s-1"]})"
                  : R"({"success": false, "message": "no"})";
          return response;
        }) {}

  nlohmann::json SubmitOptions() const {
    return {{"upload_point", server_.Url() + "/csb/test/geojson/"},
            {"token", kToken},
            {"provider_id", "EXNODE"},
            {"initial_backoff", "1ms"},
            {"max_backoff", "2ms"},
            {"receipt_store", "receipts"},
            {"receipt_prefix", "dcdb/"}};
  }

  std::atomic<int> status_{200};
  LoopbackServer server_;
};

TEST_F(SubmitHandlerTest, SubmitsOnceAndWritesAReceiptThatStopsASecondSubmission) {
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  auto handler = Submitter(SubmitOptions());
  auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("s-1"));
  EXPECT_EQ(outcome->objects_written, 1u);
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header("x-auth-token"), kToken);
  EXPECT_THAT(server_.Requests()[0].body,
              HasSubstr("filename=\"0b5c9a7e-1111-4222-8333-944455556666.json\""));

  const auto receipt = Store("receipts").Get(std::string("dcdb/") + kKey + ".dcdb.json");
  ASSERT_TRUE(receipt) << receipt.error().ToString();
  const auto record = nlohmann::json::parse(*receipt);
  EXPECT_EQ(record["uniqueID"], testing::kVesselId);
  EXPECT_EQ(record["submissionIds"], nlohmann::json::array({"s-1"}));
  EXPECT_THAT(*receipt, Not(HasSubstr(kToken)));

  // The job runs again (say, the worker died before recording its success): no second POST.
  outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("already submitted"));
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(SubmitHandlerTest, DryRunSendsNothingAndNeedsNoToken) {
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  auto handler = Submitter({{"dry_run", true}, {"receipt_store", "receipts"}});
  const auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("dry run"));
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_FALSE(Store("receipts").Head(std::string(kKey) + ".dcdb.json"));
}

TEST_F(SubmitHandlerTest, InvalidDocumentIsNotSent) {
  nlohmann::json document = testing::ValidDocument();
  document["properties"]["trustedNode"]["uniqueVesselID"] = "UNHJHC-Gulf Surveyor";
  document["properties"]["platform"].erase("uniqueID");
  ASSERT_TRUE(Store("staging").Put(kKey, document.dump()));
  auto outcome = Process(*Submitter(SubmitOptions()), kKey);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(outcome.error().message, HasSubstr("/properties/trustedNode/uniqueVesselID"));
  EXPECT_TRUE(server_.Requests().empty());

  // validate = false leaves the judgement to DCDB; provider_id is prefixed as upstream does.
  auto options = SubmitOptions();
  options["validate"] = false;
  outcome = Process(*Submitter(options), kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_THAT(server_.Requests()[0].body,
              HasSubstr("\"uniqueID\": \"EXNODE-UNHJHC-Gulf Surveyor\""));
}

TEST_F(SubmitHandlerTest, SourceIdTagOfTheObjectNamesTheVesselAndLoggerTagIsReported) {
  // As the submission lambda does (research/wibl.md §4): the tag, not the JSON, gives the ID.
  ASSERT_TRUE(Store("staging").Put(
      kKey, testing::ValidDocument().dump(),
      WriteOptions{{{"SourceID", "TAGGED-vessel"}, {"Logger", "Gulf Surveyor"}, {"Soundings", "3"}}}));
  const auto outcome = Process(*Submitter(SubmitOptions()), kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_THAT(server_.Requests()[0].body, HasSubstr("\"uniqueID\": \"EXNODE-TAGGED-vessel\""));
  EXPECT_THAT(outcome->summary, HasSubstr("Logger=Gulf Surveyor"));
  EXPECT_THAT(outcome->summary, HasSubstr("EXNODE-TAGGED-vessel"));
}

TEST_F(SubmitHandlerTest, EmptyOrMissingSourceIdTagFallsBackToTheDocumentsVesselId) {
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump(),
                                   WriteOptions{{{"SourceID", ""}, {"Logger", "L"}}}));
  auto handler = Submitter({{"dry_run", true}, {"provider_id", "EXNODE"}});
  auto outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("uniqueID " + std::string(testing::kVesselId)));
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  outcome = Process(*handler, kKey);
  ASSERT_TRUE(outcome) << outcome.error().ToString();
  EXPECT_THAT(outcome->summary, HasSubstr("uniqueID " + std::string(testing::kVesselId)));
  EXPECT_THAT(outcome->summary, Not(HasSubstr("Logger=")));
}

TEST_F(SubmitHandlerTest, ServerErrorsEndInARetryableErrorWithoutTheToken) {
  status_ = 502;
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  auto options = SubmitOptions();
  options["max_attempts"] = 2;
  const auto outcome = Process(*Submitter(options), kKey);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::Transient);
  EXPECT_EQ(server_.Requests().size(), 2u);
  EXPECT_THAT(outcome.error().ToString(), Not(HasSubstr(kToken)));
  EXPECT_FALSE(Store("receipts").Head(std::string("dcdb/") + kKey + ".dcdb.json"));
}

TEST_F(SubmitHandlerTest, OptionsAreStrictAndNeverQuoteTheToken) {
  const auto refused = [&](nlohmann::json options, std::string_view key) {
    const auto handler = MakeSubmitHandler(MakeOptions(options), resources_);
    ASSERT_FALSE(handler) << options.dump();
    EXPECT_EQ(handler.error().code, ErrorCode::InvalidArgument);
    EXPECT_THAT(handler.error().context, HasSubstr(key)) << handler.error().ToString();
    EXPECT_THAT(handler.error().ToString(), Not(HasSubstr(kToken)));
  };
  auto options = SubmitOptions();
  options["tokn"] = "x";
  refused(options, "tokn");
  options = SubmitOptions();
  options.erase("token");
  refused(options, "token");
  options = SubmitOptions();
  options["token"] = " ";
  refused(options, "token");
  options = SubmitOptions();
  options["token"] = std::string(kToken) + "\n" + kToken;
  refused(options, "token");
  options = SubmitOptions();
  options.erase("upload_point");
  refused(options, "upload_point");
  options = SubmitOptions();
  options["upload_point"] = "www.ngdc.noaa.gov/upload";
  refused(options, "upload_point");
  options = SubmitOptions();
  options["max_attempts"] = 0;
  refused(options, "max_attempts");
  options = SubmitOptions();
  options["initial_backoff"] = "1m";
  options["max_backoff"] = "1s";
  refused(options, "max_backoff");
  options = SubmitOptions();
  options["timeout"] = "soon";
  refused(options, "timeout");
  options = SubmitOptions();
  options["receipt_store"] = "nowhere";
  refused(options, "receipt_store");
  options = SubmitOptions();
  options["dry_run"] = "true";
  refused(options, "dry_run");
}

TEST_F(SubmitHandlerTest, TokenComesFromTheEnvironmentThroughTheConfig) {
  ::setenv("SLUICE_TEST_DCDB_TOKEN", kToken, 1);
  const std::string toml = fmt::format(R"(
[queue]
url = "sqlite:///tmp/unused-wibl-submit-queue.db"
[stores.staging]
url = "memory://wibl-submit-env-staging"
[[routes]]
name = "submit"
match = {{ store = "staging", suffix = ".json" }}
handler = "wibl-submit"

[routes.options]
upload_point = "{}/csb/test/geojson/"
token = "${{SLUICE_TEST_DCDB_TOKEN}}"
)",
                                       server_.Url());
  auto config = ParseConfig(toml, "pipeline.toml");
  ::unsetenv("SLUICE_TEST_DCDB_TOKEN");
  ASSERT_TRUE(config) << config.error().ToString();
  const RouteConfig* route = config->FindRoute("submit");
  ASSERT_NE(route, nullptr);
  ASSERT_TRUE(Store("staging").Put(kKey, testing::ValidDocument().dump()));
  auto handler = MakeSubmitHandler(route->options, resources_);
  ASSERT_TRUE(handler) << handler.error().ToString();
  ASSERT_TRUE(Process(**handler, kKey));
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header("x-auth-token"), kToken);
}

}  // namespace
}  // namespace sluice::wibl
