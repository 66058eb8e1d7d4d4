#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "fakes/fake_server.h"

namespace obsforge::fakes {

struct GrafanaState;

/// How a FakeGrafana authenticates and identifies itself.
struct GrafanaOptions {
  /// 0 = any free port.
  std::uint16_t port = 0;
  /// Basic auth credentials accepted on /api/*.
  std::string user = "admin";
  std::string password = "admin";
  /// Bearer token accepted on /api/* ("" = none accepted).
  std::string token;
  std::string version = "11.2.0";
  std::string commit = "d9f3b5a0c1";
  /// [folder] max_nested_folder_depth.
  int max_folder_depth = 4;
};

/// A Grafana 11 HTTP API on loopback, following docs/upstream-apis.md §1: health, auth (Basic or
/// Bearer, 401 {"message":"Unauthorized"}), per-org objects by X-Grafana-Org-Id, data sources,
/// nested folders, dashboards (version-mismatch, name-exists, provisioned), search, and the
/// alerting provisioning API with provenance. Test hooks seed, read and hand-edit objects; every
/// write is counted per "METHOD /route/template". Thread-safe; stops in its destructor.
class FakeGrafana {
 public:
  /// Starts serving. Throws Poco::Exception when the port cannot be bound.
  explicit FakeGrafana(GrafanaOptions options = {});
  ~FakeGrafana();
  FakeGrafana(const FakeGrafana&) = delete;
  FakeGrafana& operator=(const FakeGrafana&) = delete;
  FakeGrafana(FakeGrafana&&) = delete;
  FakeGrafana& operator=(FakeGrafana&&) = delete;

  std::uint16_t port() const { return server_->port(); }
  /// "http://127.0.0.1:<port>".
  std::string url() const { return server_->url(); }
  /// Injected faults (5xx bursts, 429, latency, resets).
  FaultPlan& faults() { return server_->faults(); }
  /// The underlying server: write counters (Writes("POST /api/dashboards/db"), TotalWrites(),
  /// WriteCounts(), ResetCounters()).
  FakeServer& server() { return *server_; }
  /// Makes every FakeGrafana constructed from now on (in this process) show each exchange to
  /// `observer` (FakeServer::SetObserver): contract tests check them against Grafana's API
  /// description. An empty function stops it for later ones.
  static void ObserveEveryExchange(FakeServer::Observer observer);
  /// Shorthands for server().Writes/TotalWrites/ResetCounters.
  int Writes(const std::string& key) const { return server_->Writes(key); }
  int TotalWrites() const { return server_->TotalWrites(); }
  void ResetCounters() { server_->ResetCounters(); }

  /// false: /api/health answers 503 with "database":"failing".
  void SetDatabaseHealthy(bool healthy);
  /// What GET /api/datasources/uid/{uid}/health answers for `uid` (default: OK).
  void SetDatasourceHealth(const std::string& uid, bool ok, const std::string& message);

  /// Test hooks: store objects directly, as provisioning from files would (no validation, no
  /// counters). Missing uid/id/version are filled in; the stored object is returned.
  nlohmann::json SeedDatasource(nlohmann::json datasource, int org = 1);
  nlohmann::json SeedFolder(nlohmann::json folder, int org = 1);
  nlohmann::json SeedDashboard(nlohmann::json dashboard,
                               const std::string& folder_uid = "",
                               bool provisioned = false,
                               int org = 1);
  /// `provenance` is "", "api" or "file".
  nlohmann::json SeedAlertRule(nlohmann::json rule, const std::string& provenance, int org = 1);
  nlohmann::json SeedContactPoint(nlohmann::json contact_point,
                                  const std::string& provenance,
                                  int org = 1);
  void SeedPolicies(nlohmann::json tree, const std::string& provenance, int org = 1);
  void SeedTemplate(const std::string& name,
                    const std::string& text,
                    const std::string& provenance,
                    int org = 1);
  nlohmann::json SeedMuteTiming(nlohmann::json timing, const std::string& provenance, int org = 1);

  /// Everything stored for `org`: {"datasources":[… with secureJsonData], "folders":[…],
  /// "dashboards":[{dashboard,folderUid,version,provisioned,message}], "alertRules":[…],
  /// "ruleGroups":[{folderUid,title,interval}], "contactPoints":[…], "policies":{…},
  /// "policiesProvenance":"", "templates":[…], "muteTimings":[…]}.
  nlohmann::json State(int org = 1) const;
  /// The stored dashboard model (with id, uid, version), or nullopt.
  std::optional<nlohmann::json> Dashboard(const std::string& uid, int org = 1) const;
  /// The stored data source including secureJsonData, or nullopt.
  std::optional<nlohmann::json> Datasource(const std::string& uid, int org = 1) const;
  /// The stored alert rule (with provenance), or nullopt.
  std::optional<nlohmann::json> AlertRule(const std::string& uid, int org = 1) const;

  /// Hand edits as a user in the UI would make them; each bumps the object's version.
  /// Throw std::out_of_range when the object does not exist.
  void EditDashboard(const std::string& uid,
                     const std::function<void(nlohmann::json&)>& edit,
                     int org = 1);
  /// Changes a dashboard WITHOUT bumping its version, which Grafana never does: tests use it to
  /// show what a resync trusts. Throws std::out_of_range when the dashboard does not exist.
  void EditDashboardKeepingVersion(const std::string& uid,
                                   const std::function<void(nlohmann::json&)>& edit,
                                   int org = 1);
  void EditDatasource(const std::string& uid,
                      const std::function<void(nlohmann::json&)>& edit,
                      int org = 1);
  void EditFolder(const std::string& uid, const std::string& new_title, int org = 1);
  void EditAlertRule(const std::string& uid,
                     const std::function<void(nlohmann::json&)>& edit,
                     int org = 1);
  void EditContactPoint(const std::string& uid,
                        const std::function<void(nlohmann::json&)>& edit,
                        int org = 1);

 private:
  std::unique_ptr<GrafanaState> state_;
  // Last: destroyed first, so no handler runs while the state is being torn down.
  std::unique_ptr<FakeServer> server_;
};

}  // namespace obsforge::fakes
