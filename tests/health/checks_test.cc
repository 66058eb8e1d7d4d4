#include "health/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace obsforge::health {
namespace {

http::Response Json(std::string body) {
  return http::Response{.status = 200, .body = std::move(body)};
}

TEST(MetricValue, FindsPlainAndLabelledSamplesButNotLongerNames) {
  const std::string text =
      "# HELP prometheus_config_last_reload_successful Whether ...\n"
      "prometheus_config_last_reload_successful_timestamp_seconds 1.7e9\n"
      "prometheus_config_last_reload_successful 1\n"
      "x{a=\"b\"} 0\n";
  EXPECT_EQ(MetricValue(text, "prometheus_config_last_reload_successful"), 1.0);
  EXPECT_EQ(MetricValue(text, "x"), 0.0);
  EXPECT_EQ(MetricValue(text, "missing"), std::nullopt);
}

TEST(ParseReloadMetric, ZeroFails) {
  const auto out = ParseReloadMetric(Json("alertmanager_config_last_reload_successful 0\n"),
                                     "alertmanager_config_last_reload_successful");
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error,
            "alertmanager_config_last_reload_successful is 0 (the last configuration reload "
            "failed)");
  EXPECT_EQ(ParseReloadMetric(Json(""), "m").error, "m not found in /metrics");
}

TEST(ParseTargets, ListsEachDownTargetWithItsError) {
  const auto out = ParseTargets(Json(R"({"status":"success","data":{"activeTargets":[
      {"scrapePool":"node","scrapeUrl":"http://a:9100/metrics","health":"up","lastError":""},
      {"scrapePool":"node","scrapeUrl":"http://b:9100/metrics","health":"down",
       "lastError":"connection refused"},
      {"scrapePool":"app","scrapeUrl":"http://c/metrics","health":"unknown","lastError":""}]}})"),
                                1.0);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.value, 0.5);
  EXPECT_EQ(out.error, "1 of 2 targets down: node http://b:9100/metrics: connection refused");
  EXPECT_TRUE(ParseTargets(Json(R"({"data":{"activeTargets":[]}})"), 1.0).ok);
}

TEST(ParseRules, ListsRulesWithEvaluationErrors) {
  const auto out = ParseRules(Json(R"({"status":"success","data":{"groups":[{"name":"g",
      "file":"/r.yml","rules":[{"name":"ok","health":"ok","lastError":""},
      {"name":"bad","health":"err","lastError":"many-to-many matching not allowed"}]}]}})"));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "1 rules failing: /r.yml/g/bad: many-to-many matching not allowed");
}

TEST(ParseAlertmanagerStatus, ReadyAndDisabledAreOk) {
  EXPECT_TRUE(ParseAlertmanagerStatus(Json(R"({"cluster":{"status":"disabled"}})")).ok);
  EXPECT_TRUE(ParseAlertmanagerStatus(Json(R"({"cluster":{"status":"ready"}})")).ok);
  EXPECT_EQ(ParseAlertmanagerStatus(Json(R"({"cluster":{"status":"settling"}})")).error,
            "cluster status is settling");
  EXPECT_EQ(ParseAlertmanagerStatus(Json("nope")).error, "response is not valid JSON");
}

TEST(ExpectStatus200, NamesStatusAndBody) {
  EXPECT_EQ(ExpectStatus200(http::Response{.status = 503, .body = "Service Unavailable\n"}).error,
            "HTTP 503: Service Unavailable");
  EXPECT_EQ(ExpectStatus200(core::MakeError(core::ErrorCode::kUnavailable, "GET x: refused")).error,
            "GET x: refused");
}

TEST(ParseDatasourceHealth, UsesGrafanasMessage) {
  EXPECT_TRUE(ParseDatasourceHealth(Json(R"({"status":"OK","message":"fine"})")).ok);
  EXPECT_EQ(ParseDatasourceHealth(
                http::Response{.status = 400,
                               .body = R"({"status":"ERROR","message":"dial tcp: refused"})"})
                .error,
            "HTTP 400: dial tcp: refused");
}

TEST(BuildComponentChecks, BuildsTheChecksOfEveryComponentGiven) {
  Endpoints endpoints{.prometheus = "http://p:9090",
                      .alertmanager = "http://a:9093",
                      .loki = "http://l:3100",
                      .tempo = "http://t:3200",
                      .grafana = "http://g:3000",
                      .grafana_token = core::Secret("tok"),
                      .grafana_datasource_uids = {"prom"},
                      .otelcol_health = "http://o:13133/"};
  testing::FakeClock clock;
  std::vector<std::string> names;
  for (const auto& check : BuildComponentChecks(endpoints, {.canaries = true}, clock)) {
    names.push_back(check.component + "/" + check.name + (check.critical ? "!" : ""));
    EXPECT_TRUE(check.definition.parser);
  }
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "prometheus/healthy!", "prometheus/ready!", "prometheus/config_reload",
                         "prometheus/targets", "prometheus/rules", "alertmanager/ready!",
                         "alertmanager/cluster", "alertmanager/config_reload", "loki/ready!",
                         "loki/canary_logs", "tempo/ready!", "tempo/canary_traces",
                         "grafana/health!", "grafana/datasource:prom", "otelcol/health!"));
  EXPECT_TRUE(BuildComponentChecks({}, {}, clock).empty());
}

}  // namespace
}  // namespace obsforge::health
