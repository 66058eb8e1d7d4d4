#pragma once

#include <cstddef>
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
  std::string diff;   ///< the whole unified diff (see FileDiff); /dev/null on the missing side
};

/// Lines of one file's diff a plan shows unless asked for more.
inline constexpr std::size_t kDefaultDiffLines = 1000;

/// How much of each file's diff Plan::ToText() and Plan::ToJson() show (an aggregate).
struct DiffLimit {
  /// Lines shown per file, its `---`/`+++` headers included; 0 = every line. A longer diff is
  /// cut after that many lines and ends with one note line (see CutDiff()).
  std::size_t max_lines = kDefaultDiffLines;
};

/// A diff as shown under `limit`.
struct ShownDiff {
  std::string text;             ///< the diff, or its first `limit.max_lines` lines and the note
  std::size_t total_lines = 0;  ///< lines of the whole diff
  bool cut = false;             ///< true when lines were left out
};

/// Cuts `diff` to `limit`. The note that replaces the rest reads
/// "... diff cut after 1000 of 16118 lines (15118 not shown)".
ShownDiff CutDiff(const std::string& diff, const DiffLimit& limit);

/// The limit the plan route's query parameter `full` asks for: absent or "false" the default,
/// "true" every line. Throws core::InputError (file "query", path "full") for any other value.
DiffLimit DiffLimitFromQuery(const std::optional<std::string>& full);

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
  /// What could not be planned and why ("grafana: unreachable: ..."), notes that change
  /// nothing ("folder \"x\" exists and is used as is"), and files in the way that obsforge did
  /// not write (Runtime::PlanNotes).
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
  /// For the CLI: every diff (cut to `limit`), then a line "Plan: A to add, C to change, R to
  /// remove." (or "No changes." when no file changes); then, when there are any, the API object
  /// changes ("grafana: update dashboard \"uid\" (Title): 1 field" followed by
  /// "    path: before -> after" lines), conflicts ("grafana: CONFLICT ..."), notes ("note: ...")
  /// and a line "Objects: C to create, U to update, D to delete.".
  std::string ToText(const DiffLimit& limit = {}) const;
  /// For the API: {"files": [{"path","change","diff"}], "summary": {"added","changed","removed",
  /// "objects": {"create","update","delete"}}, "objects": [{"target": "grafana"|"loki", "kind",
  /// "uid", "title", "action", "diffs": [{"path","before","after"}]}], "conflicts": [{"kind",
  /// "uid","message"}], "notes": [...]}. A file whose diff was cut to `limit` also has
  /// "diff_cut": true and "diff_lines" (the whole diff's line count).
  nlohmann::json ToJson(const DiffLimit& limit = {}) const;
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
