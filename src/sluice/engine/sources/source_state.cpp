// SourceState: two tables in an SQLite database. Keys and names compare as BLOB-like TEXT
// (SQLite's BINARY collation is memcmp), which is S3's byte order of keys.

#include "sluice/engine/sources/source_state.hpp"

#include <fmt/format.h>

#include "sluice/core/uri.hpp"
#include "sluice/engine/sources/stateful_sources.hpp"
#include "sluice/tables/sqlite_db.hpp"

namespace sluice {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS source_values (
  source TEXT NOT NULL,
  name   TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (source, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_etags (
  source TEXT NOT NULL,
  key    TEXT NOT NULL,
  etag   TEXT NOT NULL,
  PRIMARY KEY (source, key)
) WITHOUT ROWID;
)sql";

}  // namespace

SourceState::SourceState(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
SourceState::~SourceState() = default;

Result<std::unique_ptr<SourceState>> SourceState::Open(const std::filesystem::path& path) {
  SLUICE_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path));
  if (auto created = db->Exec(kSchema); !created) {
    return Fail(std::move(created).error().WithContext("source state " + path.string()));
  }
  return std::unique_ptr<SourceState>(new SourceState(std::move(db)));
}

const std::filesystem::path& SourceState::Path() const { return db_->Path(); }

Result<std::optional<std::string>> SourceState::Value(std::string_view source,
                                                      std::string_view name) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(SqliteStatement * select,
                          db_->Prepare("SELECT value FROM source_values WHERE source = ? AND name = ?"));
  select->Bind(1, source);
  select->Bind(2, name);
  SLUICE_ASSIGN_OR_RETURN(bool row, select->Step());
  std::optional<std::string> value;
  if (row) value = select->Text(0);
  select->Reset();
  return value;
}

Result<std::map<std::string, std::string>> SourceState::EtagsInRange(
    std::string_view source, std::string_view after, std::optional<std::string_view> up_to) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(
      SqliteStatement * select,
      db_->Prepare(up_to ? "SELECT key, etag FROM source_etags WHERE source = ? AND key > ? AND key <= ?"
                         : "SELECT key, etag FROM source_etags WHERE source = ? AND key > ?"));
  select->Bind(1, source);
  select->Bind(2, after);
  if (up_to) select->Bind(3, *up_to);
  std::map<std::string, std::string> etags;
  while (true) {
    auto row = select->Step();
    if (!row) {
      select->Reset();
      return Fail(std::move(row).error().WithContext("source state: read ETags"));
    }
    if (!*row) break;
    etags.emplace(select->Text(0), select->Text(1));
  }
  select->Reset();
  return etags;
}

Result<std::int64_t> SourceState::CountEtags(std::string_view source) {
  std::lock_guard lock(mutex_);
  SLUICE_ASSIGN_OR_RETURN(SqliteStatement * count,
                          db_->Prepare("SELECT count(*) FROM source_etags WHERE source = ?"));
  count->Bind(1, source);
  SLUICE_ASSIGN_OR_RETURN(bool row, count->Step());
  const std::int64_t n = row ? count->Int(0) : 0;
  count->Reset();
  return n;
}

Status SourceState::Apply(std::string_view source, const SourceStateUpdate& update) {
  std::lock_guard lock(mutex_);
  return InTransaction(*db_, [&]() -> Status {
    if (!update.put_etags.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * put,
          db_->Prepare("INSERT OR REPLACE INTO source_etags (source, key, etag) VALUES (?, ?, ?)"));
      for (const auto& [key, etag] : update.put_etags) {
        put->Reset();
        put->Bind(1, source);
        put->Bind(2, std::string_view(key));
        put->Bind(3, std::string_view(etag));
        SLUICE_RETURN_IF_ERROR(put->Run());
      }
    }
    if (!update.forget_keys.empty()) {
      SLUICE_ASSIGN_OR_RETURN(SqliteStatement * forget,
                              db_->Prepare("DELETE FROM source_etags WHERE source = ? AND key = ?"));
      for (const auto& key : update.forget_keys) {
        forget->Reset();
        forget->Bind(1, source);
        forget->Bind(2, std::string_view(key));
        SLUICE_RETURN_IF_ERROR(forget->Run());
      }
    }
    if (!update.values.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          SqliteStatement * set,
          db_->Prepare("INSERT OR REPLACE INTO source_values (source, name, value) VALUES (?, ?, ?)"));
      for (const auto& [name, value] : update.values) {
        set->Reset();
        set->Bind(1, source);
        set->Bind(2, std::string_view(name));
        set->Bind(3, std::string_view(value));
        SLUICE_RETURN_IF_ERROR(set->Run());
      }
    }
    return Ok();
  });
}

Result<bool> SourceState::Forget(std::string_view source) {
  std::lock_guard lock(mutex_);
  std::int64_t removed = 0;
  SLUICE_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
    for (const char* sql : {"DELETE FROM source_values WHERE source = ?",
                            "DELETE FROM source_etags WHERE source = ?"}) {
      SLUICE_ASSIGN_OR_RETURN(SqliteStatement * del, db_->Prepare(sql));
      del->Bind(1, source);
      SLUICE_RETURN_IF_ERROR(del->Run());
      removed += db_->Changes();
    }
    return Ok();
  }));
  return removed > 0;
}

bool SourceTypeHasState(std::string_view type) { return type == "poll" || type == "listing"; }

std::string SourceStateUrl(const PipelineConfig& config) {
  if (!config.engine.state.empty()) return config.engine.state;
  if (config.queue.url.starts_with("sqlite://")) return config.queue.url;
  return "";
}

Result<std::shared_ptr<SourceState>> OpenSourceStateFor(const PipelineConfig& config) {
  const SourceConfig* first = nullptr;
  for (const auto& source : config.sources) {
    if (SourceTypeHasState(source.type)) {
      first = &source;
      break;
    }
  }
  if (first == nullptr) return std::shared_ptr<SourceState>();
  const std::string url = SourceStateUrl(config);
  const std::string at = fmt::format("{}:{}: source '{}'", config.file.string(), first->line, first->name);
  if (url.empty()) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("a {} source remembers what it listed, and the amqp:// queue has no room "
                            "for that: set [engine] state = \"sqlite:///path/state.db\"",
                            first->type),
                at);
  }
  SLUICE_ASSIGN_OR_RETURN(Uri uri, ParseUri(url));
  if (uri.scheme != "sqlite") {
    return Fail(ErrorCode::InvalidArgument, "engine.state must be a sqlite:// URL", uri.Redacted());
  }
  auto state = SourceState::Open(uri.path);
  if (!state) return Fail(std::move(state).error().WithContext("source state"));
  return std::shared_ptr<SourceState>(std::move(*state));
}

Result<std::vector<SourceStatus>> ReadSourceStatuses(const PipelineConfig& config,
                                                     const Resources& resources) {
  SLUICE_ASSIGN_OR_RETURN(auto state, OpenSourceStateFor(config));
  std::vector<SourceStatus> out;
  if (!state) return out;
  for (const auto& source : config.sources) {
    if (!SourceTypeHasState(source.type)) continue;
    SLUICE_ASSIGN_OR_RETURN(std::string text, DescribeSourceState(source, resources, *state));
    out.push_back(SourceStatus{source.name, source.type, std::move(text)});
  }
  return out;
}

Result<bool> ResetSourceState(const PipelineConfig& config, std::string_view name) {
  const SourceConfig* found = nullptr;
  for (const auto& source : config.sources) {
    if (source.name == name) found = &source;
  }
  if (found == nullptr) {
    return Fail(ErrorCode::InvalidArgument, fmt::format("no source named '{}'", name),
                config.file.string());
  }
  if (!SourceTypeHasState(found->type)) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("source '{}' is a {} source, which keeps no state (only poll and "
                            "listing sources do)", name, found->type),
                config.file.string());
  }
  SLUICE_ASSIGN_OR_RETURN(auto state, OpenSourceStateFor(config));
  return state->Forget(name);
}

}  // namespace sluice
