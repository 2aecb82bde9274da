#pragma once
/// Table stores: where handlers put rows (DESIGN.md, "Table"). `sqlite://` is the embedded default;
/// `postgresql://` and `dynamodb://` come later behind the same interface. Handlers are idempotent
/// by replacing a partition's rows (for example one run's rows) in one transaction.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/core/error.hpp"

namespace sluice {

/// SQL column type; maps to TEXT / INTEGER (64-bit) / REAL (double) in SQLite.
enum class ColumnType { Text, Integer, Real };

/// One column of a table.
struct Column {
  std::string name;
  ColumnType type = ColumnType::Text;
};

/// A table's shape: columns in order and the primary key (column names, in key order).
struct TableSchema {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
};

/// One cell: NULL, 64-bit integer, double or text.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

/// One row: one Value per schema column, in schema order.
using Row = std::vector<Value>;

/// Replace-partition write: delete every row of `schema` whose `partition_column` equals
/// `partition_value`, then insert `rows`. Rows must each hold schema.columns.size() values.
struct PartitionWrite {
  const TableSchema* schema = nullptr;
  std::string partition_column;
  Value partition_value;
  std::vector<Row> rows;
};

/// A database of tables. Thread-safe: concurrent callers are serialised per store.
class TableStore {
 public:
  virtual ~TableStore() = default;

  /// The store's URL with secrets redacted.
  [[nodiscard]] virtual std::string Url() const = 0;

  /// Creates the table (and its primary key) if it does not exist. An existing table with other
  /// columns is InvalidArgument naming the table and the difference.
  virtual Status EnsureTable(const TableSchema& schema) = 0;

  /// Applies every write in one transaction: all or nothing. A primary-key clash among the new
  /// rows is Corrupt naming the table and key; a busy database is Transient.
  virtual Status ReplacePartitions(std::span<const PartitionWrite> writes) = 0;

  /// Number of rows in `table` (for reports and tests). NotFound if it does not exist.
  virtual Result<std::int64_t> CountRows(std::string_view table) = 0;
};

/// Opens a table store from its URL: "sqlite:///abs/path.db" (created if missing, WAL mode).
/// Returns InvalidArgument for an unknown scheme, Internal/PermissionDenied if it cannot open.
Result<std::unique_ptr<TableStore>> MakeTableStore(std::string_view url);

}  // namespace sluice
