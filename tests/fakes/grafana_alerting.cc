// The alerting provisioning API of FakeGrafana (/api/v1/provisioning/...), with provenance.

#include <algorithm>
#include <set>

#include "fakes/grafana_state.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

constexpr char kBase[] = "/api/v1/provisioning";

std::string Route(const std::string& tail) {
  return std::string(kBase) + tail;
}

// The provenance a write stamps: "" when X-Disable-Provenance is present (whatever its value:
// Grafana looks only at whether the header is there), else "api".
std::string Provided(const FakeRequest& request) {
  return request.HasHeader("X-Disable-Provenance") ? "" : "api";
}

// Single objects: same to same, or from none to anything ("file" never changes).
bool CanChange(const std::string& stored, const std::string& provided) {
  return stored == provided || stored.empty();
}

// Rule groups also allow "api" to "" (dropping the lock).
bool CanChangeInGroup(const std::string& stored, const std::string& provided) {
  return CanChange(stored, provided) || (stored == "api" && provided.empty());
}

FakeResponse Mismatch(const std::string& action,
                      const std::string& provided,
                      const std::string& stored) {
  return FakeResponse::Json(
      409, json{{"statusCode", 409},
                {"messageId", "alerting.provenanceMismatch"},
                {"message", "cannot " + action + " with provided provenance '" + provided +
                                "', needs '" + stored + "'"}});
}

FakeResponse NotFound(const std::string& what) {
  return GrafanaError(404, what + " not found");
}

json Stripped(json object) {
  object.erase("_index");
  return object;
}

// "" when the rule has every required field, else the 400 message. `in_group` skips the fields
// the group path provides.
std::string ValidateRule(const json& rule, bool in_group) {
  if (!rule.is_object()) {
    return "invalid alert rule: not an object";
  }
  std::vector<const char*> required{"title", "condition", "noDataState", "execErrState", "for"};
  if (!in_group) {
    required.insert(required.end(), {"ruleGroup", "folderUID"});
  }
  for (const char* field : required) {
    if (!rule.contains(field) || !rule[field].is_string() ||
        rule[field].get<std::string>().empty()) {
      return std::string("invalid alert rule: ") + field + " is required";
    }
  }
  if (!rule.contains("data") || !rule["data"].is_array() || rule["data"].empty()) {
    return "invalid alert rule: data is required";
  }
  for (const auto& query : rule["data"]) {
    if (!query.is_object() || !query.contains("refId") || !query.contains("datasourceUid") ||
        !query.contains("model")) {
      return "invalid alert rule: each data entry needs refId, datasourceUid and model";
    }
  }
  return "";
}

json GroupJson(const GrafanaOrg& org, const std::string& folder, const std::string& group) {
  std::vector<json> rules;
  for (const auto& [uid, rule] : org.rules) {
    if (rule.value("folderUID", "") == folder && rule.value("ruleGroup", "") == group) {
      rules.push_back(rule);
    }
  }
  std::sort(rules.begin(), rules.end(), [](const json& a, const json& b) {
    return a.value("_index", 0) < b.value("_index", 0);
  });
  json out{{"title", group}, {"folderUid", folder}, {"rules", json::array()}};
  auto it = org.group_intervals.find({folder, group});
  out["interval"] = it == org.group_intervals.end() ? 60 : it->second;
  for (auto& rule : rules) {
    out["rules"].push_back(Stripped(rule));
  }
  return out;
}

FakeResponse PutRule(
    GrafanaState& state, FakeRequest& r, GrafanaOrg& org, int org_id, bool create) {
  auto body = JsonBody(r);
  if (!body) {
    return GrafanaError(400, "bad request data");
  }
  if (auto bad = ValidateRule(*body, false); !bad.empty()) {
    return GrafanaError(400, bad);
  }
  const std::string folder = (*body)["folderUID"];
  if (!org.folders.contains(folder)) {
    return GrafanaError(400, "invalid alert rule: folder does not exist");
  }
  const std::string provided = Provided(r);
  std::string uid = create ? body->value("uid", "") : r.Param("uid");
  json rule = *body;
  int index = 0;
  if (create) {
    if (!uid.empty() && org.rules.contains(uid)) {
      return GrafanaError(409, "alert rule with uid " + uid + " already exists");
    }
    if (uid.empty()) {
      uid = state.NewUid();
    }
    rule["id"] = state.next_id++;
    for (const auto& [k, existing] : org.rules) {
      index = std::max(index, existing.value("_index", 0) + 1);
    }
  } else {
    auto it = org.rules.find(uid);
    if (it == org.rules.end()) {
      return NotFound("alert rule");
    }
    const std::string stored = it->second.value("provenance", "");
    if (!CanChange(stored, provided)) {
      return Mismatch("update", provided, stored);
    }
    rule["id"] = it->second["id"];
    index = it->second.value("_index", 0);
  }
  rule["uid"] = uid;
  rule["orgID"] = org_id;
  rule["provenance"] = provided;
  rule["_index"] = index;
  org.group_intervals.try_emplace({folder, rule.value("ruleGroup", "")}, 60);
  org.rules[uid] = rule;
  return FakeResponse::Json(create ? 201 : 200, Stripped(rule));
}

FakeResponse PutGroup(GrafanaState& state, FakeRequest& r, GrafanaOrg& org, int org_id) {
  const std::string folder = r.Param("folderUid");
  const std::string group = r.Param("group");
  auto body = JsonBody(r);
  if (!body || !body->is_object()) {
    return GrafanaError(400, "bad request data");
  }
  if (!org.folders.contains(folder)) {
    return GrafanaError(400, "invalid rule group: folder does not exist");
  }
  if (!body->contains("interval") || !(*body)["interval"].is_number_integer()) {
    return GrafanaError(400, "bad request data");
  }
  // The scheduler ticks every 10 s: an interval must be a positive multiple of it.
  if (const int interval = (*body)["interval"].get<int>(); interval <= 0 || interval % 10 != 0) {
    return GrafanaError(400, "invalid alert rule: interval (" + std::to_string(interval) +
                                 "s) should be non-zero and divided exactly by scheduler "
                                 "interval: 10");
  }
  const json rules = body->value("rules", json::array());
  if (!rules.is_array()) {
    return GrafanaError(400, "bad request data");
  }
  const std::string provided = Provided(r);
  std::set<std::string> kept;
  for (const auto& rule : rules) {
    if (auto bad = ValidateRule(rule, true); !bad.empty()) {
      return GrafanaError(400, bad);
    }
    if (rule.contains("folderUID") && rule["folderUID"] != folder) {
      return GrafanaError(400, "invalid alert rule: folderUID does not match the rule group");
    }
    const std::string uid = rule.value("uid", "");
    if (!uid.empty()) {
      kept.insert(uid);
      if (auto it = org.rules.find(uid); it != org.rules.end()) {
        const std::string stored = it->second.value("provenance", "");
        if (!CanChangeInGroup(stored, provided)) {
          return Mismatch("update", provided, stored);
        }
      }
    }
  }
  for (const auto& [uid, rule] : org.rules) {
    if (rule.value("folderUID", "") == folder && rule.value("ruleGroup", "") == group &&
        !kept.contains(uid)) {
      const std::string stored = rule.value("provenance", "");
      if (!CanChangeInGroup(stored, provided)) {
        return Mismatch("delete", provided, stored);
      }
    }
  }
  // Replace the whole group: rules left out are deleted.
  std::erase_if(org.rules, [&](const auto& e) {
    return e.second.value("folderUID", "") == folder && e.second.value("ruleGroup", "") == group &&
           !kept.contains(e.first);
  });
  int index = 0;
  for (auto rule : rules) {
    std::string uid = rule.value("uid", "");
    if (uid.empty()) {
      uid = state.NewUid();
    }
    auto it = org.rules.find(uid);
    rule["id"] = it == org.rules.end() ? json(state.next_id++) : it->second["id"];
    rule["uid"] = uid;
    rule["orgID"] = org_id;
    rule["folderUID"] = folder;
    rule["ruleGroup"] = group;
    rule["provenance"] = provided;
    rule["_index"] = index++;
    org.rules[uid] = rule;
  }
  if (rules.empty()) {
    org.group_intervals.erase({folder, group});
  } else {
    org.group_intervals[{folder, group}] = (*body)["interval"].get<int>();
  }
  // The answer is the request sent back with the folder and title of the path; the uids given
  // to new rules are not in it (RoutePutAlertRuleGroup).
  json echoed = *body;
  echoed["folderUid"] = folder;
  echoed["title"] = group;
  return FakeResponse::Json(200, echoed);
}

json RedactedContactPoint(json cp) {
  if (cp.contains("settings") && cp["settings"].is_object()) {
    for (const char* secret : {"url", "token", "password"}) {
      if (cp["settings"].contains(secret) &&
          (cp.value("type", "") == "slack" || std::string(secret) == "password")) {
        cp["settings"][secret] = "[REDACTED]";
      }
    }
  }
  return cp;
}

std::string ValidateContactPoint(const json& cp) {
  if (!cp.is_object() || cp.value("name", "").empty()) {
    return "invalid object specification: name must be set";
  }
  if (cp.value("type", "").empty()) {
    return "invalid object specification: type must be set";
  }
  if (!cp.contains("settings") || !cp["settings"].is_object()) {
    return "invalid object specification: settings must be set";
  }
  return "";
}

void CollectReceivers(const json& route, std::vector<std::string>& out) {
  if (route.contains("receiver") && route["receiver"].is_string()) {
    out.push_back(route["receiver"]);
  }
  if (route.contains("routes") && route["routes"].is_array()) {
    for (const auto& child : route["routes"]) {
      CollectReceivers(child, out);
    }
  }
}

void AddRuleRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", Route("/alert-rules"), Locked(state, [](FakeRequest&, GrafanaOrg& org, int) {
                 json out = json::array();
                 for (const auto& [uid, rule] : org.rules) {
                   out.push_back(Stripped(rule));
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route("GET", Route("/alert-rules/{uid}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.rules.find(r.Param("uid"));
                 return it == org.rules.end() ? NotFound("alert rule")
                                              : FakeResponse::Json(200, Stripped(it->second));
               }));
  server.Route("POST", Route("/alert-rules"),
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int id) {
                 return PutRule(state, r, org, id, true);
               }));
  server.Route("PUT", Route("/alert-rules/{uid}"),
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int id) {
                 return PutRule(state, r, org, id, false);
               }));
  server.Route("DELETE", Route("/alert-rules/{uid}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.rules.find(r.Param("uid"));
                 if (it == org.rules.end()) {
                   return FakeResponse{.status = 204};
                 }
                 const std::string stored = it->second.value("provenance", "");
                 if (!CanChange(stored, Provided(r))) {
                   return Mismatch("delete", Provided(r), stored);
                 }
                 const auto key = std::make_pair(it->second.value("folderUID", ""),
                                                 it->second.value("ruleGroup", ""));
                 org.rules.erase(it);
                 if (GroupJson(org, key.first, key.second)["rules"].empty()) {
                   org.group_intervals.erase(key);
                 }
                 return FakeResponse{.status = 204};
               }));
  server.Route("GET", Route("/folder/{folderUid}/rule-groups/{group}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 const std::string folder = r.Param("folderUid");
                 const std::string group = r.Param("group");
                 if (!org.group_intervals.contains({folder, group})) {
                   return NotFound("rule group");
                 }
                 return FakeResponse::Json(200, GroupJson(org, folder, group));
               }));
  server.Route("PUT", Route("/folder/{folderUid}/rule-groups/{group}"),
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int id) {
                 return PutGroup(state, r, org, id);
               }));
}

void AddContactPointRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", Route("/contact-points"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 json out = json::array();
                 for (const auto& [uid, cp] : org.contact_points) {
                   if (!r.HasQuery("name") || cp.value("name", "") == r.Query("name")) {
                     out.push_back(RedactedContactPoint(cp));
                   }
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route("POST", Route("/contact-points"),
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int) {
                 auto body = JsonBody(r);
                 if (!body) {
                   return GrafanaError(400, "bad request data");
                 }
                 if (auto bad = ValidateContactPoint(*body); !bad.empty()) {
                   return GrafanaError(400, bad);
                 }
                 std::string uid = body->value("uid", "");
                 if (!uid.empty() && org.contact_points.contains(uid)) {
                   return GrafanaError(409, "contact point with uid " + uid + " already exists");
                 }
                 if (uid.empty()) {
                   uid = state.NewUid();
                 }
                 json cp = *body;
                 cp["uid"] = uid;
                 cp["disableResolveMessage"] = cp.value("disableResolveMessage", false);
                 cp["provenance"] = Provided(r);
                 org.contact_points[uid] = cp;
                 return FakeResponse::Json(202, RedactedContactPoint(cp));
               }));
  server.Route("PUT", Route("/contact-points/{uid}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.contact_points.find(r.Param("uid"));
                 if (it == org.contact_points.end()) {
                   return NotFound("contact point");
                 }
                 auto body = JsonBody(r);
                 if (!body) {
                   return GrafanaError(400, "bad request data");
                 }
                 if (auto bad = ValidateContactPoint(*body); !bad.empty()) {
                   return GrafanaError(400, bad);
                 }
                 const std::string stored = it->second.value("provenance", "");
                 if (!CanChange(stored, Provided(r))) {
                   return Mismatch("update", Provided(r), stored);
                 }
                 json cp = *body;
                 cp["uid"] = it->first;
                 cp["disableResolveMessage"] = cp.value("disableResolveMessage", false);
                 cp["provenance"] = Provided(r);
                 it->second = cp;
                 return FakeResponse::Json(202, json{{"message", "contactpoint updated"}});
               }));
  server.Route("DELETE", Route("/contact-points/{uid}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 // 202 with a message, also for a point that is not there.
                 const json deleted{{"message", "contactpoint deleted"}};
                 auto it = org.contact_points.find(r.Param("uid"));
                 if (it == org.contact_points.end()) {
                   return FakeResponse::Json(202, deleted);
                 }
                 const std::string stored = it->second.value("provenance", "");
                 if (!CanChange(stored, Provided(r))) {
                   return Mismatch("delete", Provided(r), stored);
                 }
                 org.contact_points.erase(it);
                 return FakeResponse::Json(202, deleted);
               }));
}

void AddPolicyRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", Route("/policies"), Locked(state, [](FakeRequest&, GrafanaOrg& org, int) {
                 json out = org.policies;
                 if (!org.policies_provenance.empty()) {
                   out["provenance"] = org.policies_provenance;
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route(
      "PUT", Route("/policies"), Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
        auto body = JsonBody(r);
        if (!body || !body->is_object()) {
          return GrafanaError(400, "bad request data");
        }
        if (body->value("receiver", "").empty()) {
          return GrafanaError(
              400, "invalid object specification: root route must specify a default receiver");
        }
        std::vector<std::string> receivers;
        CollectReceivers(*body, receivers);
        for (const auto& name : receivers) {
          const bool known =
              std::any_of(org.contact_points.begin(), org.contact_points.end(),
                          [&](const auto& e) { return e.second.value("name", "") == name; });
          if (!known) {
            return GrafanaError(
                400, "invalid object specification: receiver '" + name + "' does not exist");
          }
        }
        if (!CanChange(org.policies_provenance, Provided(r))) {
          return Mismatch("update", Provided(r), org.policies_provenance);
        }
        json tree = *body;
        tree.erase("provenance");
        org.policies = tree;
        org.policies_provenance = Provided(r);
        return FakeResponse::Json(202, json{{"message", "policies updated"}});
      }));
  server.Route("DELETE", Route("/policies"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 if (!CanChange(org.policies_provenance, Provided(r))) {
                   return Mismatch("delete", Provided(r), org.policies_provenance);
                 }
                 org.policies = {{"receiver", "grafana-default-email"},
                                 {"group_by", {"grafana_folder", "alertname"}}};
                 org.policies_provenance = "";
                 return FakeResponse::Json(202, json{{"message", "policies reset"}});
               }));
}

void AddTemplateAndTimingRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", Route("/templates"), Locked(state, [](FakeRequest&, GrafanaOrg& org, int) {
                 json out = json::array();
                 for (const auto& [name, t] : org.templates) {
                   out.push_back(t);
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route("GET", Route("/templates/{name}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.templates.find(r.Param("name"));
                 return it == org.templates.end() ? NotFound("template")
                                                  : FakeResponse::Json(200, it->second);
               }));
  server.Route(
      "PUT", Route("/templates/{name}"), Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
        auto body = JsonBody(r);
        if (!body || !body->is_object() || !(*body)["template"].is_string()) {
          return GrafanaError(400, "invalid object specification: template must be set");
        }
        const std::string name = r.Param("name");
        if (auto it = org.templates.find(name); it != org.templates.end()) {
          const std::string stored = it->second.value("provenance", "");
          if (!CanChange(stored, Provided(r))) {
            return Mismatch("update", Provided(r), stored);
          }
        }
        json t{{"name", name}, {"template", (*body)["template"]}, {"provenance", Provided(r)}};
        org.templates[name] = t;
        return FakeResponse::Json(202, t);
      }));
  server.Route("DELETE", Route("/templates/{name}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.templates.find(r.Param("name"));
                 if (it != org.templates.end()) {
                   const std::string stored = it->second.value("provenance", "");
                   if (!CanChange(stored, Provided(r))) {
                     return Mismatch("delete", Provided(r), stored);
                   }
                   org.templates.erase(it);
                 }
                 return FakeResponse{.status = 204};
               }));
  server.Route("GET", Route("/mute-timings"), Locked(state, [](FakeRequest&, GrafanaOrg& org, int) {
                 json out = json::array();
                 for (const auto& [name, t] : org.mute_timings) {
                   out.push_back(t);
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route("GET", Route("/mute-timings/{name}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.mute_timings.find(r.Param("name"));
                 return it == org.mute_timings.end() ? NotFound("mute timing")
                                                     : FakeResponse::Json(200, it->second);
               }));
  server.Route("POST", Route("/mute-timings"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto body = JsonBody(r);
                 if (!body || !body->is_object() || body->value("name", "").empty()) {
                   return GrafanaError(400, "invalid object specification: name must be set");
                 }
                 const std::string name = (*body)["name"];
                 if (org.mute_timings.contains(name)) {
                   return GrafanaError(409, "mute timing with name " + name + " already exists");
                 }
                 json t = *body;
                 t["provenance"] = Provided(r);
                 org.mute_timings[name] = t;
                 return FakeResponse::Json(201, t);
               }));
  server.Route("PUT", Route("/mute-timings/{name}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.mute_timings.find(r.Param("name"));
                 if (it == org.mute_timings.end()) {
                   return NotFound("mute timing");
                 }
                 auto body = JsonBody(r);
                 if (!body || !body->is_object()) {
                   return GrafanaError(400, "bad request data");
                 }
                 const std::string stored = it->second.value("provenance", "");
                 if (!CanChange(stored, Provided(r))) {
                   return Mismatch("update", Provided(r), stored);
                 }
                 json t = *body;
                 t["name"] = it->first;
                 t["provenance"] = Provided(r);
                 it->second = t;
                 return FakeResponse::Json(200, t);
               }));
  server.Route("DELETE", Route("/mute-timings/{name}"),
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.mute_timings.find(r.Param("name"));
                 if (it != org.mute_timings.end()) {
                   const std::string stored = it->second.value("provenance", "");
                   if (!CanChange(stored, Provided(r))) {
                     return Mismatch("delete", Provided(r), stored);
                   }
                   org.mute_timings.erase(it);
                 }
                 return FakeResponse{.status = 204};
               }));
}

}  // namespace

void AddAlertingRoutes(FakeServer& server, GrafanaState& state) {
  AddRuleRoutes(server, state);
  AddContactPointRoutes(server, state);
  AddPolicyRoutes(server, state);
  AddTemplateAndTimingRoutes(server, state);
}

}  // namespace obsforge::fakes
