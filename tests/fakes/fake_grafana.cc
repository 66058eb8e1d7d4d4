#include "fakes/fake_grafana.h"

#include <cctype>
#include <mutex>
#include <stdexcept>

#include <Poco/Base64Decoder.h>

#include "fakes/grafana_state.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

std::string DecodeBase64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  std::string out;
  char c = 0;
  while (decoder.get(c)) {
    out.push_back(c);
  }
  return out;
}

bool Authorized(const GrafanaOptions& options, const std::string& header) {
  if (header.starts_with("Basic ")) {
    try {
      return DecodeBase64(header.substr(6)) == options.user + ":" + options.password;
    } catch (const std::exception&) {
      return false;
    }
  }
  if (header.starts_with("Bearer ")) {
    return !options.token.empty() && header.substr(7) == options.token;
  }
  return false;
}

json DefaultPolicies() {
  return {{"receiver", "grafana-default-email"}, {"group_by", {"grafana_folder", "alertname"}}};
}

}  // namespace

GrafanaOrg& GrafanaState::Org(int org) {
  auto [it, inserted] = orgs.try_emplace(org);
  if (inserted) {
    // Grafana creates every org with a default email contact point and a root policy using it.
    it->second.policies = DefaultPolicies();
    const std::string uid = "default-email-" + std::to_string(org);
    it->second.contact_points[uid] = {{"uid", uid},
                                      {"name", "grafana-default-email"},
                                      {"type", "email"},
                                      {"settings", {{"addresses", "<example@email.com>"}}},
                                      {"disableResolveMessage", false},
                                      {"provenance", ""}};
  }
  return it->second;
}

std::optional<int> GrafanaState::OrgOf(const FakeRequest& request) {
  const std::string header = request.Header("X-Grafana-Org-Id");
  if (header.empty()) {
    return 1;
  }
  try {
    std::size_t used = 0;
    const int org = std::stoi(header, &used);
    if (used != header.size() || org < 1) {
      return std::nullopt;
    }
    return org;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string GrafanaState::NewUid() {
  return "fk" + std::to_string(next_uid++) + "x";
}

FakeResponse GrafanaError(int status, const std::string& message) {
  return FakeResponse::Json(status, json{{"message", message}});
}

std::string Slugify(const std::string& title) {
  std::string out;
  bool dash = false;
  for (const char c : title) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      if (dash && !out.empty()) {
        out.push_back('-');
      }
      dash = false;
      out.push_back(static_cast<char>(std::tolower(u)));
    } else {
      dash = true;
    }
  }
  return out;
}

std::string CheckUid(const std::string& uid) {
  if (uid.size() > 40) {
    return "uid too long, max 40 characters";
  }
  for (const char c : uid) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') {
      return "uid contains illegal characters";
    }
  }
  return "";
}

json PublicDatasource(const json& stored) {
  json out = stored;
  json fields = json::object();
  if (auto it = out.find("secureJsonData"); it != out.end()) {
    for (const auto& [key, value] : it->items()) {
      fields[key] = true;
    }
    out.erase(it);
  }
  out["secureJsonFields"] = fields;
  return out;
}

FakeServer::Handler Locked(GrafanaState& state, GrafanaOrgHandler handler) {
  return [&state, handler = std::move(handler)](FakeRequest& request) {
    const auto org = GrafanaState::OrgOf(request);
    if (!org) {
      return GrafanaError(400, "invalid X-Grafana-Org-Id header");
    }
    std::lock_guard lock(state.mutex);
    return handler(request, state.Org(*org), *org);
  };
}

std::optional<json> JsonBody(const FakeRequest& request) {
  auto parsed = json::parse(request.body, nullptr, false);
  if (parsed.is_discarded()) {
    return std::nullopt;
  }
  return parsed;
}

namespace {

std::mutex g_observer_mutex;
FakeServer::Observer g_observer;  // ObserveEveryExchange

}  // namespace

void FakeGrafana::ObserveEveryExchange(FakeServer::Observer observer) {
  std::lock_guard lock(g_observer_mutex);
  g_observer = std::move(observer);
}

FakeGrafana::FakeGrafana(GrafanaOptions options)
    : state_(std::make_unique<GrafanaState>(std::move(options))),
      server_(std::make_unique<FakeServer>(state_->options.port)) {
  {
    std::lock_guard lock(g_observer_mutex);
    server_->SetObserver(g_observer);
  }
  GrafanaState& state = *state_;
  const auto health = [&state](FakeRequest&) {
    std::lock_guard lock(state.mutex);
    json body{{"database", state.database_healthy ? "ok" : "failing"},
              {"version", state.options.version},
              {"commit", state.options.commit}};
    return FakeResponse::Json(state.database_healthy ? 200 : 503, body);
  };
  server_->Route("GET", "/api/health", health);
  server_->Route("GET", "/healthz", [](FakeRequest&) { return FakeResponse::Text(200, "Ok"); });
  server_->SetGuard([&state](const FakeRequest& request) -> std::optional<FakeResponse> {
    if (!request.path.starts_with("/api/") || request.route == "/api/health") {
      return std::nullopt;
    }
    if (!Authorized(state.options, request.Header("Authorization"))) {
      return GrafanaError(401, "Unauthorized");
    }
    return std::nullopt;
  });
  server_->SetNotFound([](FakeRequest& request) {
    if (request.path.starts_with("/api/")) {
      return GrafanaError(404, "Not found");
    }
    return FakeResponse::Text(404, "404 page not found\n");
  });
  AddDatasourceRoutes(*server_, state);
  AddFolderDashboardRoutes(*server_, state);
  AddAlertingRoutes(*server_, state);
  server_->Start();
}

FakeGrafana::~FakeGrafana() {
  server_->Stop();
}

void FakeGrafana::SetDatabaseHealthy(bool healthy) {
  std::lock_guard lock(state_->mutex);
  state_->database_healthy = healthy;
}

void FakeGrafana::SetDatasourceHealth(const std::string& uid, bool ok, const std::string& message) {
  std::lock_guard lock(state_->mutex);
  state_->datasource_health[uid] = {ok, message};
}

json FakeGrafana::SeedDatasource(json datasource, int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  if (!datasource.contains("uid")) {
    datasource["uid"] = state_->NewUid();
  }
  datasource["id"] = state_->next_id++;
  datasource["orgId"] = org;
  datasource["version"] = datasource.value("version", 1);
  datasource["readOnly"] = datasource.value("readOnly", false);
  datasource["access"] = datasource.value("access", "proxy");
  datasource["jsonData"] = datasource.value("jsonData", json::object());
  o.datasources[datasource["uid"].get<std::string>()] = datasource;
  return datasource;
}

json FakeGrafana::SeedFolder(json folder, int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  GrafanaFolder f{.id = state_->next_id++,
                  .uid = folder.value("uid", state_->NewUid()),
                  .title = folder.value("title", ""),
                  .parent_uid = folder.value("parentUid", ""),
                  .version = folder.value("version", 1)};
  o.folders[f.uid] = f;
  return FolderJson(o, f);
}

json FakeGrafana::SeedDashboard(json dashboard,
                                const std::string& folder_uid,
                                bool provisioned,
                                int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  GrafanaDashboard d;
  d.id = state_->next_id++;
  d.uid = dashboard.value("uid", state_->NewUid());
  d.version = dashboard.value("version", 1);
  d.folder_uid = folder_uid;
  d.provisioned = provisioned;
  dashboard["id"] = d.id;
  dashboard["uid"] = d.uid;
  dashboard["version"] = d.version;
  d.model = dashboard;
  o.dashboards[d.uid] = d;
  return dashboard;
}

json FakeGrafana::SeedAlertRule(json rule, const std::string& provenance, int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  if (!rule.contains("uid")) {
    rule["uid"] = state_->NewUid();
  }
  rule["id"] = state_->next_id++;
  rule["orgID"] = org;
  rule["provenance"] = provenance;
  const auto key = std::make_pair(rule.value("folderUID", ""), rule.value("ruleGroup", ""));
  o.group_intervals.try_emplace(key, 60);
  o.rules[rule["uid"].get<std::string>()] = rule;
  return rule;
}

json FakeGrafana::SeedContactPoint(json contact_point, const std::string& provenance, int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  if (!contact_point.contains("uid")) {
    contact_point["uid"] = state_->NewUid();
  }
  contact_point["provenance"] = provenance;
  o.contact_points[contact_point["uid"].get<std::string>()] = contact_point;
  return contact_point;
}

void FakeGrafana::SeedPolicies(json tree, const std::string& provenance, int org) {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  o.policies = std::move(tree);
  o.policies_provenance = provenance;
}

void FakeGrafana::SeedTemplate(const std::string& name,
                               const std::string& text,
                               const std::string& provenance,
                               int org) {
  std::lock_guard lock(state_->mutex);
  state_->Org(org).templates[name] = {
      {"name", name}, {"template", text}, {"provenance", provenance}};
}

json FakeGrafana::SeedMuteTiming(json timing, const std::string& provenance, int org) {
  std::lock_guard lock(state_->mutex);
  timing["provenance"] = provenance;
  state_->Org(org).mute_timings[timing.value("name", "")] = timing;
  return timing;
}

json FakeGrafana::State(int org) const {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  json out{{"datasources", json::array()}, {"folders", json::array()},
           {"dashboards", json::array()},  {"alertRules", json::array()},
           {"ruleGroups", json::array()},  {"contactPoints", json::array()},
           {"policies", o.policies},       {"policiesProvenance", o.policies_provenance},
           {"templates", json::array()},   {"muteTimings", json::array()}};
  for (const auto& [uid, ds] : o.datasources) {
    out["datasources"].push_back(ds);
  }
  for (const auto& [uid, f] : o.folders) {
    out["folders"].push_back(FolderJson(o, f));
  }
  for (const auto& [uid, d] : o.dashboards) {
    out["dashboards"].push_back({{"dashboard", d.model},
                                 {"folderUid", d.folder_uid},
                                 {"version", d.version},
                                 {"provisioned", d.provisioned},
                                 {"message", d.message}});
  }
  for (const auto& [uid, rule] : o.rules) {
    out["alertRules"].push_back(rule);
  }
  for (const auto& [key, interval] : o.group_intervals) {
    out["ruleGroups"].push_back(
        {{"folderUid", key.first}, {"title", key.second}, {"interval", interval}});
  }
  for (const auto& [uid, cp] : o.contact_points) {
    out["contactPoints"].push_back(cp);
  }
  for (const auto& [name, t] : o.templates) {
    out["templates"].push_back(t);
  }
  for (const auto& [name, t] : o.mute_timings) {
    out["muteTimings"].push_back(t);
  }
  return out;
}

std::optional<json> FakeGrafana::Dashboard(const std::string& uid, int org) const {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  auto it = o.dashboards.find(uid);
  if (it == o.dashboards.end()) {
    return std::nullopt;
  }
  return it->second.model;
}

std::optional<json> FakeGrafana::Datasource(const std::string& uid, int org) const {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  auto it = o.datasources.find(uid);
  if (it == o.datasources.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<json> FakeGrafana::AlertRule(const std::string& uid, int org) const {
  std::lock_guard lock(state_->mutex);
  auto& o = state_->Org(org);
  auto it = o.rules.find(uid);
  if (it == o.rules.end()) {
    return std::nullopt;
  }
  return it->second;
}

namespace {

// Applies `edit` to the stored model and forgets what was derived from it. Caller holds the lock.
GrafanaDashboard& EditModel(GrafanaState& state,
                            const std::string& uid,
                            const std::function<void(json&)>& edit,
                            int org) {
  auto& d = state.Org(org).dashboards.at(uid);
  edit(d.model);
  d.model_text.clear();
  d.slug.clear();
  return d;
}

}  // namespace

void FakeGrafana::EditDashboardKeepingVersion(const std::string& uid,
                                              const std::function<void(json&)>& edit,
                                              int org) {
  std::lock_guard lock(state_->mutex);
  EditModel(*state_, uid, edit, org);
}

void FakeGrafana::EditDashboard(const std::string& uid,
                                const std::function<void(json&)>& edit,
                                int org) {
  std::lock_guard lock(state_->mutex);
  auto& d = EditModel(*state_, uid, edit, org);
  d.version += 1;
  d.model["version"] = d.version;
  d.model["id"] = d.id;
  d.model["uid"] = d.uid;
}

void FakeGrafana::EditDatasource(const std::string& uid,
                                 const std::function<void(json&)>& edit,
                                 int org) {
  std::lock_guard lock(state_->mutex);
  auto& ds = state_->Org(org).datasources.at(uid);
  edit(ds);
  ds["version"] = ds.value("version", 1) + 1;
}

void FakeGrafana::EditFolder(const std::string& uid, const std::string& new_title, int org) {
  std::lock_guard lock(state_->mutex);
  auto& f = state_->Org(org).folders.at(uid);
  f.title = new_title;
  f.version += 1;
}

void FakeGrafana::EditAlertRule(const std::string& uid,
                                const std::function<void(json&)>& edit,
                                int org) {
  std::lock_guard lock(state_->mutex);
  auto& rule = state_->Org(org).rules.at(uid);
  edit(rule);
}

void FakeGrafana::EditContactPoint(const std::string& uid,
                                   const std::function<void(json&)>& edit,
                                   int org) {
  std::lock_guard lock(state_->mutex);
  edit(state_->Org(org).contact_points.at(uid));
}

}  // namespace obsforge::fakes
