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
  EXPECT_THAT(names,
              ::testing::ElementsAre(
                  "prometheus/healthy!", "prometheus/ready!", "prometheus/config_reload",
                  "prometheus/targets", "prometheus/rules", "alertmanager/ready!",
                  "alertmanager/cluster", "alertmanager/config_reload", "loki/ready!", "loki/rules",
                  "loki/canary_logs", "tempo/ready!", "tempo/ingestion", "tempo/canary_traces",
                  "grafana/health!", "grafana/datasource:prom", "otelcol/health!"));
  EXPECT_TRUE(BuildComponentChecks({}, {}, clock).empty());
}

TEST(BuildComponentChecks, AVersionCheckForEachDeclaredVersionThatCanBeAsked) {
  Endpoints endpoints{.prometheus = "http://p:9090",
                      .loki = "http://l:3100",
                      .otelcol_health = "http://o:13133/",
                      .versions = {{"prometheus", "2.42"},
                                   {"loki", "3.0"},
                                   {"otel_collector", "0.96"},  // its health check cannot tell
                                   {"tempo", "2.2"}}};          // not in this environment
  testing::FakeClock clock;
  std::vector<std::string> urls;
  for (const auto& check : BuildComponentChecks(endpoints, {}, clock)) {
    if (check.name == "version") {
      EXPECT_FALSE(check.critical);
      urls.push_back(check.component + " " + check.definition.request.url);
    }
  }
  EXPECT_THAT(urls, ::testing::ElementsAre("loki http://l:3100/loki/api/v1/status/buildinfo",
                                           "prometheus http://p:9090/metrics"));
}

TEST(MetricSum, AddsEverySampleOfTheNameAndNothingElse) {
  const std::string text =
      "# TYPE tempo_receiver_refused_spans counter\n"
      "tempo_receiver_refused_spans{receiver=\"otlp\",transport=\"grpc\"} 2\n"
      "tempo_receiver_refused_spans{receiver=\"otlp\",transport=\"http\"} 3\n"
      "tempo_receiver_refused_spans_total 100\n";
  EXPECT_EQ(MetricSum(text, "tempo_receiver_refused_spans"), 5.0);
  EXPECT_EQ(MetricSum(text, "absent"), std::nullopt);
}

TEST(MetricLabel, ReadsALabelOfTheFirstSample) {
  const std::string text =
      "prometheus_build_info{branch=\"HEAD\",goversion=\"go1.19\",version=\"2.42.0\"} 1\n";
  EXPECT_EQ(MetricLabel(text, "prometheus_build_info", "version"), "2.42.0");
  EXPECT_EQ(MetricLabel(text, "prometheus_build_info", "nope"), "");
  EXPECT_EQ(MetricLabel("x{a=\"q\\\"x\"} 1\n", "x", "a"), "q\"x");
}

TEST(VersionMatches, TheDeclaredPartsMustAgree) {
  EXPECT_TRUE(VersionMatches("2.9", "2.9.9"));
  EXPECT_TRUE(VersionMatches("v2.42", "2.42.0"));
  EXPECT_TRUE(VersionMatches("3.0", "3.0.0-rc.1"));
  EXPECT_FALSE(VersionMatches("3.0", "2.9.9"));
  EXPECT_FALSE(VersionMatches("2.9.4", "2.9.9"));
  EXPECT_FALSE(VersionMatches("10.4", "10.40.1"));
  // A development build tells nothing to compare.
  EXPECT_TRUE(VersionMatches("3.0", ""));
  EXPECT_TRUE(VersionMatches("3.0", "main-2a3b4c5"));
  EXPECT_EQ(VersionSkewMessage("3.0", "2.9.9"),
            "running 2.9.9, the spec declares 3.0 (the configuration is written for 3.0)");
}

}  // namespace
}  // namespace obsforge::health
