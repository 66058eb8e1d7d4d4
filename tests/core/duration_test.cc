#include "core/duration.h"

#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
// The largest duration Prometheus holds: int64 nanoseconds, in whole milliseconds.
constexpr std::int64_t kMaxMs = 9'223'372'036'854;

struct GoodCase {
  const char* text;
  std::int64_t ms;
};

const GoodCase kGood[] = {
    {"0", 0},
    {"0s", 0},
    {"0ms", 0},
    {"500ms", 500},
    {"1s", kSecond},
    {"15s", 15 * kSecond},
    {"1m", kMinute},
    {"1m30s", 90 * kSecond},
    {"1h30m", 90 * kMinute},
    {"2d", 2 * kDay},
    {"1w", 7 * kDay},
    {"1y", 365 * kDay},
    {"1y2w3d4h5m6s7ms", 365 * kDay + 17 * kDay + 4 * kHour + 5 * kMinute + 6 * kSecond + 7},
    {"90s", 90 * kSecond},   // no normalisation needed to parse
    {"0005m", 5 * kMinute},  // leading zeros, as Prometheus
    {"9223372036854ms", kMaxMs},
    {"106751d23h47m16s854ms", kMaxMs},
};

TEST(ParseDuration, AcceptsThePrometheusGrammar) {
  for (const auto& c : kGood) {
    EXPECT_EQ(ParseDuration(c.text), std::optional<milliseconds>(c.ms)) << c.text;
  }
}

const char* const kBad[] = {
    "",
    " ",
    "5",        // a number without a unit (only "0" is allowed bare)
    "00",       // ... and only exactly "0"
    "m",        // a unit without a number
    "5x",       // unknown unit
    "5M",       // units are case-sensitive
    "5sec",     // no long names
    "1m1h",     // out of order
    "5m5m",     // repeated
    "1s1ms1s",  // repeated after a smaller unit
    "30s1m",
    "-1m",   // negative
    "+1m",   // signs
    "1.5m",  // fractions
    " 5m",   // spaces
    "5m ",
    "5 m",
    "1h 30m",
    "5m\n",
    "1ms5",                               // trailing number
    "9223372036855ms",                    // one millisecond beyond the range
    "106752d",                            // beyond the range
    "300y",                               // beyond the range
    "99999999999999999999999999999999s",  // overflows any integer
    "106751d23h47m16s855ms",              // the sum overflows, each part alone does not
    "\xff"
    "5m",  // not text
};

TEST(ParseDuration, RejectsGarbageNegativesAndOverflow) {
  for (const char* text : kBad) {
    EXPECT_EQ(ParseDuration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseDuration, EmbeddedNulIsGarbage) {
  EXPECT_EQ(ParseDuration(std::string_view("5m\0", 3)), std::nullopt);
}

struct FormatCase {
  std::int64_t ms;
  const char* text;
};

const FormatCase kFormat[] = {
    {0, "0s"},
    {500, "500ms"},
    {60 * kSecond, "1m"},  // Loki answers "1m" for "60s"
    {90 * kSecond, "1m30s"},
    {90 * kMinute, "1h30m"},
    {2 * kDay, "2d"},
    {7 * kDay, "1w"},
    {14 * kDay, "2w"},
    {12 * kDay, "12d"},  // weeks only when exact: not "1w5d"
    {90 * kDay, "90d"},
    {365 * kDay, "1y"},
    {366 * kDay, "366d"},
    {kDay + 1, "1d1ms"},
    {-90 * kSecond, "-1m30s"},
};

TEST(FormatDuration, WritesWhatPrometheusWrites) {
  for (const auto& c : kFormat) {
    EXPECT_EQ(FormatDuration(milliseconds(c.ms)), c.text) << c.ms;
  }
}

TEST(FormatDuration, ParsesBackToTheSameValue) {
  for (const auto& c : kGood) {
    const milliseconds ms(c.ms);
    EXPECT_EQ(ParseDuration(FormatDuration(ms)), std::optional<milliseconds>(ms)) << c.text;
  }
}

}  // namespace
}  // namespace obsforge::core
