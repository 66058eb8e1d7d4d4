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

// The member `key` of `object` when `object` is an object holding it, else nullptr.
ordered_json* Member(ordered_json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Calls `fn` on each element of the array member `key` of `object`, when there is one.
template <typename Fn>
void ForEach(ordered_json* object, const char* key, Fn fn) {
  ordered_json* list = object == nullptr ? nullptr : Member(*object, key);
  if (list != nullptr && list->is_array()) {
    for (auto& element : *list) {
      fn(element);
    }
  }
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

  // A walk over every place a dashboard holds datasource references: panels, legacy rows,
  // variables and annotations.
  void Dashboard(ordered_json& d) {
    ForEach(&d, "panels", [this](ordered_json& p) { Panel(p); });
    ForEach(&d, "rows", [this](ordered_json& row) {
      ForEach(&row, "panels", [this](ordered_json& p) { Panel(p); });
    });
    ForEach(Member(d, "templating"), "list", [this](ordered_json& var) { Variable(var); });
    ForEach(Member(d, "annotations"), "list", [this](ordered_json& a) { Annotation(a); });
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

  // The replacement for a non-null reference, or nullopt to leave it: Grafana has written a
  // reference as a name and as a {type, uid} object over its versions.
  std::optional<ordered_json> Resolve(const ordered_json& ref) const {
    if (ref.is_string()) {
      return ResolveName(ref.get_ref<const std::string&>());
    }
    return ref.is_object() ? ResolveObject(ref) : std::nullopt;
  }

  // A reference by name ("Prometheus", "${DS_PROM}", a datasource uid or type).
  std::optional<ordered_json> ResolveName(const std::string& s) const {
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
      if (const auto* ds = ByType(plugin); ds != nullptr && EqualsIgnoreCase(s, label)) {
        return Ref(*ds);
      }
    }
    // A name from the exporting Grafana ("Prometheus-prod"): the stack's default datasource.
    return DefaultRef();
  }

  // A {type, uid} reference.
  std::optional<ordered_json> ResolveObject(const ordered_json& ref) const {
    const std::string type = StringMember(ref, "type");
    const std::string uid = StringMember(ref, "uid");
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
      const auto* ds = ByType(type);
      return ds == nullptr ? std::nullopt : std::optional<ordered_json>(Ref(*ds));
    }
    return DefaultRef();
  }

  std::optional<ordered_json> DefaultRef() const {
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

  // A panel holds a datasource of its own, one per target, and nested panels (a row's).
  void Panel(ordered_json& p) {
    if (!p.is_object()) {
      return;
    }
    if (auto ds = p.find("datasource"); ds != p.end() && !ds->is_null()) {
      Replace(*ds);
    }
    if (auto targets = p.find("targets");
        targets != p.end() && targets->is_array() && !targets->empty()) {
      const auto chosen = ResolveTargets(*targets);
      if (auto ds = p.find("datasource"); (ds == p.end() || ds->is_null()) && !chosen.is_null()) {
        p["datasource"] = chosen;
      }
      FillTargets(p.contains("datasource") ? p["datasource"] : ordered_json(), p["targets"]);
    }
    ForEach(&p, "panels", [this](ordered_json& child) { Panel(child); });
  }

  // Rewrites each target's own reference, and gives the datasource their panel should have when
  // it names none: theirs when they agree, Grafana's mixed one when they differ, else the default
  // (null when there is none).
  ordered_json ResolveTargets(ordered_json& targets) const {
    std::optional<ordered_json> common;
    bool differ = false;
    for (auto& t : targets) {
      auto tds = t.is_object() ? t.find("datasource") : t.end();
      if (tds == t.end() || tds->is_null()) {
        continue;
      }
      Replace(*tds);
      if (!common) {
        common = *tds;
      } else if (*common != *tds) {
        differ = true;
      }
    }
    if (differ) {
      ordered_json mixed = ordered_json::object();
      mixed["type"] = "datasource";
      mixed["uid"] = "-- Mixed --";
      return mixed;
    }
    if (common) {
      return *common;
    }
    return default_ == nullptr ? ordered_json() : Ref(*default_);
  }

  // Gives each target without a reference its panel's, or the default under a mixed panel.
  void FillTargets(const ordered_json& panel_ds, ordered_json& targets) const {
    const bool mixed = IsMixed(panel_ds);
    for (auto& t : targets) {
      if (!t.is_object()) {
        continue;
      }
      if (auto tds = t.find("datasource"); tds != t.end() && !tds->is_null()) {
        continue;
      }
      if (!mixed && !panel_ds.is_null()) {
        t["datasource"] = panel_ds;
      } else if (default_ != nullptr) {
        t["datasource"] = Ref(*default_);
      }
    }
  }

  // An annotation's reference; one with none gets the default unless it is Grafana's built-in.
  void Annotation(ordered_json& a) const {
    if (!a.is_object()) {
      return;
    }
    auto ds = a.find("datasource");
    if (ds != a.end() && !ds->is_null()) {
      Replace(*ds);
    } else if (ds != a.end() && !IsBuiltIn(a) && default_ != nullptr) {
      *ds = Ref(*default_);
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
