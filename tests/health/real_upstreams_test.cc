// Health against real Prometheus 2.42 and Alertmanager 0.25, with Slack faked on loopback.
#include "support/real_upstreams.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_slack.h"
#include "health/monitor.h"
#include "http/curl_http_client.h"
#include "notify/notifier.h"
#include "support/monitor_wait.h"
#include "support/poll_until.h"

namespace obsforge::health {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

const std::string kKey = "{secret: SLACK_HEALTH_WEBHOOK}";
constexpr milliseconds kDamping{500};

void Write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

class RealUpstreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    global_ = std::make_unique<http::CurlGlobal>();
    client_ = std::make_unique<http::CurlHttpClient>();
    dir_ = fs::temp_directory_path() /
           ("obs-health-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    prometheus_.reset();
    alertmanager_.reset();
    client_.reset();
    global_.reset();
    fs::remove_all(dir_);
  }

  void StartPrometheus(const fs::path& binary, const std::string& extra_config) {
    if (prom_port_ == 0) {
      prom_port_ = testing::FreeLoopbackPort();
      Write(dir_ / "prometheus.yml",
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n" + extra_config);
    }
    prometheus_ = std::make_unique<testing::UpstreamProcess>(
        binary,
        std::vector<std::string>{"--config.file=" + (dir_ / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_ / "prom-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
        dir_ / "prometheus.log");
    ASSERT_TRUE(testing::WaitUntilReady(*client_, PromUrl() + "/-/ready"));
  }

  void StartAlertmanager(const fs::path& binary) {
    am_port_ = testing::FreeLoopbackPort();
    Write(dir_ / "alertmanager.yml", "route: {receiver: none}\nreceivers: [{name: none}]\n");
    alertmanager_ = std::make_unique<testing::UpstreamProcess>(
        binary,
        std::vector<std::string>{"--config.file=" + (dir_ / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir_ / "am-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(am_port_),
                                 "--cluster.listen-address="},
        dir_ / "alertmanager.log");
    ASSERT_TRUE(testing::WaitUntilReady(*client_, AmUrl() + "/-/ready"));
  }

  std::string PromUrl() const { return "http://127.0.0.1:" + std::to_string(prom_port_); }
  std::string AmUrl() const { return "http://127.0.0.1:" + std::to_string(am_port_); }

  // Polls `monitor` until `pred` holds for demo/dev (false after a minute).
  static bool WaitFor(const HealthMonitor& monitor,
                      const std::function<bool(const EnvironmentStatus&)>& pred) {
    return testing::PollUntil(
        [&] {
          const auto status = monitor.Status("demo", "dev");
          return status && pred(*status);
        },
        std::chrono::seconds(60));
  }

  // Whether every check of `component` is in `state`.
  static bool AllChecks(const EnvironmentStatus& status,
                        const std::string& component,
                        State state) {
    return std::any_of(status.components.begin(), status.components.end(),
                       [&](const ComponentStatus& c) {
                         return c.name == component &&
                                std::all_of(c.checks.begin(), c.checks.end(),
                                            [&](const CheckStatus& k) { return k.state == state; });
                       });
  }

  // Whether every message of `outbox` is delivered or dropped (then each delivered one reached
  // Slack: the sender marks a message after Slack answered).
  static bool Delivered(const notify::InMemoryOutbox& outbox) {
    return testing::PollUntil([&] {
      const auto all = outbox.All();
      return std::all_of(all.begin(), all.end(),
                         [](const auto& e) { return e.delivered || e.dropped; });
    });
  }

  static const CheckStatus* Find(const EnvironmentStatus& status,
                                 const std::string& component,
                                 const std::string& check) {
    for (const auto& c : status.components) {
      for (const auto& k : c.checks) {
        if (c.name == component && k.name == check) {
          return &k;
        }
      }
    }
    return nullptr;
  }

  std::unique_ptr<http::CurlGlobal> global_;
  std::unique_ptr<http::CurlHttpClient> client_;
  fs::path dir_;
  int prom_port_ = 0;
  int am_port_ = 0;
  std::unique_ptr<testing::UpstreamProcess> prometheus_;
  std::unique_ptr<testing::UpstreamProcess> alertmanager_;
  core::SystemClock clock_;
};

TEST_F(RealUpstreamsTest, KillingPrometheusSendsExactlyOneMessageAndOneOnRecovery) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  StartPrometheus(*prometheus, "");
  StartAlertmanager(*alertmanager);

  fakes::FakeSlack slack;
  notify::InMemoryOutbox outbox;
  std::ostringstream log;
  core::Logger logger(log);
  notify::Notifier notifier({.min_interval = milliseconds(50), .poll = milliseconds(20)}, outbox,
                            *client_, clock_, logger);
  notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl()));
  HealthMonitor monitor({.prober = {.spread_first_run = false}, .damping_window = kDamping}, clock_,
                        &notifier, nullptr, logger);
  monitor.Start();
  monitor.Watch({.stack = "demo",
                 .env = "dev",
                 .endpoints = {.prometheus = PromUrl(), .alertmanager = AmUrl()},
                 .options = {.interval = milliseconds(200), .timeout = milliseconds(1000)},
                 .failure_threshold = 3,
                 .slack_channel_key = kKey});
  ASSERT_TRUE(WaitFor(monitor, [](const auto& s) { return s.state == State::kOk; }))
      << ToJson(*monitor.Status("demo", "dev")).dump(2);
  EXPECT_TRUE(slack.Messages().empty());  // coming up healthy is not announced

  prometheus_->Stop();
  ASSERT_TRUE(slack.WaitForMessages(1, std::chrono::seconds(60)));
  const auto down_at = clock_.Now();  // after the monitor took the message as sent
  const auto status = monitor.Status("demo", "dev");
  EXPECT_EQ(status->state, State::kDegraded);
  EXPECT_EQ(status->components[1].name, "prometheus");
  // Whichever check crossed the threshold first sent the message; the liveness checks follow.
  EXPECT_TRUE(
      WaitFor(monitor, [](const auto& s) { return s.components[1].state == State::kDown; }));
  EXPECT_EQ(status->components[0].state, State::kOk);
  const auto down = slack.Messages()[0];
  EXPECT_EQ(down["blocks"][0]["text"]["text"], "demo/dev is degraded");
  // Says why: the failing liveness/readiness check and curl's error.
  EXPECT_THAT(down["text"].get<std::string>(),
              HasSubstr("demo/dev is degraded (was ok): prometheus/"));
  EXPECT_THAT(down["text"].get<std::string>(), HasSubstr(": GET " + PromUrl() + "/"));
  EXPECT_THAT(down["text"].get<std::string>(),
              HasSubstr("Failed to connect to 127.0.0.1 port " + std::to_string(prom_port_)));
  // Still one message once nothing more can change: every Prometheus check failing, every check
  // run and handled after the damping window of the message (a held message goes out then),
  // and everything enqueued delivered.
  ASSERT_TRUE(WaitFor(monitor, [](const auto& s) {
    return AllChecks(s, "prometheus", State::kFailing);
  })) << ToJson(*monitor.Status("demo", "dev")).dump(2);
  ASSERT_TRUE(testing::WaitRunsHandledAfter(monitor, "demo", "dev",
                                            std::max(clock_.Now(), down_at + kDamping)));
  ASSERT_TRUE(Delivered(outbox));
  EXPECT_EQ(slack.Messages().size(), 1U);

  StartPrometheus(*prometheus, "");
  ASSERT_TRUE(slack.WaitForMessages(2, std::chrono::seconds(60)));
  const auto recovered_at = clock_.Now();
  EXPECT_EQ(slack.Messages()[1]["blocks"][0]["text"]["text"], "demo/dev recovered");
  EXPECT_EQ(slack.Messages()[1]["text"], "demo/dev recovered (was degraded)");
  ASSERT_TRUE(WaitFor(monitor, [](const auto& s) {
    return AllChecks(s, "prometheus", State::kOk) && AllChecks(s, "alertmanager", State::kOk);
  })) << ToJson(*monitor.Status("demo", "dev")).dump(2);
  ASSERT_TRUE(testing::WaitRunsHandledAfter(monitor, "demo", "dev",
                                            std::max(clock_.Now(), recovered_at + kDamping)));
  ASSERT_TRUE(Delivered(outbox));
  EXPECT_EQ(slack.Messages().size(), 2U);
  EXPECT_EQ(monitor.Status("demo", "dev")->state, State::kOk);
  monitor.Stop();
}

TEST_F(RealUpstreamsTest, DownTargetAndRuleEvaluationErrorShowWithTheirErrors) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  const int dead = testing::FreeLoopbackPort();
  // `up * on() group_left() up` has two series on the right with the same (empty) match group:
  // a many-to-one matching error at every evaluation.
  Write(dir_ / "rules.yml",
        "groups:\n- name: broken\n  rules:\n  - record: broken:up\n"
        "    expr: up * on() group_left() up\n");
  prom_port_ = testing::FreeLoopbackPort();
  Write(dir_ / "prometheus.yml",
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [" +
            (dir_ / "rules.yml").string() +
            "]\n"
            "scrape_configs:\n"
            "- job_name: self\n  static_configs: [{targets: ['127.0.0.1:" +
            std::to_string(prom_port_) +
            "']}]\n"
            "- job_name: dead\n  static_configs: [{targets: ['127.0.0.1:" +
            std::to_string(dead) + "']}]\n");
  StartPrometheus(*prometheus, "");
  StartAlertmanager(*alertmanager);
  HealthMonitor monitor({.prober = {.spread_first_run = false}}, clock_, nullptr, nullptr,
                        core::NullLogger());
  monitor.Start();
  monitor.Watch({.stack = "demo",
                 .env = "dev",
                 .endpoints = {.prometheus = PromUrl(), .alertmanager = AmUrl()},
                 .options = {.interval = milliseconds(200)},
                 .failure_threshold = 1});
  // Prometheus lists each job's targets once that job's discovery has synced: a first answer can
  // hold the dead target alone ("1 of 1 targets down"). Wait until it lists both.
  ASSERT_TRUE(WaitFor(monitor, [](const auto& s) {
    const auto* targets = Find(s, "prometheus", "targets");
    const auto* rules = Find(s, "prometheus", "rules");
    return targets->state == State::kFailing && rules->state == State::kFailing &&
           targets->last_error.rfind("1 of 2 targets down", 0) == 0;
  })) << ToJson(*monitor.Status("demo", "dev")).dump(2);
  const auto status = *monitor.Status("demo", "dev");
  EXPECT_EQ(Find(status, "prometheus", "targets")->last_error,
            "1 of 2 targets down: dead http://127.0.0.1:" + std::to_string(dead) +
                "/metrics: Get \"http://127.0.0.1:" + std::to_string(dead) +
                "/metrics\": dial tcp 127.0.0.1:" + std::to_string(dead) +
                ": connect: connection refused");
  EXPECT_EQ(Find(status, "prometheus", "targets")->value, 0.5);
  EXPECT_THAT(Find(status, "prometheus", "rules")->last_error,
              HasSubstr("1 rules failing: " + (dir_ / "rules.yml").string() +
                        "/broken/broken:up: found duplicate series for the match group"));
  EXPECT_EQ(Find(status, "prometheus", "ready")->state, State::kOk);
  EXPECT_EQ(Find(status, "prometheus", "config_reload")->state, State::kOk);
  EXPECT_EQ(Find(status, "alertmanager", "cluster")->state, State::kOk);
  EXPECT_EQ(Find(status, "alertmanager", "config_reload")->state, State::kOk);
  EXPECT_EQ(status.state, State::kDegraded);
  EXPECT_EQ(status.components[1].state, State::kDegraded);
  monitor.Stop();
}

}  // namespace
}  // namespace obsforge::health
