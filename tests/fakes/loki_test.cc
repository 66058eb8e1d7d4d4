#include <thread>

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

TEST(LokiTest, ReadyAfterStartupPeriod) {
  FakeLoki loki(LokiOptions{.startup = std::chrono::milliseconds(300)});
  auto early = Call(loki.port(), "GET", "/ready");
  EXPECT_EQ(early.status, 503);
  EXPECT_EQ(early.body, "Ingester not ready: waiting for 15s after being ready");
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  auto later = Call(loki.port(), "GET", "/ready");
  EXPECT_EQ(later.status, 200);
  EXPECT_EQ(later.body, "ready");
  loki.SetReady(false);
  EXPECT_EQ(Call(loki.port(), "GET", "/ready").status, 503);
}

TEST(LokiTest, ApiNeedsOrgIdWhenAuthEnabled) {
  FakeLoki loki;
  auto reply = Call(loki.port(), "GET", "/loki/api/v1/rules");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.body, "no org id");
  EXPECT_EQ(Call(loki.port(), "GET", "/api/prom/rules").status, 401);
  auto build = Call(loki.port(), "GET", "/loki/api/v1/status/buildinfo");
  EXPECT_EQ(build.status, 200);
  EXPECT_EQ(build.Json()["version"], "3.1.0");
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

TEST(LokiTest, InstantQueryRejectsLogQueries) {
  FakeLoki loki;
  auto reply =
      Call(loki.port(), "GET", "/loki/api/v1/query?query=%7Bjob%3D%22x%22%7D", "", kTenantA);
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body,
            "log queries are not supported as an instant query type, please change your query to a "
            "range query type");
  EXPECT_EQ(Call(loki.port(), "GET",
                 "/loki/api/v1/query?query=sum(rate(%7Bjob%3D%22x%22%7D%5B1m%5D))", "", kTenantA)
                .status,
            200);
}

TEST(LokiTest, RulerLifecycle) {
  FakeLoki loki;
  auto none = Call(loki.port(), "GET", "/loki/api/v1/rules", "", kTenantA);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, "no rule groups found");

  const std::string group =
      "name: errors\ninterval: 1m\nrules:\n  - alert: ManyErrors\n    expr: sum(rate({job=\"x\"} "
      "|= \"error\" [5m])) > 1\n    for: 5m\n";
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  auto created = Call(loki.port(), "POST", "/loki/api/v1/rules/stack", group, post);
  EXPECT_EQ(created.status, 202);
  EXPECT_EQ(created.body, R"({"status":"success"})");

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
  EXPECT_TRUE(loki.RuleGroups("team-a").empty());
}

TEST(LokiTest, RulerRejectsInvalidGroups) {
  FakeLoki loki;
  const http::Headers post{{"X-Scope-OrgID", "team-a"}, {"Content-Type", "application/yaml"}};
  auto post_group = [&](const std::string& body) {
    return Call(loki.port(), "POST", "/loki/api/v1/rules/ns", body, post);
  };
  auto garbage = post_group("name: [unclosed");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.body, "unable to decoded rule group");
  auto no_expr = post_group("name: g\nrules:\n  - alert: A\n");
  EXPECT_EQ(no_expr.status, 400);
  EXPECT_EQ(no_expr.body,
            "invalid rules config: group 'g', rule 0: field 'expr' must be set in rule");
  auto both = post_group("name: g\nrules:\n  - alert: A\n    record: b\n    expr: x\n");
  EXPECT_EQ(
      both.body,
      "invalid rules config: group 'g', rule 0: only one of 'record' and 'alert' must be set");
  auto neither = post_group("name: g\nrules:\n  - expr: x\n");
  EXPECT_EQ(neither.body,
            "invalid rules config: group 'g', rule 0: one of 'record' or 'alert' must be set");
  EXPECT_EQ(post_group("rules:\n  - alert: A\n    expr: x\n").status, 400);
  EXPECT_TRUE(loki.RuleGroups("team-a").empty());
}

}  // namespace
}  // namespace obsforge::fakes
