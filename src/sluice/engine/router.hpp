#pragma once
/// Router: matches events against routes (store, key prefix/suffix, event kinds) and turns each
/// match into a job to enqueue (DESIGN.md, "Route").

#include <span>
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

/// Checks that the objects a route's handler writes (`outputs`) cannot trigger the route itself:
/// an output in the match's store whose prefix and suffix are compatible with the match's (one
/// a prefix/suffix of the other), when the match takes ObjectCreated events, is the classic
/// Lambda self-trigger loop. Returns InvalidArgument naming `where` (file:line: route), the
/// store, both key filters and how to fix it. Thread-safe.
Status CheckSelfTrigger(const RouteConfig& route, std::span<const OutputTarget> outputs,
                        std::string_view where);

}  // namespace sluice
