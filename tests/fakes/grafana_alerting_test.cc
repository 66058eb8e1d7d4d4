#include <gtest/gtest.h>

#include "fakes/fake_grafana.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::BasicAuth;
using testing::Call;
using testing::Reply;

constexpr char kRules[] = "/api/v1/provisioning/alert-rules";
constexpr char kMismatch[] =
    R"({"message":"cannot update with provided provenance '', needs 'api'","messageId":"alerting.provenanceMismatch","statusCode":409})";

class GrafanaAlertingTest : public ::testing::Test {
 protected:
  GrafanaAlertingTest() { grafana_.SeedFolder({{"uid", "f"}, {"title", "F"}}); }

  Reply Api(const std::string& method,
            const std::string& path,
            const json& body = nullptr,
            bool disable_provenance = false) {
    http::Headers headers{{"Authorization", BasicAuth("admin", "admin")},
                          {"Content-Type", "application/json"}};
    if (disable_provenance) {
      headers.emplace_back("X-Disable-Provenance", "true");
    }
    return Call(grafana_.port(), method, path, body.is_null() ? "" : body.dump(), headers);
  }

  static json Rule(const std::string& uid, const std::string& title) {
    json rule{{"title", title},
              {"ruleGroup", "grp"},
              {"folderUID", "f"},
              {"orgID", 1},
              {"condition", "A"},
              {"data",
               {{{"refId", "A"},
                 {"datasourceUid", "prom"},
                 {"relativeTimeRange", {{"from", 600}, {"to", 0}}},
                 {"model", {{"expr", "up == 0"}}}}}},
              {"noDataState", "NoData"},
              {"execErrState", "Error"},
              {"for", "5m"}};
    if (!uid.empty()) {
      rule["uid"] = uid;
    }
    return rule;
  }

  FakeGrafana grafana_;
};

TEST_F(GrafanaAlertingTest, AnyXDisableProvenanceHeaderTurnsProvenanceOff) {
  // Grafana looks only at whether the header is there, not at its value.
  auto created = Call(grafana_.port(), "POST", kRules, Rule("r9", "Down").dump(),
                      {{"Authorization", BasicAuth("admin", "admin")},
                       {"Content-Type", "application/json"},
                       {"X-Disable-Provenance", "false"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(grafana_.AlertRule("r9")->at("provenance"), "");
}

TEST_F(GrafanaAlertingTest, AlertRuleCrudStampsApiProvenance) {
  auto created = Api("POST", kRules, Rule("r1", "Down"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["provenance"], "api");
  EXPECT_EQ(Api("GET", std::string(kRules) + "/r1").Json()["title"], "Down");
  auto updated = Api("PUT", std::string(kRules) + "/r1", Rule("r1", "Still down"));
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(grafana_.AlertRule("r1")->at("title"), "Still down");
  EXPECT_EQ(Api("DELETE", std::string(kRules) + "/r1").status, 204);
  EXPECT_EQ(Api("GET", std::string(kRules) + "/r1").status, 404);
  EXPECT_EQ(grafana_.Writes("POST /api/v1/provisioning/alert-rules"), 1);
  EXPECT_EQ(grafana_.Writes("PUT /api/v1/provisioning/alert-rules/{uid}"), 1);
}

TEST_F(GrafanaAlertingTest, AlertRuleValidation) {
  json rule = Rule("", "X");
  rule.erase("condition");
  auto bad = Api("POST", kRules, rule);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["message"], "invalid alert rule: condition is required");
  json orphan = Rule("", "X");
  orphan["folderUID"] = "nope";
  EXPECT_EQ(Api("POST", kRules, orphan).status, 400);
}

TEST_F(GrafanaAlertingTest, ProvenanceMismatchIs409) {
  ASSERT_EQ(Api("POST", kRules, Rule("r1", "A")).status, 201);
  auto mismatch = Api("PUT", std::string(kRules) + "/r1", Rule("r1", "B"), true);
  EXPECT_EQ(mismatch.status, 409);
  EXPECT_EQ(mismatch.body, kMismatch);

  // Stored "" can move to anything.
  ASSERT_EQ(Api("POST", kRules, Rule("r2", "C"), true).status, 201);
  EXPECT_EQ(grafana_.AlertRule("r2")->at("provenance"), "");
  EXPECT_EQ(Api("PUT", std::string(kRules) + "/r2", Rule("r2", "D")).status, 200);
  EXPECT_EQ(grafana_.AlertRule("r2")->at("provenance"), "api");
}

TEST_F(GrafanaAlertingTest, FileProvenanceNeverChanges) {
  grafana_.SeedAlertRule(Rule("file-rule", "F"), "file");
  for (bool disable : {false, true}) {
    auto put = Api("PUT", std::string(kRules) + "/file-rule", Rule("file-rule", "G"), disable);
    EXPECT_EQ(put.status, 409);
    EXPECT_EQ(put.Json()["messageId"], "alerting.provenanceMismatch");
    EXPECT_EQ(put.Json()["message"], std::string("cannot update with provided provenance '") +
                                         (disable ? "" : "api") + "', needs 'file'");
  }
  EXPECT_EQ(Api("DELETE", std::string(kRules) + "/file-rule").status, 409);
  auto group =
      Api("PUT", "/api/v1/provisioning/folder/f/rule-groups/grp",
          json{{"title", "grp"}, {"folderUid", "f"}, {"interval", 60}, {"rules", json::array()}});
  EXPECT_EQ(group.status, 409);
  EXPECT_TRUE(grafana_.AlertRule("file-rule").has_value());
}

TEST_F(GrafanaAlertingTest, RuleGroupPutReplacesTheWholeGroup) {
  const std::string path = "/api/v1/provisioning/folder/f/rule-groups/grp";
  EXPECT_EQ(Api("GET", path).status, 404);
  json group{{"title", "grp"},
             {"folderUid", "f"},
             {"interval", 60},
             {"rules", {Rule("a", "A"), Rule("b", "B")}}};
  auto put = Api("PUT", path, group);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Json()["rules"].size(), 2U);
  group["rules"] = {Rule("b", "B2")};
  group["interval"] = 120;
  ASSERT_EQ(Api("PUT", path, group).status, 200);
  auto got = Api("GET", path).Json();
  EXPECT_EQ(got["interval"], 120);
  EXPECT_EQ(got["folderUid"], "f");
  ASSERT_EQ(got["rules"].size(), 1U);
  EXPECT_EQ(got["rules"][0]["uid"], "b");
  EXPECT_EQ(got["rules"][0]["folderUID"], "f");
  EXPECT_EQ(got["rules"][0]["title"], "B2");
  EXPECT_FALSE(grafana_.AlertRule("a").has_value());
  // In a group, "api" may drop to "" (X-Disable-Provenance).
  EXPECT_EQ(Api("PUT", path, group, true).status, 200);
  EXPECT_EQ(grafana_.AlertRule("b")->at("provenance"), "");
  group["interval"] = 0;
  EXPECT_EQ(Api("PUT", path, group).status, 400);
  group["interval"] = 15;  // the scheduler ticks every 10 s
  auto off_tick = Api("PUT", path, group);
  EXPECT_EQ(off_tick.status, 400);
  EXPECT_EQ(off_tick.Json()["message"],
            "invalid alert rule: interval (15s) should be non-zero and divided exactly by "
            "scheduler interval: 10");
}

TEST_F(GrafanaAlertingTest, ContactPointsAndPolicies) {
  const json cp{
      {"name", "obsforge-slack"}, {"type", "slack"}, {"settings", {{"url", "https://hooks/x"}}}};
  auto created = Api("POST", "/api/v1/provisioning/contact-points", cp);
  ASSERT_EQ(created.status, 202) << created.body;
  const std::string uid = created.Json()["uid"];
  EXPECT_FALSE(uid.empty());
  EXPECT_EQ(Api("PUT", "/api/v1/provisioning/contact-points/" + uid, cp).status, 202);
  auto listed = Api("GET", "/api/v1/provisioning/contact-points?name=obsforge-slack").Json();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0]["provenance"], "api");

  const json tree{
      {"receiver", "grafana-default-email"},
      {"routes", {{{"receiver", "obsforge-slack"}, {"object_matchers", {{"stack", "=", "s"}}}}}}};
  EXPECT_EQ(Api("PUT", "/api/v1/provisioning/policies", tree).status, 202);
  EXPECT_EQ(Api("GET", "/api/v1/provisioning/policies").Json()["routes"][0]["receiver"],
            "obsforge-slack");
  json unknown = tree;
  unknown["routes"][0]["receiver"] = "ghost";
  auto bad = Api("PUT", "/api/v1/provisioning/policies", unknown);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["message"], "invalid object specification: receiver 'ghost' does not exist");
  EXPECT_EQ(Api("PUT", "/api/v1/provisioning/policies", tree, true).status, 409);
  EXPECT_EQ(Api("DELETE", "/api/v1/provisioning/policies").status, 202);
  EXPECT_FALSE(Api("GET", "/api/v1/provisioning/policies").Json().contains("routes"));

  auto deleted = Api("DELETE", "/api/v1/provisioning/contact-points/" + uid);
  EXPECT_EQ(deleted.status, 202);
  EXPECT_EQ(deleted.Json()["message"], "contactpoint deleted");
  grafana_.SeedContactPoint(
      {{"uid", "fcp"}, {"name", "file"}, {"type", "email"}, {"settings", json::object()}}, "file");
  EXPECT_EQ(Api("DELETE", "/api/v1/provisioning/contact-points/fcp").status, 409);
}

TEST_F(GrafanaAlertingTest, TemplatesAndMuteTimings) {
  auto put = Api("PUT", "/api/v1/provisioning/templates/obsforge",
                 json{{"template", "{{ define \"x\" }}{{ end }}"}});
  EXPECT_EQ(put.status, 202);
  EXPECT_EQ(Api("GET", "/api/v1/provisioning/templates/obsforge").Json()["provenance"], "api");
  EXPECT_EQ(Api("DELETE", "/api/v1/provisioning/templates/obsforge").status, 204);
  EXPECT_EQ(Api("GET", "/api/v1/provisioning/templates/obsforge").status, 404);

  const json timing{{"name", "nights"}, {"time_intervals", json::array()}};
  EXPECT_EQ(Api("POST", "/api/v1/provisioning/mute-timings", timing).status, 201);
  EXPECT_EQ(Api("PUT", "/api/v1/provisioning/mute-timings/nights", timing).status, 200);
  EXPECT_EQ(Api("DELETE", "/api/v1/provisioning/mute-timings/nights").status, 204);
}

}  // namespace
}  // namespace obsforge::fakes
