#pragma once

#include <chrono>

namespace obsforge::core {

/// Source of time. Inject it; tests use a fake (tests/core/fake_clock.h).
class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time, for timestamps shown to users.
  virtual std::chrono::system_clock::time_point Now() = 0;
  /// Monotonic time, for deadlines and durations.
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  /// Blocks for `d` (a fake clock advances instead).
  virtual void SleepFor(std::chrono::milliseconds d) = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point Monotonic() override;
  void SleepFor(std::chrono::milliseconds d) override;
};

/// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T03:01:29.123Z".
std::string FormatTime(std::chrono::system_clock::time_point t);

}  // namespace obsforge::core
