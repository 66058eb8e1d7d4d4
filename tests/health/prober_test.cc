#include "health/prober.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_loki.h"
#include "fakes/fake_server.h"
#include "fakes/fake_tempo.h"
#include "health/checks.h"
#include "health/monitor.h"
#include "http/curl_http_client.h"
#include "http/curl_multi_http_client.h"
#include "support/fake_clock.h"
#include "support/fake_multi_http_client.h"
#include "support/poll_until.h"

namespace obsforge::health {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

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

class ProberOverCurlTest : public ::testing::Test {
 protected:
  void SetUp() override { global_ = std::make_unique<http::CurlGlobal>(); }
  void TearDown() override { global_.reset(); }
  std::unique_ptr<http::CurlGlobal> global_;
  core::SystemClock clock_;
};

TEST_F(ProberOverCurlTest, RunsManyChecksConcurrentlyOnItsOwnThread) {
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
  http::CurlMultiHttpClient http({.max_host_connections = 16});
  Prober prober(
      {.seed = 1}, [&](const CheckResult& r) { results.Add(r); }, clock_, http);
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
  EXPECT_EQ(stats.checks, 100U);
  EXPECT_GE(stats.runs_finished, 200U);
}

TEST_F(ProberOverCurlTest, CanariesRoundTripThroughLokiAndTempo) {
  fakes::FakeLoki loki;
  fakes::FakeTempo tempo;
  core::Logger& logger = core::NullLogger();
  HealthMonitor monitor({.prober = {.spread_first_run = false}}, clock_, nullptr, nullptr, logger);
  monitor.Start();
  monitor.Watch({.stack = "demo",
                 .env = "dev",
                 .endpoints = {.loki = loki.url(),
                               .loki_tenant = "demo",
                               .tempo = tempo.url(),
                               .tempo_otlp = tempo.otlp_url()},
                 .options = {.interval = milliseconds(200), .canaries = true},
                 .failure_threshold = 1});
  std::optional<EnvironmentStatus> status;
  // Until every check is ok; the assertions below say what is not.
  obsforge::testing::PollUntil([&] {
    status = monitor.Status("demo", "dev");
    return status && status->state == State::kOk &&
           std::all_of(status->components.begin(), status->components.end(), [](const auto& c) {
             return std::all_of(c.checks.begin(), c.checks.end(),
                                [](const auto& k) { return k.state == State::kOk; });
           });
  });
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, State::kOk) << ToJson(*status).dump();
  monitor.Stop();
  ASSERT_FALSE(loki.Entries("demo").empty());
  // One stream for every run: the run's id is in the line, not in a label.
  EXPECT_EQ(loki.Entries("demo")[0].labels,
            (std::map<std::string, std::string>{{"job", "obsforge-canary"}}));
  EXPECT_THAT(loki.Entries("demo")[0].line,
              ::testing::MatchesRegex("obsforge canary [0-9a-f]{16}"));
  EXPECT_FALSE(tempo.TraceIds().empty());
  EXPECT_THAT(monitor.MetricsText(),
              HasSubstr("obsforge_canary_latency_seconds_count{stack=\"demo\",env=\"dev\","
                        "component=\"tempo\",check=\"canary_traces\"}"));
}

// The prober's logic on a fake clock: FakeMultiHttpClient answers from scripts and lets time
// pass only while the loop waits, so "15 s later" costs nothing and nothing depends on timing.
class ProberTest : public ::testing::Test {
 protected:
  std::unique_ptr<Prober> MakeProber(ProberOptions options) {
    return std::make_unique<Prober>(
        options, [this](const CheckResult& r) { results_.push_back(r); }, clock_, http_);
  }
  // Turns the loop until `done` holds (false after `max_steps` turns).
  static bool StepUntil(Prober& prober, const std::function<bool()>& done, int max_steps = 10000) {
    for (int i = 0; i < max_steps && !done(); ++i) {
      prober.Step(milliseconds(1000));
    }
    return done();
  }
  std::vector<std::chrono::system_clock::time_point> StartsOf(const std::string& id) const {
    std::vector<std::chrono::system_clock::time_point> out;
    for (const auto& r : results_) {
      if (r.id == id) {
        out.push_back(r.started_at);
      }
    }
    return out;
  }
  int Runs(const std::string& id) const { return static_cast<int>(StartsOf(id).size()); }

  testing::FakeClock clock_;
  testing::FakeMultiHttpClient http_{clock_};
  std::vector<CheckResult> results_;
  const std::chrono::system_clock::time_point t0_ = clock_.Now();
};

CheckDefinition Get(const std::string& id, const std::string& url, milliseconds interval) {
  return {.id = id, .request = {.url = url}, .parser = ExpectStatus200, .interval = interval};
}

TEST_F(ProberTest, RunsEachCheckOnItsIntervalOnTheClock) {
  http_.script().On("GET", "http://p/-/ready",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200, "ok"); });
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  prober->Add(Get("a", "http://p/-/ready", milliseconds(15000)));
  prober->Add(Get("b", "http://p/-/ready", milliseconds(10000)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return Runs("a") == 3 && Runs("b") == 4; }));
  using std::chrono::seconds;
  EXPECT_THAT(StartsOf("a"), ::testing::ElementsAre(t0_, t0_ + seconds(15), t0_ + seconds(30)));
  EXPECT_THAT(StartsOf("b"),
              ::testing::ElementsAre(t0_, t0_ + seconds(10), t0_ + seconds(20), t0_ + seconds(30)));
  for (const auto& r : results_) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.duration, milliseconds(0));  // answered without time passing
  }
  const auto stats = prober->Stats();
  EXPECT_EQ(stats.checks, 2U);
  EXPECT_EQ(stats.runs_finished, 7U);
  EXPECT_EQ(stats.requests_sent, 7U);
  EXPECT_EQ(stats.failures, 0U);
  EXPECT_EQ(stats.in_flight, 0U);
}

TEST_F(ProberTest, JitterKeepsEachIntervalWithinItsBounds) {
  http_.script().On("GET", "http://p/x",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200); });
  auto prober = MakeProber({.jitter = 0.1, .spread_first_run = false, .seed = 7});
  prober->Add(Get("a", "http://p/x", milliseconds(10000)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return Runs("a") == 21; }));
  const auto starts = StartsOf("a");
  std::set<std::chrono::system_clock::duration> gaps;
  for (std::size_t i = 1; i < starts.size(); ++i) {
    const auto gap = starts[i] - starts[i - 1];
    // Due times fall between milliseconds; the loop wakes at the next whole one.
    EXPECT_GE(gap, milliseconds(9000)) << i;
    EXPECT_LE(gap, milliseconds(11001)) << i;
    gaps.insert(gap);
  }
  EXPECT_GT(gaps.size(), 10U) << "the intervals are not jittered";
}

TEST_F(ProberTest, FirstRunsAreSpreadOverTheFirstInterval) {
  http_.script().On("GET", "http://p/x",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200); });
  auto prober = MakeProber({.seed = 3});
  for (int i = 0; i < 20; ++i) {
    prober->Add(Get("c" + std::to_string(i), "http://p/x", milliseconds(10000)));
  }
  ASSERT_TRUE(StepUntil(*prober, [&] { return results_.size() == 20; }));
  std::set<std::chrono::system_clock::time_point> firsts;
  for (const auto& r : results_) {
    EXPECT_GE(r.started_at, t0_);
    EXPECT_LE(r.started_at, t0_ + milliseconds(10000));
    firsts.insert(r.started_at);
  }
  EXPECT_GT(firsts.size(), 10U) << "the first runs are not spread";
}

TEST_F(ProberTest, FailuresCarryTheTransportErrorOrTheStatus) {
  http_.script().Enqueue(
      "GET", "http://p/-/ready",
      testing::FakeHttpClient::Unavailable("GET", "http://p/-/ready", "Connection refused"));
  http_.script().Enqueue("GET", "http://p/-/ready", testing::FakeHttpClient::Reply(503, "down"));
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  prober->Add(Get("a", "http://p/-/ready", milliseconds(1000)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return results_.size() == 2; }));
  EXPECT_FALSE(results_[0].ok);
  EXPECT_EQ(results_[0].error, "GET http://p/-/ready: Connection refused");
  EXPECT_FALSE(results_[1].ok);
  EXPECT_EQ(results_[1].error, "HTTP 503: down");
  EXPECT_EQ(prober->Stats().failures, 2U);
}

TEST_F(ProberTest, RemovedOrReplacedCheckDeliversNothingFromTheRunInFlight) {
  http_.script().On("GET", "http://p/slow",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200); });
  http_.Hold("http://p/slow");
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  prober->Add(Get("gone", "http://p/slow", milliseconds(1000)));
  prober->Add(Get("replaced", "http://p/slow", milliseconds(1000)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return http_.started().size() == 2; }));
  prober->Remove("gone");
  // The replacement runs at once, beside the old run still in flight.
  prober->Add(Get("replaced", "http://p/slow?v=2", milliseconds(1000)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return http_.started().size() == 3; }));
  http_.Release("http://p/slow");
  ASSERT_TRUE(StepUntil(*prober, [&] { return http_.InFlight() == 0; }));
  ASSERT_EQ(results_.size(), 1U);
  EXPECT_EQ(results_[0].id, "replaced");
  EXPECT_EQ(prober->Stats().in_flight, 0U);
  EXPECT_EQ(prober->Stats().checks, 1U);
  // And "gone" never runs again.
  ASSERT_TRUE(StepUntil(*prober, [&] { return Runs("replaced") == 4; }));
  EXPECT_EQ(Runs("gone"), 0);
}

TEST_F(ProberTest, RunNowRunsAtOnceButNotBesideARunInFlight) {
  http_.script().On("GET", "http://p/x",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200); });
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  prober->Add(Get("a", "http://p/x", std::chrono::hours(1)));
  ASSERT_TRUE(StepUntil(*prober, [&] { return Runs("a") == 1; }));
  clock_.Advance(milliseconds(5000));
  const auto asked = clock_.Now();
  prober->RunNow("a");
  ASSERT_TRUE(StepUntil(
      *prober, [&] { return Runs("a") == 2; }, 3));
  EXPECT_EQ(StartsOf("a")[1], asked);

  http_.Hold("http://p/x");
  prober->RunNow("a");
  ASSERT_TRUE(StepUntil(
      *prober, [&] { return http_.InFlight() == 1; }, 3));
  prober->RunNow("a");  // ignored: a run is in flight
  for (int i = 0; i < 3; ++i) {
    prober->Step(milliseconds(0));
  }
  EXPECT_EQ(http_.started().size(), 3U);
  http_.Release("http://p/x");
  ASSERT_TRUE(StepUntil(
      *prober, [&] { return Runs("a") == 3; }, 3));
  EXPECT_EQ(http_.started().size(), 3U);
}

TEST_F(ProberTest, MaxInFlightBoundsTheRequestsStarted) {
  http_.script().On("GET", "http://p/x",
                    [](const http::Request&) { return testing::FakeHttpClient::Reply(200); });
  http_.Hold("http://p/x");
  auto prober = MakeProber({.max_in_flight = 2, .jitter = 0, .spread_first_run = false});
  for (int i = 0; i < 5; ++i) {
    prober->Add(Get("c" + std::to_string(i), "http://p/x", milliseconds(60000)));
  }
  for (int i = 0; i < 10; ++i) {
    prober->Step(milliseconds(1000));
  }
  EXPECT_EQ(http_.started().size(), 2U);
  EXPECT_EQ(prober->Stats().in_flight, 2U);
  http_.Release("http://p/x");
  ASSERT_TRUE(StepUntil(*prober, [&] { return results_.size() == 5; }));
  EXPECT_EQ(http_.started().size(), 5U);
}

TEST_F(ProberTest, FollowUpsChainAndTheDurationCoversTheWholeChain) {
  http_.script().On("POST", "http://p/push", [&](const http::Request&) {
    clock_.Advance(milliseconds(100));  // time on the wire
    return testing::FakeHttpClient::Reply(204);
  });
  http_.script().On("GET", "http://p/read", [&](const http::Request&) {
    clock_.Advance(milliseconds(50));
    return testing::FakeHttpClient::Reply(200, "found");
  });
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  prober->Add({.id = "canary",
               .request = {.method = "POST", .url = "http://p/push"},
               .parser =
                   [](const core::Result<http::Response>&) {
                     ProbeOutcome outcome;
                     outcome.next =
                         std::make_shared<FollowUp>(FollowUp{.request = {.url = "http://p/read"},
                                                             .parser = ExpectStatus200,
                                                             .delay = milliseconds(2000)});
                     return outcome;
                   },
               .interval = milliseconds(60000)});
  ASSERT_TRUE(StepUntil(*prober, [&] { return results_.size() == 1; }));
  EXPECT_TRUE(results_[0].ok) << results_[0].error;
  EXPECT_EQ(results_[0].started_at, t0_);
  EXPECT_EQ(results_[0].duration, milliseconds(2150));
  ASSERT_EQ(http_.started().size(), 2U);
  EXPECT_EQ(prober->Stats().runs_finished, 1U);
  EXPECT_EQ(prober->Stats().requests_sent, 2U);
}

TEST_F(ProberTest, CanaryThatNeverReadsBackFailsAtItsDeadline) {
  // Tempo takes OTLP on its receiver's port only.
  http_.script().On("POST", "http://tempo:4318/v1/traces", [](const http::Request&) {
    return testing::FakeHttpClient::Reply(200, R"({"partialSuccess":{}})");
  });
  int reads = 0;
  http_.script().OnUnmatched([&](const http::Request& r) {
    EXPECT_EQ(r.url.rfind("http://tempo:3200/api/traces/", 0), 0U) << r.url;
    ++reads;
    return testing::FakeHttpClient::Reply(404, "trace not found");
  });
  auto prober = MakeProber({.jitter = 0, .spread_first_run = false});
  auto checks =
      BuildComponentChecks({.tempo = "http://tempo:3200", .tempo_otlp = "http://tempo:4318"},
                           {.interval = milliseconds(5000),
                            .canaries = true,
                            .canary_deadline = milliseconds(300),
                            .canary_poll = milliseconds(50)},
                           clock_);
  auto canary = std::find_if(checks.begin(), checks.end(),
                             [](const ComponentCheck& c) { return c.name == "canary_traces"; });
  ASSERT_NE(canary, checks.end());
  canary->definition.id = "canary";
  prober->Add(std::move(canary->definition));
  ASSERT_TRUE(StepUntil(*prober, [&] { return !results_.empty(); }));
  EXPECT_FALSE(results_[0].ok);
  EXPECT_EQ(results_[0].error, "canary trace not found in Tempo within 300 ms");
  // Read at 0, 50, ..., 300 ms: the last read is the one whose next poll would be too late.
  EXPECT_EQ(results_[0].duration, milliseconds(300));
  EXPECT_EQ(reads, 7);
}

TEST_F(ProberTest, AddRejectsAnIncompleteCheck) {
  auto prober = MakeProber({});
  EXPECT_THROW(prober->Add({.id = "x"}), std::invalid_argument);
  EXPECT_THROW(prober->Add({.parser = ExpectStatus200}), std::invalid_argument);
  EXPECT_THROW(prober->Add({.id = "x", .parser = ExpectStatus200, .interval = milliseconds(0)}),
               std::invalid_argument);
}

}  // namespace
}  // namespace obsforge::health
