#include "spec/reader_limits.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

#include "core/bytes.h"
#include "core/diagnostic.h"
#include "core/utf8.h"

namespace obsforge::spec::detail {

using core::Diagnostic;
using core::InputError;

namespace {

std::string Size(std::size_t bytes) {
  if (bytes >= (1U << 20U) && bytes % (1U << 20U) == 0) {
    return std::to_string(bytes >> 20U) + " MiB";
  }
  return std::to_string(bytes) + " bytes";
}

std::size_t CountDigits(std::string_view text, std::size_t from) {
  std::size_t n = 0;
  while (from + n < text.size() && IsDigit(text[from + n])) {
    ++n;
  }
  return n;
}

}  // namespace

LimitCounter::LimitCounter(const DocumentLimits& limits, std::string file)
    : limits_(limits), file_(std::move(file)) {
}

std::string LimitCounter::MapKey(const std::string& parent,
                                 const std::string& key,
                                 Position where,
                                 std::unordered_map<std::string, int>& seen,
                                 SourceMap* positions) {
  std::string child = ChildPath(parent, key);
  Key(key.size(), where, child);
  Add(0, key.size(), where, child);
  if (const auto [it, inserted] = seen.try_emplace(key, where.line); !inserted) {
    Fail(
        where, child,
        "duplicate key \"" + key + "\" (first defined at line " + std::to_string(it->second) + ")");
  }
  if (positions != nullptr) {
    positions->keys[child] = where;
  }
  Add(0, child.size(), where, child);
  return child;
}

void LimitCounter::Open(int depth, Position where, const std::string& path) const {
  if (depth > limits_.max_depth) {
    Fail(where, path,
         "document is nested too deeply: more than " + std::to_string(limits_.max_depth) +
             " levels of maps and lists (limit max_depth)");
  }
}

void LimitCounter::Add(std::size_t count,
                       std::size_t bytes,
                       Position where,
                       const std::string& path) {
  nodes_ += count;
  bytes_ += bytes;
  if (nodes_ > limits_.max_nodes) {
    Fail(where, path,
         "document is too large: more than " + std::to_string(limits_.max_nodes) +
             " values, counting each use of a YAML alias as the values it repeats (limit "
             "max_nodes)");
  }
  if (bytes_ > limits_.max_total_bytes) {
    Fail(where, path,
         "document is too large: more than " + Size(limits_.max_total_bytes) +
             " of strings, keys and paths, counting each use of a YAML alias (limit "
             "max_total_bytes)");
  }
}

void LimitCounter::String(std::size_t size, Position where, const std::string& path) const {
  if (size > limits_.max_string_bytes) {
    Fail(where, path,
         "string is too long: " + std::to_string(size) + " bytes, more than " +
             Size(limits_.max_string_bytes) + " (limit max_string_bytes)");
  }
}

void LimitCounter::Key(std::size_t size, Position where, const std::string& path) const {
  if (size > limits_.max_key_bytes) {
    Fail(where, path,
         "key is too long: " + std::to_string(size) + " bytes, more than " +
             Size(limits_.max_key_bytes) + " (limit max_key_bytes)");
  }
}

void LimitCounter::Fail(Position where, const std::string& path, std::string message) const {
  throw InputError(InputError::Kind::kInvalidSpec, Diagnostic{.file = file_,
                                                              .line = where.line,
                                                              .column = where.column,
                                                              .path = path,
                                                              .message = std::move(message)});
}

void CheckUtf8(std::string_view text, const std::string& file) {
  const auto bad = FindInvalidUtf8(text);
  if (!bad) {
    return;
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(text[*bad]);
  const auto pos = PositionOfOffset(text, *bad);
  throw InputError(InputError::Kind::kInvalidSpec,
                   Diagnostic{.file = file,
                              .line = pos.line,
                              .column = pos.column,
                              .message = std::string("invalid UTF-8: byte 0x") + kHex[byte >> 4U] +
                                         kHex[byte & 0xFU] + " at offset " + std::to_string(*bad) +
                                         " (text must be UTF-8)"});
}

std::string NotFiniteMessage(std::string_view text) {
  constexpr std::size_t kShown = 40;
  std::string shown(text.substr(0, kShown));
  if (text.size() > kShown) {
    shown += "...";
  }
  return "number out of range: \"" + shown +
         "\" is not a finite number (JSON has no infinity or NaN; quote it if it is text)";
}

// By hand: std::regex recurses once per character and overflows the stack on long scalars.
bool IsFloatSyntax(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    ++i;
  }
  const std::size_t whole = CountDigits(text, i);
  i += whole;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t fraction = CountDigits(text, i);
    if (whole == 0 && fraction == 0) {
      return false;
    }
    i += fraction;
  } else if (whole == 0) {
    return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
      ++i;
    }
    const std::size_t exponent = CountDigits(text, i);
    if (exponent == 0) {
      return false;
    }
    i += exponent;
  }
  return i == text.size();
}

double FloatValue(std::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    text.remove_prefix(1);
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc()) {
    return negative ? -value : value;
  }
  // Out of range: overflow when the first significant digit sits at a positive power of ten.
  const std::size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  std::int64_t exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool exponent_negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      digits.remove_prefix(1);
    }
    for (const char c : digits) {
      exponent = std::min<std::int64_t>(exponent * 10 + (c - '0'), 1'000'000'000);
    }
    exponent = exponent_negative ? -exponent : exponent;
  }
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  std::int64_t magnitude = 0;  // the first significant digit stands for 10^(magnitude - 1)
  if (first != std::string_view::npos) {
    magnitude = first < point ? static_cast<std::int64_t>(point - first)
                              : -static_cast<std::int64_t>(first - point - 1);
  }
  const bool overflow = first != std::string_view::npos && magnitude + exponent > 0;
  const double out = overflow ? std::numeric_limits<double>::infinity() : 0.0;
  return negative ? -out : out;
}

}  // namespace obsforge::spec::detail

namespace obsforge::spec {

Position PositionOfOffset(std::string_view text, std::size_t offset) {
  Position pos{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

LineIndex::LineIndex(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    line_starts_.push_back(i + 1);
  }
}

Position LineIndex::At(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  // The last line start at or before `offset`.
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
  return {static_cast<int>(it - line_starts_.begin()) + 1, static_cast<int>(offset - *it) + 1};
}

}  // namespace obsforge::spec
