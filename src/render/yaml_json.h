#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace obsforge::render {

/// Parses one YAML document into JSON, keeping key order. Plain scalars resolve by the YAML 1.2
/// core schema (null/~/empty, true/false, ints incl. 0x/0o, floats incl. .inf/.nan as strings);
/// quoted scalars stay strings. An empty document is null.
/// Throws core::InputError (kRender) naming `file` with the line and column of a syntax error.
nlohmann::ordered_json ParseYaml(std::string_view text, const std::string& file);

}  // namespace obsforge::render
