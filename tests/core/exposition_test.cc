#include "core/exposition.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewlineOnly) {
  EXPECT_EQ(EscapeLabelValue("a\\b\n\"c\""), "a\\\\b\\n\\\"c\\\"");
  EXPECT_EQ(EscapeLabelValue("tab\tand ünïcode"), "tab\tand ünïcode");
  EXPECT_EQ(EscapeLabelValue(""), "");
}

TEST(ExpositionWriter, WritesFamiliesSamplesAndHistogramsByteForByte) {
  Histogram h({0.5, 1});
  h.Observe(0.25);
  h.Observe(0.5);  // a bound is inclusive
  h.Observe(7);
  ExpositionWriter out;
  out.Family("x_total", "counter", "Things.");
  out.Sample("x_total", {{"a", "1"}, {"b", "q\"uote"}}, std::uint64_t{3});
  out.Sample("x_total", {}, std::uint64_t{0});
  out.Family("x_seconds", "histogram", "Time.");
  out.Samples("x_seconds", {{"route", "/r"}}, h);
  out.Samples("y_seconds", {}, Histogram({0.1}));
  out.Append("# already text\n");
  const std::string expected =
      "# HELP x_total Things.\n"
      "# TYPE x_total counter\n"
      "x_total{a=\"1\",b=\"q\\\"uote\"} 3\n"
      "x_total 0\n"
      "# HELP x_seconds Time.\n"
      "# TYPE x_seconds histogram\n"
      "x_seconds_bucket{route=\"/r\",le=\"0.5\"} 2\n"
      "x_seconds_bucket{route=\"/r\",le=\"1\"} 2\n"
      "x_seconds_bucket{route=\"/r\",le=\"+Inf\"} 3\n"
      "x_seconds_sum{route=\"/r\"} 7.75\n"
      "x_seconds_count{route=\"/r\"} 3\n"
      "y_seconds_bucket{le=\"0.10000000000000001\"} 0\n"
      "y_seconds_bucket{le=\"+Inf\"} 0\n"
      "y_seconds_sum 0\n"
      "y_seconds_count 0\n"
      "# already text\n";
  EXPECT_EQ(out.text(), expected);
  EXPECT_EQ(out.Take(), expected);
  EXPECT_EQ(out.text(), "");
}

TEST(ExpositionWriter, FloatsUseThePrecisionAndTheFormatsSpecialValues) {
  ExpositionWriter exact;  // 17 digits: every double reads back exactly
  ExpositionWriter short_form(15);
  for (ExpositionWriter* w : {&exact, &short_form}) {
    w->Sample("v", {}, 0.1);
    w->Sample("v", {}, std::numeric_limits<double>::infinity());
    w->Sample("v", {}, -std::numeric_limits<double>::infinity());
    w->Sample("v", {}, std::nan(""));
    w->Sample("v", {}, 3.0);
  }
  EXPECT_EQ(exact.text(), "v 0.10000000000000001\nv +Inf\nv -Inf\nv NaN\nv 3\n");
  EXPECT_EQ(short_form.text(), "v 0.1\nv +Inf\nv -Inf\nv NaN\nv 3\n");
}

}  // namespace
}  // namespace obsforge::core
