#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace obsforge::server {
namespace {

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kApplyBounds = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

std::string FormatDouble(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

void WriteHistogram(std::ostringstream& out,
                    const std::string& name,
                    const std::string& labels,
                    const Histogram& h) {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le = i < h.bounds.size() ? FormatDouble(h.bounds[i]) : std::string("+Inf");
    out << name << "_bucket{" << labels << sep << "le=\"" << le << "\"} " << cumulative << "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_sum" << braces << " " << FormatDouble(h.sum) << "\n";
  out << name << "_count" << braces << " " << h.count << "\n";
}

// The method is a label: any method but the standard ones counts as "other", so clients cannot
// add series by inventing methods.
std::string MethodLabel(const std::string& method) {
  static const std::set<std::string> kStandard = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  return kStandard.contains(method) ? method : "other";
}

}  // namespace

Histogram::Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1) {
}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  sum += value;
  ++count;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Metrics::Metrics(std::string version) : version_(std::move(version)), apply_(kApplyBounds) {
}

void Metrics::ObserveRequest(const std::string& method,
                             const std::string& route,
                             int status,
                             double seconds) {
  const std::string label = MethodLabel(method);
  std::lock_guard lock(mu_);
  ++requests_[{label, route, status}];
  auto it = latency_.find({label, route});
  if (it == latency_.end()) {
    it = latency_.emplace(std::make_pair(label, route), Histogram(kLatencyBounds)).first;
  }
  it->second.Observe(seconds);
}

void Metrics::ObserveOperation(const std::string& kind, const std::string& outcome) {
  std::lock_guard lock(mu_);
  ++operations_[{kind, outcome}];
}

void Metrics::ObserveApply(double seconds) {
  std::lock_guard lock(mu_);
  apply_.Observe(seconds);
}

void Metrics::SetStacksSource(std::function<double()> source) {
  std::lock_guard lock(mu_);
  stacks_ = std::move(source);
}

void Metrics::AddCollector(std::function<std::string()> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::function<double()> stacks;
  std::vector<std::function<std::string()>> collectors;
  {
    std::lock_guard lock(mu_);
    stacks = stacks_;
    collectors = collectors_;
  }
  // Read outside the lock: the source may query the store.
  const double stack_count = stacks ? stacks() : 0;
  std::string collected;
  for (const auto& collector : collectors) {
    collected += collector();
  }

  std::lock_guard lock(mu_);
  std::ostringstream out;
  out << "# HELP obsforge_http_requests_total HTTP requests served, by route template and status "
         "code.\n# TYPE obsforge_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, code] = key;
    out << "obsforge_http_requests_total{method=\"" << EscapeLabelValue(method) << "\",route=\""
        << EscapeLabelValue(route) << "\",code=\"" << code << "\"} " << count << "\n";
  }
  out << "# HELP obsforge_http_request_duration_seconds Time to serve an HTTP request.\n"
         "# TYPE obsforge_http_request_duration_seconds histogram\n";
  for (const auto& [key, histogram] : latency_) {
    WriteHistogram(out, "obsforge_http_request_duration_seconds",
                   "method=\"" + EscapeLabelValue(key.first) + "\",route=\"" +
                       EscapeLabelValue(key.second) + "\"",
                   histogram);
  }
  out << "# HELP obsforge_operations_total Finished operations, by kind and outcome.\n"
         "# TYPE obsforge_operations_total counter\n";
  for (const auto& [key, count] : operations_) {
    out << "obsforge_operations_total{kind=\"" << EscapeLabelValue(key.first) << "\",outcome=\""
        << EscapeLabelValue(key.second) << "\"} " << count << "\n";
  }
  out << "# HELP obsforge_apply_duration_seconds Duration of applies to an environment.\n"
         "# TYPE obsforge_apply_duration_seconds histogram\n";
  WriteHistogram(out, "obsforge_apply_duration_seconds", "", apply_);
  out << "# HELP obsforge_stacks Stacks stored.\n# TYPE obsforge_stacks gauge\n"
      << "obsforge_stacks " << FormatDouble(stack_count) << "\n";
  out << "# HELP obsforge_build_info Build of this obsforge; always 1.\n"
         "# TYPE obsforge_build_info gauge\n"
      << "obsforge_build_info{version=\"" << EscapeLabelValue(version_) << "\"} 1\n";
  out << collected;
  return out.str();
}

}  // namespace obsforge::server
