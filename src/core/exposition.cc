#include "core/exposition.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace obsforge::core {

Histogram::Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1) {
}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  sum += value;
  ++count;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string ExpositionWriter::Number(double value) const {
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(value)) {
    return "NaN";
  }
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*g", precision_, value);
  return buf.data();
}

void ExpositionWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void ExpositionWriter::LabelSet(const Labels& labels,
                                std::string_view extra_name,
                                std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) {
    return;
  }
  out_ += '{';
  const char* sep = "";
  for (const auto& [name, value] : labels) {
    out_.append(sep).append(name).append("=\"").append(EscapeLabelValue(value)).append("\"");
    sep = ",";
  }
  if (!extra_name.empty()) {
    out_.append(sep).append(extra_name).append("=\"").append(extra_value).append("\"");
  }
  out_ += '}';
}

void ExpositionWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  LabelSet(labels, {}, {});
  out_.append(" ").append(Number(value)).append("\n");
}

void ExpositionWriter::Sample(std::string_view name, const Labels& labels, std::uint64_t value) {
  out_.append(name);
  LabelSet(labels, {}, {});
  out_.append(" ").append(std::to_string(value)).append("\n");
}

void ExpositionWriter::Samples(std::string_view name, const Labels& labels, const Histogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    out_.append(bucket);
    LabelSet(labels, "le", i < h.bounds.size() ? Number(h.bounds[i]) : std::string("+Inf"));
    out_.append(" ").append(std::to_string(cumulative)).append("\n");
  }
  out_.append(name).append("_sum");
  LabelSet(labels, {}, {});
  out_.append(" ").append(Number(h.sum)).append("\n");
  out_.append(name).append("_count");
  LabelSet(labels, {}, {});
  out_.append(" ").append(std::to_string(h.count)).append("\n");
}

}  // namespace obsforge::core
