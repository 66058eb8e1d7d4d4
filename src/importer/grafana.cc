// Grafana: read over its HTTP API (ReadGrafana), then turned into spec parts and files
// (ImportGrafana): datasources with their uids, the folder tree, dashboards by folder,
// Grafana-managed rule groups, contact points.
#include <algorithm>
#include <set>

#include "importer/parts.h"
#include "render/emit.h"

namespace obsforge::importer {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// Safe readers of Grafana's answers: a member of another type (or a non-object) reads as
// absent, never throws. Grafana is an upstream: its answers are input like any other.
template <class Json>  // json (the client's answers) or ordered_json (the snapshot)
std::string Str(const Json& o, const char* key) {
  if (!o.is_object()) {
    return "";
  }
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->template get<std::string>() : std::string();
}

bool Bool(const ordered_json& o, const char* key) {
  if (!o.is_object()) {
    return false;
  }
  const auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

ordered_json Member(const ordered_json& o, const char* key, ordered_json fallback) {
  if (!o.is_object()) {
    return fallback;
  }
  const auto it = o.find(key);
  return it != o.end() && it->type() == fallback.type() ? *it : fallback;
}

core::Error NotA(const std::string& what, const std::string& shape) {
  return core::MakeError(core::ErrorCode::kUpstream, what + ": Grafana's answer is not " + shape);
}

constexpr std::size_t kMaxFolders = 10000;

// The folder tree, parents first. Grafana without nested folders ignores parentUid and lists
// every folder each time: only children naming the parent are taken, each folder once.
core::Result<void> ReadFolders(provision::GrafanaClient& client,
                               const std::string& parent,
                               std::set<std::string>& seen,
                               ordered_json& out,
                               int depth) {
  auto folders = client.ListFolders(parent);
  if (!folders.ok()) {
    return folders.error();
  }
  if (!folders->is_array()) {
    return core::MakeError(core::ErrorCode::kUpstream, "folders: not a JSON array");
  }
  std::vector<std::string> children;
  for (const auto& f : *folders) {
    const std::string uid = Str(f, "uid");
    if (uid.empty() || Str(f, "parentUid") != parent || !seen.insert(uid).second) {
      continue;
    }
    ordered_json entry = ordered_json::object();
    entry["uid"] = uid;
    const std::string title = Str(f, "title");
    entry["title"] = title.empty() ? uid : title;
    if (!parent.empty()) {
      entry["parentUid"] = parent;
    }
    out.push_back(std::move(entry));
    children.push_back(uid);
    if (out.size() > kMaxFolders) {
      return core::MakeError(core::ErrorCode::kUpstream, "Grafana holds more than " +
                                                             std::to_string(kMaxFolders) +
                                                             " folders, more than an import takes");
    }
  }
  // Grafana allows at most 8 levels; deeper answers are not a tree.
  if (depth < 8) {
    for (const auto& uid : children) {
      if (auto r = ReadFolders(client, uid, seen, out, depth + 1); !r.ok()) {
        return r;
      }
    }
  }
  return {};
}

// Provenance of an alerting object: "", "api" or "file".
std::string Provenance(const ordered_json& o) {
  return Str(o, "provenance");
}

// "1m" for 60, "90s" for 90: the group interval as the rule file writes it.
std::string Seconds(std::int64_t s) {
  if (s > 0 && s % 3600 == 0) {
    return std::to_string(s / 3600) + "h";
  }
  if (s > 0 && s % 60 == 0) {
    return std::to_string(s / 60) + "m";
  }
  return std::to_string(s) + "s";
}

// Every "${NAME}" datasource input of an exported dashboard replaced by the uid of this
// Grafana's datasource of the input's type. Returns how many references were replaced;
// `missing` gets the inputs no datasource matches.
int ResolveInputs(ordered_json& node,
                  const std::map<std::string, std::string>& values,
                  std::set<std::string>& missing,
                  const std::set<std::string>& unknown) {
  int n = 0;
  if (node.is_string()) {
    const auto& s = node.get_ref<const std::string&>();
    if (s.size() > 3 && s.starts_with("${") && s.ends_with("}")) {
      const std::string name = s.substr(2, s.size() - 3);
      if (const auto it = values.find(name); it != values.end()) {
        node = it->second;
        return 1;
      }
      if (unknown.count(name) != 0) {
        missing.insert(name);
      }
    }
    return 0;
  }
  if (node.is_structured()) {
    for (auto& child : node) {
      n += ResolveInputs(child, values, missing, unknown);
    }
  }
  return n;
}

struct FolderInfo {
  std::string title;
  std::string parent;
  std::string dir;  // dashboards/<stack>/<dir>
};

}  // namespace

core::Result<GrafanaSnapshot> ReadGrafana(provision::GrafanaClient& client,
                                          const std::string& url,
                                          const std::string& auth,
                                          const std::string& user,
                                          const GrafanaReadLimits& limits) {
  GrafanaSnapshot snap{.url = url, .auth = auth, .user = user};
  auto health = client.GetHealth();
  if (!health.ok()) {
    return health.error();
  }
  snap.version = Str(*health, "version");

  auto list = client.ListDatasources();
  if (!list.ok()) {
    return list.error();
  }
  if (!list->is_array()) {
    return NotA("datasources", "a list");
  }
  for (const auto& summary : *list) {
    const std::string uid = Str(summary, "uid");
    if (uid.empty()) {
      continue;
    }
    auto full = client.GetDatasource(uid);
    if (!full.ok()) {
      return full.error();
    }
    if (full->has_value() && !(*full)->is_object()) {
      return NotA("datasource " + Quoted(uid), "an object");
    }
    if (full->has_value() && !Str(**full, "uid").empty()) {
      snap.datasources.push_back(ordered_json(**full));
    }
  }

  std::set<std::string> seen;
  if (auto folders = ReadFolders(client, "", seen, snap.folders, 0); !folders.ok()) {
    return folders.error();
  }

  auto hits = client.SearchDashboards();
  if (!hits.ok()) {
    return hits.error();
  }
  if (hits->size() > limits.max_dashboards) {
    return core::MakeError(core::ErrorCode::kUpstream,
                           "Grafana holds " + std::to_string(hits->size()) +
                               " dashboards, more than the " +
                               std::to_string(limits.max_dashboards) + " an import takes");
  }
  std::size_t bytes = 0;
  for (const auto& hit : *hits) {
    const std::string uid = Str(hit, "uid");
    if (uid.empty()) {
      continue;
    }
    auto text = client.GetDashboardText(uid);
    if (!text.ok()) {
      return text.error();
    }
    if (!text->has_value()) {
      continue;  // deleted meanwhile
    }
    bytes += (*text)->size();
    if (bytes > limits.max_bytes) {
      return core::MakeError(core::ErrorCode::kUpstream,
                             "Grafana's dashboards exceed the " + std::to_string(limits.max_bytes) +
                                 " bytes an import takes (at dashboard " + Quoted(uid) + ")");
    }
    ordered_json parsed = ordered_json::parse(**text, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("dashboard") || !parsed["dashboard"].is_object()) {
      return NotA("dashboard " + Quoted(uid), "a dashboard");
    }
    if (!parsed.contains("meta") || !parsed["meta"].is_object()) {
      parsed["meta"] = ordered_json::object();
    }
    snap.dashboards.push_back(std::move(parsed));
  }

  auto rules = client.ListAlertRules();
  if (!rules.ok()) {
    return rules.error();
  }
  if (!rules->is_array()) {
    return NotA("alert rules", "a list");
  }
  std::set<std::pair<std::string, std::string>> groups;
  for (const auto& rule : *rules) {
    const std::string folder = Str(rule, "folderUID");
    const std::string group = Str(rule, "ruleGroup");
    if (!folder.empty() && !group.empty()) {
      groups.emplace(folder, group);
    }
  }
  for (const auto& [folder, group] : groups) {
    auto body = client.GetRuleGroup(folder, group);
    if (!body.ok()) {
      return body.error();
    }
    if (body->has_value() && (*body)->is_object()) {
      snap.rule_groups.push_back(ordered_json(**body));
    }
  }

  auto points = client.ListContactPoints();
  if (!points.ok()) {
    return points.error();
  }
  if (!points->is_array()) {
    return NotA("contact points", "a list");
  }
  for (const auto& point : *points) {
    if (point.is_object() && !Str(point, "uid").empty()) {
      snap.contact_points.push_back(ordered_json(point));
    }
  }
  auto tree = client.GetPolicyTree();
  snap.policies = tree.ok() && tree->is_object() ? ordered_json(*tree) : ordered_json();
  auto timings = client.ListMuteTimings();
  snap.mute_timings = timings.ok() && timings->is_array() ? timings->size() : 0;
  auto templates = client.ListTemplates();
  snap.templates = templates.ok() && templates->is_array() ? templates->size() : 0;
  return snap;
}

GrafanaPart ImportGrafana(const GrafanaSnapshot& snap,
                          const std::string& stack,
                          bool adopt,
                          SecretLifter& secrets) {
  GrafanaPart part;
  ordered_json adopt_lists = ordered_json::object();
  for (const char* kind :
       {"datasources", "folders", "dashboards", "rule_groups", "contact_points"}) {
    adopt_lists[kind] = ordered_json::array();
  }
  auto adopted = [&](const char* kind, const char* noun, const std::string& uid) {
    adopt_lists[kind].push_back(uid);
    part.adopted.push_back(std::string(noun) + " " + Quoted(uid));
  };

  part.component["enabled"] = true;
  if (!snap.version.empty()) {
    // "11.2.0" -> "11.2": the templates tell versions apart by major and minor.
    const auto dot = snap.version.find('.', snap.version.find('.') + 1);
    part.component["version"] = snap.version.substr(0, dot);
  }

  // Datasources: kept with their uids; secrets Grafana holds become references.
  ordered_json datasources = ordered_json::array();
  std::map<std::string, std::string> default_of_type;  // type -> uid (default, else first)
  for (const auto& ds : snap.datasources) {
    const std::string uid = Str(ds, "uid");
    const std::string name = Str(ds, "name");
    const std::string type = Str(ds, "type");
    if (Bool(ds, "readOnly")) {
      part.review.push_back("datasource " + Quoted(name) + " (uid " + uid +
                            ") is provisioned from files: left as it is (its uid stays, so "
                            "dashboards using it keep working)");
    }
    if (!default_of_type.count(type) || Bool(ds, "isDefault")) {
      default_of_type[type] = uid;
    }
    if (Bool(ds, "readOnly")) {
      continue;
    }
    ordered_json out = ordered_json::object();
    for (const char* key : {"uid", "name", "type", "access", "url", "user", "database"}) {
      if (!Str(ds, key).empty()) {
        out[key] = ds[key];
      }
    }
    for (const char* key : {"basicAuth", "withCredentials", "isDefault"}) {
      if (ds.contains(key) && ds[key].is_boolean()) {
        out[key] = ds[key];
      }
    }
    if (!Str(ds, "basicAuthUser").empty()) {
      out["basicAuthUser"] = ds["basicAuthUser"];
    }
    if (ds.contains("jsonData") && ds["jsonData"].is_object() && !ds["jsonData"].empty()) {
      out["jsonData"] = ds["jsonData"];
    }
    const std::string from = "grafana datasource " + Quoted(name) + " (uid " + uid + ")";
    secrets.LiftObject(out, {"grafana", "ds", name}, from);
    ordered_json secure = ordered_json::object();
    if (ds.contains("secureJsonFields") && ds["secureJsonFields"].is_object()) {
      for (const auto& [field, set] : ds["secureJsonFields"].items()) {
        if (set == true) {
          secure[field] = secrets.Unrevealed(
              {"grafana", "ds", name, field},
              from + ": secureJsonData." + field + " (Grafana never returns it)");
        }
      }
    }
    // Grafana before 9 kept these outside secureJsonData.
    for (const char* legacy : {"password", "basicAuthPassword"}) {
      if (!Str(ds, legacy).empty() && !secure.contains(legacy)) {
        ordered_json value = ordered_json::object();
        value[legacy] = ds[legacy];
        secrets.LiftObject(value, {"grafana", "ds", name}, from);
        secure[legacy] = value[legacy];
      }
    }
    if (!secure.empty()) {
      out["secureJsonData"] = std::move(secure);
    }
    datasources.push_back(std::move(out));
    if (adopt) {
      adopted("datasources", "datasource", uid);
    }
  }
  if (!datasources.empty()) {
    part.component["datasources"] = datasources;
    part.did.push_back(std::to_string(datasources.size()) + " Grafana datasource(s), uids kept");
  }

  // Folders: all of them, their tree kept as directories under dashboards/<stack>/.
  std::map<std::string, FolderInfo> folders;
  std::map<std::string, std::set<std::string>> dirs_taken;  // parent -> directory names
  for (const auto& f : snap.folders) {
    const std::string uid = Str(f, "uid");
    FolderInfo info{.title = Str(f, "title"), .parent = Str(f, "parentUid")};
    const std::string parent_dir = info.parent.empty() || !folders.count(info.parent)
                                       ? std::string()
                                       : folders[info.parent].dir + "/";
    info.dir = parent_dir + UniqueIn(dirs_taken[info.parent], Slug(info.title, uid));
    ordered_json entry = ordered_json::object();
    entry["uid"] = uid;
    entry["title"] = info.title;
    if (!info.parent.empty()) {
      entry["parent_uid"] = info.parent;
    }
    part.folders.push_back(std::move(entry));
    folders[uid] = std::move(info);
    if (adopt) {
      adopted("folders", "folder", uid);
    }
  }
  if (!folders.empty()) {
    part.did.push_back(std::to_string(folders.size()) + " Grafana folder(s), tree kept");
  }

  // Dashboards: without the fields Grafana manages, by folder.
  std::map<std::string, std::set<std::string>> names_in_dir;
  std::map<std::string, std::string> dir_folder;  // dir -> folder uid ("" = General)
  std::size_t dashboards = 0;
  for (const auto& entry : snap.dashboards) {
    ordered_json dashboard = Member(entry, "dashboard", ordered_json::object());
    const ordered_json meta = Member(entry, "meta", ordered_json::object());
    const std::string uid = Str(dashboard, "uid");
    const std::string title = Str(dashboard, "title");
    if (uid.empty() || title.empty()) {
      part.review.push_back("a dashboard without a uid or title (" +
                            Quoted(uid.empty() ? title : uid) + ") was not imported");
      continue;
    }
    if (Bool(meta, "provisioned")) {
      part.review.push_back("dashboard " + Quoted(title) + " (uid " + uid +
                            ") is provisioned from files: left as it is");
      continue;
    }
    for (const char* server_field : {"id", "version", "iteration"}) {
      dashboard.erase(server_field);
    }
    if (dashboard.contains("__inputs") && dashboard["__inputs"].is_array()) {
      std::map<std::string, std::string> values;
      std::set<std::string> unknown;
      for (const auto& input : dashboard["__inputs"]) {
        const std::string input_name = Str(input, "name");
        const std::string kind = Str(input, "type");
        if (kind == "datasource" && default_of_type.count(Str(input, "pluginId"))) {
          values[input_name] = default_of_type[Str(input, "pluginId")];
        } else if (kind == "constant" && input.contains("value") && input["value"].is_string()) {
          values[input_name] = input["value"].get<std::string>();
        } else {
          unknown.insert(input_name);
        }
      }
      std::set<std::string> missing;
      const int resolved = ResolveInputs(dashboard, values, missing, unknown);
      if (resolved > 0) {
        dashboard.erase("__inputs");
        dashboard.erase("__requires");
        part.review.push_back("dashboard " + Quoted(title) + " (uid " + uid + ") had " +
                              std::to_string(resolved) +
                              " unresolved ${...} inputs (Grafana showed \"datasource not "
                              "found\"): now this Grafana's datasources; check it after apply");
      }
      for (const auto& m : missing) {
        part.review.push_back("dashboard " + Quoted(title) + " (uid " + uid + "): input ${" + m +
                              "} matches no datasource of this Grafana");
      }
    }
    for (const auto& path : SecretLifter::RedactCredentials(dashboard)) {
      part.review.push_back("dashboard " + Quoted(title) + " " + path +
                            " looked like a credential and was replaced by \"<redacted>\"");
    }
    const std::string folder_uid = Str(meta, "folderUid");
    const auto folder = folders.find(folder_uid);
    const std::string dir = folder == folders.end() ? std::string() : folder->second.dir;
    if (!folder_uid.empty() && folder == folders.end()) {
      part.review.push_back("dashboard " + Quoted(title) + " is in folder " + folder_uid +
                            ", which Grafana did not list: imported into the General folder");
    }
    const std::string file = UniqueIn(names_in_dir[dir], Slug(title, uid));
    const std::string path =
        "dashboards/" + stack + "/" + (dir.empty() ? "" : dir + "/") + file + ".json";
    part.files[path] = render::EmitJson(dashboard);
    dir_folder[dir] = folder == folders.end() ? std::string() : folder_uid;
    ++dashboards;
    if (adopt) {
      adopted("dashboards", "dashboard", uid);
    }
  }
  for (const auto& [dir, folder_uid] : dir_folder) {
    ordered_json entry = ordered_json::object();
    entry["path"] = "dashboards/" + stack + "/" + (dir.empty() ? "" : dir + "/") + "*.json";
    if (!folder_uid.empty()) {
      entry["folder"] = {{"uid", folder_uid}, {"title", folders[folder_uid].title}};
    }
    entry["rewrite_datasources"] = false;
    part.dashboards.push_back(std::move(entry));
  }
  if (dashboards > 0) {
    part.did.push_back(std::to_string(dashboards) + " dashboard(s) into dashboards/" + stack +
                       "/ (by folder)");
  }

  // Provenance: what the alerting objects were written with decides how obsforge writes them.
  std::set<std::string> provenances;

  // Grafana-managed rule groups, one file per folder, Grafana's own queries kept.
  std::map<std::string, ordered_json> rule_files;  // folder uid -> document
  std::size_t rule_count = 0;
  for (const auto& group : snap.rule_groups) {
    const std::string folder_uid = Str(group, "folderUid");
    const std::string title = Str(group, "title");
    ordered_json rules = ordered_json::array();
    bool file_provisioned = false;
    for (const auto& rule : Member(group, "rules", ordered_json::array())) {
      if (!rule.is_object()) {
        continue;
      }
      if (Provenance(rule) == "file") {
        file_provisioned = true;
        continue;
      }
      provenances.insert(Provenance(rule));
      ordered_json out = ordered_json::object();
      out["alert"] = Str(rule, "title");
      out["uid"] = Str(rule, "uid");
      out["condition"] = Str(rule, "condition");
      out["data"] = Member(rule, "data", ordered_json::array());
      if (rule.contains("noDataState")) {
        out["no_data_state"] = rule["noDataState"];
      }
      if (rule.contains("execErrState")) {
        out["exec_err_state"] = rule["execErrState"];
      }
      if (rule.contains("for") && rule["for"].is_string()) {
        out["for"] = rule["for"];
      }
      for (const char* key : {"labels", "annotations"}) {
        if (rule.contains(key) && rule[key].is_object() && !rule[key].empty()) {
          out[key] = rule[key];
        }
      }
      if (Bool(rule, "isPaused")) {
        out["is_paused"] = true;
      }
      // Anything else Grafana keeps per rule goes back as it is.
      static const std::set<std::string> kKnown = {
          "id",          "uid",    "orgID",      "folderUID",   "ruleGroup",    "title",
          "condition",   "data",   "updated",    "noDataState", "execErrState", "for",
          "annotations", "labels", "provenance", "isPaused",    "_index"};
      ordered_json extra = ordered_json::object();
      for (const auto& [key, value] : rule.items()) {
        if (kKnown.count(key) == 0 && !value.is_null()) {
          extra[key] = value;
        }
      }
      if (!extra.empty()) {
        out["grafana"] = std::move(extra);
      }
      rules.push_back(std::move(out));
      ++rule_count;
    }
    if (file_provisioned) {
      part.review.push_back("rule group " + Quoted(title) + " in folder " + folder_uid +
                            " holds file-provisioned rules: those are left as they are");
    }
    if (rules.empty()) {
      continue;
    }
    ordered_json g = ordered_json::object();
    g["name"] = title;
    g["folder"] = {{"uid", folder_uid},
                   {"title", folders.count(folder_uid) ? folders[folder_uid].title : folder_uid}};
    if (group.contains("interval") && group["interval"].is_number_integer()) {
      g["interval"] = Seconds(group["interval"].get<std::int64_t>());
    }
    g["rules"] = std::move(rules);
    auto& doc = rule_files[folder_uid];
    if (doc.is_null()) {
      doc = {{"groups", ordered_json::array()}};
    }
    doc["groups"].push_back(std::move(g));
    if (adopt) {
      adopted("rule_groups", "rule group", folder_uid + "/" + title);
    }
  }
  for (auto& [folder_uid, doc] : rule_files) {
    const auto folder = folders.find(folder_uid);
    std::string name = folder == folders.end() ? Slug(folder_uid, "rules") : folder->second.dir;
    std::replace(name.begin(), name.end(), '/', '-');
    SecretLifter::RedactCredentials(doc);
    part.files["alerts/" + stack + "/grafana/" + name + ".yaml"] = render::EmitYaml(doc);
  }
  if (!rule_files.empty()) {
    ordered_json entry = ordered_json::object();
    entry["path"] = "alerts/" + stack + "/grafana/*.yaml";
    entry["type"] = "grafana";
    part.alerts.push_back(std::move(entry));
    part.did.push_back(std::to_string(rule_count) + " Grafana-managed rule(s) into alerts/" +
                       stack + "/grafana/");
  }

  // Contact points: settings kept, secrets lifted.
  ordered_json points = ordered_json::array();
  for (const auto& cp : snap.contact_points) {
    const std::string uid = Str(cp, "uid");
    const std::string name = Str(cp, "name");
    if (Provenance(cp) == "file") {
      part.review.push_back("contact point " + Quoted(name) + " (uid " + uid +
                            ") is provisioned from files: left as it is");
      continue;
    }
    provenances.insert(Provenance(cp));
    ordered_json out = ordered_json::object();
    out["uid"] = uid;
    out["name"] = name;
    out["type"] = Str(cp, "type");
    ordered_json settings = Member(cp, "settings", ordered_json::object());
    secrets.LiftObject(settings, {"grafana", "cp", name, Str(cp, "type")},
                       "grafana contact point " + Quoted(name) + " (uid " + uid + "): settings");
    out["settings"] = std::move(settings);
    if (cp.contains("disableResolveMessage") && cp["disableResolveMessage"].is_boolean()) {
      out["disableResolveMessage"] = cp["disableResolveMessage"];
    }
    points.push_back(std::move(out));
    if (adopt) {
      adopted("contact_points", "contact point", uid);
    }
  }
  if (!points.empty()) {
    part.component["contact_points"] = points;
    part.did.push_back(std::to_string(points.size()) + " contact point(s)");
  }
  if (provenances == std::set<std::string>{""}) {
    // Made in the UI: written without provenance, they stay editable there.
    part.component["disable_provenance"] = true;
  } else if (provenances.size() > 1) {
    part.review.push_back(
        "alert rules and contact points were made both in the UI and through the API: obsforge "
        "writes them all with provenance \"api\", which locks them in the UI");
  }

  if (snap.policies.is_object() && snap.policies.contains("routes") &&
      snap.policies["routes"].is_array() && !snap.policies["routes"].empty()) {
    part.review.push_back(
        "the notification policy tree is left as it is in Grafana (obsforge manages only a route "
        "of its own, and this stack adds none)");
  }
  if (snap.mute_timings > 0) {
    part.review.push_back(std::to_string(snap.mute_timings) +
                          " mute timing(s) left as they are in Grafana (not managed by obsforge)");
  }
  if (snap.templates > 0) {
    part.review.push_back(std::to_string(snap.templates) +
                          " notification template(s) left as they are in Grafana (not managed "
                          "by obsforge)");
  }

  if (adopt) {
    ordered_json lists = ordered_json::object();
    for (const auto& [kind, uids] : adopt_lists.items()) {
      if (!uids.empty()) {
        lists[kind] = uids;
      }
    }
    if (!lists.empty()) {
      part.component["adopt"] = std::move(lists);
    }
  } else {
    const std::size_t existing =
        datasources.size() + folders.size() + dashboards + rule_files.size() + points.size();
    if (existing > 0) {
      part.review.push_back(
          std::to_string(existing) +
          " Grafana objects exist and obsforge does not own them: an apply reports them as "
          "conflicts and leaves them alone; import again with --adopt to take them over");
    }
  }

  part.runtime["url"] = snap.url;
  if (snap.auth == "token") {
    part.runtime["token"] = {{"secret", "GRAFANA_TOKEN"}};
  } else {
    part.runtime["user"] = snap.user;
    part.runtime["password"] = {{"secret", "GRAFANA_PASSWORD"}};
  }
  return part;
}

}  // namespace obsforge::importer
