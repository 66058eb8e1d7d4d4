// The configuration files: Prometheus (and its rule files), Alertmanager (and its notification
// templates), Loki (and the rules of its ruler's local store), Tempo.
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/diagnostic.h"
#include "importer/parts.h"
#include "render/check.h"
#include "render/emit.h"
#include "render/passthrough.h"
#include "render/yaml_json.h"
#include "spec/checks.h"

namespace obsforge::importer {
namespace {

using nlohmann::ordered_json;

bool IsStringMap(const ordered_json& v) {
  return v.is_object() &&
         std::all_of(v.begin(), v.end(), [](const ordered_json& x) { return x.is_string(); });
}

bool IsDurationString(const ordered_json& v) {
  return v.is_string() && spec::IsDuration(v.get<std::string>());
}

const ordered_json* Find(const ordered_json& doc, std::initializer_list<const char*> path) {
  const ordered_json* node = &doc;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) {
      return nullptr;
    }
    node = &(*node)[key];
  }
  return node;
}

// Every secret this part lifted that its component cannot read from a file.
void ReviewUnreadableSecrets(const SecretLifter& secrets, ComponentPart& part) {
  for (const auto& s : secrets.secrets()) {
    if (s.component != part.component) {
      continue;
    }
    for (const auto& pointer : s.pointers) {
      const std::string key = pointer.substr(pointer.rfind('/') + 1);
      const bool in_list = !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit);
      if (in_list || !render::CanReadSecretAt(part.component, key)) {
        part.review.push_back(render::MainFile(part.component) + " " + PointerToPath(pointer) +
                              ": " + part.component +
                              " cannot read this secret from a file, so it does not render; "
                              "move it to an option with a *_file form (e.g. "
                              "authorization.credentials) or keep it outside obsforge");
      }
    }
  }
}

// Options naming files obsforge does not manage (targets, certificates, overrides).
void ReviewFileOptions(const ordered_json& node, const std::string& path, ComponentPart& part) {
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      const std::string child_path = path.empty() ? key : path + "." + key;
      if (child.is_string() && (key.ends_with("_file") || key == "file") && !key.empty()) {
        part.review.push_back(render::MainFile(part.component) + " " + child_path + " refers to " +
                              child.get<std::string>() +
                              ", which obsforge does not manage: keep it there");
      } else if (key == "files" && child.is_array()) {
        part.review.push_back(render::MainFile(part.component) + " " + child_path + " reads " +
                              child.dump() + ", which obsforge does not manage: keep them there");
      } else {
        ReviewFileOptions(child, child_path, part);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      ReviewFileOptions(node[i], path + "[" + std::to_string(i) + "]", part);
    }
  }
}

// Rule files: checked as obsforge renders them, credentials redacted. A file obsforge cannot take
// is reported (it stays where it is); its text is never copied, since it may hold anything.
void AddRuleFile(ComponentPart& part,
                 const std::string& stack,
                 const std::string& type,
                 const std::string& source,
                 const std::string& text,
                 std::set<std::string>& names) {
  const std::string name =
      UniqueIn(names, Slug(std::filesystem::path(source).stem().string(), "rules"));
  std::string content = text;
  try {
    auto doc = render::ParseYaml(text, source);
    render::CheckRuleFile(doc, source);
    const auto redacted = SecretLifter::RedactCredentials(doc);
    if (!redacted.empty() || SecretLifter::TextHasCredential(text)) {
      content = render::EmitYaml(doc);  // comments may hold credentials too: written anew
      for (const auto& path : redacted) {
        part.review.push_back(source + " " + path +
                              " looked like a credential and was replaced by \"<redacted>\"");
      }
    }
  } catch (const core::InputError& e) {
    part.review.push_back(source + ": not imported, obsforge refuses it (" + e.what() +
                          "); fix it and import again");
    return;
  }
  part.files["alerts/" + stack + "/" + type + "/" + name + ".yaml"] = content;
}

void AddAlertsEntry(ComponentPart& part, const std::string& stack, const std::string& type) {
  const std::string prefix = "alerts/" + stack + "/" + type + "/";
  const bool any = std::any_of(part.files.begin(), part.files.end(),
                               [&](const auto& f) { return f.first.starts_with(prefix); });
  if (any) {
    ordered_json entry = ordered_json::object();
    entry["path"] = prefix + "*.yaml";
    entry["type"] = type;
    part.alerts.push_back(std::move(entry));
  }
}

ComponentPart Begin(const std::string& component,
                    const ConfigFile& file,
                    SecretLifter& secrets,
                    const std::string& what) {
  ComponentPart part{.component = component, .origin = file.path};
  const std::filesystem::path path(file.path);
  if (path.is_absolute()) {
    part.config_dir = path.parent_path().lexically_normal().generic_string();
  }
  part.original = ParseConfig(file, what);
  secrets.LiftConfig(part.original, component, render::MainFile(component), file.path);
  part.did.push_back(render::MainFile(component) + " from " + file.path);
  return part;
}

Lift FieldLift(std::string pointer,
               std::vector<std::string> field,
               ordered_json value,
               std::string what) {
  return Lift{.pointers = {std::move(pointer)},
              .fields = {{std::move(field), std::move(value)}},
              .what = std::move(what)};
}

// --- Alertmanager's route and receivers as the spec models them ------------------------------

std::optional<ordered_json> ModelRoute(const ordered_json& route) {
  if (!route.is_object()) {
    return std::nullopt;
  }
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : route.items()) {
    if (key == "receiver" && value.is_string()) {
      out[key] = value;
    } else if ((key == "group_by" || key == "matchers") && value.is_array() &&
               std::all_of(value.begin(), value.end(),
                           [](const ordered_json& v) { return v.is_string(); })) {
      out[key] = value;
    } else if ((key == "group_wait" || key == "group_interval" || key == "repeat_interval") &&
               IsDurationString(value)) {
      out[key] = value;
    } else if (key == "continue" && value.is_boolean()) {
      out[key] = value;
    } else if (key == "routes" && value.is_array()) {
      ordered_json children = ordered_json::array();
      for (const auto& child : value) {
        auto modelled = ModelRoute(child);
        if (!modelled) {
          return std::nullopt;
        }
        children.push_back(std::move(*modelled));
      }
      out[key] = std::move(children);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

bool IsRef(const ordered_json& v) {
  return v.is_object() && v.size() == 1 && v.contains("secret");
}

// One notifier config with only the keys the spec has: `rename` maps config keys to spec keys,
// `refs` are the keys that must be secret references, `strings`/`flags` the plain ones.
std::optional<ordered_json> ModelNotifier(const ordered_json& config,
                                          const std::map<std::string, std::string>& rename,
                                          const std::set<std::string>& refs,
                                          const std::set<std::string>& strings) {
  if (!config.is_object()) {
    return std::nullopt;
  }
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : config.items()) {
    const auto renamed = rename.find(key);
    const std::string spec_key = renamed == rename.end() ? key : renamed->second;
    if (refs.count(key) != 0 && IsRef(value)) {
      out[spec_key] = value;
    } else if (strings.count(key) != 0 && value.is_string() &&
               !spec::LooksLikeCredential(value.get<std::string>())) {
      out[spec_key] = value;
    } else if (key == "send_resolved" && value.is_boolean()) {
      out[spec_key] = value;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<ordered_json> ModelReceivers(const ordered_json& receivers) {
  if (!receivers.is_array() || receivers.empty()) {
    return std::nullopt;
  }
  ordered_json out = ordered_json::array();
  for (const auto& r : receivers) {
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string()) {
      return std::nullopt;
    }
    ordered_json receiver = ordered_json::object();
    for (const auto& [key, value] : r.items()) {
      if (key == "name") {
        receiver["name"] = value;
        continue;
      }
      std::optional<std::string> spec_key;
      std::function<std::optional<ordered_json>(const ordered_json&)> model;
      if (key == "slack_configs") {
        spec_key = "slack";
        model = [](const ordered_json& c) {
          auto m =
              ModelNotifier(c, {{"api_url", "webhook"}}, {"api_url"}, {"channel", "title", "text"});
          return m && m->contains("webhook") ? m : std::nullopt;
        };
      } else if (key == "pagerduty_configs") {
        spec_key = "pagerduty";
        model = [](const ordered_json& c) {
          auto m = ModelNotifier(c, {}, {"routing_key", "service_key"}, {"severity"});
          return m && (m->contains("routing_key") != m->contains("service_key")) ? m : std::nullopt;
        };
      } else if (key == "webhook_configs") {
        spec_key = "webhook";
        model = [](const ordered_json& c) {
          auto m = ModelNotifier(c, {}, {}, {"url"});
          return m && m->contains("url") && spec::IsHttpUrl((*m)["url"].get<std::string>())
                     ? m
                     : std::nullopt;
        };
      } else if (key == "email_configs") {
        spec_key = "email";
        model = [](const ordered_json& c) {
          auto m =
              ModelNotifier(c, {}, {"auth_password"}, {"to", "from", "smarthost", "auth_username"});
          const bool host_ok = !m || !m->contains("smarthost") ||
                               spec::IsHostPort((*m)["smarthost"].get<std::string>());
          return m && m->contains("to") && host_ok ? m : std::nullopt;
        };
      }
      if (!spec_key || !value.is_array()) {
        return std::nullopt;
      }
      ordered_json list = ordered_json::array();
      for (const auto& c : value) {
        auto m = model(c);
        if (!m) {
          return std::nullopt;
        }
        list.push_back(std::move(*m));
      }
      receiver[*spec_key] = std::move(list);
    }
    out.push_back(std::move(receiver));
  }
  return out;
}

}  // namespace

std::vector<std::string> ReferencedFiles::Glob(const std::string& pattern) const {
  if (source_ == nullptr) {
    return {};
  }
  std::string resolved = Resolve(pattern);
  while (resolved.starts_with('/')) {
    resolved.erase(0, 1);
  }
  return source_->Glob(resolved);
}

std::vector<std::string> ReferencedFiles::Follow(const ordered_json& config,
                                                 const std::string& member,
                                                 std::vector<std::string>& review) const {
  std::vector<std::string> out;
  const auto it = config.find(member);
  if (it == config.end() || !it->is_array()) {
    return out;
  }
  std::set<std::string> seen;
  for (const auto& glob : *it) {
    if (!glob.is_string()) {
      continue;
    }
    const auto matches = Glob(glob.get<std::string>());
    if (matches.empty()) {
      review.push_back(std::filesystem::path(config_path_).filename().string() + " " + member +
                       " " + glob.dump() + " (" + Resolve(glob.get<std::string>()) +
                       ") matches no file");
    }
    for (const auto& key : matches) {
      if (seen.insert(key).second) {
        out.push_back(key);
      }
    }
  }
  return out;
}

std::optional<std::string> ReferencedFiles::Read(const std::string& key) const {
  return source_ == nullptr ? std::nullopt : source_->Read(key);
}

std::string ReferencedFiles::Resolve(const std::string& pattern) const {
  const std::filesystem::path p(pattern);
  if (p.is_absolute()) {
    return p.lexically_normal().generic_string();
  }
  return (std::filesystem::path(config_path_).parent_path() / p)
      .lexically_normal()
      .generic_string();
}

ordered_json ParseConfig(const ConfigFile& file, const std::string& what) {
  ordered_json doc;
  try {
    doc = render::ParseYaml(file.text, file.path);
  } catch (const core::InputError& e) {
    // The renderer's parser reports render errors; here the file is what the user gave.
    throw core::InputError(core::InputError::Kind::kInvalidSpec, e.diagnostics());
  }
  if (doc.is_null()) {
    doc = ordered_json::object();
  }
  if (!doc.is_object()) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{.file = file.path, .message = "not a " + what + " configuration (a map)"});
  }
  return doc;
}

ComponentPart ImportPrometheus(const ConfigFile& file,
                               const spec::ContentSource* files,
                               const std::string& stack,
                               SecretLifter& secrets) {
  ComponentPart part = Begin("prometheus", file, secrets, "Prometheus");
  const ordered_json& o = part.original;
  const ReferencedFiles refs(files, file.path);
  std::set<std::string> names;
  std::size_t rule_files = 0;
  for (const auto& key : refs.Follow(o, "rule_files", part.review)) {
    AddRuleFile(part, stack, "prometheus", "/" + key, refs.Read(key).value_or(""), names);
    ++rule_files;
  }
  AddAlertsEntry(part, stack, "prometheus");
  if (rule_files > 0) {
    part.did.push_back(std::to_string(rule_files) + " Prometheus rule file(s) into alerts/" +
                       stack + "/prometheus/");
  }
  part.owned.push_back({.component = "prometheus",
                        .file = "prometheus.yml",
                        .pointer = "/rule_files",
                        .why = "the imported rule files are rendered to rules/*.yaml"});
  part.owned_kept.insert("/rule_files");

  if (const auto* v = Find(o, {"global", "scrape_interval"}); v != nullptr && v->is_string()) {
    part.lifts.push_back(
        FieldLift("/global/scrape_interval", {"values", "scrape_interval"}, *v, "scrape interval"));
  }
  if (const auto* v = Find(o, {"global", "evaluation_interval"}); v != nullptr && v->is_string()) {
    part.lifts.push_back(FieldLift("/global/evaluation_interval", {"values", "evaluation_interval"},
                                   *v, "evaluation interval"));
  }
  if (const auto* v = Find(o, {"global", "external_labels"}); v != nullptr && IsStringMap(*v)) {
    part.lifts.push_back(FieldLift("/global/external_labels",
                                   {"components", "prometheus", "external_labels"}, *v,
                                   "external labels"));
  }
  if (const auto* v = Find(o, {"remote_write"}); v != nullptr && v->is_array()) {
    part.lifts.push_back(FieldLift("/remote_write", {"components", "prometheus", "remote_write"},
                                   *v, "remote_write"));
  }
  ReviewFileOptions(o, "", part);
  ReviewUnreadableSecrets(secrets, part);
  return part;
}

ComponentPart ImportAlertmanager(const ConfigFile& file,
                                 const spec::ContentSource* files,
                                 const std::string& stack,
                                 SecretLifter& secrets) {
  ComponentPart part = Begin("alertmanager", file, secrets, "Alertmanager");
  const ordered_json& o = part.original;
  const ReferencedFiles refs(files, file.path);
  if (const auto* globs = Find(o, {"templates"}); globs != nullptr && globs->is_array()) {
    std::set<std::string> names;
    for (const auto& key : refs.Follow(o, "templates", part.review)) {
      std::string text = refs.Read(key).value_or("");
      if (SecretLifter::TextHasCredential(text)) {
        // A template is code: a credential in it can neither be redacted nor referenced.
        part.review.push_back("/" + key +
                              ": not imported, it holds what looks like a credential; move it "
                              "to the receiver's configuration and import again");
        continue;
      }
      const std::string name =
          UniqueIn(names, Slug(std::filesystem::path(key).stem().string(), "template"));
      part.files["alerts/" + stack + "/templates/" + name + ".tmpl"] = std::move(text);
    }
    if (!names.empty()) {
      part.fields["templates"] = ordered_json::array({"alerts/" + stack + "/templates/*.tmpl"});
      part.did.push_back(std::to_string(names.size()) + " notification template(s) into alerts/" +
                         stack + "/templates/");
    }
    part.owned.push_back(
        {.component = "alertmanager",
         .file = "alertmanager.yml",
         .pointer = "/templates",
         .why = "the notification templates are rendered to <config dir>/templates/*.tmpl"});
  }
  const auto route = o.contains("route") ? ModelRoute(o["route"]) : std::nullopt;
  const auto receivers = o.contains("receivers") ? ModelReceivers(o["receivers"]) : std::nullopt;
  if (route && receivers && route->contains("receiver")) {
    part.lifts.push_back(Lift{.pointers = {"/route", "/receivers"},
                              .fields = {{{"components", "alertmanager", "route"}, *route},
                                         {{"components", "alertmanager", "receivers"}, *receivers}},
                              .what = "route and receivers"});
  }
  if (const auto* v = Find(o, {"inhibit_rules"}); v != nullptr && v->is_array()) {
    part.lifts.push_back(FieldLift(
        "/inhibit_rules", {"components", "alertmanager", "inhibit_rules"}, *v, "inhibit rules"));
  }
  ReviewFileOptions(o, "", part);
  ReviewUnreadableSecrets(secrets, part);
  return part;
}

ComponentPart ImportLoki(const ConfigFile& file,
                         const spec::ContentSource* files,
                         const std::string& stack,
                         SecretLifter& secrets) {
  ComponentPart part = Begin("loki", file, secrets, "Loki");
  const ordered_json& o = part.original;
  if (const auto* v = Find(o, {"auth_enabled"}); v != nullptr && v->is_boolean()) {
    part.lifts.push_back(
        FieldLift("/auth_enabled", {"components", "loki", "auth_enabled"}, *v, "auth_enabled"));
  }
  if (const auto* v = Find(o, {"limits_config"}); v != nullptr && v->is_object()) {
    part.lifts.push_back(
        FieldLift("/limits_config", {"components", "loki", "limits"}, *v, "limits"));
  }
  // The ruler's local rule store: <dir>/<tenant>/<namespace>.yaml.
  std::string rules_dir;
  for (const char* pointer :
       {"/ruler/storage/local/directory", "/common/storage/filesystem/rules_directory"}) {
    const ordered_json::json_pointer ptr(pointer);
    const ordered_json* v = o.contains(ptr) ? &o[ptr] : nullptr;
    if (v == nullptr || !v->is_string()) {
      continue;
    }
    if (rules_dir.empty()) {
      rules_dir = v->get<std::string>();
    }
    part.owned.push_back({.component = "loki",
                          .file = "loki.yaml",
                          .pointer = pointer,
                          .why = "obsforge writes the ruler's rule files to <config dir>/rules"});
  }
  const auto* storage_type = Find(o, {"ruler", "storage", "type"});
  if (!rules_dir.empty() && (storage_type == nullptr || *storage_type == "local")) {
    const ReferencedFiles refs(files, file.path);
    std::map<std::string, std::vector<std::string>> by_tenant;
    const std::string base = refs.Resolve(rules_dir);
    for (const auto& key : refs.Glob(rules_dir + "/*/*")) {
      if (!key.ends_with(".yaml") && !key.ends_with(".yml")) {
        continue;
      }
      const std::string rel = ("/" + key).substr(base.size() + 1);
      by_tenant[rel.substr(0, rel.find('/'))].push_back(key);
    }
    if (!by_tenant.empty()) {
      const auto first = by_tenant.begin();
      part.loki_tenant = first->first;
      std::set<std::string> names;
      for (const auto& key : first->second) {
        AddRuleFile(part, stack, "loki", "/" + key, refs.Read(key).value_or(""), names);
      }
      AddAlertsEntry(part, stack, "loki");
      part.did.push_back(std::to_string(first->second.size()) + " Loki rule file(s) of tenant " +
                         part.loki_tenant + " into alerts/" + stack + "/loki/");
      for (auto it = std::next(first); it != by_tenant.end(); ++it) {
        part.review.push_back("Loki rules of tenant " + it->first + " (" + base + "/" + it->first +
                              ") not imported: a stack has one tenant per "
                              "environment; import them as another stack");
      }
    }
  }
  ReviewFileOptions(o, "", part);
  return part;
}

ComponentPart ImportTempo(const ConfigFile& file,
                          const spec::ContentSource* /*files*/,
                          const std::string& /*stack*/,
                          SecretLifter& secrets) {
  ComponentPart part = Begin("tempo", file, secrets, "Tempo");
  ReviewFileOptions(part.original, "", part);
  return part;
}

}  // namespace obsforge::importer
