// HealthMonitor on a fake clock: the prober's loop is stepped by the test over a scripted
// FakeMultiHttpClient, and Slack messages are read from the notifier's outbox (no webhook is
// registered, so nothing leaves it), so "two intervals later" costs nothing and nothing depends
// on timing.
#include "health/monitor.h"

#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "notify/notifier.h"
#include "support/fake_clock.h"
#include "support/fake_multi_http_client.h"

namespace obsforge::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kKey = "{secret: HOOK}";

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http_.script().On("GET", "http://loki:3100/ready", [this](const http::Request&) {
      return healthy_ ? testing::FakeHttpClient::Reply(200, "ready\n")
                      : testing::FakeHttpClient::Reply(503, "Ingester not ready\n");
    });
    // Loki's ruler, which the monitor also checks: no rules, so nothing fails there.
    http_.script().On("GET", "http://loki:3100/prometheus/api/v1/rules", [](const http::Request&) {
      return testing::FakeHttpClient::Reply(200, R"({"status":"success","data":{"groups":[]}})");
    });
  }

  std::unique_ptr<HealthMonitor> MakeMonitor(MonitorOptions options) {
    options.prober.jitter = 0;
    options.prober.spread_first_run = false;
    return std::make_unique<HealthMonitor>(options, clock_, http_, &notifier_, nullptr,
                                           core::NullLogger());
  }

  EnvironmentWatch Watch() const {
    return EnvironmentWatch{.stack = "s",
                            .env = "e",
                            .endpoints = {.loki = "http://loki:3100"},
                            .options = {.interval = kInterval},
                            .failure_threshold = 2,
                            .slack_channel_key = kKey,
                            .slack_channel = "#c"};
  }

  std::vector<std::string> Texts() const {
    std::vector<std::string> out;
    for (const auto& entry : outbox_.All()) {
      out.push_back(nlohmann::json::parse(entry.payload_json).value("text", ""));
    }
    return out;
  }

  // Steps the loop until `done` (false after `limit` of clock time).
  bool StepUntil(HealthMonitor& monitor,
                 const std::function<bool()>& done,
                 milliseconds limit = std::chrono::minutes(30)) {
    const auto end = clock_.Monotonic() + limit;
    while (!done() && clock_.Monotonic() < end) {
      monitor.Step(milliseconds(1000));
    }
    return done();
  }

  State StateOf(const HealthMonitor& monitor) const {
    const auto status = monitor.Status("s", "e");
    return status ? status->state : State::kUnknown;
  }

  static constexpr milliseconds kInterval{15000};
  testing::FakeClock clock_;
  testing::FakeMultiHttpClient http_{clock_};
  testing::FakeHttpClient unused_;
  notify::InMemoryOutbox outbox_;
  notify::Notifier notifier_{{}, outbox_, unused_, clock_, core::NullLogger()};
  std::atomic<bool> healthy_{true};
};

TEST_F(MonitorTest, ARecoveryIsAnnouncedWithinTwoIntervalsOfTheFixByDefault) {
  auto monitor = MakeMonitor({});  // the defaults: 5 min flap window, recovery_after 1
  monitor->Watch(Watch());
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kOk; }));
  EXPECT_TRUE(Texts().empty());  // coming up healthy is not news

  healthy_ = false;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 1; }));
  EXPECT_EQ(Texts()[0], "s/e is down (was ok): loki/ready: HTTP 503: Ingester not ready");

  healthy_ = true;
  const auto fixed = clock_.Monotonic();
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 2; }));
  EXPECT_EQ(Texts()[1], "s/e recovered (was down)");
  EXPECT_LE(clock_.Monotonic() - fixed, 2 * kInterval);  // not after the 5 min flap window
}

TEST_F(MonitorTest, RecoveryAfterHoldsTheRecoveryAndAFlapMeanwhileSendsNothing) {
  auto monitor = MakeMonitor({});
  auto watch = Watch();
  watch.recovery_after = 3;  // ok for three runs: the first, then two intervals more
  watch.failure_threshold = 1;
  monitor->Watch(watch);
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kOk; }));
  healthy_ = false;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 1; }));

  // Back for one run only, then down again: no recovery message, and no second "down".
  healthy_ = true;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kOk; }));
  healthy_ = false;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kDown; }));
  EXPECT_EQ(Texts().size(), 1U) << ::testing::PrintToString(Texts());

  healthy_ = true;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kOk; }));
  const auto ok_at = clock_.Monotonic();
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 2; }));
  EXPECT_EQ(Texts()[1], "s/e recovered (was down)");
  EXPECT_GE(clock_.Monotonic() - ok_at, 2 * kInterval);
  EXPECT_LE(clock_.Monotonic() - ok_at, 3 * kInterval);
}

TEST_F(MonitorTest, ReWatchNeitherRepeatsTheLastMessageNorSwallowsTheRecovery) {
  auto monitor = MakeMonitor({.damping_window = milliseconds(0)});
  monitor->Watch(Watch());
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kOk; }));
  healthy_ = false;
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 1; }));
  ASSERT_EQ(outbox_.All().size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(outbox_.All()[0].payload_json)["channel"], "#c");

  // Still down after a re-watch: the message already said so. Ten intervals pass.
  monitor->Watch(Watch());
  ASSERT_TRUE(StepUntil(*monitor, [&] { return StateOf(*monitor) == State::kDown; }));
  const auto later = clock_.Monotonic() + 10 * kInterval;
  StepUntil(*monitor, [&] { return clock_.Monotonic() >= later; });
  EXPECT_EQ(Texts().size(), 1U) << ::testing::PrintToString(Texts());

  // Fixed, and re-watched (an apply that fixed it): the first ok after the re-watch is news.
  healthy_ = true;
  monitor->Watch(Watch());
  ASSERT_TRUE(StepUntil(*monitor, [&] { return Texts().size() == 2; }));
  EXPECT_EQ(Texts()[1], "s/e recovered (was down)");
  const auto quiet = clock_.Monotonic() + 10 * kInterval;
  StepUntil(*monitor, [&] { return clock_.Monotonic() >= quiet; });
  EXPECT_EQ(Texts().size(), 2U) << ::testing::PrintToString(Texts());
}

}  // namespace
}  // namespace obsforge::health
