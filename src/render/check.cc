#include "render/check.h"

#include <algorithm>
#include <set>
#include <vector>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "render/yaml_json.h"

namespace obsforge::render {
namespace {

using core::Diagnostic;
using core::InputError;
using nlohmann::ordered_json;

void Fail(std::vector<Diagnostic>& out,
          const std::string& file,
          std::string path,
          std::string message) {
  out.push_back(Diagnostic{.file = file, .path = std::move(path), .message = std::move(message)});
}

bool IsStringMap(const ordered_json& v) {
  if (v.is_null()) {
    return true;
  }
  if (!v.is_object()) {
    return false;
  }
  return std::all_of(v.begin(), v.end(), [](const ordered_json& x) {
    return x.is_string() || x.is_number() || x.is_boolean();
  });
}

void CheckDurationField(std::vector<Diagnostic>& out,
                        const std::string& file,
                        const ordered_json& obj,
                        const char* key,
                        const std::string& path) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return;
  }
  if (!it->is_string() || !core::ParseDuration(it->get<std::string>())) {
    Fail(out, file, path + "." + key, it->dump() + " is not a duration");
  }
}

// A Grafana-managed rule written with Grafana's own queries.
void CheckGrafanaNativeRule(std::vector<Diagnostic>& out,
                            const std::string& file,
                            const ordered_json& rule,
                            const std::string& path) {
  const auto alert = rule.find("alert");
  if (alert == rule.end() || !alert->is_string() || alert->get<std::string>().empty()) {
    Fail(out, file, path + ".alert", "a rule with data needs its title in alert");
  }
  if (rule.contains("expr")) {
    Fail(out, file, path, "a rule has either expr or data, not both");
  }
  const auto& data = rule["data"];
  if (!data.is_array() || data.empty()) {
    Fail(out, file, path + ".data", "must be a non-empty list of queries");
  }
  const auto condition = rule.find("condition");
  if (condition == rule.end() || !condition->is_string() || condition->get<std::string>().empty()) {
    Fail(out, file, path + ".condition", "a rule with data needs a condition (a refId)");
  }
  CheckDurationField(out, file, rule, "for", path);
  for (const char* key : {"labels", "annotations"}) {
    if (rule.contains(key) && !IsStringMap(rule[key])) {
      Fail(out, file, path + "." + key, "must map names to strings");
    }
  }
}

void CheckRule(std::vector<Diagnostic>& out,
               const std::string& file,
               const ordered_json& rule,
               const std::string& path,
               bool grafana) {
  if (!rule.is_object()) {
    Fail(out, file, path, "a rule must be a map");
    return;
  }
  if (grafana && rule.contains("data")) {
    CheckGrafanaNativeRule(out, file, rule, path);
    return;
  }
  const bool alert = rule.contains("alert") && !rule["alert"].is_null();
  const bool record = rule.contains("record") && !rule["record"].is_null();
  if (alert == record) {
    Fail(out, file, path, "a rule needs exactly one of alert and record");
  }
  for (const char* key : {"alert", "record"}) {
    if (rule.contains(key) && !rule[key].is_null() &&
        (!rule[key].is_string() || rule[key].get<std::string>().empty())) {
      Fail(out, file, path + "." + key, "must be a non-empty string");
    }
  }
  const auto expr = rule.find("expr");
  if (expr == rule.end() || expr->is_null() ||
      (expr->is_string() && expr->get<std::string>().empty()) ||
      !(expr->is_string() || expr->is_number())) {
    Fail(out, file, path + ".expr", "a rule needs an expression");
  }
  CheckDurationField(out, file, rule, "for", path);
  CheckDurationField(out, file, rule, "keep_firing_for", path);
  if (record && (rule.contains("for") || rule.contains("annotations"))) {
    Fail(out, file, path, "a recording rule cannot have for or annotations");
  }
  for (const char* key : {"labels", "annotations"}) {
    if (rule.contains(key) && !IsStringMap(rule[key])) {
      Fail(out, file, path + "." + key, "must map names to strings");
    }
  }
}

}  // namespace

void CheckRuleFile(const ordered_json& doc, const std::string& file, bool grafana) {
  std::vector<Diagnostic> out;
  if (doc.is_null()) {
    return;
  }
  if (!doc.is_object()) {
    throw InputError(InputError::Kind::kRender,
                     Diagnostic{.file = file, .message = "a rule file must be a map with groups"});
  }
  const auto groups = doc.find("groups");
  if (groups == doc.end() || groups->is_null()) {
    return;
  }
  if (!groups->is_array()) {
    throw InputError(InputError::Kind::kRender,
                     Diagnostic{.file = file, .path = "groups", .message = "must be a list"});
  }
  std::set<std::string> names;
  for (std::size_t g = 0; g < groups->size(); ++g) {
    const auto& group = (*groups)[g];
    const std::string path = "groups[" + std::to_string(g) + "]";
    if (!group.is_object()) {
      Fail(out, file, path, "a group must be a map");
      continue;
    }
    const auto name = group.find("name");
    if (name == group.end() || !name->is_string() || name->get<std::string>().empty()) {
      Fail(out, file, path + ".name", "a group needs a name");
    } else if (!names.insert(name->get<std::string>()).second) {
      Fail(out, file, path + ".name",
           "group name \"" + name->get<std::string>() + "\" is used twice");
    }
    CheckDurationField(out, file, group, "interval", path);
    const auto rules = group.find("rules");
    if (rules == group.end() || rules->is_null()) {
      continue;
    }
    if (!rules->is_array()) {
      Fail(out, file, path + ".rules", "must be a list");
      continue;
    }
    for (std::size_t r = 0; r < rules->size(); ++r) {
      CheckRule(out, file, (*rules)[r], path + ".rules[" + std::to_string(r) + "]", grafana);
    }
  }
  if (!out.empty()) {
    throw InputError(InputError::Kind::kRender, std::move(out));
  }
}

void CheckDashboard(const ordered_json& dashboard, const std::string& file) {
  std::vector<Diagnostic> out;
  if (!dashboard.is_object()) {
    throw InputError(InputError::Kind::kRender,
                     Diagnostic{.file = file, .message = "a dashboard must be a JSON object"});
  }
  const auto title = dashboard.find("title");
  if (title == dashboard.end() || !title->is_string() || title->get<std::string>().empty()) {
    Fail(out, file, "title", "a dashboard needs a title");
  }
  const auto panels = dashboard.find("panels");
  const auto rows = dashboard.find("rows");
  const bool has_panels = panels != dashboard.end() && panels->is_array();
  const bool has_rows = rows != dashboard.end() && rows->is_array();
  if (!has_panels && !has_rows) {
    Fail(out, file, "panels", "a dashboard needs a panels or rows list");
  }
  if (!out.empty()) {
    throw InputError(InputError::Kind::kRender, std::move(out));
  }
}

void CheckYamlParses(const std::string& yaml, const std::string& file) {
  try {
    (void)ParseYaml(yaml, file);
  } catch (const InputError& e) {
    auto d = e.diagnostics().front();
    d.message = "rendered YAML does not parse back: " + d.message;
    throw InputError(InputError::Kind::kRender, std::move(d));
  }
}

}  // namespace obsforge::render
