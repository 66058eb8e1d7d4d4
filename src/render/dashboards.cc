#include "render/dashboards.h"

#include <algorithm>
#include <optional>
#include <string>

#include "core/hash.h"

namespace obsforge::render {
namespace {

using nlohmann::ordered_json;

bool IsBuiltin(const std::string& s) {
  return s == "-- Grafana --" || s == "-- Mixed --" || s == "-- Dashboard --" || s == "grafana";
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) {
      return false;
    }
  }
  return true;
}

// "${X}", "$X", "[[X]]" -> "X" (a ${X:fmt} suffix is dropped).
std::optional<std::string> VariableName(const std::string& s) {
  std::string name;
  if (s.starts_with("${") && s.ends_with("}")) {
    name = s.substr(2, s.size() - 3);
    if (const auto colon = name.find(':'); colon != std::string::npos) {
      name.resize(colon);
    }
  } else if (s.starts_with("[[") && s.ends_with("]]")) {
    name = s.substr(2, s.size() - 4);
  } else if (s.starts_with("$")) {
    name = s.substr(1);
  } else {
    return std::nullopt;
  }
  if (name.empty()) {
    return std::nullopt;
  }
  return name;
}

// The string member `key` of `object`; "" when absent or not a string. (nlohmann's value()
// throws when the member has another type, and a dashboard file may hold anything there.)
std::string StringMember(const ordered_json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Whether an annotation is Grafana's built-in one (`"builtIn": 1`).
bool IsBuiltIn(const ordered_json& annotation) {
  const auto it = annotation.find("builtIn");
  return it != annotation.end() && it->is_number() && *it == 1;
}

class Rewriter {
 public:
  Rewriter(const std::map<std::string, DatasourceRef>& datasources, const std::string& default_type)
      : datasources_(datasources) {
    const auto it = datasources.find(default_type);
    default_ = it == datasources.end() ? nullptr : &it->second;
  }

  // The datasource inputs of an export (`__inputs`), by name and by label.
  void CollectInputs(const ordered_json& dashboard) {
    if (const auto in = dashboard.find("__inputs"); in != dashboard.end() && in->is_array()) {
      for (const auto& input : *in) {
        if (!input.is_object() || StringMember(input, "type") != "datasource") {
          continue;
        }
        const std::string plugin = StringMember(input, "pluginId");
        if (input.contains("name") && input["name"].is_string()) {
          inputs_[input["name"].get<std::string>()] = plugin;
        }
        if (input.contains("label") && input["label"].is_string()) {
          labels_.emplace_back(input["label"].get<std::string>(), plugin);
        }
      }
    }
  }

  // The datasource variables of the dashboard (`templating.list[]` of type datasource).
  void CollectVariables(const ordered_json& dashboard) {
    const auto templating = dashboard.find("templating");
    if (templating != dashboard.end() && templating->is_object() && templating->contains("list") &&
        (*templating)["list"].is_array()) {
      for (const auto& var : (*templating)["list"]) {
        if (var.is_object() && StringMember(var, "type") == "datasource" && var.contains("name") &&
            var["name"].is_string()) {
          const auto& q = var.find("query");
          variables_[var["name"].get<std::string>()] =
              q != var.end() && q->is_string() ? q->get<std::string>() : "";
        }
      }
    }
  }

  void Collect(const ordered_json& dashboard) {
    CollectInputs(dashboard);
    CollectVariables(dashboard);
  }

  // A walk over every place a dashboard holds datasource references (panels, legacy rows,
  // variables, annotations), one branch per place.
  // NOLINTNEXTLINE(readability-function-cognitive-complexity)
  void Dashboard(ordered_json& d) {
    if (auto it = d.find("panels"); it != d.end() && it->is_array()) {
      for (auto& p : *it) {
        Panel(p);
      }
    }
    if (auto it = d.find("rows"); it != d.end() && it->is_array()) {
      for (auto& row : *it) {
        if (row.is_object() && row.contains("panels") && row["panels"].is_array()) {
          for (auto& p : row["panels"]) {
            Panel(p);
          }
        }
      }
    }
    if (auto it = d.find("templating"); it != d.end() && it->is_object()) {
      if (auto list = it->find("list"); list != it->end() && list->is_array()) {
        for (auto& var : *list) {
          Variable(var);
        }
      }
    }
    if (auto it = d.find("annotations"); it != d.end() && it->is_object()) {
      if (auto list = it->find("list"); list != it->end() && list->is_array()) {
        for (auto& a : *list) {
          if (!a.is_object()) {
            continue;
          }
          auto ds = a.find("datasource");
          if (ds != a.end() && !ds->is_null()) {
            Replace(*ds);
          } else if (ds != a.end() && !IsBuiltIn(a) && default_ != nullptr) {
            *ds = Ref(*default_);
          }
        }
      }
    }
  }

 private:
  static ordered_json Ref(const DatasourceRef& ds) {
    ordered_json o = ordered_json::object();
    o["type"] = ds.type;
    o["uid"] = ds.uid;
    return o;
  }

  const DatasourceRef* ByType(const std::string& type) const {
    const auto it = datasources_.find(type);
    return it == datasources_.end() ? nullptr : &it->second;
  }

  // The replacement for a non-null reference, or nullopt to leave it. One branch per shape of
  // reference Grafana has written over its versions.
  // NOLINTNEXTLINE(readability-function-cognitive-complexity)
  std::optional<ordered_json> Resolve(const ordered_json& ref) const {
    if (ref.is_string()) {
      const auto& s = ref.get_ref<const std::string&>();
      if (IsBuiltin(s)) {
        return std::nullopt;
      }
      if (auto var = VariableName(s)) {
        return FromVariable(*var, "");
      }
      for (const auto& [type, ds] : datasources_) {
        if (EqualsIgnoreCase(s, ds.name) || s == ds.uid || EqualsIgnoreCase(s, ds.type)) {
          return Ref(ds);
        }
      }
      for (const auto& [label, plugin] : labels_) {
        if (EqualsIgnoreCase(s, label)) {
          if (const auto* ds = ByType(plugin)) {
            return Ref(*ds);
          }
        }
      }
      // A name from the exporting Grafana ("Prometheus-prod"): the stack's default datasource.
      return default_ == nullptr ? std::nullopt : std::optional<ordered_json>(Ref(*default_));
    }
    if (!ref.is_object()) {
      return std::nullopt;
    }
    const auto t = ref.find("type");
    const auto u = ref.find("uid");
    const std::string type = t != ref.end() && t->is_string() ? t->get<std::string>() : "";
    const std::string uid = u != ref.end() && u->is_string() ? u->get<std::string>() : "";
    if (type == "datasource" || type == "grafana" || type == "__expr__" || IsBuiltin(uid) ||
        uid == "__expr__") {
      return std::nullopt;
    }
    if (auto var = VariableName(uid)) {
      return FromVariable(*var, type);
    }
    for (const auto& [dtype, ds] : datasources_) {
      if (uid == ds.uid) {
        return Ref(ds);
      }
    }
    if (!type.empty()) {
      if (const auto* ds = ByType(type)) {
        return Ref(*ds);
      }
      return std::nullopt;
    }
    return default_ == nullptr ? std::nullopt : std::optional<ordered_json>(Ref(*default_));
  }

  std::optional<ordered_json> FromVariable(const std::string& var, const std::string& type) const {
    if (const auto in = inputs_.find(var); in != inputs_.end()) {
      const auto* ds = ByType(in->second.empty() ? type : in->second);
      return ds == nullptr ? std::nullopt : std::optional<ordered_json>(Ref(*ds));
    }
    if (const auto v = variables_.find(var); v != variables_.end()) {
      const std::string vtype = v->second.empty() ? type : v->second;
      if (ByType(vtype) == nullptr) {
        return std::nullopt;
      }
      ordered_json o = ordered_json::object();
      o["type"] = vtype;
      o["uid"] = "${" + var + "}";
      return o;
    }
    const auto* ds = type.empty() ? default_ : ByType(type);
    return ds == nullptr ? std::nullopt : std::optional<ordered_json>(Ref(*ds));
  }

  void Replace(ordered_json& ref) const {
    if (auto r = Resolve(ref)) {
      ref = std::move(*r);
    }
  }

  static bool IsMixed(const ordered_json& ref) {
    return (ref.is_string() && ref.get<std::string>() == "-- Mixed --") ||
           (ref.is_object() && StringMember(ref, "uid") == "-- Mixed --");
  }

  // One branch per place a panel holds a datasource (its own, its targets', nested panels).
  // NOLINTNEXTLINE(readability-function-cognitive-complexity)
  void Panel(ordered_json& p) {
    if (!p.is_object()) {
      return;
    }
    auto targets = p.find("targets");
    const bool has_targets = targets != p.end() && targets->is_array() && !targets->empty();
    auto ds = p.find("datasource");
    if (ds != p.end() && !ds->is_null()) {
      Replace(*ds);
    }
    if (has_targets) {
      std::optional<ordered_json> common;
      bool differ = false;
      for (auto& t : *targets) {
        if (!t.is_object()) {
          continue;
        }
        auto tds = t.find("datasource");
        if (tds != t.end() && !tds->is_null()) {
          Replace(*tds);
          if (!common) {
            common = *tds;
          } else if (*common != *tds) {
            differ = true;
          }
        }
      }
      ds = p.find("datasource");
      if (ds == p.end() || ds->is_null()) {
        ordered_json chosen;
        if (differ) {
          chosen = ordered_json::object();
          chosen["type"] = "datasource";
          chosen["uid"] = "-- Mixed --";
        } else if (common) {
          chosen = *common;
        } else if (default_ != nullptr) {
          chosen = Ref(*default_);
        }
        if (!chosen.is_null()) {
          p["datasource"] = std::move(chosen);
        }
      }
      const auto& panel_ds = p.contains("datasource") ? p["datasource"] : ordered_json();
      const bool mixed = IsMixed(panel_ds);
      for (auto& t : p["targets"]) {
        if (!t.is_object()) {
          continue;
        }
        auto tds = t.find("datasource");
        if (tds == t.end() || tds->is_null()) {
          if (!mixed && !panel_ds.is_null()) {
            t["datasource"] = panel_ds;
          } else if (default_ != nullptr) {
            t["datasource"] = Ref(*default_);
          }
        }
      }
    }
    if (auto nested = p.find("panels"); nested != p.end() && nested->is_array()) {
      for (auto& child : *nested) {
        Panel(child);
      }
    }
  }

  void Variable(ordered_json& var) {
    if (!var.is_object()) {
      return;
    }
    const std::string type = StringMember(var, "type");
    if (type == "datasource") {
      const auto q = var.find("query");
      const auto* ds = q != var.end() && q->is_string() ? ByType(q->get<std::string>()) : nullptr;
      if (ds != nullptr) {
        ordered_json current = ordered_json::object();
        current["selected"] = false;
        current["text"] = ds->name;
        current["value"] = ds->uid;
        var["current"] = std::move(current);
      }
      return;
    }
    auto ds = var.find("datasource");
    if (ds != var.end() && !ds->is_null()) {
      Replace(*ds);
    } else if (type == "query" && default_ != nullptr) {
      var["datasource"] = Ref(*default_);
    }
  }

  const std::map<std::string, DatasourceRef>& datasources_;
  const DatasourceRef* default_ = nullptr;
  std::map<std::string, std::string> inputs_;                // input name -> pluginId
  std::vector<std::pair<std::string, std::string>> labels_;  // input label -> pluginId
  std::map<std::string, std::string> variables_;             // datasource variable -> type
};

}  // namespace

bool IsValidUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 40) {
    return false;
  }
  return std::all_of(uid.begin(), uid.end(), [](const char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string MakeUid(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  if (out.empty() || out.size() > 40 || out != text) {
    // A changed or long text could collide with another one; a hash of the original keeps
    // distinct inputs distinct.
    if (out.size() > 31) {
      out.resize(31);
    }
    if (out != text) {
      out += (out.empty() ? "" : "-") + core::Sha256Hex(text).substr(0, 8);
    }
  }
  return out;
}

std::string DashboardUid(const ordered_json& dashboard, const std::string& source_path) {
  if (dashboard.is_object()) {
    const auto uid = dashboard.find("uid");
    if (uid != dashboard.end() && uid->is_string() && IsValidUid(uid->get<std::string>())) {
      return uid->get<std::string>();
    }
  }
  std::string stem = source_path;
  for (const char* ext : {".json", ".jsonnet", ".libsonnet"}) {
    if (stem.ends_with(ext)) {
      stem.resize(stem.size() - std::string_view(ext).size());
      break;
    }
  }
  return MakeUid(stem);
}

ordered_json RewriteDashboard(ordered_json dashboard,
                              const std::map<std::string, DatasourceRef>& datasources,
                              const std::string& default_type,
                              const std::string& source_path) {
  if (!dashboard.is_object()) {
    return dashboard;
  }
  Rewriter rewriter(datasources, default_type);
  rewriter.Collect(dashboard);
  rewriter.Dashboard(dashboard);
  const std::string uid = DashboardUid(dashboard, source_path);
  dashboard.erase("__inputs");
  dashboard.erase("__requires");
  dashboard["id"] = nullptr;
  dashboard["uid"] = uid;
  return dashboard;
}

}  // namespace obsforge::render
