#include "core/duration.h"

#include <array>
#include <cstdint>

namespace obsforge::core {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ms;
  bool exact_only;  // formatted only when it divides the rest (Prometheus prefers "90d" to "12w6d")
};

constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr std::array<Unit, 7> kUnits = {{{"y", 365 * kDay, true},
                                         {"w", 7 * kDay, true},
                                         {"d", kDay, false},
                                         {"h", 3600LL * 1000, false},
                                         {"m", 60LL * 1000, false},
                                         {"s", 1000, false},
                                         {"ms", 1, false}}};

// Prometheus keeps durations as int64 nanoseconds.
constexpr std::int64_t kMaxMs = INT64_MAX / 1'000'000;

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text == "0") {
    return std::chrono::milliseconds(0);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::size_t next_unit = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t value = 0;
    const std::size_t start = i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      value = value * 10 + (text[i] - '0');
      if (value > kMaxMs) {
        return std::nullopt;
      }
    }
    if (i == start) {
      return std::nullopt;
    }
    std::size_t u = next_unit;
    for (; u < kUnits.size(); ++u) {
      const auto name = kUnits[u].name;
      // "m" must not take the "m" of "ms".
      if (text.substr(i, name.size()) == name && !(name == "m" && text.substr(i, 2) == "ms")) {
        break;
      }
    }
    if (u == kUnits.size()) {
      return std::nullopt;
    }
    if (value > (kMaxMs - total) / kUnits[u].ms) {
      return std::nullopt;
    }
    total += value * kUnits[u].ms;
    i += kUnits[u].name.size();
    next_unit = u + 1;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string out;
  if (ms < 0) {
    out = "-";
    // INT64_MIN has no positive counterpart; it is far outside Prometheus's range anyway.
    ms = ms == INT64_MIN ? INT64_MAX : -ms;
  }
  for (const Unit& unit : kUnits) {
    if (unit.exact_only && ms % unit.ms != 0) {
      continue;
    }
    if (const std::int64_t v = ms / unit.ms; v > 0) {
      out += std::to_string(v);
      out += unit.name;
      ms -= v * unit.ms;
    }
  }
  return out;
}

}  // namespace obsforge::core
