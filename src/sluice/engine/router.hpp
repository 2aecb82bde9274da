#pragma once
/// Router: matches events against routes (store, key prefix/suffix, event kinds) and turns each
/// match into a job to enqueue (DESIGN.md, "Route").

#include <string_view>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/engine/event.hpp"
#include "sluice/engine/job.hpp"

namespace sluice {

/// True when `event` satisfies `match`: same store, key starts with prefix and ends with suffix,
/// kind matches one of the patterns. Thread-safe.
bool RouteMatches(const RouteMatch& match, const Event& event);

/// The job that `route` makes of `event` (dedupe key, max attempts from its retry policy).
NewJob MakeJob(const RouteConfig& route, Event event);

/// Jobs for every route of `routes` that `event` matches (an event may feed several routes).
std::vector<NewJob> RouteEvent(const std::vector<RouteConfig>& routes, const Event& event);

}  // namespace sluice
