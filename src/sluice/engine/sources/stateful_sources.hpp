#pragma once
/// The pull sources that keep durable state (source_state.hpp; docs/configuration.md,
/// "`[[sources]]`"):
/// - `poll` lists a prefix each pass (S3 ListObjectsV2) and emits `ObjectCreated:Put` for objects
///   that are new or whose ETag changed, comparing with the key → ETag set it remembers, so a
///   restarted process emits only what changed while it was down. A page's ETags are written
///   after its events were durably enqueued (the sink returned Ok): a crash in between emits them
///   again, which the queue's dedupe key (route + key + ETag) makes harmless. Keys that vanished
///   are forgotten. With `incremental = true` it lists only after the greatest key emitted so far
///   (`start-after`), for layouts that only grow, and keeps no ETags: changes below that mark are
///   not seen.
/// - `listing` lists a prefix once, page by page, emitting `ObjectCreated:Backfill`; after each
///   page's enqueue it writes the last key as its resume point, and when the listing ends it is
///   complete: later passes (and restarts) do nothing until `sluice sources reset`. The state is
///   tied to the store's URL and the prefix: changing either starts a new listing.

#include <memory>
#include <string>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"
#include "sluice/engine/sources/source.hpp"
#include "sluice/engine/sources/source_state.hpp"
#include "sluice/store/object_store.hpp"

namespace sluice {

/// The `poll` source of `config` over `store`, remembering in `state`. Both must outlive it.
std::unique_ptr<Source> MakePollSource(const SourceConfig& config, ObjectStore* store,
                                       SourceState* state);

/// The `listing` source of `config` over `store`, remembering in `state`. Both must outlive it.
std::unique_ptr<Source> MakeListingSource(const SourceConfig& config, ObjectStore* store,
                                          SourceState* state);

/// One line on the remembered state of a `poll` or `listing` source, for `sluice status`:
/// poll: objects remembered, mark, last pass; listing: complete or resume key, and counts.
/// InvalidArgument for other types or an undefined store; the database's errors.
Result<std::string> DescribeSourceState(const SourceConfig& config, const Resources& resources,
                                        SourceState& state);

}  // namespace sluice
