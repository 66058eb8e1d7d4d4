#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::render {

/// Where Jsonnet imports are looked up. Files get virtual names: `templates/<rel>` for the default
/// templates (embedded or `templates_dir`), `stack://<rel>` for files of the stack's content
/// source, absolute paths for `jsonnet_paths`. Messages show stack files without `stack://`.
struct JsonnetInputs {
  const spec::ContentSource* content = nullptr;  ///< the stack root; required
  std::string stack_templates;                   ///< `spec.templates` relative to the root, or ""
  std::filesystem::path templates_dir;           ///< default templates on disk; empty = embedded
  std::vector<std::string> mixin_dirs;           ///< folders of mixin files, relative to the root
  std::vector<std::filesystem::path> jsonnet_paths;  ///< extra absolute import roots
};

/// Evaluates `program` (named `program_name` in traces) with `ext_code` variables (Jsonnet code)
/// and `ext_str` variables (strings; cheaper: libjsonnet 0.18 parses each code variable as a file
/// of its own, with its standard library) and returns its output. The program and every file it
/// imports are handed to libjsonnet as ONE generated file (imports inlined); on any failure it
/// is evaluated again with real imports, so errors and their locations are libjsonnet's own. A
/// non-relative import is looked up relative to the importing file, then in the stack templates,
/// the default templates, each mixin folder and its vendor/, the stack root and `jsonnet_paths`, in
/// that order. Every file read is recorded in `*reads` (virtual name -> content) when `reads` is
/// not null. Throws core::InputError (kRender) with the file, line and column of a Jsonnet error,
/// the file being the one the user knows ("templates/prometheus/main.jsonnet",
/// "mixins/x/mixin.libsonnet").
nlohmann::ordered_json EvaluateJsonnet(const std::string& program_name,
                                       const std::string& program,
                                       const std::map<std::string, std::string>& ext_code,
                                       const JsonnetInputs& inputs,
                                       std::map<std::string, std::string>* reads,
                                       const std::map<std::string, std::string>& ext_str = {});

/// The single program EvaluateJsonnet hands to libjsonnet for `program`: every file it imports
/// inlined as a top-level local. nullopt when some file cannot be scanned (EvaluateJsonnet then
/// uses real imports). Exposed for tests. Throws what the content source throws.
std::optional<std::string> InlineImports(const std::string& program_name,
                                         const std::string& program,
                                         const JsonnetInputs& inputs);

/// Turns libjsonnet's error text into a diagnostic: message from the first line, location from
/// the first trace frame outside `program_name` (or the static error's location). Exposed for
/// tests.
core::Diagnostic ParseJsonnetError(const std::string& text, const std::string& program_name);

/// The name a user knows for a virtual file name (drops `stack://`).
std::string DisplayName(const std::string& virtual_name);

/// Prefix of virtual names of files in the stack's content source.
inline constexpr const char* kStackPrefix = "stack://";

}  // namespace obsforge::render
