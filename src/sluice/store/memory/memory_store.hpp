#pragma once
/// The `memory://<name>` ObjectStore: objects in a process-wide map, for unit tests. Stores of the
/// same name share their objects for the life of the process, like clients of one S3 bucket.

#include <memory>
#include <string_view>

#include "sluice/store/object_store.hpp"

namespace sluice {

/// Opens the in-memory store called `name` (any non-empty text), creating it empty on first use.
/// Every store returned for one name sees the same objects. ETags are the hex MD5 of the content;
/// Capabilities().durable is false. Thread-safe, as are the returned store's methods.
std::unique_ptr<ObjectStore> MakeMemoryStore(std::string_view name);

/// Removes every object of the in-memory store called `name` (a no-op when it was never opened),
/// so long test runs can free memory. Stores already open for that name see it empty.
/// Thread-safe.
void ClearMemoryStore(std::string_view name);

}  // namespace sluice
