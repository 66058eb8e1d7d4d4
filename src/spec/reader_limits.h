#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "spec/document.h"

namespace obsforge::spec::detail {

/// What the YAML and JSON readers share: counts what a reader builds against DocumentLimits
/// and throws the core::InputError (kInvalidSpec) that names the limit and the node.
class LimitCounter {
 public:
  /// `limits` must outlive the counter.
  LimitCounter(const DocumentLimits& limits, std::string file);

  /// A map or list reaches nesting level `depth` (1 for the root; a YAML alias reaches as deep
  /// as the tree it repeats). Throws beyond max_depth.
  void Open(int depth, Position where, const std::string& path) const;
  /// `count` more values and `bytes` more bytes of strings, keys or paths. Throws beyond
  /// max_nodes or max_total_bytes.
  void Add(std::size_t count, std::size_t bytes, Position where, const std::string& path);
  /// A string value of `size` bytes. Throws beyond max_string_bytes.
  void String(std::size_t size, Position where, const std::string& path) const;
  /// A map key of `size` bytes. Throws beyond max_key_bytes.
  void Key(std::size_t size, Position where, const std::string& path) const;

  /// A key `key` at `where` of the map at `parent`: counts it and its path (throws beyond
  /// max_key_bytes or max_total_bytes), refuses a key the map already has (`seen` maps each key
  /// of that map to its line) and records its position in `positions` (may be null). Returns
  /// the path of the key's value.
  std::string MapKey(const std::string& parent,
                     const std::string& key,
                     Position where,
                     std::unordered_map<std::string, int>& seen,
                     SourceMap* positions);

  /// Throws an InputError at `where`.
  [[noreturn]] void Fail(Position where, const std::string& path, std::string message) const;

  std::size_t nodes() const { return nodes_; }
  std::size_t bytes() const { return bytes_; }
  const DocumentLimits& limits() const { return limits_; }
  const std::string& file() const { return file_; }

 private:
  const DocumentLimits& limits_;
  std::string file_;
  std::size_t nodes_ = 0;
  std::size_t bytes_ = 0;
};

/// Throws an InputError at the first byte of `text` that is not well-formed UTF-8.
void CheckUtf8(std::string_view text, const std::string& file);

/// The message for a number that does not fit a finite double (`1e999`, `.inf`).
std::string NotFiniteMessage(std::string_view text);

inline bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

/// Whether `text` is a YAML 1.2 core-schema float:
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (every JSON number is one). Linear.
bool IsFloatSyntax(std::string_view text);

/// The value of a `text` that IsFloatSyntax accepts: +-infinity beyond the range of a double,
/// +-0 below it (as strtod, but whatever the C locale).
double FloatValue(std::string_view text);

}  // namespace obsforge::spec::detail
