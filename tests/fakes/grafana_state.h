#pragma once

// Internal to the FakeGrafana implementation: the stored objects and the route installers.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "fakes/fake_grafana.h"
#include "fakes/fake_server.h"

namespace obsforge::fakes {

struct GrafanaFolder {
  int id = 0;
  std::string uid;
  std::string title;
  std::string parent_uid;
  int version = 1;
};

struct GrafanaDashboard {
  int id = 0;
  std::string uid;
  nlohmann::json model;
  /// `model` serialised: written on save (Grafana, too, stores a dashboard as JSON text when it
  /// is saved), or by the first GET after a seed or a hand edit ("" = not yet).
  std::string model_text;
  /// Slugify(title), likewise filled on first use ("" = not yet); compared on every save.
  std::string slug;
  std::string folder_uid;
  int version = 1;
  bool provisioned = false;
  std::string message;
};

struct GrafanaOrg {
  std::map<std::string, nlohmann::json> datasources;
  std::map<std::string, GrafanaFolder> folders;
  std::map<std::string, GrafanaDashboard> dashboards;
  std::map<std::string, nlohmann::json> rules;
  std::map<std::pair<std::string, std::string>, int> group_intervals;
  std::map<std::string, nlohmann::json> contact_points;
  nlohmann::json policies;
  std::string policies_provenance;
  std::map<std::string, nlohmann::json> templates;
  std::map<std::string, nlohmann::json> mute_timings;
};

struct GrafanaState {
  explicit GrafanaState(GrafanaOptions o) : options(std::move(o)) {}

  /// The org, created with Grafana's defaults on first use. Caller holds `mutex`.
  GrafanaOrg& Org(int org);
  /// The org named by X-Grafana-Org-Id (default 1), or nullopt when the header is not a number.
  static std::optional<int> OrgOf(const FakeRequest& request);

  GrafanaOptions options;
  mutable std::mutex mutex;
  std::map<int, GrafanaOrg> orgs;
  int next_id = 1;
  int next_uid = 1;
  bool database_healthy = true;
  std::map<std::string, std::pair<bool, std::string>> datasource_health;

  /// A new generated uid ("fk" + counter). Caller holds `mutex`.
  std::string NewUid();
};

/// {"message": text} with `status`.
FakeResponse GrafanaError(int status, const std::string& message);
/// Grafana's slug of a title ("My Dash!" -> "my-dash").
std::string Slugify(const std::string& title);
/// "" when `uid` is acceptable, else the 400 message.
std::string CheckUid(const std::string& uid);
/// The public form of a stored data source (secureJsonData replaced by secureJsonFields).
nlohmann::json PublicDatasource(const nlohmann::json& stored);

void AddDatasourceRoutes(FakeServer& server, GrafanaState& state);
void AddFolderDashboardRoutes(FakeServer& server, GrafanaState& state);
void AddAlertingRoutes(FakeServer& server, GrafanaState& state);
/// A folder as GET /api/folders/{uid} returns it. Caller holds `mutex`.
nlohmann::json FolderJson(const GrafanaOrg& org, const GrafanaFolder& folder);

}  // namespace obsforge::fakes

namespace obsforge::fakes {

using GrafanaOrgHandler = std::function<FakeResponse(FakeRequest&, GrafanaOrg&, int)>;
/// Wraps `handler`: resolves the org (400 on a bad header) and holds `state.mutex` while it runs.
FakeServer::Handler Locked(GrafanaState& state, GrafanaOrgHandler handler);
/// The request body as JSON, or nullopt when it is not valid JSON.
std::optional<nlohmann::json> JsonBody(const FakeRequest& request);

}  // namespace obsforge::fakes
