#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace obsforge::spec {

/// A place in the user's text, 1-based.
struct Position {
  int line = 0;
  int column = 0;
  bool operator==(const Position&) const = default;
};

/// Where each node of a parsed document was written, by document path
/// (`spec.components.prometheus.scrape[0].targets[1]`, see ChildPath/IndexPath).
struct SourceMap {
  std::unordered_map<std::string, Position> values;  ///< position of the value at a path
  std::unordered_map<std::string, Position> keys;    ///< position of the map key that names a path

  /// The value's position; falls back to the nearest ancestor that has one, else {0, 0}.
  Position Value(const std::string& path) const;
  /// The key's position for a map entry; falls back to Value(path).
  Position Key(const std::string& path) const;
};

/// A document as parsed from the user's text, with positions.
struct ParsedDocument {
  nlohmann::json document;
  SourceMap positions;
};

/// Path of the entry `key` of the map at `parent` ("" for the root). Keys that are not plain
/// identifiers (letters, digits, `_`, `-`) are written quoted: `labels["app.kubernetes.io/name"]`.
std::string ChildPath(const std::string& parent, std::string_view key);

/// Path of item `index` of the list at `parent`: `parent[index]`.
std::string IndexPath(const std::string& parent, std::size_t index);

/// YAML 1.2 core-schema value of a plain (unquoted) scalar: null (`null`, `Null`, `NULL`, `~`,
/// empty), booleans (`true`/`True`/`TRUE`, `false`/...), integers (decimal, `0x`, `0o`), floats
/// (`1.5`, `1e3`, `.inf`, `-.Inf`, `.nan`); anything else is a string.
nlohmann::json TypePlainScalar(std::string_view text);

/// Parses YAML, or JSON (detected by a first non-blank `{`), keeping the position of every node
/// and key. Plain scalars are typed per the YAML 1.2 core schema; quoted scalars are strings.
/// Throws core::InputError (kInvalidSpec) for a syntax error, a duplicate key, a non-scalar key,
/// an unsupported tag, or a document nested too deeply or too large.
ParsedDocument ParseDocument(std::string_view text, const std::string& file);

/// The JSON fallback of ParseDocument for JSON that yaml-cpp refuses: nlohmann_json for the
/// values, a scanner for positions. Same errors as ParseDocument.
ParsedDocument ParseJsonDocument(std::string_view text, const std::string& file);

/// 1-based line and column of byte `offset` in `text`.
Position PositionOfOffset(std::string_view text, std::size_t offset);

}  // namespace obsforge::spec
