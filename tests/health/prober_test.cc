#include "health/prober.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_loki.h"
#include "fakes/fake_server.h"
#include "fakes/fake_tempo.h"
#include "health/checks.h"
#include "health/monitor.h"
#include "http/curl_http_client.h"

namespace obsforge::health {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Collects results; Wait() blocks until `pred` holds.
class Results {
 public:
  void Add(const CheckResult& result) {
    std::lock_guard lock(mu_);
    all_.push_back(result);
    cv_.notify_all();
  }
  bool Wait(const std::function<bool(const std::vector<CheckResult>&)>& pred,
            milliseconds timeout = milliseconds(10000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(all_); });
  }
  std::vector<CheckResult> All() {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CheckResult> all_;
};

class ProberTest : public ::testing::Test {
 protected:
  void SetUp() override { global_ = std::make_unique<http::CurlGlobal>(); }
  void TearDown() override { global_.reset(); }
  std::unique_ptr<http::CurlGlobal> global_;
  core::SystemClock clock_;
};

TEST_F(ProberTest, RunsManyChecksConcurrentlyOnItsIntervalAndReusesConnections) {
  fakes::FakeServer server;
  std::atomic<int> concurrent{0};
  std::atomic<int> peak{0};
  server.Route("GET", "/check/{n}", [&](fakes::FakeRequest& r) {
    const int now = ++concurrent;
    peak = std::max(peak.load(), now);
    std::this_thread::sleep_for(milliseconds(20));
    --concurrent;
    return fakes::FakeResponse::Text(r.Param("n") == "7" ? 503 : 200, "fine");
  });
  server.Start();
  Results results;
  Prober prober(
      {.max_host_connections = 16, .seed = 1}, [&](const CheckResult& r) { results.Add(r); },
      clock_);
  prober.Start();
  for (int i = 0; i < 100; ++i) {
    prober.Add({.id = "c" + std::to_string(i),
                .request = {.url = server.url() + "/check/" + std::to_string(i)},
                .parser = ExpectStatus200,
                .interval = milliseconds(300)});
  }
  // Every check runs at least twice.
  ASSERT_TRUE(results.Wait([](const auto& all) {
    std::map<std::string, int> runs;
    for (const auto& r : all) {
      ++runs[r.id];
    }
    return runs.size() == 100 &&
           std::all_of(runs.begin(), runs.end(), [](const auto& p) { return p.second >= 2; });
  }));
  prober.Stop();
  EXPECT_GT(peak.load(), 1);
  EXPECT_LE(peak.load(), 16);
  for (const auto& r : results.All()) {
    EXPECT_EQ(r.ok, r.id != "c7") << r.id;
    if (r.id == "c7") {
      EXPECT_EQ(r.error, "HTTP 503: fine");
    }
  }
  const auto stats = prober.Stats();
  EXPECT_EQ(stats.checks, 100u);
  EXPECT_GE(stats.runs_finished, 200u);
}

TEST_F(ProberTest, TransportErrorsAndRemovedChecks) {
  Results results;
  Prober prober(
      {.spread_first_run = false}, [&](const CheckResult& r) { results.Add(r); }, clock_);
  prober.Start();
  prober.Add({.id = "refused",
              .request = {.url = "http://127.0.0.1:9/-/ready"},
              .parser = ExpectStatus200,
              .interval = milliseconds(100)});
  ASSERT_TRUE(results.Wait([](const auto& all) { return !all.empty(); }));
  EXPECT_THAT(results.All()[0].error, StartsWith("GET http://127.0.0.1:9/-/ready: "));
  EXPECT_THAT(results.All()[0].error, HasSubstr("Failed to connect to 127.0.0.1 port 9"));
  prober.Remove("refused");
  std::this_thread::sleep_for(milliseconds(150));
  const auto count = results.All().size();
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(results.All().size(), count);
  EXPECT_THROW(prober.Add({.id = "x"}), std::invalid_argument);
}

TEST_F(ProberTest, CanariesRoundTripThroughLokiAndTempo) {
  fakes::FakeLoki loki;
  fakes::FakeTempo tempo;
  core::Logger& logger = core::NullLogger();
  HealthMonitor monitor({.prober = {.spread_first_run = false}}, clock_, nullptr, nullptr, logger);
  monitor.Start();
  monitor.Watch({.stack = "demo",
                 .env = "dev",
                 .endpoints = {.loki = loki.url(), .loki_tenant = "demo", .tempo = tempo.url()},
                 .options = {.interval = milliseconds(200), .canaries = true},
                 .failure_threshold = 1});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<EnvironmentStatus> status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = monitor.Status("demo", "dev");
    if (status && status->state == State::kOk &&
        std::all_of(status->components.begin(), status->components.end(), [](const auto& c) {
          return std::all_of(c.checks.begin(), c.checks.end(),
                             [](const auto& k) { return k.state == State::kOk; });
        })) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, State::kOk) << ToJson(*status).dump();
  monitor.Stop();
  ASSERT_FALSE(loki.Entries("demo").empty());
  EXPECT_EQ(loki.Entries("demo")[0].labels.at("job"), "obsforge-canary");
  EXPECT_EQ(loki.Entries("demo")[0].line,
            "obsforge canary " + loki.Entries("demo")[0].labels.at("canary"));
  EXPECT_FALSE(tempo.TraceIds().empty());
  EXPECT_THAT(monitor.MetricsText(),
              HasSubstr("obsforge_canary_latency_seconds_count{stack=\"demo\",env=\"dev\","
                        "component=\"tempo\",check=\"canary_traces\"}"));
}

TEST_F(ProberTest, CanaryThatNeverReadsBackFailsAfterItsDeadline) {
  fakes::FakeTempo tempo;
  tempo.faults().FailNext(1000, 404, "trace not found", "/api/traces/");
  Results results;
  Prober prober(
      {.spread_first_run = false}, [&](const CheckResult& r) { results.Add(r); }, clock_);
  prober.Start();
  auto checks = BuildComponentChecks({.tempo = tempo.url()}, {.interval = milliseconds(5000),
                                                              .canaries = true,
                                                              .canary_deadline = milliseconds(300),
                                                              .canary_poll = milliseconds(50)});
  ASSERT_EQ(checks.size(), 2u);
  checks[1].definition.id = "canary";
  prober.Add(std::move(checks[1].definition));
  ASSERT_TRUE(results.Wait([](const auto& all) { return !all.empty(); }));
  const auto result = results.All()[0];
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "canary trace not found in Tempo within 300 ms");
  EXPECT_GE(result.duration, milliseconds(250));
  EXPECT_EQ(tempo.TraceIds().size(), 1u);
}

}  // namespace
}  // namespace obsforge::health
