#include <sqlite3.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sluice/tables/table.hpp"
#include "support/temp_dir.hpp"

namespace sluice {
namespace {

using testing::TempDir;

// Reads a database with the SQLite C API, independently of the store under test.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5'000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Every row of `sql`, each cell rendered as "<typeof>:<text>" ("null" for NULL).
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::vector<std::vector<std::string>> rows;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) row.push_back(Cell(stmt, c));
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  void Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (message != nullptr ? message : "?");
    }
    sqlite3_free(message);
  }

  sqlite3* Handle() { return db_; }

 private:
  static std::string Cell(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_NULL: return "null";
      case SQLITE_INTEGER: return "integer:" + std::to_string(sqlite3_column_int64(stmt, c));
      case SQLITE_FLOAT: return "real:" + std::to_string(sqlite3_column_double(stmt, c));
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        return "text:" + std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c)));
      }
    }
  }

  sqlite3* db_ = nullptr;
};

TableSchema RunsSchema() {
  TableSchema schema;
  schema.name = "sequences";
  schema.columns = {{"run", ColumnType::Text},
                    {"seq", ColumnType::Integer},
                    {"score", ColumnType::Real},
                    {"family", ColumnType::Text}};
  schema.primary_key = {"run", "seq"};
  return schema;
}

TableSchema FamiliesSchema() {
  TableSchema schema;
  schema.name = "families";
  schema.columns = {{"run", ColumnType::Text}, {"family", ColumnType::Text}, {"count", ColumnType::Integer}};
  schema.primary_key = {"run", "family"};
  return schema;
}

Row SeqRow(const std::string& run, std::int64_t seq, double score, const std::string& family) {
  return Row{Value(run), Value(seq), Value(score), Value(family)};
}

class SqliteTableStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "tables.db";
    auto store = MakeTableStore("sqlite://" + path_.string());
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  std::unique_ptr<TableStore> Reopen() {
    auto store = MakeTableStore("sqlite://" + path_.string());
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  Status Replace(const TableSchema& schema, const std::string& run, std::vector<Row> rows) {
    PartitionWrite write{&schema, "run", Value(run), std::move(rows)};
    return store_->ReplacePartitions(std::span<const PartitionWrite>(&write, 1));
  }

  TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<TableStore> store_;
};

TEST_F(SqliteTableStoreTest, UrlNamesTheDatabaseFile) {
  EXPECT_EQ(store_->Url(), "sqlite://" + path_.string());
}

TEST_F(SqliteTableStoreTest, EnsureTableCreatesTheTableWithItsColumnsAndPrimaryKey) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  RawDb raw(path_);
  const auto columns =
      raw.Query("SELECT name, type, pk FROM pragma_table_info('sequences') ORDER BY cid");
  ASSERT_EQ(columns.size(), 4u);
  EXPECT_EQ(columns[0], (std::vector<std::string>{"text:run", "text:TEXT", "integer:1"}));
  EXPECT_EQ(columns[1], (std::vector<std::string>{"text:seq", "text:INTEGER", "integer:2"}));
  EXPECT_EQ(columns[2], (std::vector<std::string>{"text:score", "text:REAL", "integer:0"}));
  EXPECT_EQ(columns[3], (std::vector<std::string>{"text:family", "text:TEXT", "integer:0"}));
  EXPECT_EQ(store_->CountRows("sequences").value(), 0);
}

TEST_F(SqliteTableStoreTest, EnsureTableTwiceIsFine) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  EXPECT_TRUE(store_->EnsureTable(RunsSchema()));
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->EnsureTable(RunsSchema()));
}

TEST_F(SqliteTableStoreTest, EnsureTableKeepsExistingRows) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", {SeqRow("ERR1", 1, 0.5, "Coronaviridae")}));
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  ASSERT_TRUE(reopened->EnsureTable(RunsSchema()));
  EXPECT_EQ(reopened->CountRows("sequences").value(), 1);
}

TEST_F(SqliteTableStoreTest, EnsureTableWithOtherColumnsOnAReopenedStoreIsInvalidArgument) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  TableSchema other = RunsSchema();
  other.columns[3].name = "genus";
  auto reopened = Reopen();
  ASSERT_NE(reopened, nullptr);
  auto status = reopened->EnsureTable(other);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(status.error().message.find("sequences"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("genus"), std::string::npos) << status.error().message;
}

TEST_F(SqliteTableStoreTest, EnsureTableWithOtherColumnsOnTheSameStoreIsInvalidArgument) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  TableSchema other = RunsSchema();
  other.columns.push_back({"extra", ColumnType::Text});
  auto status = store_->EnsureTable(other);
  ASSERT_FALSE(status) << "a second schema under the same name was accepted";
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
}

TEST_F(SqliteTableStoreTest, ReplacePartitionsInsertsRows) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1",
                      {SeqRow("ERR1", 1, 0.5, "Coronaviridae"), SeqRow("ERR1", 2, 0.25, "Picornaviridae")}));
  EXPECT_EQ(store_->CountRows("sequences").value(), 2);
  RawDb raw(path_);
  const auto rows = raw.Query("SELECT run, seq, score, family FROM sequences ORDER BY seq");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"text:ERR1", "integer:1", "real:0.500000", "text:Coronaviridae"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"text:ERR1", "integer:2", "real:0.250000", "text:Picornaviridae"}));
}

TEST_F(SqliteTableStoreTest, ReplacingAPartitionRemovesItsStaleRowsOnly) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1",
                      {SeqRow("ERR1", 1, 0.1, "a"), SeqRow("ERR1", 2, 0.2, "b"), SeqRow("ERR1", 3, 0.3, "c")}));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR2", {SeqRow("ERR2", 1, 0.9, "z"), SeqRow("ERR2", 2, 0.8, "y")}));
  ASSERT_EQ(store_->CountRows("sequences").value(), 5);

  // The new version of ERR1 has one row, and a changed one.
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", {SeqRow("ERR1", 2, 0.7, "b2")}));
  EXPECT_EQ(store_->CountRows("sequences").value(), 3);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT seq, family FROM sequences WHERE run = 'ERR1'"),
            (std::vector<std::vector<std::string>>{{"integer:2", "text:b2"}}));
  EXPECT_EQ(raw.Query("SELECT seq, family FROM sequences WHERE run = 'ERR2' ORDER BY seq"),
            (std::vector<std::vector<std::string>>{{"integer:1", "text:z"}, {"integer:2", "text:y"}}));
}

TEST_F(SqliteTableStoreTest, ReplacingAPartitionWithNoRowsEmptiesIt) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", {SeqRow("ERR1", 1, 0.1, "a")}));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR2", {SeqRow("ERR2", 1, 0.1, "a")}));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", {}));
  EXPECT_EQ(store_->CountRows("sequences").value(), 1);
}

TEST_F(SqliteTableStoreTest, ReplacingTheSamePartitionTwiceIsIdempotent) {
  ASSERT_TRUE(store_->EnsureTable(RunsSchema()));
  const std::vector<Row> rows = {SeqRow("ERR1", 1, 0.1, "a"), SeqRow("ERR1", 2, 0.2, "b")};
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", rows));
  ASSERT_TRUE(Replace(RunsSchema(), "ERR1", rows));
  EXPECT_EQ(store_->CountRows("sequences").value(), 2);
}

TEST_F(SqliteTableStoreTest, WritesToSeveralTablesAreAllOrNothing) {
  const TableSchema sequences = RunsSchema();
  const TableSchema families = FamiliesSchema();
  ASSERT_TRUE(store_->EnsureTable(sequences));
  ASSERT_TRUE(store_->EnsureTable(families));
  ASSERT_TRUE(Replace(sequences, "ERR1", {SeqRow("ERR1", 1, 0.1, "old")}));

  // The first write is valid; the second repeats a primary key among its new rows.
  std::vector<PartitionWrite> writes;
  writes.push_back({&sequences, "run", Value(std::string("ERR1")),
                    {SeqRow("ERR1", 1, 0.5, "new"), SeqRow("ERR1", 2, 0.6, "new")}});
  writes.push_back({&families, "run", Value(std::string("ERR1")),
                    {Row{Value(std::string("ERR1")), Value(std::string("Coronaviridae")), Value(std::int64_t{3})},
                     Row{Value(std::string("ERR1")), Value(std::string("Coronaviridae")), Value(std::int64_t{4})}}});
  auto status = store_->ReplacePartitions(writes);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::Corrupt) << status.error().ToString();
  EXPECT_NE(status.error().ToString().find("families"), std::string::npos) << status.error().ToString();

  // Nothing of the failed call is visible: the first table still holds its old partition.
  EXPECT_EQ(store_->CountRows("sequences").value(), 1);
  EXPECT_EQ(store_->CountRows("families").value(), 0);
  RawDb raw(path_);
  EXPECT_EQ(raw.Query("SELECT seq, family FROM sequences"),
            (std::vector<std::vector<std::string>>{{"integer:1", "text:old"}}));

  // And the store is still usable afterwards.
  writes[1].rows.pop_back();
  ASSERT_TRUE(store_->ReplacePartitions(writes));
  EXPECT_EQ(store_->CountRows("sequences").value(), 2);
  EXPECT_EQ(store_->CountRows("families").value(), 1);
}

TEST_F(SqliteTableStoreTest, RowWithTheWrongNumberOfValuesFailsAndWritesNothing) {
  const TableSchema sequences = RunsSchema();
  ASSERT_TRUE(store_->EnsureTable(sequences));
  auto status = Replace(sequences, "ERR1",
                        {SeqRow("ERR1", 1, 0.1, "a"), Row{Value(std::string("ERR1")), Value(std::int64_t{2})}});
  ASSERT_FALSE(status);
  EXPECT_EQ(store_->CountRows("sequences").value(), 0);
}

TEST_F(SqliteTableStoreTest, CountRowsOfAMissingTableIsNotFound) {
  auto count = store_->CountRows("nothing_here");
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code, ErrorCode::NotFound);
  EXPECT_NE(count.error().message.find("nothing_here"), std::string::npos) << count.error().message;
}

TEST_F(SqliteTableStoreTest, ValuesOfEveryTypeRoundTrip) {
  TableSchema schema;
  schema.name = "cells";
  schema.columns = {{"id", ColumnType::Text},  {"i", ColumnType::Integer}, {"r", ColumnType::Real},
                    {"t", ColumnType::Text},   {"n", ColumnType::Text}};
  schema.primary_key = {"id"};
  ASSERT_TRUE(store_->EnsureTable(schema));
  const std::string tricky = "it's \"quoted\"; DROP TABLE cells; -- ünïcødé 🌊 \t\n end";
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  const std::int64_t small = std::numeric_limits<std::int64_t>::min();
  PartitionWrite write{&schema, "id", Value(std::string("a")),
                       {Row{Value(std::string("a")), Value(big), Value(0.1), Value(tricky), Value()}}};
  ASSERT_TRUE(store_->ReplacePartitions(std::span<const PartitionWrite>(&write, 1)));
  PartitionWrite second{&schema, "id", Value(std::string("b")),
                        {Row{Value(std::string("b")), Value(small), Value(-1.5e300), Value(std::string()),
                             Value(std::string("x"))}}};
  ASSERT_TRUE(store_->ReplacePartitions(std::span<const PartitionWrite>(&second, 1)));

  RawDb raw(path_);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.Handle(), "SELECT id, i, r, t, n FROM cells ORDER BY id", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_type(stmt, 1), SQLITE_INTEGER);
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), big);
  EXPECT_EQ(sqlite3_column_type(stmt, 2), SQLITE_FLOAT);
  EXPECT_EQ(sqlite3_column_double(stmt, 2), 0.1);
  EXPECT_EQ(sqlite3_column_type(stmt, 3), SQLITE_TEXT);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)),
                        static_cast<std::size_t>(sqlite3_column_bytes(stmt, 3))),
            tricky);
  EXPECT_EQ(sqlite3_column_type(stmt, 4), SQLITE_NULL);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), small);
  EXPECT_EQ(sqlite3_column_double(stmt, 2), -1.5e300);
  EXPECT_EQ(sqlite3_column_type(stmt, 3), SQLITE_TEXT);
  EXPECT_EQ(sqlite3_column_bytes(stmt, 3), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 4))), "x");
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
}

TEST_F(SqliteTableStoreTest, PartitionValueMayBeAnInteger) {
  TableSchema schema;
  schema.name = "soundings";
  schema.columns = {{"day", ColumnType::Integer}, {"n", ColumnType::Integer}};
  schema.primary_key = {"day", "n"};
  ASSERT_TRUE(store_->EnsureTable(schema));
  PartitionWrite day1{&schema, "day", Value(std::int64_t{1}),
                      {Row{Value(std::int64_t{1}), Value(std::int64_t{1})},
                       Row{Value(std::int64_t{1}), Value(std::int64_t{2})}}};
  PartitionWrite day2{&schema, "day", Value(std::int64_t{2}), {Row{Value(std::int64_t{2}), Value(std::int64_t{1})}}};
  ASSERT_TRUE(store_->ReplacePartitions(std::vector<PartitionWrite>{day1, day2}));
  day1.rows.pop_back();
  ASSERT_TRUE(store_->ReplacePartitions(std::span<const PartitionWrite>(&day1, 1)));
  EXPECT_EQ(store_->CountRows("soundings").value(), 2);
}

TEST_F(SqliteTableStoreTest, IdentifiersWithQuotesAndSpacesAreQuoted) {
  TableSchema schema;
  schema.name = "odd \"table\" name";
  schema.columns = {{"the key", ColumnType::Text}, {"va\"lue", ColumnType::Integer}};
  schema.primary_key = {"the key"};
  ASSERT_TRUE(store_->EnsureTable(schema));
  PartitionWrite write{&schema, "the key", Value(std::string("k")),
                       {Row{Value(std::string("k")), Value(std::int64_t{7})}}};
  ASSERT_TRUE(store_->ReplacePartitions(std::span<const PartitionWrite>(&write, 1)));
  EXPECT_EQ(store_->CountRows(schema.name).value(), 1);
}

TEST_F(SqliteTableStoreTest, ConcurrentWritersToOneStoreAreSerialised) {
  const TableSchema sequences = RunsSchema();
  ASSERT_TRUE(store_->EnsureTable(sequences));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string run = "RUN" + std::to_string(t);
      for (int round = 0; round < 10; ++round) {
        std::vector<Row> rows;
        for (std::int64_t s = 0; s < 5; ++s) rows.push_back(SeqRow(run, s, 0.5, "f"));
        PartitionWrite write{&sequences, "run", Value(run), std::move(rows)};
        if (!store_->ReplacePartitions(std::span<const PartitionWrite>(&write, 1))) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->CountRows("sequences").value(), 40);
}

// Two processes (here two stores) share one database file: a write by one must not make the
// other unable to write, even right after it counted rows.
TEST_F(SqliteTableStoreTest, StoreCanWriteAfterAnotherConnectionWroteSinceItsLastCount) {
  const TableSchema sequences = RunsSchema();
  ASSERT_TRUE(store_->EnsureTable(sequences));
  ASSERT_TRUE(Replace(sequences, "ERR1", {SeqRow("ERR1", 1, 0.1, "a")}));
  ASSERT_EQ(store_->CountRows("sequences").value(), 1);

  auto other = Reopen();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->EnsureTable(sequences));
  PartitionWrite write{&sequences, "run", Value(std::string("ERR2")), {SeqRow("ERR2", 1, 0.2, "b")}};
  ASSERT_TRUE(other->ReplacePartitions(std::span<const PartitionWrite>(&write, 1)));

  auto status = Replace(sequences, "ERR3", {SeqRow("ERR3", 1, 0.3, "c")});
  EXPECT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(store_->CountRows("sequences").value(), 3);
}

TEST(MakeTableStore, RejectsUnknownSchemesAndMissingPaths) {
  auto postgres = MakeTableStore("postgresql://user:secret@db/lake");
  ASSERT_FALSE(postgres);
  EXPECT_EQ(postgres.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(postgres.error().ToString().find("secret"), std::string::npos) << postgres.error().ToString();

  auto empty = MakeTableStore("sqlite://");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::InvalidArgument);

  EXPECT_FALSE(MakeTableStore("not a url"));
}

TEST(MakeTableStore, CreatesMissingParentFolders) {
  TempDir dir;
  const auto path = dir.Path() / "a" / "b" / "t.db";
  auto store = MakeTableStore("sqlite://" + path.string());
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace sluice
