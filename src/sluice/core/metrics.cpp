#include "sluice/core/metrics.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include <prometheus/check_names.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

namespace sluice {
namespace {

// prometheus-cpp 1.0.1 writes HELP text verbatim; the format wants backslash and line feed escaped
// (exposition format 0.0.4, "Text format details"). Label values it escapes itself.
std::string EscapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The Labels of one series, or nullopt (with a warning) when a label name would make prometheus-cpp
// throw.
std::optional<prometheus::Labels> ToLabels(std::string_view metric, const MetricLabels& labels) {
  prometheus::Labels out;
  for (const auto& [name, value] : labels) {
    if (!prometheus::CheckLabelName(name)) {
      spdlog::warn("metrics: label name '{}' of '{}' is not a valid Prometheus label name; update dropped", name,
                   metric);
      return std::nullopt;
    }
    out.emplace(name, value);
  }
  return out;
}

}  // namespace

// One declared family: the prometheus-cpp family of its type (owned by `registry`) and the series
// handed out so far, so that ClearSeries can remove them and Value/Count can read them without
// creating any.
struct FamilyEntry {
  MetricType type = MetricType::Counter;
  std::vector<double> buckets;  // histograms
  prometheus::Family<prometheus::Counter>* counters = nullptr;
  prometheus::Family<prometheus::Gauge>* gauges = nullptr;
  prometheus::Family<prometheus::Histogram>* histograms = nullptr;
  std::map<prometheus::Labels, prometheus::Counter*> counter_series;
  std::map<prometheus::Labels, prometheus::Gauge*> gauge_series;
  std::map<prometheus::Labels, prometheus::Histogram*> histogram_series;
  bool valid = false;  // false: the name was refused, updates are dropped
};

struct MetricsRegistry::State {
  prometheus::Registry registry;
  mutable std::mutex mutex;
  std::map<std::string, FamilyEntry, std::less<>> families;  // guarded by mutex
  std::mutex collectors_mutex;
  std::vector<Collector> collectors;  // guarded by collectors_mutex

  FamilyEntry& DeclareLocked(std::string name, MetricType type, const std::string& help,
                             std::vector<double> buckets) {
    FamilyEntry entry;
    entry.type = type;
    entry.valid = prometheus::CheckMetricName(name);
    if (!entry.valid) {
      spdlog::warn("metrics: '{}' is not a valid Prometheus metric name; its updates are dropped", name);
    } else {
      const std::string escaped = EscapeHelp(help);
      switch (type) {
        case MetricType::Counter:
          entry.counters = &prometheus::BuildCounter().Name(name).Help(escaped).Register(registry);
          break;
        case MetricType::Gauge:
          entry.gauges = &prometheus::BuildGauge().Name(name).Help(escaped).Register(registry);
          break;
        case MetricType::Histogram:
          entry.buckets = std::move(buckets);
          entry.histograms = &prometheus::BuildHistogram().Name(name).Help(escaped).Register(registry);
          break;
      }
    }
    return families.emplace(std::move(name), std::move(entry)).first->second;
  }

  // The family `name` if it has type `type`, declaring it (without help) when absent; null when it
  // was declared with another type or refused.
  FamilyEntry* FamilyLocked(std::string_view name, MetricType type) {
    auto it = families.find(name);
    FamilyEntry* entry = it != families.end() ? &it->second
                                              : &DeclareLocked(std::string(name), type, "", kDurationBucketsSeconds);
    return entry->valid && entry->type == type ? entry : nullptr;
  }

  const FamilyEntry* FindLocked(std::string_view name) const {
    const auto it = families.find(name);
    return it == families.end() ? nullptr : &it->second;
  }
};

MetricsRegistry::MetricsRegistry() : state_(std::make_unique<State>()) {}
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::Declare(std::string name, MetricType type, std::string help, std::vector<double> buckets) {
  std::lock_guard lock(state_->mutex);
  if (state_->families.contains(name)) return;
  state_->DeclareLocked(std::move(name), type, help, std::move(buckets));
}

void MetricsRegistry::Increment(std::string_view name, const MetricLabels& labels, double delta) {
  if (!(delta > 0)) delta = 0;  // counters never go down (and NaN is not a count)
  auto key = ToLabels(name, labels);
  if (!key) return;
  std::lock_guard lock(state_->mutex);
  FamilyEntry* family = state_->FamilyLocked(name, MetricType::Counter);
  if (family == nullptr) return;
  auto [it, added] = family->counter_series.try_emplace(*key, nullptr);
  if (added) it->second = &family->counters->Add(*key);
  it->second->Increment(delta);
}

void MetricsRegistry::Set(std::string_view name, const MetricLabels& labels, double value) {
  auto key = ToLabels(name, labels);
  if (!key) return;
  std::lock_guard lock(state_->mutex);
  FamilyEntry* family = state_->FamilyLocked(name, MetricType::Gauge);
  if (family == nullptr) return;
  auto [it, added] = family->gauge_series.try_emplace(*key, nullptr);
  if (added) it->second = &family->gauges->Add(*key);
  it->second->Set(value);
}

void MetricsRegistry::ClearSeries(std::string_view name) {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->families.find(name);
  if (it == state_->families.end()) return;
  FamilyEntry& family = it->second;
  for (const auto& [labels, series] : family.counter_series) family.counters->Remove(series);
  for (const auto& [labels, series] : family.gauge_series) family.gauges->Remove(series);
  for (const auto& [labels, series] : family.histogram_series) family.histograms->Remove(series);
  family.counter_series.clear();
  family.gauge_series.clear();
  family.histogram_series.clear();
}

void MetricsRegistry::Observe(std::string_view name, const MetricLabels& labels, double value) {
  auto key = ToLabels(name, labels);
  if (!key) return;
  std::lock_guard lock(state_->mutex);
  FamilyEntry* family = state_->FamilyLocked(name, MetricType::Histogram);
  if (family == nullptr) return;
  auto [it, added] = family->histogram_series.try_emplace(*key, nullptr);
  if (added) it->second = &family->histograms->Add(*key, family->buckets);
  it->second->Observe(value);
}

void MetricsRegistry::AddCollector(Collector collector) {
  std::lock_guard lock(state_->collectors_mutex);
  state_->collectors.push_back(std::move(collector));
}

std::string MetricsRegistry::Serialize() {
  {
    // Collectors update series through the public methods, so they run without `mutex` held.
    std::lock_guard lock(state_->collectors_mutex);
    for (const auto& collector : state_->collectors) collector(*this);
  }
  // Registry::Collect returns families in registration order and series in hash order; a stable
  // order makes the page diffable and testable.
  std::vector<prometheus::MetricFamily> families = state_->registry.Collect();
  std::sort(families.begin(), families.end(),
            [](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) { return a.name < b.name; });
  for (auto& family : families) {
    std::sort(family.metric.begin(), family.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) { return a.label < b.label; });
  }
  return prometheus::TextSerializer().Serialize(families);
}

double MetricsRegistry::Value(std::string_view name, const MetricLabels& labels) const {
  auto key = ToLabels(name, labels);
  if (!key) return 0;
  std::lock_guard lock(state_->mutex);
  const FamilyEntry* family = state_->FindLocked(name);
  if (family == nullptr) return 0;
  if (const auto it = family->counter_series.find(*key); it != family->counter_series.end()) {
    return it->second->Value();
  }
  if (const auto it = family->gauge_series.find(*key); it != family->gauge_series.end()) return it->second->Value();
  return 0;
}

std::uint64_t MetricsRegistry::Count(std::string_view name, const MetricLabels& labels) const {
  auto key = ToLabels(name, labels);
  if (!key) return 0;
  std::lock_guard lock(state_->mutex);
  const FamilyEntry* family = state_->FindLocked(name);
  if (family == nullptr) return 0;
  const auto it = family->histogram_series.find(*key);
  return it == family->histogram_series.end() ? 0 : it->second->Collect().histogram.sample_count;
}

}  // namespace sluice
