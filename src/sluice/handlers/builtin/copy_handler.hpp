#pragma once
/// General-purpose handlers that belong to no one pipeline: `copy` mirrors each new object into
/// another store (or another prefix of the same store), and `noop` does nothing, for measuring
/// the engine itself (bench/events_bench.sh) and for dry-running a config's routing.

#include <memory>
#include <string_view>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice::builtin {

/// Handler name of the copy handler.
inline constexpr std::string_view kCopyHandlerName = "copy";
/// Handler name of the no-op handler.
inline constexpr std::string_view kNoopHandlerName = "noop";

/// Builds the `copy` handler. Options: `store` (required: the destination store's name),
/// `prefix` (put before the key; default ""), `strip_prefix` (removed from the front of the
/// source key first, when it is there; default ""). The event's object is streamed from its
/// store to `store` at `prefix + (key without strip_prefix)` (server-side when both are the
/// same store) and an ObjectCreated event is emitted for the copy. Errors: InvalidArgument
/// naming the option for an unknown key, a missing or unknown store, or a copy onto itself.
/// The handler is thread-safe.
Result<std::unique_ptr<Handler>> MakeCopyHandler(const Options& options, const Resources& resources);

/// Builds the `noop` handler: it takes no options (InvalidArgument for any) and succeeds at
/// once without reading anything. Thread-safe.
Result<std::unique_ptr<Handler>> MakeNoopHandler(const Options& options, const Resources& resources);

}  // namespace sluice::builtin
