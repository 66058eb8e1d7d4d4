// What `serve` watches, from the spec to the checks, run against the fakes of Loki and Tempo
// (which answer as the real servers do): the tenant rule, the OTLP endpoints, the ruler,
// ingestion and version checks, and a whole local stack.
#include <csignal>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/binaries.h"
#include "apply/environment_controller.h"
#include "apply/runtime.h"
#include "control/health_watcher.h"
#include "fakes/fake_loki.h"
#include "fakes/fake_slack.h"
#include "fakes/fake_tempo.h"
#include "health/monitor.h"
#include "http/curl_http_client.h"
#include "notify/notifier.h"
#include "support/fake_clock.h"
#include "support/poll_until.h"
#include "support/run_check.h"
#include <unistd.h>

namespace obsforge::control {
namespace {

using obsforge::testing::FakeClock;
using obsforge::testing::FindCheck;
using obsforge::testing::RunCheckOnce;
using ::testing::HasSubstr;

spec::StackSpec Stack(const std::string& components, const std::string& environments = "") {
  auto stack = StoredSpec("shop", R"({"apiVersion":"obsforge/v1","kind":"Stack",
      "metadata":{"name":"shop"},"spec":{"health":{"canaries":true},"components":)" +
                                      components + environments + "}}");
  EXPECT_TRUE(stack.ok());
  return *stack;
}

class WatchedChecksTest : public ::testing::Test {
 protected:
  std::vector<health::ComponentCheck> Checks(const health::EnvironmentWatch& watch) {
    return health::BuildComponentChecks(watch.endpoints, watch.options, clock_);
  }
  health::ProbeOutcome Run(const std::vector<health::ComponentCheck>& checks,
                           const std::string& component,
                           const std::string& name) {
    const auto* check = FindCheck(checks, component, name);
    if (check == nullptr) {
      ADD_FAILURE() << "no check " << component << "/" << name;
      return health::ProbeOutcome::Fail("no such check");
    }
    return RunCheckOnce(check->definition, http_, clock_);
  }

  FakeClock clock_;
  http::CurlHttpClient http_;
};

TEST_F(WatchedChecksTest, LogCanaryOfTheDefaultMultiTenantLokiUsesTheStacksName) {
  fakes::FakeLoki loki;  // auth_enabled, as Loki is by default
  const auto settings = WatchFor(Stack(R"({"loki":{}})"), "default", {{"loki", loki.url()}}, {});
  EXPECT_EQ(settings.watch.endpoints.loki_tenant, "shop");
  const auto outcome = Run(Checks(settings.watch), "loki", "canary_logs");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(loki.Entries("shop").size(), 1U);
}

TEST_F(WatchedChecksTest, LogCanaryOfASingleTenantLokiLandsInFake) {
  fakes::FakeLoki loki({.auth_enabled = false});
  const auto settings = WatchFor(Stack(R"({"loki":{"auth_enabled":false}})",
                                       R"(,"environments":{"dev":{"runtime":{"type":"external",
                                           "loki":{"url":"http://x","tenant":"ignored"}}}})"),
                                 "dev", {{"loki", loki.url()}}, {});
  EXPECT_EQ(settings.watch.endpoints.loki_tenant, "fake");
  const auto outcome = Run(Checks(settings.watch), "loki", "canary_logs");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(loki.Entries("fake").size(), 1U);
}

TEST_F(WatchedChecksTest, ALokiWithoutTheTenantHeaderRefusesTheCanary) {
  fakes::FakeLoki loki;
  auto settings = WatchFor(Stack(R"({"loki":{}})"), "default", {{"loki", loki.url()}}, {});
  settings.watch.endpoints.loki_tenant.clear();  // what the canary sent before the tenant rule
  const auto outcome = Run(Checks(settings.watch), "loki", "canary_logs");
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "push: HTTP 401: no org id");
}

TEST_F(WatchedChecksTest, LogCanaryWritesOneStreamAndCarriesItsIdInTheLine) {
  fakes::FakeLoki loki;
  const auto settings = WatchFor(Stack(R"({"loki":{}})"), "default", {{"loki", loki.url()}}, {});
  const auto checks = Checks(settings.watch);
  ASSERT_TRUE(Run(checks, "loki", "canary_logs").ok);
  ASSERT_TRUE(Run(checks, "loki", "canary_logs").ok);
  const auto entries = loki.Entries("shop");
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].labels, entries[1].labels);  // one stream, not one per run
  EXPECT_EQ(entries[0].labels, (std::map<std::string, std::string>{{"job", "obsforge-canary"}}));
  EXPECT_NE(entries[0].line, entries[1].line);
  EXPECT_THAT(entries[0].line, ::testing::StartsWith("obsforge canary "));
}

TEST_F(WatchedChecksTest, TraceCanaryPushesToTheOtlpReceiverAndFindsTheBase64Ids) {
  fakes::FakeTempo tempo;  // Tempo 2.2: OTLP only on the receiver's port
  const auto settings =
      WatchFor(Stack(R"({"tempo":{}})"), "default",
               {{"tempo", tempo.url()}, {apply::kTempoOtlpHttp, tempo.otlp_url()}}, {});
  EXPECT_EQ(settings.watch.endpoints.tempo_otlp, tempo.otlp_url());
  const auto outcome = Run(Checks(settings.watch), "tempo", "canary_traces");
  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(tempo.TraceIds().size(), 1U);
}

TEST_F(WatchedChecksTest, TraceCanarySaysWhenTempoHasNoOtlpHttpEndpoint) {
  fakes::FakeTempo tempo({.otlp_http = false});
  const auto settings = WatchFor(Stack(R"({"tempo":{"receivers":["otlp_grpc"]}})"), "default",
                                 {{"tempo", tempo.url()}}, {});
  const auto outcome = Run(Checks(settings.watch), "tempo", "canary_traces");
  EXPECT_FALSE(outcome.ok);
  EXPECT_THAT(outcome.error, HasSubstr("Tempo has no OTLP/HTTP receiver"));
  EXPECT_THAT(outcome.error, HasSubstr("runtime.tempo.otlp_http_url"));
}

TEST_F(WatchedChecksTest, TraceCanaryPointedAtTheApiPortIsToldSo) {
  fakes::FakeTempo tempo;
  const auto settings =
      WatchFor(Stack(R"({"tempo":{}})"), "default",
               {{"tempo", tempo.url()}, {apply::kTempoOtlpHttp, tempo.url()}}, {});
  const auto outcome = Run(Checks(settings.watch), "tempo", "canary_traces");
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "push: HTTP 404: 404 page not found (" + tempo.url() +
                               " is not an OTLP/HTTP receiver)");
}

TEST_F(WatchedChecksTest, LokiRulerCheckReportsRulesWhoseEvaluationFails) {
  fakes::FakeLoki loki;
  loki.SeedRuleGroup("shop", "shop",
                     "name: errors\nrules:\n  - alert: ErrorBurst\n"
                     "    expr: sum(rate({app=\"x\"}[1m])) > 1\n");
  const auto settings = WatchFor(Stack(R"({"loki":{}})"), "default", {{"loki", loki.url()}}, {});
  const auto checks = Checks(settings.watch);
  EXPECT_TRUE(Run(checks, "loki", "rules").ok);
  loki.SetRuleEvaluationError("shop", "ErrorBurst", "unexpected IDENTIFIER");
  const auto failing = Run(checks, "loki", "rules");
  EXPECT_FALSE(failing.ok);
  EXPECT_EQ(failing.error, "1 rules failing: shop/errors/ErrorBurst: unexpected IDENTIFIER");
}

TEST_F(WatchedChecksTest, TempoIngestionCheckFailsWhenSpansAreRefused) {
  fakes::FakeTempo tempo;
  const auto settings =
      WatchFor(Stack(R"({"tempo":{}})"), "default",
               {{"tempo", tempo.url()}, {apply::kTempoOtlpHttp, tempo.otlp_url()}}, {});
  const auto checks = Checks(settings.watch);
  EXPECT_TRUE(Run(checks, "tempo", "ingestion").ok);
  EXPECT_TRUE(Run(checks, "tempo", "canary_traces").ok);
  const auto received = Run(checks, "tempo", "ingestion");
  EXPECT_TRUE(received.ok) << received.error;
  EXPECT_EQ(received.value, 1.0);  // spans received so far

  tempo.SetIngesterFailing(true);
  EXPECT_FALSE(Run(checks, "tempo", "canary_traces").ok);
  const auto refused = Run(checks, "tempo", "ingestion");
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error,
            "1 spans refused by the receivers and 1 failed ingester appends since the last check");
  EXPECT_TRUE(Run(checks, "tempo", "ingestion").ok);  // nothing refused since
}

TEST_F(WatchedChecksTest, VersionCheckNoticesABinaryOtherThanTheDeclaredOne) {
  fakes::FakeLoki loki;    // 2.9.9
  fakes::FakeTempo tempo;  // 2.2.4
  const auto settings = WatchFor(
      Stack(R"({"loki":{"version":"3.0"},"tempo":{"version":"2.2"},"grafana":{}})"), "default",
      {{"loki", loki.url()}, {"tempo", tempo.url()}, {"grafana", "http://grafana:3000"}}, {});
  const auto checks = Checks(settings.watch);
  const auto loki_version = Run(checks, "loki", "version");
  EXPECT_FALSE(loki_version.ok);
  EXPECT_EQ(loki_version.error,
            "running 2.9.9, the spec declares 3.0 (the configuration is written for 3.0)");
  const auto tempo_version = Run(checks, "tempo", "version");
  EXPECT_TRUE(tempo_version.ok) << tempo_version.error;
  // Grafana declares no version: no check.
  EXPECT_EQ(FindCheck(checks, "grafana", "version"), nullptr);
  EXPECT_FALSE(FindCheck(checks, "loki", "version")->critical);  // degraded, not down
}

// The whole path on one machine, as `serve` takes it: a local stack with Prometheus and
// Alertmanager (the real ones from PATH) and Loki (multi-tenant, its default) and Tempo (the
// fake executables, which read the rendered configurations and answer as Loki and Tempo do),
// canaries on. It comes up healthy with both canaries passing; a frozen Loki is announced on
// Slack, and so is its recovery.
class LocalStackHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"prometheus", "prometheus-alertmanager"}) {
      if (!apply::FindBinary({tool}, apply::ProcessPath())) {
        if (std::getenv("CI") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
          FAIL() << tool << " must be on PATH in CI";
        }
        GTEST_SKIP() << tool << " is not on PATH";
      }
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("obs-fid-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    const auto fakes = std::filesystem::path(OBS_BINARY_DIR) / "tests" / "fakes";
    std::filesystem::create_symlink(fakes / "fake-loki", dir_ / "bin" / "loki");
    std::filesystem::create_symlink(fakes / "fake-tempo", dir_ / "bin" / "tempo");
  }
  void TearDown() override {
    if (controller_) {
      controller_->StopAll();
    }
    controller_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  core::SystemClock clock_;
  http::CurlHttpClient http_;
  std::unique_ptr<apply::EnvironmentController> controller_;
};

TEST_F(LocalStackHealthTest, ComesUpHealthyWithBothCanariesAndAFrozenLokiIsAnnounced) {
  const std::string spec_text = R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: fid}
spec:
  components: {prometheus: {}, alertmanager: {}, loki: {}, tempo: {}}
  health:
    interval: 300ms
    timeout: 1s
    failure_threshold: 2
    canaries: true
    slack: {webhook: {secret: FID_SLACK}}
  environments:
    dev: {runtime: {type: local}}
)";
  auto content = spec::MakeMemorySource({});
  const auto stack = spec::ParseStack(spec_text, "fid.yaml", *content);
  controller_ = std::make_unique<apply::EnvironmentController>(
      apply::ControllerOptions{
          .data_dir = dir_ / "var",
          .ready_timeout = std::chrono::seconds(30),
          .path_env = (dir_ / "bin").string() + ":" + apply::ProcessPath(),
          .env_lookup = [](const std::string& name) -> std::optional<std::string> {
            if (name == "FID_SLACK") {
              return "https://hooks.slack.invalid/fid";
            }
            return std::nullopt;
          }},
      http_, clock_, core::NullLogger());
  const auto applied = controller_->Apply(stack, "dev", *content);
  ASSERT_EQ(applied.outcome, apply::Outcome::kApplied)
      << (applied.error ? applied.error->message : "");

  fakes::FakeSlack slack;
  notify::InMemoryOutbox outbox;
  notify::Notifier notifier(
      {.min_interval = std::chrono::milliseconds(10), .poll = std::chrono::milliseconds(10)},
      outbox, http_, clock_, core::NullLogger());
  notifier.AddWebhook("{secret: FID_SLACK}", core::Secret(slack.WebhookUrl()));
  health::HealthMonitor monitor({.prober = {.spread_first_run = false}}, clock_, &notifier, nullptr,
                                core::NullLogger());
  const auto settings = WatchFor(stack, "dev", controller_->Urls(stack, "dev"), {});
  EXPECT_EQ(settings.watch.endpoints.loki_tenant, "fid");
  EXPECT_FALSE(settings.watch.endpoints.tempo_otlp.empty());
  monitor.Start();
  monitor.Watch(settings.watch);
  const auto all_ok = [&] {
    const auto status = monitor.Status("fid", "dev");
    if (!status || status->state != health::State::kOk) {
      return false;
    }
    for (const auto& component : status->components) {
      for (const auto& check : component.checks) {
        if (check.state != health::State::kOk) {
          return false;
        }
      }
    }
    return true;
  };
  ASSERT_TRUE(obsforge::testing::PollUntil(all_ok, std::chrono::seconds(30)))
      << health::ToJson(*monitor.Status("fid", "dev")).dump(2);

  // Freeze Loki: its checks time out; the environment turns down or degraded, on Slack.
  int loki_pid = 0;
  for (const auto& component : controller_->Status("fid", "dev").components) {
    if (component.name == "loki" && component.process) {
      loki_pid = component.process->pid;
    }
  }
  ASSERT_GT(loki_pid, 0);
  ASSERT_EQ(::kill(loki_pid, SIGSTOP), 0);
  ASSERT_TRUE(slack.WaitForMessages(1, std::chrono::seconds(30)));
  EXPECT_THAT(slack.Messages()[0].value("text", ""), HasSubstr("fid/dev is "));
  EXPECT_THAT(slack.Messages()[0].value("text", ""), HasSubstr("loki/"));
  ASSERT_EQ(::kill(loki_pid, SIGCONT), 0);
  ASSERT_TRUE(slack.WaitForMessages(2, std::chrono::seconds(30)));
  EXPECT_THAT(slack.Messages()[1].value("text", ""), HasSubstr("fid/dev recovered"));
  monitor.Stop();
  notifier.Stop();
}

}  // namespace
}  // namespace obsforge::control
