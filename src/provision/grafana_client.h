#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"
#include "http/http_client.h"

namespace obsforge::provision {

/// How to reach and authenticate to one Grafana organisation (an aggregate).
struct GrafanaOptions {
  /// "http://127.0.0.1:3000" (a path prefix is allowed).
  std::string base_url;
  /// Service-account token, sent as `Authorization: Bearer`. Wins over basic auth when set.
  std::optional<core::Secret> token;
  /// Basic auth, used when `token` is unset and `basic_user` is not empty.
  std::string basic_user;
  core::Secret basic_password;
  /// Sent as X-Grafana-Org-Id when > 0.
  int org_id = 0;
  /// When true, every alerting-provisioning write carries `X-Disable-Provenance: true` (objects
  /// stay editable in the UI); when false it is never sent. Keep it fixed per stack: Grafana
  /// refuses a write whose provenance differs from the stored one (409).
  bool disable_provenance = false;
  /// Per-request total timeout.
  std::chrono::milliseconds timeout{15000};
};

/// Result of GET /api/datasources/uid/{uid}/health.
struct DatasourceHealth {
  std::string uid;
  bool ok = false;
  std::string message;  ///< Grafana's message ("Data source is working", or why not)
};

/// What Grafana answered to a dashboard save.
struct SavedDashboard {
  std::int64_t id = 0;
  std::int64_t version = 0;
};

/// Typed calls to Grafana's HTTP API over an injected HttpClient (wrap it in a
/// RetryingHttpClient for retries). Thread-safe when the client is.
///
/// Every method returns an Error instead of throwing: a transport error as the HttpClient
/// reported it, prefixed with the object; an unexpected status as kUpstream with
/// upstream_status/upstream_body set and a message naming the object first, e.g.
///   dashboard "tokpulse-api" in folder "tokpulse": POST http://g:3000/api/dashboards/db: 400 {...}
/// (404 becomes kNotFound, 409/412 kConflict, other statuses kUpstream). Credentials never
/// appear in messages.
class GrafanaClient {
 public:
  /// `http` is not owned and must outlive the client.
  GrafanaClient(GrafanaOptions options, http::HttpClient& http);

  /// GET /api/datasources/uid/{uid}; nullopt on 404.
  core::Result<std::optional<nlohmann::json>> GetDatasource(const std::string& uid);
  /// GET /api/datasources: every datasource of the org.
  core::Result<nlohmann::json> ListDatasources();
  /// POST /api/datasources.
  core::Result<void> CreateDatasource(const nlohmann::json& body);
  /// PUT /api/datasources/uid/{uid} (no version sent: the update is forced).
  core::Result<void> UpdateDatasource(const std::string& uid, const nlohmann::json& body);
  /// DELETE /api/datasources/uid/{uid}; a 404 counts as done.
  core::Result<void> DeleteDatasource(const std::string& uid);
  /// GET /api/datasources/uid/{uid}/health. A failing check (400 with status "ERROR") is a
  /// DatasourceHealth with ok false, not an Error.
  core::Result<DatasourceHealth> CheckDatasourceHealth(const std::string& uid);

  /// GET /api/folders/{uid}; nullopt on 404.
  core::Result<std::optional<nlohmann::json>> GetFolder(const std::string& uid);
  /// POST /api/folders {uid, title, parentUid?}.
  core::Result<void> CreateFolder(const nlohmann::json& body);
  /// PUT /api/folders/{uid} {title, overwrite: true}.
  core::Result<void> UpdateFolder(const std::string& uid, const std::string& title);
  /// POST /api/folders/{uid}/move {parentUid} ("" = top level).
  core::Result<void> MoveFolder(const std::string& uid, const std::string& parent_uid);
  /// DELETE /api/folders/{uid}?forceDeleteRules=false; a 404 counts as done.
  core::Result<void> DeleteFolder(const std::string& uid);

  /// GET /api/dashboards/uid/{uid}: {dashboard, meta}; nullopt on 404.
  core::Result<std::optional<nlohmann::json>> GetDashboard(const std::string& uid);
  /// The same answer as GetDashboard, unparsed (see PeekDashboard); nullopt on 404.
  core::Result<std::optional<std::string>> GetDashboardText(const std::string& uid);
  /// GET /api/search?type=dash-db&tag=`tag`, every page: [{uid, title, folderUid, tags, ...}].
  core::Result<nlohmann::json> SearchDashboardsByTag(const std::string& tag);
  /// GET /api/search?type=dash-db&folderUIDs=`folder_uid`: the dashboards directly in a folder.
  core::Result<nlohmann::json> SearchDashboardsInFolder(const std::string& folder_uid);
  /// POST /api/dashboards/db {dashboard (id null), folderUid, overwrite: true, message}.
  /// Returns the dashboard's id and new version from Grafana's answer (0 when absent).
  core::Result<SavedDashboard> SaveDashboard(const nlohmann::json& dashboard,
                                             const std::string& folder_uid,
                                             const std::string& message);
  /// DELETE /api/dashboards/uid/{uid}; a 404 counts as done.
  core::Result<void> DeleteDashboard(const std::string& uid);

  /// GET /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}; nullopt on 404.
  core::Result<std::optional<nlohmann::json>> GetRuleGroup(const std::string& folder_uid,
                                                           const std::string& group);
  /// PUT /api/v1/provisioning/folder/{folderUid}/rule-groups/{group} (creates or replaces).
  core::Result<void> PutRuleGroup(const std::string& folder_uid,
                                  const std::string& group,
                                  const nlohmann::json& body);
  /// DELETE /api/v1/provisioning/alert-rules/{uid}; a 404 counts as done.
  core::Result<void> DeleteAlertRule(const std::string& uid);

  /// GET /api/v1/provisioning/contact-points: an array.
  core::Result<nlohmann::json> ListContactPoints();
  /// POST /api/v1/provisioning/contact-points.
  core::Result<void> CreateContactPoint(const nlohmann::json& body);
  /// PUT /api/v1/provisioning/contact-points/{uid}.
  core::Result<void> UpdateContactPoint(const std::string& uid, const nlohmann::json& body);
  /// DELETE /api/v1/provisioning/contact-points/{uid}; a 404 counts as done.
  core::Result<void> DeleteContactPoint(const std::string& uid);

  /// GET /api/v1/provisioning/policies: the whole tree.
  core::Result<nlohmann::json> GetPolicyTree();
  /// PUT /api/v1/provisioning/policies with the whole tree.
  core::Result<void> PutPolicyTree(const nlohmann::json& tree);

  // Reads used to import an existing Grafana (obsforge import).

  /// GET /api/health: {database, version, commit}.
  core::Result<nlohmann::json> GetHealth();
  /// GET /api/folders?parentUid=`parent_uid`, every page: the folders directly under a folder
  /// ("" = the top level) as [{uid, title, parentUid?}].
  core::Result<nlohmann::json> ListFolders(const std::string& parent_uid);
  /// GET /api/search?type=dash-db, every page: every dashboard [{uid, title, folderUid, ...}].
  core::Result<nlohmann::json> SearchDashboards();
  /// GET /api/v1/provisioning/alert-rules: every Grafana-managed alert rule.
  core::Result<nlohmann::json> ListAlertRules();
  /// GET /api/v1/provisioning/mute-timings.
  core::Result<nlohmann::json> ListMuteTimings();
  /// GET /api/v1/provisioning/templates.
  core::Result<nlohmann::json> ListTemplates();

  /// Number of write requests (not GET) sent so far, retries not counted.
  int writes() const { return writes_.load(); }

 private:
  // Sends one request with auth/org/provenance headers; `what` names the object for errors.
  // Statuses in `accept` are returned as responses; anything else is an Error.
  core::Result<http::Response> Call(const std::string& method,
                                    const std::string& path,
                                    const nlohmann::json* body,
                                    const std::string& what,
                                    std::initializer_list<int> accept,
                                    bool provisioning_write = false);
  core::Result<http::Response> CallRaw(const std::string& method,
                                       const std::string& path,
                                       std::string body,
                                       const std::string& what,
                                       std::initializer_list<int> accept,
                                       bool provisioning_write);
  core::Result<nlohmann::json> Search(const std::vector<std::pair<std::string, std::string>>& query,
                                      const std::string& what);
  core::Result<std::optional<nlohmann::json>> GetOptional(const std::string& path,
                                                          const std::string& what);
  core::Result<nlohmann::json> GetJson(const std::string& path, const std::string& what);
  core::Result<void> Write(const std::string& method,
                           const std::string& path,
                           const nlohmann::json* body,
                           const std::string& what,
                           bool provisioning_write = false,
                           bool missing_ok = false);

  GrafanaOptions options_;
  http::HttpClient& http_;
  std::atomic<int> writes_{0};
};

}  // namespace obsforge::provision
