#pragma once

// A Grafana built by hand through its HTTP API, as a team builds one before obsforge: two
// datasources (one with a stored password), a folder tree Shop > Payments and Platform,
// dashboards in each (one posted with its export's unresolved __inputs, one provisioned from
// files), a Grafana-managed alert rule and a Slack contact point made in the UI (no provenance).

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_grafana.h"
#include "fakes/test_client.h"

namespace obsforge::importer::testing {

inline constexpr const char* kDatasourcePassword = "ds-s3cr3t-basic-pw";
inline constexpr const char* kSlackUrl =
    "https://hooks.slack.com/services/T9/B9/s3cr3tQQQQQQQQQQQQQQ";

inline nlohmann::json PanelOn(const nlohmann::json& datasource, const std::string& expr) {
  return {{"id", 1},
          {"type", "timeseries"},
          {"title", "Requests"},
          {"datasource", datasource},
          {"targets", {{{"refId", "A"}, {"datasource", datasource}, {"expr", expr}}}}};
}

inline nlohmann::json RuleData(const std::string& datasource_uid, const std::string& expr) {
  return nlohmann::json::array(
      {{{"refId", "A"},
        {"relativeTimeRange", {{"from", 600}, {"to", 0}}},
        {"datasourceUid", datasource_uid},
        {"model", {{"refId", "A"}, {"expr", expr}}}},
       {{"refId", "B"},
        {"datasourceUid", "__expr__"},
        {"model",
         {{"refId", "B"},
          {"type", "threshold"},
          {"expression", "A"},
          {"conditions", {{{"evaluator", {{"type", "gt"}, {"params", {0}}}}}}}}}}});
}

/// Fills `grafana` as described above, through its API with admin/admin; counters reset after.
class HandBuiltGrafana {
 public:
  explicit HandBuiltGrafana(fakes::FakeGrafana& grafana) : grafana_(grafana) { Build(); }

 private:
  void Build() {
    // Datasources as an admin adds them in the UI.
    Api("POST", "/api/datasources",
        {{"uid", "prom-main"},
         {"name", "Prometheus"},
         {"type", "prometheus"},
         {"access", "proxy"},
         {"url", "http://prometheus:9090"},
         {"isDefault", true},
         {"basicAuth", true},
         {"basicAuthUser", "grafana"},
         {"jsonData", {{"httpMethod", "POST"}, {"timeInterval", "15s"}}},
         {"secureJsonData", {{"basicAuthPassword", kDatasourcePassword}}}});
    Api("POST", "/api/datasources",
        {{"uid", "loki-main"},
         {"name", "Loki"},
         {"type", "loki"},
         {"access", "proxy"},
         {"url", "http://loki:3100"},
         {"jsonData", {{"maxLines", 1000}}}});
    // A folder tree: Shop > Payments, and Platform.
    Api("POST", "/api/folders", {{"uid", "shop"}, {"title", "Shop"}});
    Api("POST", "/api/folders",
        {{"uid", "shop-payments"}, {"title", "Payments"}, {"parentUid", "shop"}});
    Api("POST", "/api/folders", {{"uid", "platform"}, {"title", "Platform"}});
    // Dashboards: one per folder, one in General, one posted with its export's __inputs left in.
    SaveDashboard({{"uid", "shop-overview"},
                   {"title", "Shop overview"},
                   {"tags", {"shop"}},
                   {"panels",
                    {PanelOn({{"type", "prometheus"}, {"uid", "prom-main"}},
                             "sum(rate(http_requests_total[5m]))")}}},
                  "shop");
    SaveDashboard({{"__inputs",
                    {{{"name", "DS_PROMETHEUS"},
                      {"label", "Prometheus"},
                      {"type", "datasource"},
                      {"pluginId", "prometheus"}}}},
                   {"__requires", {{{"type", "datasource"}, {"id", "prometheus"}}}},
                   {"uid", "payments"},
                   {"title", "Payments"},
                   {"panels",
                    {PanelOn({{"type", "prometheus"}, {"uid", "${DS_PROMETHEUS}"}},
                             "sum(rate(payments_total[5m]))")}}},
                  "shop-payments");
    SaveDashboard(
        {{"uid", "node"},
         {"title", "Node"},
         {"panels", {PanelOn({{"type", "loki"}, {"uid", "loki-main"}}, "{job=\"varlogs\"}")}}},
        "platform");
    SaveDashboard({{"uid", "home"}, {"title", "Home"}, {"panels", nlohmann::json::array()}}, "");
    SaveDashboard({{"uid", "welcome"}, {"title", "Welcome"}, {"panels", nlohmann::json::array()}},
                  "");
    grafana_.SeedDashboard(
        {{"uid", "from-files"}, {"title", "From files"}, {"panels", nlohmann::json::array()}},
        "platform", /*provisioned=*/true);
    // Alert rules and a contact point made in the UI (no provenance).
    Api("PUT", "/api/v1/provisioning/folder/shop/rule-groups/shop-alerts",
        {{"title", "shop-alerts"},
         {"interval", 60},
         {"rules",
          {{{"uid", "shop-5xx"},
            {"title", "Shop 5xx"},
            {"condition", "B"},
            {"data", RuleData("prom-main", "sum(rate(http_requests_total{code=~\"5..\"}[5m]))")},
            {"noDataState", "OK"},
            {"execErrState", "Alerting"},
            {"for", "5m"},
            {"labels", {{"severity", "critical"}}},
            {"annotations", {{"summary", "The shop answers 5xx"}}}}}}},
        /*ui=*/true);
    Api("POST", "/api/v1/provisioning/contact-points",
        {{"uid", "shop-slack"},
         {"name", "shop-slack"},
         {"type", "slack"},
         {"settings", {{"url", kSlackUrl}, {"recipient", "#shop"}}}},
        /*ui=*/true);
    grafana_.ResetCounters();
  }

  fakes::testing::Reply Api(const std::string& method,
                            const std::string& path,
                            const nlohmann::json& body,
                            bool ui = false) {
    http::Headers headers = {{"Authorization", fakes::testing::BasicAuth("admin", "admin")},
                             {"Content-Type", "application/json"}};
    if (ui) {
      headers.emplace_back("X-Disable-Provenance", "true");
    }
    auto reply = fakes::testing::Call(grafana_.port(), method, path, body.dump(), headers);
    EXPECT_LT(reply.status, 300) << method << " " << path << ": " << reply.body;
    return reply;
  }

  void SaveDashboard(const nlohmann::json& dashboard, const std::string& folder) {
    Api("POST", "/api/dashboards/db", {{"dashboard", dashboard}, {"folderUid", folder}});
  }

  fakes::FakeGrafana& grafana_;
};

}  // namespace obsforge::importer::testing
