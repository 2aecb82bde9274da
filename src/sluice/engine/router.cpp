#include "sluice/engine/router.hpp"

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

}  // namespace sluice
