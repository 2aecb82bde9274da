#include "sluice/tables/table.hpp"

#include <fmt/format.h>

#include "sluice/core/uri.hpp"
#include "sluice/tables/sqlite_table_store.hpp"

namespace sluice {

Result<std::unique_ptr<TableStore>> MakeTableStore(std::string_view url) {
  SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(url));
  if (uri.scheme == "sqlite") {
    if (uri.path.empty()) return Fail(ErrorCode::InvalidArgument, "sqlite:// URL needs a path", std::string(url));
    return MakeSqliteTableStore(uri.path);
  }
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("unsupported table store '{}': this build supports sqlite://", uri.scheme),
              uri.Redacted());
}

}  // namespace sluice
