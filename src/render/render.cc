#include "render/render.h"

#include <set>
#include <stdexcept>

#include "core/bytes.h"
#include "core/diagnostic.h"
#include "core/hash.h"
#include "render/check.h"
#include "render/dashboards.h"
#include "render/emit.h"
#include "render/env.h"
#include "render/grafana_rules.h"
#include "render/jsonnet_eval.h"
#include "render/passthrough.h"
#include "render/yaml_json.h"
#include "spec/document.h"

namespace obsforge::render {
namespace {

using core::Diagnostic;
using core::InputError;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kProgramName = "obsforge-render.jsonnet";

[[noreturn]] void Fail(const std::string& file, const std::string& path, std::string message) {
  throw InputError(InputError::Kind::kRender,
                   Diagnostic{.file = file, .path = path, .message = std::move(message)});
}

std::string Quote(const std::string& s) {
  return json(s).dump();
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.ends_with(suffix);
}

std::string Stem(const std::string& path) {
  const auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

std::string Dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// A file name made of safe characters, for files named after groups.
std::string SafeFileName(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    out += ok ? c : '_';
  }
  if (out.empty() || out[0] == '.') {
    out = "_" + out;
  }
  return out;
}

struct Folder {
  std::string uid;  ///< "" = Grafana's General folder
  std::string title;
  std::string parent_uid;
};

struct DashboardInput {
  std::string file;  // as the user knows it
  Folder folder;
  bool rewrite_datasources = true;
  std::optional<std::string> json_text;  // .json files; Jsonnet ones come from the evaluation
  std::size_t jsonnet_index = 0;
};

struct RuleInput {
  std::string file;
  std::string type;  // prometheus | loki | grafana
  ordered_json doc;
  std::optional<Folder> folder;
};

struct TemplateInput {
  std::string file;  // as the user knows it
  std::string text;
};

struct MixinInput {
  std::string file;
  std::string name;
  json config;
};

class Renderer {
 public:
  Renderer(const spec::EnvironmentSpec& spec,
           const spec::ContentSource& content,
           const RenderOptions& options)
      : spec_(spec), content_(content), options_(options) {}

  Bundle Run() {
    stack_ = PrepareStack(spec_.merged, SecretsDir(spec_, options_));
    env_ = BuildEnv(spec_, stack_, options_);
    const json& s = stack_["spec"];
    UseListedDatasources();
    for (const auto& [type, ds] : env_["datasources"].items()) {
      datasources_[type] = DatasourceRef{.uid = ds["uid"], .name = ds["name"], .type = type};
    }
    GatherFolders(s);
    GatherDashboards(s);
    GatherRules(s);
    GatherMixins(s);
    GatherAlertmanagerTemplates(s);
    if (s.contains("templates") && s["templates"].is_string()) {
      stack_templates_ = Clean(s["templates"].get<std::string>());
    }
    const ordered_json out = Evaluate();
    EmitComponents(out["components"]);
    EmitAlertmanagerTemplates();
    EmitRules();
    EmitMixins(out["mixins"]);
    EmitDashboards(out["dashboards"]);
    EmitGrafanaObjects();
    for (const auto& [path, text] : bundle_.files()) {
      if (EndsWith(path, ".yml") || EndsWith(path, ".yaml")) {
        CheckYamlParses(text, path);
      }
    }
    EmitManifest();
    return std::move(bundle_);
  }

 private:
  bool Enabled(const std::string& c) const { return ComponentEnabled(stack_, c); }

  static std::string Clean(std::string p) {
    while (p.starts_with("./")) {
      p = p.substr(2);
    }
    while (p.ends_with('/')) {
      p.pop_back();
    }
    return p == "." ? "" : p;
  }

  std::string ReadContent(const std::string& file, const std::string& path) {
    auto text = content_.Read(file);
    if (!text) {
      Fail(file, path, "cannot read \"" + file + "\"");
    }
    reads_[kStackPrefix + file] = *text;
    return *text;
  }

  std::vector<std::string> Glob(const json& entry, const std::string& path) {
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      Fail("", path + ".path", "an entry needs a path");
    }
    return GlobPattern(entry["path"].get<std::string>(), path + ".path");
  }

  // The files `pattern` (relative to the stack root) matches; `path` names it in the spec.
  std::vector<std::string> GlobPattern(const std::string& raw, const std::string& path) {
    const std::string pattern = Clean(raw);
    if (content_.Escapes(pattern)) {
      Fail("", path, "\"" + pattern + "\" leaves the stack root");
    }
    auto files = content_.Glob(pattern);
    if (files.empty()) {
      Fail("", path, "\"" + pattern + "\" matches no file");
    }
    return files;
  }

  static std::optional<Folder> FolderOf(const json& entry) {
    const auto it = entry.find("folder");
    if (it == entry.end() || !it->is_object()) {
      return std::nullopt;
    }
    Folder f;
    f.uid = it->value("uid", "");
    f.title = it->value("title", "");
    f.parent_uid = it->value("parent_uid", "");
    if (f.uid.empty() && f.title.empty()) {
      return std::nullopt;
    }
    if (f.uid.empty()) {
      f.uid = MakeUid(f.title);
    }
    if (f.title.empty()) {
      f.title = f.uid;
    }
    return f;
  }

  void AddFolder(const Folder& f) {
    if (!f.uid.empty()) {
      folders_.emplace(f.uid, f);
    }
  }

  // components.grafana.datasources, when listed, are the stack's datasources: they replace the
  // ones derived from the components, and the stack's datasource of a type (for dashboards,
  // rules and templates) is the listed default of that type, else the first.
  void UseListedDatasources() {
    const json& grafana = stack_["spec"]["components"]["grafana"];
    if (!grafana.contains("datasources") || !grafana["datasources"].is_array()) {
      return;
    }
    json by_type = json::object();
    for (const auto& ds : grafana["datasources"]) {
      const std::string type = ds.value("type", "");
      if (type.empty() || (by_type.contains(type) && !ds.value("isDefault", false))) {
        continue;
      }
      by_type[type] = {{"uid", ds.value("uid", "")},
                       {"name", ds.value("name", "")},
                       {"type", type},
                       {"url", ds.value("url", "")}};
      if (ds.value("isDefault", false)) {
        default_type_ = type;
      }
    }
    env_["datasources"] = std::move(by_type);
    listed_datasources_ = true;
  }

  void GatherFolders(const json& s) {
    const auto it = s.find("folders");
    if (it == s.end() || !it->is_array()) {
      return;
    }
    for (const auto& f : *it) {
      AddFolder(Folder{.uid = f.value("uid", ""),
                       .title = f.value("title", ""),
                       .parent_uid = f.value("parent_uid", "")});
    }
  }

  void GatherDashboards(const json& s) {
    const auto it = s.find("dashboards");
    if (it == s.end() || !it->is_array()) {
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& entry = (*it)[i];
      const std::string path = "spec.dashboards[" + std::to_string(i) + "]";
      const Folder folder = FolderOf(entry).value_or(Folder{});
      const bool rewrite = entry.value("rewrite_datasources", true);
      for (const auto& file : Glob(entry, path)) {
        DashboardInput d{.file = file, .folder = folder, .rewrite_datasources = rewrite};
        if (EndsWith(file, ".jsonnet") || EndsWith(file, ".libsonnet")) {
          d.jsonnet_index = jsonnet_dashboards_.size();
          jsonnet_dashboards_.push_back(file);
        } else {
          d.json_text = ReadContent(file, path);
        }
        dashboards_.push_back(std::move(d));
      }
    }
  }

  void GatherRules(const json& s) {
    const auto it = s.find("alerts");
    if (it == s.end() || !it->is_array()) {
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& entry = (*it)[i];
      const std::string path = "spec.alerts[" + std::to_string(i) + "]";
      const std::string type = entry.is_object() ? entry.value("type", "") : "";
      if (type != "prometheus" && type != "loki" && type != "grafana") {
        Fail("", path + ".type", "must be prometheus, loki or grafana");
      }
      for (const auto& file : Glob(entry, path)) {
        RuleInput r{.file = file, .type = type, .doc = ParseYaml(ReadContent(file, path), file)};
        CheckRuleFile(r.doc, file, type == "grafana");
        r.folder = FolderOf(entry);
        rules_.push_back(std::move(r));
      }
    }
  }

  void GatherMixins(const json& s) {
    const auto it = s.find("mixins");
    if (it == s.end() || !it->is_array()) {
      return;
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& entry = (*it)[i];
      const std::string path = "spec.mixins[" + std::to_string(i) + "]";
      if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
        Fail("", path + ".path", "a mixin needs a path");
      }
      MixinInput m{.file = Clean(entry["path"].get<std::string>())};
      if (content_.Escapes(m.file) || !content_.Read(m.file)) {
        Fail("", path + ".path", "cannot read \"" + m.file + "\"");
      }
      m.name = entry.value("name", "");
      if (m.name.empty()) {
        const auto stem = Stem(m.file);
        const auto dir = Dir(m.file);
        m.name = (stem == "mixin" && !dir.empty()) ? Stem(dir) : stem;
      }
      if (!names.insert(m.name).second) {
        Fail("", path + ".name", "mixin name \"" + m.name + "\" is used twice");
      }
      m.config = entry.contains("config") ? entry["config"] : json(nullptr);
      if (!m.config.is_null() && !m.config.is_object()) {
        Fail("", path + ".config", "must be a map");
      }
      const auto dir = Dir(m.file);
      mixin_dirs_.push_back(dir);
      mixins_.push_back(std::move(m));
    }
  }

  // `components.alertmanager.templates`: globs of Go template files for notifications.
  void GatherAlertmanagerTemplates(const json& s) {
    if (!Enabled("alertmanager")) {
      return;
    }
    const auto& am = s["components"]["alertmanager"];
    const auto it = am.find("templates");
    if (it == am.end() || it->is_null()) {
      return;
    }
    const std::string path = "spec.components.alertmanager.templates";
    if (!it->is_array()) {
      Fail("", path, "must be a list of paths");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& entry = (*it)[i];
      const std::string where = path + "[" + std::to_string(i) + "]";
      if (!entry.is_string()) {
        Fail("", where, "must be a path");
      }
      for (const auto& file : GlobPattern(entry.get<std::string>(), where)) {
        // Two globs may match the same file; it is copied once.
        if (seen.insert(file).second) {
          am_templates_.push_back({.file = file, .text = ReadContent(file, where)});
        }
      }
    }
  }

  // Alertmanager loads `<config dir>/templates/*.tmpl` (the default template points there), so
  // every file is copied there under a .tmpl name.
  void EmitAlertmanagerTemplates() {
    for (const auto& t : am_templates_) {
      Add(UniquePath("alertmanager/templates", t.file, ".tmpl"), t.text, t.file);
    }
  }

  ordered_json Evaluate() {
    std::string program =
        "local stack = std.parseJson(std.extVar('stack'));\n"
        "local env = std.parseJson(std.extVar('env'));\n"
        "local mixin(m, config) =\n"
        "  local c = if config == null then m else m + { _config+:: config };\n"
        "  {\n"
        "    alerts: if std.objectHasAll(c, 'prometheusAlerts') then c.prometheusAlerts else "
        "null,\n"
        "    rules: if std.objectHasAll(c, 'prometheusRules') then c.prometheusRules else null,\n"
        "    dashboards: if std.objectHasAll(c, 'grafanaDashboards') then c.grafanaDashboards "
        "else null,\n"
        "  };\n"
        "{\n  components: {\n";
    for (const auto& c : spec::ComponentNames()) {
      if (Enabled(c)) {
        program += "    " + c + ": (import " + Quote(c + "/main.jsonnet") + ")(stack, env),\n";
      }
    }
    program += "  },\n  dashboards: [\n";
    for (const auto& file : jsonnet_dashboards_) {
      program += "    import " + Quote(kStackPrefix + file) + ",\n";
    }
    program += "  ],\n  mixins: [\n";
    for (const auto& m : mixins_) {
      program +=
          "    mixin(import " + Quote(kStackPrefix + m.file) + ", " + m.config.dump() + "),\n";
    }
    program += "  ],\n}\n";

    JsonnetInputs inputs{.content = &content_,
                         .stack_templates = stack_templates_,
                         .templates_dir = options_.templates_dir,
                         .mixin_dirs = mixin_dirs_,
                         .jsonnet_paths = options_.jsonnet_paths};
    // Strings, not code: libjsonnet 0.18 would parse each code variable as a file of its own
    // (with its standard library, ~20 ms); std.parseJson is native.
    return EvaluateJsonnet(kProgramName, program, {}, inputs, &reads_,
                           {{"stack", stack_.dump()}, {"env", env_.dump()}});
  }

  std::string TemplateFile(const std::string& component) const {
    const std::string rel = component + "/main.jsonnet";
    if (!stack_templates_.empty()) {
      std::string own = stack_templates_ + "/" + rel;
      if (reads_.contains(kStackPrefix + own)) {
        return own;
      }
    }
    return "templates/" + rel;
  }

  void Add(const std::string& path, std::string content, const std::string& source) {
    try {
      bundle_.Add(path, std::move(content));
    } catch (const std::logic_error& e) {
      Fail(source, "", e.what());
    }
  }

  // The text of one file a template returned: a string as it is, an object or a list in the
  // format its name asks for.
  static std::string FileText(const ordered_json& value,
                              const std::string& name,
                              const std::string& source) {
    if (value.is_string()) {
      return value.get<std::string>();
    }
    if (!value.is_structured()) {
      Fail(source, name, "content must be a string, an object or a list");
    }
    if (EndsWith(name, ".yml") || EndsWith(name, ".yaml")) {
      return EmitYaml(value);
    }
    if (EndsWith(name, ".json")) {
      return EmitJson(value);
    }
    if (EndsWith(name, ".ini")) {
      try {
        return EmitIni(value);
      } catch (const std::invalid_argument& e) {
        Fail(source, name, e.what());
      }
    }
    Fail(source, name, "an object or list needs a .yml, .yaml, .json or .ini file name");
  }

  // The spec's passthrough of one component: keys merged into and removed from its main file.
  struct Passthrough {
    json merge;
    json remove;
    bool any() const { return merge.is_object() || remove.is_array(); }
  };

  void EmitComponentFile(const std::string& c,
                         const std::string& source,
                         const std::string& name,
                         const ordered_json& original,
                         const Passthrough& passthrough) {
    const std::string path = OutputFolder(c) + "/" + name;
    ordered_json main_file;
    if (name == MainFile(c) && original.is_structured() &&
        (passthrough.any() || HasSecretReferences(original))) {
      main_file = passthrough.any()
                      ? MergePassthrough(original, passthrough.merge, passthrough.remove)
                      : original;
      ResolveSecretReferences(main_file, c, path);
    }
    const ordered_json& value = main_file.is_null() ? original : main_file;
    Add(path, FileText(value, name, source), source);
  }

  void EmitComponents(const ordered_json& components) {
    for (const auto& c : spec::ComponentNames()) {
      if (!Enabled(c)) {
        continue;
      }
      const std::string source = TemplateFile(c);
      const auto& files = components[c];
      if (!files.is_object()) {
        Fail(source, "", "the template must return an object of file name -> content");
      }
      const json& component = stack_["spec"]["components"][c];
      const Passthrough passthrough{.merge = component.value("passthrough", json()),
                                    .remove = component.value("passthrough_remove", json())};
      if (passthrough.any() && !files.contains(MainFile(c))) {
        Fail(source, "",
             "spec.components." + c + ".passthrough needs the template to write " + MainFile(c));
      }
      for (const auto& [name, original] : files.items()) {
        EmitComponentFile(c, source, name, original, passthrough);
      }
    }
  }

  static ordered_json NormalizeRuleFile(ordered_json doc) {
    if (!doc.is_object()) {
      doc = ordered_json::object();
    }
    if (!doc.contains("groups") || doc["groups"].is_null()) {
      doc["groups"] = ordered_json::array();
    }
    for (auto& g : doc["groups"]) {
      if (!g.contains("rules") || g["rules"].is_null()) {
        g["rules"] = ordered_json::array();
      }
    }
    return doc;
  }

  // "<dir>/<stem><extension>", or a longer name from the path when two files share a stem.
  std::string UniquePath(const std::string& dir,
                         const std::string& file,
                         const std::string& extension) {
    std::string path = dir + "/" + SafeFileName(Stem(file)) + extension;
    if (bundle_.Find(path) != nullptr) {
      std::string flat = file;
      const auto dot = flat.rfind('.');
      flat = flat.substr(0, dot);
      for (auto& ch : flat) {
        ch = ch == '/' ? '-' : ch;
      }
      path = dir + "/" + SafeFileName(flat) + extension;
    }
    return path;
  }

  // spec::LokiTenant(), as BuildEnv put it in the env.
  std::string LokiTenant() const { return env_["tenant"].get<std::string>(); }

  Folder DefaultRuleFolder() const { return Folder{.uid = spec_.stack, .title = spec_.stack}; }

  void EmitRules() {
    std::set<std::pair<std::string, std::string>> grafana_groups;
    for (const auto& r : rules_) {
      if (r.type == "prometheus") {
        if (Enabled("prometheus")) {
          Add(UniquePath("prometheus/rules", r.file, ".yaml"), EmitYaml(NormalizeRuleFile(r.doc)),
              r.file);
        }
      } else if (r.type == "loki") {
        if (Enabled("loki")) {
          Add(UniquePath("loki/rules/" + SafeFileName(LokiTenant()), r.file, ".yaml"),
              EmitYaml(NormalizeRuleFile(r.doc)), r.file);
        }
      } else {
        EmitGrafanaRules(r, grafana_groups);
      }
    }
  }

  void EmitGrafanaRules(const RuleInput& r, std::set<std::pair<std::string, std::string>>& seen) {
    const auto doc = NormalizeRuleFile(r.doc);
    GrafanaRuleContext ctx;
    ctx.org_id = stack_["spec"]["components"]["grafana"].value("org_id", 1);
    if (const auto it = datasources_.find("prometheus"); it != datasources_.end()) {
      ctx.prometheus = it->second;
    }
    if (const auto it = datasources_.find("loki"); it != datasources_.end()) {
      ctx.loki = it->second;
    }
    const auto& groups = doc["groups"];
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& group = groups[g];
      const std::string path = "groups[" + std::to_string(g) + "]";
      Folder folder = r.folder.value_or(DefaultRuleFolder());
      if (group.contains("folder") && group["folder"].is_object()) {
        folder.uid = group["folder"].value("uid", "");
        folder.title = group["folder"].value("title", "");
        folder.parent_uid.clear();
        if (folder.uid.empty()) {
          folder.uid = MakeUid(folder.title);
        }
        if (folder.title.empty()) {
          folder.title = folder.uid;
        }
      }
      ctx.folder_uid = folder.uid;
      const std::string title = group.value("name", "");
      if (!seen.emplace(folder.uid, title).second) {
        Fail(r.file, path + ".name",
             "rule group \"" + title + "\" is defined twice in folder \"" + folder.uid + "\"");
      }
      auto body = GrafanaRuleGroup(group, ctx, r.file, path);
      if (!Enabled("grafana")) {
        continue;
      }
      AddFolder(folder);
      const std::string file =
          "grafana/alerting/" + SafeFileName(folder.uid) + "/" + SafeFileName(title) + ".json";
      Add(file, EmitJson(body), r.file);
      ordered_json entry = ordered_json::object();
      entry["folderUid"] = folder.uid;
      entry["title"] = title;
      entry["file"] = file;
      rule_groups_.push_back(std::move(entry));
    }
  }

  void EmitMixins(const ordered_json& outputs) {
    for (std::size_t i = 0; i < mixins_.size(); ++i) {
      const auto& m = mixins_[i];
      const auto& out = outputs[i];
      const std::string safe = SafeFileName(m.name);
      for (const auto& [key, suffix] :
           {std::pair<const char*, const char*>{"alerts", "alerts"}, {"rules", "rules"}}) {
        const auto& doc = out[key];
        if (doc.is_null()) {
          continue;
        }
        const std::string source =
            m.file + " (" +
            (std::string(key) == "alerts" ? "prometheusAlerts" : "prometheusRules") + ")";
        CheckRuleFile(doc, source);
        const auto normalized = NormalizeRuleFile(doc);
        if (normalized["groups"].empty() || !Enabled("prometheus")) {
          continue;
        }
        Add("prometheus/rules/mixin-" + safe + "-" + suffix + ".yaml", EmitYaml(normalized),
            source);
      }
      const auto& dashboards = out["dashboards"];
      if (dashboards.is_object()) {
        const Folder folder{.uid = MakeUid(m.name), .title = m.name};
        for (const auto& [name, dashboard] : dashboards.items()) {
          AddDashboard(dashboard, Dir(m.file) + "/" + name, folder);
        }
      }
    }
  }

  void EmitDashboards(const ordered_json& jsonnet_outputs) {
    for (const auto& d : dashboards_) {
      if (d.json_text) {
        ordered_json parsed;
        try {
          // The spec reader's limits: a dashboard may come with a request ({spec, files}).
          parsed = spec::ParseOrderedJson(*d.json_text, d.file);
        } catch (const InputError& e) {
          throw InputError(InputError::Kind::kRender, e.diagnostics());
        }
        AddDashboard(std::move(parsed), d.file, d.folder, d.rewrite_datasources);
      } else {
        AddDashboard(jsonnet_outputs[d.jsonnet_index], d.file, d.folder, d.rewrite_datasources);
      }
    }
  }

  // `rewrite` false: the dashboard already refers to this Grafana's datasources by uid (an
  // import): only its id and uid are set.
  void AddDashboard(ordered_json dashboard,
                    const std::string& source,
                    const Folder& folder,
                    bool rewrite = true) {
    ordered_json out;
    if (rewrite) {
      out = RewriteDashboard(std::move(dashboard), datasources_, default_type_, source);
    } else {
      out = std::move(dashboard);
      if (out.is_object()) {
        const std::string uid = DashboardUid(out, source);
        out["id"] = nullptr;
        out["uid"] = uid;
      }
    }
    CheckDashboard(out, source);
    const std::string uid = out["uid"].get<std::string>();
    if (const auto [it, inserted] = dashboard_sources_.emplace(uid, source); !inserted) {
      Fail(source, "uid", "dashboard uid \"" + uid + "\" is also used by \"" + it->second + "\"");
    }
    if (!Enabled("grafana")) {
      return;
    }
    AddFolder(folder);
    const std::string file = "grafana/dashboards/" +
                             (folder.uid.empty() ? std::string("general") : folder.uid) + "/" +
                             uid + ".json";
    std::string text;
    try {
      text = EmitJson(out);
    } catch (const ordered_json::exception& e) {
      Fail(source, "", std::string("cannot write the dashboard: ") + e.what());
    }
    Add(file, std::move(text), source);
    ordered_json entry = ordered_json::object();
    entry["uid"] = uid;
    entry["folderUid"] = folder.uid;
    entry["file"] = file;
    dashboard_entries_.push_back(std::move(entry));
  }

  ordered_json DatasourceObjects() const {
    ordered_json list = ordered_json::array();
    const auto& components = stack_["spec"]["components"];
    if (listed_datasources_) {
      for (const auto& ds : components["grafana"]["datasources"]) {
        list.push_back(ordered_json(ds));
      }
      return list;
    }
    for (const char* type : {"prometheus", "loki", "tempo", "alertmanager"}) {
      if (!env_["datasources"].contains(type)) {
        continue;
      }
      const auto& ds = env_["datasources"][type];
      ordered_json o = ordered_json::object();
      o["uid"] = ds["uid"];
      o["name"] = ds["name"];
      o["type"] = type;
      o["access"] = "proxy";
      o["url"] = ds["url"];
      o["isDefault"] = std::string(type) == "prometheus";
      ordered_json data = ordered_json::object();
      if (std::string(type) == "prometheus") {
        data["httpMethod"] = "POST";
      } else if (std::string(type) == "alertmanager") {
        data["implementation"] = "prometheus";
        data["handleGrafanaManagedAlerts"] = false;
      } else if (std::string(type) == "loki" && components["loki"].value("auth_enabled", true)) {
        // Same default as templates/loki and spec::LokiTenant(): multi-tenant unless turned off.
        data["httpHeaderName1"] = "X-Scope-OrgID";
        o["secureJsonData"] = {{"httpHeaderValue1", env_["tenant"]}};
      } else if (std::string(type) == "tempo" && env_["datasources"].contains("loki")) {
        data["tracesToLogsV2"] = {{"datasourceUid", env_["datasources"]["loki"]["uid"]}};
      }
      o["jsonData"] = std::move(data);
      list.push_back(std::move(o));
    }
    return list;
  }

  void EmitGrafanaObjects() {
    if (!Enabled("grafana")) {
      return;
    }
    ordered_json objects = ordered_json::object();
    objects["datasources"] = DatasourceObjects();
    // Parents before children so the provisioner can create them in order.
    std::vector<const Folder*> order;
    std::set<std::string> placed;
    while (order.size() < folders_.size()) {
      const std::size_t before = order.size();
      for (const auto& [uid, f] : folders_) {
        if (!placed.contains(uid) && (f.parent_uid.empty() || !folders_.contains(f.parent_uid) ||
                                      placed.contains(f.parent_uid))) {
          order.push_back(&f);
          placed.insert(uid);
        }
      }
      if (order.size() == before) {
        Fail("", "spec.dashboards", "folder parents form a cycle");
      }
    }
    ordered_json folders = ordered_json::array();
    for (const auto* f : order) {
      ordered_json o = ordered_json::object();
      o["uid"] = f->uid;
      o["title"] = f->title;
      o["parentUid"] = f->parent_uid;
      folders.push_back(std::move(o));
    }
    objects["folders"] = std::move(folders);
    objects["dashboards"] = dashboard_entries_;
    objects["rule_groups"] = rule_groups_;
    ordered_json contact_points = ordered_json::array();
    ordered_json policy = nullptr;
    const json& grafana = stack_["spec"]["components"]["grafana"];
    if (grafana.contains("contact_points") && grafana["contact_points"].is_array()) {
      // The stack's own contact points replace the route to its Alertmanager: Grafana's
      // notification policies stay as they are.
      for (const auto& cp : grafana["contact_points"]) {
        contact_points.push_back(ordered_json(cp));
      }
    } else if (Enabled("alertmanager")) {
      // Grafana-managed alerts go to the stack's Alertmanager, whose receivers already hold the
      // notifier settings (and secrets only as files).
      const std::string name = "obsforge-alertmanager";
      ordered_json cp = ordered_json::object();
      cp["uid"] = MakeUid(spec_.stack + "-am");
      cp["name"] = name;
      cp["type"] = "prometheus-alertmanager";
      cp["settings"] = {{"url", env_["urls"]["alertmanager"]}};
      cp["disableResolveMessage"] = false;
      contact_points.push_back(std::move(cp));
      policy = ordered_json::object();
      policy["receiver"] = name;
      policy["group_by"] = {"grafana_folder", "alertname"};
    }
    objects["contact_points"] = std::move(contact_points);
    objects["policy"] = std::move(policy);
    if (grafana.contains("adopt") && grafana["adopt"].is_object()) {
      objects["adopt"] = grafana["adopt"];
    }
    Add("grafana/objects.json", EmitJson(objects), "grafana/objects.json");
  }

  void EmitManifest() {
    core::Sha256 inputs;
    auto feed = [&](const std::string& part) {
      inputs.Update(std::to_string(part.size()) + ":");
      inputs.Update(part);
    };
    feed(stack_.dump());
    feed(env_.dump());
    for (const auto& [name, text] : reads_) {
      feed(DisplayName(name));
      feed(text);
    }
    const auto digest = inputs.Finish();
    ordered_json manifest = ordered_json::object();
    manifest["stack"] = spec_.stack;
    manifest["environment"] = spec_.env;
    manifest["inputs_sha256"] = core::ToHex(core::CharsOf(digest));
    ordered_json files = ordered_json::object();
    for (const auto& [path, text] : bundle_.files()) {
      files[path] = core::Sha256Hex(text);
    }
    manifest["files"] = std::move(files);
    Add("MANIFEST.json", EmitJson(manifest), "MANIFEST.json");
  }

  const spec::EnvironmentSpec& spec_;
  const spec::ContentSource& content_;
  const RenderOptions& options_;
  json stack_;
  json env_;
  std::map<std::string, DatasourceRef> datasources_;
  std::string default_type_ = "prometheus";  // of the datasource null references mean
  bool listed_datasources_ = false;          // components.grafana.datasources replace ours
  std::string stack_templates_;
  std::vector<DashboardInput> dashboards_;
  std::vector<std::string> jsonnet_dashboards_;
  std::vector<RuleInput> rules_;
  std::vector<MixinInput> mixins_;
  std::vector<TemplateInput> am_templates_;
  std::vector<std::string> mixin_dirs_;
  std::map<std::string, std::string> reads_;
  std::map<std::string, Folder> folders_;
  std::map<std::string, std::string> dashboard_sources_;
  ordered_json dashboard_entries_ = ordered_json::array();
  ordered_json rule_groups_ = ordered_json::array();
  Bundle bundle_;
};

}  // namespace

std::string OutputFolder(const std::string& component) {
  return component == "otel_collector" ? "otel-collector" : component;
}

Bundle RenderEnvironment(const spec::EnvironmentSpec& spec,
                         const spec::ContentSource& content,
                         const RenderOptions& options) {
  return Renderer(spec, content, options).Run();
}

}  // namespace obsforge::render
