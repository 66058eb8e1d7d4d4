#include "core/clock.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace obsforge::core {

std::chrono::system_clock::time_point SystemClock::Now() {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::Monotonic() {
  return std::chrono::steady_clock::now();
}

void SystemClock::SleepFor(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::array<char, 8> frac{};
  std::snprintf(frac.data(), frac.size(), ".%03dZ", static_cast<int>(ms.count() % 1000));
  return std::string(buf.data(), n) + frac.data();
}

}  // namespace obsforge::core
