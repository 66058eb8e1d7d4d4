// Durations as specs write them (`30s`, `1h30m`, `500ms`): the spec's check and the renderer's
// seconds agree, and stay within what Prometheus takes (an int64 of nanoseconds).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "fuzz_check.h"
#include "render/check.h"
#include "spec/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool spec_says = obsforge::spec::IsDuration(text);
  const auto seconds = obsforge::render::DurationSeconds(text);
  FUZZ_CHECK(obsforge::render::IsDuration(text) == seconds.has_value());
  FUZZ_CHECK(spec_says == seconds.has_value());
  if (seconds) {
    FUZZ_CHECK(*seconds >= 0);
    FUZZ_CHECK(*seconds <= std::numeric_limits<std::int64_t>::max() / 1'000'000'000);
  }
  return 0;
}
