#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace obsforge::render {

/// Writes `value` as one YAML document: block style, 2-space indentation, keys in the order the
/// value holds them, and every string quoted when YAML 1.1 or 1.2 would read it as anything but
/// that string (booleans and null in every spelling, numbers of any form, leading indicators,
/// ": " or " #" inside, edge spaces, control characters). Multi-line strings become literal
/// blocks with the chomping indicator that keeps their trailing newlines. Ends with a newline.
/// Never throws for a JSON value (strings must be valid UTF-8 only in the sense that bytes are
/// copied through).
std::string EmitYaml(const nlohmann::ordered_json& value);
/// Same, for a value with sorted keys.
std::string EmitYaml(const nlohmann::json& value);

/// JSON with 2-space indentation and a final newline. Throws nlohmann::json::type_error when a
/// string is not valid UTF-8.
std::string EmitJson(const nlohmann::ordered_json& value);
/// Same, for a value with sorted keys.
std::string EmitJson(const nlohmann::json& value);

/// INI: top-level scalars first as `key = value`, then each top-level object as `[section]` with
/// its scalars; arrays of scalars are joined with ","; null is an empty value.
/// Throws std::invalid_argument when `value` is not an object, a section holds an object, or a
/// value holds a newline (INI cannot carry it).
std::string EmitIni(const nlohmann::ordered_json& value);
/// Same, for a value with sorted keys.
std::string EmitIni(const nlohmann::json& value);

/// Whether EmitYaml writes `text` as a plain (unquoted) scalar. Exposed for tests.
bool IsPlainYamlSafe(const std::string& text);

}  // namespace obsforge::render
