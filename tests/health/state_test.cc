#include "health/state.h"

#include <gtest/gtest.h>

namespace obsforge::health {
namespace {

using std::chrono::seconds;

class TrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tracker_.Register(ready_, true, false, 3, t0_);
    tracker_.Register(targets_, false, false, 3, t0_);
    tracker_.Register(am_, true, false, 3, t0_);
  }
  std::vector<Transition> Ok(const CheckKey& key, int at) {
    return tracker_.Record(key, true, "", std::nullopt, std::chrono::microseconds(0),
                           t0_ + seconds(at));
  }
  std::vector<Transition> Fail(const CheckKey& key, int at, const std::string& error) {
    return tracker_.Record(key, false, error, std::nullopt, std::chrono::microseconds(0),
                           t0_ + seconds(at));
  }
  TimePoint t0_{seconds(1'800'000'000)};
  CheckKey ready_{"demo", "dev", "prometheus", "ready"};
  CheckKey targets_{"demo", "dev", "prometheus", "targets"};
  CheckKey am_{"demo", "dev", "alertmanager", "ready"};
  HealthTracker tracker_;
};

TEST_F(TrackerTest, FailingOnlyAfterTheThresholdAndBackAfterOneSuccess) {
  const auto up = Ok(ready_, 1);
  ASSERT_EQ(up.size(), 3u);  // check, component, environment: unknown -> ok
  EXPECT_EQ(up[2].scope, Transition::Scope::kEnvironment);
  EXPECT_EQ(up[2].to, State::kOk);
  EXPECT_EQ(Ok(targets_, 1).size(), 1u);  // the check itself: unknown -> ok
  EXPECT_EQ(Ok(am_, 1).size(), 2u);       // check and component; the environment is ok already

  EXPECT_TRUE(Fail(ready_, 2, "HTTP 503").empty());
  EXPECT_TRUE(Fail(ready_, 3, "HTTP 503").empty());
  const auto down = Fail(ready_, 4, "GET x: refused");
  ASSERT_EQ(down.size(), 3u);
  EXPECT_EQ(down[0].to, State::kFailing);
  EXPECT_EQ(down[0].message, "GET x: refused");
  EXPECT_EQ(down[1].to, State::kDown);
  EXPECT_EQ(down[1].component, "prometheus");
  EXPECT_EQ(down[2].from, State::kOk);
  EXPECT_EQ(down[2].to, State::kDegraded);
  EXPECT_EQ(down[2].message, "prometheus/ready: GET x: refused");

  const auto status = tracker_.Environment("demo", "dev");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, State::kDegraded);
  EXPECT_EQ(status->since, t0_ + seconds(4));
  EXPECT_EQ(status->components[1].checks[0].consecutive_failures, 3);

  const auto back = Ok(ready_, 5);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].message, "recovered");
  EXPECT_EQ(back[2].to, State::kOk);
  EXPECT_EQ(back[2].message, "all checks ok");
  // An ok check shows no error: the one it had is in the history, not next to "ok".
  const auto after = tracker_.Environment("demo", "dev");
  EXPECT_EQ(after->components[1].checks[0].state, State::kOk);
  EXPECT_EQ(after->components[1].checks[0].last_error, "");
  EXPECT_FALSE(ToJson(*after)["components"][1]["checks"][0].contains("last_error"));
}

TEST_F(TrackerTest, NonCriticalFailureDegradesAndAllComponentsDownIsDown) {
  Ok(ready_, 1);
  Ok(am_, 1);
  for (int i = 0; i < 3; ++i) {
    Fail(targets_, 2 + i, "1 of 1 targets down");
  }
  EXPECT_EQ(tracker_.Environment("demo", "dev")->components[1].state, State::kDegraded);
  for (int i = 0; i < 3; ++i) {
    Fail(ready_, 10 + i, "x");
    Fail(am_, 10 + i, "y");
  }
  EXPECT_EQ(tracker_.Environment("demo", "dev")->state, State::kDown);
}

// Regression: a passing non-critical check used to make its component (and the environment) ok
// while the critical one had no verdict yet, so a re-watch of a down environment announced a
// recovery that the readiness check took back a run later.
TEST_F(TrackerTest, AComponentIsNotOkBeforeItsCriticalChecksHaveAVerdict) {
  Ok(am_, 1);
  EXPECT_EQ(Ok(targets_, 1).size(), 1u);  // only the check: prometheus/ready is still unknown
  auto status = tracker_.Environment("demo", "dev");
  EXPECT_EQ(status->components[1].state, State::kUnknown);
  EXPECT_TRUE(Fail(ready_, 2, "HTTP 503").empty());  // below the threshold: still no verdict
  const auto up = Ok(ready_, 3);
  ASSERT_EQ(up.size(), 2u);  // check and component; the environment was ok from alertmanager
  EXPECT_EQ(up[1].to, State::kOk);
  // A failing non-critical check is news even while the critical one is unknown.
  HealthTracker tracker;
  tracker.Register(ready_, true, false, 3, t0_);
  tracker.Register(targets_, false, false, 1, t0_);
  tracker.Record(targets_, false, "down", std::nullopt, std::chrono::microseconds(0), t0_);
  EXPECT_EQ(tracker.Environment("demo", "dev")->components[0].state, State::kDegraded);
}

TEST_F(TrackerTest, MetricsTextAndJson) {
  HealthTracker tracker;
  const CheckKey canary{"demo", "dev", "loki", "canary_logs"};
  tracker.Register(canary, false, true, 1, t0_);
  tracker.Register(ready_, true, false, 1, t0_);
  tracker.Record(canary, true, "", std::nullopt, std::chrono::milliseconds(30), t0_);
  tracker.Record(ready_, false, "HTTP 503", std::nullopt, std::chrono::microseconds(0), t0_);
  const std::string expected =
      "# HELP obsforge_check_up Whether a health check is ok (1) or failing (0).\n"
      "# TYPE obsforge_check_up gauge\n"
      "obsforge_check_up{stack=\"demo\",env=\"dev\",component=\"loki\",check=\"canary_logs\"} 1\n"
      "obsforge_check_up{stack=\"demo\",env=\"dev\",component=\"prometheus\",check=\"ready\"} 0\n"
      "# HELP obsforge_canary_latency_seconds End-to-end latency of successful canaries (push, "
      "then read back).\n"
      "# TYPE obsforge_canary_latency_seconds histogram\n";
  const std::string text = tracker.MetricsText();
  ASSERT_EQ(text.substr(0, expected.size()), expected);
  const std::string labels = "stack=\"demo\",env=\"dev\",component=\"loki\",check=\"canary_logs\"";
  EXPECT_NE(text.find("obsforge_canary_latency_seconds_bucket{" + labels + ",le=\"0.025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("obsforge_canary_latency_seconds_bucket{" + labels + ",le=\"0.05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("obsforge_canary_latency_seconds_count{" + labels + "} 1\n"),
            std::string::npos);

  const auto json = ToJson(*tracker.Environment("demo", "dev"));
  EXPECT_EQ(json["state"], "degraded");
  EXPECT_EQ(json["components"][1]["state"], "down");
  EXPECT_EQ(json["components"][1]["checks"][0]["last_error"], "HTTP 503");
  EXPECT_EQ(json["components"][1]["checks"][0]["since"], "2027-01-15T08:00:00.000Z");
}

}  // namespace
}  // namespace obsforge::health
