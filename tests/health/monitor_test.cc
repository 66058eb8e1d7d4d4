// HealthMonitor re-watches (every apply re-watches its environment): the state last announced on
// Slack survives them.
#include "health/monitor.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_server.h"
#include "fakes/fake_slack.h"
#include "http/curl_http_client.h"
#include "notify/notifier.h"

namespace obsforge::health {
namespace {

using std::chrono::milliseconds;

bool WaitFor(const std::function<bool()>& pred, milliseconds timeout = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

std::vector<std::string> Texts(const fakes::FakeSlack& slack) {
  std::vector<std::string> out;
  for (const auto& m : slack.Messages()) {
    out.push_back(m.value("text", ""));
  }
  return out;
}

TEST(HealthMonitorTest, ReWatchNeitherRepeatsTheLastMessageNorSwallowsTheRecovery) {
  const http::CurlGlobal curl;
  std::atomic<bool> healthy{true};
  fakes::FakeServer loki;
  loki.Route("GET", "/ready", [&](fakes::FakeRequest&) {
    return fakes::FakeResponse::Text(healthy ? 200 : 503, healthy ? "ready" : "Ingester not ready");
  });
  loki.Start();
  fakes::FakeSlack slack;
  core::SystemClock clock;
  http::CurlHttpClient client;
  notify::InMemoryOutbox outbox;
  notify::Notifier notifier({.min_interval = milliseconds(10), .poll = milliseconds(10)}, outbox,
                            client, clock, core::NullLogger());
  const std::string key = "{secret: HOOK}";
  notifier.AddWebhook(key, core::Secret(slack.WebhookUrl()));
  HealthMonitor monitor({.prober = {.spread_first_run = false}, .damping_window = milliseconds(0)},
                        clock, &notifier, nullptr, core::NullLogger());
  monitor.Start();
  const EnvironmentWatch watch{.stack = "s",
                               .env = "e",
                               .endpoints = {.loki = loki.url()},
                               .options = {.interval = milliseconds(50)},
                               .failure_threshold = 2,
                               .slack_channel_key = key,
                               .slack_channel = "#c"};
  const auto state = [&] {
    const auto status = monitor.Status("s", "e");
    return status ? status->state : State::kUnknown;
  };
  monitor.Watch(watch);
  ASSERT_TRUE(WaitFor([&] { return state() == State::kOk; }));

  healthy = false;
  ASSERT_TRUE(slack.WaitForMessages(1, milliseconds(5000)));
  EXPECT_EQ(slack.Messages()[0]["text"],
            "s/e is down (was ok): loki/ready: HTTP 503: Ingester not ready");
  EXPECT_EQ(slack.Messages()[0]["channel"], "#c");

  // Still down after a re-watch: the message already said so.
  monitor.Watch(watch);
  ASSERT_TRUE(WaitFor([&] { return state() == State::kDown; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Texts(slack).size(), 1u) << ::testing::PrintToString(Texts(slack));

  // Fixed, and re-watched (an apply that fixed it): the first ok after the re-watch is news.
  healthy = true;
  monitor.Watch(watch);
  ASSERT_TRUE(slack.WaitForMessages(2, milliseconds(5000)));
  EXPECT_EQ(slack.Messages()[1]["text"], "s/e recovered (was down)");
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Texts(slack).size(), 2u) << ::testing::PrintToString(Texts(slack));
  monitor.Stop();
  notifier.Stop();
}

}  // namespace
}  // namespace obsforge::health
