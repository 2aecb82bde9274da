#include "sluice/engine/router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

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

bool OutputCanTrigger(const OutputTarget& output, const RouteMatch& match) {
  if (output.store != match.store) return false;
  // Some key can have both prefixes only when one is a prefix of the other; likewise suffixes.
  if (!output.prefix.starts_with(match.prefix) && !match.prefix.starts_with(output.prefix)) return false;
  if (!output.suffix.ends_with(match.suffix) && !match.suffix.ends_with(output.suffix)) return false;
  for (const auto& pattern : match.events) {
    for (std::string_view kind : {"ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy",
                                  "ObjectCreated:CompleteMultipartUpload"}) {
      if (KindMatches(pattern, kind)) return true;
    }
  }
  return false;
}

namespace {

std::string Shown(const std::string& text) { return text.empty() ? std::string("any") : fmt::format("'{}'", text); }

// One edge of the trigger graph: `from`'s output `output` triggers route `to`.
struct Trigger {
  std::size_t to;
  const OutputTarget* output;
};

Error LoopError(std::span<const RouteOutputs> routes, const std::vector<std::size_t>& ring,
                const std::vector<const OutputTarget*>& outputs) {
  const RouteConfig& first = *routes[ring.front()].route;
  if (ring.size() == 1) {
    const OutputTarget& output = *outputs.front();
    return Error{
        ErrorCode::InvalidArgument,
        fmt::format(
            "self-trigger loop: handler '{}' writes objects to store '{}' with prefix {} and "
            "suffix {}, and the route's own match (store '{}', prefix {}, suffix {}, "
            "ObjectCreated events) covers them, so every output would run the route again. "
            "Give match a prefix or suffix the outputs cannot have, or point the handler's "
            "output at another store or at a prefix outside the match",
            first.handler, output.store, Shown(output.prefix), Shown(output.suffix),
            first.match.store, Shown(first.match.prefix), Shown(first.match.suffix)),
        routes[ring.front()].where};
  }
  std::string steps;
  for (std::size_t i = 0; i < ring.size(); ++i) {
    const RouteConfig& from = *routes[ring[i]].route;
    const RouteConfig& to = *routes[ring[(i + 1) % ring.size()]].route;
    const OutputTarget& output = *outputs[i];
    steps += fmt::format(
        "{}route '{}' (handler '{}') writes to store '{}' with prefix {} and suffix {}, which "
        "route '{}' matches (prefix {}, suffix {})",
        i == 0 ? "" : "; ", from.name, from.handler, output.store, Shown(output.prefix),
        Shown(output.suffix), to.name, Shown(to.match.prefix), Shown(to.match.suffix));
  }
  return Error{ErrorCode::InvalidArgument,
               fmt::format("trigger loop across {} routes: {}; so every output would run the "
                           "loop again. Give one of these matches a prefix or suffix the outputs "
                           "feeding it cannot have, or point one handler's output elsewhere",
                           ring.size(), steps),
               routes[ring.front()].where};
}

}  // namespace

Status CheckTriggerLoops(std::span<const RouteOutputs> routes) {
  std::vector<std::vector<Trigger>> triggers(routes.size());
  for (std::size_t from = 0; from < routes.size(); ++from) {
    for (const OutputTarget& output : routes[from].outputs) {
      for (std::size_t to = 0; to < routes.size(); ++to) {
        if (OutputCanTrigger(output, routes[to].route->match)) triggers[from].push_back({to, &output});
      }
    }
  }
  // Depth-first search; a trigger back into the current path closes a loop.
  enum class Mark { New, OnPath, Done };
  std::vector<Mark> marks(routes.size(), Mark::New);
  std::vector<std::size_t> path;
  std::vector<const OutputTarget*> path_outputs;  // path_outputs[i]: path[i] → path[i + 1]
  std::optional<Error> loop;
  const auto visit = [&](const auto& self, std::size_t route) -> void {
    marks[route] = Mark::OnPath;
    path.push_back(route);
    for (const Trigger& trigger : triggers[route]) {
      if (loop) return;
      path_outputs.push_back(trigger.output);
      if (marks[trigger.to] == Mark::OnPath) {
        const auto start = static_cast<std::size_t>(
            std::find(path.begin(), path.end(), trigger.to) - path.begin());
        loop = LoopError(routes, {path.begin() + static_cast<std::ptrdiff_t>(start), path.end()},
                         {path_outputs.begin() + static_cast<std::ptrdiff_t>(start), path_outputs.end()});
        return;
      }
      if (marks[trigger.to] == Mark::New) self(self, trigger.to);
      path_outputs.pop_back();
    }
    path.pop_back();
    marks[route] = Mark::Done;
  };
  for (std::size_t route = 0; route < routes.size() && !loop; ++route) {
    if (marks[route] == Mark::New) visit(visit, route);
  }
  if (loop) return Fail(std::move(*loop));
  return Ok();
}

}  // namespace sluice
