#pragma once
// Helpers of the upload-engine and monitor tests: an ObjectStore decorator that records the
// order of PutFrom calls and fails chosen keys, a capture of spdlog's output, and small
// synthetic run folders.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/store/memory/memory_store.hpp"
#include "sluice/store/object_store.hpp"
#include "unit/illumina/illumina_test_util.hpp"

namespace sluice::illumina::testing {

/// A name for a memory:// store no other test uses (they are process-wide by name).
inline std::string UniqueStoreName(std::string_view suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name() + "." + std::string(suffix);
}

/// Wraps a store: records "begin <key>" / "end <key>" around every PutFrom (in the order they
/// happen, across threads) and fails PutFrom of the keys in `fail_keys` without touching the
/// inner store. Optionally sleeps inside PutFrom so that uploads overlap.
class RecordingStore : public ObjectStore {
 public:
  explicit RecordingStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  void FailKey(std::string key) {
    std::lock_guard lock(mutex_);
    fail_keys_.insert(std::move(key));
  }
  void ClearFailures() {
    std::lock_guard lock(mutex_);
    fail_keys_.clear();
  }
  void SetDelay(std::chrono::microseconds delay) { delay_ = delay; }

  struct Event {
    bool begin = false;
    std::string key;
  };
  [[nodiscard]] std::vector<Event> Events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  /// Keys whose PutFrom began, in order.
  [[nodiscard]] std::vector<std::string> PutKeys() const {
    std::vector<std::string> keys;
    for (const auto& event : Events()) {
      if (event.begin) keys.push_back(event.key);
    }
    return keys;
  }
  void ClearEvents() {
    std::lock_guard lock(mutex_);
    events_.clear();
  }

  [[nodiscard]] std::string Url() const override { return inner_->Url(); }
  [[nodiscard]] StoreCapabilities Capabilities() const override { return inner_->Capabilities(); }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Result<ObjectInfo> GetTo(std::string_view key, const ByteSink& sink,
                           std::optional<ByteRange> range) override {
    return inner_->GetTo(key, sink, range);
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const WriteOptions& options = {}) override {
    return inner_->OpenWriter(key, options);
  }
  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override {
    return inner_->OpenReader(key);
  }
  Result<ObjectInfo> PutFrom(std::string_view key, ObjectReader& source,
                             const PutOptions& options) override {
    bool fail = false;
    {
      std::lock_guard lock(mutex_);
      events_.push_back(Event{true, std::string(key)});
      fail = fail_keys_.contains(key);
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    auto result = fail ? Result<ObjectInfo>(Fail(ErrorCode::Transient, "connection reset by peer"))
                       : inner_->PutFrom(key, source, options);
    std::lock_guard lock(mutex_);
    events_.push_back(Event{false, std::string(key)});
    return result;
  }
  Result<ObjectTags> GetTags(std::string_view key) override { return inner_->GetTags(key); }
  Result<ListPage> List(const ListOptions& options) override { return inner_->List(options); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<ObjectInfo> Copy(std::string_view source_key, std::string_view destination_key) override {
    return inner_->Copy(source_key, destination_key);
  }

 private:
  std::shared_ptr<ObjectStore> inner_;
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> fail_keys_;
  std::vector<Event> events_;
  std::chrono::microseconds delay_{0};
};

/// Every key of `store` (all pages).
inline std::vector<std::string> AllKeys(ObjectStore& store) {
  std::vector<std::string> keys;
  ListOptions options;
  while (true) {
    auto page = store.List(options);
    if (!page) {
      ADD_FAILURE() << page.error().ToString();
      return keys;
    }
    for (const auto& object : page->objects) keys.push_back(object.key);
    if (!page->IsTruncated()) return keys;
    options.continuation_token = page->next_continuation_token;
  }
}

/// Routes spdlog's default logger into a string while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] std::string Text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

/// A complete NovaSeq 6000 run (instrument id prefix "A": CopyComplete.txt is its marker) with
/// a SampleSheet.csv, two data files and the markers RTAComplete.txt and CopyComplete.txt.
inline void MakeNovaSeqRun(const std::filesystem::path& run) {
  WriteFile(run / "RunInfo.xml",
            "<RunInfo><Run Id=\"" + run.filename().string() +
                "\"><Instrument>A00689</Instrument></Run></RunInfo>");
  WriteFile(run / "SampleSheet.csv", "[Data]\nSample_ID,Sample_Name\ns1,s1\ns2,s2\n");
  WriteFile(run / "Data/L001/a.cbcl", std::string(3000, 'a'));
  WriteFile(run / "Data/L001/b.cbcl", std::string(2000, 'b'));
  WriteFile(run / "RTAComplete.txt", "1");
  WriteFile(run / "CopyComplete.txt", "");
}

/// The files MakeNovaSeqRun writes, relative to the run.
inline std::vector<std::string> NovaSeqRunFiles() {
  return {"CopyComplete.txt", "Data/L001/a.cbcl", "Data/L001/b.cbcl",
          "RTAComplete.txt",  "RunInfo.xml",      "SampleSheet.csv"};
}

}  // namespace sluice::illumina::testing
