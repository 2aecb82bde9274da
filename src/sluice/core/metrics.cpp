#include "sluice/core/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sluice {
namespace {

MetricLabels Sorted(MetricLabels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Histogram: return "histogram";
  }
  return "untyped";
}

// Label values escape backslash, double quote and line feed; HELP text escapes backslash and
// line feed (exposition format 0.0.4, "Text format details").
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

std::string LabelText(const MetricLabels& labels, std::string_view extra_name = {},
                      std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += fmt::format("{}=\"{}\"", name, Escape(value, true));
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out += fmt::format("{}=\"{}\"", extra_name, extra_value);
  }
  out.push_back('}');
  return out;
}

}  // namespace

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(std::string_view name, MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    Family family;
    family.type = type;
    if (type == MetricType::Histogram) family.buckets = kDurationBucketsSeconds;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  return it->second;
}

void MetricsRegistry::Declare(std::string name, MetricType type, std::string help, std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  if (families_.contains(name)) return;
  Family family;
  family.type = type;
  family.help = std::move(help);
  if (type == MetricType::Histogram) family.buckets = std::move(buckets);
  families_.emplace(std::move(name), std::move(family));
}

void MetricsRegistry::Increment(std::string_view name, const MetricLabels& labels, double delta) {
  std::lock_guard lock(mutex_);
  FamilyLocked(name, MetricType::Counter).series[Sorted(labels)].value += std::max(delta, 0.0);
}

void MetricsRegistry::Set(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  FamilyLocked(name, MetricType::Gauge).series[Sorted(labels)].value = value;
}

void MetricsRegistry::ClearSeries(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto it = families_.find(name); it != families_.end()) it->second.series.clear();
}

void MetricsRegistry::Observe(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mutex_);
  Family& family = FamilyLocked(name, MetricType::Histogram);
  Series& series = family.series[Sorted(labels)];
  if (series.counts.empty()) series.counts.assign(family.buckets.size() + 1, 0);
  const auto bucket = std::lower_bound(family.buckets.begin(), family.buckets.end(), value);
  ++series.counts[static_cast<std::size_t>(bucket - family.buckets.begin())];
  series.sum += value;
  ++series.count;
}

void MetricsRegistry::AddCollector(Collector collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Serialize() {
  {
    // Collectors update series through the public methods, so they run without mutex_ held.
    std::lock_guard lock(collectors_mutex_);
    for (const auto& collector : collectors_) collector(*this);
  }
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) out += fmt::format("# HELP {} {}\n", name, Escape(family.help, false));
    out += fmt::format("# TYPE {} {}\n", name, TypeName(family.type));
    for (const auto& [labels, series] : family.series) {
      if (family.type != MetricType::Histogram) {
        out += fmt::format("{}{} {}\n", name, LabelText(labels), FormatValue(series.value));
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < family.buckets.size(); ++i) {
        cumulative += series.counts[i];
        out += fmt::format("{}_bucket{} {}\n", name, LabelText(labels, "le", FormatValue(family.buckets[i])),
                           cumulative);
      }
      out += fmt::format("{}_bucket{} {}\n", name, LabelText(labels, "le", "+Inf"), series.count);
      out += fmt::format("{}_sum{} {}\n", name, LabelText(labels), FormatValue(series.sum));
      out += fmt::format("{}_count{} {}\n", name, LabelText(labels), series.count);
    }
  }
  return out;
}

double MetricsRegistry::Value(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard lock(mutex_);
  const auto family = families_.find(name);
  if (family == families_.end()) return 0;
  const auto series = family->second.series.find(Sorted(labels));
  return series == family->second.series.end() ? 0 : series->second.value;
}

std::uint64_t MetricsRegistry::Count(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard lock(mutex_);
  const auto family = families_.find(name);
  if (family == families_.end()) return 0;
  const auto series = family->second.series.find(Sorted(labels));
  return series == family->second.series.end() ? 0 : series->second.count;
}

}  // namespace sluice
