// Data source endpoints of FakeGrafana (/api/datasources...).

#include "fakes/grafana_state.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

const char kNotFound[] = "Data source not found";

json Summary(const json& stored) {
  json out = PublicDatasource(stored);
  out.erase("secureJsonFields");
  return out;
}

bool NameTaken(const GrafanaOrg& org, const std::string& name, const std::string& except_uid) {
  for (const auto& [uid, ds] : org.datasources) {
    if (uid != except_uid && ds.value("name", "") == name) {
      return true;
    }
  }
  return false;
}

// Copies the user-settable fields of a create/update body over `stored`.
void ApplyFields(const json& body, json& stored) {
  static const char* const kFields[] = {
      "name",          "type",      "access",          "url",     "user", "database", "basicAuth",
      "basicAuthUser", "isDefault", "withCredentials", "jsonData"};
  for (const char* field : kFields) {
    if (body.contains(field)) {
      stored[field] = body[field];
    }
  }
  if (!stored.contains("access")) {
    stored["access"] = "proxy";
  }
  if (!stored.contains("jsonData") || stored["jsonData"].is_null()) {
    stored["jsonData"] = json::object();
  }
  for (const char* flag : {"basicAuth", "isDefault", "withCredentials"}) {
    if (!stored.contains(flag)) {
      stored[flag] = false;
    }
  }
  if (body.contains("secureJsonData") && body["secureJsonData"].is_object()) {
    // Grafana keeps stored secrets the update does not mention.
    json secure = stored.value("secureJsonData", json::object());
    for (const auto& [key, value] : body["secureJsonData"].items()) {
      secure[key] = value;
    }
    stored["secureJsonData"] = secure;
  }
}

FakeResponse Create(GrafanaState& state, FakeRequest& request, GrafanaOrg& org, int org_id) {
  auto body = JsonBody(request);
  if (!body || !body->is_object()) {
    return GrafanaError(400, "bad request data");
  }
  const std::string name = body->value("name", "");
  if (name.empty() || body->value("type", "").empty()) {
    return GrafanaError(400, "bad request data");  // binding:"Required" through web.Bind
  }
  std::string uid = body->value("uid", "");
  if (!uid.empty()) {
    if (auto bad = CheckUid(uid); !bad.empty()) {
      return GrafanaError(400, bad);
    }
    if (org.datasources.contains(uid)) {
      return GrafanaError(409, "data source with the same uid already exists");
    }
  }
  if (NameTaken(org, name, "")) {
    return GrafanaError(409, "data source with the same name already exists");
  }
  if (uid.empty()) {
    uid = state.NewUid();
  }
  json stored{{"id", state.next_id++},
              {"uid", uid},
              {"orgId", org_id},
              {"version", 1},
              {"readOnly", false}};
  ApplyFields(*body, stored);
  org.datasources[uid] = stored;
  const json pub = PublicDatasource(stored);
  return FakeResponse::Json(200, json{{"datasource", pub},
                                      {"id", stored["id"]},
                                      {"name", name},
                                      {"message", "Datasource added"}});
}

FakeResponse Update(FakeRequest& request, GrafanaOrg& org) {
  const std::string uid = request.Param("uid");
  auto it = org.datasources.find(uid);
  if (it == org.datasources.end()) {
    return GrafanaError(404, kNotFound);
  }
  auto body = JsonBody(request);
  if (!body || !body->is_object()) {
    return GrafanaError(400, "bad request data");
  }
  json& stored = it->second;
  if (stored.value("readOnly", false)) {
    return GrafanaError(403, "Cannot update read-only data source");
  }
  // The store updates WHERE version < sent + 1: only a stored version above the sent one
  // conflicts, and a version of 0 (or none) skips the check.
  if (body->contains("version") && (*body)["version"].is_number_integer() &&
      (*body)["version"].get<int>() > 0 &&
      stored.value("version", 0) > (*body)["version"].get<int>()) {
    return GrafanaError(
        409, "Datasource has already been updated by someone else. Please reload and try again");
  }
  const std::string name = body->value("name", "");
  if (name.empty() || body->value("type", "").empty()) {
    return GrafanaError(400, "bad request data");  // binding:"Required" through web.Bind
  }
  if (NameTaken(org, name, uid)) {
    return GrafanaError(409, "data source with the same name already exists");
  }
  // The PUT carries the whole object: fields it leaves out go back to their defaults.
  json updated{{"id", stored["id"]},
               {"uid", uid},
               {"orgId", stored["orgId"]},
               {"version", stored.value("version", 1) + 1},
               {"readOnly", false}};
  if (stored.contains("secureJsonData")) {
    updated["secureJsonData"] = stored["secureJsonData"];
  }
  ApplyFields(*body, updated);
  stored = updated;
  return FakeResponse::Json(200, json{{"datasource", PublicDatasource(stored)},
                                      {"id", stored["id"]},
                                      {"name", name},
                                      {"message", "Datasource updated"}});
}

}  // namespace

void AddDatasourceRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", "/api/datasources", Locked(state, [](FakeRequest&, GrafanaOrg& org, int) {
                 json out = json::array();
                 for (const auto& [uid, ds] : org.datasources) {
                   out.push_back(Summary(ds));
                 }
                 return FakeResponse::Json(200, out);
               }));
  server.Route("POST", "/api/datasources",
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int id) {
                 return Create(state, r, org, id);
               }));
  server.Route("GET", "/api/datasources/uid/{uid}",
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.datasources.find(r.Param("uid"));
                 if (it == org.datasources.end()) {
                   return GrafanaError(404, kNotFound);
                 }
                 return FakeResponse::Json(200, PublicDatasource(it->second));
               }));
  server.Route("GET", "/api/datasources/name/{name}",
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 for (const auto& [uid, ds] : org.datasources) {
                   if (ds.value("name", "") == r.Param("name")) {
                     return FakeResponse::Json(200, PublicDatasource(ds));
                   }
                 }
                 return GrafanaError(404, kNotFound);
               }));
  server.Route("PUT", "/api/datasources/uid/{uid}",
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) { return Update(r, org); }));
  server.Route(
      "DELETE", "/api/datasources/uid/{uid}",
      Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
        auto it = org.datasources.find(r.Param("uid"));
        if (it == org.datasources.end()) {
          return GrafanaError(404, kNotFound);
        }
        if (it->second.value("readOnly", false)) {
          return GrafanaError(403, "Cannot delete read-only data source");
        }
        const json id = it->second["id"];
        org.datasources.erase(it);
        return FakeResponse::Json(200, json{{"message", "Data source deleted"}, {"id", id}});
      }));
  server.Route(
      "GET", "/api/datasources/uid/{uid}/health",
      Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int) {
        const std::string uid = r.Param("uid");
        if (!CheckUid(uid).empty()) {
          return GrafanaError(400, "bad request data");
        }
        if (!org.datasources.contains(uid)) {
          return GrafanaError(404, kNotFound);
        }
        auto it = state.datasource_health.find(uid);
        if (it == state.datasource_health.end() || it->second.first) {
          const std::string message =
              it == state.datasource_health.end() ? "Data source is working" : it->second.second;
          return FakeResponse::Json(200, json{{"status", "OK"}, {"message", message}});
        }
        return FakeResponse::Json(400, json{{"status", "ERROR"}, {"message", it->second.second}});
      }));
}

}  // namespace obsforge::fakes
