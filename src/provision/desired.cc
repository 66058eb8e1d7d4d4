#include "provision/desired.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "core/diagnostic.h"
#include "provision/normalize.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;

constexpr const char* kObjectsFile = "grafana/objects.json";

[[noreturn]] void Fail(const std::string& file, const std::string& path, const std::string& msg) {
  throw core::InputError(core::InputError::Kind::kRender,
                         core::Diagnostic{.file = file, .path = path, .message = msg});
}

json ParseFile(const render::Bundle& bundle, const std::string& file, const std::string& from) {
  const std::string* text = bundle.Find(file);
  if (text == nullptr) {
    Fail(kObjectsFile, from, "names \"" + file + "\", which is not in the bundle");
  }
  try {
    return json::parse(*text);
  } catch (const json::parse_error& e) {
    Fail(file, "", std::string("not valid JSON: ") + e.what());
  }
}

std::string RequiredString(const json& object,
                           const char* key,
                           const std::string& file,
                           const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
    Fail(file, path + "." + key, "must be a non-empty string");
  }
  return it->get<std::string>();
}

std::string OptionalString(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A secret reference as the renderer writes it: {secret: NAME} or {secret_file: PATH}, plus the
// `file` the renderer adds for templates.
std::optional<core::SecretRef> AsSecretRef(const json& value) {
  if (!value.is_object() || value.empty() || value.size() > 2) {
    return std::nullopt;
  }
  for (const auto& [key, v] : value.items()) {
    if ((key != "secret" && key != "secret_file" && key != "file") || !v.is_string()) {
      return std::nullopt;
    }
  }
  if (value.contains("secret")) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kEnv,
                           .name = value["secret"].get<std::string>()};
  }
  if (value.contains("secret_file")) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kFile,
                           .name = value["secret_file"].get<std::string>()};
  }
  return std::nullopt;
}

void FindSecrets(const json& value, const std::string& pointer, std::vector<SecretSlot>& out) {
  if (auto ref = AsSecretRef(value)) {
    out.push_back({.pointer = pointer, .ref = std::move(*ref)});
    return;
  }
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      FindSecrets(child, pointer + "/" + EscapePointerToken(key), out);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      FindSecrets(value[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

const json& ArrayMember(const json& objects, const char* key) {
  static const json kEmpty = json::array();
  const auto it = objects.find(key);
  if (it == objects.end() || it->is_null()) {
    return kEmpty;
  }
  if (!it->is_array()) {
    Fail(kObjectsFile, key, "must be an array");
  }
  return *it;
}

DesiredObject Datasource(const json& entry, const std::string& path, const Owner& owner) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, path, "must be an object");
  }
  DesiredObject o{.kind = ObjectKind::kDatasource,
                  .uid = RequiredString(entry, "uid", kObjectsFile, path),
                  .title = RequiredString(entry, "name", kObjectsFile, path),
                  .body = entry,
                  .source = kObjectsFile};
  RequiredString(entry, "type", kObjectsFile, path);
  if (!o.body.contains("jsonData") || !o.body["jsonData"].is_object()) {
    o.body["jsonData"] = json::object();
  }
  o.body["jsonData"][kDatasourceMarker] = owner.Id();
  FindSecrets(o.body, "", o.secrets);
  return o;
}

DesiredObject Folder(const json& entry, const std::string& path) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, path, "must be an object");
  }
  DesiredObject o{.kind = ObjectKind::kFolder,
                  .uid = RequiredString(entry, "uid", kObjectsFile, path),
                  .title = RequiredString(entry, "title", kObjectsFile, path),
                  .parent_uid = OptionalString(entry, "parentUid"),
                  .source = kObjectsFile};
  o.body = {{"uid", o.uid}, {"title", o.title}};
  if (!o.parent_uid.empty()) {
    o.body["parentUid"] = o.parent_uid;
  }
  return o;
}

DesiredObject Dashboard(const render::Bundle& bundle,
                        const json& entry,
                        const std::string& path,
                        const Owner& owner) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, path, "must be an object");
  }
  const std::string file = RequiredString(entry, "file", kObjectsFile, path);
  json model = ParseFile(bundle, file, path + ".file");
  if (!model.is_object()) {
    Fail(file, "", "a dashboard must be a JSON object");
  }
  DesiredObject o{.kind = ObjectKind::kDashboard,
                  .uid = RequiredString(entry, "uid", kObjectsFile, path),
                  .folder_uid = OptionalString(entry, "folderUid"),
                  .source = file};
  o.title = OptionalString(model, "title");
  if (o.title.empty()) {
    Fail(file, "title", "must be a non-empty string");
  }
  model["uid"] = o.uid;
  model["id"] = nullptr;
  model.erase("version");
  model.erase("iteration");
  json& tags = model["tags"];
  if (!tags.is_array()) {
    tags = json::array();
  }
  if (std::find(tags.begin(), tags.end(), owner.DashboardTag()) == tags.end()) {
    tags.push_back(owner.DashboardTag());
  }
  o.body = std::move(model);
  return o;
}

DesiredObject RuleGroup(const render::Bundle& bundle,
                        const json& entry,
                        const std::string& path,
                        const Owner& owner) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, path, "must be an object");
  }
  const std::string file = RequiredString(entry, "file", kObjectsFile, path);
  json group = ParseFile(bundle, file, path + ".file");
  if (!group.is_object() || !group.contains("rules") || !group["rules"].is_array()) {
    Fail(file, "rules", "a rule group needs a rules array");
  }
  DesiredObject o{.kind = ObjectKind::kRuleGroup,
                  .title = RequiredString(entry, "title", kObjectsFile, path),
                  .folder_uid = RequiredString(entry, "folderUid", kObjectsFile, path),
                  .source = file};
  o.uid = o.folder_uid + "/" + o.title;
  for (auto& rule : group["rules"]) {
    if (!rule.is_object()) {
      Fail(file, "rules", "every rule must be an object");
    }
    if (!rule.contains("labels") || !rule["labels"].is_object()) {
      rule["labels"] = json::object();
    }
    rule["labels"][kOwnerLabel] = owner.Id();
  }
  group["title"] = o.title;
  group["folderUid"] = o.folder_uid;
  o.body = std::move(group);
  return o;
}

DesiredObject ContactPoint(const json& entry, const std::string& path) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, path, "must be an object");
  }
  DesiredObject o{.kind = ObjectKind::kContactPoint,
                  .uid = RequiredString(entry, "uid", kObjectsFile, path),
                  .title = RequiredString(entry, "name", kObjectsFile, path),
                  .body = entry,
                  .source = kObjectsFile};
  RequiredString(entry, "type", kObjectsFile, path);
  FindSecrets(o.body, "", o.secrets);
  return o;
}

DesiredObject Policy(const json& entry, const Owner& owner) {
  if (!entry.is_object()) {
    Fail(kObjectsFile, "policy", "must be an object or null");
  }
  DesiredObject o{.kind = ObjectKind::kPolicy,
                  .uid = "policy",
                  .title = "notification policy of " + owner.Id(),
                  .body = entry,
                  .source = kObjectsFile};
  RequiredString(entry, "receiver", kObjectsFile, "policy");
  o.body["object_matchers"] = json::array({json::array({kOwnerLabel, "=", owner.Id()})});
  return o;
}

}  // namespace

std::size_t DesiredGrafana::size() const {
  return datasources.size() + folders.size() + dashboards.size() + rule_groups.size() +
         contact_points.size() + (policy ? 1 : 0);
}

DesiredGrafana LoadDesiredGrafana(const render::Bundle& bundle, const Owner& owner) {
  DesiredGrafana desired;
  const std::string* text = bundle.Find(kObjectsFile);
  if (text == nullptr) {
    return desired;
  }
  json objects;
  try {
    objects = json::parse(*text);
  } catch (const json::parse_error& e) {
    Fail(kObjectsFile, "", std::string("not valid JSON: ") + e.what());
  }
  if (!objects.is_object()) {
    Fail(kObjectsFile, "", "must be a JSON object");
  }
  auto each = [&](const char* key, auto&& make, std::vector<DesiredObject>& out) {
    const json& list = ArrayMember(objects, key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      out.push_back(make(list[i], std::string(key) + "[" + std::to_string(i) + "]"));
    }
  };
  each(
      "datasources", [&](const json& e, const std::string& p) { return Datasource(e, p, owner); },
      desired.datasources);
  each(
      "folders", [&](const json& e, const std::string& p) { return Folder(e, p); },
      desired.folders);
  each(
      "dashboards",
      [&](const json& e, const std::string& p) { return Dashboard(bundle, e, p, owner); },
      desired.dashboards);
  each(
      "rule_groups",
      [&](const json& e, const std::string& p) { return RuleGroup(bundle, e, p, owner); },
      desired.rule_groups);
  each(
      "contact_points", [&](const json& e, const std::string& p) { return ContactPoint(e, p); },
      desired.contact_points);
  if (const auto it = objects.find("policy"); it != objects.end() && !it->is_null()) {
    desired.policy = Policy(*it, owner);
  }
  if (const auto it = objects.find("adopt"); it != objects.end() && it->is_object()) {
    const std::array<std::pair<const char*, std::vector<DesiredObject>*>, 5> kinds{
        {{"datasources", &desired.datasources},
         {"folders", &desired.folders},
         {"dashboards", &desired.dashboards},
         {"rule_groups", &desired.rule_groups},
         {"contact_points", &desired.contact_points}}};
    for (const auto& [key, objects_of_kind] : kinds) {
      const json& uids = ArrayMember(*it, key);
      for (auto& object : *objects_of_kind) {
        object.adopt = std::find(uids.begin(), uids.end(), json(object.uid)) != uids.end();
      }
    }
  }
  return desired;
}

core::Result<json> ResolveBody(const DesiredObject& object, const core::EnvLookup& env) {
  json body = object.body;
  for (const auto& slot : object.secrets) {
    auto secret = core::ResolveSecret(slot.ref, env);
    if (!secret.ok()) {
      return core::MakeError(secret.error().code, std::string(KindName(object.kind)) + " \"" +
                                                      object.uid + "\": " + secret.error().message);
    }
    body[json::json_pointer(slot.pointer)] = secret->Reveal();
  }
  return body;
}

}  // namespace obsforge::provision
