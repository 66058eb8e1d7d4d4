#include "provision/loki_ruler.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "http/retrying_http_client.h"
#include "http/url.h"
#include "render/emit.h"
#include "render/yaml_json.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kRulesPrefix = "loki/rules/";

class Findings {
 public:
  explicit Findings(std::string file) : file_(std::move(file)) {}
  void Add(const std::string& path, const std::string& message) {
    diagnostics_.push_back({.file = file_, .path = path, .message = message});
  }
  std::vector<core::Diagnostic>& diagnostics() { return diagnostics_; }

 private:
  std::string file_;
  std::vector<core::Diagnostic> diagnostics_;
};

bool NonEmptyString(const ordered_json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() && !it->get<std::string>().empty();
}

void CheckStringMap(const ordered_json& rule,
                    const char* key,
                    const std::string& path,
                    Findings& findings) {
  const auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) {
    return;
  }
  if (!it->is_object()) {
    findings.Add(path + "." + key, "must be a map of strings");
    return;
  }
  const std::string prefix = path + "." + key + ".";
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      findings.Add(prefix + name, "must be a string");
    }
  }
}

void CheckDuration(const ordered_json& object,
                   const char* key,
                   const std::string& path,
                   Findings& findings) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return;
  }
  if (!it->is_string() || !core::ParseDuration(it->get<std::string>())) {
    findings.Add(path + "." + key, "must be a duration such as 5m or 1h30m");
  }
}

void ValidateGroup(const ordered_json& group,
                   const std::string& path,
                   std::set<std::string>& names,
                   Findings& findings) {
  if (!group.is_object()) {
    findings.Add(path, "must be a map");
    return;
  }
  if (!NonEmptyString(group, "name")) {
    findings.Add(path + ".name", "must be a non-empty string");
  } else if (!names.insert(group["name"].get<std::string>()).second) {
    findings.Add(path + ".name",
                 "group \"" + group["name"].get<std::string>() + "\" is defined twice");
  }
  CheckDuration(group, "interval", path, findings);
  const auto rules = group.find("rules");
  if (rules == group.end() || !rules->is_array() || rules->empty()) {
    findings.Add(path + ".rules", "must be a non-empty list");
    return;
  }
  for (std::size_t j = 0; j < rules->size(); ++j) {
    const ordered_json& rule = (*rules)[j];
    const std::string rp = path + ".rules[" + std::to_string(j) + "]";
    if (!rule.is_object()) {
      findings.Add(rp, "must be a map");
      continue;
    }
    const bool alert = rule.contains("alert");
    const bool record = rule.contains("record");
    if (alert == record) {
      findings.Add(rp, "needs exactly one of alert and record");
    } else if (!NonEmptyString(rule, alert ? "alert" : "record")) {
      findings.Add(rp + (alert ? ".alert" : ".record"), "must be a non-empty string");
    }
    if (!NonEmptyString(rule, "expr")) {
      findings.Add(rp + ".expr", "must be a non-empty string");
    }
    if (record && rule.contains("for")) {
      findings.Add(rp + ".for", "is only allowed on alerting rules");
    } else {
      CheckDuration(rule, "for", rp, findings);
    }
    CheckStringMap(rule, "labels", rp, findings);
    CheckStringMap(rule, "annotations", rp, findings);
  }
}

// A group as Loki sends it back, so that both sides compare by value and a diff shows what Loki
// shows: durations in Loki's spelling ("60s" is "1m"); zero durations (`for: 0s`, `interval:
// 0`), a zero `limit` and empty label or annotation maps left out, as Loki leaves them out;
// `keep_firing_for` dropped, since Loki's rule store has no field for it (comparing it would
// rewrite the group on every apply).
// The duration at `key` in Loki's spelling, or left out when it is zero.
void ComparableDuration(json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) {
    return;
  }
  auto& value = object[key];
  const auto d = value.is_string() ? core::ParseDuration(value.get<std::string>())
                 : value.is_number_integer() && value.get<std::int64_t>() == 0
                     ? std::optional<std::chrono::milliseconds>(0)
                     : std::nullopt;
  if (d && d->count() == 0) {
    object.erase(key);
  } else if (d) {
    value = core::FormatDuration(*d);
  }
}

// A rule as Loki sends it back (see Comparable).
void ComparableRule(json& rule) {
  if (!rule.is_object()) {
    return;
  }
  ComparableDuration(rule, "for");
  rule.erase("keep_firing_for");
  for (const char* key : {"labels", "annotations"}) {
    if (rule.contains(key) && (rule[key].is_null() || rule[key].empty())) {
      rule.erase(key);
    }
  }
}

json Comparable(const json& group) {
  json out = group;
  ComparableDuration(out, "interval");
  if (out.contains("limit") && (out["limit"].is_null() || out["limit"] == 0)) {
    out.erase("limit");
  }
  if (out.contains("rules") && out["rules"].is_array()) {
    for (auto& rule : out["rules"]) {
      ComparableRule(rule);
    }
  }
  return out;
}

// What a Loki whose ruler uses the `local` store answers to the API (pkg/ruler/rulestore/local):
// listings of a tenant or namespace without files fail with 400, writes with 500.
bool IsReadOnlyLocalStore(const core::Error& error) {
  const std::string& body = error.upstream_body;
  if (error.upstream_status == 400) {
    return body.starts_with("unable to read rule dir ") || body.starts_with("error parsing ");
  }
  return error.upstream_status == 500 &&
         (body.find("unsupported in rule local store") != std::string::npos ||
          body.starts_with("unable to read rule dir "));
}

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// The groups of namespace `ns` in the YAML Loki answers to a GET of that namespace, by name.
core::Result<std::map<std::string, json>> RemoteGroups(const std::string& body,
                                                       const std::string& ns,
                                                       const std::string& what) {
  ordered_json doc;
  try {
    doc = render::ParseYaml(body, "Loki ruler response");
  } catch (const core::InputError& e) {
    return core::MakeError(core::ErrorCode::kUpstream,
                           what + ": the response is not YAML: " + e.what());
  }
  std::map<std::string, json> remote;
  if (!doc.is_object() || !doc.contains(ns) || !doc[ns].is_array()) {
    return remote;
  }
  for (const auto& g : doc[ns]) {
    if (g.is_object() && g.contains("name") && g["name"].is_string()) {
      remote[g["name"].get<std::string>()] = json(g);
    }
  }
  return remote;
}

}  // namespace

LokiGroups LoadLokiGroups(const render::Bundle& bundle) {
  LokiGroups out;
  std::vector<core::Diagnostic> all;
  std::map<std::string, std::set<std::string>> names;
  for (const auto& [path, content] : bundle.files()) {
    if (path.rfind(kRulesPrefix, 0) != 0) {
      continue;
    }
    const std::string rest = path.substr(kRulesPrefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos || !(rest.ends_with(".yaml") || rest.ends_with(".yml"))) {
      continue;
    }
    const std::string tenant = rest.substr(0, slash);
    Findings findings(path);
    const ordered_json doc = render::ParseYaml(content, path);
    if (!doc.is_object() || !doc.contains("groups") || !doc["groups"].is_array()) {
      findings.Add("groups", "must be a list of rule groups");
    } else {
      const auto& groups = doc["groups"];
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::string gp = "groups[" + std::to_string(i) + "]";
        const std::size_t before = findings.diagnostics().size();
        ValidateGroup(groups[i], gp, names[tenant], findings);
        if (findings.diagnostics().size() == before) {
          out[tenant].push_back({.tenant = tenant,
                                 .name = groups[i]["name"].get<std::string>(),
                                 .body = groups[i],
                                 .source = path});
        }
      }
    }
    for (auto& d : findings.diagnostics()) {
      all.push_back(std::move(d));
    }
  }
  if (!all.empty()) {
    throw core::InputError(core::InputError::Kind::kRender, std::move(all));
  }
  return out;
}

struct LokiRuler::Computed {
  struct Write {
    LokiChange change;
    const LokiGroup* group = nullptr;  // null for deletions
    std::string hash;
  };
  std::vector<Write> writes;
  std::vector<std::pair<std::string, std::string>> record_only;  // (ledger uid, hash)
};

LokiRuler::LokiRuler(LokiRulerOptions options, http::HttpClient& http, OwnershipLedger& ledger)
    : options_(std::move(options)), http_(http), ledger_(ledger) {
}

core::Result<http::Response> LokiRuler::Send(const std::string& method,
                                             const std::string& path,
                                             const std::string& tenant,
                                             std::string body,
                                             const std::string& what,
                                             std::initializer_list<int> accept) {
  http::Request request{.method = method,
                        .url = http::JoinUrl(options_.base_url, path),
                        .body = std::move(body),
                        .timeout = options_.timeout};
  request.headers.emplace_back("X-Scope-OrgID", tenant);
  if (!request.body.empty()) {
    request.headers.emplace_back("Content-Type", "application/yaml");
  }
  auto result = http_.Send(request);
  if (result.ok()) {
    for (const int status : accept) {
      if (result->status == status) {
        return result;
      }
    }
  }
  core::Error error = http::UpstreamError(request, result);
  if (IsReadOnlyLocalStore(error)) {
    error.message = what + ": the Loki at " + http::RedactUrl(options_.base_url) +
                    " keeps its rules in a local rule store, which its API can read but never "
                    "write; give runtime.loki a config_dir (obsforge then writes the rule files "
                    "there) or configure that Loki's ruler with an object store (" +
                    error.message + ")";
    return error;
  }
  error.message = what + ": " + error.message;
  return error;
}

core::Result<void> LokiRuler::Compute(const LokiGroups& groups, Computed& out) {
  auto records = ledger_.List(ObjectKind::kLokiGroup);
  if (!records.ok()) {
    return records.error();
  }
  std::map<std::string, std::string> ledger;
  std::set<std::string> tenants;
  for (const auto& [tenant, list] : groups) {
    tenants.insert(tenant);
  }
  for (const auto& r : *records) {
    ledger[r.uid] = r.content_hash;
    tenants.insert(r.uid.substr(0, r.uid.find('/')));
  }
  for (const auto& tenant : tenants) {
    if (auto r = ComputeTenant(tenant, groups, ledger, out); !r.ok()) {
      return r.error();
    }
  }
  return {};
}

// What the groups of one tenant need: creates, updates, deletes (with prune) and ledger records.
core::Result<void> LokiRuler::ComputeTenant(const std::string& tenant,
                                            const LokiGroups& groups,
                                            std::map<std::string, std::string>& ledger,
                                            Computed& out) {
  const std::string& ns = options_.rule_namespace;
  const std::string what =
      "Loki rules of namespace " + Quoted(ns) + " for tenant " + Quoted(tenant);
  auto response = Send("GET", "/loki/api/v1/rules/" + http::EncodePathSegment(ns), tenant, "", what,
                       {200, 404});
  if (!response.ok()) {
    return response.error();
  }
  std::map<std::string, json> remote;
  if (response->status == 200) {
    auto parsed = RemoteGroups(response->body, ns, what);
    if (!parsed.ok()) {
      return parsed.error();
    }
    remote = std::move(*parsed);
  }
  std::set<std::string> wanted;
  const std::string uid_prefix = tenant + "/" + ns + "/";
  const auto it = groups.find(tenant);
  if (it != groups.end()) {
    for (const auto& group : it->second) {
      wanted.insert(group.name);
      const std::string uid = uid_prefix + group.name;
      const json body(group.body);
      const std::string hash = CanonicalHash(body);
      const auto r = remote.find(group.name);
      if (r == remote.end()) {
        out.writes.push_back(
            {.change = {.tenant = tenant, .group = group.name, .action = ChangeAction::kCreate},
             .group = &group,
             .hash = hash});
        continue;
      }
      auto diffs = DiffDesiredFields(Comparable(r->second), Comparable(body));
      if (!diffs.empty()) {
        out.writes.push_back({.change = {.tenant = tenant,
                                         .group = group.name,
                                         .action = ChangeAction::kUpdate,
                                         .diffs = std::move(diffs)},
                              .group = &group,
                              .hash = hash});
      } else if (ledger[uid] != hash) {
        out.record_only.emplace_back(uid, hash);
      }
    }
  }
  if (options_.prune) {
    for (const auto& [name, body] : remote) {
      if (!wanted.contains(name)) {
        out.writes.push_back(
            {.change = {.tenant = tenant, .group = name, .action = ChangeAction::kDelete}});
      }
    }
  }
  return {};
}

core::Result<std::vector<LokiChange>> LokiRuler::Plan(const LokiGroups& groups) {
  Computed computed;
  if (auto r = Compute(groups, computed); !r.ok()) {
    return r.error();
  }
  std::vector<LokiChange> changes;
  for (auto& w : computed.writes) {
    changes.push_back(std::move(w.change));
  }
  return changes;
}

core::Result<LokiApplyReport> LokiRuler::Apply(const LokiGroups& groups) {
  Computed computed;
  if (auto r = Compute(groups, computed); !r.ok()) {
    return r.error();
  }
  const std::string ns_path =
      "/loki/api/v1/rules/" + http::EncodePathSegment(options_.rule_namespace);
  LokiApplyReport report;
  for (auto& w : computed.writes) {
    const LokiChange& c = w.change;
    const std::string uid = c.tenant + "/" + options_.rule_namespace + "/" + c.group;
    const std::string what =
        "Loki rule group " + Quoted(c.group) + " of tenant " + Quoted(c.tenant);
    ++report.writes;
    if (c.action == ChangeAction::kDelete) {
      auto sent = Send("DELETE", ns_path + "/" + http::EncodePathSegment(c.group), c.tenant, "",
                       what, {200, 202, 204, 404});
      if (!sent.ok()) {
        return sent.error();
      }
      if (auto f = ledger_.Forget(ObjectKind::kLokiGroup, uid); !f.ok()) {
        return f.error();
      }
    } else {
      auto sent =
          Send("POST", ns_path, c.tenant, render::EmitYaml(w.group->body), what, {200, 201, 202});
      if (!sent.ok()) {
        return sent.error();
      }
      if (auto rec =
              ledger_.Record({.kind = ObjectKind::kLokiGroup, .uid = uid, .content_hash = w.hash});
          !rec.ok()) {
        return rec.error();
      }
    }
    report.changes.push_back(std::move(w.change));
  }
  for (const auto& [uid, hash] : computed.record_only) {
    if (auto rec =
            ledger_.Record({.kind = ObjectKind::kLokiGroup, .uid = uid, .content_hash = hash});
        !rec.ok()) {
      return rec.error();
    }
  }
  return report;
}

}  // namespace obsforge::provision
