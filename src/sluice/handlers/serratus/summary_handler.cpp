#include "sluice/handlers/serratus/summary_handler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/handlers/serratus/schema.hpp"
#include "sluice/handlers/serratus/summary_json.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"

namespace sluice::serratus {

namespace {

/// Summaries are at most a few hundred KB (research/serratus.md §5: the v0 maximum was 232 KB);
/// anything far larger is not a summary and is refused before it exhausts memory.
constexpr std::size_t kMaxSummaryBytes = std::size_t{64} << 20;

/// How many JSON objects are written between two cancellation checks.
constexpr std::size_t kObjectsPerCancelCheck = 32;

struct SummaryHandlerOptions {
  SummaryKind kind = SummaryKind::Nucleotide;
  std::string store;       ///< empty: the event's store
  std::string table;       ///< empty: no rows
  std::string json_store;  ///< empty: no JSON objects
  std::string json_prefix;
};

/// "1 run, 12 families, 349 sequences" (with the kind's record types, in section order).
std::string CountsText(const ParsedSummary& summary) {
  const auto count = [&](RecordType type, std::string_view one, std::string_view many) {
    const std::size_t n = summary.Count(type);
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  std::string text = "1 run";
  if (summary.Kind() == SummaryKind::Rdrp)
    text += ", " + count(RecordType::Phylum, "phylum", "phyla");
  text += ", " + count(RecordType::Family, "family", "families");
  if (summary.Kind() == SummaryKind::Protein) {
    text += ", " + count(RecordType::Protein, "protein", "proteins");
  }
  text += ", " + count(RecordType::Sequence, "sequence", "sequences");
  return text;
}

/// The era-A folders of a kind's non-run records (§2.1, extended to protein and rdrp).
std::vector<std::string_view> FoldersOf(SummaryKind kind) {
  switch (kind) {
    case SummaryKind::Nucleotide:
      return {"family", "sequence"};
    case SummaryKind::Protein:
      return {"family", "protein", "sequence"};
    case SummaryKind::Rdrp:
      break;
  }
  return {"phylum", "family", "sequence"};
}

class SummaryHandler final : public Handler {
 public:
  SummaryHandler(SummaryHandlerOptions options, Resources resources)
      : options_(std::move(options)), resources_(std::move(resources)) {
    if (!options_.table.empty()) table_ = resources_.FindTable(options_.table);
    if (!options_.json_store.empty()) json_store_ = resources_.FindStore(options_.json_store);
  }

  // EraAObjectKey: json_prefix + "run/…", "family/…" or "sequence/…", always ending in ".json".
  std::vector<OutputTarget> Outputs() const override {
    if (options_.json_store.empty()) return {};
    return {{options_.json_store, options_.json_prefix, ".json"}};
  }

  Result<Outcome> Handle(const Event& event, HandlerContext& context) override {
    const std::string& store_name = options_.store.empty() ? event.store : options_.store;
    ObjectStore* store = resources_.FindStore(store_name);
    if (store == nullptr) {
      return Fail(
          ErrorCode::InvalidArgument,
          fmt::format("event names store '{}', which the config does not define", store_name),
          event.key);
    }
    const std::string where = fmt::format("{}/{}", store->Url(), event.key);

    std::string text;
    const auto read = store->GetTo(event.key, [&text](std::string_view chunk) -> Status {
      if (text.size() + chunk.size() > kMaxSummaryBytes) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("object is larger than {} bytes: not a summary", kMaxSummaryBytes));
      }
      text.append(chunk);
      return Ok();
    });
    if (!read) {
      if (read.error().code == ErrorCode::NotFound) {
        return Fail(ErrorCode::NotFound,
                    fmt::format("object {}/{} does not exist", store_name, event.key), where);
      }
      return Fail(Error(read.error()).WithContext(where));
    }
    auto parsed = ParseSummary(options_.kind, std::move(text));
    if (!parsed) return Fail(std::move(parsed).error().WithContext(where));
    const ParsedSummary& summary = *parsed;

    if (const auto key_run = RunIdFromKey(event.key); key_run && *key_run != summary.RunId()) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the file is about run '{}' but its key names run '{}'",
                              summary.RunId(), *key_run),
                  where);
    }
    if (context.Cancelled()) return Fail(ErrorCode::Cancelled, "cancelled before writing", where);

    Outcome outcome;
    if (table_ != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(outcome.rows_written, WriteRows(summary, where));
    }
    if (json_store_ != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(outcome.objects_written, WriteJson(summary, context, where));
    }
    outcome.summary = fmt::format("{}: {}", summary.RunId(), CountsText(summary));
    return outcome;
  }

 private:
  /// EnsureTable for the kind's tables, once per handler; a failure is not remembered, so a
  /// busy database at start-up only fails the jobs that met it.
  Status EnsureTables() {
    if (tables_ready_.load(std::memory_order_acquire)) return Ok();
    std::lock_guard lock(ensure_mutex_);
    if (tables_ready_.load(std::memory_order_relaxed)) return Ok();
    for (const TableSchema& schema : SchemasFor(options_.kind)) {
      SLUICE_RETURN_IF_ERROR(table_->EnsureTable(schema));
    }
    tables_ready_.store(true, std::memory_order_release);
    return Ok();
  }

  Result<std::uint64_t> WriteRows(const ParsedSummary& summary, const std::string& where) {
    if (auto ensured = EnsureTables(); !ensured) {
      return Fail(std::move(ensured).error().WithContext(table_->Url()));
    }
    const std::vector<PartitionWrite> writes = MakePartitionWrites(summary);
    if (auto replaced = table_->ReplacePartitions(writes); !replaced) {
      return Fail(std::move(replaced).error().WithContext(
          fmt::format("rows of {} into {}", where, table_->Url())));
    }
    std::uint64_t rows = 0;
    for (const PartitionWrite& write : writes) rows += write.rows.size();
    return rows;
  }

  Result<std::uint64_t> WriteJson(const ParsedSummary& summary, HandlerContext& context,
                                  const std::string& where) {
    const std::string marker_key = EraAObjectKey(summary, summary.Run(), options_.json_prefix);
    // A marker from an earlier run means these objects were written before: after rewriting,
    // objects the new file no longer has must go. First-time runs (the common case) skip the
    // listing, which on a large file:// or s3:// folder is not free.
    bool rerun = false;
    if (auto head = json_store_->Head(marker_key); head) {
      rerun = true;
    } else if (head.error().code != ErrorCode::NotFound) {
      return Fail(std::move(head).error().WithContext(where));
    }

    std::vector<std::string> written;
    written.reserve(summary.Records().size());
    for (const Record& record : summary.Records()) {
      if (record.type == RecordType::Run) continue;
      if (written.size() % kObjectsPerCancelCheck == kObjectsPerCancelCheck - 1 &&
          context.Cancelled()) {
        return Fail(ErrorCode::Cancelled, "cancelled while writing JSON objects", where);
      }
      std::string key = EraAObjectKey(summary, record, options_.json_prefix);
      if (auto put = json_store_->Put(key, FormatEraARecord(summary, record)); !put) {
        return Fail(std::move(put).error().WithContext(where));
      }
      written.push_back(std::move(key));
    }
    std::uint64_t objects = written.size();
    if (rerun) SLUICE_RETURN_IF_ERROR(DeleteStale(summary, std::move(written), where));
    if (auto put = json_store_->Put(marker_key, FormatEraARecord(summary, summary.Run())); !put) {
      return Fail(std::move(put).error().WithContext(where));
    }
    return objects + 1;
  }

  /// Deletes `<prefix><folder>/<RUN>_*` objects not in `written`. Run accessions hold no '_',
  /// so the listing prefix `<RUN>_` never matches another run's objects.
  Status DeleteStale(const ParsedSummary& summary, std::vector<std::string> written,
                     const std::string& where) {
    std::sort(written.begin(), written.end());
    for (const std::string_view folder : FoldersOf(summary.Kind())) {
      ListOptions list;
      list.prefix = fmt::format("{}{}/{}_", options_.json_prefix, folder, summary.RunId());
      std::vector<std::string> stale;
      while (true) {
        auto page = json_store_->List(list);
        if (!page) return Fail(std::move(page).error().WithContext(where));
        for (const ObjectInfo& object : page->objects) {
          if (!std::binary_search(written.begin(), written.end(), object.key)) {
            stale.push_back(object.key);
          }
        }
        if (!page->IsTruncated()) break;
        list.continuation_token = page->next_continuation_token;
      }
      for (const std::string& key : stale) {
        if (auto deleted = json_store_->Delete(key); !deleted) {
          return Fail(std::move(deleted).error().WithContext(where));
        }
      }
    }
    return Ok();
  }

  const SummaryHandlerOptions options_;
  const Resources resources_;
  TableStore* table_ = nullptr;
  ObjectStore* json_store_ = nullptr;
  std::mutex ensure_mutex_;
  std::atomic<bool> tables_ready_{false};
};

}  // namespace

std::optional<std::string_view> RunIdFromKey(std::string_view key) {
  const std::size_t slash = key.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const std::size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return std::nullopt;
  const std::string_view run = name.substr(0, dot);
  std::size_t letters = 0;
  while (letters < run.size() && run[letters] >= 'A' && run[letters] <= 'Z') ++letters;
  if (letters == 0 || letters == run.size()) return std::nullopt;
  for (std::size_t i = letters; i < run.size(); ++i) {
    if (run[i] < '0' || run[i] > '9') return std::nullopt;
  }
  return run;
}

Result<std::unique_ptr<Handler>> MakeSummaryHandler(const Options& options,
                                                    const Resources& resources) {
  SLUICE_RETURN_IF_ERROR(
      options.CheckKeys({"kind", "store", "table", "json_store", "json_prefix"}));
  SummaryHandlerOptions parsed;

  SLUICE_ASSIGN_OR_RETURN(const auto kind, options.String("kind"));
  if (!kind) return Fail(options.MakeError("kind", "is required (nucleotide, protein or rdrp)"));
  auto summary_kind = ParseSummaryKind(*kind);
  if (!summary_kind) return Fail(options.MakeError("kind", summary_kind.error().message));
  parsed.kind = *summary_kind;

  SLUICE_ASSIGN_OR_RETURN(const auto store, options.String("store"));
  SLUICE_ASSIGN_OR_RETURN(const auto table, options.String("table"));
  SLUICE_ASSIGN_OR_RETURN(const auto json_store, options.String("json_store"));
  SLUICE_ASSIGN_OR_RETURN(const auto json_prefix, options.String("json_prefix"));
  parsed.store = store.value_or("");
  parsed.table = table.value_or("");
  parsed.json_store = json_store.value_or("");
  parsed.json_prefix = json_prefix.value_or("");

  if (store && resources.FindStore(*store) == nullptr) {
    return Fail(options.MakeError("store", fmt::format("unknown store '{}'", *store)));
  }
  if (table && resources.FindTable(*table) == nullptr) {
    return Fail(options.MakeError("table", fmt::format("unknown table store '{}'", *table)));
  }
  if (json_store && resources.FindStore(*json_store) == nullptr) {
    return Fail(options.MakeError("json_store", fmt::format("unknown store '{}'", *json_store)));
  }
  if (parsed.table.empty() && parsed.json_store.empty()) {
    return Fail(options.MakeError("", "needs at least one output: `table` or `json_store`"));
  }
  return std::unique_ptr<Handler>(std::make_unique<SummaryHandler>(std::move(parsed), resources));
}

}  // namespace sluice::serratus
