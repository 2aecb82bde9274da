#pragma once
/// A small metrics registry: counters, gauges and histograms with labels, serialised in the
/// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
/// It covers what `/metrics` needs and nothing more (no summaries, no timestamps, no exemplars).
/// Debian 12's prometheus-cpp-dev 1.0.1 could replace the inside behind this interface
/// (docs/configuration.md, "Metrics").

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

/// Label pairs of one series, e.g. {{"route", "nucleotide"}, {"state", "pending"}}. Order does not
/// matter (series are keyed by the sorted pairs).
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// The Prometheus metric types sluice uses.
enum class MetricType { Counter, Gauge, Histogram };

/// Default histogram buckets for durations in seconds: 1 ms … 5 min.
inline const std::vector<double> kDurationBucketsSeconds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                            1,     2.5,   5,    10,    30,    60,  300};

/// Metric families and their series. Thread-safe: every method may be called from any thread.
/// Updating a series is one mutex acquisition and a map lookup, cheap next to a job.
class MetricsRegistry {
 public:
  /// Collects values computed at scrape time (queue gauges); runs at the start of Serialize().
  using Collector = std::function<void(MetricsRegistry&)>;

  /// Declares a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; counters should end in
  /// "_total". `buckets` (upper bounds, increasing) is used by histograms only. Declaring the same
  /// name again keeps the first declaration.
  void Declare(std::string name, MetricType type, std::string help,
               std::vector<double> buckets = kDurationBucketsSeconds);

  /// Adds `delta` (≥ 0) to a counter series. An undeclared name is declared as a counter.
  void Increment(std::string_view name, const MetricLabels& labels, double delta = 1);
  /// Sets a gauge series. An undeclared name is declared as a gauge.
  void Set(std::string_view name, const MetricLabels& labels, double value);
  /// Drops every series of a gauge family (before a collector sets the current ones).
  void ClearSeries(std::string_view name);
  /// Records one observation in a histogram series. An undeclared name is declared as a
  /// histogram with duration buckets.
  void Observe(std::string_view name, const MetricLabels& labels, double value);

  /// Registers a collector, kept for the registry's life.
  void AddCollector(Collector collector);

  /// Runs the collectors, then writes every family (sorted by name, series sorted by labels):
  /// "# HELP", "# TYPE", then one line per series ("name{a=\"b\"} value"; histograms as
  /// _bucket{le=…} cumulative counts, _sum and _count). Label values are escaped (\\, \", \n).
  [[nodiscard]] std::string Serialize();

  /// The value of one counter or gauge series (0 when absent), for tests.
  [[nodiscard]] double Value(std::string_view name, const MetricLabels& labels) const;
  /// The observation count of one histogram series (0 when absent), for tests.
  [[nodiscard]] std::uint64_t Count(std::string_view name, const MetricLabels& labels) const;

 private:
  struct Series {
    double value = 0;                  // counter or gauge
    std::vector<std::uint64_t> counts;  // histogram: per bucket (not cumulative), then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    MetricType type = MetricType::Counter;
    std::string help;
    std::vector<double> buckets;
    std::map<MetricLabels, Series> series;
  };

  Family& FamilyLocked(std::string_view name, MetricType type);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mutex_
  std::vector<Collector> collectors_;                     // guarded by collectors_mutex_
  std::mutex collectors_mutex_;
};

/// The Content-Type of the text exposition format 0.0.4.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sluice
