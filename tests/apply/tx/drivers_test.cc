#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apply/alertmanager_driver.h"
#include "apply/prometheus_driver.h"
#include "apply/tx/tx_test_util.h"
#include "support/fake_clock.h"
#include "support/fake_http_client.h"

namespace obsforge::apply {
namespace {

using obsforge::testing::FakeClock;
using obsforge::testing::FakeHttpClient;
using testing::MakeBundle;

constexpr const char* kProm = "http://prom:9090";
constexpr const char* kAm = "http://am:9093";

std::string RuntimeInfo(bool ok, const std::string& last) {
  return R"({"status":"success","data":{"reloadConfigSuccess":)" +
         std::string(ok ? "true" : "false") + R"(,"lastConfigTime":")" + last + R"("}})";
}

constexpr const char* kRules = R"({"status":"success","data":{"groups":[
  {"name":"api","file":"/x/api.yaml","rules":[{"name":"HighLatency"},{"name":"job:up:sum"}]},
  {"name":"other","rules":[]}]}})";

render::Bundle PromBundle() {
  return MakeBundle({{"prometheus/prometheus.yml", "global: {}\n"},
                     {"prometheus/rules/api.yaml",
                      "groups:\n- name: api\n  rules:\n  - alert: HighLatency\n    expr: up == 0\n"
                      "  - record: job:up:sum\n    expr: sum(up)\n"}});
}

class PrometheusDriverTest : public ::testing::Test {
 protected:
  FakeHttpClient http_;
  FakeClock clock_;
  PrometheusDriver driver_{{.base_url = std::string(kProm) + "/",
                            .poll_interval = std::chrono::milliseconds(100),
                            .verify_timeout = std::chrono::milliseconds(1000)},
                           http_,
                           clock_};
  const std::string info_url_ = std::string(kProm) + "/api/v1/status/runtimeinfo";
  const std::string rules_url_ = std::string(kProm) + "/api/v1/rules";
  const std::string reload_url_ = std::string(kProm) + "/-/reload";
};

TEST_F(PrometheusDriverTest, ReloadRefusalCarriesPrometheusTextVerbatim) {
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:00Z")));
  http_.Enqueue("POST", reload_url_,
                FakeHttpClient::Reply(500, "failed to reload config: parse error in rules\n"));
  auto r = driver_.Activate(PromBundle());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kUpstream);
  EXPECT_EQ(r.error().message, "failed to reload config: parse error in rules");
  EXPECT_EQ(r.error().upstream_status, 500);
  EXPECT_EQ(r.error().upstream_body, "failed to reload config: parse error in rules\n");
}

TEST_F(PrometheusDriverTest, EmptyRefusalBodyNamesTheStatus) {
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:00Z")));
  http_.Enqueue("POST", reload_url_, FakeHttpClient::Reply(403, ""));
  auto r = driver_.Activate(PromBundle());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "POST http://prom:9090/-/reload returned HTTP 403");
}

TEST_F(PrometheusDriverTest, TransportErrorIsPassedThrough) {
  http_.Enqueue("GET", info_url_, FakeHttpClient::Unavailable("GET", info_url_));
  http_.Enqueue("POST", reload_url_, FakeHttpClient::Unavailable("POST", reload_url_));
  auto r = driver_.Activate(PromBundle());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "POST http://prom:9090/-/reload: Couldn't connect to server");
}

TEST_F(PrometheusDriverTest, VerifyPollsUntilNewerConfigAndRuleGroupsAreLoaded) {
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:05Z")));
  http_.Enqueue("POST", reload_url_, FakeHttpClient::Reply(200));
  ASSERT_TRUE(driver_.Activate(PromBundle()));
  // Older time first (not yet reloaded), then the groups missing, then everything in place.
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:04Z")));
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:06Z")));
  http_.Enqueue("GET", rules_url_,
                FakeHttpClient::Json(200, R"({"status":"success","data":{"groups":[]}})"));
  http_.On("GET", info_url_, [](const http::Request&) {
    return FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:06.5+00:00"));
  });
  http_.On("GET", rules_url_,
           [](const http::Request&) { return FakeHttpClient::Json(200, kRules); });
  const auto start = clock_.Monotonic();
  auto r = driver_.Verify(PromBundle());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(clock_.Monotonic() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(http_.CountRequests("GET", rules_url_), 2U);
}

TEST_F(PrometheusDriverTest, SameSecondCountsAsNotOlder) {
  http_.Enqueue("GET", info_url_,
                FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:05Z")));
  http_.Enqueue("POST", reload_url_, FakeHttpClient::Reply(200));
  ASSERT_TRUE(driver_.Activate(PromBundle()));
  http_.On("GET", info_url_, [](const http::Request&) {
    return FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:05Z"));
  });
  http_.On("GET", rules_url_,
           [](const http::Request&) { return FakeHttpClient::Json(200, kRules); });
  EXPECT_TRUE(driver_.Verify(PromBundle()));
}

TEST_F(PrometheusDriverTest, ReloadFailureReportedByRuntimeInfoFailsAtOnce) {
  http_.On("GET", info_url_, [](const http::Request&) {
    return FakeHttpClient::Json(200, RuntimeInfo(false, "2026-01-01T00:00:05Z"));
  });
  auto r = driver_.Verify(PromBundle());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "prometheus reports reloadConfigSuccess false");
  EXPECT_EQ(http_.CountRequests("GET", info_url_), 1U);
}

TEST_F(PrometheusDriverTest, MissingOrDifferentGroupsTimeOut) {
  http_.On("GET", info_url_, [](const http::Request&) {
    return FakeHttpClient::Json(200, RuntimeInfo(true, "2026-01-01T00:00:05Z"));
  });
  http_.On("GET", rules_url_, [](const http::Request&) {
    return FakeHttpClient::Json(
        200,
        R"({"status":"success","data":{"groups":[{"name":"api","rules":[{"name":"HighLatency"}]}]}})");
  });
  const auto start = clock_.Monotonic();
  auto r = driver_.Verify(PromBundle());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kTimeout);
  EXPECT_EQ(r.error().message,
            "prometheus not verified after 1000 ms: rule groups not loaded as rendered: api");
  EXPECT_LE(clock_.Monotonic() - start, std::chrono::milliseconds(1000));
}

TEST(PrometheusDriver, ExpectedRuleGroupsFromRuleFilesOnly) {
  auto bundle = PromBundle();
  bundle.Add("prometheus/rules/b.yml", "groups:\n- name: b\n  rules: []\n");
  bundle.Add("prometheus/rules/broken.yaml", "groups: [\n");
  bundle.Add("prometheus/other.yaml", "groups:\n- name: nope\n");
  const auto groups = PrometheusDriver::ExpectedRuleGroups(bundle);
  EXPECT_EQ(groups, (std::map<std::string, std::vector<std::string>>{
                        {"api", {"HighLatency", "job:up:sum"}}, {"b", {}}}));
}

TEST(ParseRfc3339, Formats) {
  const auto base = ParseRfc3339("2026-11-22T03:11:56Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(base->time_since_epoch()).count(),
            1795317116);
  EXPECT_EQ(ParseRfc3339("2026-11-22T04:11:56+01:00"), base);
  EXPECT_EQ(*ParseRfc3339("2026-11-22T03:11:56.5Z") - *base, std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseRfc3339("2026-11-22 03:11:56Z"));
  EXPECT_FALSE(ParseRfc3339(""));
  EXPECT_FALSE(ParseRfc3339("2026-11-22T03:11:56"));
}

class AlertmanagerDriverTest : public ::testing::Test {
 protected:
  FakeHttpClient http_;
  FakeClock clock_;
  AlertmanagerDriver driver_{{.base_url = kAm,
                              .poll_interval = std::chrono::milliseconds(100),
                              .verify_timeout = std::chrono::milliseconds(500)},
                             http_,
                             clock_};
  const std::string status_url_ = std::string(kAm) + "/api/v2/status";
  const std::string metrics_url_ = std::string(kAm) + "/metrics";
  const render::Bundle bundle_ =
      MakeBundle({{"alertmanager/alertmanager.yml",
                   "route:\n  receiver: team\n  group_wait: 30s\nreceivers:\n- name: team\n"}});

  static std::string Status(const std::string& original) {
    return nlohmann::json{{"cluster", {{"status", "disabled"}}},
                          {"config", {{"original", original}}}}
        .dump();
  }
  static std::string Metrics(int ok) {
    return "# HELP alertmanager_config_last_reload_successful x\n"
           "alertmanager_config_last_reload_success_timestamp_seconds 1.7e+09\n"
           "alertmanager_config_last_reload_successful " +
           std::to_string(ok) + "\n";
  }
};

TEST_F(AlertmanagerDriverTest, ReloadRefusalCarriesTextVerbatim) {
  http_.Enqueue("POST", std::string(kAm) + "/-/reload",
                FakeHttpClient::Reply(
                    500, "failed to reload config: undefined receiver \"x\" used in route\n"));
  auto r = driver_.Activate(bundle_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "failed to reload config: undefined receiver \"x\" used in route");
}

TEST_F(AlertmanagerDriverTest, VerifyAcceptsTheRemarshalledConfig) {
  http_.On("GET", metrics_url_,
           [](const http::Request&) { return FakeHttpClient::Reply(200, Metrics(1)); });
  http_.Enqueue(
      "GET", status_url_,
      FakeHttpClient::Json(200, Status("route:\n  receiver: old\nreceivers:\n- name: old\n")));
  http_.On("GET", status_url_, [](const http::Request&) {
    return FakeHttpClient::Json(
        200, Status("global:\n  resolve_timeout: 5m\nroute:\n  receiver: team\n  group_wait: 30s\n"
                    "  continue: false\nreceivers:\n- name: team\ntemplates: []\n"));
  });
  auto r = driver_.Verify(bundle_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(http_.CountRequests("GET", status_url_), 2U);
}

TEST_F(AlertmanagerDriverTest, FailedReloadMetricFailsAtOnce) {
  http_.On("GET", metrics_url_,
           [](const http::Request&) { return FakeHttpClient::Reply(200, Metrics(0)); });
  auto r = driver_.Verify(bundle_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "alertmanager reports alertmanager_config_last_reload_successful 0");
}

TEST_F(AlertmanagerDriverTest, OldConfigTimesOutNamingTheDifference) {
  http_.On("GET", metrics_url_,
           [](const http::Request&) { return FakeHttpClient::Reply(200, Metrics(1)); });
  http_.On("GET", status_url_, [](const http::Request&) {
    return FakeHttpClient::Json(200, Status("route:\n  receiver: old\nreceivers:\n- name: old\n"));
  });
  auto r = driver_.Verify(bundle_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kTimeout);
  EXPECT_EQ(
      r.error().message,
      "alertmanager not verified after 500 ms: /api/v2/status does not show the configuration "
      "written (first difference at route.receiver)");
}

TEST(ConfigDifference, Rules) {
  EXPECT_EQ(ConfigDifference("a: 1\n", "a: 1\nb: 2\n"), std::nullopt);
  EXPECT_EQ(ConfigDifference("a: {b: 300s}\n", "a: {b: 5m}\n"), std::nullopt);
  EXPECT_EQ(ConfigDifference("url: http://secret\n", "url: <secret>\n"), std::nullopt);
  EXPECT_EQ(ConfigDifference("a: {b: 1}\n", "a: {b: 2}\n"), "a.b");
  EXPECT_EQ(ConfigDifference("r: [{n: x}, {n: y}]\n", "r: [{n: x}, {n: z}]\n"), "r[1].n");
  EXPECT_EQ(ConfigDifference("r: [1, 2]\n", "r: [1]\n"), "r");
  EXPECT_EQ(ConfigDifference("a: 1\n", "b: 1\n"), "a");
  EXPECT_EQ(ConfigDifference("a: [\n", "a: 1\n"), "");
}

}  // namespace
}  // namespace obsforge::apply
