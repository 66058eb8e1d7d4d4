#pragma once

#include <chrono>
#include <mutex>

#include "core/clock.h"

namespace obsforge::testing {

/// A clock that moves only when told to (or when slept on). Thread-safe.
class FakeClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point Monotonic() override {
    std::lock_guard lock(mu_);
    return mono_;
  }
  void SleepFor(std::chrono::milliseconds d) override { Advance(d); }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    wall_ += d;
    mono_ += d;
  }

 private:
  std::mutex mu_;
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'800'000'000)};
  std::chrono::steady_clock::time_point mono_{std::chrono::seconds(1000)};
};

}  // namespace obsforge::testing
