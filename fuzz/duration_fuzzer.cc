// Durations as specs, rule files and obsforge.yaml write them (`30s`, `1h30m`, `500ms`): the one
// parser, core::ParseDuration, never overflows, stays within what Prometheus takes (an int64 of
// nanoseconds), reads back what FormatDuration writes, and is what the spec's check says.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/duration.h"
#include "fuzz_check.h"
#include "spec/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = obsforge::core::ParseDuration(text);
  FUZZ_CHECK(obsforge::spec::IsDuration(text) == parsed.has_value());
  if (parsed) {
    FUZZ_CHECK(parsed->count() >= 0);
    FUZZ_CHECK(parsed->count() <= std::numeric_limits<std::int64_t>::max() / 1'000'000);
    FUZZ_CHECK(obsforge::core::ParseDuration(obsforge::core::FormatDuration(*parsed)) == parsed);
  }
  return 0;
}
