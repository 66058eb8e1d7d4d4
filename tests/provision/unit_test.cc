#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "provision/dashboard_peek.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/loki_ruler.h"
#include "provision/normalize.h"
#include "provision/test_bundle.h"
#include "support/fake_http_client.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;
using obsforge::testing::FakeHttpClient;
using testing::DashboardEntry;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeBundle;

constexpr const char* kBase = "http://grafana:3000";

std::vector<std::string> Paths(const std::vector<FieldDiff>& diffs) {
  std::vector<std::string> out;
  for (const auto& d : diffs) {
    out.push_back(d.path);
  }
  return out;
}

std::vector<std::string> Messages(const core::InputError& e) {
  std::vector<std::string> out;
  for (const auto& d : e.diagnostics()) {
    out.push_back(d.ToString());
  }
  return out;
}

TEST(DiffJson, ReportsJsonPointersIgnoringKeyOrder) {
  const json before = json::parse(R"({"a":1,"b":{"c/d":[1,2],"e~":"x"},"gone":true})");
  const json after = json::parse(R"({"b":{"e~":"y","c/d":[1,3]},"a":1,"new":null})");
  const auto diffs = DiffJson(before, after);
  EXPECT_THAT(Paths(diffs), ElementsAre("/b/c~1d/1", "/b/e~0", "/new", "/gone"));
  EXPECT_EQ(diffs[1].ToString(), "/b/e~0: \"x\" -> \"y\"");
  EXPECT_EQ(diffs[2].ToString(), "/new: (absent) -> null");
  EXPECT_EQ(diffs[3].ToString(), "/gone: true -> (absent)");
  EXPECT_TRUE(
      DiffJson(json::parse(R"({"x":[1,{"y":2}]})"), json::parse(R"({"x":[1,{"y":2}]})")).empty());
}

TEST(DiffJson, ArrayLengthChangeIsOneDiff) {
  const auto diffs = DiffJson(json::parse(R"({"p":[1]})"), json::parse(R"({"p":[1,2]})"));
  EXPECT_THAT(Paths(diffs), ElementsAre("/p"));
}

TEST(DiffDesiredFields, IgnoresWhatTheServerAdds) {
  const json remote = json::parse(R"({"name":"P","isPaused":false,"jsonData":{"a":1,"b":2}})");
  EXPECT_TRUE(DiffDesiredFields(remote, json::parse(R"({"name":"P","jsonData":{"a":1}})")).empty());
  EXPECT_THAT(Paths(DiffDesiredFields(remote, json::parse(R"({"jsonData":{"a":2,"c":3}})"))),
              ElementsAre("/jsonData/a", "/jsonData/c"));
}

TEST(Normalize, StripsServerManagedFields) {
  const json remote = json::parse(
      R"({"id":3,"uid":"u","version":7,"orgId":1,"readOnly":false,"slug":"x","provenance":"api",
          "secureJsonFields":{"p":true},"created":"t","updated":"t","name":"n",
          "rules":[{"id":9,"uid":"r","orgID":1,"updated":"t","provenance":"api","title":"T"}]})");
  EXPECT_EQ(StripServerFields(remote),
            json::parse(R"({"uid":"u","name":"n","rules":[{"uid":"r","title":"T"}]})"));
  EXPECT_EQ(NormalizeDashboard(json::parse(R"({"id":4,"version":2,"iteration":9,"title":"t"})")),
            json::parse(R"({"title":"t"})"));
}

const Owner kOwner{.stack = "tokpulse", .env = "dev"};

json Objects() {
  return {{"datasources",
           {{{"uid", "tokpulse-prometheus"},
             {"name", "Prometheus"},
             {"type", "prometheus"},
             {"url", "http://127.0.0.1:9090"}}}},
          {"folders", {{{"uid", "tokpulse"}, {"title", "TokPulse"}, {"parentUid", ""}}}},
          {"dashboards", {DashboardEntry("api", "tokpulse")}},
          {"rule_groups", json::array()},
          {"contact_points",
           {{{"uid", "tokpulse-slack"},
             {"name", "tokpulse-slack"},
             {"type", "slack"},
             {"settings",
              {{"url", {{"secret", "SLACK_URL"}, {"file", "/var/secrets/SLACK_URL"}}},
               {"title", "x"}}}}}},
          {"policy", {{"receiver", "tokpulse-slack"}, {"group_by", {"alertname"}}}}};
}

json Dashboards() {
  return {{"api", {{"title", "API"}, {"id", 17}, {"version", 3}}}};
}

TEST(LoadDesiredGrafana, AddsOwnershipMarkersAndFindsSecrets) {
  const auto desired = LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner);
  ASSERT_EQ(desired.size(), 5U);
  EXPECT_EQ(desired.datasources[0].body["jsonData"]["obsforgeOwner"], "tokpulse/dev");
  const json& dash = desired.dashboards[0].body;
  EXPECT_EQ(dash["tags"], json::array({"obsforge:tokpulse/dev"}));
  EXPECT_TRUE(dash["id"].is_null());
  EXPECT_FALSE(dash.contains("version"));
  EXPECT_EQ(dash["uid"], "api");
  EXPECT_EQ(desired.dashboards[0].folder_uid, "tokpulse");
  ASSERT_EQ(desired.contact_points[0].secrets.size(), 1U);
  EXPECT_EQ(desired.contact_points[0].secrets[0].pointer, "/settings/url");
  EXPECT_EQ(desired.contact_points[0].secrets[0].ref.name, "SLACK_URL");
  EXPECT_EQ(desired.policy->body["object_matchers"],
            json::parse(R"([["obsforge_owner","=","tokpulse/dev"]])"));
}

TEST(LoadDesiredGrafana, MissingDashboardFileIsAnInputError) {
  render::Bundle bundle;
  bundle.Add("grafana/objects.json",
             json{{"dashboards", {DashboardEntry("api", "tokpulse")}}}.dump());
  try {
    LoadDesiredGrafana(bundle, kOwner);
    FAIL() << "no exception";
  } catch (const core::InputError& e) {
    EXPECT_THAT(
        Messages(e),
        ElementsAre("grafana/objects.json: dashboards[0].file: names "
                    "\"grafana/dashboards/tokpulse/api.json\", which is not in the bundle"));
  }
}

TEST(ResolveBody, MissingSecretNamesTheReferenceNeverAValue) {
  const auto desired = LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner);
  const auto& cp = desired.contact_points[0];
  auto missing = ResolveBody(cp, [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("contact_point \"tokpulse-slack\": "));
  EXPECT_THAT(missing.error().message, HasSubstr("SLACK_URL"));
  auto ok = ResolveBody(cp, [](const std::string& name) -> std::optional<std::string> {
    return name == "SLACK_URL" ? std::optional<std::string>("https://hooks.example/T1")
                               : std::nullopt;
  });
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["settings"]["url"], "https://hooks.example/T1");
}

TEST(PeekDashboard, ReadsOnlyTheDashboardVersionAndTheMetaFolder) {
  const auto peek = PeekDashboard(
      R"({"meta":{"version":99,"folderUid":"ops","nested":{"folderUid":"no"}},)"
      R"("dashboard":{"panels":[{"version":5,"id":4,"folderUid":"no"}],"version":7,"id":31,)"
      R"("templating":{"version":3}}})");
  ASSERT_TRUE(peek.has_value());
  EXPECT_EQ(peek->version, 7);
  EXPECT_EQ(peek->id, 31);
  EXPECT_EQ(peek->folder_uid, "ops");

  const auto general = PeekDashboard(R"({"dashboard":{"title":"x"},"meta":{}})");
  ASSERT_TRUE(general.has_value());
  EXPECT_EQ(general->version, 0);
  EXPECT_EQ(general->id, 0);
  EXPECT_EQ(general->folder_uid, "");

  EXPECT_FALSE(PeekDashboard("[1,2]").has_value());
  EXPECT_FALSE(PeekDashboard(R"({"dashboard":{"version":7})").has_value());  // truncated
  EXPECT_FALSE(PeekDashboard("<html>502 Bad Gateway</html>").has_value());
}

TEST(GrafanaClient, SaveDashboardReturnsGrafanasIdAndNewVersion) {
  FakeHttpClient http;
  http.Enqueue("POST", std::string(kBase) + "/api/dashboards/db",
               FakeHttpClient::Json(200, R"({"id":3,"uid":"d","status":"success","version":4})"));
  http.Enqueue("POST", std::string(kBase) + "/api/dashboards/db", FakeHttpClient::Json(200, "{}"));
  GrafanaClient client({.base_url = kBase}, http);
  auto saved = client.SaveDashboard({{"uid", "d"}}, "f", "m");
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  EXPECT_EQ(saved->id, 3);
  EXPECT_EQ(saved->version, 4);
  auto no_version = client.SaveDashboard({{"uid", "d"}}, "f", "m");
  ASSERT_TRUE(no_version.ok());
  EXPECT_EQ(no_version->id, 0);
  EXPECT_EQ(no_version->version, 0);
}

TEST(GrafanaClient, SendsTokenOrgAndProvenanceAlways) {
  FakeHttpClient http;
  http.OnUnmatched([](const http::Request&) { return FakeHttpClient::Json(202, "{}"); });
  GrafanaClient client({.base_url = kBase,
                        .token = core::Secret("glsa_token"),
                        .org_id = 2,
                        .disable_provenance = true},
                       http);
  ASSERT_TRUE(client.PutPolicyTree(json::object()).ok());
  ASSERT_TRUE(client.SaveDashboard({{"uid", "d"}}, "f", "m").ok());
  const auto requests = http.requests();
  ASSERT_EQ(requests.size(), 2U);
  const http::Response as_headers{.headers = requests[0].headers};
  EXPECT_EQ(as_headers.Header("Authorization"), "Bearer glsa_token");
  EXPECT_EQ(as_headers.Header("X-Grafana-Org-Id"), "2");
  EXPECT_EQ(as_headers.Header("X-Disable-Provenance"), "true");
  // Only alerting-provisioning writes carry it.
  EXPECT_EQ(http::Response{.headers = requests[1].headers}.Header("X-Disable-Provenance"), "");
  EXPECT_EQ(
      json::parse(requests[1].body),
      json::parse(R"({"dashboard":{"uid":"d"},"folderUid":"f","overwrite":true,"message":"m"})"));
  EXPECT_EQ(client.writes(), 2);
}

TEST(GrafanaClient, BasicAuthAndProvenanceNever) {
  FakeHttpClient http;
  http.OnUnmatched([](const http::Request&) { return FakeHttpClient::Json(202, "{}"); });
  GrafanaClient client(
      {.base_url = kBase, .basic_user = "admin", .basic_password = core::Secret("admin")}, http);
  ASSERT_TRUE(client.PutPolicyTree(json::object()).ok());
  const http::Response r{.headers = http.requests()[0].headers};
  EXPECT_EQ(r.Header("Authorization"), "Basic YWRtaW46YWRtaW4=");
  EXPECT_EQ(r.Header("X-Disable-Provenance"), "");
  EXPECT_EQ(r.Header("X-Grafana-Org-Id"), "");
}

TEST(GrafanaClient, FailureNamesTheObject) {
  FakeHttpClient http;
  http.Enqueue("POST", std::string(kBase) + "/api/dashboards/db",
               FakeHttpClient::Json(400, R"({"message":"uid too long, max 40 characters"})"));
  GrafanaClient client({.base_url = kBase, .token = core::Secret("secret-token")}, http);
  auto r = client.SaveDashboard({{"uid", "tokpulse-api"}}, "tokpulse", "m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::kUpstream);
  EXPECT_EQ(r.error().upstream_status, 400);
  EXPECT_EQ(r.error().message,
            "dashboard \"tokpulse-api\" in folder \"tokpulse\": POST "
            "http://grafana:3000/api/dashboards/db: 400 "
            "{\"message\":\"uid too long, max 40 characters\"}");
  EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr("secret-token")));
}

TEST(GrafanaClient, FailingDatasourceHealthIsAResultNotAnError) {
  FakeHttpClient http;
  http.Enqueue("GET", std::string(kBase) + "/api/datasources/uid/p/health",
               FakeHttpClient::Json(400, R"({"status":"ERROR","message":"connection refused"})"));
  GrafanaClient client({.base_url = kBase}, http);
  auto health = client.CheckDatasourceHealth("p");
  ASSERT_TRUE(health.ok());
  EXPECT_FALSE(health->ok);
  EXPECT_EQ(health->message, "connection refused");
}

// An empty Grafana: every GET is a 404 or an empty list.
void EmptyGrafana(FakeHttpClient& http) {
  const std::string b = kBase;
  http.OnUnmatched([](const http::Request& r) {
    return r.method == "GET" ? FakeHttpClient::Json(404, R"({"message":"not found"})")
                             : FakeHttpClient::Json(200, "{}");
  });
  http.On("GET", b + "/api/v1/provisioning/contact-points",
          [](const http::Request&) { return FakeHttpClient::Json(200, "[]"); });
  http.On("GET", b + "/api/v1/provisioning/policies", [](const http::Request&) {
    return FakeHttpClient::Json(200, R"({"receiver":"default","routes":[{"receiver":"ops"}]})");
  });
  http.On("GET", b + "/api/search",
          [](const http::Request&) { return FakeHttpClient::Json(200, "[]"); });
  http.On("GET", b + "/api/datasources",
          [](const http::Request&) { return FakeHttpClient::Json(200, "[]"); });
}

core::EnvLookup Env() {
  return [](const std::string&) -> std::optional<std::string> { return "https://hooks/x"; };
}

TEST(GrafanaProvisionerPlan, EverythingIsCreatedInApplyOrder) {
  FakeHttpClient http;
  EmptyGrafana(http);
  GrafanaClient client({.base_url = kBase}, http);
  InMemoryLedger ledger;
  GrafanaProvisioner provisioner({.owner = kOwner}, client, ledger, Env());
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::vector<std::string> summaries;
  for (const auto& c : plan->changes) {
    summaries.push_back(c.Summary());
  }
  EXPECT_THAT(summaries,
              ElementsAre("create datasource \"tokpulse-prometheus\" (Prometheus)",
                          "create folder \"tokpulse\" (TokPulse)", "create dashboard \"api\" (API)",
                          "create contact_point \"tokpulse-slack\"",
                          "create policy \"policy\" (notification policy of tokpulse/dev)"));
  EXPECT_EQ(http.CountWrites(), 0U);
}

TEST(GrafanaProvisionerPlan, UnownedDashboardIsAConflictNotAChange) {
  FakeHttpClient http;
  EmptyGrafana(http);
  http.On("GET", std::string(kBase) + "/api/dashboards/uid/api", [](const http::Request&) {
    return FakeHttpClient::Json(
        200, R"({"dashboard":{"id":3,"uid":"api","title":"Someone else's","tags":[]},
                 "meta":{"folderUid":"tokpulse"}})");
  });
  GrafanaClient client({.base_url = kBase}, http);
  InMemoryLedger ledger;
  GrafanaProvisioner provisioner({.owner = kOwner}, client, ledger, Env());
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->conflicts.size(), 1U);
  EXPECT_EQ(plan->conflicts[0].message,
            "dashboard \"api\": a dashboard with this uid exists; not owned by obsforge "
            "(tokpulse/dev), left untouched");
  for (const auto& c : plan->changes) {
    EXPECT_NE(c.kind, ObjectKind::kDashboard);
  }
}

TEST(GrafanaProvisionerPlan, AnOddAnswerIsAnErrorNeverACrash) {
  // A dashboard read on a ParallelFor worker, and a rule group read on the caller's thread, both
  // answered in a shape no one expects: an error naming Grafana, not an exception.
  FakeHttpClient http;
  EmptyGrafana(http);
  http.On("GET", std::string(kBase) + "/api/dashboards/uid/api", [](const http::Request&) {
    return FakeHttpClient::Json(200, R"({"dashboard":5,"meta":{}})");
  });
  GrafanaClient client({.base_url = kBase}, http);
  InMemoryLedger ledger;
  ASSERT_TRUE(ledger.Record({.kind = ObjectKind::kDashboard, .uid = "api"}).ok());
  GrafanaProvisioner provisioner({.owner = kOwner}, client, ledger, Env());
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, core::ErrorCode::kUpstream);
  EXPECT_EQ(plan.error().message,
            "dashboard \"api\": Grafana answered with a dashboard that is not a JSON object");

  // A rule group that left the spec, answered with a list instead of a group.
  ASSERT_TRUE(ledger.Forget(ObjectKind::kDashboard, "api").ok());
  ASSERT_TRUE(ledger.Record({.kind = ObjectKind::kRuleGroup, .uid = "tokpulse/g"}).ok());
  http.On("GET", std::string(kBase) + "/api/dashboards/uid/api",
          [](const http::Request&) { return FakeHttpClient::Json(404, R"({"message":"nf"})"); });
  http.On("GET", std::string(kBase) + "/api/v1/provisioning/folder/tokpulse/rule-groups/g",
          [](const http::Request&) { return FakeHttpClient::Json(200, "[1,2]"); });
  auto applied = provisioner.Apply(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, core::ErrorCode::kUpstream);
  EXPECT_THAT(applied.error().message, HasSubstr("grafana: unexpected answer: "));
  EXPECT_EQ(http.CountWrites(), 0U);
}

TEST(GrafanaProvisionerPlan, OwnedDashboardDriftShowsFieldDiffs) {
  FakeHttpClient http;
  EmptyGrafana(http);
  http.On("GET", std::string(kBase) + "/api/dashboards/uid/api", [](const http::Request&) {
    return FakeHttpClient::Json(
        200, R"({"dashboard":{"id":3,"uid":"api","version":9,"title":"Edited by hand",
                              "tags":["obsforge:tokpulse/dev"]},"meta":{"folderUid":""}})");
  });
  GrafanaClient client({.base_url = kBase}, http);
  InMemoryLedger ledger;
  GrafanaProvisioner provisioner({.owner = kOwner}, client, ledger, Env());
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const auto it = std::find_if(plan->changes.begin(), plan->changes.end(),
                               [](const auto& c) { return c.kind == ObjectKind::kDashboard; });
  ASSERT_NE(it, plan->changes.end());
  EXPECT_EQ(it->action, ChangeAction::kUpdate);
  ASSERT_EQ(it->diffs.size(), 2U);
  EXPECT_EQ(it->diffs[0].ToString(), "/title: \"Edited by hand\" -> \"API\"");
  EXPECT_EQ(it->diffs[1].ToString(), "/meta/folderUid: \"\" -> \"tokpulse\"");
}

TEST(GrafanaProvisionerPlan, MissingSecretFailsNamingTheReference) {
  FakeHttpClient http;
  EmptyGrafana(http);
  GrafanaClient client({.base_url = kBase}, http);
  InMemoryLedger ledger;
  GrafanaProvisioner provisioner({.owner = kOwner}, client, ledger,
                                 [](const std::string&) { return std::nullopt; });
  auto plan = provisioner.Plan(LoadDesiredGrafana(MakeBundle(Objects(), Dashboards()), kOwner));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().message, HasSubstr("contact_point \"tokpulse-slack\""));
  EXPECT_THAT(plan.error().message, HasSubstr("SLACK_URL"));
}

render::Bundle LokiBundle(const std::string& yaml) {
  render::Bundle bundle;
  bundle.Add("loki/rules/acme/rules.yaml", yaml);
  return bundle;
}

TEST(LoadLokiGroups, ReportsEveryProblemBeforeAnythingIsSent) {
  const std::string yaml = R"(groups:
  - name: a
    interval: 1x
    rules:
      - alert: A
        record: B
        expr: up
      - alert: C
        for: soon
      - record: r
        expr: sum(x)
        for: 5m
  - name: a
    rules: []
)";
  try {
    LoadLokiGroups(LokiBundle(yaml));
    FAIL() << "no exception";
  } catch (const core::InputError& e) {
    EXPECT_THAT(Messages(e),
                ElementsAre("loki/rules/acme/rules.yaml: groups[0].interval: must be a duration "
                            "such as 5m or 1h30m",
                            "loki/rules/acme/rules.yaml: groups[0].rules[0]: needs exactly one of "
                            "alert and record",
                            "loki/rules/acme/rules.yaml: groups[0].rules[1].expr: must be a "
                            "non-empty string",
                            "loki/rules/acme/rules.yaml: groups[0].rules[1].for: must be a "
                            "duration such as 5m or 1h30m",
                            "loki/rules/acme/rules.yaml: groups[0].rules[2].for: is only allowed "
                            "on alerting rules",
                            "loki/rules/acme/rules.yaml: groups[1].name: group \"a\" is defined "
                            "twice",
                            "loki/rules/acme/rules.yaml: groups[1].rules: must be a non-empty "
                            "list"));
  }
}

TEST(LoadLokiGroups, GroupsByTenant) {
  const auto groups = LoadLokiGroups(LokiBundle(
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: 5m\n"));
  ASSERT_EQ(groups.at("acme").size(), 1U);
  EXPECT_EQ(groups.at("acme")[0].name, "g");
  EXPECT_EQ(groups.at("acme")[0].tenant, "acme");
}

TEST(LokiRuler, DurationsCompareByValueAndDiffsShowLokisSpelling) {
  // Loki answers durations in its own spelling ("1m" for "60s", "1h30m" for "90m").
  FakeHttpClient http;
  http.On("GET", "http://loki:3100/loki/api/v1/rules/shop", [](const http::Request&) {
    return FakeHttpClient::Reply(200,
                                 "shop:\n  - name: g\n    interval: 1m\n    rules:\n"
                                 "      - alert: A\n        expr: up == 0\n        for: 1h30m\n");
  });
  InMemoryLedger ledger;
  LokiRuler ruler({.base_url = "http://loki:3100", .rule_namespace = "shop"}, http, ledger);
  const auto same = ruler.Plan(
      LoadLokiGroups(LokiBundle("groups:\n  - name: g\n    interval: 60s\n    rules:\n"
                                "      - alert: A\n        expr: up == 0\n        for: 90m\n")));
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_TRUE(same->empty());
  const auto changed = ruler.Plan(
      LoadLokiGroups(LokiBundle("groups:\n  - name: g\n    interval: 120s\n    rules:\n"
                                "      - alert: A\n        expr: up == 0\n        for: 90m\n")));
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  ASSERT_EQ(changed->size(), 1U);
  ASSERT_EQ((*changed)[0].diffs.size(), 1U);
  EXPECT_EQ((*changed)[0].diffs[0].ToString(), "/interval: \"1m\" -> \"2m\"");
}

}  // namespace
}  // namespace obsforge::provision
