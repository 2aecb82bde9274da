// The general-purpose `copy` and `noop` handlers against memory:// object stores.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "sluice/engine/handler.hpp"
#include "sluice/handlers/builtin/copy_handler.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice::builtin {
namespace {

using ::testing::HasSubstr;

class CopyAndNoopHandlers : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string unique =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    resources_.stores["in"] = std::shared_ptr<ObjectStore>(*MakeObjectStore("memory://" + unique + "-in"));
    resources_.stores["out"] = std::shared_ptr<ObjectStore>(*MakeObjectStore("memory://" + unique + "-out"));
  }

  static Options MakeOptions(const nlohmann::json& values) {
    return Options(values, {}, "pipeline.toml", "routes[0].options");
  }

  Event PutInput(const std::string& key, const std::string& body) {
    auto info = resources_.stores["in"]->Put(key, body);
    EXPECT_TRUE(info.has_value());
    return ObjectCreatedEvent("in", *info);
  }

  std::string Read(const std::string& store, const std::string& key) {
    std::string bytes;
    auto got = resources_.stores[store]->GetTo(key, [&](std::string_view chunk) -> Status {
      bytes.append(chunk);
      return Ok();
    });
    EXPECT_TRUE(got.has_value()) << (got ? "" : got.error().ToString());
    return bytes;
  }

  Resources resources_;
  std::atomic<bool> cancelled_{false};
  HandlerContext context_{"mirror", "1", std::chrono::steady_clock::now() + std::chrono::hours(1),
                          &cancelled_};
};

TEST_F(CopyAndNoopHandlers, CopyWritesTheObjectUnderTheNewPrefixAndEmitsItsEvent) {
  auto handler = MakeCopyHandler(
      MakeOptions({{"store", "out"}, {"prefix", "mirror/"}, {"strip_prefix", "raw/"}}), resources_);
  ASSERT_TRUE(handler.has_value()) << handler.error().ToString();
  const Event event = PutInput("raw/a/b.bin", "payload bytes");
  auto outcome = (*handler)->Handle(event, context_);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().ToString();
  EXPECT_EQ(Read("out", "mirror/a/b.bin"), "payload bytes");
  EXPECT_EQ(outcome->bytes_read, 13U);
  EXPECT_EQ(outcome->bytes_written, 13U);
  ASSERT_EQ(context_.Emitted().size(), 1U);
  EXPECT_EQ(context_.Emitted()[0].store, "out");
  EXPECT_EQ(context_.Emitted()[0].key, "mirror/a/b.bin");
  EXPECT_EQ(context_.Emitted()[0].size_bytes, 13U);
}

TEST_F(CopyAndNoopHandlers, CopyDeclaresItsDestinationStoreAndPrefixAsOutputs) {
  auto handler = MakeCopyHandler(MakeOptions({{"store", "out"}, {"prefix", "mirror/"}}), resources_);
  ASSERT_TRUE(handler.has_value());
  const auto outputs = (*handler)->Outputs();
  ASSERT_EQ(outputs.size(), 1U);
  EXPECT_EQ(outputs[0].store, "out");
  EXPECT_EQ(outputs[0].prefix, "mirror/");
}

TEST_F(CopyAndNoopHandlers, CopyWithinOneStoreUsesAnotherKey) {
  auto handler = MakeCopyHandler(MakeOptions({{"store", "in"}, {"prefix", "copy/"}}), resources_);
  ASSERT_TRUE(handler.has_value());
  auto outcome = (*handler)->Handle(PutInput("x.txt", "x"), context_);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().ToString();
  EXPECT_EQ(Read("in", "copy/x.txt"), "x");
}

TEST_F(CopyAndNoopHandlers, CopyOfAMissingObjectIsNotFoundNamingIt) {
  auto handler = MakeCopyHandler(MakeOptions({{"store", "out"}}), resources_);
  ASSERT_TRUE(handler.has_value());
  Event event;
  event.kind = "ObjectCreated:Put";
  event.store = "in";
  event.key = "gone.bin";
  auto outcome = (*handler)->Handle(event, context_);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().code, ErrorCode::NotFound);
  EXPECT_THAT(outcome.error().ToString(), HasSubstr("gone.bin"));
  EXPECT_TRUE(context_.Emitted().empty());
}

TEST_F(CopyAndNoopHandlers, CopyOptionsAreCheckedStrictly) {
  auto missing = MakeCopyHandler(MakeOptions(nlohmann::json::object()), resources_);
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().ToString(), HasSubstr("store"));
  auto unknown = MakeCopyHandler(MakeOptions({{"store", "nowhere"}}), resources_);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().ToString(), HasSubstr("nowhere"));
  auto typo = MakeCopyHandler(MakeOptions({{"store", "out"}, {"prefx", "p/"}}), resources_);
  ASSERT_FALSE(typo.has_value());
  EXPECT_THAT(typo.error().ToString(), HasSubstr("prefx"));
}

TEST_F(CopyAndNoopHandlers, CopyOntoItselfIsRefused) {
  auto handler = MakeCopyHandler(MakeOptions({{"store", "in"}}), resources_);
  ASSERT_TRUE(handler.has_value());
  auto outcome = (*handler)->Handle(PutInput("same.txt", "s"), context_);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().code, ErrorCode::InvalidArgument);
}

TEST_F(CopyAndNoopHandlers, NoopSucceedsWithoutReadingAndTakesNoOptions) {
  auto handler = MakeNoopHandler(MakeOptions(nlohmann::json::object()), resources_);
  ASSERT_TRUE(handler.has_value());
  Event event;
  event.store = "in";
  event.key = "does-not-exist";
  auto outcome = (*handler)->Handle(event, context_);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->objects_written, 0U);
  EXPECT_FALSE(MakeNoopHandler(MakeOptions({{"x", 1}}), resources_).has_value());
}

}  // namespace
}  // namespace sluice::builtin
