#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/grafana_provisioner.h"
#include "provision/loki_ruler.h"
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

/// What the provision step of an apply would change (or changed) through upstream APIs.
struct ObjectPlan {
  /// Grafana objects, in apply order (see provision::GrafanaPlan).
  std::vector<provision::ObjectChange> grafana;
  /// Loki ruler rule groups (only where Loki's rules are API-managed).
  std::vector<provision::LokiChange> loki;
  /// Objects in the way that obsforge does not own: an apply fails on them, never overwrites.
  std::vector<provision::Conflict> conflicts;
  /// What could not be planned and why ("grafana: unreachable: ..."), and notes that change
  /// nothing ("folder \"x\" exists and is used as is").
  std::vector<std::string> notes;

  /// True when no object would be written.
  bool empty() const { return grafana.empty() && loki.empty(); }
};

/// What an apply would change: files in path order, with a summary, and API objects.
/// Computing one changes nothing.
struct Plan {
  std::vector<FileChange> files;
  PlanSummary summary;
  ObjectPlan objects;

  /// True when nothing would change (no file, no API object).
  bool empty() const { return files.empty() && objects.empty(); }
  /// Components (spec names, e.g. "otel_collector") owning at least one changed file.
  std::set<std::string> Components() const;
  /// For the CLI: every diff, then a line "Plan: A to add, C to change, R to remove." (or
  /// "No changes." when no file changes); then, when there are any, the API object changes
  /// ("grafana: update dashboard \"uid\" (Title): 1 field" followed by "    path: before -> after"
  /// lines), conflicts ("grafana: CONFLICT ..."), notes ("note: ...") and a line
  /// "Objects: C to create, U to update, D to delete.".
  std::string ToText() const;
  /// For the API: {"files": [{"path","change","diff"}], "summary": {"added","changed","removed",
  /// "objects": {"create","update","delete"}}, "objects": [{"target": "grafana"|"loki", "kind",
  /// "uid", "title", "action", "diffs": [{"path","before","after"}]}], "conflicts": [{"kind",
  /// "uid","message"}], "notes": [...]}.
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
