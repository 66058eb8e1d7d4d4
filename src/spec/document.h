#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/utf8.h"

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

/// What a parsed document may hold. Each limit is far above what a real stack spec needs (a spec
/// of a few hundred values carrying a 1 MB dashboard is well inside them) and keeps one request
/// from costing more than a few hundred MB or a few seconds, whatever the text. Breaking one is
/// an InputError whose message names the limit ("(limit max_depth)") and points at the node.
struct DocumentLimits {
  /// Maps and lists nested inside each other (YAML aliases included).
  int max_depth = 128;
  /// Values (scalars, maps and lists), counting a YAML alias as the whole tree it repeats.
  std::size_t max_nodes = 250'000;
  /// One string value, e.g. a file's content in {spec, files}.
  std::size_t max_string_bytes = 8U << 20U;
  /// One map key.
  std::size_t max_key_bytes = 1024;
  /// Every string and key, plus the paths the positions are kept under, aliases expanded.
  std::size_t max_total_bytes = 64U << 20U;
};

/// Path of the entry `key` of the map at `parent` ("" for the root). Keys that are not plain
/// identifiers (letters, digits, `_`, `-`) are written quoted: `labels["app.kubernetes.io/name"]`.
std::string ChildPath(const std::string& parent, std::string_view key);

/// Path of item `index` of the list at `parent`: `parent[index]`.
std::string IndexPath(const std::string& parent, std::size_t index);

/// YAML 1.2 core-schema value of a plain (unquoted) scalar: null (`null`, `Null`, `NULL`, `~`,
/// empty), booleans (`true`/`True`/`TRUE`, `false`/...), integers (decimal, `0x`, `0o`; beyond
/// 64 bits a double), floats (`1.5`, `1e3`, `.inf`, `-.Inf`, `.nan`; `1e999` is +infinity);
/// anything else is a string. Linear in the length of `text`; never throws.
nlohmann::json TypePlainScalar(std::string_view text);

/// Parses YAML, or JSON (detected by a first non-blank `{`), keeping the position of every node
/// and key. Plain scalars are typed per the YAML 1.2 core schema; quoted scalars are strings.
/// Time and memory are linear in the text and bounded by `limits`.
/// Throws core::InputError (kInvalidSpec) with file, line, column and path for: invalid UTF-8,
/// a syntax error, a duplicate key, a non-scalar key, an unsupported tag, a number that is not
/// finite (`1e999`, `.inf`, `.nan`: JSON cannot carry them), more than one document, or a
/// document beyond `limits`.
ParsedDocument ParseDocument(std::string_view text,
                             const std::string& file,
                             const DocumentLimits& limits = {});

/// ParseDocument keeping the keys of every map in document order, without positions. Same
/// errors and limits.
nlohmann::ordered_json ParseOrderedDocument(std::string_view text,
                                            const std::string& file,
                                            const DocumentLimits& limits = {});

/// The JSON reader behind ParseDocument (which tries it first on text starting with `{`), and
/// for JSON request bodies: nlohmann_json for the values after a linear scan that checks `limits`,
/// UTF-8 and duplicate keys and records positions. Same errors as ParseDocument.
ParsedDocument ParseJsonDocument(std::string_view text,
                                 const std::string& file,
                                 const DocumentLimits& limits = {});

/// ParseJsonDocument keeping the keys of every map in document order, without positions: for
/// JSON content (dashboards) read with the same limits and errors.
nlohmann::ordered_json ParseOrderedJson(std::string_view text,
                                        const std::string& file,
                                        const DocumentLimits& limits = {});

/// Offset of the first byte of `text` that is not part of well-formed UTF-8, or std::nullopt
/// when all of it is (core::FindInvalidUtf8, which the readers use).
using core::FindInvalidUtf8;

/// 1-based line and column of byte `offset` in `text`. Linear in `offset`: for many lookups in
/// one text use LineIndex.
Position PositionOfOffset(std::string_view text, std::size_t offset);

/// Line starts of a text, for position lookups in logarithmic time.
class LineIndex {
 public:
  /// `text` must outlive the index.
  explicit LineIndex(std::string_view text);
  /// Same as PositionOfOffset(text, offset); offsets past the end give the end's position.
  Position At(std::size_t offset) const;

 private:
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
};

}  // namespace obsforge::spec
