// The broker-free parts of the amqp:// queue: URL parsing, the job message form, retry delays,
// names and ids. The queue against a real broker is tested in tests/integration/amqp/.

#include "sluice/engine/queue/amqp_queue.hpp"

#include <gtest/gtest.h>

#include "sluice/engine/queue/amqp_client.hpp"

namespace sluice {
namespace {

using namespace std::chrono_literals;

TEST(AmqpUrl, ParsesUserPasswordHostPortVhostAndQueue) {
  auto url = ParseAmqpUrl("amqp://alice:s%40cret@broker.lan:5673/%2f?queue=jobs");
  ASSERT_TRUE(url) << url.error().ToString();
  EXPECT_EQ(url->user, "alice");
  EXPECT_EQ(url->password, "s@cret");
  EXPECT_EQ(url->host, "broker.lan");
  EXPECT_EQ(url->port, 5673);
  EXPECT_EQ(url->vhost, "/");
  EXPECT_EQ(url->queue, "jobs");
}

TEST(AmqpUrl, DefaultsArePort5672GuestVhostSlashAndQueueSluice) {
  auto url = ParseAmqpUrl("amqp://127.0.0.1");
  ASSERT_TRUE(url) << url.error().ToString();
  EXPECT_EQ(url->port, 5672);
  EXPECT_EQ(url->user, "guest");
  EXPECT_EQ(url->vhost, "/");
  EXPECT_EQ(url->queue, "sluice");
}

TEST(AmqpUrl, NamedVhostIsPercentDecoded) {
  auto url = ParseAmqpUrl("amqp://u:p@h:1/lab%2Fseq");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->vhost, "lab/seq");
}

TEST(AmqpUrl, SourceParametersExchangeAndRoutingKeyAreKept) {
  auto url = ParseAmqpUrl("amqp://h/%2f?queue=q&exchange=amq.topic&routing_key=objtopic");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->exchange, "amq.topic");
  EXPECT_EQ(url->routing_key, "objtopic");
}

TEST(AmqpUrl, BadPortUnknownParameterAndOtherSchemeAreInvalidArgumentWithoutThePassword) {
  for (const char* text : {"amqp://u:topsecret@h:99999/", "amqp://u:topsecret@h:12x/",
                           "amqp://u:topsecret@h/?queue=q&colour=blue", "amqps://u:topsecret@h/",
                           "amqp://u:topsecret@h/?queue="}) {
    auto url = ParseAmqpUrl(text);
    ASSERT_FALSE(url) << text;
    EXPECT_EQ(url.error().code, ErrorCode::InvalidArgument) << text;
    EXPECT_EQ(url.error().ToString().find("topsecret"), std::string::npos) << url.error().ToString();
  }
}

TEST(AmqpUrl, RedactedNeverShowsThePassword) {
  auto url = ParseAmqpUrl("amqp://alice:topsecret@h:5673/%2f?queue=jobs");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->Redacted(), "amqp://alice:***@h:5673/%2f?queue=jobs");
}

TEST(AmqpJobMessage, RoundTripsEveryField) {
  AmqpJob job;
  job.id = NewAmqpJobId();
  job.route = "nucleotide";
  job.dedupe_key = "nucleotide\x1fincoming\x1fsummary2/ERR1.summary\x1f" "abc";
  job.max_attempts = 5;
  job.created = std::chrono::system_clock::time_point(1700000000123ms);
  job.event.kind = "ObjectCreated:Put";
  job.event.store = "incoming";
  job.event.key = "summary2/ERR1.summary";
  job.event.size_bytes = 97688;
  job.event.etag = "abc";
  job.event.sequencer = "0055AED6DCD90281E5";
  auto back = DecodeAmqpJob(EncodeAmqpJob(job));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->id, job.id);
  EXPECT_EQ(back->route, job.route);
  EXPECT_EQ(back->dedupe_key, job.dedupe_key);
  EXPECT_EQ(back->max_attempts, 5);
  EXPECT_EQ(back->created, job.created);
  EXPECT_EQ(back->event.key, job.event.key);
  EXPECT_EQ(back->event.size_bytes, 97688u);
  EXPECT_EQ(back->event.etag, "abc");
  EXPECT_EQ(back->event.sequencer, job.event.sequencer);
}

TEST(AmqpJobMessage, GarbageMissingFieldsAndBadEventAreInvalidArgumentNamingTheProblem) {
  auto not_json = DecodeAmqpJob("{\"id\": 1,");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(not_json.error().message.find("byte"), std::string::npos) << not_json.error().message;

  auto no_route = DecodeAmqpJob(R"({"id": 1, "max_attempts": 1, "event": {"kind": "x"}})");
  ASSERT_FALSE(no_route);
  EXPECT_NE(no_route.error().message.find("'route'"), std::string::npos) << no_route.error().message;

  auto bad_event = DecodeAmqpJob(R"({"id": 1, "route": "r", "max_attempts": 1, "event": {"store": "s"}})");
  ASSERT_FALSE(bad_event);
  EXPECT_NE(bad_event.error().ToString().find("event"), std::string::npos) << bad_event.error().ToString();

  auto zero_attempts = DecodeAmqpJob(R"({"id": 1, "route": "r", "max_attempts": 0, "event": {"kind": "x"}})");
  ASSERT_FALSE(zero_attempts);
}

TEST(AmqpRetryDelay, RoundsUpToTheNextQueueAndCapsAtTheLargest) {
  EXPECT_EQ(AmqpRetryDelay(0ms), 100ms);
  EXPECT_EQ(AmqpRetryDelay(100ms), 100ms);
  EXPECT_EQ(AmqpRetryDelay(101ms), 250ms);
  EXPECT_EQ(AmqpRetryDelay(1500ms), 2s);
  EXPECT_EQ(AmqpRetryDelay(3min), 5min);
  EXPECT_EQ(AmqpRetryDelay(48h), 6h);
}

TEST(AmqpNames, QueuesAndExchangeCarryThePrefixAndRoute) {
  const AmqpNames names{"sluice"};
  EXPECT_EQ(names.RouteQueue("nucleotide"), "sluice.nucleotide");
  EXPECT_EQ(names.RetryQueue("nucleotide", 250ms), "sluice.nucleotide.retry.250ms");
  EXPECT_EQ(names.DeadQueue(), "sluice.dead");
  EXPECT_EQ(names.DeadExchange(), "sluice.dlx");
}

TEST(AmqpJobId, IdsAreUniqueAndIncreaseWithinAProcess) {
  std::int64_t previous = NewAmqpJobId();
  EXPECT_GT(previous, 0);
  for (int i = 0; i < 10000; ++i) {
    const std::int64_t id = NewAmqpJobId();
    EXPECT_NE(id, previous);
    previous = id;
  }
}

TEST(MakeQueue, AmqpUrlWithoutABrokerIsTransientAndDoesNotLeakThePassword) {
  // port 9 (discard) on loopback: nothing listens there in the test environment
  auto queue = MakeQueue("amqp://u:topsecret@127.0.0.1:9/%2f?queue=t");
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::Transient) << queue.error().ToString();
  EXPECT_EQ(queue.error().ToString().find("topsecret"), std::string::npos) << queue.error().ToString();
}

}  // namespace
}  // namespace sluice
