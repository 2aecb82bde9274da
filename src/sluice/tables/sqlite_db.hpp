#pragma once
/// A thin RAII adapter over one SQLite connection, shared by the sqlite:// table store and the
/// sqlite:// queue. SQLite result codes become sluice Errors here and nowhere else:
/// SQLITE_BUSY/LOCKED → Transient, SQLITE_CONSTRAINT → Corrupt, SQLITE_CANTOPEN/PERM/READONLY →
/// PermissionDenied, SQLITE_CORRUPT/NOTADB → Corrupt, the rest → Internal.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice {

/// One prepared statement, reset and cleared on Reset(). Owned by its SqliteDb's cache.
/// Not thread-safe: used under the owner's lock.
class SqliteStatement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  /// Binds parameter `index` (1-based).
  void BindNull(int index);
  void Bind(int index, std::int64_t value);
  void Bind(int index, double value);
  void Bind(int index, std::string_view value);

  /// Steps once: true when a row is available, false when done; Error on failure.
  Result<bool> Step();
  /// Steps to completion, ignoring rows.
  Status Run();
  /// Resets for re-use and clears bindings.
  void Reset();

  /// Column accessors for the current row (0-based).
  [[nodiscard]] bool IsNull(int column) const;
  [[nodiscard]] std::int64_t Int(int column) const;
  [[nodiscard]] double Real(int column) const;
  [[nodiscard]] std::string Text(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

/// One connection in WAL mode with synchronous=NORMAL (durable across process crashes; a power
/// loss may roll back the last transactions, which at-least-once processing tolerates) and a
/// busy timeout. Not thread-safe: callers serialise access (each owner holds a mutex).
class SqliteDb {
 public:
  /// Opens or creates the database file (parent folders created). Errors as described above.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  /// Runs one or more statements without results.
  Status Exec(std::string_view sql);
  /// A cached prepared statement for `sql`, reset and ready to bind.
  Result<SqliteStatement*> Prepare(const std::string& sql);
  /// Number of rows changed by the last statement.
  [[nodiscard]] std::int64_t Changes() const;
  /// The database file.
  [[nodiscard]] const std::filesystem::path& Path() const { return path_; }
  /// Converts an SQLite result code into an Error with the connection's message.
  [[nodiscard]] Error MakeError(int rc, std::string_view operation) const;

 private:
  SqliteDb(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::filesystem::path path_;
  std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> statements_;
};

/// Runs `body` inside BEGIN IMMEDIATE … COMMIT, rolling back when it fails.
template <class Body>
Status InTransaction(SqliteDb& db, Body&& body) {
  SLUICE_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status status = body();
  if (!status) {
    (void)db.Exec("ROLLBACK");
    return status;
  }
  auto committed = db.Exec("COMMIT");
  if (!committed) {
    (void)db.Exec("ROLLBACK");
    return committed;
  }
  return Ok();
}

/// Quotes an SQL identifier ("name" with inner quotes doubled).
std::string QuoteIdentifier(std::string_view name);

}  // namespace sluice
