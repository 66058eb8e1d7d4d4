#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "spec/document.h"
#include "spec/stack.h"

namespace obsforge::spec {

/// Every problem in a parsed stack document (docs/stack-spec.md), sorted by line and column,
/// duplicates removed: shapes and types, unknown keys (with a "did you mean"), required keys, value
/// formats, inline secrets anywhere, paths escaping the root or matching nothing in `content`, and
/// cross references (route receivers, duplicate names). Environment subtrees are checked with the
/// same rules (null allowed, as it deletes), then each environment's merged result is checked again
/// for what only the merge reveals. Returns an empty list for a valid document; never throws
/// for bad input.
std::vector<core::Diagnostic> ValidateStack(const nlohmann::json& document,
                                            const SourceMap& positions,
                                            const std::string& file,
                                            const ContentSource& content);

/// The whole document with environment `env` merged over `spec` (MergeOver) and
/// `spec.environments` removed. `env` must be a key of `spec.environments`, or absent from it
/// (then only the removal happens).
nlohmann::json MergedDocument(const nlohmann::json& document, const std::string& env);

}  // namespace obsforge::spec
