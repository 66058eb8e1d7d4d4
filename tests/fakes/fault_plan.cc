#include "fakes/fault_plan.h"

#include <utility>

namespace obsforge::fakes {

void FaultPlan::FailNext(int count, int status, std::string body, std::string path_prefix) {
  Add(Fault{.kind = Fault::Kind::kStatus,
            .status = status,
            .headers = {{"Content-Type", "text/plain; charset=utf-8"}},
            .body = std::move(body),
            .path_prefix = std::move(path_prefix)},
      count);
}

void FaultPlan::RateLimitNext(int count,
                              int retry_after_seconds,
                              std::string body,
                              std::string path_prefix) {
  Add(Fault{.kind = Fault::Kind::kStatus,
            .status = 429,
            .headers = {{"Content-Type", "text/plain; charset=utf-8"},
                        {"Retry-After", std::to_string(retry_after_seconds)}},
            .body = std::move(body),
            .path_prefix = std::move(path_prefix)},
      count);
}

void FaultPlan::ResetNext(int count, std::string path_prefix) {
  Add(Fault{.kind = Fault::Kind::kReset, .path_prefix = std::move(path_prefix)}, count);
}

void FaultPlan::Add(const Fault& fault, int count) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < count; ++i) {
    queue_.push_back(fault);
  }
}

void FaultPlan::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard lock(mutex_);
  latency_ = latency;
}

void FaultPlan::Clear() {
  std::lock_guard lock(mutex_);
  queue_.clear();
  latency_ = std::chrono::milliseconds{0};
}

std::optional<Fault> FaultPlan::Take(const std::string& path) {
  std::lock_guard lock(mutex_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (path.starts_with(it->path_prefix)) {
      Fault fault = std::move(*it);
      queue_.erase(it);
      ++delivered_;
      return fault;
    }
  }
  return std::nullopt;
}

std::chrono::milliseconds FaultPlan::latency() const {
  std::lock_guard lock(mutex_);
  return latency_;
}

int FaultPlan::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

int FaultPlan::pending() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(queue_.size());
}

}  // namespace obsforge::fakes
