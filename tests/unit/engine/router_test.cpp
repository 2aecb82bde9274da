#include "sluice/engine/router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/engine/event.hpp"
#include "sluice/engine/job.hpp"

namespace sluice {
namespace {

Event ObjectEvent(std::string kind, std::string store, std::string key, std::string etag = "e1") {
  Event event;
  event.kind = std::move(kind);
  event.store = std::move(store);
  event.key = std::move(key);
  event.etag = std::move(etag);
  return event;
}

RouteMatch SummaryMatch() {
  RouteMatch match;
  match.store = "incoming";
  match.prefix = "summary2/";
  match.suffix = ".summary";
  match.events = {"ObjectCreated:*"};
  return match;
}

TEST(RouteMatches, MatchesStorePrefixSuffixAndAWildcardKind) {
  const RouteMatch match = SummaryMatch();
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary2/ERR1.summary")));
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:CompleteMultipartUpload", "incoming",
                                              "summary2/deep/ERR2.summary")));
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:Backfill", "incoming", "summary2/ERR3.summary")));
}

TEST(RouteMatches, RejectsAnotherStorePrefixSuffixOrKind) {
  const RouteMatch match = SummaryMatch();
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "lake", "summary2/ERR1.summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary1/ERR1.summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "x/summary2/ERR1.summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary2/ERR1.psummary.gz")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary2/ERR1.Summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectRemoved:Delete", "incoming", "summary2/ERR1.summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated", "incoming", "summary2/ERR1.summary")));
}

TEST(RouteMatches, PrefixAndSuffixMayNotShareCharactersOfTheKey) {
  RouteMatch match;
  match.store = "s";
  match.prefix = "a.sum";
  match.suffix = ".summary";
  match.events = {"*"};
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "s", "a.summary")));
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "s", "a.sum.summary")));
}

TEST(RouteMatches, EmptyPrefixAndSuffixMatchEveryKey) {
  RouteMatch match;
  match.store = "s";
  match.events = {"ObjectCreated:Put"};
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "s", "anything/at/all")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Copy", "s", "anything/at/all")));
}

TEST(RouteMatches, AnyOfSeveralKindPatternsMatches) {
  RouteMatch match = SummaryMatch();
  match.events = {"ObjectCreated:Put", "ObjectRemoved:*"};
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary2/a.summary")));
  EXPECT_TRUE(RouteMatches(match, ObjectEvent("ObjectRemoved:Delete", "incoming", "summary2/a.summary")));
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Copy", "incoming", "summary2/a.summary")));
  match.events.clear();
  EXPECT_FALSE(RouteMatches(match, ObjectEvent("ObjectCreated:Put", "incoming", "summary2/a.summary")));
}

TEST(KindMatches, TrailingStarMatchesAnyRestAndOtherwiseExactly) {
  EXPECT_TRUE(KindMatches("ObjectCreated:*", "ObjectCreated:Put"));
  EXPECT_TRUE(KindMatches("ObjectCreated:*", "ObjectCreated:"));
  EXPECT_FALSE(KindMatches("ObjectCreated:*", "ObjectCreated"));
  EXPECT_TRUE(KindMatches("*", "StatusChanged"));
  EXPECT_TRUE(KindMatches("StatusChanged", "StatusChanged"));
  EXPECT_FALSE(KindMatches("StatusChanged", "StatusChangedAgain"));
  EXPECT_FALSE(KindMatches("", "ObjectCreated:Put"));
}

TEST(DedupeKey, DiffersByETag) {
  const Event first = ObjectEvent("ObjectCreated:Put", "incoming", "summary2/a.summary", "etag-1");
  const Event second = ObjectEvent("ObjectCreated:Put", "incoming", "summary2/a.summary", "etag-2");
  EXPECT_NE(DedupeKey("r", first), DedupeKey("r", second));
  EXPECT_EQ(DedupeKey("r", first), DedupeKey("r", first));
}

TEST(DedupeKey, IgnoresKindSizeAndTime) {
  Event first = ObjectEvent("ObjectCreated:Put", "incoming", "k", "etag-1");
  Event second = first;
  second.kind = "ObjectCreated:Backfill";
  second.size_bytes = 12;
  second.time = std::chrono::system_clock::now();
  EXPECT_EQ(DedupeKey("r", first), DedupeKey("r", second));
}

TEST(DedupeKey, DiffersByRouteStoreAndKey) {
  const Event event = ObjectEvent("ObjectCreated:Put", "incoming", "k", "etag-1");
  EXPECT_NE(DedupeKey("r1", event), DedupeKey("r2", event));
  EXPECT_NE(DedupeKey("r", event), DedupeKey("r", ObjectEvent("ObjectCreated:Put", "lake", "k", "etag-1")));
  EXPECT_NE(DedupeKey("r", event), DedupeKey("r", ObjectEvent("ObjectCreated:Put", "incoming", "k2", "etag-1")));
}

TEST(DedupeKey, FieldsCannotRunIntoEachOther) {
  // Without separators "ab"+"c" and "a"+"bc" would collide.
  EXPECT_NE(DedupeKey("ab", ObjectEvent("k", "c", "d", "e")), DedupeKey("a", ObjectEvent("k", "bc", "d", "e")));
  EXPECT_NE(DedupeKey("r", ObjectEvent("k", "s", "key1", "")), DedupeKey("r", ObjectEvent("k", "s", "key", "1")));
}

TEST(DedupeKey, PrefersTheVersionOverTheETag) {
  Event v1 = ObjectEvent("ObjectCreated:Put", "incoming", "k", "same-etag");
  v1.version = "v1";
  Event v2 = v1;
  v2.version = "v2";
  EXPECT_NE(DedupeKey("r", v1), DedupeKey("r", v2));
  Event v1_other_etag = v1;
  v1_other_etag.etag = "other";
  EXPECT_EQ(DedupeKey("r", v1), DedupeKey("r", v1_other_etag));
}

RouteConfig Route(std::string name, RouteMatch match, int max_attempts) {
  RouteConfig route;
  route.name = std::move(name);
  route.match = std::move(match);
  route.handler = "h";
  route.retry.max_attempts = max_attempts;
  return route;
}

TEST(RouteEvent, MakesOneJobPerMatchingRoute) {
  RouteMatch everything;
  everything.store = "incoming";
  everything.events = {"*"};
  RouteMatch elsewhere = everything;
  elsewhere.store = "lake";
  const std::vector<RouteConfig> routes = {Route("summaries", SummaryMatch(), 4),
                                           Route("audit", everything, 9),
                                           Route("lake", elsewhere, 1)};
  const Event event = ObjectEvent("ObjectCreated:Put", "incoming", "summary2/ERR1.summary");
  const auto jobs = RouteEvent(routes, event);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].route, "summaries");
  EXPECT_EQ(jobs[0].max_attempts, 4);
  EXPECT_EQ(jobs[0].dedupe_key, DedupeKey("summaries", event));
  EXPECT_EQ(jobs[0].event.key, "summary2/ERR1.summary");
  EXPECT_EQ(jobs[1].route, "audit");
  EXPECT_EQ(jobs[1].max_attempts, 9);
  EXPECT_NE(jobs[0].dedupe_key, jobs[1].dedupe_key);

  EXPECT_TRUE(RouteEvent(routes, ObjectEvent("ObjectCreated:Put", "nowhere", "k")).empty());
}

TEST(Event, JsonRoundTripKeepsEveryField) {
  Event event = ObjectEvent("ObjectCreated:Put", "incoming", "summary2/ünï code.summary", "abc123");
  event.size_bytes = 1ULL << 40;
  event.version = "v7";
  event.sequencer = "0055AED6DCD90281E5";
  event.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  event.detail = {{"status", "ACTIVE"}, {"n", 3}};
  auto parsed = Event::FromJson(event.ToJson());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->kind, event.kind);
  EXPECT_EQ(parsed->store, event.store);
  EXPECT_EQ(parsed->key, event.key);
  EXPECT_EQ(parsed->size_bytes, event.size_bytes);
  EXPECT_EQ(parsed->etag, event.etag);
  EXPECT_EQ(parsed->version, event.version);
  EXPECT_EQ(parsed->sequencer, event.sequencer);
  EXPECT_EQ(parsed->time, event.time);
  EXPECT_EQ(parsed->detail, event.detail);
}

TEST(Event, FromJsonRejectsNonObjectsAndMissingKind) {
  EXPECT_FALSE(Event::FromJson(nlohmann::json::array()));
  auto missing = Event::FromJson(nlohmann::json{{"key", "k"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidArgument);
  auto wrong_type = Event::FromJson(nlohmann::json{{"kind", "ObjectCreated:Put"}, {"size", "big"}});
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, ErrorCode::InvalidArgument);
}

RouteConfig WiblRoute(std::string prefix, std::string suffix) {
  RouteConfig route;
  route.name = "process";
  route.handler = "wibl-process";
  route.match.store = "incoming";
  route.match.prefix = std::move(prefix);
  route.match.suffix = std::move(suffix);
  route.match.events = {"ObjectCreated:*"};
  return route;
}

// CheckTriggerLoops over one route and the outputs of its handler.
Status CheckSelfTrigger(const RouteConfig& route, std::vector<OutputTarget> outputs, std::string where) {
  const std::vector<RouteOutputs> routes = {{&route, std::move(outputs), std::move(where)}};
  return CheckTriggerLoops(routes);
}

TEST(CheckTriggerLoops, OutputsThatTheRoutesOwnMatchCoversAreALoopNamingWhereAndHowToFix) {
  const std::vector<OutputTarget> outputs = {{"incoming", "", ".json"}};
  const Status status = CheckSelfTrigger(WiblRoute("", ""), outputs, "p.toml:12: route 'process'");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
  const std::string text = status.error().ToString();
  for (const char* part : {"p.toml:12: route 'process'", "self-trigger loop", "store 'incoming'",
                           "suffix '.json'", "prefix any", "Give match a prefix or suffix"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " in " << text;
  }
  // Overlapping prefixes: outputs under "in/out/" are under the match's "in/".
  const std::vector<OutputTarget> nested = {{"incoming", "in/out/", ""}};
  EXPECT_FALSE(CheckSelfTrigger(WiblRoute("in/", ".wibl"), nested, "here"));
}

TEST(CheckTriggerLoops, AKeyFilterTheOutputsCannotPassMakesItSafe) {
  const std::vector<OutputTarget> outputs = {{"incoming", "", ".json"}};
  EXPECT_TRUE(CheckSelfTrigger(WiblRoute("", ".wibl"), outputs, "here"));  // suffix
  const std::vector<OutputTarget> prefixed = {{"incoming", "out/", ".json"}};
  EXPECT_TRUE(CheckSelfTrigger(WiblRoute("in/", ""), prefixed, "here"));  // disjoint prefixes
  const std::vector<OutputTarget> elsewhere = {{"staging", "", ""}};
  EXPECT_TRUE(CheckSelfTrigger(WiblRoute("", ""), elsewhere, "here"));  // another store
  RouteConfig removals = WiblRoute("", "");
  removals.match.events = {"ObjectRemoved:*"};
  EXPECT_TRUE(CheckSelfTrigger(removals, outputs, "here"));  // writes create, never remove
}

RouteConfig Route(std::string name, std::string store, std::string prefix) {
  RouteConfig route = WiblRoute(std::move(prefix), "");
  route.name = std::move(name);
  route.handler = "copy";
  route.match.store = std::move(store);
  return route;
}

TEST(CheckTriggerLoops, RoutesFeedingEachOtherInARingAreALoopNamingEveryStep) {
  // a: in/ → b's store; b: → c's prefix; c: → back into a's in/.
  const RouteConfig a = Route("a", "lake", "in/");
  const RouteConfig b = Route("b", "staging", "");
  const RouteConfig c = Route("c", "lake", "mid/");
  const std::vector<RouteOutputs> ring = {{&a, {{"staging", "x/", ""}}, "p.toml:3: route 'a'"},
                                          {&b, {{"lake", "mid/", ".json"}}, "p.toml:9: route 'b'"},
                                          {&c, {{"lake", "in/", ""}}, "p.toml:15: route 'c'"}};
  const Status status = CheckTriggerLoops(ring);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
  const std::string text = status.error().ToString();
  for (const char* part : {"p.toml:3: route 'a'", "trigger loop across 3 routes",
                           "route 'a' (handler 'copy') writes to store 'staging' with prefix 'x/'",
                           "which route 'b' matches", "which route 'c' matches",
                           "store 'lake' with prefix 'in/' and suffix any, which route 'a' matches"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " in " << text;
  }
}

TEST(CheckTriggerLoops, AChainThatEndsIsNoLoop) {
  // The WIBL shape: process writes GeoJSON that submit reads; submit's receipts go elsewhere.
  const RouteConfig process = Route("process", "incoming", "");
  const RouteConfig submit = Route("submit", "staging", "");
  const std::vector<RouteOutputs> chain = {{&process, {{"staging", "", ".json"}}, "process"},
                                           {&submit, {{"receipts", "", ""}}, "submit"}};
  EXPECT_TRUE(CheckTriggerLoops(chain));
  // Two routes triggering a third that writes nowhere they read: a diamond, still no loop.
  const RouteConfig sink = Route("sink", "receipts", "");
  const std::vector<RouteOutputs> diamond = {{&process, {{"staging", "", ""}, {"receipts", "", ""}}, "p"},
                                             {&submit, {{"receipts", "", ""}}, "s"},
                                             {&sink, {{"archive", "", ""}}, "k"}};
  EXPECT_TRUE(CheckTriggerLoops(diamond));
}

}  // namespace
}  // namespace sluice
