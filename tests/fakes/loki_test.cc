#include <filesystem>
#include <fstream>

#include <Poco/DeflatingStream.h>
#include <gtest/gtest.h>

#include "fakes/fake_loki.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::Call;
using testing::Reply;

const http::Headers kTenantA{{"X-Scope-OrgID", "team-a"}};

Reply Push(const FakeLoki& loki, const json& body, const std::string& tenant = "team-a") {
  return Call(loki.port(), "POST", "/loki/api/v1/push", body.dump(),
              {{"X-Scope-OrgID", tenant}, {"Content-Type", "application/json"}});
}

json Stream(const std::string& job, const std::string& ts, const std::string& line) {
  // Explicit arrays: a braced pair of strings would become a JSON object.
  json stream{{"stream", {{"job", job}}}, {"values", json::array({json::array({ts, line})})}};
  return {{"streams", json::array({stream})}};
}

TEST(LokiTest, NotReadyDuringItsStartupPeriod) {
  FakeLoki loki(LokiOptions{.startup = std::chrono::hours(1)});
  auto early = Call(loki.port(), "GET", "/ready");
  EXPECT_EQ(early.status, 503);
  EXPECT_EQ(early.body, "Ingester not ready: waiting for 15s after being ready\n");
  loki.SetReady(true);
  auto later = Call(loki.port(), "GET", "/ready");
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(later.body, "ready\n");
  loki.SetReady(false);
  EXPECT_EQ(Call(loki.port(), "GET", "/ready").status, 503);
}

TEST(LokiTest, ApiNeedsOrgIdWhenAuthEnabled) {
  FakeLoki loki;
  auto reply = Call(loki.port(), "GET", "/loki/api/v1/rules");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body, "no org id\n");  // Go's http.Error (dskit ExtractOrgIDFromHTTPRequest)
  EXPECT_EQ(reply.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Call(loki.port(), "GET", "/api/prom/rules").status, 401);
  auto build = Call(loki.port(), "GET", "/loki/api/v1/status/buildinfo");
  EXPECT_EQ(build.status, 200);
  EXPECT_EQ(build.Json()["version"], "2.9.9");
  EXPECT_NE(Call(loki.port(), "GET", "/metrics").body.find("version=\"2.9.9\"} 1\n"),
            std::string::npos);
}

TEST(LokiTest, AuthDisabledUsesTenantFake) {
  FakeLoki loki(LokiOptions{.auth_enabled = false});
  auto reply =
      Call(loki.port(), "POST", "/loki/api/v1/push",
           Stream("x", "1700000000000000000", "hi").dump(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(loki.Entries("fake").size(), 1U);
}

TEST(LokiTest, PushAndQueryRangePerTenant) {
  FakeLoki loki;
  ASSERT_EQ(Push(loki, Stream("canary", "1700000000000000001", "first")).status, 204);
  ASSERT_EQ(Push(loki, Stream("canary", "1700000000000000002", "second")).status, 204);
  ASSERT_EQ(Push(loki, Stream("other", "1700000000000000003", "third")).status, 204);
  ASSERT_EQ(Push(loki, Stream("canary", "1700000000000000004", "elsewhere"), "team-b").status, 204);

  const std::string range = "&start=1700000000000000000&end=1700000001000000000";
  auto reply =
      Call(loki.port(), "GET", "/loki/api/v1/query_range?query=%7Bjob%3D%22canary%22%7D" + range,
           "", kTenantA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json body = reply.Json();
  EXPECT_EQ(body["status"], "success");
  EXPECT_EQ(body["data"]["resultType"], "streams");
  ASSERT_EQ(body["data"]["result"].size(), 1U);
  EXPECT_EQ(body["data"]["result"][0]["stream"], json({{"job", "canary"}}));
  EXPECT_EQ(body["data"]["result"][0]["values"],
            json::array({json::array({"1700000000000000002", "second"}),
                         json::array({"1700000000000000001", "first"})}));

  auto filtered =
      Call(loki.port(), "GET",
           "/loki/api/v1/"
           "query_range?direction=forward&query=%7Bjob%3D~%22.%2B%22%7D%20%7C%3D%20%22ir%22" +
               range,
           "", kTenantA);
  EXPECT_EQ(filtered.Json()["data"]["result"].size(), 2U);  // "first" and "third"
  auto rfc3339 = Call(loki.port(), "GET",
                      "/loki/api/v1/"
                      "query_range?query=%7Bjob%3D%22canary%22%7D&start=2023-11-14T22:13:20Z&end="
                      "2023-11-14T22:13:21Z",
                      "", {{"X-Scope-OrgID", "team-b"}});
  ASSERT_EQ(rfc3339.Json()["data"]["result"].size(), 1U);
  EXPECT_EQ(rfc3339.Json()["data"]["result"][0]["values"][0][1], "elsewhere");
}

TEST(LokiTest, PushRejectsNumericTimestampsAndAcceptsGzip) {
  FakeLoki loki;
  json numeric = Stream("x", "1700000000000000000", "line");
  numeric["streams"][0]["values"][0][0] = 1700000000000000000LL;
  auto rejected = Push(loki, numeric);
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.body,
            "error parsing push request: timestamps must be strings of unix nanoseconds");

  std::ostringstream compressed;
  {
    Poco::DeflatingOutputStream gzip(compressed, Poco::DeflatingStreamBuf::STREAM_GZIP);
    gzip << Stream("x", "1700000000000000000", "zipped").dump();
    gzip.close();
  }
  auto reply = Call(loki.port(), "POST", "/loki/api/v1/push", compressed.str(),
                    {{"X-Scope-OrgID", "team-a"},
                     {"Content-Type", "application/json"},
                     {"Content-Encoding", "gzip"}});
  EXPECT_EQ(reply.status, 204);
  ASSERT_EQ(loki.Entries("team-a").size(), 1U);
  EXPECT_EQ(loki.Entries("team-a")[0].line, "zipped");
}

TEST(LokiTest, PushNeedsAMediaTypeAndLabels) {
  FakeLoki loki;
  auto untyped = Call(loki.port(), "POST", "/loki/api/v1/push",
                      Stream("x", "1700000000000000000", "l").dump(), kTenantA);
  EXPECT_EQ(untyped.status, 400);
  EXPECT_EQ(untyped.body, "mime: no media type\n");
  auto with_charset =
      Call(loki.port(), "POST", "/loki/api/v1/push", Stream("x", "1700000000000000000", "l").dump(),
           {{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(with_charset.status, 204);
  json unlabelled = Stream("x", "1700000000000000000", "l");
  unlabelled["streams"][0]["stream"] = json::object();
  auto refused = Push(loki, unlabelled);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body, "error at least one label pair is required per stream\n");
}

TEST(LokiTest, InstantQueriesOfLogSelectorsAreRefusedFrom32) {
  const std::string query = "/loki/api/v1/query?query=%7Bjob%3D%22x%22%7D";
  FakeLoki loki29;  // 2.9 (and 3.0, 3.1) evaluate a log selector to streams
  auto streams = Call(loki29.port(), "GET", query, "", kTenantA);
  EXPECT_EQ(streams.status, 200);
  EXPECT_EQ(streams.Json()["data"]["resultType"], "streams");
  FakeLoki loki32(LokiOptions{.version = "3.2.0"});
  auto reply = Call(loki32.port(), "GET", query, "", kTenantA);
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body,
            "log queries are not supported as an instant query type, please change your query to a "
            "range query type\n");
  EXPECT_EQ(Call(loki32.port(), "GET",
                 "/loki/api/v1/query?query=sum(rate(%7Bjob%3D%22x%22%7D%5B1m%5D))", "", kTenantA)
                .status,
            200);
}

TEST(LokiTest, OtlpLogsExistFrom30) {
  const std::string body = R"({"resourceLogs":[]})";
  const http::Headers headers{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/json"}};
  FakeLoki loki29;
  auto missing = Call(loki29.port(), "POST", "/otlp/v1/logs", body, headers);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "404 page not found\n");
  FakeLoki loki30(LokiOptions{.version = "3.0.0"});
  EXPECT_EQ(Call(loki30.port(), "POST", "/otlp/v1/logs", body, headers).status, 204);
}

TEST(LokiTest, RulerLifecycle) {
  FakeLoki loki;
  auto none = Call(loki.port(), "GET", "/loki/api/v1/rules", "", kTenantA);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, "no rule groups found\n");

  const std::string group =
      "name: errors\ninterval: 1m\nrules:\n  - alert: ManyErrors\n    expr: sum(rate({job=\"x\"} "
      "|= \"error\" [5m])) > 1\n    for: 5m\n";
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  auto created = Call(loki.port(), "POST", "/loki/api/v1/rules/stack", group, post);
  EXPECT_EQ(created.status, 202);
  EXPECT_EQ(created.Json(),
            json::parse(R"({"status":"success","data":null,"errorType":"","error":""})"));

  auto all = Call(loki.port(), "GET", "/loki/api/v1/rules", "", kTenantA);
  ASSERT_EQ(all.status, 200);
  const YAML::Node parsed = YAML::Load(all.body);
  EXPECT_EQ(parsed["stack"][0]["name"].as<std::string>(), "errors");
  EXPECT_EQ(parsed["stack"][0]["rules"][0]["alert"].as<std::string>(), "ManyErrors");
  EXPECT_EQ(Call(loki.port(), "GET", "/loki/api/v1/rules/stack", "", kTenantA).status, 200);
  EXPECT_EQ(Call(loki.port(), "GET", "/loki/api/v1/rules/other", "", kTenantA).status, 404);
  auto one = Call(loki.port(), "GET", "/loki/api/v1/rules/stack/errors", "", kTenantA);
  EXPECT_EQ(YAML::Load(one.body)["interval"].as<std::string>(), "1m");
  EXPECT_EQ(Call(loki.port(), "GET", "/api/prom/rules/stack/errors", "", kTenantA).status, 200);
  auto missing = Call(loki.port(), "GET", "/loki/api/v1/rules/stack/nope", "", kTenantA);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body,
            "get rule group user=\"team-a\", namespace=\"stack\", name=\"nope\": group does not "
            "exist\n");
  EXPECT_EQ(
      Call(loki.port(), "GET", "/loki/api/v1/rules", "", {{"X-Scope-OrgID", "team-b"}}).status,
      404);

  EXPECT_EQ(loki.Writes("POST /loki/api/v1/rules/{namespace}"), 1);
  EXPECT_EQ(Call(loki.port(), "DELETE", "/loki/api/v1/rules/stack/errors", "", kTenantA).status,
            202);
  EXPECT_EQ(Call(loki.port(), "DELETE", "/loki/api/v1/rules/stack/errors", "", kTenantA).status,
            404);
  EXPECT_EQ(Call(loki.port(), "POST", "/api/prom/rules/ns2", group, post).status, 202);
  EXPECT_EQ(Call(loki.port(), "DELETE", "/api/prom/rules/ns2", "", kTenantA).status, 202);
  EXPECT_EQ(Call(loki.port(), "DELETE", "/api/prom/rules/ns2", "", kTenantA).body,
            "group namespace does not exist\n");
  EXPECT_TRUE(loki.RuleGroups("team-a").empty());
}

TEST(LokiTest, RulerSendsGroupsBackAsLokiStoresThem) {
  FakeLoki loki;
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  const std::string group =
      "rules:\n"
      "  - expr: sum(rate({job=\"x\"}[5m])) > 1\n"
      "    alert: Zero\n"
      "    for: 0s\n"
      "    keep_firing_for: 5m\n"
      "    labels: {}\n"
      "    annotations: {summary: s}\n"
      "    unknown_key: ignored\n"
      "  - record: job:x:rate5m\n"
      "    expr: sum(rate({job=\"x\"}[5m]))\n"
      "    labels: {b: \"2\", a: \"1\"}\n"
      "  - alert: Slow\n"
      "    expr: sum(rate({job=\"x\"}[5m])) > 2\n"
      "    for: 90s\n"
      "name: g\n"
      "interval: 60s\n"
      "limit: 0\n";
  ASSERT_EQ(Call(loki.port(), "POST", "/loki/api/v1/rules/ns", group, post).status, 202);
  const auto reply = Call(loki.port(), "GET", "/loki/api/v1/rules/ns/g", "", kTenantA);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "application/yaml");
  const YAML::Node got = YAML::Load(reply.body);
  std::vector<std::string> keys;
  for (const auto& item : got) {
    keys.push_back(item.first.as<std::string>());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "interval", "rules"}));  // limit 0 left out
  EXPECT_EQ(got["interval"].as<std::string>(), "1m");
  const YAML::Node zero = got["rules"][0];
  EXPECT_FALSE(zero["for"]);              // 0 is omitted
  EXPECT_FALSE(zero["keep_firing_for"]);  // not in Loki's rule proto
  EXPECT_FALSE(zero["labels"]);           // empty maps are omitted
  EXPECT_FALSE(zero["unknown_key"]);
  EXPECT_EQ(zero["annotations"]["summary"].as<std::string>(), "s");
  EXPECT_EQ(got["rules"][1]["labels"].begin()->first.as<std::string>(), "a");  // sorted
  EXPECT_EQ(got["rules"][2]["for"].as<std::string>(), "1m30s");
}

TEST(LokiTest, ALocalRuleStoreIsReadOnly) {
  testing::TempDir dir;
  const std::string rules = (dir.path() / "rules").string();
  FakeLoki loki(LokiOptions{.ruler_store = RulerStore::kLocal, .rules_directory = rules});
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  const std::string group =
      "name: g\nrules:\n  - alert: A\n    expr: sum(rate({a=\"b\"}[1m])) > 0\n";
  // No folder for the tenant yet.
  auto list = Call(loki.port(), "GET", "/loki/api/v1/rules", "", kTenantA);
  EXPECT_EQ(list.status, 400);
  EXPECT_EQ(list.body, "unable to read rule dir " + rules + "/team-a: open " + rules +
                           "/team-a: no such file or directory\n");
  auto ns = Call(loki.port(), "GET", "/loki/api/v1/rules/shop", "", kTenantA);
  EXPECT_EQ(ns.status, 400);
  EXPECT_EQ(ns.body, "error parsing " + rules + "/team-a/shop: " + rules + "/team-a/shop: open " +
                         rules + "/team-a/shop: no such file or directory\n");
  auto first_post = Call(loki.port(), "POST", "/loki/api/v1/rules/shop", group, post);
  EXPECT_EQ(first_post.status, 500);
  EXPECT_EQ(first_post.body, list.body);
  // With the folder: an empty listing, and still no writes.
  std::filesystem::create_directories(rules + "/team-a");
  EXPECT_EQ(Call(loki.port(), "GET", "/loki/api/v1/rules", "", kTenantA).body,
            "no rule groups found\n");
  auto post_again = Call(loki.port(), "POST", "/loki/api/v1/rules/shop", group, post);
  EXPECT_EQ(post_again.status, 500);
  EXPECT_EQ(post_again.body, "SetRuleGroup unsupported in rule local store\n");
  auto del = Call(loki.port(), "DELETE", "/loki/api/v1/rules/shop", "", kTenantA);
  EXPECT_EQ(del.status, 500);
  EXPECT_EQ(del.Json()["error"], "DeleteNamespace unsupported in rule local store");
  // What is in the files is what the API lists.
  std::ofstream(rules + "/team-a/shop") << "groups:\n  - "
                                        << "name: g\n    rules:\n"
                                        << "      - alert: A\n        expr: x\n        for: 60s\n";
  auto listed = Call(loki.port(), "GET", "/loki/api/v1/rules/shop", "", kTenantA);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(YAML::Load(listed.body)["shop"][0]["rules"][0]["for"].as<std::string>(), "1m");
  EXPECT_EQ(Call(loki.port(), "GET", "/loki/api/v1/rules/shop/g", "", kTenantA).body,
            "GetRuleGroup unsupported in rule local store\n");
}

TEST(LokiTest, PrometheusRulesReportEvaluationHealth) {
  FakeLoki loki;
  loki.SeedRuleGroup(
      "team-a", "shop",
      "name: g\nrules:\n  - alert: Errors\n    expr: sum(rate({a=\"b\"}[1m])) > 0\n");
  loki.SetRuleEvaluationError("team-a", "Errors", "parse error at line 1");
  EXPECT_EQ(Call(loki.port(), "GET", "/prometheus/api/v1/rules").status, 401);
  const auto reply = Call(loki.port(), "GET", "/prometheus/api/v1/rules", "", kTenantA);
  ASSERT_EQ(reply.status, 200);
  const json rule = reply.Json()["data"]["groups"][0]["rules"][0];
  EXPECT_EQ(reply.Json()["data"]["groups"][0]["file"], "shop");
  EXPECT_EQ(rule["health"], "err");
  EXPECT_EQ(rule["lastError"], "parse error at line 1");
  EXPECT_EQ(rule["type"], "alerting");
}

TEST(LokiTest, RulerRejectsInvalidGroups) {
  FakeLoki loki;
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  auto post_group = [&](const std::string& body) {
    return Call(loki.port(), "POST", "/loki/api/v1/rules/ns", body, post);
  };
  auto garbage = post_group("name: [unclosed");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.body, "unable to decoded rule group\n");
  EXPECT_EQ(post_group("name: g\nrules:\n  - alert: A\n    expr: x\n    for: soon\n").body,
            "unable to decoded rule group\n");
  auto no_expr = post_group("name: g\nrules:\n  - alert: A\n");
  EXPECT_EQ(no_expr.status, 400);
  EXPECT_EQ(no_expr.body, "field 'expr' must be set in rule\n");
  // One error per failing rule, joined.
  auto two = post_group("name: g\nrules:\n  - alert: A\n    record: b\n    expr: x\n  - expr: x\n");
  EXPECT_EQ(two.body,
            "only one of 'record' and 'alert' must be set, one of 'record' or 'alert' must be "
            "set\n");
  auto recording = post_group(
      "name: g\nrules:\n  - record: r\n    expr: x\n    for: 1m\n    annotations: {a: b}\n");
  EXPECT_EQ(recording.body, "invalid field 'annotations' in recording rule\n");
  auto unnamed = post_group("rules:\n  - alert: A\n    expr: x\n");
  EXPECT_EQ(unnamed.body, "group 0: Groupname must not be empty\n");
  auto bad_selector = post_group("name: g\nrules:\n  - alert: A\n    expr: '{job=}'\n");
  EXPECT_EQ(bad_selector.status, 400);
  EXPECT_EQ(bad_selector.body.rfind("could not parse expression for alert 'A' in group 'g': ", 0),
            0U);
  // Loki 2.9 does not check that a group has rules.
  EXPECT_EQ(post_group("name: empty\nrules: []\n").status, 202);
  EXPECT_EQ(loki.RuleGroups("team-a").size(), 1U);
}

}  // namespace
}  // namespace obsforge::fakes
