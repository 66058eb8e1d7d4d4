#include "notify/notifier.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <sstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_slack.h"
#include "http/curl_http_client.h"
#include "support/fake_http_client.h"
#include "support/poll_until.h"

namespace obsforge::notify {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey = "{secret: SLACK_HEALTH_WEBHOOK}";
const std::string kSecretPart = "T0PSECRETPATHxyz123";
// Bounds a wait for a message; it only ends a failing test.
constexpr std::chrono::seconds kBound{30};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    global_ = std::make_unique<http::CurlGlobal>();
    client_ = std::make_unique<http::CurlHttpClient>();
  }
  void TearDown() override {
    client_.reset();
    global_.reset();
  }

  // Waits until every message of the outbox is finished.
  static bool WaitFinished(const InMemoryOutbox& outbox) {
    return obsforge::testing::PollUntil([&] {
      const auto all = outbox.All();
      return std::all_of(all.begin(), all.end(),
                         [](const auto& e) { return e.delivered || e.dropped; });
    });
  }

  static json Payload(int n) { return json{{"text", "message " + std::to_string(n)}}; }

  NotifierOptions fast_{.min_interval = milliseconds(20),
                        .backoff_initial = milliseconds(20),
                        .backoff_max = milliseconds(100),
                        .poll = milliseconds(20)};
  std::unique_ptr<http::CurlGlobal> global_;
  std::unique_ptr<http::CurlHttpClient> client_;
  core::SystemClock clock_;
  std::ostringstream log_;
  core::Logger logger_{log_};
};

TEST_F(NotifierTest, RateLimitStormDeliversEveryMessageOnceInOrder) {
  fakes::FakeSlack slack;
  slack.RateLimitNext(4, 1);
  InMemoryOutbox outbox;
  Notifier notifier(fast_, outbox, *client_, clock_, logger_);
  notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl(kSecretPart)));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(notifier.Post(kKey, Payload(i)).ok());
  }
  ASSERT_TRUE(slack.WaitForMessages(5, kBound));
  ASSERT_TRUE(WaitFinished(outbox));
  // Stop joins the sender: every send it made has been answered, so a duplicate is counted.
  notifier.Stop();
  const auto messages = slack.Messages();
  ASSERT_EQ(messages.size(), 5U);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(messages[static_cast<std::size_t>(i)]["text"], "message " + std::to_string(i));
  }
  EXPECT_EQ(slack.Attempts(), 9);
  EXPECT_EQ(outbox.All()[0].attempts, 4);
}

TEST_F(NotifierTest, RestartDeliversWhatWasLeftExactlyOnce) {
  fakes::FakeSlack slack;
  InMemoryOutbox outbox;
  {
    // The first process delivers one message and is stopped while Slack is failing.
    Notifier first(fast_, outbox, *client_, clock_, logger_);
    first.AddWebhook(kKey, core::Secret(slack.WebhookUrl(kSecretPart)));
    ASSERT_TRUE(first.Post(kKey, Payload(0)).ok());
    ASSERT_TRUE(slack.WaitForMessages(1, kBound));
    slack.FailNext(1000, 500, "rollup_error");
    for (int i = 1; i < 4; ++i) {
      ASSERT_TRUE(first.Post(kKey, Payload(i)).ok());
    }
    // Stopped once Slack has refused a send of message 1.
    ASSERT_TRUE(obsforge::testing::PollUntil([&] { return outbox.All()[1].attempts >= 1; }));
  }
  // The first Notifier's sender is joined: nothing more from it can arrive.
  EXPECT_EQ(slack.Messages().size(), 1U);
  slack.faults().Clear();
  Notifier second(fast_, outbox, *client_, clock_, logger_);
  second.AddWebhook(kKey, core::Secret(slack.WebhookUrl(kSecretPart)));
  ASSERT_TRUE(WaitFinished(outbox));
  second.Stop();  // joins the sender: a duplicate would be counted now
  const auto messages = slack.Messages();
  ASSERT_EQ(messages.size(), 4U);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(messages[static_cast<std::size_t>(i)]["text"], "message " + std::to_string(i));
  }
  for (const auto& entry : outbox.All()) {
    EXPECT_TRUE(entry.delivered) << entry.id;
  }
}

TEST_F(NotifierTest, OtherClientErrorsAreDroppedWithTheReasonAndNeverShowTheUrl) {
  fakes::FakeSlack slack;
  slack.FailNext(1, 400, "invalid_payload");
  InMemoryOutbox outbox;
  Notifier notifier(fast_, outbox, *client_, clock_, logger_);
  notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl(kSecretPart)));
  ASSERT_TRUE(notifier.Post(kKey, Payload(0)).ok());
  ASSERT_TRUE(notifier.Post(kKey, Payload(1)).ok());
  ASSERT_TRUE(slack.WaitForMessages(1, kBound));
  ASSERT_TRUE(WaitFinished(outbox));
  const auto all = outbox.All();
  EXPECT_TRUE(all[0].dropped);
  EXPECT_EQ(all[0].dropped_reason, "HTTP 400: invalid_payload");
  EXPECT_TRUE(all[1].delivered);
  EXPECT_EQ(slack.Messages()[0]["text"], "message 1");
  EXPECT_THAT(log_.str(), HasSubstr("\"reason\":\"HTTP 400: invalid_payload\""));
  EXPECT_THAT(log_.str(), HasSubstr(kKey));
  EXPECT_THAT(log_.str(), Not(HasSubstr(kSecretPart)));
}

TEST_F(NotifierTest, UnreachableWebhookRetriesWithBackoffThenDropsWithoutLeakingTheUrl) {
  InMemoryOutbox outbox;
  auto options = fast_;
  options.max_attempts = 3;
  Notifier notifier(options, outbox, *client_, clock_, logger_);
  // Port 9 (discard) on loopback: connection refused.
  notifier.AddWebhook(kKey, core::Secret("http://127.0.0.1:9/services/T/B/" + kSecretPart));
  ASSERT_TRUE(notifier.Post(kKey, Payload(0)).ok());
  ASSERT_TRUE(WaitFinished(outbox));
  const auto entry = outbox.All()[0];
  EXPECT_TRUE(entry.dropped);
  EXPECT_EQ(entry.attempts, 2);
  EXPECT_THAT(entry.dropped_reason, HasSubstr("gave up after 3 attempts: POST " + kKey + ": "));
  EXPECT_THAT(entry.dropped_reason + entry.last_error + log_.str(), Not(HasSubstr(kSecretPart)));
}

TEST(NotifierRate, AtMostOneSendPerIntervalPerWebhook) {
  testing::FakeHttpClient http;
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> sends;
  http.On("POST", "http://slack/hook", [&](const http::Request&) {
    std::lock_guard lock(mu);
    sends.push_back(std::chrono::steady_clock::now());
    return core::Result<http::Response>(http::Response{.status = 200, .body = "ok"});
  });
  core::SystemClock clock;
  InMemoryOutbox outbox;
  Notifier notifier({.min_interval = milliseconds(200), .poll = milliseconds(10)}, outbox, http,
                    clock, core::NullLogger());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(notifier.Post("k", json{{"text", std::to_string(i)}}).ok());
  }
  notifier.AddWebhook("k", core::Secret("http://slack/hook"));
  ASSERT_TRUE(obsforge::testing::PollUntil([&] {
    std::lock_guard lock(mu);
    return sends.size() == 4;
  }));
  std::lock_guard lock(mu);
  ASSERT_EQ(sends.size(), 4U);
  for (std::size_t i = 1; i < sends.size(); ++i) {
    EXPECT_GE(sends[i] - sends[i - 1], milliseconds(200));
  }
  const auto requests = http.requests();
  EXPECT_EQ(requests[0].body, R"({"text":"0"})");
  EXPECT_EQ(requests[3].body, R"({"text":"3"})");
}

}  // namespace
}  // namespace obsforge::notify
