#pragma once
/// The TOML pipeline config (DESIGN.md, "Pipeline config"; reference in docs/configuration.md).
/// Loading is strict: an unknown key, a wrong type or a bad value is an error naming the file, the
/// line and the key. `${NAME}` in any string is replaced by the environment variable NAME.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sluice/core/error.hpp"
#include "sluice/core/retry.hpp"

namespace sluice {

/// Free-form options of one handler or source (`options = { … }`), read strictly by their owner.
/// Every accessor returns InvalidArgument naming "file:line: <where>.<key>" on a type mismatch.
/// Thread-safe for concurrent reads.
class Options {
 public:
  Options() = default;
  /// `values` is a JSON object; `lines` maps each key to its line in `file`; `where` is the dotted
  /// path of the table, e.g. "routes[0].options".
  Options(nlohmann::json values, std::map<std::string, int> lines, std::string file,
          std::string where);

  /// True when `key` is present.
  [[nodiscard]] bool Has(std::string_view key) const;
  /// A string option, or nullopt when absent.
  [[nodiscard]] Result<std::optional<std::string>> String(std::string_view key) const;
  /// A boolean option, or nullopt when absent.
  [[nodiscard]] Result<std::optional<bool>> Bool(std::string_view key) const;
  /// An integer option, or nullopt when absent.
  [[nodiscard]] Result<std::optional<std::int64_t>> Int(std::string_view key) const;
  /// A duration option written with units ("5s"), or nullopt when absent.
  [[nodiscard]] Result<std::optional<std::chrono::milliseconds>> Duration(std::string_view key) const;
  /// InvalidArgument naming the first key not in `known`.
  [[nodiscard]] Status CheckKeys(std::initializer_list<std::string_view> known) const;
  /// An InvalidArgument Error located at `key` (or at the table when `key` is empty).
  [[nodiscard]] Error MakeError(std::string_view key, std::string_view message) const;
  /// The raw JSON object.
  [[nodiscard]] const nlohmann::json& Json() const { return values_; }

 private:
  nlohmann::json values_ = nlohmann::json::object();
  std::map<std::string, int> lines_;
  std::string file_;
  std::string where_;
};

/// `[queue]`: where jobs live.
struct QueueConfig {
  std::string url;                                            ///< "sqlite://path" (resolved)
  std::chrono::milliseconds lease{std::chrono::seconds(30)};  ///< a claimed job's lease
};

/// `[engine]`: worker-pool behaviour.
struct EngineConfig {
  /// `listen = "host:port"`: serve /metrics and /healthz there under `sluice serve`; empty = off.
  std::string listen;
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};  ///< wait for running jobs
  std::chrono::milliseconds idle_poll{std::chrono::milliseconds(200)}; ///< claim retry when idle
  /// `state = "sqlite://path"` (resolved): where poll and listing sources keep what they listed
  /// (engine/sources/source_state.hpp). Empty = the queue's database when it is sqlite://.
  std::string state;
};

/// `[stores.NAME]`: an object store.
struct StoreConfig {
  std::string name;
  std::string url;       ///< "file:///abs", "file://rel" (to the config's folder), "s3://…", "memory://x"
  std::string endpoint;  ///< s3:// only: endpoint override
  std::string region;    ///< s3:// only
  std::string profile;   ///< s3:// only: AWS profile
  std::string checksum = "md5";  ///< s3:// only: "md5" (Content-MD5 and ETag checks) or "none"
  std::uint64_t multipart_threshold_bytes = 8ULL << 20;  ///< s3:// only: `multipart_threshold`
  std::uint64_t part_size_bytes = 8ULL << 20;            ///< s3:// only: `part_size`
  int parallelism = 8;  ///< s3:// only: uploads (PutObject, UploadPart) of the store in flight
};

/// `[tables.NAME]`: a table store (database).
struct TableConfig {
  std::string name;
  std::string url;  ///< "sqlite://path"
};

/// The `webhook` source's own keys (docs/configuration.md, "webhook"). Holds secrets: never log
/// `bearer` or `hmac_sha256`.
struct WebhookConfig {
  std::string host = "127.0.0.1";  ///< from `listen = "host:port"`
  int port = 8088;                 ///< from `listen`; 0 = an ephemeral port (tests)
  std::string path = "/events";    ///< where notifications are POSTed
  std::string bearer;              ///< `auth = { bearer = "${TOKEN}" }`: expected bearer token
  std::string hmac_sha256;         ///< `auth = { hmac_sha256 = "${SECRET}" }`: HMAC key
  std::string signature_header = "X-Signature";  ///< `auth.header`: where the HMAC hex is sent
  std::uint64_t max_body_bytes = 1ULL << 20;     ///< `max_body`: larger requests get 413
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};  ///< read/write waits
  bool confirm_subscriptions = false;  ///< GET an SNS SubscribeURL (else only log it)
};

/// `[[sources]]`: where events come from.
struct SourceConfig {
  std::string name;
  std::string type;    ///< "poll", "listing", "index", "webhook" or "amqp"
  /// poll: the store listed; index: the store the run ids' objects are in; webhook and amqp
  /// (optional): the store of events whose bucket is no s3:// store's
  std::string store;
  std::string prefix;  ///< poll, listing: listed prefix; index: key = prefix + id + suffix
  std::string suffix;  ///< poll, listing: only keys ending so; index: appended to each id
  std::chrono::milliseconds interval{std::chrono::seconds(5)};  ///< poll: pause between listings
  /// type "watch" (whose `store` must be a file:// store, and whose `interval` is the polling
  /// period): a file is emitted once its size and mtime have not changed for this long
  std::chrono::milliseconds stable_for{std::chrono::seconds(2)};
  /// watch: `mode`, "auto" (inotify unless the folder is on a network filesystem), "inotify" or
  /// "poll" (a rescan every `interval`)
  std::string watch_mode = "auto";
  /// poll: list only keys after the greatest key emitted so far (for layouts that only grow);
  /// objects changed below it are then not seen
  bool incremental = false;
  std::string index;   ///< index: URL of the index ("file:///…/index.txt" or "<store>:<key>")
  WebhookConfig webhook;  ///< webhook only
  std::string url;     ///< amqp: the broker, "amqp://user:pass@host:port/vhost[?queue=…]"
  std::string queue;        ///< amqp: the queue consumed (declared durable); overrides ?queue=
  std::string exchange;     ///< amqp: bind the queue to this exchange (RGW pushes to amq.topic)
  std::string routing_key;  ///< amqp: the binding key (RGW's routing key is the topic name)
  int line = 0;        ///< line of the [[sources]] header, for messages
};

/// `match = { … }` of a route.
struct RouteMatch {
  std::string store;                ///< required
  std::string prefix;               ///< key prefix, may be empty
  std::string suffix;               ///< key suffix, may be empty
  std::vector<std::string> events;  ///< kinds, '*' wildcard allowed; empty = ["ObjectCreated:*"]
};

/// `[[routes]]`: which events go to which handler, and how.
struct RouteConfig {
  std::string name;
  RouteMatch match;
  std::string handler;
  int concurrency = 1;  ///< jobs of this route running at once in one process
  RetryPolicy retry;
  /// `max_event_age`: a job whose event happened longer ago than this goes dead without running
  /// ("event is N old, older than max_event_age M"). Zero = no limit. Events without a time
  /// (epoch) are never too old.
  std::chrono::milliseconds max_event_age{0};
  /// `timeout`: how long one attempt may run; the handler's deadline is its start + timeout and
  /// cancellation is signalled when it passes; an attempt that overran fails as Timeout
  /// (retryable). Zero = no limit.
  std::chrono::milliseconds timeout{0};
  Options options;      ///< the handler's own options
  int line = 0;         ///< line of the [[routes]] header, for messages
};

/// A whole pipeline config.
struct PipelineConfig {
  std::filesystem::path file;  ///< the file it was read from
  QueueConfig queue;
  EngineConfig engine;
  std::map<std::string, StoreConfig> stores;
  std::map<std::string, TableConfig> tables;
  std::vector<SourceConfig> sources;
  std::vector<RouteConfig> routes;

  /// The route named `name`, or nullptr.
  [[nodiscard]] const RouteConfig* FindRoute(std::string_view name) const;
};

/// Splits `listen = "host:port"` (host optional: ":9464" binds 127.0.0.1). InvalidArgument
/// for a missing or out-of-range port. Thread-safe.
Result<std::pair<std::string, int>> ParseListenAddress(std::string_view text);

/// Reads and validates a pipeline config. Relative local URLs resolve against the file's folder.
/// Returns InvalidArgument ("file:line: key: reason") for syntax errors, unknown keys, wrong types,
/// bad durations, dangling store/table references and duplicate names; NotFound if the file is
/// missing; any of them for a `${NAME}` whose variable is unset. Thread-safe.
Result<PipelineConfig> LoadConfig(const std::filesystem::path& file);

/// Parses config text as if read from `file_name` (for tests). Same errors as LoadConfig.
Result<PipelineConfig> ParseConfig(std::string_view text, const std::filesystem::path& file_name);

/// Replaces every `${NAME}` in `text` with the environment variable NAME. Returns InvalidArgument
/// naming the variable when it is unset or the `${` is unterminated. Thread-safe.
Result<std::string> ExpandEnv(std::string_view text);

}  // namespace sluice
