#include "server/metrics.h"

#include <set>

namespace obsforge::server {
namespace {

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kApplyBounds = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

// The method is a label: any method but the standard ones counts as "other", so clients cannot
// add series by inventing methods.
std::string MethodLabel(const std::string& method) {
  static const std::set<std::string> kStandard = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  return kStandard.contains(method) ? method : "other";
}

}  // namespace

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
    it = latency_.emplace(std::make_pair(label, route), core::Histogram(kLatencyBounds)).first;
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
  core::ExpositionWriter out;
  out.Family("obsforge_http_requests_total", "counter",
             "HTTP requests served, by route template and status code.");
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, code] = key;
    out.Sample("obsforge_http_requests_total",
               {{"method", method}, {"route", route}, {"code", std::to_string(code)}}, count);
  }
  out.Family("obsforge_http_request_duration_seconds", "histogram",
             "Time to serve an HTTP request.");
  for (const auto& [key, histogram] : latency_) {
    out.Samples("obsforge_http_request_duration_seconds",
                {{"method", key.first}, {"route", key.second}}, histogram);
  }
  out.Family("obsforge_operations_total", "counter", "Finished operations, by kind and outcome.");
  for (const auto& [key, count] : operations_) {
    out.Sample("obsforge_operations_total", {{"kind", key.first}, {"outcome", key.second}}, count);
  }
  out.Family("obsforge_apply_duration_seconds", "histogram",
             "Duration of applies to an environment.");
  out.Samples("obsforge_apply_duration_seconds", {}, apply_);
  out.Family("obsforge_stacks", "gauge", "Stacks stored.");
  out.Sample("obsforge_stacks", {}, stack_count);
  out.Family("obsforge_build_info", "gauge", "Build of this obsforge; always 1.");
  out.Sample("obsforge_build_info", {{"version", version_}}, std::uint64_t{1});
  out.Append(collected);
  return out.Take();
}

}  // namespace obsforge::server
