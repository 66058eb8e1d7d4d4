#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace obsforge::testing {

/// Threads that meet: each Arrive() waits until `n` have arrived (then every later one passes
/// through), or `limit` passed, which only ends a failing test. Woken by arrivals, never by time.
class Meeting {
 public:
  explicit Meeting(int n) : n_(n) {}
  /// True when `n` arrived in time.
  bool Arrive(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.notify_all();
    return cv_.wait_for(lock, limit, [this] { return arrived_ >= n_; });
  }

 private:
  const int n_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
};

}  // namespace obsforge::testing
