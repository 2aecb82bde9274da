#include "sluice/handlers/illumina/run_upload.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "sluice/core/log.hpp"
#include "sluice/core/progress.hpp"
#include "sluice/store/local/local_store.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice::illumina {

bool RunResult::Succeeded() const { return FailedCount() == 0; }

std::size_t RunResult::FailedCount() const {
  return static_cast<std::size_t>(
      std::count_if(files.begin(), files.end(), [](const FileResult& f) { return f.error.has_value(); }));
}

namespace {

/// One run while it uploads. `remaining` counts its non-marker files not yet finished.
struct RunState {
  RunUpload* run = nullptr;
  std::unique_ptr<ObjectStore> folder;               ///< file:// rooted at the run folder
  std::map<std::string, ObjectInfo, std::less<>> in_bucket;  ///< key → object, listed once
  RunResult result;
  std::vector<std::size_t> markers;  ///< indices of marker files, in upload order
  std::atomic<std::size_t> remaining{0};
  std::atomic<bool> failed{false};
  std::atomic<std::uint64_t> bytes_sent{0};
};

/// Every object below `prefix`, by key.
Result<std::map<std::string, ObjectInfo, std::less<>>> ListPrefix(ObjectStore& store,
                                                                  const std::string& prefix) {
  std::map<std::string, ObjectInfo, std::less<>> objects;
  ListOptions list;
  list.prefix = prefix;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(ListPage page, store.List(list));
    for (auto& object : page.objects) objects.emplace(object.key, std::move(object));
    if (!page.IsTruncated()) return objects;
    list.continuation_token = std::move(page.next_continuation_token);
  }
}

/// The key to read `file` under in the run's folder store. A file reached through a symbolic
/// link is read at its target (which EnumerateRunFiles checked lies inside the run): the
/// folder store never follows a link in the last path segment.
Result<std::string> ReadKeyOf(const RunUpload& run, const RunFile& file) {
  if (!file.via_symlink) return file.relative_path;
  std::error_code ec;
  const auto root = std::filesystem::canonical(run.run_dir, ec);
  const auto target = ec ? root : std::filesystem::canonical(run.run_dir / file.relative_path, ec);
  if (ec) {
    return Fail(ErrorCode::NotFound, fmt::format("cannot resolve the link: {}", ec.message()),
                (run.run_dir / file.relative_path).string());
  }
  return target.lexically_relative(root).generic_string();
}

class Uploader {
 public:
  explicit Uploader(const UploadRunsOptions& options) : options_(options) {}

  /// Sends or verifies file `index` of `state`; records the outcome.
  void Process(RunState& state, std::size_t index) {
    const RunFile& file = state.run->files[index];
    FileResult& out = state.result.files[index];
    if (auto done = Send(state, file, out); !done) {
      spdlog::warn("upload {}: {} failed: {}", state.run->run_name, file.relative_path,
                   done.error().ToString());
      out.error = std::move(done).error();
      state.failed = true;
    }
  }

  /// The markers of a run whose other files are all done, one after another in rank order.
  void SendMarkers(RunState& state) {
    for (const std::size_t index : state.markers) {
      if (state.failed) {
        state.result.files[index].error =
            Error{ErrorCode::Cancelled,
                  "held back: other files of the run failed, so the run is not complete in the "
                  "bucket",
                  state.run->files[index].relative_path};
        continue;
      }
      Process(state, index);
    }
  }

 private:
  Status Send(RunState& state, const RunFile& file, FileResult& out) {
    SLUICE_RETURN_IF_ERROR(CheckCancelled(out.key));
    SLUICE_ASSIGN_OR_RETURN(const std::string read_key, ReadKeyOf(*state.run, file));
    SLUICE_ASSIGN_OR_RETURN(auto reader, state.folder->OpenReader(read_key));
    const std::uint64_t size = reader->Info().size_bytes;
    if (size != file.size_bytes) {
      return Fail(ErrorCode::Corrupt,
                  fmt::format("the file changed since the run was listed ({} bytes, now {})",
                              file.size_bytes, size),
                  (state.run->run_dir / file.relative_path).string());
    }
    if (const auto it = state.in_bucket.find(out.key);
        it != state.in_bucket.end() && it->second.size_bytes == size) {
      SLUICE_ASSIGN_OR_RETURN(const bool same, AlreadyThere(state, file, *reader, it->second));
      if (same) {
        out.already_there = true;
        out.etag = it->second.etag;
        if (options_.progress != nullptr) options_.progress->AddBytes(size);
        return Ok();
      }
    }
    SLUICE_ASSIGN_OR_RETURN(
        const ObjectInfo info,
        state.run->destination->PutFrom(
            out.key, *reader, PutOptions{.progress = options_.progress, .cancel = options_.cancel}));
    out.etag = info.etag;
    state.bytes_sent += size;
    Record(state, file, out);
    return Ok();
  }

  /// The object in the bucket holds this file's bytes: the journal recorded this very upload,
  /// or the local bytes hash to the object's ETag.
  Result<bool> AlreadyThere(RunState& state, const RunFile& file, ObjectReader& reader,
                            const ObjectInfo& object) {
    if (state.run->journal != nullptr) {
      if (const auto entry = state.run->journal->Find(file.relative_path);
          entry && entry->size_bytes == file.size_bytes && entry->mtime == file.mtime &&
          !entry->etag.empty() && entry->etag == object.etag) {
        return true;
      }
    }
    SLUICE_ASSIGN_OR_RETURN(const bool same,
                            SourceMatchesEtag(reader, object.etag, options_.part_size_bytes));
    if (same) {
      FileResult found{file.relative_path, object.key, file.size_bytes, object.etag, true, {}};
      Record(state, file, found);
    }
    return same;
  }

  /// Journals an object that holds the file (a failure only costs a hash on the next resume).
  void Record(RunState& state, const RunFile& file, const FileResult& out) {
    if (state.run->journal == nullptr) return;
    if (auto appended = state.run->journal->Append(
            file.relative_path, JournalEntry{out.key, file.size_bytes, file.mtime, out.etag});
        !appended) {
      spdlog::warn("upload {}: could not journal {}: {}", state.run->run_name, file.relative_path,
                   appended.error().ToString());
    }
  }

  Status CheckCancelled(const std::string& key) const {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      return Fail(ErrorCode::Cancelled, "upload cancelled", key);
    }
    return Ok();
  }

  const UploadRunsOptions& options_;
};

}  // namespace

Result<std::vector<RunResult>> UploadRuns(std::span<RunUpload> runs,
                                          const UploadRunsOptions& options) {
  if (options.concurrency < 1) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("concurrency must be at least 1, got {}", options.concurrency),
                "upload");
  }
  // Plan: open each run folder, list what the bucket holds, order the work.
  std::vector<std::unique_ptr<RunState>> states;
  struct Task {
    RunState* state;
    std::size_t index;
    std::uint64_t size_bytes;
  };
  std::vector<Task> tasks;
  for (RunUpload& run : runs) {
    if (run.destination == nullptr) {
      return Fail(ErrorCode::InvalidArgument, "no destination store", run.run_name);
    }
    auto state = std::make_unique<RunState>();
    state->run = &run;
    state->result.run_name = run.run_name;
    SLUICE_ASSIGN_OR_RETURN(state->folder, MakeLocalStore(std::filesystem::absolute(run.run_dir)));
    SLUICE_ASSIGN_OR_RETURN(state->in_bucket, ListPrefix(*run.destination, run.key_prefix));
    state->result.files.resize(run.files.size());
    std::uint64_t total_bytes = 0;
    for (std::size_t i = 0; i < run.files.size(); ++i) {
      const RunFile& file = run.files[i];
      state->result.files[i].relative_path = file.relative_path;
      state->result.files[i].key = run.key_prefix + file.relative_path;
      state->result.files[i].size_bytes = file.size_bytes;
      total_bytes += file.size_bytes;
      if (file.marker_rank > 0) {
        state->markers.push_back(i);
      } else {
        tasks.push_back(Task{state.get(), i, file.size_bytes});
        ++state->remaining;
      }
    }
    std::stable_sort(state->markers.begin(), state->markers.end(), [&](std::size_t a, std::size_t b) {
      return run.files[a].marker_rank < run.files[b].marker_rank;
    });
    if (options.progress != nullptr) options.progress->AddTotal(run.files.size(), total_bytes);
    states.push_back(std::move(state));
  }
  if (options.progress != nullptr) options.progress->MarkTotalKnown();
  // Largest first across all runs: the long transfers start at once, small files fill in.
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.size_bytes > b.size_bytes; });

  Uploader uploader(options);
  for (auto& state : states) {
    if (state->remaining == 0) uploader.SendMarkers(*state);
  }
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      RunState& state = *tasks[i].state;
      uploader.Process(state, tasks[i].index);
      if (state.remaining.fetch_sub(1) == 1) uploader.SendMarkers(state);
    }
  };
  {
    std::vector<std::jthread> workers;
    const auto threads = std::min<std::size_t>(static_cast<std::size_t>(options.concurrency),
                                               tasks.size());
    for (std::size_t i = 1; i < threads; ++i) workers.emplace_back(WithLogContext(work));
    work();
  }

  std::vector<RunResult> results;
  results.reserve(states.size());
  for (auto& state : states) {
    state->result.bytes_sent = state->bytes_sent;
    results.push_back(std::move(state->result));
  }
  return results;
}

}  // namespace sluice::illumina
