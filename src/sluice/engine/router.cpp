#include "sluice/engine/router.hpp"

#include <fmt/format.h>

namespace sluice {

bool RouteMatches(const RouteMatch& match, const Event& event) {
  if (event.store != match.store) return false;
  if (!event.key.starts_with(match.prefix) || !event.key.ends_with(match.suffix)) return false;
  if (event.key.size() < match.prefix.size() + match.suffix.size()) return false;
  for (const auto& pattern : match.events) {
    if (KindMatches(pattern, event.kind)) return true;
  }
  return false;
}

NewJob MakeJob(const RouteConfig& route, Event event) {
  NewJob job;
  job.route = route.name;
  job.dedupe_key = DedupeKey(route.name, event);
  job.max_attempts = route.retry.max_attempts;
  job.event = std::move(event);
  return job;
}

std::vector<NewJob> RouteEvent(const std::vector<RouteConfig>& routes, const Event& event) {
  std::vector<NewJob> jobs;
  for (const auto& route : routes) {
    if (RouteMatches(route.match, event)) jobs.push_back(MakeJob(route, event));
  }
  return jobs;
}

Status CheckSelfTrigger(const RouteConfig& route, std::span<const OutputTarget> outputs,
                        std::string_view where) {
  const RouteMatch& match = route.match;
  bool takes_created = false;
  for (const auto& pattern : match.events) {
    for (std::string_view kind : {"ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy",
                                  "ObjectCreated:CompleteMultipartUpload"}) {
      takes_created = takes_created || KindMatches(pattern, kind);
    }
  }
  if (!takes_created) return Ok();
  for (const OutputTarget& output : outputs) {
    if (output.store != match.store) continue;
    // Some key can have both prefixes only when one is a prefix of the other; likewise suffixes.
    const bool prefixes_meet =
        output.prefix.starts_with(match.prefix) || match.prefix.starts_with(output.prefix);
    const bool suffixes_meet =
        output.suffix.ends_with(match.suffix) || match.suffix.ends_with(output.suffix);
    if (!prefixes_meet || !suffixes_meet) continue;
    const auto shown = [](const std::string& text) {
      return text.empty() ? std::string("any") : fmt::format("'{}'", text);
    };
    return Fail(
        ErrorCode::InvalidArgument,
        fmt::format(
            "self-trigger loop: handler '{}' writes objects to store '{}' with prefix {} and "
            "suffix {}, and the route's own match (store '{}', prefix {}, suffix {}, "
            "ObjectCreated events) covers them, so every output would run the route again. "
            "Give match a prefix or suffix the outputs cannot have, or point the handler's "
            "output at another store or at a prefix outside the match",
            route.handler, output.store, shown(output.prefix), shown(output.suffix), match.store,
            shown(match.prefix), shown(match.suffix)),
        std::string(where));
  }
  return Ok();
}

}  // namespace sluice
