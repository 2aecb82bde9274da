#include "sluice/engine/sources/webhook.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sluice/core/hash.hpp"
#include "sluice/core/http_client.hpp"
#include "sluice/engine/engine.hpp"
#include "sluice/engine/queue/queue.hpp"
#include "sluice/engine/router.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using Json = nlohmann::json;
using testing::TempDir;

constexpr char kToken[] = "t0ken-for-tests";

std::string AwsBody(const std::string& key, const std::string& bucket = "lab-incoming") {
  const Json record = {
      {"eventVersion", "2.1"}, {"eventSource", "aws:s3"}, {"awsRegion", "us-west-2"},
      {"eventTime", "2026-11-21T09:15:30.000Z"}, {"eventName", "ObjectCreated:Put"},
      {"s3", {{"s3SchemaVersion", "1.0"}, {"bucket", {{"name", bucket}}},
              {"object", {{"key", key}, {"size", 42}, {"eTag", "0123456789abcdef0123456789abcdef"},
                          {"sequencer", "0055AED6DCD90281E5"}}}}}};
  return Json{{"Records", Json::array({record})}}.dump();
}

HttpServerRequest Request(std::string body, HttpHeaders headers) {
  HttpServerRequest request;
  request.method = "POST";
  request.path = "/events";
  request.body = std::move(body);
  request.headers = std::move(headers);
  return request;
}

// --- authentication ----------------------------------------------------------------------

TEST(WebhookAuth, BearerTokenMustMatchExactly) {
  WebhookConfig config;
  config.bearer = kToken;
  EXPECT_TRUE(WebhookAuthorized(config, Request("{}", {{"Authorization", std::string("Bearer ") + kToken}})));
  EXPECT_TRUE(WebhookAuthorized(config, Request("{}", {{"authorization", std::string("bearer  ") + kToken}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request("{}", {{"Authorization", "Bearer t0ken-for-test"}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request("{}", {{"Authorization", std::string("Bearer ") + kToken + "x"}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request("{}", {{"Authorization", std::string("Basic ") + kToken}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request("{}", {})));
  EXPECT_FALSE(WebhookAuthorized(config, Request("{}", {{"Authorization", "Bearer "}})));
}

TEST(WebhookAuth, HmacSignatureOfTheBodyIsAcceptedInHexWithOrWithoutPrefix) {
  WebhookConfig config;
  config.hmac_sha256 = "hmac-key";
  config.signature_header = "X-Hub-Signature-256";
  const std::string body = AwsBody("a.txt");
  const std::string hex = ToHex(HmacSha256("hmac-key", body));
  EXPECT_TRUE(WebhookAuthorized(config, Request(body, {{"x-hub-signature-256", hex}})));
  EXPECT_TRUE(WebhookAuthorized(config, Request(body, {{"X-Hub-Signature-256", "sha256=" + hex}})));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(WebhookAuthorized(config, Request(body, {{"X-Hub-Signature-256", upper}})));
  // A changed body, a signature under another key, or no signature at all are refused.
  EXPECT_FALSE(WebhookAuthorized(config, Request(body + " ", {{"X-Hub-Signature-256", hex}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request(body, {{"X-Hub-Signature-256", ToHex(HmacSha256("other", body))}})));
  EXPECT_FALSE(WebhookAuthorized(config, Request(body, {{"X-Signature", hex}})));
}

TEST(WebhookAuth, HmacSha256MatchesRfc4231TestCase2) {
  // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookAuth, NoAuthConfiguredAllowsEverything) {
  EXPECT_TRUE(WebhookAuthorized(WebhookConfig{}, Request("{}", {})));
}

// --- the source on a real socket, over a sqlite:// queue -----------------------------------

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto queue = MakeQueue("sqlite://" + (dir_ / "queue.db").string());
    ASSERT_TRUE(queue) << queue.error().ToString();
    queue_ = std::move(*queue);
    route_.name = "incoming";
    route_.match.store = "in";
    route_.match.events = {"ObjectCreated:*"};
  }
  void TearDown() override {
    if (source_) source_->Stop();
  }

  void Start(SourceConfig config) {
    config.name = "hooks";
    config.type = "webhook";
    config.webhook.host = "127.0.0.1";
    config.webhook.port = 0;
    std::map<std::string, StoreConfig> stores;
    StoreConfig in;
    in.name = "in";
    in.url = "s3://lab-incoming/raw";
    stores["in"] = in;
    StoreConfig local;
    local.name = "local";
    local.url = "file:///tmp/local";
    stores["local"] = local;
    source_ = std::make_unique<WebhookSource>(std::move(config), std::move(stores));
    PushContext context;
    context.sink = [this](std::vector<Event> events) -> Status {
      std::vector<NewJob> jobs;
      for (auto& event : events) {
        for (auto& job : RouteEvent({route_}, event)) jobs.push_back(std::move(job));
      }
      SLUICE_ASSIGN_OR_RETURN(int added, queue_->Enqueue(jobs));
      (void)added;
      return Ok();
    };
    if (sink_override_) context.sink = sink_override_;
    context.metrics = &metrics_;
    auto started = source_->Start(std::move(context));
    ASSERT_TRUE(started) << started.error().ToString();
    ASSERT_GT(source_->Port(), 0);
  }

  SourceConfig BearerConfig() {
    SourceConfig config;
    config.webhook.bearer = kToken;
    return config;
  }

  Result<HttpResponse> Post(std::string_view body, HttpHeaders headers, std::string path = "/events",
                            std::string method = "POST") {
    HttpRequest request;
    request.method = std::move(method);
    request.url = fmt::format("http://127.0.0.1:{}{}", source_->Port(), path);
    request.headers = std::move(headers);
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    return client_.Send(request);
  }

  std::vector<Job> Jobs() {
    auto jobs = queue_->List(std::nullopt, 0);
    EXPECT_TRUE(jobs) << jobs.error().ToString();
    return jobs ? *jobs : std::vector<Job>{};
  }

  TempDir dir_;
  std::unique_ptr<Queue> queue_;
  RouteConfig route_;
  MetricsRegistry metrics_;
  std::unique_ptr<WebhookSource> source_;
  EventSink sink_override_;
  HttpClient client_;
};

const HttpHeaders kGoodAuth = {{"Authorization", std::string("Bearer ") + kToken}};

TEST_F(WebhookServerTest, GoodAwsBodyIsAnswered200AfterTheJobIsInTheQueue) {
  Start(BearerConfig());
  auto response = Post(AwsBody("raw/summary2/ERR1+copy.summary"), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->body, "accepted 1 event(s)\n");
  // The sink returned before the answer, so the job is already committed.
  const auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].route, "incoming");
  EXPECT_EQ(jobs[0].state, JobState::Pending);
  EXPECT_EQ(jobs[0].event.store, "in");
  EXPECT_EQ(jobs[0].event.key, "summary2/ERR1 copy.summary");  // decoded, relative to s3://lab-incoming/raw
  EXPECT_EQ(jobs[0].event.size_bytes, 42u);
  EXPECT_EQ(jobs[0].event.sequencer, "0055AED6DCD90281E5");
  EXPECT_EQ(metrics_.Value("sluice_webhook_requests_total", {{"source", "hooks"}, {"code", "200"}}), 1);
}

TEST_F(WebhookServerTest, WrongTokenIsRejectedWith401AndNothingIsEnqueued) {
  Start(BearerConfig());
  auto response = Post(AwsBody("raw/a"), {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->Header("WWW-Authenticate").value_or(""), "Bearer");
  EXPECT_EQ(response->body.find(kToken), std::string::npos);
  response = Post(AwsBody("raw/a"), {});
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 401);
  EXPECT_TRUE(Jobs().empty());
  EXPECT_EQ(metrics_.Value("sluice_webhook_requests_total", {{"source", "hooks"}, {"code", "401"}}), 2);
}

TEST_F(WebhookServerTest, WrongHmacSignatureIsRejectedWith401AndARightOneAccepted) {
  SourceConfig config;
  config.webhook.hmac_sha256 = "hmac-key";
  Start(config);
  const std::string body = AwsBody("raw/signed");
  auto response = Post(body, {{"X-Signature", ToHex(HmacSha256("not-the-key", body))}});
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 401);
  EXPECT_TRUE(Jobs().empty());
  response = Post(body, {{"X-Signature", "sha256=" + ToHex(HmacSha256("hmac-key", body))}});
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(Jobs().size(), 1u);
}

TEST_F(WebhookServerTest, GarbageIsRejectedWith400AndAReason) {
  Start(BearerConfig());
  auto response = Post("this is not json", kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("not JSON at byte"), std::string::npos) << response->body;

  response = Post(R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]})", kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("Records[0].s3.object is missing"), std::string::npos) << response->body;
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(WebhookServerTest, BucketWithoutAStoreIsRejectedWith400UnlessTheSourceNamesOne) {
  Start(BearerConfig());
  auto response = Post(AwsBody("k", "someone-elses-bucket"), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("someone-elses-bucket"), std::string::npos) << response->body;
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(WebhookServerTest, FallbackStoreTakesBucketsOfNoS3Store) {
  SourceConfig config = BearerConfig();
  config.store = "local";
  route_.match.store = "local";
  Start(config);
  auto response = Post(AwsBody("data/x.parquet", "notif-bucket"), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200) << response->body;
  const auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].event.store, "local");
  EXPECT_EQ(jobs[0].event.key, "data/x.parquet");
}

TEST_F(WebhookServerTest, BodyOf100MBIsRejectedWith413) {
  Start(BearerConfig());
  constexpr std::uint64_t kSize = 100ULL << 20;
  HttpRequest request;
  request.method = "POST";
  request.url = fmt::format("http://127.0.0.1:{}/events", source_->Port());
  request.headers = kGoodAuth;
  // Streamed from one small buffer: 100 MB are sent, never held.
  request.body_source = [](std::uint64_t offset, std::span<char> buffer) -> Result<std::size_t> {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), kSize - offset));
    std::memset(buffer.data(), ' ', n);
    return n;
  };
  request.body_size_bytes = kSize;
  auto response = client_.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(WebhookServerTest, WrongMethodIs405AndUnknownPathIs404) {
  Start(BearerConfig());
  auto response = Post("", kGoodAuth, "/events", "GET");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->Header("Allow").value_or(""), "POST");
  response = Post(AwsBody("raw/a"), kGoodAuth, "/elsewhere");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(WebhookServerTest, SnsConfirmationIsLoggedNotFetchedByDefault) {
  Start(BearerConfig());
  const Json body = {{"Type", "SubscriptionConfirmation"}, {"Token", "abc"}, {"Message", "confirm"},
                     {"SubscribeURL", "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=abc"}};
  auto response = Post(body.dump(), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("not confirmed"), std::string::npos);
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(WebhookServerTest, SnsConfirmationOutsideAwsIsRefusedEvenWhenAllowed) {
  SourceConfig config = BearerConfig();
  config.webhook.confirm_subscriptions = true;
  Start(config);
  const Json body = {{"Type", "SubscriptionConfirmation"}, {"Message", "confirm"},
                     {"SubscribeURL", "http://127.0.0.1:1/internal?Token=abc"}};
  auto response = Post(body.dump(), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("sns.<region>.amazonaws.com"), std::string::npos) << response->body;
}

TEST_F(WebhookServerTest, MetricsAndHealthAreServedOnTheSamePortWithoutAuth) {
  Start(BearerConfig());
  ASSERT_TRUE(Post(AwsBody("raw/m"), kGoodAuth));
  auto response = Post("", {}, "/metrics", "GET");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Content-Type").value_or(""), kPrometheusContentType);
  EXPECT_NE(response->body.find("sluice_webhook_requests_total{code=\"200\",source=\"hooks\"} 1\n"),
            std::string::npos) << response->body;
  response = Post("", {}, "/healthz", "GET");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
}

TEST_F(WebhookServerTest, SinkFailureIsAnswered503SoTheSenderRetries) {
  sink_override_ = [](std::vector<Event>) -> Status { return Fail(ErrorCode::Transient, "database is locked"); };
  Start(BearerConfig());
  auto response = Post(AwsBody("raw/x"), kGoodAuth);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_NE(response->body.find("database is locked"), std::string::npos) << response->body;
  EXPECT_TRUE(Jobs().empty());
}

// --- through Engine::Serve --------------------------------------------------------------------

class NoopHandler final : public Handler {
 public:
  Result<Outcome> Handle(const Event&, HandlerContext&) override {
    Outcome outcome;
    outcome.bytes_written = 10;
    return outcome;
  }
};

int FreePort() {
  auto server = HttpServer::Start(HttpServerOptions{}, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  return server ? (*server)->Port() : 0;
}

TEST(WebhookEngine, ServeStartsTheWebhookAndRunsItsJobsAndCountsThem) {
  TempDir dir;
  const int webhook_port = FreePort();
  const int metrics_port = FreePort();
  ASSERT_GT(webhook_port, 0);
  const std::string text = fmt::format(R"toml(
[queue]
url = "sqlite://{dir}/queue.db"
[engine]
idle_poll = "20ms"
listen = "127.0.0.1:{metrics}"
[stores.in]
url = "memory://webhook-engine-test"
[[sources]]
name = "hooks"
type = "webhook"
store = "in"
listen = "127.0.0.1:{webhook}"
auth = {{ bearer = "{token}" }}
[[routes]]
name = "noop"
match = {{ store = "in" }}
handler = "noop"
)toml", fmt::arg("dir", dir.Path().string()), fmt::arg("metrics", metrics_port),
                                       fmt::arg("webhook", webhook_port), fmt::arg("token", kToken));
  auto config = ParseConfig(text, dir / "pipeline.toml");
  ASSERT_TRUE(config) << config.error().ToString();
  HandlerRegistry registry;
  registry.Register("noop", [](const Options&, const Resources&) -> Result<std::unique_ptr<Handler>> {
    return std::make_unique<NoopHandler>();
  });
  auto engine = Engine::Open(std::move(*config), registry);
  ASSERT_TRUE(engine) << engine.error().ToString();
  std::atomic<bool> stop{false};
  Result<RunReport> report = Fail(ErrorCode::Internal, "not run");
  std::thread serve([&] { report = (*engine)->Serve(stop); });

  HttpClient client;
  HttpRequest post;
  post.method = "POST";
  post.url = fmt::format("http://127.0.0.1:{}/events", webhook_port);
  post.headers = kGoodAuth;
  const std::string body = AwsBody("runs/a.txt");
  post.body = body;
  Result<HttpResponse> response = Fail(ErrorCode::Transient, "not sent");
  for (int i = 0; i < 200; ++i) {  // the server starts on Serve's thread
    response = client.Send(post);
    if (response) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200) << response->body;

  // The job runs; the metrics endpoint shows it. The attempt is counted when the handler returns,
  // and the queue marks the job succeeded a moment later (in a batch): wait for both.
  std::string metrics;
  for (int i = 0; i < 300; ++i) {
    HttpRequest get;
    get.url = fmt::format("http://127.0.0.1:{}/metrics", metrics_port);
    auto scraped = client.Send(get);
    if (scraped &&
        scraped->body.find("sluice_job_attempts_total{result=\"succeeded\",route=\"noop\"} 1") != std::string::npos &&
        scraped->body.find("sluice_jobs{route=\"noop\",state=\"succeeded\"} 1\n") != std::string::npos) {
      metrics = scraped->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  serve.join();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report->succeeded, 1);
  ASSERT_FALSE(metrics.empty()) << "the attempt never showed in /metrics";
  EXPECT_NE(metrics.find("sluice_events_received_total{source=\"hooks\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_jobs{route=\"noop\",state=\"succeeded\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_dlq_size{route=\"noop\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_handler_bytes_written_total{route=\"noop\"} 10\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sluice_job_attempt_duration_seconds_count{route=\"noop\"} 1\n"), std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace sluice
