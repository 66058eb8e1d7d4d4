#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::render {

/// One `import "x"` or `importstr "x"` found in Jsonnet source.
struct ImportSite {
  std::size_t begin = 0;   ///< offset of the `import`/`importstr` keyword
  std::size_t end = 0;     ///< offset just past the closing quote of the path literal
  bool is_string = false;  ///< `importstr` (the file's text) rather than `import` (its value)
  std::string path;        ///< the path literal, unescaped
};

/// Finds every import in `text`, skipping strings, verbatim strings, text blocks (`|||`) and
/// comments. Returns nullopt when the text cannot be scanned reliably (an unterminated string or
/// comment, an import of something other than a plain string literal, `importbin`, an escape
/// other than \\ \" \' \/, a use of `std.thisFile`): the caller then lets libjsonnet read the file
/// itself. Throws nothing.
std::optional<std::vector<ImportSite>> FindImports(std::string_view text);

/// The directory part of a virtual file name, as libjsonnet computes the base of relative
/// imports: everything up to and including the last '/', or "" when there is none.
std::string ImportBase(std::string_view virtual_name);

}  // namespace obsforge::render
