#pragma once
/// Metrics of one process: counters, gauges and histograms with labels, serialised in the
/// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
/// A thin front over prometheus-cpp's core library (Debian 12 prometheus-cpp-dev 1.0.1:
/// `prometheus::Registry`, `Family<Counter|Gauge|Histogram>`, `TextSerializer`), kept to what
/// `/metrics` needs: callers name series by strings, and never see prometheus-cpp types. Serving is
/// `core/http_server`'s job (prometheus-cpp's own civetweb-based `pull` part is not used).
/// docs/configuration.md, "Metrics".

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

/// Label pairs of one series, e.g. {{"route", "nucleotide"}, {"state", "pending"}}. Order does not
/// matter (series are keyed by the pairs sorted by name); a name given twice keeps its first value.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// The Prometheus metric types sluice uses.
enum class MetricType { Counter, Gauge, Histogram };

/// Default histogram buckets for durations in seconds: 1 ms … 5 min.
inline const std::vector<double> kDurationBucketsSeconds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                            1,     2.5,   5,    10,    30,    60,  300};

/// Metric families and their series. Thread-safe: every method may be called from any thread.
/// Updating a series is one mutex acquisition and two map lookups, cheap next to a job.
/// Metrics never fail a caller: an invalid metric or label name (not [a-zA-Z_:][a-zA-Z0-9_:]* and
/// [a-zA-Z_][a-zA-Z0-9_]* without a leading "__") drops the update and logs a warning.
class MetricsRegistry {
 public:
  /// Collects values computed at scrape time (queue gauges); runs at the start of Serialize().
  using Collector = std::function<void(MetricsRegistry&)>;

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  /// Declares a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; counters should end in
  /// "_total". `buckets` (upper bounds, increasing) is used by histograms only. Declaring the same
  /// name again keeps the first declaration.
  void Declare(std::string name, MetricType type, std::string help,
               std::vector<double> buckets = kDurationBucketsSeconds);

  /// Adds `delta` (≥ 0; a negative delta is ignored) to a counter series. An undeclared name is
  /// declared as a counter. Updating a family declared with another type is ignored.
  void Increment(std::string_view name, const MetricLabels& labels, double delta = 1);
  /// Sets a gauge series. An undeclared name is declared as a gauge.
  void Set(std::string_view name, const MetricLabels& labels, double value);
  /// Drops every series of a family (before a collector sets the current ones).
  void ClearSeries(std::string_view name);
  /// Records one observation in a histogram series. An undeclared name is declared as a
  /// histogram with duration buckets.
  void Observe(std::string_view name, const MetricLabels& labels, double value);

  /// Registers a collector, kept for the registry's life.
  void AddCollector(Collector collector);

  /// Runs the collectors, then writes every family that has series, sorted by name, its series
  /// sorted by labels, with prometheus-cpp's TextSerializer: "# HELP" (when there is help; "\\"
  /// and line feeds escaped), "# TYPE", then one line per series ("name{a=\"b\"} value"; histograms
  /// as _count, _sum, then cumulative _bucket{le=…} lines ending with le="+Inf"). Label values are
  /// escaped (\\, \", \n).
  [[nodiscard]] std::string Serialize();

  /// The value of one counter or gauge series (0 when absent), for tests.
  [[nodiscard]] double Value(std::string_view name, const MetricLabels& labels) const;
  /// The observation count of one histogram series (0 when absent), for tests.
  [[nodiscard]] std::uint64_t Count(std::string_view name, const MetricLabels& labels) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The Content-Type of the text exposition format 0.0.4.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sluice
