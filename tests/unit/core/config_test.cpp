#include "sluice/core/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace sluice {
namespace {

using std::chrono::milliseconds;

// 1-based line of the first line of `text` containing `needle`.
int LineOf(std::string_view text, std::string_view needle) {
  const auto at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  int line = 1;
  for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr std::string_view kFullConfig = R"toml(
[queue]
url = "sqlite://state/queue.db"
lease = "45s"

[engine]
shutdown_grace = "10s"
idle_poll = "50ms"

[stores.incoming]
url = "file://incoming"

[stores.lake]
url = "file:///srv/lake/out"

[stores.remote]
url = "s3://bucket/prefix"
endpoint = "http://127.0.0.1:7480"
region = "us-east-1"
profile = "lab"

[tables.summary]
url = "sqlite://db/../summary.db"

[[sources]]
name = "summaries"
type = "poll"
store = "incoming"
prefix = "summary2/"
suffix = ".summary"
interval = "2s"

[[sources]]
name = "backfill"
type = "index"
store = "incoming"
prefix = "summary2/"
suffix = ".summary"
index = "file://lists/index.txt"

[[sources]]
name = "stored-index"
type = "index"
store = "incoming"
index = "lake:index.txt"

[[routes]]
name = "nucleotide"
match = { store = "incoming", prefix = "summary2/", suffix = ".summary", events = ["ObjectCreated:*", "ObjectRemoved:Delete"] }
handler = "serratus-summary"
concurrency = 4
retry = { max_attempts = 7, initial_backoff = "250ms", max_backoff = "1m" }

[routes.options]
kind = "nucleotide"
table = "summary"
strict = true
limit = 12
wait = "3s"
ratio = 0.5

[[routes]]
name = "defaults"
match = { store = "lake" }
handler = "noop"
)toml";

constexpr const char* kConfigPath = "/etc/sluice/pipeline.toml";

TEST(ParseConfig, ReadsEveryFieldOfAFullConfig) {
  auto config = ParseConfig(kFullConfig, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->file, std::filesystem::path(kConfigPath));

  EXPECT_EQ(config->queue.url, "sqlite:///etc/sluice/state/queue.db");
  EXPECT_EQ(config->queue.lease, milliseconds(45'000));
  EXPECT_EQ(config->engine.shutdown_grace, milliseconds(10'000));
  EXPECT_EQ(config->engine.idle_poll, milliseconds(50));

  ASSERT_EQ(config->stores.size(), 3u);
  EXPECT_EQ(config->stores.at("incoming").name, "incoming");
  EXPECT_EQ(config->stores.at("incoming").url, "file:///etc/sluice/incoming");
  EXPECT_EQ(config->stores.at("lake").url, "file:///srv/lake/out");
  const StoreConfig& remote = config->stores.at("remote");
  EXPECT_EQ(remote.url, "s3://bucket/prefix");
  EXPECT_EQ(remote.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(remote.region, "us-east-1");
  EXPECT_EQ(remote.profile, "lab");

  ASSERT_EQ(config->tables.size(), 1u);
  EXPECT_EQ(config->tables.at("summary").name, "summary");
  EXPECT_EQ(config->tables.at("summary").url, "sqlite:///etc/sluice/summary.db");

  ASSERT_EQ(config->sources.size(), 3u);
  const SourceConfig& poll = config->sources[0];
  EXPECT_EQ(poll.name, "summaries");
  EXPECT_EQ(poll.type, "poll");
  EXPECT_EQ(poll.store, "incoming");
  EXPECT_EQ(poll.prefix, "summary2/");
  EXPECT_EQ(poll.suffix, ".summary");
  EXPECT_EQ(poll.interval, milliseconds(2'000));
  EXPECT_EQ(poll.line, LineOf(kFullConfig, "name = \"summaries\"") - 1);
  const SourceConfig& index = config->sources[1];
  EXPECT_EQ(index.type, "index");
  EXPECT_EQ(index.index, "file:///etc/sluice/lists/index.txt");
  EXPECT_EQ(config->sources[2].index, "lake:index.txt");

  ASSERT_EQ(config->routes.size(), 2u);
  const RouteConfig& route = config->routes[0];
  EXPECT_EQ(route.name, "nucleotide");
  EXPECT_EQ(route.line, LineOf(kFullConfig, "name = \"nucleotide\"") - 1);
  EXPECT_EQ(route.handler, "serratus-summary");
  EXPECT_EQ(route.match.store, "incoming");
  EXPECT_EQ(route.match.prefix, "summary2/");
  EXPECT_EQ(route.match.suffix, ".summary");
  EXPECT_EQ(route.match.events, (std::vector<std::string>{"ObjectCreated:*", "ObjectRemoved:Delete"}));
  EXPECT_EQ(route.concurrency, 4);
  EXPECT_EQ(route.retry.max_attempts, 7);
  EXPECT_EQ(route.retry.initial_backoff, milliseconds(250));
  EXPECT_EQ(route.retry.max_backoff, milliseconds(60'000));
  EXPECT_EQ(route.options.Json().size(), 6u);
  EXPECT_EQ(route.options.String("kind").value(), "nucleotide");

  EXPECT_EQ(config->FindRoute("nucleotide"), &config->routes[0]);
  EXPECT_EQ(config->FindRoute("missing"), nullptr);
}

TEST(ParseConfig, FillsDefaultsForOmittedFields) {
  auto config = ParseConfig(kFullConfig, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  const RouteConfig& route = config->routes[1];
  EXPECT_EQ(route.name, "defaults");
  EXPECT_EQ(route.match.prefix, "");
  EXPECT_EQ(route.match.suffix, "");
  EXPECT_EQ(route.match.events, std::vector<std::string>{"ObjectCreated:*"});
  EXPECT_EQ(route.concurrency, 1);
  const RetryPolicy defaults;
  EXPECT_EQ(route.retry.max_attempts, defaults.max_attempts);
  EXPECT_EQ(route.retry.initial_backoff, defaults.initial_backoff);
  EXPECT_EQ(route.retry.max_backoff, defaults.max_backoff);
  EXPECT_TRUE(route.options.Json().empty());
  EXPECT_EQ(config->stores.at("lake").endpoint, "");

  auto minimal = ParseConfig("[queue]\nurl = \"sqlite:///q.db\"\n", kConfigPath);
  ASSERT_TRUE(minimal) << minimal.error().ToString();
  EXPECT_EQ(minimal->queue.lease, std::chrono::seconds(30));
  EXPECT_EQ(minimal->engine.shutdown_grace, std::chrono::seconds(30));
  EXPECT_EQ(minimal->engine.idle_poll, milliseconds(200));
  EXPECT_TRUE(minimal->routes.empty());
}

TEST(ParseConfig, ExpandsEnvironmentVariablesInStrings) {
  ASSERT_EQ(setenv("SLUICE_TEST_CONFIG_BUCKET", "lab-bucket", 1), 0);
  auto config = ParseConfig(R"toml(
[queue]
url = "sqlite:///q.db"
[stores.remote]
url = "s3://${SLUICE_TEST_CONFIG_BUCKET}/in"
)toml", kConfigPath);
  unsetenv("SLUICE_TEST_CONFIG_BUCKET");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->stores.at("remote").url, "s3://lab-bucket/in");
}

TEST(ParseConfig, UnsetEnvironmentVariableIsAnErrorNamingItAndTheKey) {
  unsetenv("SLUICE_TEST_CONFIG_UNSET");
  constexpr std::string_view text = R"toml(
[queue]
url = "sqlite:///q.db"
[stores.remote]
url = "s3://${SLUICE_TEST_CONFIG_UNSET}/in"
)toml";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  const std::string all = config.error().ToString();
  EXPECT_TRUE(Contains(all, "SLUICE_TEST_CONFIG_UNSET")) << all;
  EXPECT_TRUE(Contains(all, "stores.remote.url")) << all;
  EXPECT_TRUE(Contains(all, "pipeline.toml:5")) << all;
}

TEST(ParseConfig, UnknownTopLevelKeyIsAnErrorNamingFileLineAndKey) {
  constexpr std::string_view text = "colour = \"blue\"\n[queue]\nurl = \"sqlite:///q.db\"\n";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().context, "/etc/sluice/pipeline.toml:1: colour");
  EXPECT_TRUE(Contains(config.error().message, "unknown key")) << config.error().message;
}

constexpr std::string_view kRouteTypo = R"toml([queue]
url = "sqlite:///q.db"

[stores.in]
url = "memory://in"

[[routes]]
name = "r"
handler = "h"
match = { store = "in" }
concurency = 2
)toml";

TEST(ParseConfig, UnknownKeyInARouteNamesFileLineAndDottedKey) {
  auto config = ParseConfig(kRouteTypo, "pipeline.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  const std::string all = config.error().ToString();
  EXPECT_TRUE(Contains(all, "pipeline.toml")) << all;
  EXPECT_TRUE(Contains(all, ":11:")) << all;
  EXPECT_TRUE(Contains(all, "routes[0].concurency")) << all;
  EXPECT_EQ(config.error().context, "pipeline.toml:11: routes[0].concurency");
}

TEST(ParseConfig, UnknownKeyInsideMatchAndRetryIsRejected) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14, "retry = { max_attempts = 3, backof = \"1s\" }");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, "routes[0].retry.backof")) << config.error().ToString();

  text = std::string(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14, "");
  text.replace(text.find("{ store = \"in\" }"), 16, "{ store = \"in\", sufix = \".x\" }");
  config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, "routes[0].match.sufix")) << config.error().ToString();
}

TEST(ParseConfig, WrongTypeIsAnErrorNamingTheKey) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14, "concurrency = \"2\"");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().context, "/etc/sluice/pipeline.toml:11: routes[0].concurrency");
  EXPECT_TRUE(Contains(config.error().message, "integer")) << config.error().message;

  config = ParseConfig("[queue]\nurl = 5\n", kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, ":2: queue.url")) << config.error().ToString();
  EXPECT_TRUE(Contains(config.error().message, "string")) << config.error().message;
}

TEST(ParseConfig, OutOfRangeConcurrencyIsRejected) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14, "concurrency = 0");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, "routes[0].concurrency")) << config.error().ToString();
}

TEST(ParseConfig, BadDurationIsAnErrorNamingKeyAndValue) {
  constexpr std::string_view text = "[queue]\nurl = \"sqlite:///q.db\"\n[engine]\nidle_poll = \"fast\"\n";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(config.error().context, "/etc/sluice/pipeline.toml:4: engine.idle_poll");
  EXPECT_TRUE(Contains(config.error().message, "fast")) << config.error().message;
}

TEST(ParseConfig, MaxBackoffBelowInitialBackoffIsRejected) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14,
               "retry = { initial_backoff = \"10s\", max_backoff = \"1s\" }");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, "routes[0].retry.max_backoff")) << config.error().ToString();
}

TEST(ParseConfig, RouteReferencingAnUndefinedStoreIsRejected) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14, "");
  text.replace(text.find("{ store = \"in\" }"), 16, "{ store = \"nowhere\" }");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  const std::string all = config.error().ToString();
  EXPECT_TRUE(Contains(all, "'nowhere'")) << all;
  EXPECT_TRUE(Contains(all, "pipeline.toml:7")) << all;
  EXPECT_TRUE(Contains(all, "route 'r'")) << all;
}

TEST(ParseConfig, SourceReferencingAnUndefinedStoreIsRejected) {
  constexpr std::string_view text = R"toml([queue]
url = "sqlite:///q.db"
[[sources]]
name = "s"
type = "poll"
store = "ghost"
)toml";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().ToString(), "'ghost'")) << config.error().ToString();
}

TEST(ParseConfig, DuplicateRouteNamesAreRejected) {
  std::string text(kRouteTypo);
  text.replace(text.find("concurency = 2"), 14,
               "\n[[routes]]\nname = \"r\"\nhandler = \"other\"\nmatch = { store = \"in\" }");
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(Contains(config.error().message, "duplicate route name")) << config.error().ToString();
  EXPECT_TRUE(Contains(config.error().context, "route 'r'")) << config.error().ToString();
}

TEST(ParseConfig, UnknownSourceTypeIsRejected) {
  constexpr std::string_view text = R"toml([queue]
url = "sqlite:///q.db"
[stores.in]
url = "memory://in"
[[sources]]
name = "s"
type = "carrier-pigeon"
store = "in"
)toml";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().ToString(), "carrier-pigeon")) << config.error().ToString();
  EXPECT_TRUE(Contains(config.error().context, ":7: sources[0].type")) << config.error().ToString();
}

TEST(ParseConfig, AmqpQueueAndAmqpSourceAreReadWithTheirBinding) {
  constexpr std::string_view text = R"toml([queue]
url = "amqp://guest:guest@127.0.0.1:5673/%2f?queue=jobs"
[stores.in]
url = "memory://in"
[[sources]]
name = "rgw"
type = "amqp"
store = "in"
url = "amqp://guest:guest@127.0.0.1:5673/%2f"
queue = "rgw-events"
exchange = "amq.topic"
routing_key = "objtopic"
)toml";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->queue.url, "amqp://guest:guest@127.0.0.1:5673/%2f?queue=jobs");
  ASSERT_EQ(config->sources.size(), 1u);
  const SourceConfig& source = config->sources[0];
  EXPECT_EQ(source.type, "amqp");
  EXPECT_EQ(source.url, "amqp://guest:guest@127.0.0.1:5673/%2f");
  EXPECT_EQ(source.queue, "rgw-events");
  EXPECT_EQ(source.exchange, "amq.topic");
  EXPECT_EQ(source.routing_key, "objtopic");
}

TEST(ParseConfig, AmqpSourceWithoutAnAmqpUrlIsRejectedNamingTheKey) {
  constexpr std::string_view text = R"toml([queue]
url = "sqlite:///q.db"
[stores.in]
url = "memory://in"
[[sources]]
name = "rgw"
type = "amqp"
store = "in"
url = "http://127.0.0.1:5673/"
)toml";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_TRUE(Contains(config.error().context, "sources[0].url")) << config.error().ToString();
}

TEST(ParseConfig, MissingQueueIsRejected) {
  auto config = ParseConfig("[stores.in]\nurl = \"memory://in\"\n", kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(Contains(config.error().ToString(), "queue")) << config.error().ToString();
}

TEST(ParseConfig, TomlSyntaxErrorNamesFileAndLine) {
  constexpr std::string_view text = "[queue]\nurl = \"sqlite:///q.db\"\nlease = \n";
  auto config = ParseConfig(text, kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(config.error().context.starts_with("/etc/sluice/pipeline.toml:3:"))
      << config.error().ToString();
}

TEST(LoadConfig, MissingFileIsNotFound) {
  auto config = LoadConfig("/nonexistent/sluice/pipeline.toml");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::NotFound);
}

TEST(LoadConfig, ResolvesRelativeUrlsAgainstTheFilesFolder) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sluice_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "pipeline.toml";
  {
    std::ofstream out(file);
    out << "[queue]\nurl = \"sqlite://queue.db\"\n[stores.in]\nurl = \"file://in\"\n";
  }
  auto config = LoadConfig(file);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->queue.url, "sqlite://" + (dir / "queue.db").string());
  EXPECT_EQ(config->stores.at("in").url, "file://" + (dir / "in").string());
}

// Options, as handlers read them.

Options RouteOptions(const PipelineConfig& config) { return config.routes.at(0).options; }

TEST(Options, AccessorsReturnTypedValuesAndNulloptWhenAbsent) {
  auto config = ParseConfig(kFullConfig, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  const Options options = RouteOptions(*config);
  EXPECT_TRUE(options.Has("kind"));
  EXPECT_FALSE(options.Has("missing"));
  EXPECT_EQ(options.String("kind").value(), std::optional<std::string>("nucleotide"));
  EXPECT_EQ(options.Bool("strict").value(), std::optional<bool>(true));
  EXPECT_EQ(options.Int("limit").value(), std::optional<std::int64_t>(12));
  EXPECT_EQ(options.Duration("wait").value(), std::optional<milliseconds>(milliseconds(3'000)));
  EXPECT_EQ(options.String("missing").value(), std::nullopt);
  EXPECT_EQ(options.Bool("missing").value(), std::nullopt);
  EXPECT_EQ(options.Int("missing").value(), std::nullopt);
  EXPECT_EQ(options.Duration("missing").value(), std::nullopt);
  EXPECT_DOUBLE_EQ(options.Json().at("ratio").get<double>(), 0.5);
}

TEST(Options, TypeMismatchNamesFileLineAndDottedKey) {
  auto config = ParseConfig(kFullConfig, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  const Options options = RouteOptions(*config);
  const int kind_line = LineOf(kFullConfig, "kind = \"nucleotide\"");

  auto as_int = options.Int("kind");
  ASSERT_FALSE(as_int);
  EXPECT_EQ(as_int.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(as_int.error().context,
            "/etc/sluice/pipeline.toml:" + std::to_string(kind_line) + ": routes[0].options.kind");

  EXPECT_FALSE(options.Bool("limit"));
  EXPECT_FALSE(options.String("strict"));
  EXPECT_FALSE(options.Int("ratio"));
  auto duration = options.Duration("kind");
  ASSERT_FALSE(duration);
  EXPECT_TRUE(Contains(duration.error().message, "nucleotide")) << duration.error().message;
}

TEST(Options, CheckKeysNamesTheFirstUnknownKeyWithFileAndLine) {
  auto config = ParseConfig(kFullConfig, kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  const Options options = RouteOptions(*config);
  EXPECT_TRUE(options.CheckKeys({"kind", "table", "strict", "limit", "wait", "ratio"}));

  auto status = options.CheckKeys({"kind", "table", "strict", "limit", "ratio"});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(status.error().context, "/etc/sluice/pipeline.toml:" +
                                        std::to_string(LineOf(kFullConfig, "wait = \"3s\"")) +
                                        ": routes[0].options.wait");
  EXPECT_TRUE(Contains(status.error().message, "unknown key")) << status.error().message;
}

TEST(Options, BuiltDirectlyReportTheGivenLines) {
  const Options options(nlohmann::json{{"colour", "blue"}}, {{"colour", 42}}, "x.toml",
                        "sources[1].options");
  auto status = options.CheckKeys({"color"});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().context, "x.toml:42: sources[1].options.colour");
  EXPECT_EQ(options.MakeError("", "bad table").context, "x.toml: sources[1].options");
}

// ExpandEnv, directly.

TEST(ExpandEnv, ReplacesSetVariablesAndKeepsTheRest) {
  ASSERT_EQ(setenv("SLUICE_TEST_EXPAND_A", "alpha", 1), 0);
  ASSERT_EQ(setenv("SLUICE_TEST_EXPAND_B", "", 1), 0);
  EXPECT_EQ(ExpandEnv("x-${SLUICE_TEST_EXPAND_A}-${SLUICE_TEST_EXPAND_B}-${SLUICE_TEST_EXPAND_A}").value(),
            "x-alpha--alpha");
  EXPECT_EQ(ExpandEnv("no variables, $HOME and {braces}").value(), "no variables, $HOME and {braces}");
  unsetenv("SLUICE_TEST_EXPAND_A");
  unsetenv("SLUICE_TEST_EXPAND_B");
}

TEST(ExpandEnv, UnsetVariableIsAnErrorNamingIt) {
  unsetenv("SLUICE_TEST_EXPAND_MISSING");
  auto expanded = ExpandEnv("token=${SLUICE_TEST_EXPAND_MISSING}");
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(Contains(expanded.error().ToString(), "SLUICE_TEST_EXPAND_MISSING"))
      << expanded.error().ToString();
}

TEST(ExpandEnv, UnterminatedReferenceIsAnError) {
  auto expanded = ExpandEnv("abc ${HOME");
  ASSERT_FALSE(expanded);
  EXPECT_EQ(expanded.error().code, ErrorCode::InvalidArgument);
  EXPECT_TRUE(Contains(expanded.error().message, "unterminated")) << expanded.error().message;
}


TEST(ParseConfig, ReadsTheS3TuningKeysOfAStore) {
  auto config = ParseConfig(R"toml(
[queue]
url = "sqlite:///q.db"
[stores.raw]
url = "s3://bucket/prefix"
endpoint = "http://127.0.0.1:7480"
checksum = "none"
multipart_threshold = "16MiB"
part_size = "5MiB"
parallelism = 4
)toml", kConfigPath);
  ASSERT_TRUE(config) << config.error().ToString();
  const StoreConfig& store = config->stores.at("raw");
  EXPECT_EQ(store.checksum, "none");
  EXPECT_EQ(store.multipart_threshold_bytes, 16u << 20);
  EXPECT_EQ(store.part_size_bytes, 5u << 20);
  EXPECT_EQ(store.parallelism, 4);
}

TEST(ParseConfig, AChecksumOtherThanMd5OrNoneIsAnErrorNamingTheKey) {
  auto config = ParseConfig("[queue]\nurl = \"sqlite:///q.db\"\n[stores.raw]\nurl = \"s3://b\"\nchecksum = \"crc32\"\n",
                            kConfigPath);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(config.error().ToString().find("stores.raw.checksum"), std::string::npos)
      << config.error().ToString();
  EXPECT_NE(config.error().ToString().find(":5"), std::string::npos) << config.error().ToString();
}

// --- webhook sources and engine.listen -------------------------------------------------------

constexpr std::string_view kWebhookBase = R"toml(
[queue]
url = "sqlite:///tmp/q.db"
[stores.in]
url = "memory://in"
)toml";

Result<PipelineConfig> ParseWebhook(std::string_view source) {
  return ParseConfig(std::string(kWebhookBase) + std::string(source), "/etc/sluice/p.toml");
}

TEST(ConfigWebhook, EveryKeyIsRead) {
  ::setenv("SLUICE_TEST_WEBHOOK_TOKEN", "s3cret", 1);
  auto config = ParseWebhook(R"toml(
[engine]
listen = "127.0.0.1:9464"
[[sources]]
name = "hooks"
type = "webhook"
listen = "0.0.0.0:8089"
path = "/s3"
store = "in"
auth = { bearer = "${SLUICE_TEST_WEBHOOK_TOKEN}" }
max_body = "2MiB"
request_timeout = "3s"
confirm_subscriptions = true
)toml");
  ASSERT_TRUE(config) << config.error().ToString();
  const WebhookConfig& w = config->sources.at(0).webhook;
  EXPECT_EQ(config->engine.listen, "127.0.0.1:9464");
  EXPECT_EQ(w.host, "0.0.0.0");
  EXPECT_EQ(w.port, 8089);
  EXPECT_EQ(w.path, "/s3");
  EXPECT_EQ(w.bearer, "s3cret");
  EXPECT_TRUE(w.hmac_sha256.empty());
  EXPECT_EQ(w.max_body_bytes, 2u << 20);
  EXPECT_EQ(w.request_timeout, milliseconds(3000));
  EXPECT_TRUE(w.confirm_subscriptions);
  EXPECT_EQ(config->sources.at(0).store, "in");
}

TEST(ConfigWebhook, DefaultsNeedNoStoreAndBindLoopback) {
  auto config = ParseWebhook("[[sources]]\nname = \"hooks\"\ntype = \"webhook\"\n");
  ASSERT_TRUE(config) << config.error().ToString();
  const WebhookConfig& w = config->sources.at(0).webhook;
  EXPECT_EQ(w.host, "127.0.0.1");
  EXPECT_EQ(w.port, 8088);
  EXPECT_EQ(w.path, "/events");
  EXPECT_EQ(w.max_body_bytes, 1u << 20);
  EXPECT_FALSE(w.confirm_subscriptions);
  EXPECT_TRUE(config->engine.listen.empty());
}

TEST(ConfigWebhook, HmacWithHeaderIsRead) {
  auto config = ParseWebhook(
      "[[sources]]\nname = \"hooks\"\ntype = \"webhook\"\nauth = { hmac_sha256 = \"k\", header = \"X-Sig\" }\n");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->sources.at(0).webhook.hmac_sha256, "k");
  EXPECT_EQ(config->sources.at(0).webhook.signature_header, "X-Sig");
}

TEST(ConfigWebhook, BadValuesAreRefusedWithTheirKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"listen = \"localhost\"", "sources[0].listen"},
      {"listen = \"127.0.0.1:70000\"", "sources[0].listen"},
      {"path = \"events\"", "sources[0].path"},
      {"path = \"/metrics\"", "sources[0].path"},
      {"max_body = \"lots\"", "sources[0].max_body"},
      {"auth = { bearer = \"a\", hmac_sha256 = \"b\" }", "sources[0].auth"},
      {"auth = { bearer = \"\" }", "sources[0].auth.bearer"},
      {"auth = { bearer = \"a\", header = \"X\" }", "sources[0].auth.header"},
      {"auth = { token = \"a\" }", "sources[0].auth"},
      {"store = \"nowhere\"", "store 'nowhere' is not defined"},
      {"confirm_subscriptions = \"yes\"", "sources[0].confirm_subscriptions"},
  };
  for (const auto& [line, expected] : cases) {
    auto config = ParseWebhook("[[sources]]\nname = \"hooks\"\ntype = \"webhook\"\n" + line + "\n");
    ASSERT_FALSE(config) << line;
    EXPECT_TRUE(Contains(config.error().ToString(), expected)) << line << " → " << config.error().ToString();
  }
}

TEST(ConfigWebhook, SecretsDoNotAppearInErrors) {
  auto config = ParseWebhook(
      "[[sources]]\nname = \"hooks\"\ntype = \"webhook\"\nauth = { bearer = \"hunter2\", header = \"X\" }\n");
  ASSERT_FALSE(config);
  EXPECT_FALSE(Contains(config.error().ToString(), "hunter2"));
}

TEST(ConfigListen, HostIsOptionalAndPortRequired) {
  auto address = ParseListenAddress(":9464");
  ASSERT_TRUE(address) << address.error().ToString();
  EXPECT_EQ(address->first, "127.0.0.1");
  EXPECT_EQ(address->second, 9464);
  address = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(address) << address.error().ToString();
  EXPECT_EQ(address->first, "::1");
  EXPECT_EQ(address->second, 0);
  EXPECT_FALSE(ParseListenAddress("127.0.0.1"));
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:"));
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:http"));
}

}  // namespace
}  // namespace sluice
