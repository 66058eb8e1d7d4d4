#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/exposition.h"

namespace obsforge::server {

/// obsforge's own metrics, written in the Prometheus text format (version 0.0.4, through
/// core::ExpositionWriter). Thread-safe.
class Metrics {
 public:
  /// `version` goes into obsforge_build_info.
  explicit Metrics(std::string version);

  /// One HTTP request served: `route` is the route template ("unmatched" when none); a method
  /// other than GET, HEAD, POST, PUT, DELETE, OPTIONS and PATCH is counted as "other".
  void ObserveRequest(const std::string& method,
                      const std::string& route,
                      int status,
                      double seconds);
  /// One operation finished with `outcome` (succeeded, failed, rolled_back).
  void ObserveOperation(const std::string& kind, const std::string& outcome);
  /// Duration of one apply (operations of kind create/update/apply/rollback).
  void ObserveApply(double seconds);
  /// Where the stacks gauge reads its value when scraped.
  void SetStacksSource(std::function<double()> source);
  /// Adds `collector`, whose complete metric families (HELP, TYPE and samples in the text
  /// format) are appended to every Render(); called when scraped, outside the lock.
  void AddCollector(std::function<std::string()> collector);

  /// The whole exposition: obsforge_http_requests_total, obsforge_http_request_duration_seconds,
  /// obsforge_operations_total, obsforge_apply_duration_seconds, obsforge_stacks,
  /// obsforge_build_info, then what each collector adds. Label values are escaped.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::string version_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, core::Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> operations_;
  core::Histogram apply_;
  std::function<double()> stacks_;
  std::vector<std::function<std::string()>> collectors_;
};

}  // namespace obsforge::server
