#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sluice/core/uri.hpp"
#include "sluice/engine/sources/amqp_source.hpp"
#include "sluice/engine/sources/source.hpp"
#include "sluice/engine/sources/stateful_sources.hpp"
#include "sluice/engine/sources/watch.hpp"
#include "sluice/engine/sources/webhook.hpp"

namespace sluice {
namespace {

class IndexSource final : public Source {
 public:
  IndexSource(SourceConfig config, const Resources& resources)
      : config_(std::move(config)), resources_(resources) {}

  const std::string& Name() const override { return config_.name; }
  std::optional<std::chrono::milliseconds> Interval() const override { return std::nullopt; }

  Status Pass(const EventSink& sink) override {
    auto events = ReadIndexEvents(config_.index, config_.store, config_.prefix, config_.suffix,
                                  resources_);
    if (!events) return Fail(std::move(events).error().WithContext("source '" + config_.name + "'"));
    return sink(std::move(*events));
  }

 private:
  SourceConfig config_;
  const Resources& resources_;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// "2020-04-28 13:45:15      97688 ERR1360081.summary": date, time, size, name.
std::optional<std::string_view> ListingLineName(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const auto end = std::find_if(line.begin(), line.end(), IsSpace);
    fields.emplace_back(line.begin(), end);
    line.remove_prefix(static_cast<std::size_t>(end - line.begin()));
    line = Trim(line);
  }
  if (fields.size() != 4 || fields[0].size() != 10 || fields[0][4] != '-' ||
      fields[1].size() != 8 || fields[1][2] != ':') {
    return std::nullopt;
  }
  for (char c : fields[2]) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return fields[3];
}

}  // namespace

Result<std::vector<Event>> ReadIndexEvents(const std::string& index_url, const std::string& store,
                                           const std::string& prefix, const std::string& suffix,
                                           const Resources& resources) {
  // Locate the index object: "<store>:<key>" in a configured store, or a file:// path.
  std::shared_ptr<ObjectStore> owned;
  ObjectStore* index_store = nullptr;
  std::string index_key;
  if (index_url.starts_with("file://")) {
    SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(index_url));
    const std::filesystem::path path(uri.path);
    SLUICE_ASSIGN_OR_RETURN(auto opened, MakeObjectStore("file://" + path.parent_path().string()));
    owned = std::move(opened);
    index_store = owned.get();
    index_key = path.filename().string();
  } else {
    const auto colon = index_url.find(':');
    if (colon == std::string::npos || index_url.find("://") != std::string::npos) {
      return Fail(ErrorCode::InvalidArgument,
                  "index must be file:///path/index.txt or <store>:<key>", index_url);
    }
    index_store = resources.FindStore(index_url.substr(0, colon));
    if (index_store == nullptr) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("store '{}' is not defined", index_url.substr(0, colon)), index_url);
    }
    index_key = index_url.substr(colon + 1);
  }
  auto text = index_store->Get(index_key);
  if (!text) return Fail(std::move(text).error().WithContext("read index " + index_url));

  std::vector<Event> events;
  std::string_view rest = *text;
  int line_number = 0;
  const auto now = std::chrono::system_clock::now();
  while (!rest.empty()) {
    ++line_number;
    const auto newline = rest.find('\n');
    std::string_view line = Trim(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (line.empty()) continue;
    if (std::find_if(line.begin(), line.end(), IsSpace) != line.end()) {
      auto name = ListingLineName(line);
      if (!name) {
        return Fail(ErrorCode::InvalidArgument,
                    fmt::format("line {}: expected one run id, got '{}'", line_number, line),
                    "index " + index_url);
      }
      line = *name;
    }
    if (!suffix.empty() && line.ends_with(suffix)) line.remove_suffix(suffix.size());
    Event event;
    event.kind = std::string(kEventObjectCreatedBackfill);
    event.store = store;
    event.key = prefix + std::string(line) + suffix;
    event.time = now;
    events.push_back(std::move(event));
  }
  return events;
}

Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config, const Resources& resources,
                                           SourceState* state) {
  const std::string at = fmt::format("{}source '{}'", config.line > 0 ? fmt::format("line {}: ", config.line) : "", config.name);
  if (config.type == "webhook" || config.type == "amqp") {
    auto made = config.type == "webhook" ? MakeWebhookSource(config, resources)
                                         : MakeAmqpSource(config, resources);
    if (!made) return Fail(std::move(made).error().WithContext(at));
    return made;
  }
  if (config.type == "watch") {
    auto made = MakeWatchSource(config, resources);
    if (!made) return Fail(std::move(made).error().WithContext(at));
    return made;
  }
  ObjectStore* store = resources.FindStore(config.store);
  if (store == nullptr) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", config.store), at);
  }
  if (SourceTypeHasState(config.type)) {
    if (state == nullptr) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("a {} source needs its state database: set [engine] state", config.type), at);
    }
    return config.type == "poll" ? MakePollSource(config, store, state)
                                 : MakeListingSource(config, store, state);
  }
  if (config.type == "index") return std::unique_ptr<Source>(std::make_unique<IndexSource>(config, resources));
  return Fail(ErrorCode::InvalidArgument, fmt::format("unknown source type '{}'", config.type), at);
}

}  // namespace sluice
