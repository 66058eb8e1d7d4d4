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
      if (unknown.contains(name)) {
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

namespace {

// Each datasource in full (the list leaves fields out).
core::Result<void> ReadDatasources(provision::GrafanaClient& client, GrafanaSnapshot& snap) {
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
  return {};
}

// Every dashboard with its meta, within the limits on their number and size.
core::Result<void> ReadDashboards(provision::GrafanaClient& client,
                                  const GrafanaReadLimits& limits,
                                  GrafanaSnapshot& snap) {
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
  return {};
}

// The rule groups the alert rules name, each read whole.
core::Result<void> ReadRuleGroups(provision::GrafanaClient& client, GrafanaSnapshot& snap) {
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
  return {};
}

core::Result<void> ReadContactPoints(provision::GrafanaClient& client, GrafanaSnapshot& snap) {
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
  return {};
}

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
  if (auto read = ReadDatasources(client, snap); !read.ok()) {
    return read.error();
  }
  std::set<std::string> seen;
  if (auto folders = ReadFolders(client, "", seen, snap.folders, 0); !folders.ok()) {
    return folders.error();
  }
  if (auto read = ReadDashboards(client, limits, snap); !read.ok()) {
    return read.error();
  }
  if (auto read = ReadRuleGroups(client, snap); !read.ok()) {
    return read.error();
  }
  if (auto read = ReadContactPoints(client, snap); !read.ok()) {
    return read.error();
  }
  auto tree = client.GetPolicyTree();
  snap.policies = tree.ok() && tree->is_object() ? ordered_json(*tree) : ordered_json();
  auto timings = client.ListMuteTimings();
  snap.mute_timings = timings.ok() && timings->is_array() ? timings->size() : 0;
  auto templates = client.ListTemplates();
  snap.templates = templates.ok() && templates->is_array() ? templates->size() : 0;
  return snap;
}

namespace {

// One import of a snapshot, step by step; each step adds its part of the spec, its files and
// its notes, in the order the import reports them.
class GrafanaImport {
 public:
  GrafanaImport(const GrafanaSnapshot& snap,
                const std::string& stack,
                bool adopt,
                SecretLifter& secrets)
      : snap_(snap), stack_(stack), adopt_(adopt), secrets_(secrets) {
    for (const char* kind :
         {"datasources", "folders", "dashboards", "rule_groups", "contact_points"}) {
      adopt_lists_[kind] = ordered_json::array();
    }
  }

  GrafanaPart Run() {
    Version();
    Datasources();
    Folders();
    Dashboards();
    RuleGroups();
    ContactPoints();
    ProvenanceNotes();
    LeftAlone();
    Ownership();
    Runtime();
    return std::move(part_);
  }

 private:
  void Adopted(const char* kind, const char* noun, const std::string& uid) {
    if (!adopt_) {
      return;
    }
    adopt_lists_[kind].push_back(uid);
    part_.adopted.push_back(std::string(noun) + " " + Quoted(uid));
  }

  void Version() {
    part_.component["enabled"] = true;
    if (!snap_.version.empty()) {
      // "11.2.0" -> "11.2": the templates tell versions apart by major and minor.
      const auto dot = snap_.version.find('.', snap_.version.find('.') + 1);
      part_.component["version"] = snap_.version.substr(0, dot);
    }
  }

  // The secrets of a datasource: those Grafana holds (and never returns) become references to
  // be filled in; the ones Grafana before 9 kept outside secureJsonData are lifted.
  ordered_json SecureFields(const ordered_json& ds,
                            const std::string& name,
                            const std::string& from) {
    ordered_json secure = ordered_json::object();
    if (ds.contains("secureJsonFields") && ds["secureJsonFields"].is_object()) {
      for (const auto& [field, set] : ds["secureJsonFields"].items()) {
        if (set == true) {
          std::string what = from;
          what.append(": secureJsonData.").append(field).append(" (Grafana never returns it)");
          secure[field] = secrets_.Unrevealed({"grafana", "ds", name, field}, what);
        }
      }
    }
    for (const char* legacy : {"password", "basicAuthPassword"}) {
      if (!Str(ds, legacy).empty() && !secure.contains(legacy)) {
        ordered_json value = ordered_json::object();
        value[legacy] = ds[legacy];
        secrets_.LiftObject(value, {"grafana", "ds", name}, from);
        secure[legacy] = value[legacy];
      }
    }
    return secure;
  }

  // A datasource as the spec writes it: kept with its uid; secrets become references.
  ordered_json Datasource(const ordered_json& ds, const std::string& uid, const std::string& name) {
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
    secrets_.LiftObject(out, {"grafana", "ds", name}, from);
    ordered_json secure = SecureFields(ds, name, from);
    if (!secure.empty()) {
      out["secureJsonData"] = std::move(secure);
    }
    return out;
  }

  void Datasources() {
    for (const auto& ds : snap_.datasources) {
      const std::string uid = Str(ds, "uid");
      const std::string name = Str(ds, "name");
      const std::string type = Str(ds, "type");
      if (Bool(ds, "readOnly")) {
        part_.review.push_back("datasource " + Quoted(name) + " (uid " + uid +
                               ") is provisioned from files: left as it is (its uid stays, so "
                               "dashboards using it keep working)");
      }
      if (!default_of_type_.contains(type) || Bool(ds, "isDefault")) {
        default_of_type_[type] = uid;
      }
      if (Bool(ds, "readOnly")) {
        continue;
      }
      datasources_.push_back(Datasource(ds, uid, name));
      Adopted("datasources", "datasource", uid);
    }
    if (!datasources_.empty()) {
      part_.component["datasources"] = datasources_;
      part_.did.push_back(std::to_string(datasources_.size()) +
                          " Grafana datasource(s), uids kept");
    }
  }

  // Folders: all of them, their tree kept as directories under dashboards/<stack>/.
  void Folders() {
    std::map<std::string, std::set<std::string>> dirs_taken;  // parent -> directory names
    for (const auto& f : snap_.folders) {
      const std::string uid = Str(f, "uid");
      FolderInfo info{.title = Str(f, "title"), .parent = Str(f, "parentUid")};
      const std::string parent_dir = info.parent.empty() || !folders_.contains(info.parent)
                                         ? std::string()
                                         : folders_[info.parent].dir + "/";
      info.dir = parent_dir + UniqueIn(dirs_taken[info.parent], Slug(info.title, uid));
      ordered_json entry = ordered_json::object();
      entry["uid"] = uid;
      entry["title"] = info.title;
      if (!info.parent.empty()) {
        entry["parent_uid"] = info.parent;
      }
      part_.folders.push_back(std::move(entry));
      folders_[uid] = std::move(info);
      Adopted("folders", "folder", uid);
    }
    if (!folders_.empty()) {
      part_.did.push_back(std::to_string(folders_.size()) + " Grafana folder(s), tree kept");
    }
  }

  // The "${NAME}" inputs of an exported dashboard resolved against this Grafana's datasources
  // and the inputs' constants.
  void ResolveDashboardInputs(ordered_json& dashboard,
                              const std::string& title,
                              const std::string& uid) {
    std::map<std::string, std::string> values;
    std::set<std::string> unknown;
    for (const auto& input : dashboard["__inputs"]) {
      const std::string input_name = Str(input, "name");
      const std::string kind = Str(input, "type");
      if (kind == "datasource" && default_of_type_.contains(Str(input, "pluginId"))) {
        values[input_name] = default_of_type_[Str(input, "pluginId")];
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
      part_.review.push_back("dashboard " + Quoted(title) + " (uid " + uid + ") had " +
                             std::to_string(resolved) +
                             " unresolved ${...} inputs (Grafana showed \"datasource not "
                             "found\"): now this Grafana's datasources; check it after apply");
    }
    for (const auto& m : missing) {
      std::string note = "dashboard " + Quoted(title);
      note.append(" (uid ")
          .append(uid)
          .append("): input ${")
          .append(m)
          .append("} matches no datasource of this Grafana");
      part_.review.push_back(std::move(note));
    }
  }

  // One dashboard, without the fields Grafana manages, into the directory of its folder.
  void Dashboard(const ordered_json& entry) {
    ordered_json dashboard = Member(entry, "dashboard", ordered_json::object());
    const ordered_json meta = Member(entry, "meta", ordered_json::object());
    const std::string uid = Str(dashboard, "uid");
    const std::string title = Str(dashboard, "title");
    if (uid.empty() || title.empty()) {
      part_.review.push_back("a dashboard without a uid or title (" +
                             Quoted(uid.empty() ? title : uid) + ") was not imported");
      return;
    }
    if (Bool(meta, "provisioned")) {
      part_.review.push_back("dashboard " + Quoted(title) + " (uid " + uid +
                             ") is provisioned from files: left as it is");
      return;
    }
    for (const char* server_field : {"id", "version", "iteration"}) {
      dashboard.erase(server_field);
    }
    if (dashboard.contains("__inputs") && dashboard["__inputs"].is_array()) {
      ResolveDashboardInputs(dashboard, title, uid);
    }
    for (const auto& path : SecretLifter::RedactCredentials(dashboard)) {
      part_.review.push_back("dashboard " + Quoted(title) + " " + path +
                             " looked like a credential and was replaced by \"<redacted>\"");
    }
    const std::string folder_uid = Str(meta, "folderUid");
    const auto folder = folders_.find(folder_uid);
    const std::string dir = folder == folders_.end() ? std::string() : folder->second.dir;
    if (!folder_uid.empty() && folder == folders_.end()) {
      part_.review.push_back("dashboard " + Quoted(title) + " is in folder " + folder_uid +
                             ", which Grafana did not list: imported into the General folder");
    }
    const std::string file = UniqueIn(names_in_dir_[dir], Slug(title, uid));
    const std::string path =
        "dashboards/" + stack_ + "/" + (dir.empty() ? "" : dir + "/") + file + ".json";
    part_.files[path] = render::EmitJson(dashboard);
    dir_folder_[dir] = folder == folders_.end() ? std::string() : folder_uid;
    ++dashboards_;
    Adopted("dashboards", "dashboard", uid);
  }

  void Dashboards() {
    for (const auto& entry : snap_.dashboards) {
      Dashboard(entry);
    }
    for (const auto& [dir, folder_uid] : dir_folder_) {
      ordered_json entry = ordered_json::object();
      entry["path"] = "dashboards/" + stack_ + "/" + (dir.empty() ? "" : dir + "/") + "*.json";
      if (!folder_uid.empty()) {
        entry["folder"] = {{"uid", folder_uid}, {"title", folders_[folder_uid].title}};
      }
      entry["rewrite_datasources"] = false;
      part_.dashboards.push_back(std::move(entry));
    }
    if (dashboards_ > 0) {
      part_.did.push_back(std::to_string(dashboards_) + " dashboard(s) into dashboards/" + stack_ +
                          "/ (by folder)");
    }
  }

  // A Grafana-managed rule as the rule file writes it, Grafana's own queries kept.
  static ordered_json Rule(const ordered_json& rule) {
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
      if (!kKnown.contains(key) && !value.is_null()) {
        extra[key] = value;
      }
    }
    if (!extra.empty()) {
      out["grafana"] = std::move(extra);
    }
    return out;
  }

  // One rule group into the rule file of its folder; its file-provisioned rules left alone.
  void RuleGroup(const ordered_json& group) {
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
      provenances_.insert(Provenance(rule));
      rules.push_back(Rule(rule));
      ++rule_count_;
    }
    if (file_provisioned) {
      part_.review.push_back("rule group " + Quoted(title) + " in folder " + folder_uid +
                             " holds file-provisioned rules: those are left as they are");
    }
    if (rules.empty()) {
      return;
    }
    ordered_json g = ordered_json::object();
    g["name"] = title;
    g["folder"] = {
        {"uid", folder_uid},
        {"title", folders_.contains(folder_uid) ? folders_[folder_uid].title : folder_uid}};
    if (group.contains("interval") && group["interval"].is_number_integer()) {
      g["interval"] = Seconds(group["interval"].get<std::int64_t>());
    }
    g["rules"] = std::move(rules);
    auto& doc = rule_files_[folder_uid];
    if (doc.is_null()) {
      doc = {{"groups", ordered_json::array()}};
    }
    doc["groups"].push_back(std::move(g));
    Adopted("rule_groups", "rule group", folder_uid + "/" + title);
  }

  // Grafana-managed rule groups, one file per folder.
  void RuleGroups() {
    for (const auto& group : snap_.rule_groups) {
      RuleGroup(group);
    }
    for (auto& [folder_uid, doc] : rule_files_) {
      const auto folder = folders_.find(folder_uid);
      std::string name = folder == folders_.end() ? Slug(folder_uid, "rules") : folder->second.dir;
      std::replace(name.begin(), name.end(), '/', '-');
      SecretLifter::RedactCredentials(doc);
      part_.files["alerts/" + stack_ + "/grafana/" + name + ".yaml"] = render::EmitYaml(doc);
    }
    if (!rule_files_.empty()) {
      ordered_json entry = ordered_json::object();
      entry["path"] = "alerts/" + stack_ + "/grafana/*.yaml";
      entry["type"] = "grafana";
      part_.alerts.push_back(std::move(entry));
      part_.did.push_back(std::to_string(rule_count_) + " Grafana-managed rule(s) into alerts/" +
                          stack_ + "/grafana/");
    }
  }

  // Contact points: settings kept, secrets lifted.
  void ContactPoints() {
    for (const auto& cp : snap_.contact_points) {
      const std::string uid = Str(cp, "uid");
      const std::string name = Str(cp, "name");
      if (Provenance(cp) == "file") {
        part_.review.push_back("contact point " + Quoted(name) + " (uid " + uid +
                               ") is provisioned from files: left as it is");
        continue;
      }
      provenances_.insert(Provenance(cp));
      ordered_json out = ordered_json::object();
      out["uid"] = uid;
      out["name"] = name;
      out["type"] = Str(cp, "type");
      ordered_json settings = Member(cp, "settings", ordered_json::object());
      secrets_.LiftObject(settings, {"grafana", "cp", name, Str(cp, "type")},
                          "grafana contact point " + Quoted(name) + " (uid " + uid + "): settings");
      out["settings"] = std::move(settings);
      if (cp.contains("disableResolveMessage") && cp["disableResolveMessage"].is_boolean()) {
        out["disableResolveMessage"] = cp["disableResolveMessage"];
      }
      points_.push_back(std::move(out));
      Adopted("contact_points", "contact point", uid);
    }
    if (!points_.empty()) {
      part_.component["contact_points"] = points_;
      part_.did.push_back(std::to_string(points_.size()) + " contact point(s)");
    }
  }

  // What the alerting objects were written with decides how obsforge writes them.
  void ProvenanceNotes() {
    if (provenances_ == std::set<std::string>{""}) {
      // Made in the UI: written without provenance, they stay editable there.
      part_.component["disable_provenance"] = true;
    } else if (provenances_.size() > 1) {
      part_.review.emplace_back(
          "alert rules and contact points were made both in the UI and through the API: "
          "obsforge writes them all with provenance \"api\", which locks them in the UI");
    }
  }

  void LeftAlone() {
    if (snap_.policies.is_object() && snap_.policies.contains("routes") &&
        snap_.policies["routes"].is_array() && !snap_.policies["routes"].empty()) {
      part_.review.emplace_back(
          "the notification policy tree is left as it is in Grafana (obsforge manages only a "
          "route of its own, and this stack adds none)");
    }
    if (snap_.mute_timings > 0) {
      part_.review.emplace_back(
          std::to_string(snap_.mute_timings) +
          " mute timing(s) left as they are in Grafana (not managed by obsforge)");
    }
    if (snap_.templates > 0) {
      part_.review.emplace_back(std::to_string(snap_.templates) +
                                " notification template(s) left as they are in Grafana (not "
                                "managed by obsforge)");
    }
  }

  // With --adopt, the lists of what obsforge takes over; without, a note on what it will not.
  void Ownership() {
    if (adopt_) {
      ordered_json lists = ordered_json::object();
      for (const auto& [kind, uids] : adopt_lists_.items()) {
        if (!uids.empty()) {
          lists[kind] = uids;
        }
      }
      if (!lists.empty()) {
        part_.component["adopt"] = std::move(lists);
      }
      return;
    }
    const std::size_t existing =
        datasources_.size() + folders_.size() + dashboards_ + rule_files_.size() + points_.size();
    if (existing > 0) {
      part_.review.push_back(
          std::to_string(existing) +
          " Grafana objects exist and obsforge does not own them: an apply reports them as "
          "conflicts and leaves them alone; import again with --adopt to take them over");
    }
  }

  void Runtime() {
    part_.runtime["url"] = snap_.url;
    if (snap_.auth == "token") {
      part_.runtime["token"] = {{"secret", "GRAFANA_TOKEN"}};
    } else {
      part_.runtime["user"] = snap_.user;
      part_.runtime["password"] = {{"secret", "GRAFANA_PASSWORD"}};
    }
  }

  const GrafanaSnapshot& snap_;
  const std::string& stack_;
  const bool adopt_;
  SecretLifter& secrets_;
  GrafanaPart part_;
  ordered_json adopt_lists_ = ordered_json::object();
  ordered_json datasources_ = ordered_json::array();
  std::map<std::string, std::string> default_of_type_;  // type -> uid (default, else first)
  std::map<std::string, FolderInfo> folders_;
  std::map<std::string, std::set<std::string>> names_in_dir_;
  std::map<std::string, std::string> dir_folder_;  // dir -> folder uid ("" = General)
  std::size_t dashboards_ = 0;
  std::set<std::string> provenances_;
  std::map<std::string, ordered_json> rule_files_;  // folder uid -> document
  std::size_t rule_count_ = 0;
  ordered_json points_ = ordered_json::array();
};

}  // namespace

GrafanaPart ImportGrafana(const GrafanaSnapshot& snap,
                          const std::string& stack,
                          bool adopt,
                          SecretLifter& secrets) {
  return GrafanaImport(snap, stack, adopt, secrets).Run();
}

}  // namespace obsforge::importer
