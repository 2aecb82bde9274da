#include "sluice/core/config.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "sluice/core/units.hpp"
#include "sluice/core/uri.hpp"

namespace sluice {
namespace {

// Reads one TOML table strictly: each accessor records the key as known, and Finish() reports the
// first key nobody asked for. Every error names file:line and the dotted key.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string where)
      : table_(table), file_(std::move(file)), where_(std::move(where)) {}

  Error MakeError(std::string_view key, std::string_view message) const {
    int line = static_cast<int>(table_.source().begin.line);
    if (const toml::node* node = key.empty() ? nullptr : table_.get(key)) {
      line = static_cast<int>(node->source().begin.line);
    }
    std::string at = where_;
    if (!key.empty()) {
      if (!at.empty()) at.push_back('.');
      at.append(key);
    }
    return Error{ErrorCode::InvalidArgument, std::string(message),
                 fmt::format("{}:{}: {}", file_, line, at)};
  }

  Result<std::optional<std::string>> String(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_string();
    if (value == nullptr) return Fail(MakeError(key, "expected a string"));
    auto expanded = ExpandEnv(value->get());
    if (!expanded) return Fail(MakeError(key, expanded.error().message));
    return std::optional<std::string>(std::move(*expanded));
  }

  Result<std::string> RequireString(std::string_view key) {
    SLUICE_ASSIGN_OR_RETURN(auto value, String(key));
    if (!value || value->empty()) return Fail(MakeError(key, "is required"));
    return *value;
  }

  Result<std::optional<std::int64_t>> Int(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_integer();
    if (value == nullptr) return Fail(MakeError(key, "expected an integer"));
    return std::optional<std::int64_t>(value->get());
  }

  Result<std::optional<bool>> Bool(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_boolean();
    if (value == nullptr) return Fail(MakeError(key, "expected true or false"));
    return std::optional<bool>(value->get());
  }

  Result<std::optional<std::chrono::milliseconds>> Duration(std::string_view key) {
    SLUICE_ASSIGN_OR_RETURN(auto text, String(key));
    if (!text) return std::nullopt;
    auto parsed = ParseDuration(*text);
    if (!parsed) return Fail(MakeError(key, parsed.error().message));
    return std::optional<std::chrono::milliseconds>(*parsed);
  }

  Result<const toml::table*> Table(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    const auto* table = node->as_table();
    if (table == nullptr) return Fail(MakeError(key, "expected a table"));
    return table;
  }

  Result<const toml::array*> Array(std::string_view key) {
    known_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (node == nullptr) return static_cast<const toml::array*>(nullptr);
    const auto* array = node->as_array();
    if (array == nullptr) return Fail(MakeError(key, "expected an array"));
    return array;
  }

  Status Finish() const {
    for (const auto& [key, node] : table_) {
      if (!known_.contains(std::string(key.str()))) {
        return Fail(MakeError(key.str(), "unknown key"));
      }
    }
    return Ok();
  }

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  int line() const { return static_cast<int>(table_.source().begin.line); }

 private:
  const toml::table& table_;
  std::string file_;
  std::string where_;
  std::set<std::string> known_;
};

Result<nlohmann::json> ToJson(const toml::node& node, const TableReader& reader,
                              std::string_view key) {
  if (const auto* s = node.as_string()) {
    auto expanded = ExpandEnv(s->get());
    if (!expanded) return Fail(reader.MakeError(key, expanded.error().message));
    return nlohmann::json(*expanded);
  }
  if (const auto* i = node.as_integer()) return nlohmann::json(i->get());
  if (const auto* f = node.as_floating_point()) return nlohmann::json(f->get());
  if (const auto* b = node.as_boolean()) return nlohmann::json(b->get());
  if (const auto* a = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& element : *a) {
      SLUICE_ASSIGN_OR_RETURN(auto value, ToJson(element, reader, key));
      out.push_back(std::move(value));
    }
    return out;
  }
  if (const auto* t = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *t) {
      SLUICE_ASSIGN_OR_RETURN(auto value, ToJson(v, reader, key));
      out[std::string(k.str())] = std::move(value);
    }
    return out;
  }
  return Fail(reader.MakeError(key, "dates and times are not supported here"));
}

Result<std::string> ResolveUrl(TableReader& reader, std::string_view key, const std::string& url,
                               const std::filesystem::path& base_dir) {
  auto uri = ParseUri(url, base_dir);
  if (!uri) return Fail(reader.MakeError(key, uri.error().message));
  if (IsLocalScheme(uri->scheme)) return uri->scheme + "://" + uri->path;
  return url;
}

Status ParseQueue(const toml::table& table, const std::string& file,
                  const std::filesystem::path& base_dir, QueueConfig& out) {
  TableReader r(table, file, "queue");
  SLUICE_ASSIGN_OR_RETURN(std::string url, r.RequireString("url"));
  SLUICE_ASSIGN_OR_RETURN(out.url, ResolveUrl(r, "url", url, base_dir));
  if (!out.url.starts_with("sqlite://") && !out.url.starts_with("amqp://")) {
    return Fail(r.MakeError("url", "unsupported queue; this build supports sqlite:// and amqp://"));
  }
  SLUICE_ASSIGN_OR_RETURN(auto lease, r.Duration("lease"));
  if (lease) {
    if (lease->count() < 100) return Fail(r.MakeError("lease", "must be at least 100ms"));
    out.lease = *lease;
  }
  return r.Finish();
}

Status ParseEngine(const toml::table& table, const std::string& file,
                   const std::filesystem::path& base_dir, EngineConfig& out) {
  TableReader r(table, file, "engine");
  SLUICE_ASSIGN_OR_RETURN(auto state, r.String("state"));
  if (state) {
    SLUICE_ASSIGN_OR_RETURN(out.state, ResolveUrl(r, "state", *state, base_dir));
    if (!out.state.starts_with("sqlite://")) {
      return Fail(r.MakeError("state", "must be a sqlite:// URL, e.g. \"sqlite://state.db\""));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto grace, r.Duration("shutdown_grace"));
  if (grace) out.shutdown_grace = *grace;
  SLUICE_ASSIGN_OR_RETURN(auto idle, r.Duration("idle_poll"));
  if (idle) {
    if (idle->count() < 1) return Fail(r.MakeError("idle_poll", "must be at least 1ms"));
    out.idle_poll = *idle;
  }
  SLUICE_ASSIGN_OR_RETURN(auto listen, r.String("listen"));
  if (listen && !listen->empty()) {
    if (auto address = ParseListenAddress(*listen); !address) {
      return Fail(r.MakeError("listen", address.error().message));
    }
    out.listen = *listen;
  }
  return r.Finish();
}

Status ParseStore(const std::string& name, const toml::table& table, const std::string& file,
                  const std::filesystem::path& base_dir, StoreConfig& out) {
  TableReader r(table, file, "stores." + name);
  out.name = name;
  SLUICE_ASSIGN_OR_RETURN(std::string url, r.RequireString("url"));
  SLUICE_ASSIGN_OR_RETURN(out.url, ResolveUrl(r, "url", url, base_dir));
  SLUICE_ASSIGN_OR_RETURN(auto endpoint, r.String("endpoint"));
  SLUICE_ASSIGN_OR_RETURN(auto region, r.String("region"));
  SLUICE_ASSIGN_OR_RETURN(auto profile, r.String("profile"));
  out.endpoint = endpoint.value_or("");
  out.region = region.value_or("");
  out.profile = profile.value_or("");
  SLUICE_ASSIGN_OR_RETURN(auto checksum, r.String("checksum"));
  if (checksum) {
    if (*checksum != "md5" && *checksum != "none") {
      return Fail(r.MakeError("checksum", "must be \"md5\" or \"none\""));
    }
    out.checksum = *checksum;
  }
  for (const auto& [key, field] : {std::pair{"multipart_threshold", &out.multipart_threshold_bytes},
                                   std::pair{"part_size", &out.part_size_bytes}}) {
    SLUICE_ASSIGN_OR_RETURN(auto text, r.String(key));
    if (!text) continue;
    auto size = ParseSize(*text);
    if (!size) return Fail(r.MakeError(key, size.error().message));
    *field = *size;
  }
  SLUICE_ASSIGN_OR_RETURN(auto parallelism, r.Int("parallelism"));
  if (parallelism) {
    if (*parallelism < 1 || *parallelism > 256) {
      return Fail(r.MakeError("parallelism", "must be between 1 and 256"));
    }
    out.parallelism = static_cast<int>(*parallelism);
  }
  return r.Finish();
}

Status ParseTable(const std::string& name, const toml::table& table, const std::string& file,
                  const std::filesystem::path& base_dir, TableConfig& out) {
  TableReader r(table, file, "tables." + name);
  out.name = name;
  SLUICE_ASSIGN_OR_RETURN(std::string url, r.RequireString("url"));
  SLUICE_ASSIGN_OR_RETURN(out.url, ResolveUrl(r, "url", url, base_dir));
  return r.Finish();
}

// The webhook keys of a [[sources]] table (docs/configuration.md, "webhook").
Status ParseWebhook(TableReader& r, WebhookConfig& out) {
  SLUICE_ASSIGN_OR_RETURN(auto listen, r.String("listen"));
  if (listen) {
    auto address = ParseListenAddress(*listen);
    if (!address) return Fail(r.MakeError("listen", address.error().message));
    out.host = address->first;
    out.port = address->second;
  }
  SLUICE_ASSIGN_OR_RETURN(auto path, r.String("path"));
  if (path) {
    if (!path->starts_with('/')) return Fail(r.MakeError("path", "must start with '/'"));
    if (*path == "/metrics" || *path == "/healthz") {
      return Fail(r.MakeError("path", "/metrics and /healthz are taken by the metrics endpoints"));
    }
    out.path = *path;
  }
  SLUICE_ASSIGN_OR_RETURN(auto max_body, r.String("max_body"));
  if (max_body) {
    auto size = ParseSize(*max_body);
    if (!size) return Fail(r.MakeError("max_body", size.error().message));
    if (*size == 0) return Fail(r.MakeError("max_body", "must be more than 0"));
    out.max_body_bytes = *size;
  }
  SLUICE_ASSIGN_OR_RETURN(auto timeout, r.Duration("request_timeout"));
  if (timeout) {
    if (timeout->count() < 1) return Fail(r.MakeError("request_timeout", "must be at least 1ms"));
    out.request_timeout = *timeout;
  }
  SLUICE_ASSIGN_OR_RETURN(auto confirm, r.Bool("confirm_subscriptions"));
  out.confirm_subscriptions = confirm.value_or(false);
  SLUICE_ASSIGN_OR_RETURN(const toml::table* auth, r.Table("auth"));
  if (auth != nullptr) {
    TableReader a(*auth, r.file(), r.where() + ".auth");
    SLUICE_ASSIGN_OR_RETURN(auto bearer, a.String("bearer"));
    SLUICE_ASSIGN_OR_RETURN(auto hmac, a.String("hmac_sha256"));
    SLUICE_ASSIGN_OR_RETURN(auto header, a.String("header"));
    if (bearer.has_value() == hmac.has_value()) {
      return Fail(a.MakeError("", "set exactly one of bearer or hmac_sha256"));
    }
    if ((bearer && bearer->empty()) || (hmac && hmac->empty())) {
      return Fail(a.MakeError(bearer ? "bearer" : "hmac_sha256", "is empty (is its ${VARIABLE} set?)"));
    }
    if (header && !hmac) return Fail(a.MakeError("header", "only applies to hmac_sha256"));
    out.bearer = bearer.value_or("");
    out.hmac_sha256 = hmac.value_or("");
    if (header) {
      if (header->empty()) return Fail(a.MakeError("header", "must not be empty"));
      out.signature_header = *header;
    }
    SLUICE_RETURN_IF_ERROR(a.Finish());
  }
  return Ok();
}

// The watch keys of a [[sources]] table (docs/configuration.md, "watch").
Status ParseWatch(TableReader& r, SourceConfig& out) {
  SLUICE_ASSIGN_OR_RETURN(auto interval, r.Duration("interval"));
  if (interval) {
    if (interval->count() <= 0) return Fail(r.MakeError("interval", "must be more than 0"));
    out.interval = *interval;
  }
  SLUICE_ASSIGN_OR_RETURN(auto stable_for, r.Duration("stable_for"));
  if (stable_for) out.stable_for = *stable_for;
  SLUICE_ASSIGN_OR_RETURN(auto mode, r.String("mode"));
  if (mode) {
    if (*mode != "auto" && *mode != "inotify" && *mode != "poll") {
      return Fail(r.MakeError("mode", fmt::format("'{}': expected \"auto\", \"inotify\" or \"poll\"", *mode)));
    }
    out.watch_mode = *mode;
  }
  return Ok();
}

Status ParseSource(const toml::table& table, const std::string& file, std::size_t index,
                   const std::filesystem::path& base_dir, SourceConfig& out) {
  TableReader r(table, file, fmt::format("sources[{}]", index));
  out.line = r.line();
  SLUICE_ASSIGN_OR_RETURN(out.name, r.RequireString("name"));
  SLUICE_ASSIGN_OR_RETURN(out.type, r.RequireString("type"));
  if (out.type == "webhook") {
    SLUICE_ASSIGN_OR_RETURN(auto store, r.String("store"));
    out.store = store.value_or("");
  } else {
    SLUICE_ASSIGN_OR_RETURN(out.store, r.RequireString("store"));
  }
  SLUICE_ASSIGN_OR_RETURN(auto prefix, r.String("prefix"));
  SLUICE_ASSIGN_OR_RETURN(auto suffix, r.String("suffix"));
  out.prefix = prefix.value_or("");
  out.suffix = suffix.value_or("");
  if (out.type == "poll") {
    SLUICE_ASSIGN_OR_RETURN(auto interval, r.Duration("interval"));
    if (interval) out.interval = *interval;
    SLUICE_ASSIGN_OR_RETURN(auto incremental, r.Bool("incremental"));
    out.incremental = incremental.value_or(false);
  } else if (out.type == "listing") {
    // store, prefix and suffix only: a one-off backfill
  } else if (out.type == "index") {
    SLUICE_ASSIGN_OR_RETURN(std::string index_url, r.RequireString("index"));
    out.index = index_url;
    if (index_url.find("://") != std::string::npos) {
      SLUICE_ASSIGN_OR_RETURN(out.index, ResolveUrl(r, "index", index_url, base_dir));
    }
  } else if (out.type == "watch") {
    SLUICE_RETURN_IF_ERROR(ParseWatch(r, out));
  } else if (out.type == "webhook") {
    SLUICE_RETURN_IF_ERROR(ParseWebhook(r, out.webhook));
  } else if (out.type == "amqp") {
    SLUICE_ASSIGN_OR_RETURN(out.url, r.RequireString("url"));
    if (!out.url.starts_with("amqp://")) return Fail(r.MakeError("url", "must be an amqp:// URL"));
    for (auto [key, field] : {std::pair{"queue", &out.queue}, std::pair{"exchange", &out.exchange},
                              std::pair{"routing_key", &out.routing_key}}) {
      SLUICE_ASSIGN_OR_RETURN(auto value, r.String(key));
      *field = value.value_or("");
    }
  } else {
    return Fail(r.MakeError("type", fmt::format(
        "unknown source type '{}': expected poll, listing, index, watch, webhook or amqp", out.type)));
  }
  return r.Finish();
}

Status ParseRetry(TableReader& parent, const toml::table& table, RetryPolicy& out) {
  TableReader r(table, parent.file(), parent.where() + ".retry");
  SLUICE_ASSIGN_OR_RETURN(auto attempts, r.Int("max_attempts"));
  if (attempts) {
    if (*attempts < 1 || *attempts > 1000) {
      return Fail(r.MakeError("max_attempts", "must be between 1 and 1000"));
    }
    out.max_attempts = static_cast<int>(*attempts);
  }
  SLUICE_ASSIGN_OR_RETURN(auto initial, r.Duration("initial_backoff"));
  if (initial) out.initial_backoff = *initial;
  SLUICE_ASSIGN_OR_RETURN(auto max, r.Duration("max_backoff"));
  if (max) out.max_backoff = *max;
  if (out.max_backoff < out.initial_backoff) {
    return Fail(r.MakeError("max_backoff", "must not be less than initial_backoff"));
  }
  return r.Finish();
}

Status ParseMatch(TableReader& parent, const toml::table& table, RouteMatch& out) {
  TableReader r(table, parent.file(), parent.where() + ".match");
  SLUICE_ASSIGN_OR_RETURN(out.store, r.RequireString("store"));
  SLUICE_ASSIGN_OR_RETURN(auto prefix, r.String("prefix"));
  SLUICE_ASSIGN_OR_RETURN(auto suffix, r.String("suffix"));
  out.prefix = prefix.value_or("");
  out.suffix = suffix.value_or("");
  SLUICE_ASSIGN_OR_RETURN(const toml::array* events, r.Array("events"));
  if (events != nullptr) {
    for (const auto& element : *events) {
      const auto* s = element.as_string();
      if (s == nullptr) return Fail(r.MakeError("events", "expected an array of strings"));
      out.events.emplace_back(s->get());
    }
  }
  if (out.events.empty()) out.events.emplace_back("ObjectCreated:*");
  return r.Finish();
}

Status ParseRoute(const toml::table& table, const std::string& file, std::size_t index,
                  RouteConfig& out) {
  TableReader r(table, file, fmt::format("routes[{}]", index));
  out.line = r.line();
  SLUICE_ASSIGN_OR_RETURN(out.name, r.RequireString("name"));
  SLUICE_ASSIGN_OR_RETURN(out.handler, r.RequireString("handler"));
  SLUICE_ASSIGN_OR_RETURN(const toml::table* match, r.Table("match"));
  if (match == nullptr) return Fail(r.MakeError("match", "is required"));
  SLUICE_RETURN_IF_ERROR(ParseMatch(r, *match, out.match));
  SLUICE_ASSIGN_OR_RETURN(auto concurrency, r.Int("concurrency"));
  if (concurrency) {
    if (*concurrency < 1 || *concurrency > 256) {
      return Fail(r.MakeError("concurrency", "must be between 1 and 256"));
    }
    out.concurrency = static_cast<int>(*concurrency);
  }
  SLUICE_ASSIGN_OR_RETURN(const toml::table* retry, r.Table("retry"));
  if (retry != nullptr) SLUICE_RETURN_IF_ERROR(ParseRetry(r, *retry, out.retry));
  SLUICE_ASSIGN_OR_RETURN(auto max_event_age, r.Duration("max_event_age"));
  if (max_event_age) {
    if (max_event_age->count() <= 0) return Fail(r.MakeError("max_event_age", "must be more than 0"));
    out.max_event_age = *max_event_age;
  }
  SLUICE_ASSIGN_OR_RETURN(auto timeout, r.Duration("timeout"));
  if (timeout) {
    if (timeout->count() <= 0) return Fail(r.MakeError("timeout", "must be more than 0"));
    out.timeout = *timeout;
  }
  SLUICE_ASSIGN_OR_RETURN(const toml::table* options, r.Table("options"));
  if (options != nullptr) {
    nlohmann::json values = nlohmann::json::object();
    std::map<std::string, int> lines;
    for (const auto& [k, v] : *options) {
      const std::string key(k.str());
      SLUICE_ASSIGN_OR_RETURN(values[key], ToJson(v, r, "options." + key));
      lines[key] = static_cast<int>(v.source().begin.line);
    }
    out.options = Options(std::move(values), std::move(lines), file, r.where() + ".options");
  } else {
    out.options = Options(nlohmann::json::object(), {}, file, r.where() + ".options");
  }
  return r.Finish();
}

Status CheckReferences(const PipelineConfig& config, const std::string& file) {
  std::set<std::string> names;
  for (const auto& source : config.sources) {
    const auto at = fmt::format("{}:{}: source '{}'", file, source.line, source.name);
    if (!names.insert("source:" + source.name).second) {
      return Fail(ErrorCode::InvalidArgument, "duplicate source name", at);
    }
    if (!(source.type == "webhook" && source.store.empty()) && !config.stores.contains(source.store)) {
      return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", source.store), at);
    }
    if (source.type == "watch" && !config.stores.at(source.store).url.starts_with("file://")) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("store '{}' is not a file:// store: a watch source follows a local folder",
                              source.store), at);
    }
  }
  for (const auto& route : config.routes) {
    const auto at = fmt::format("{}:{}: route '{}'", file, route.line, route.name);
    if (!names.insert("route:" + route.name).second) {
      return Fail(ErrorCode::InvalidArgument, "duplicate route name", at);
    }
    if (!config.stores.contains(route.match.store)) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("match.store '{}' is not defined", route.match.store), at);
    }
  }
  return Ok();
}

}  // namespace

Options::Options(nlohmann::json values, std::map<std::string, int> lines, std::string file,
                 std::string where)
    : values_(std::move(values)), lines_(std::move(lines)), file_(std::move(file)),
      where_(std::move(where)) {}

bool Options::Has(std::string_view key) const { return values_.contains(key); }

Error Options::MakeError(std::string_view key, std::string_view message) const {
  const auto it = lines_.find(std::string(key));
  const int line = it == lines_.end() ? 0 : it->second;
  std::string at = where_;
  if (!key.empty()) at.append(".").append(key);
  return Error{ErrorCode::InvalidArgument, std::string(message),
               line > 0 ? fmt::format("{}:{}: {}", file_, line, at) : fmt::format("{}: {}", file_, at)};
}

Result<std::optional<std::string>> Options::String(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  if (!it->is_string()) return Fail(MakeError(key, "expected a string"));
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<bool>> Options::Bool(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  if (!it->is_boolean()) return Fail(MakeError(key, "expected true or false"));
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::int64_t>> Options::Int(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  if (!it->is_number_integer()) return Fail(MakeError(key, "expected an integer"));
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

Result<std::optional<std::chrono::milliseconds>> Options::Duration(std::string_view key) const {
  SLUICE_ASSIGN_OR_RETURN(auto text, String(key));
  if (!text) return std::nullopt;
  auto parsed = ParseDuration(*text);
  if (!parsed) return Fail(MakeError(key, parsed.error().message));
  return std::optional<std::chrono::milliseconds>(*parsed);
}

Status Options::CheckKeys(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : values_.items()) {
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (!found) return Fail(MakeError(key, "unknown key"));
  }
  return Ok();
}

const RouteConfig* PipelineConfig::FindRoute(std::string_view name) const {
  for (const auto& route : routes) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

Result<std::string> ExpandEnv(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find("${", i);
    if (start == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, start - i));
    const auto end = text.find('}', start);
    if (end == std::string_view::npos) {
      return Fail(ErrorCode::InvalidArgument, "unterminated '${' in value");
    }
    const std::string name(text.substr(start + 2, end - start - 2));
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("environment variable '{}' is not set", name));
    }
    out.append(value);
    i = end + 1;
  }
  return out;
}

Result<PipelineConfig> ParseConfig(std::string_view text, const std::filesystem::path& file_name) {
  const std::string file = file_name.string();
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::InvalidArgument, std::string(e.description()),
                fmt::format("{}:{}:{}", file, e.source().begin.line, e.source().begin.column));
  }
  std::filesystem::path base_dir = std::filesystem::absolute(file_name).parent_path();

  PipelineConfig config;
  config.file = file_name;
  TableReader r(root, file, "");

  SLUICE_ASSIGN_OR_RETURN(const toml::table* queue, r.Table("queue"));
  if (queue == nullptr) return Fail(r.MakeError("queue", "is required ([queue] with a url)"));
  SLUICE_RETURN_IF_ERROR(ParseQueue(*queue, file, base_dir, config.queue));

  SLUICE_ASSIGN_OR_RETURN(const toml::table* engine, r.Table("engine"));
  if (engine != nullptr) SLUICE_RETURN_IF_ERROR(ParseEngine(*engine, file, base_dir, config.engine));

  SLUICE_ASSIGN_OR_RETURN(const toml::table* stores, r.Table("stores"));
  if (stores != nullptr) {
    for (const auto& [k, v] : *stores) {
      const std::string name(k.str());
      const auto* table = v.as_table();
      if (table == nullptr) return Fail(TableReader(*stores, file, "stores").MakeError(name, "expected a table"));
      SLUICE_RETURN_IF_ERROR(ParseStore(name, *table, file, base_dir, config.stores[name]));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(const toml::table* tables, r.Table("tables"));
  if (tables != nullptr) {
    for (const auto& [k, v] : *tables) {
      const std::string name(k.str());
      const auto* table = v.as_table();
      if (table == nullptr) return Fail(TableReader(*tables, file, "tables").MakeError(name, "expected a table"));
      SLUICE_RETURN_IF_ERROR(ParseTable(name, *table, file, base_dir, config.tables[name]));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(const toml::array* sources, r.Array("sources"));
  if (sources != nullptr) {
    for (std::size_t i = 0; i < sources->size(); ++i) {
      const auto* table = (*sources)[i].as_table();
      if (table == nullptr) return Fail(r.MakeError("sources", "expected [[sources]] tables"));
      SLUICE_RETURN_IF_ERROR(ParseSource(*table, file, i, base_dir, config.sources.emplace_back()));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(const toml::array* routes, r.Array("routes"));
  if (routes != nullptr) {
    for (std::size_t i = 0; i < routes->size(); ++i) {
      const auto* table = (*routes)[i].as_table();
      if (table == nullptr) return Fail(r.MakeError("routes", "expected [[routes]] tables"));
      SLUICE_RETURN_IF_ERROR(ParseRoute(*table, file, i, config.routes.emplace_back()));
    }
  }
  SLUICE_RETURN_IF_ERROR(r.Finish());
  SLUICE_RETURN_IF_ERROR(CheckReferences(config, file));
  return config;
}

Result<std::pair<std::string, int>> ParseListenAddress(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("'{}' is not host:port (e.g. \"127.0.0.1:8088\")", text));
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  const std::string_view digits = text.substr(colon + 1);
  int port = 0;
  if (digits.empty() || digits.size() > 5) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("'{}': port must be 0-65535", text));
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return Fail(ErrorCode::InvalidArgument, fmt::format("'{}': port must be 0-65535", text));
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return Fail(ErrorCode::InvalidArgument, fmt::format("'{}': port must be 0-65535", text));
  return std::pair<std::string, int>(std::move(host), port);
}

Result<PipelineConfig> LoadConfig(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::NotFound, "cannot open config file", file.string());
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfig(buffer.str(), file);
}

}  // namespace sluice
