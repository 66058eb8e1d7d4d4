#include "apply/local_runtime.h"

#include <csignal>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/local_drivers.h"
#include "apply/runtime/runtime_test_util.h"
#include "http/curl_http_client.h"
#include "support/fake_clock.h"
#include "support/fake_http_client.h"
#include "support/poll_until.h"

namespace obsforge::apply {
namespace {

using namespace std::chrono_literals;
using obsforge::testing::FakeHttpClient;
using obsforge::testing::PollUntil;
using testing::CommandLine;
using testing::LiveChildren;
using testing::ProcessAlive;
using testing::TempDir;
using testing::WriteFile;

// libcurl's global state must exist before any thread; a test environment sets it up first.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { global_ = std::make_unique<http::CurlGlobal>(); }
  void TearDown() override { global_.reset(); }

 private:
  std::unique_ptr<http::CurlGlobal> global_;
};
[[maybe_unused]] auto* const kCurlEnvironment =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

spec::EnvironmentSpec DemoEnv(nlohmann::json components) {
  spec::EnvironmentSpec env;
  env.stack = "demo";
  env.env = "dev";
  env.merged = {
      {"spec",
       {{"components", std::move(components)}, {"values", {{"retention", {{"metrics", "2d"}}}}}}}};
  return env;
}

// The directory holding the real prometheus binary, or "" (the test then skips; fails in CI).
std::string PrometheusPathOrSkip() {
  auto found = FindBinary({"prometheus"}, ProcessPath());
  return found ? found->parent_path().string() : std::string();
}

TEST(LocalRuntimeTest, EnabledComponentsInOrder) {
  TempDir dir;
  FakeHttpClient http;
  core::SystemClock clock;
  auto runtime = LocalRuntime::Open(DemoEnv({{"grafana", {{"enabled", true}}},
                                             {"loki", {{"enabled", false}}},
                                             {"prometheus", {{"enabled", true}}},
                                             {"tempo", nlohmann::json::object()}}),
                                    {.data_dir = dir.path()}, http, clock);
  ASSERT_TRUE(runtime.ok()) << runtime.error().message;
  EXPECT_THAT((*runtime)->EnabledComponents(),
              ::testing::ElementsAre("prometheus", "tempo", "grafana"));
  EXPECT_EQ((*runtime)->env_root(), dir.path() / "stacks" / "demo" / "dev");
  auto states = (*runtime)->States();
  ASSERT_EQ(states.size(), 3U);
  EXPECT_EQ(states[0].Describe(), "stopped");
}

TEST(LocalRuntimeTest, PortsStableAcrossInstances) {
  TempDir dir;
  FakeHttpClient http;
  core::SystemClock clock;
  auto env = DemoEnv({{"prometheus", {{"enabled", true}}}});
  PortMap first;
  {
    auto runtime = LocalRuntime::Open(env, {.data_dir = dir.path()}, http, clock);
    ASSERT_TRUE(runtime.ok());
    first = (*runtime)->ports();
  }
  auto second = LocalRuntime::Open(env, {.data_dir = dir.path()}, http, clock);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->ports(), first);
  EXPECT_EQ(first.size(), PortNames().size());
  EXPECT_EQ((*second)->BaseUrl("prometheus"),
            "http://127.0.0.1:" + std::to_string(first.at("prometheus")));

  env.runtime.components["prometheus"].port = 19999;
  auto fixed = LocalRuntime::Open(env, {.data_dir = dir.path()}, http, clock);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ((*fixed)->ports().at("prometheus"), 19999);
  EXPECT_EQ((*fixed)->ports().at("alertmanager"), first.at("alertmanager"));
}

TEST(LocalRuntimeTest, TempoOtlpReceiversAreOnTheirAllocatedPorts) {
  TempDir dir;
  FakeHttpClient http;
  core::SystemClock clock;
  auto both = LocalRuntime::Open(DemoEnv({{"tempo", nlohmann::json::object()}}),
                                 {.data_dir = dir.path() / "a"}, http, clock);
  ASSERT_TRUE(both.ok()) << both.error().message;
  const auto& ports = (*both)->ports();
  const auto urls = (*both)->Urls();
  EXPECT_EQ(urls.at("tempo"), "http://127.0.0.1:" + std::to_string(ports.at("tempo")));
  EXPECT_EQ(urls.at(kTempoOtlpHttp), "http://127.0.0.1:" + std::to_string(ports.at("otlp_http")));
  EXPECT_EQ(urls.at(kTempoOtlpGrpc), "http://127.0.0.1:" + std::to_string(ports.at("otlp_grpc")));
  // Only the gRPC receiver: Tempo has no OTLP/HTTP endpoint at all.
  auto grpc_only = LocalRuntime::Open(
      DemoEnv({{"tempo", {{"receivers", nlohmann::json::array({"otlp_grpc"})}}}}),
      {.data_dir = dir.path() / "b"}, http, clock);
  ASSERT_TRUE(grpc_only.ok());
  EXPECT_FALSE((*grpc_only)->Urls().contains(kTempoOtlpHttp));
  EXPECT_TRUE((*grpc_only)->Urls().contains(kTempoOtlpGrpc));
}

TEST(LocalRuntimeTest, MissingBinaryIsUnavailable) {
  TempDir dir;
  TempDir empty_path;
  FakeHttpClient http;
  core::SystemClock clock;
  auto runtime = LocalRuntime::Open(
      DemoEnv({{"loki", {{"enabled", true}}}}),
      {.data_dir = dir.path(), .path_env = empty_path.path().string()}, http, clock);
  ASSERT_TRUE(runtime.ok());
  auto results = (*runtime)->StartAll();
  ASSERT_EQ(results.size(), 1U);
  ASSERT_FALSE(results[0].second.ok());
  EXPECT_EQ(results[0].second.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(results[0].second.error().message, "loki not found on PATH");
  auto state = (*runtime)->State("loki");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->Describe(), "unavailable: loki not found on PATH");
  auto ready = (*runtime)->WaitReady("loki", 1s);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message, "loki not found on PATH");
}

// A stand-in "loki" that just stays up; readiness is scripted on the fake HTTP client.
class FakeLokiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(bin_.path() / "loki", "#!/bin/sh\nexec sleep 1000\n", 0755);
    auto runtime = LocalRuntime::Open(
        DemoEnv({{"loki", {{"enabled", true}}}}),
        {.data_dir = dir_.path(), .path_env = bin_.path().string(), .ready_poll_interval = 100ms},
        http_, clock_);
    ASSERT_TRUE(runtime.ok());
    runtime_ = std::move(*runtime);
    ready_url_ = runtime_->ReadinessUrl("loki");
  }

  TempDir dir_;
  TempDir bin_;
  FakeHttpClient http_;
  obsforge::testing::FakeClock clock_;
  std::unique_ptr<LocalRuntime> runtime_;
  std::string ready_url_;
};

TEST_F(FakeLokiTest, RestartDriverRestartsAndWaitsReady) {
  ASSERT_TRUE(runtime_->Start("loki").ok());
  const pid_t first = runtime_->State("loki")->pid;
  // The shell script may or may not have exec'd sleep yet; its argv is the one obsforge built.
  // Between fork and exec the child still shows this test's argv (or an empty one while exec
  // replaces it): poll until it has exec'd (flaked in CI when read at once).
  const std::string expected =
      "/loki -config.file=" + (runtime_->Layout("loki").config_dir / "loki.yaml").string();
  std::string cmdline;
  EXPECT_TRUE(PollUntil(
      [&] {
        cmdline = CommandLine(first);
        return cmdline.find("sleep 1000") != std::string::npos ||
               cmdline.find(expected) != std::string::npos;
      },
      60s))
      << cmdline;
  auto driver = MakeRestartDriver(*runtime_, "loki");
  ASSERT_NE(driver, nullptr);
  EXPECT_EQ(driver->Component(), "loki");
  http_.Enqueue("GET", ready_url_, FakeHttpClient::Reply(503, "Ingester not ready\n"));
  http_.On("GET", ready_url_,
           [](const http::Request&) { return FakeHttpClient::Reply(200, "ready"); });
  ASSERT_TRUE(driver->Activate(render::Bundle{}).ok());
  EXPECT_NE(runtime_->State("loki")->pid, first);
  EXPECT_FALSE(ProcessAlive(first));
  EXPECT_EQ(http_.CountRequests("GET", ready_url_), 2U);
  EXPECT_TRUE(driver->Verify(render::Bundle{}).ok());
  EXPECT_EQ(MakeRestartDriver(*runtime_, "prometheus"), nullptr);
}

TEST_F(FakeLokiTest, NotReadyTimesOutWithTheLastAnswer) {
  ASSERT_TRUE(runtime_->Start("loki").ok());
  http_.On("GET", ready_url_,
           [](const http::Request&) { return FakeHttpClient::Reply(503, "Ingester not ready\n"); });
  auto ready = runtime_->WaitReady("loki", 1s);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().code, core::ErrorCode::kTimeout);
  EXPECT_EQ(ready.error().message,
            "loki not ready after 1000ms: GET " + ready_url_ + ": HTTP 503: Ingester not ready");
  EXPECT_EQ(http_.CountRequests("GET", ready_url_), 11U);  // t = 0, 100ms, ..., 1000ms
}

TEST_F(FakeLokiTest, StoppedComponentFailsAtOnce) {
  ASSERT_TRUE(runtime_->Start("loki").ok());
  ASSERT_TRUE(runtime_->Stop("loki").ok());
  auto ready = runtime_->WaitReady("loki", 10s);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message, "loki is stopped");
  EXPECT_EQ(http_.CountRequests("GET", ready_url_), 0U);
}

TEST(LocalRuntimePrometheusTest, StartReadyKillRestartStop) {
  const std::string prometheus_dir = PrometheusPathOrSkip();
  if (prometheus_dir.empty()) {
    if (std::getenv("CI") != nullptr) {
      FAIL() << "prometheus is not on PATH";
    }
    GTEST_SKIP() << "prometheus is not on PATH";
  }
  TempDir dir;
  http::CurlHttpClient http;
  core::SystemClock clock;
  auto opened =
      LocalRuntime::Open(DemoEnv({{"prometheus", {{"enabled", true}}}}),
                         {.data_dir = dir.path(), .path_env = prometheus_dir}, http, clock);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& runtime = **opened;
  WriteFile(runtime.Layout("prometheus").config_dir / "prometheus.yml",
            "global:\n  scrape_interval: 15s\n");

  ASSERT_TRUE(runtime.Start("prometheus").ok());
  auto ready = runtime.WaitReady("prometheus", 30s);
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  const pid_t first = runtime.State("prometheus")->pid;
  const std::string cmdline = CommandLine(first);
  EXPECT_THAT(cmdline, ::testing::HasSubstr("--storage.tsdb.retention.time=2d"));
  EXPECT_THAT(cmdline, ::testing::HasSubstr("--web.listen-address=127.0.0.1:" +
                                            std::to_string(runtime.ports().at("prometheus"))));
  EXPECT_TRUE(std::filesystem::exists(runtime.Layout("prometheus").log_file));

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(PollUntil(
      [&] {
        auto s = runtime.State("prometheus");
        return s->phase == ProcessPhase::kRunning && s->pid != first;
      },
      60s));
  ready = runtime.WaitReady("prometheus", 30s);
  ASSERT_TRUE(ready.ok()) << ready.error().message;
  EXPECT_EQ(runtime.State("prometheus")->restarts, 1);

  const pid_t second = runtime.State("prometheus")->pid;
  ASSERT_TRUE(runtime.Stop("prometheus").ok());
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(second)));
  EXPECT_TRUE(LiveChildren().empty());
  EXPECT_FALSE(runtime.CheckReady("prometheus").ok());
}

}  // namespace
}  // namespace obsforge::apply
