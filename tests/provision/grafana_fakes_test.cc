#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fs.h"
#include "provision/desired.h"
#include "provision/fakes_fixture.h"
#include "provision/test_bundle.h"
#include "render/dashboards.h"
#include "support/generated_dashboard.h"
#include "support/paths.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;
using testing::DashboardEntry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeBundle;

json Datasources() {
  return json::array({{{"uid", "tokpulse-prometheus"},
                       {"name", "Prometheus"},
                       {"type", "prometheus"},
                       {"access", "proxy"},
                       {"url", "http://127.0.0.1:9090"},
                       {"isDefault", true},
                       {"jsonData", {{"httpMethod", "POST"}}}},
                      {{"uid", "tokpulse-loki"},
                       {"name", "Loki"},
                       {"type", "loki"},
                       {"access", "proxy"},
                       {"url", "http://127.0.0.1:3100"},
                       {"isDefault", false},
                       {"jsonData", {{"httpHeaderName1", "X-Scope-OrgID"}}},
                       {"secureJsonData", {{"httpHeaderValue1", "tokpulse"}}}}});
}

// Exported dashboards (source path -> text) as the renderer would emit them (datasources
// rewritten by type), in one folder.
struct Exports {
  json objects;
  json dashboards = json::object();
};

Exports ExportObjects(const std::map<std::string, std::string>& files) {
  const std::map<std::string, render::DatasourceRef> refs = {
      {"prometheus", {.uid = "tokpulse-prometheus", .name = "Prometheus", .type = "prometheus"}},
      {"loki", {.uid = "tokpulse-loki", .name = "Loki", .type = "loki"}}};
  Exports exports;
  exports.objects = {{"datasources", Datasources()},
                     {"folders", {{{"uid", "exports"}, {"title", "Exports"}, {"parentUid", ""}}}}};
  json entries = json::array();
  for (const auto& [source, text] : files) {
    auto model =
        render::RewriteDashboard(nlohmann::ordered_json::parse(text), refs, "prometheus", source);
    const std::string uid = model["uid"].get<std::string>();
    entries.push_back(DashboardEntry(uid, "exports"));
    exports.dashboards[uid] = json(model);
  }
  std::sort(entries.begin(), entries.end());
  exports.objects["dashboards"] = entries;
  return exports;
}

// Every dashboard file of `dir`, by "dashboards/<file name>".
std::map<std::string, std::string> DashboardFiles(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    files["dashboards/" + file.path().filename().string()] = core::ReadFile(file.path());
  }
  return files;
}

// Every datasource reference in `value`, as (type, uid) or the plain string.
void CollectRefs(const json& value, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if (key == "datasource" && child.is_object() && child.contains("uid")) {
        out.push_back(child.value("type", std::string("?")) + "=" + child["uid"].dump());
      } else if (key == "datasource" && child.is_string()) {
        out.push_back(child.get<std::string>());
      } else {
        CollectRefs(child, out);
      }
    }
  } else if (value.is_array()) {
    for (const auto& child : value) {
      CollectRefs(child, out);
    }
  }
}

using GrafanaProvision = testing::GrafanaFakesTest;

// Provisions `files` into the fake Grafana: every datasource reference resolves, legacy rows keep
// their panels (`legacy_rows` rows expected), and a second apply writes nothing.
class ProvisionExports : public testing::GrafanaFakesTest {
 protected:
  void ProvisionAndResync(const std::map<std::string, std::string>& files,
                          std::size_t legacy_rows) {
    const Exports exports = ExportObjects(files);
    const auto desired =
        LoadDesiredGrafana(MakeBundle(exports.objects, exports.dashboards), owner_);
    ASSERT_EQ(desired.dashboards.size(), files.size());
    auto provisioner = Provisioner(client_, ledger_);
    auto report = provisioner.Apply(desired);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(grafana_.Writes("POST /api/dashboards/db"), static_cast<int>(files.size()));
    EXPECT_EQ(grafana_.Writes("POST /api/datasources"), 2);
    EXPECT_EQ(grafana_.Writes("POST /api/folders"), 1);
    ASSERT_EQ(report->health.size(), 2U);
    EXPECT_TRUE(report->health[0].ok);

    for (const auto& d : desired.dashboards) {
      const auto stored = grafana_.Dashboard(d.uid);
      ASSERT_TRUE(stored.has_value()) << d.uid;
      EXPECT_THAT(stored->dump(), ::testing::Not(HasSubstr("${DS_"))) << d.uid;
      EXPECT_THAT((*stored)["tags"], ::testing::Contains("obsforge:tokpulse/dev"));
      std::vector<std::string> refs;
      CollectRefs(*stored, refs);
      EXPECT_FALSE(refs.empty()) << d.uid;
      for (const auto& ref : refs) {
        const bool resolved = ref == "prometheus=\"tokpulse-prometheus\"" ||
                              ref == "loki=\"tokpulse-loki\"" || ref == "datasource=\"grafana\"" ||
                              ref == "datasource=\"-- Mixed --\"" ||
                              ref == "datasource=\"-- Dashboard --\"" || ref == "-- Grafana --" ||
                              ref.find("=\"${") != std::string::npos;  // datasource variables
        EXPECT_TRUE(resolved) << d.uid << ": " << ref;
      }
    }
    // The schemaVersion 12 export keeps its rows, each with its panels.
    bool saw_rows = false;
    for (const auto& d : desired.dashboards) {
      const auto stored = grafana_.Dashboard(d.uid);
      if (stored->value("schemaVersion", 0) == 12) {
        saw_rows = true;
        ASSERT_TRUE(stored->contains("rows"));
        const json& rows = (*stored)["rows"];
        EXPECT_EQ(rows.size(), legacy_rows);
        for (const auto& row : rows) {
          EXPECT_FALSE(row.value("panels", json::array()).empty());
        }
      }
    }
    EXPECT_TRUE(saw_rows);

    grafana_.ResetCounters();
    auto again = provisioner.Apply(desired);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(grafana_.TotalWrites(), 0) << json(grafana_.server().WriteCounts()).dump();
    EXPECT_TRUE(again->plan.empty());
    EXPECT_EQ(again->writes, 0);
  }
};

TEST_F(ProvisionExports, OwnExportsResolveEveryDatasourceAndResyncWritesNothing) {
  auto files = DashboardFiles(obs_test::ContentDir() / "dashboards");
  files["dashboards/generated-node.inputs.json"] = obs_test::GeneratedExportedDashboard();
  ProvisionAndResync(files, 7);
}

// Extra coverage with the third-party corpus, when present.
TEST_F(ProvisionExports, CorpusDashboardsResolveEveryDatasourceAndResyncWritesNothing) {
  const auto dir = obs_test::CorpusDir() / "dashboards";
  OBS_SKIP_UNLESS_PRESENT(dir);
  ProvisionAndResync(DashboardFiles(dir), 7);
}

json SmallObjects(const std::vector<std::string>& uids) {
  json entries = json::array();
  for (const auto& uid : uids) {
    entries.push_back(DashboardEntry(uid, "tokpulse"));
  }
  return {{"datasources", Datasources()},
          {"folders", {{{"uid", "tokpulse"}, {"title", "TokPulse"}, {"parentUid", ""}}}},
          {"dashboards", entries}};
}

json SmallDashboards(const std::vector<std::string>& uids) {
  json out = json::object();
  for (const auto& uid : uids) {
    out[uid] = {{"title", "Dashboard " + uid},
                {"panels", {{{"id", 1}, {"type", "timeseries"}, {"title", "p"}}}}};
  }
  return out;
}

DesiredGrafana Small(const std::vector<std::string>& uids, const Owner& owner) {
  return LoadDesiredGrafana(MakeBundle(SmallObjects(uids), SmallDashboards(uids)), owner);
}

TEST_F(GrafanaProvision, HandEditIsDriftInPlanAndOverwrittenByApply) {
  auto provisioner = Provisioner(client_, ledger_);
  const auto desired = Small({"api"}, owner_);
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  grafana_.EditDashboard("api", [](json& d) { d["title"] = "Edited by hand"; });
  grafana_.EditDatasource("tokpulse-prometheus", [](json& d) { d["url"] = "http://elsewhere"; });

  auto plan = provisioner.Plan(desired);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::vector<std::string> lines;
  for (const auto& c : plan->changes) {
    lines.push_back(c.Summary());
    for (const auto& d : c.diffs) {
      lines.push_back("  " + d.ToString());
    }
  }
  EXPECT_THAT(lines, ElementsAre("update datasource \"tokpulse-prometheus\" (Prometheus): 1 field",
                                 "  /url: \"http://elsewhere\" -> \"http://127.0.0.1:9090\"",
                                 "update dashboard \"api\" (Dashboard api): 1 field",
                                 "  /title: \"Edited by hand\" -> \"Dashboard api\""));
  grafana_.ResetCounters();
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  EXPECT_EQ(grafana_.TotalWrites(), 2);
  EXPECT_EQ((*grafana_.Dashboard("api"))["title"], "Dashboard api");
  EXPECT_EQ((*grafana_.Datasource("tokpulse-prometheus"))["url"], "http://127.0.0.1:9090");
  auto after = provisioner.Plan(desired);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

// The resync fast path: a dashboard whose desired hash and Grafana version both match the ledger
// is not compared; any save in Grafana (even one that changes nothing) bumps the version, so the
// dashboard is compared again and the ledger learns the new version without a write.
TEST_F(GrafanaProvision, LedgerKeepsGrafanasVersionAndASaveByHandIsComparedAgain) {
  auto provisioner = Provisioner(client_, ledger_);
  const auto desired = Small({"api"}, owner_);
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  const auto version = [&] { return (*grafana_.Dashboard("api"))["version"].get<std::int64_t>(); };
  auto record = ledger_.Find(ObjectKind::kDashboard, "api");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->remote_version, version());
  EXPECT_EQ(record->remote_id, (*grafana_.Dashboard("api"))["id"].get<std::int64_t>());
  EXPECT_GT(record->remote_id, 0);

  // What the resync trusts: an unchanged hash, id and version mean an unchanged dashboard, so a
  // change that (unlike any save in Grafana) kept the version is not even looked at.
  grafana_.EditDashboardKeepingVersion("api", [](json& d) { d["title"] = "Not looked at"; });
  grafana_.ResetCounters();
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  EXPECT_EQ(grafana_.TotalWrites(), 0);
  EXPECT_EQ((*grafana_.Dashboard("api"))["title"], "Not looked at");
  grafana_.EditDashboardKeepingVersion("api", [](json& d) { d["title"] = "Dashboard api"; });

  grafana_.EditDashboard("api", [](json&) {});  // saved unchanged: version + 1
  grafana_.ResetCounters();
  auto resync = provisioner.Apply(desired);
  ASSERT_TRUE(resync.ok()) << resync.error().message;
  EXPECT_EQ(grafana_.TotalWrites(), 0);
  EXPECT_TRUE(resync->plan.empty());
  EXPECT_EQ(ledger_.Find(ObjectKind::kDashboard, "api")->remote_version, version());

  // A ledger from before remote versions were kept (0) also learns it without a write.
  ASSERT_TRUE(ledger_
                  .Record({.kind = ObjectKind::kDashboard,
                           .uid = "api",
                           .content_hash = record->content_hash,
                           .remote_version = 0})
                  .ok());
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  EXPECT_EQ(grafana_.TotalWrites(), 0);
  EXPECT_EQ(ledger_.Find(ObjectKind::kDashboard, "api")->remote_version, version());

  // A stale hash with a matching version (the spec changed) is still compared and written.
  grafana_.EditDashboard("api", [](json& d) { d["title"] = "Edited by hand"; });
  ASSERT_TRUE(ledger_
                  .Record({.kind = ObjectKind::kDashboard,
                           .uid = "api",
                           .content_hash = "stale",
                           .remote_version = version()})
                  .ok());
  auto fixed = provisioner.Apply(desired);
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_EQ(grafana_.Writes("POST /api/dashboards/db"), 1);
  EXPECT_EQ((*grafana_.Dashboard("api"))["title"], "Dashboard api");
  EXPECT_EQ(ledger_.Find(ObjectKind::kDashboard, "api")->content_hash, record->content_hash);

  // Deleted and recreated by hand with the same uid: a new id, the version may match again.
  json recreated = *grafana_.Dashboard("api");
  recreated["title"] = "Recreated by hand";
  recreated["version"] = version();
  recreated.erase("id");
  const std::int64_t old_id = ledger_.Find(ObjectKind::kDashboard, "api")->remote_id;
  grafana_.SeedDashboard(recreated, "tokpulse");
  ASSERT_EQ((*grafana_.Dashboard("api"))["version"].get<std::int64_t>(),
            ledger_.Find(ObjectKind::kDashboard, "api")->remote_version);
  ASSERT_NE((*grafana_.Dashboard("api"))["id"].get<std::int64_t>(), old_id);
  grafana_.ResetCounters();
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  EXPECT_EQ(grafana_.Writes("POST /api/dashboards/db"), 1);
  EXPECT_EQ((*grafana_.Dashboard("api"))["title"], "Dashboard api");
}

TEST_F(GrafanaProvision, ServerErrorBurstIsRetried) {
  auto provisioner = Provisioner(client_, ledger_);
  grafana_.faults().FailNext(2, 503, "overloaded", "/api/dashboards/db");
  auto report = provisioner.Apply(Small({"a", "b"}, owner_));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(grafana_.faults().delivered(), 2);
  EXPECT_TRUE(grafana_.Dashboard("a").has_value());
  EXPECT_TRUE(grafana_.Dashboard("b").has_value());
}

TEST_F(GrafanaProvision, ServerErrorStormFailsNamingTheObject) {
  auto provisioner = Provisioner(client_, ledger_);
  grafana_.faults().FailNext(100, 503, "overloaded", "/api/dashboards/db");
  auto report = provisioner.Apply(Small({"api"}, owner_));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().upstream_status, 503);
  EXPECT_EQ(report.error().message, "dashboard \"api\" in folder \"tokpulse\": POST " +
                                        grafana_.url() +
                                        "/api/dashboards/db: 503 overloaded (after 4 attempts)");
  EXPECT_FALSE(ledger_.Find(ObjectKind::kDashboard, "api").has_value());
}

TEST_F(GrafanaProvision, RateLimitWaitsAsTold) {
  auto provisioner = Provisioner(client_, ledger_);
  grafana_.faults().RateLimitNext(1, 7, "slow down", "/api/folders");
  const auto start = clock_.Monotonic();
  auto report = provisioner.Apply(Small({"api"}, owner_));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_GE(clock_.Monotonic() - start, std::chrono::seconds(7));
  EXPECT_LT(clock_.Monotonic() - start, std::chrono::seconds(8));
}

TEST_F(GrafanaProvision, PruneRemovesOnlyOwnedObjects) {
  auto provisioner = Provisioner(client_, ledger_);
  grafana_.SeedDashboard({{"uid", "theirs"}, {"title", "Theirs"}}, "");
  ASSERT_TRUE(provisioner.Apply(Small({"keep", "drop"}, owner_)).ok());
  EXPECT_EQ(ledger_.size(), 5U);  // 2 datasources, 1 folder, 2 dashboards

  auto objects = SmallObjects({"keep"});
  objects["datasources"].erase(1);  // Loki leaves the spec
  grafana_.ResetCounters();
  auto report =
      provisioner.Apply(LoadDesiredGrafana(MakeBundle(objects, SmallDashboards({"keep"})), owner_));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(grafana_.Writes("DELETE /api/dashboards/uid/{uid}"), 1);
  EXPECT_EQ(grafana_.Writes("DELETE /api/datasources/uid/{uid}"), 1);
  EXPECT_EQ(grafana_.TotalWrites(), 2);
  EXPECT_FALSE(grafana_.Dashboard("drop").has_value());
  EXPECT_FALSE(grafana_.Datasource("tokpulse-loki").has_value());
  EXPECT_TRUE(grafana_.Dashboard("keep").has_value());
  EXPECT_TRUE(grafana_.Dashboard("theirs").has_value());
  EXPECT_FALSE(ledger_.Find(ObjectKind::kDashboard, "drop").has_value());
}

TEST_F(GrafanaProvision, PrunedFolderHoldingForeignDashboardsIsKept) {
  auto provisioner = Provisioner(client_, ledger_);
  auto objects = SmallObjects({"a"});
  objects["folders"].push_back({{"uid", "old"}, {"title", "Old"}, {"parentUid", ""}});
  objects["folders"].push_back({{"uid", "gone"}, {"title", "Gone"}, {"parentUid", ""}});
  ASSERT_TRUE(
      provisioner.Apply(LoadDesiredGrafana(MakeBundle(objects, SmallDashboards({"a"})), owner_))
          .ok());
  grafana_.SeedDashboard({{"uid", "theirs"}, {"title", "Theirs"}}, "old");
  auto plan = provisioner.Plan(Small({"a"}, owner_));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->changes.size(), 1U);
  EXPECT_EQ(plan->changes[0].Summary(), "delete folder \"gone\"");
  EXPECT_THAT(plan->notes, ElementsAre("folder \"old\" left the spec but holds dashboards "
                                       "obsforge does not own: kept"));
  ASSERT_TRUE(provisioner.Apply(Small({"a"}, owner_)).ok());
  EXPECT_TRUE(grafana_.Dashboard("theirs").has_value());
}

TEST_F(GrafanaProvision, PruneFindsMarkedDashboardsTheLedgerForgot) {
  {
    InMemoryLedger first;
    auto provisioner = Provisioner(client_, first);
    ASSERT_TRUE(provisioner.Apply(Small({"keep", "drop"}, owner_)).ok());
  }
  auto provisioner = Provisioner(client_, ledger_);  // an empty ledger: the store was lost
  ASSERT_TRUE(provisioner.Apply(Small({"keep"}, owner_)).ok());
  EXPECT_FALSE(grafana_.Dashboard("drop").has_value());
  EXPECT_TRUE(ledger_.Find(ObjectKind::kDashboard, "keep").has_value());
}

TEST_F(GrafanaProvision, UnownedDashboardWithTheSameUidIsReportedNotReplaced) {
  grafana_.SeedDashboard({{"uid", "api"}, {"title", "Hand made"}}, "");
  auto provisioner = Provisioner(client_, ledger_);
  auto report = provisioner.Apply(Small({"api", "other"}, owner_));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(report.error().message,
            "dashboard \"api\": a dashboard with this uid exists; not owned by obsforge "
            "(tokpulse/dev), left untouched");
  EXPECT_EQ((*grafana_.Dashboard("api"))["title"], "Hand made");
  EXPECT_TRUE(grafana_.Dashboard("other").has_value());
  EXPECT_FALSE(ledger_.Find(ObjectKind::kDashboard, "api").has_value());
}

json AlertingObjects(const std::string& receiver) {
  json objects = SmallObjects({});
  objects["folders"].push_back(
      {{"uid", "tokpulse-alerts"}, {"title", "Alerts"}, {"parentUid", ""}});
  objects["rule_groups"] = {{{"folderUid", "tokpulse-alerts"},
                             {"title", "slo"},
                             {"file", "grafana/alerting/tokpulse-alerts/slo.json"}}};
  objects["contact_points"] = {
      {{"uid", "tokpulse-slack"},
       {"name", receiver},
       {"type", "slack"},
       {"settings", {{"url", {{"secret", "SLACK_URL"}, {"file", "/s/SLACK_URL"}}}}},
       {"disableResolveMessage", false}}};
  objects["policy"] = {{"receiver", receiver}, {"group_by", {"grafana_folder", "alertname"}}};
  return objects;
}

json RuleGroups() {
  const json rule = {{"uid", "tokpulse-availability"},
                     {"title", "Availability"},
                     {"ruleGroup", "slo"},
                     {"folderUID", "tokpulse-alerts"},
                     {"orgID", 1},
                     {"condition", "A"},
                     {"data",
                      {{{"refId", "A"},
                        {"datasourceUid", "tokpulse-prometheus"},
                        {"relativeTimeRange", {{"from", 600}, {"to", 0}}},
                        {"model", {{"refId", "A"}, {"expr", "up == 0"}}}}}},
                     {"noDataState", "NoData"},
                     {"execErrState", "Error"},
                     {"for", "5m"},
                     {"labels", {{"severity", "page"}}}};
  return {
      {"slo",
       {{"title", "slo"}, {"folderUid", "tokpulse-alerts"}, {"interval", 60}, {"rules", {rule}}}}};
}

class GrafanaAlerting : public testing::GrafanaFakesTest,
                        public ::testing::WithParamInterface<bool> {};

TEST_P(GrafanaAlerting, RulesContactPointAndPolicyMergeIdempotently) {
  const bool disable_provenance = GetParam();
  GrafanaClient client(ClientOptions(disable_provenance), retrying_);
  grafana_.SeedContactPoint({{"uid", "ops"},
                             {"name", "ops"},
                             {"type", "email"},
                             {"settings", {{"addresses", "ops@example.com"}}}},
                            "");
  grafana_.SeedPolicies(
      {{"receiver", "ops"},
       {"routes", {{{"receiver", "ops"}, {"object_matchers", {{"team", "=", "ops"}}}}}}},
      "");
  auto provisioner = Provisioner(client, ledger_);
  const auto desired = LoadDesiredGrafana(
      MakeBundle(AlertingObjects("tokpulse-slack"), json::object(), RuleGroups()), owner_);
  auto report = provisioner.Apply(desired);
  ASSERT_TRUE(report.ok()) << report.error().message;

  const auto rule = grafana_.AlertRule("tokpulse-availability");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ((*rule)["provenance"], disable_provenance ? "" : "api");
  EXPECT_EQ((*rule)["labels"]["obsforge_owner"], "tokpulse/dev");
  const json state = grafana_.State();
  const json& routes = state["policies"]["routes"];
  ASSERT_EQ(routes.size(), 2U);
  EXPECT_EQ(routes[0]["receiver"], "tokpulse-slack");
  EXPECT_EQ(routes[0]["object_matchers"],
            json::parse(R"([["obsforge_owner","=","tokpulse/dev"]])"));
  EXPECT_EQ(routes[1]["receiver"], "ops");
  bool slack_stored = false;
  for (const auto& cp : state["contactPoints"]) {
    if (cp["uid"] == "tokpulse-slack") {
      slack_stored = true;
      EXPECT_EQ(cp["settings"]["url"], "https://hooks.slack.example/services/T0/B0/secretvalue");
    }
  }
  EXPECT_TRUE(slack_stored);

  grafana_.ResetCounters();
  auto again = provisioner.Apply(desired);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(grafana_.TotalWrites(), 0) << json(grafana_.server().WriteCounts()).dump();

  // A hand edit of the rule is drift and is put back.
  grafana_.EditAlertRule("tokpulse-availability", [](json& r) { r["for"] = "1h"; });
  auto plan = provisioner.Plan(desired);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->changes.size(), 1U);
  EXPECT_EQ(plan->changes[0].Summary(), "update rule_group \"tokpulse-alerts/slo\" (slo): 1 field");
  EXPECT_EQ(plan->changes[0].diffs[0].ToString(), "/rules/0/for: \"1h\" -> \"5m\"");
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  EXPECT_EQ((*grafana_.AlertRule("tokpulse-availability"))["for"], "5m");
}

INSTANTIATE_TEST_SUITE_P(Provenance, GrafanaAlerting, ::testing::Bool(), [](const auto& info) {
  return info.param ? "Disabled" : "Api";
});

TEST_F(GrafanaProvision, FailingDatasourceHealthIsReportedNotFatal) {
  grafana_.SetDatasourceHealth("tokpulse-loki", false, "Unable to connect with Loki");
  auto provisioner = Provisioner(client_, ledger_);
  auto report = provisioner.Apply(Small({"api"}, owner_));
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->health.size(), 2U);
  EXPECT_TRUE(report->health[0].ok);
  EXPECT_FALSE(report->health[1].ok);
  EXPECT_EQ(report->health[1].message, "Unable to connect with Loki");
  EXPECT_TRUE(grafana_.Dashboard("api").has_value());
}

TEST_F(GrafanaProvision, SecretChangeIsDetectedThroughTheLedgerHash) {
  auto provisioner = Provisioner(client_, ledger_);
  const auto desired = Small({}, owner_);
  ASSERT_TRUE(provisioner.Apply(desired).ok());
  auto objects = SmallObjects({});
  objects["datasources"][1]["secureJsonData"]["httpHeaderValue1"] = "other-tenant";
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(objects), owner_));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->changes.size(), 1U);
  EXPECT_EQ(plan->changes[0].diffs[0].ToString(),
            "/secrets: \"(unknown or changed)\" -> \"<secret>\"");
}

}  // namespace
}  // namespace obsforge::provision
