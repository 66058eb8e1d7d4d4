#include "apply/plan.h"

#include "apply/diff.h"
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

std::string Plan::ToText() const {
  if (files.empty()) {
    return "No changes.\n";
  }
  std::string out;
  for (const auto& file : files) {
    out += file.diff;
  }
  out += "Plan: " + std::to_string(summary.added) + " to add, " + std::to_string(summary.changed) +
         " to change, " + std::to_string(summary.removed) + " to remove.\n";
  return out;
}

nlohmann::json Plan::ToJson() const {
  auto list = nlohmann::json::array();
  for (const auto& file : files) {
    list.push_back(
        {{"path", file.path}, {"change", ChangeKindName(file.change)}, {"diff", file.diff}});
  }
  return {{"files", std::move(list)},
          {"summary",
           {{"added", summary.added}, {"changed", summary.changed}, {"removed", summary.removed}}}};
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
