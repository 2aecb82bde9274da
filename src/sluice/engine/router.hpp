#pragma once
/// Router: matches events against routes (store, key prefix/suffix, event kinds) and turns each
/// match into a job to enqueue (DESIGN.md, "Route").

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/handler.hpp"
#include "sluice/engine/job.hpp"

namespace sluice {

/// True when `event` satisfies `match`: same store, key starts with prefix and ends with suffix,
/// kind matches one of the patterns. Thread-safe.
bool RouteMatches(const RouteMatch& match, const Event& event);

/// The job that `route` makes of `event` (dedupe key, max attempts from its retry policy).
NewJob MakeJob(const RouteConfig& route, Event event);

/// Jobs for every route of `routes` that `event` matches (an event may feed several routes).
std::vector<NewJob> RouteEvent(const std::vector<RouteConfig>& routes, const Event& event);

/// True when an object written to `output` can trigger `match`: same store, a key can have both
/// prefixes (one is a prefix of the other) and both suffixes, and the match takes ObjectCreated
/// events. Thread-safe.
bool OutputCanTrigger(const OutputTarget& output, const RouteMatch& match);

/// One route and the objects its handler writes, for CheckTriggerLoops.
struct RouteOutputs {
  const RouteConfig* route = nullptr;  ///< never null
  std::vector<OutputTarget> outputs;   ///< the handler's Outputs()
  std::string where;                   ///< "file:line: route 'name'", for messages
};

/// Refuses trigger loops among `routes`: route A triggers route B when one of A's outputs can
/// trigger B's match (OutputCanTrigger). A cycle of that relation is a loop in which every output
/// runs the routes again: one route triggering itself (the classic Lambda self-trigger loop) or
/// several routes feeding each other in a ring. Returns InvalidArgument for the first loop found,
/// naming the `where` of its first route and, for each route of the loop, its handler, the store
/// and key filters of the output and of the match it triggers, and how to break it. Thread-safe.
Status CheckTriggerLoops(std::span<const RouteOutputs> routes);

}  // namespace sluice
