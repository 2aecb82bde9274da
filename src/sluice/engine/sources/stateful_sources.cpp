#include "sluice/engine/sources/stateful_sources.hpp"

#include <chrono>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace sluice {
namespace {

using Clock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

// The value names under which each source keeps its JSON document in SourceState.
constexpr std::string_view kPollValue = "poll";
constexpr std::string_view kListingValue = "listing";

// A listing logs its progress at least this often, and every kProgressObjects objects.
constexpr auto kProgressEvery = std::chrono::seconds(10);
constexpr std::int64_t kProgressObjects = 10'000;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string Timestamp(std::int64_t ms) {
  return fmt::format("{:%FT%TZ}", std::chrono::time_point_cast<std::chrono::seconds>(
                                      Clock::time_point(std::chrono::milliseconds(ms))));
}

// The JSON document a source keeps under its value name; an empty object when there is none or
// it does not parse (a hand-edited database: start afresh rather than fail every pass).
Result<nlohmann::json> LoadDocument(SourceState& state, const std::string& source,
                                    std::string_view name) {
  SLUICE_ASSIGN_OR_RETURN(auto text, state.Value(source, name));
  if (!text) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    spdlog::warn("source '{}': its remembered {} state does not parse; starting afresh", source, name);
    return nlohmann::json::object();
  }
  return parsed;
}

// What ties remembered state to the listed place: a changed store URL or prefix starts afresh.
bool SamePlace(const nlohmann::json& document, const std::string& store_url,
               const std::string& prefix) {
  return document.value("store", "") == store_url && document.value("prefix", "") == prefix;
}

Status ListError(Error error, const SourceConfig& config, const ObjectStore& store) {
  return Fail(std::move(error).WithContext(
      fmt::format("source '{}': list {}/{}", config.name, store.Url(), config.prefix)));
}

class PollSource final : public Source {
 public:
  PollSource(SourceConfig config, ObjectStore* store, SourceState* state)
      : config_(std::move(config)), store_(store), state_(state) {}

  const std::string& Name() const override { return config_.name; }
  std::optional<std::chrono::milliseconds> Interval() const override { return config_.interval; }

  Status Pass(const EventSink& sink) override {
    const std::string& name = config_.name;
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json document, LoadDocument(*state_, name, kPollValue));
    if (!SamePlace(document, store_->Url(), config_.prefix)) {
      document = {{"store", store_->Url()}, {"prefix", config_.prefix}, {"mark", ""}};
    }
    std::string mark = document.value("mark", "");
    ListOptions options;
    options.prefix = config_.prefix;
    if (config_.incremental) options.start_after = mark;
    // Each page covers the keys in (lower, its last key]; the last page everything after lower.
    // Remembered keys there that the page does not list have vanished.
    std::string lower = options.start_after;
    std::int64_t listed = 0;
    std::int64_t emitted = 0;
    do {
      auto page = store_->List(options);
      if (!page) return ListError(std::move(page).error(), config_, *store_);
      options.continuation_token = page->next_continuation_token;
      if (page->objects.empty() && page->IsTruncated()) continue;
      std::optional<std::string> upper;
      if (page->IsTruncated()) upper = page->objects.back().key;
      std::map<std::string, std::string> remembered;
      if (!config_.incremental) {
        SLUICE_ASSIGN_OR_RETURN(remembered,
                                state_->EtagsInRange(name, lower, std::optional<std::string_view>(upper)));
      }
      std::vector<Event> events;
      SourceStateUpdate update;
      for (const auto& object : page->objects) {
        ++listed;
        if (!object.key.ends_with(config_.suffix)) continue;
        if (!config_.incremental) {
          const auto it = remembered.find(object.key);
          const bool unchanged = it != remembered.end() && it->second == object.etag;
          if (it != remembered.end()) remembered.erase(it);
          if (unchanged) continue;
          update.put_etags.emplace_back(object.key, object.etag);
        }
        events.push_back(ObjectCreatedEvent(config_.store, object));
        mark = std::max(mark, object.key);
      }
      for (auto& [key, etag] : remembered) update.forget_keys.push_back(key);
      emitted += static_cast<std::int64_t>(events.size());
      // Durably enqueued first, remembered second: a crash in between only emits them again.
      if (!events.empty()) SLUICE_RETURN_IF_ERROR(sink(std::move(events)));
      if (!update.put_etags.empty() || !update.forget_keys.empty() || mark != document.value("mark", "")) {
        document["mark"] = mark;
        update.values[std::string(kPollValue)] = document.dump();
        SLUICE_RETURN_IF_ERROR(state_->Apply(name, update));
      }
      if (upper) lower = *upper;
    } while (!options.continuation_token.empty());
    document["last_pass_ms"] = NowMs();
    document["last_pass_listed"] = listed;
    document["last_pass_emitted"] = emitted;
    SourceStateUpdate done;
    done.values[std::string(kPollValue)] = document.dump();
    SLUICE_RETURN_IF_ERROR(state_->Apply(name, done));
    spdlog::debug("source '{}': listed {} objects, {} new or changed", name, listed, emitted);
    return Ok();
  }

 private:
  SourceConfig config_;
  ObjectStore* store_;
  SourceState* state_;
};

class ListingSource final : public Source {
 public:
  ListingSource(SourceConfig config, ObjectStore* store, SourceState* state)
      : config_(std::move(config)), store_(store), state_(state) {}

  const std::string& Name() const override { return config_.name; }
  std::optional<std::chrono::milliseconds> Interval() const override { return std::nullopt; }

  Status Pass(const EventSink& sink) override {
    const std::string& name = config_.name;
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json document, LoadDocument(*state_, name, kListingValue));
    if (!SamePlace(document, store_->Url(), config_.prefix)) {
      if (!document.empty()) {
        spdlog::info("source '{}': the store or prefix changed; starting a new listing", name);
      }
      document = {{"store", store_->Url()}, {"prefix", config_.prefix}, {"resume_after", ""},
                  {"listed", 0},           {"enqueued", 0},            {"complete", false},
                  {"started_ms", NowMs()}};
    }
    if (document.value("complete", false)) {
      spdlog::info("source '{}': the listing of {}/{} is complete ({} objects); nothing to do "
                   "(`sluice sources reset` starts it over)",
                   name, store_->Url(), config_.prefix, document.value("listed", std::int64_t{0}));
      return Ok();
    }
    ListOptions options;
    options.prefix = config_.prefix;
    options.start_after = document.value("resume_after", "");
    if (!options.start_after.empty()) {
      spdlog::info("source '{}': resuming the listing after key {}", name, options.start_after);
    }
    std::int64_t listed = document.value("listed", std::int64_t{0});
    std::int64_t enqueued = document.value("enqueued", std::int64_t{0});
    const std::int64_t listed_before = listed;
    const auto started = SteadyClock::now();
    auto last_log = started;
    std::int64_t listed_at_last_log = listed;
    do {
      auto page = store_->List(options);
      if (!page) return ListError(std::move(page).error(), config_, *store_);
      options.continuation_token = page->next_continuation_token;
      if (page->objects.empty()) continue;
      std::vector<Event> events;
      const auto now = std::chrono::system_clock::now();
      for (const auto& object : page->objects) {
        if (!object.key.ends_with(config_.suffix)) continue;
        Event event = ObjectCreatedEvent(config_.store, object);
        event.kind = std::string(kEventObjectCreatedBackfill);
        // The backfill happens now: a route's max_event_age, meant for stale notifications,
        // must not dead-letter the old objects a backfill exists to process.
        event.time = now;
        events.push_back(std::move(event));
      }
      const auto count = static_cast<std::int64_t>(events.size());
      if (!events.empty()) SLUICE_RETURN_IF_ERROR(sink(std::move(events)));
      listed += static_cast<std::int64_t>(page->objects.size());
      enqueued += count;
      document["resume_after"] = page->objects.back().key;
      document["listed"] = listed;
      document["enqueued"] = enqueued;
      SLUICE_RETURN_IF_ERROR(Save(document));
      if (SteadyClock::now() - last_log >= kProgressEvery || listed - listed_at_last_log >= kProgressObjects) {
        spdlog::info("source '{}': listed {} objects ({} enqueued), at key {}", name, listed,
                     enqueued, page->objects.back().key);
        last_log = SteadyClock::now();
        listed_at_last_log = listed;
      }
    } while (!options.continuation_token.empty());
    document["complete"] = true;
    document["finished_ms"] = NowMs();
    SLUICE_RETURN_IF_ERROR(Save(document));
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    const auto this_run = listed - listed_before;
    spdlog::info("source '{}': listing complete: {} objects listed, {} enqueued ({} in {:.1f}s, "
                 "{:.0f} objects/s)",
                 name, listed, enqueued, this_run, seconds,
                 seconds > 0 ? static_cast<double>(this_run) / seconds : 0.0);
    return Ok();
  }

 private:
  Status Save(const nlohmann::json& document) {
    SourceStateUpdate update;
    update.values[std::string(kListingValue)] = document.dump();
    return state_->Apply(config_.name, update);
  }

  SourceConfig config_;
  ObjectStore* store_;
  SourceState* state_;
};

}  // namespace

std::unique_ptr<Source> MakePollSource(const SourceConfig& config, ObjectStore* store,
                                       SourceState* state) {
  return std::make_unique<PollSource>(config, store, state);
}

std::unique_ptr<Source> MakeListingSource(const SourceConfig& config, ObjectStore* store,
                                          SourceState* state) {
  return std::make_unique<ListingSource>(config, store, state);
}

Result<std::string> DescribeSourceState(const SourceConfig& config, const Resources& resources,
                                        SourceState& state) {
  const ObjectStore* store = resources.FindStore(config.store);
  if (store == nullptr) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("store '{}' is not defined", config.store),
                "source '" + config.name + "'");
  }
  if (config.type == "poll") {
    SLUICE_ASSIGN_OR_RETURN(std::int64_t remembered, state.CountEtags(config.name));
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json document, LoadDocument(state, config.name, kPollValue));
    if (!document.contains("last_pass_ms")) {
      return fmt::format("no pass yet; {} objects remembered", remembered);
    }
    const std::string mark = SamePlace(document, store->Url(), config.prefix)
                                 ? document.value("mark", "")
                                 : std::string();
    return fmt::format("{} objects remembered{}, mark {}, last pass {} ({} listed, {} new or changed)",
                       remembered, config.incremental ? " (incremental: only the mark is used)" : "",
                       mark.empty() ? "none" : mark,
                       Timestamp(document.value("last_pass_ms", std::int64_t{0})),
                       document.value("last_pass_listed", std::int64_t{0}),
                       document.value("last_pass_emitted", std::int64_t{0}));
  }
  if (config.type == "listing") {
    SLUICE_ASSIGN_OR_RETURN(nlohmann::json document, LoadDocument(state, config.name, kListingValue));
    if (document.empty()) return std::string("not started");
    const auto listed = document.value("listed", std::int64_t{0});
    const auto enqueued = document.value("enqueued", std::int64_t{0});
    if (!SamePlace(document, store->Url(), config.prefix)) {
      return fmt::format("the store or prefix changed: the next pass starts a new listing (the "
                         "last one, of {}/{}, listed {} objects)",
                         document.value("store", ""), document.value("prefix", ""), listed);
    }
    if (document.value("complete", false)) {
      return fmt::format("complete: {} objects listed, {} enqueued, finished {}", listed, enqueued,
                         Timestamp(document.value("finished_ms", std::int64_t{0})));
    }
    const std::string resume = document.value("resume_after", "");
    return fmt::format("in progress: {} objects listed, {} enqueued, resumes after {}", listed,
                       enqueued, resume.empty() ? "(the start)" : resume);
  }
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("a {} source keeps no state", config.type), "source '" + config.name + "'");
}

}  // namespace sluice
