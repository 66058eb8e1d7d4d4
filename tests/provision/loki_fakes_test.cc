#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "fakes/fake_loki.h"
#include "fakes/test_client.h"
#include "http/curl_http_client.h"
#include "provision/fakes_fixture.h"
#include "provision/loki_ruler.h"

namespace obsforge::provision {
namespace {

render::Bundle Rules(const std::string& tenant, const std::string& yaml) {
  render::Bundle bundle;
  bundle.Add("loki/rules/" + tenant + "/rules.yaml", yaml);
  return bundle;
}

constexpr const char* kTwoGroups = R"(groups:
  - name: errors
    interval: 1m
    rules:
      - alert: ErrorBurst
        expr: sum(count_over_time({app="x"} |= "error" [5m])) > 50
        for: 5m
        labels:
          severity: warning
  - name: volume
    rules:
      - record: app:lines:rate5m
        expr: sum(rate({app="x"}[5m]))
)";

class LokiRulerTest : public ::testing::Test {
 protected:
  fakes::FakeLoki loki_;
  http::CurlHttpClient curl_;
  InMemoryLedger ledger_;
  LokiRuler ruler_{{.base_url = loki_.url(), .rule_namespace = "tokpulse"}, curl_, ledger_};
};

TEST_F(LokiRulerTest, CreatesUpdatesAndDeletesGroupsPerTenant) {
  auto report = ruler_.Apply(LoadLokiGroups(Rules("acme", kTwoGroups)));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(loki_.Writes("POST /loki/api/v1/rules/{namespace}"), 2);
  auto stored = loki_.RuleGroups("acme");
  ASSERT_EQ(stored["tokpulse"].size(), 2U);
  EXPECT_EQ(stored["tokpulse"]["errors"]["rules"][0]["for"].as<std::string>(), "5m");
  EXPECT_TRUE(loki_.RuleGroups("other").empty());

  // Same bundle: nothing written.
  auto again = ruler_.Apply(LoadLokiGroups(Rules("acme", kTwoGroups)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->writes, 0);
  EXPECT_EQ(loki_.TotalWrites(), 2);

  // One group changes, the other leaves.
  const std::string changed = R"(groups:
  - name: errors
    interval: 1m
    rules:
      - alert: ErrorBurst
        expr: sum(count_over_time({app="x"} |= "error" [5m])) > 10
        for: 5m
        labels:
          severity: warning
)";
  auto plan = ruler_.Plan(LoadLokiGroups(Rules("acme", changed)));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->size(), 2U);
  EXPECT_EQ((*plan)[0].action, ChangeAction::kUpdate);
  ASSERT_EQ((*plan)[0].diffs.size(), 1U);
  EXPECT_EQ((*plan)[0].diffs[0].path, "/rules/0/expr");
  EXPECT_EQ((*plan)[1].action, ChangeAction::kDelete);
  EXPECT_EQ((*plan)[1].group, "volume");
  ASSERT_TRUE(ruler_.Apply(LoadLokiGroups(Rules("acme", changed))).ok());
  stored = loki_.RuleGroups("acme");
  ASSERT_EQ(stored["tokpulse"].size(), 1U);
  EXPECT_THAT(stored["tokpulse"]["errors"]["rules"][0]["expr"].as<std::string>(),
              ::testing::HasSubstr("> 10"));
}

TEST_F(LokiRulerTest, TenantThatLeavesTheBundleIsEmptied) {
  ASSERT_TRUE(ruler_.Apply(LoadLokiGroups(Rules("acme", kTwoGroups))).ok());
  ASSERT_TRUE(ruler_.Apply(LoadLokiGroups(render::Bundle())).ok());
  EXPECT_TRUE(loki_.RuleGroups("acme")["tokpulse"].empty());
  EXPECT_EQ(ledger_.size(), 0U);
}

TEST_F(LokiRulerTest, InvalidGroupIsRejectedBeforeAnyRequest) {
  const std::string yaml = std::string(kTwoGroups) + R"(  - name: broken
    rules:
      - alert: NoExpr
)";
  EXPECT_THROW(
      {
        auto groups = LoadLokiGroups(Rules("acme", yaml));
        (void)ruler_.Apply(groups);
      },
      core::InputError);
  EXPECT_EQ(loki_.server().TotalRequests(), 0);
}

TEST_F(LokiRulerTest, UpstreamRefusalNamesTheGroup) {
  loki_.faults().FailNext(1, 400, "unable to decoded rule group", "/loki/api/v1/rules/tokpulse");
  // The GET consumes nothing: the fault is for the first request on the path, the GET itself.
  auto report = ruler_.Apply(LoadLokiGroups(Rules("acme", kTwoGroups)));
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.error().message,
              ::testing::HasSubstr("namespace \"tokpulse\" for tenant \"acme\""));
  EXPECT_EQ(report.error().upstream_status, 400);
}

TEST_F(LokiRulerTest, GroupsThatLokiSpellsDifferentlySettleAfterOneWrite) {
  // Loki leaves zero durations, zero limits, empty maps and keep_firing_for out of what it sends
  // back, and spells 60s as 1m: none of that is a difference.
  const std::string yaml = R"(groups:
  - name: instant
    interval: 60s
    limit: 0
    rules:
      - alert: AnyError
        expr: sum(count_over_time({app="x"} |= "error" [1m])) > 0
        for: 0s
        keep_firing_for: 5m
        labels: {}
        annotations: {summary: errors}
)";
  auto first = ruler_.Apply(LoadLokiGroups(Rules("acme", yaml)));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->writes, 1);
  const auto stored = loki_.RuleGroups("acme")["tokpulse"]["instant"];
  EXPECT_FALSE(stored["rules"][0]["for"]);  // as real Loki: omitted when zero
  EXPECT_EQ(stored["interval"].as<std::string>(), "1m");

  auto plan = ruler_.Plan(LoadLokiGroups(Rules("acme", yaml)));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_TRUE(plan->empty()) << (plan->empty() ? "" : plan->front().diffs.front().ToString());
  auto second = ruler_.Apply(LoadLokiGroups(Rules("acme", yaml)));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->writes, 0);
  EXPECT_EQ(loki_.TotalWrites(), 1);
}

TEST(LokiRulerLocalStoreTest, AReadOnlyLocalStoreIsExplained) {
  fakes::testing::TempDir dir;
  const std::string rules = (dir.path() / "rules").string();
  fakes::FakeLoki loki({.ruler_store = fakes::RulerStore::kLocal, .rules_directory = rules});
  http::CurlHttpClient curl;
  InMemoryLedger ledger;
  LokiRuler ruler({.base_url = loki.url(), .rule_namespace = "tokpulse"}, curl, ledger);

  // No file for the namespace: reading it fails with 400 (Loki parses the file it is not given).
  auto unread = ruler.Plan(LoadLokiGroups(Rules("acme", kTwoGroups)));
  ASSERT_FALSE(unread.ok());
  EXPECT_EQ(unread.error().upstream_status, 400);
  EXPECT_THAT(unread.error().message,
              ::testing::HasSubstr("keeps its rules in a local rule store, which its API can "
                                   "read but never write; give runtime.loki a config_dir"));
  EXPECT_THAT(unread.error().message,
              ::testing::HasSubstr("400 error parsing " + rules + "/acme/tokpulse"));

  // The files are there but differ: the write is refused with 500, explained the same way.
  std::filesystem::create_directories(rules + "/acme");
  std::ofstream(rules + "/acme/tokpulse") << "groups: []\n";
  auto refused = ruler.Apply(LoadLokiGroups(Rules("acme", kTwoGroups)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().upstream_status, 500);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("local rule store"));
  EXPECT_THAT(refused.error().message,
              ::testing::HasSubstr("SetRuleGroup unsupported in rule local store"));
}

}  // namespace
}  // namespace obsforge::provision
