#pragma once
/// Durable state of pull sources (docs/configuration.md, "`[engine]`" and "`[[sources]]`"): what
/// `poll` has seen (key → ETag, the high-water mark, the last pass) and where a `listing` is
/// (resume key, counts, complete). SQLite-backed through tables/sqlite_db, in `[engine] state`
/// or, by default, in the sqlite:// queue's own database file (tables `source_values` and
/// `source_etags`, beside the queue's).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/config.hpp"
#include "sluice/core/error.hpp"
#include "sluice/engine/handler.hpp"

namespace sluice {

class SqliteDb;

/// What one Apply() writes for one source, in one transaction.
struct SourceStateUpdate {
  std::vector<std::pair<std::string, std::string>> put_etags;  ///< key → ETag (insert or replace)
  std::vector<std::string> forget_keys;                         ///< keys whose ETag is dropped
  std::map<std::string, std::string> values;                    ///< name → value (replaced)
};

/// A small durable key/value store for sources, keyed by source name: named string values (a
/// source's cursor, mark, counts; sources keep JSON there) and a key → ETag set. Keys compare by
/// their bytes, as S3 orders keys. Thread-safe: one connection behind a mutex; several processes
/// may share the file (SQLite WAL, busy timeout).
class SourceState {
 public:
  /// Opens or creates the state database at `path` (parent folders created). Errors as
  /// SqliteDb::Open: PermissionDenied, Corrupt, Internal.
  static Result<std::unique_ptr<SourceState>> Open(const std::filesystem::path& path);
  ~SourceState();
  SourceState(const SourceState&) = delete;
  SourceState& operator=(const SourceState&) = delete;

  /// The value `name` of `source`, or nullopt when never set.
  Result<std::optional<std::string>> Value(std::string_view source, std::string_view name);
  /// The remembered key → ETag pairs of `source` with `after` < key, and key <= `up_to` when
  /// given: one query, so one listing page costs one lookup.
  Result<std::map<std::string, std::string>> EtagsInRange(std::string_view source,
                                                          std::string_view after,
                                                          std::optional<std::string_view> up_to);
  /// How many keys `source` remembers ETags of.
  Result<std::int64_t> CountEtags(std::string_view source);
  /// Writes `update` for `source` in one transaction (all or nothing).
  Status Apply(std::string_view source, const SourceStateUpdate& update);
  /// Forgets everything of `source` (values and ETags). Returns whether anything was there.
  Result<bool> Forget(std::string_view source);
  /// The database file.
  [[nodiscard]] const std::filesystem::path& Path() const;

 private:
  explicit SourceState(std::unique_ptr<SqliteDb> db);
  std::mutex mutex_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mutex_
};

/// True for source types that keep state here (`poll`, `listing`).
[[nodiscard]] bool SourceTypeHasState(std::string_view type);

/// Where a config's source state lives: `[engine] state`, else the queue's database when the
/// queue is sqlite://, else empty (an amqp:// queue and no `[engine] state`). A "sqlite://" URL
/// with an absolute path (config URLs are resolved when loaded). Thread-safe.
[[nodiscard]] std::string SourceStateUrl(const PipelineConfig& config);

/// Opens the state of `config` when one of its sources keeps state: null when none does.
/// InvalidArgument naming the first such source when no state can be found (SourceStateUrl is
/// empty) or the URL is not sqlite://; else Open's errors.
Result<std::shared_ptr<SourceState>> OpenSourceStateFor(const PipelineConfig& config);

/// What `sluice status` shows of one stateful source.
struct SourceStatus {
  std::string name;
  std::string type;  ///< "poll" or "listing"
  std::string text;  ///< one line, e.g. "120 objects remembered, mark 'a/b', last pass 2024-…"
};

/// The state of every `poll` and `listing` source of `config` over its opened stores (to tell a
/// listing whose store or prefix changed), in config order; empty when it has none. Errors:
/// OpenSourceStateFor's, and the database's.
Result<std::vector<SourceStatus>> ReadSourceStatuses(const PipelineConfig& config,
                                                     const Resources& resources);

/// Forgets the state of the source `name`: a `listing` starts over at its next pass, a `poll`
/// emits every object again (the queue's dedupe skips versions it already has). InvalidArgument
/// when `config` has no source of that name or it keeps no state. Returns whether anything was
/// remembered.
Result<bool> ResetSourceState(const PipelineConfig& config, std::string_view name);

}  // namespace sluice
