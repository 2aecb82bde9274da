#pragma once
/// The embedded `sqlite://` table store: one SQLite file, tables with real primary keys,
/// replace-partition writes in one transaction (tables/table.hpp).

#include <filesystem>
#include <memory>

#include "sluice/core/error.hpp"
#include "sluice/tables/table.hpp"

namespace sluice {

/// Opens (creating if needed) the SQLite database at `path` as a TableStore. Errors as
/// SqliteDb::Open. The store is thread-safe (one connection behind a mutex).
Result<std::unique_ptr<TableStore>> MakeSqliteTableStore(const std::filesystem::path& path);

}  // namespace sluice
