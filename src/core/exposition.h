#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obsforge::core {

/// A histogram with fixed upper bounds, as the Prometheus text format exposes one.
struct Histogram {
  std::vector<double> bounds;         ///< ascending upper bounds (`le`); +Inf is implied
  std::vector<std::uint64_t> counts;  ///< per bucket, not cumulative; bounds.size() + 1 (+Inf)
  double sum = 0;
  std::uint64_t count = 0;

  /// An empty histogram with `bounds` (ascending).
  explicit Histogram(std::vector<double> bounds);
  /// Counts `value` in the first bucket whose bound is >= value.
  void Observe(double value);
};

/// Escapes a label value for the text format: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

/// The labels of one sample, written in this order; values are escaped by the writer.
using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// Writes the Prometheus text exposition format (version 0.0.4) into a string: one family
/// header, then its samples. Floating-point values are written with `precision` significant
/// digits (printf "%.<precision>g"; 17 gives back every double exactly), infinities as
/// "+Inf"/"-Inf", NaN as "NaN"; integers as integers. Not thread-safe; never throws but
/// std::bad_alloc.
class ExpositionWriter {
 public:
  explicit ExpositionWriter(int precision = 17) : precision_(precision) {}

  /// `# HELP <name> <help>` and `# TYPE <name> <type>` (counter, gauge, histogram, ...).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  /// `<name>{<labels>} <value>` (no braces without labels).
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, std::uint64_t value);
  /// The samples of one histogram: `<name>_bucket{<labels>,le="..."}` with cumulative counts
  /// for every bound and +Inf, then `<name>_sum` and `<name>_count`.
  void Samples(std::string_view name, const Labels& labels, const Histogram& histogram);
  /// Text already in the format (complete families), appended as it is.
  void Append(std::string_view text) { out_ += text; }

  /// What was written so far.
  const std::string& text() const { return out_; }
  /// Moves the text out; the writer is empty afterwards.
  std::string Take() { return std::exchange(out_, {}); }

 private:
  std::string Number(double value) const;
  void LabelSet(const Labels& labels, std::string_view extra_name, std::string_view extra_value);

  int precision_;
  std::string out_;
};

}  // namespace obsforge::core
