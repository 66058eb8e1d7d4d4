#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "spec/document.h"
#include "spec/stack.h"

// A small combinator library for describing the shape of a document: each Check inspects one
// value and reports what is wrong with it. validate.cc builds the stack schema from these.
namespace obsforge::spec::schema {

/// Everything a Check needs: where to report, how to locate a path, and the content source
/// that paths must stay in.
struct Context {
  std::string file;
  /// Position of the value (key = false) or of its key (key = true) at a path.
  std::function<Position(const std::string& path, bool key)> locate;
  const ContentSource* content = nullptr;
  std::vector<core::Diagnostic>* out = nullptr;
  /// Inside an environment overlay: null is accepted anywhere (it deletes), and checks that need
  /// the whole picture (cross references) wait for the merged document.
  bool overlay = false;

  /// Records `message` at the value (or key) at `path`.
  void Report(const std::string& path, std::string message, bool at_key = false) const;
};

/// Checks one value at a path.
using Check = std::function<void(Context&, const nlohmann::json&, const std::string&)>;

/// One entry of a map schema.
struct Field {
  std::string name;
  Check check;
  bool required = false;
};

/// "a map", "a list", "a string", "a boolean", "an integer", "a number", "null".
std::string TypeName(const nlohmann::json& value);
/// The value as a user would write it in a message: strings in double quotes.
std::string Quote(const nlohmann::json& value);

/// Runs `check` unless the value is null inside an overlay.
void Run(const Check& check, Context& ctx, const nlohmann::json& value, const std::string& path);

Check Any();
Check String();
Check Bool();
/// An integer >= min; below it: `<name> must be at least <min>`.
Check Int(std::int64_t min, std::int64_t max);
Check Number();
/// A string matching `predicate`, else `"<value>" is not <what>`.
Check Format(std::function<bool(std::string_view)> predicate, std::string what);
/// A string that is one of `allowed`.
Check Enum(std::vector<std::string> allowed);
/// Any map (pass-through blobs): no key checks.
Check AnyMap();
/// A map of string to string.
Check StringMap();
Check ListOf(Check item);
/// A single item or a list of them.
Check OneOrList(Check item);
/// Accepts null (e.g. `loki:` = enabled with defaults), else `check`.
Check Nullable(Check check);
/// A map with known keys. Unknown keys are reported as `unknown <noun> "x"` with a did-you-mean;
/// `post` checks run on the map afterwards (cross-field rules).
Check MapOf(std::vector<Field> fields, std::vector<Check> post = {}, std::string noun = "key");
/// `check` looked up when run, for recursive shapes.
Check Lazy(const Check* check);
/// `{secret: NAME}` or `{secret_file: PATH}`; a string is an inline secret.
Check SecretRef();
/// A path or glob relative to the stack root that must match at least one file.
Check Glob();
/// A file relative to the stack root that must exist and end with one of `extensions`.
Check File(std::vector<std::string> extensions);
/// A directory relative to the stack root that must hold files.
Check Directory();

}  // namespace obsforge::spec::schema
