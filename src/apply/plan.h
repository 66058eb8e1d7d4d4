#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "render/bundle.h"

namespace obsforge::apply {

/// How one file differs between what is applied and what is desired.
enum class ChangeKind { kAdded, kChanged, kRemoved };

/// "added", "changed" or "removed".
const char* ChangeKindName(ChangeKind kind);

/// One file an apply would write or delete.
struct FileChange {
  std::string path;   ///< bundle path, e.g. "prometheus/rules/api.yaml"
  ChangeKind change;  ///< added / changed / removed
  std::string diff;   ///< unified diff (see FileDiff); /dev/null on the missing side
};

/// Counts of FileChange by kind.
struct PlanSummary {
  int added = 0;
  int changed = 0;
  int removed = 0;
};

/// What an apply would change: files in path order, with a summary. Computing one changes nothing.
struct Plan {
  std::vector<FileChange> files;
  PlanSummary summary;

  /// True when nothing would change.
  bool empty() const { return files.empty(); }
  /// Components (spec names, e.g. "otel_collector") owning at least one changed file.
  std::set<std::string> Components() const;
  /// For the CLI: every diff, then a line "Plan: A to add, C to change, R to remove." (or
  /// "No changes." when empty).
  std::string ToText() const;
  /// For the API: {"files": [{"path","change","diff"}], "summary": {"added","changed","removed"}}.
  nlohmann::json ToJson() const;
};

/// Compares `desired` with `applied` (nullopt: nothing applied yet, every file is added).
/// Pure; never throws except std::bad_alloc.
Plan ComputePlan(const render::Bundle& desired, const std::optional<render::Bundle>& applied);

/// The component owning a bundle path: its first segment, with the directory name mapped to
/// the spec's component name ("otel-collector" -> "otel_collector"). "" for top-level files such
/// as MANIFEST.json and for unknown directories.
std::string ComponentOfPath(const std::string& path);

/// The files of `bundle` that belong to `component`.
render::Bundle ComponentFiles(const render::Bundle& bundle, const std::string& component);

}  // namespace obsforge::apply
