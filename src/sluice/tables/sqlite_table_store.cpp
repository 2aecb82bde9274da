#include "sluice/tables/sqlite_table_store.hpp"

#include <mutex>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sluice/tables/sqlite_db.hpp"

namespace sluice {
namespace {

std::string_view SqlType(ColumnType type) {
  switch (type) {
    case ColumnType::Text: return "TEXT";
    case ColumnType::Integer: return "INTEGER";
    case ColumnType::Real: return "REAL";
  }
  return "TEXT";
}

void BindValue(SqliteStatement& stmt, int index, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          stmt.BindNull(index);
        } else {
          stmt.Bind(index, v);
        }
      },
      value);
}

class SqliteTableStore final : public TableStore {
 public:
  explicit SqliteTableStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  std::string Url() const override { return "sqlite://" + db_->Path().string(); }

  Status EnsureTable(const TableSchema& schema) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> wanted;
    for (const auto& column : schema.columns) wanted.push_back(column.name);
    if (const auto it = ensured_.find(schema.name); it != ensured_.end() && it->second == wanted) {
      return Ok();
    }
    std::vector<std::string> columns;
    for (const auto& column : schema.columns) {
      columns.push_back(fmt::format("{} {}", QuoteIdentifier(column.name), SqlType(column.type)));
    }
    std::vector<std::string> key;
    for (const auto& name : schema.primary_key) key.push_back(QuoteIdentifier(name));
    std::string sql = fmt::format("CREATE TABLE IF NOT EXISTS {} ({}", QuoteIdentifier(schema.name),
                                  fmt::join(columns, ", "));
    if (!key.empty()) sql += fmt::format(", PRIMARY KEY ({})", fmt::join(key, ", "));
    sql += ")";
    SLUICE_RETURN_IF_ERROR(db_->Exec(sql));

    // An existing table must have the same columns in the same order.
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * info,
                            db_->Prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid"));
    info->Bind(1, std::string_view(schema.name));
    std::vector<std::string> existing;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, info->Step());
      if (!row) break;
      existing.push_back(info->Text(0));
    }
    if (existing != wanted) {
      return Fail(ErrorCode::InvalidArgument,
                  fmt::format("table '{}' exists with columns ({}) but ({}) are expected",
                              schema.name, fmt::join(existing, ", "), fmt::join(wanted, ", ")),
                  Url());
    }
    ensured_[schema.name] = std::move(wanted);
    return Ok();
  }

  Status ReplacePartitions(std::span<const PartitionWrite> writes) override {
    std::lock_guard lock(mutex_);
    return InTransaction(*db_, [&]() -> Status {
      for (const auto& write : writes) SLUICE_RETURN_IF_ERROR(ApplyLocked(write));
      return Ok();
    });
  }

  Result<std::int64_t> CountRows(std::string_view table) override {
    std::lock_guard lock(mutex_);
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * exists,
                            db_->Prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?"));
    exists->Bind(1, table);
    SLUICE_ASSIGN_OR_RETURN(bool row, exists->Step());
    const bool found = row && exists->Int(0) > 0;
    exists->Reset();  // a statement left on a row would pin this connection's read snapshot
    if (!found) {
      return Fail(ErrorCode::NotFound, fmt::format("no table '{}'", table), Url());
    }
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * count,
                            db_->Prepare(fmt::format("SELECT count(*) FROM {}", QuoteIdentifier(table))));
    SLUICE_ASSIGN_OR_RETURN(row, count->Step());
    const std::int64_t rows = row ? count->Int(0) : 0;
    count->Reset();
    return rows;
  }

 private:
  // The DELETE and INSERT statements of one table, built once.
  struct TableStatements {
    std::string delete_partition;  // for the partition column they were built for
    std::string partition_column;
    std::string insert;
  };

  const TableStatements& StatementsLocked(const PartitionWrite& write) {
    TableStatements& statements = statements_[write.schema->name];
    if (statements.insert.empty() || statements.partition_column != write.partition_column) {
      const std::string table = QuoteIdentifier(write.schema->name);
      std::vector<std::string> names;
      std::vector<std::string> marks;
      for (const auto& column : write.schema->columns) {
        names.push_back(QuoteIdentifier(column.name));
        marks.emplace_back("?");
      }
      statements.partition_column = write.partition_column;
      statements.delete_partition = fmt::format("DELETE FROM {} WHERE {} = ?", table,
                                                QuoteIdentifier(write.partition_column));
      statements.insert = fmt::format("INSERT INTO {} ({}) VALUES ({})", table,
                                      fmt::join(names, ", "), fmt::join(marks, ", "));
    }
    return statements;
  }

  Status ApplyLocked(const PartitionWrite& write) {
    const TableSchema& schema = *write.schema;
    const TableStatements& statements = StatementsLocked(write);
    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * remove, db_->Prepare(statements.delete_partition));
    BindValue(*remove, 1, write.partition_value);
    SLUICE_RETURN_IF_ERROR(remove->Run());
    if (write.rows.empty()) return Ok();

    SLUICE_ASSIGN_OR_RETURN(SqliteStatement * insert, db_->Prepare(statements.insert));
    for (std::size_t r = 0; r < write.rows.size(); ++r) {
      const Row& row = write.rows[r];
      if (row.size() != schema.columns.size()) {
        return Fail(ErrorCode::Internal,
                    fmt::format("row {} of table '{}' has {} values for {} columns", r, schema.name,
                                row.size(), schema.columns.size()));
      }
      insert->Reset();
      for (std::size_t c = 0; c < row.size(); ++c) {
        BindValue(*insert, static_cast<int>(c + 1), row[c]);
      }
      auto inserted = insert->Run();
      if (!inserted) {
        return Fail(std::move(inserted).error().WithContext(
            fmt::format("insert into {} row {}", schema.name, r + 1)));
      }
    }
    return Ok();
  }

  std::mutex mutex_;
  std::unique_ptr<SqliteDb> db_;    // guarded by mutex_
  std::map<std::string, std::vector<std::string>> ensured_;  // table → columns; guarded by mutex_
  std::map<std::string, TableStatements> statements_;        // table → SQL; guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<TableStore>> MakeSqliteTableStore(const std::filesystem::path& path) {
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path));
  return std::unique_ptr<TableStore>(std::make_unique<SqliteTableStore>(std::move(db)));
}

}  // namespace sluice
