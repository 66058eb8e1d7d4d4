#include "apply/plan.h"

#include <algorithm>

#include "apply/diff.h"
#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::apply {

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return "added";
    case ChangeKind::kChanged:
      return "changed";
    case ChangeKind::kRemoved:
      return "removed";
  }
  return "changed";
}

std::string ComponentOfPath(const std::string& path) {
  const auto slash = path.find('/');
  if (slash == std::string::npos) {
    return "";
  }
  std::string dir = path.substr(0, slash);
  // Rendered directories use dashes where the spec's component names use underscores.
  for (auto& c : dir) {
    if (c == '-') {
      c = '_';
    }
  }
  for (const auto& name : spec::ComponentNames()) {
    if (name == dir) {
      return dir;
    }
  }
  return "";
}

render::Bundle ComponentFiles(const render::Bundle& bundle, const std::string& component) {
  render::Bundle out;
  for (const auto& [path, content] : bundle.files()) {
    if (ComponentOfPath(path) == component) {
      out.Add(path, content);
    }
  }
  return out;
}

ShownDiff CutDiff(const std::string& diff, const DiffLimit& limit) {
  const auto total = static_cast<std::size_t>(std::count(diff.begin(), diff.end(), '\n'));
  if (limit.max_lines == 0 || total <= limit.max_lines) {
    return {.text = diff, .total_lines = total, .cut = false};
  }
  std::size_t end = 0;
  for (std::size_t line = 0; line < limit.max_lines; ++line) {
    end = diff.find('\n', end) + 1;
  }
  const auto shown = std::to_string(limit.max_lines);
  return {.text = diff.substr(0, end) + "... diff cut after " + shown + " of " +
                  std::to_string(total) + " lines (" + std::to_string(total - limit.max_lines) +
                  " not shown)\n",
          .total_lines = total,
          .cut = true};
}

DiffLimit DiffLimitFromQuery(const std::optional<std::string>& full) {
  if (!full || *full == "false") {
    return {};
  }
  if (*full == "true") {
    return {.max_lines = 0};
  }
  throw core::InputError(
      core::InputError::Kind::kInvalidSpec,
      core::Diagnostic{.file = "query", .path = "full", .message = "must be true or false"});
}

std::set<std::string> Plan::Components() const {
  std::set<std::string> out;
  for (const auto& file : files) {
    auto component = ComponentOfPath(file.path);
    if (!component.empty()) {
      out.insert(std::move(component));
    }
  }
  return out;
}

namespace {

struct ObjectCounts {
  int create = 0;
  int update = 0;
  int remove = 0;
  void Add(provision::ChangeAction action) {
    (action == provision::ChangeAction::kCreate   ? create
     : action == provision::ChangeAction::kUpdate ? update
                                                  : remove)++;
  }
};

ObjectCounts CountObjects(const ObjectPlan& objects) {
  ObjectCounts counts;
  for (const auto& change : objects.grafana) {
    counts.Add(change.action);
  }
  for (const auto& change : objects.loki) {
    counts.Add(change.action);
  }
  return counts;
}

std::string LokiSummary(const provision::LokiChange& change) {
  std::string out = std::string(provision::ActionName(change.action)) + " rule group \"" +
                    change.group + "\" (tenant " + change.tenant + ")";
  if (change.action == provision::ChangeAction::kUpdate) {
    out += ": " + std::to_string(change.diffs.size()) +
           (change.diffs.size() == 1 ? " field" : " fields");
  }
  return out;
}

void AppendDiffs(const std::vector<provision::FieldDiff>& diffs, std::string& out) {
  for (const auto& diff : diffs) {
    out += "    " + diff.ToString() + "\n";
  }
}

nlohmann::json DiffsJson(const std::vector<provision::FieldDiff>& diffs) {
  auto list = nlohmann::json::array();
  for (const auto& diff : diffs) {
    nlohmann::json d = {{"path", diff.path}};
    d["before"] = diff.before_absent ? nlohmann::json() : diff.before;
    d["after"] = diff.after_absent ? nlohmann::json() : diff.after;
    if (diff.before_absent) {
      d["before_absent"] = true;
    }
    if (diff.after_absent) {
      d["after_absent"] = true;
    }
    list.push_back(std::move(d));
  }
  return list;
}

}  // namespace

std::string Plan::ToText(const DiffLimit& limit) const {
  std::string out;
  if (files.empty()) {
    out = "No changes.\n";
  } else {
    for (const auto& file : files) {
      out += CutDiff(file.diff, limit).text;
    }
    out += "Plan: " + std::to_string(summary.added) + " to add, " +
           std::to_string(summary.changed) + " to change, " + std::to_string(summary.removed) +
           " to remove.\n";
  }
  for (const auto& change : objects.grafana) {
    out += "grafana: " + change.Summary() + "\n";
    AppendDiffs(change.diffs, out);
  }
  for (const auto& change : objects.loki) {
    out += "loki: " + LokiSummary(change) + "\n";
    AppendDiffs(change.diffs, out);
  }
  for (const auto& conflict : objects.conflicts) {
    out += std::string("grafana: CONFLICT ") + provision::KindName(conflict.kind) + " \"" +
           conflict.uid + "\": " + conflict.message + "\n";
  }
  for (const auto& note : objects.notes) {
    out += "note: " + note + "\n";
  }
  if (!objects.empty()) {
    const auto counts = CountObjects(objects);
    out += "Objects: " + std::to_string(counts.create) + " to create, " +
           std::to_string(counts.update) + " to update, " + std::to_string(counts.remove) +
           " to delete.\n";
  }
  return out;
}

nlohmann::json Plan::ToJson(const DiffLimit& limit) const {
  auto list = nlohmann::json::array();
  for (const auto& file : files) {
    auto shown = CutDiff(file.diff, limit);
    nlohmann::json entry = {{"path", file.path},
                            {"change", ChangeKindName(file.change)},
                            {"diff", std::move(shown.text)}};
    if (shown.cut) {
      entry["diff_cut"] = true;
      entry["diff_lines"] = shown.total_lines;
    }
    list.push_back(std::move(entry));
  }
  auto changes = nlohmann::json::array();
  for (const auto& change : objects.grafana) {
    changes.push_back({{"target", "grafana"},
                       {"kind", provision::KindName(change.kind)},
                       {"uid", change.uid},
                       {"title", change.title},
                       {"action", provision::ActionName(change.action)},
                       {"diffs", DiffsJson(change.diffs)}});
  }
  for (const auto& change : objects.loki) {
    changes.push_back({{"target", "loki"},
                       {"kind", provision::KindName(provision::ObjectKind::kLokiGroup)},
                       {"uid", change.tenant + "/" + change.group},
                       {"title", change.group},
                       {"action", provision::ActionName(change.action)},
                       {"diffs", DiffsJson(change.diffs)}});
  }
  auto conflicts = nlohmann::json::array();
  for (const auto& conflict : objects.conflicts) {
    conflicts.push_back({{"kind", provision::KindName(conflict.kind)},
                         {"uid", conflict.uid},
                         {"message", conflict.message}});
  }
  const auto counts = CountObjects(objects);
  return {{"files", std::move(list)},
          {"summary",
           {{"added", summary.added},
            {"changed", summary.changed},
            {"removed", summary.removed},
            {"objects",
             {{"create", counts.create}, {"update", counts.update}, {"delete", counts.remove}}}}},
          {"objects", std::move(changes)},
          {"conflicts", std::move(conflicts)},
          {"notes", objects.notes}};
}

Plan ComputePlan(const render::Bundle& desired, const std::optional<render::Bundle>& applied) {
  static const render::Bundle kNothing;
  const auto& old_files = (applied ? *applied : kNothing).files();
  const auto& new_files = desired.files();
  Plan plan;
  // Both maps are sorted, so one merge pass yields the changes in path order.
  auto o = old_files.begin();
  auto n = new_files.begin();
  while (o != old_files.end() || n != new_files.end()) {
    if (n == new_files.end() || (o != old_files.end() && o->first < n->first)) {
      plan.files.push_back(
          {o->first, ChangeKind::kRemoved, FileDiff(o->first, o->second, "", true, false)});
      ++plan.summary.removed;
      ++o;
    } else if (o == old_files.end() || n->first < o->first) {
      plan.files.push_back(
          {n->first, ChangeKind::kAdded, FileDiff(n->first, "", n->second, false, true)});
      ++plan.summary.added;
      ++n;
    } else {
      if (o->second != n->second) {
        plan.files.push_back(
            {n->first, ChangeKind::kChanged, FileDiff(n->first, o->second, n->second)});
        ++plan.summary.changed;
      }
      ++o;
      ++n;
    }
  }
  return plan;
}

}  // namespace obsforge::apply
