#include <gtest/gtest.h>

#include "fakes/fake_slack.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::Call;
using testing::Reply;

class SlackTest : public ::testing::Test {
 protected:
  Reply Post(const json& body, const std::string& type = "application/json") {
    return Call(slack_.port(), "POST", "/services/T0FAKE/B0FAKE/secret", body.dump(),
                {{"Content-Type", type}});
  }
  static json Section(std::size_t chars) {
    return {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", std::string(chars, 'x')}}}};
  }
  FakeSlack slack_;
};

TEST_F(SlackTest, AcceptsAndRecordsMessagesInOrder) {
  for (int i = 0; i < 3; ++i) {
    auto reply = Post({{"text", "msg " + std::to_string(i)}});
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "ok");
  }
  ASSERT_TRUE(slack_.WaitForMessages(3, std::chrono::seconds(30)));
  const auto messages = slack_.Messages();
  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(messages[2]["text"], "msg 2");
  EXPECT_EQ(slack_.MessagePaths()[0], "/services/T0FAKE/B0FAKE/secret");
  EXPECT_EQ(slack_.WebhookUrl("abc"), slack_.url() + "/services/T0FAKE/B0FAKE/abc");
}

TEST_F(SlackTest, PayloadErrors) {
  auto form = Post({{"text", "x"}}, "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 400);
  EXPECT_EQ(form.body, "invalid_payload");
  auto no_text = Post(json::object());
  EXPECT_EQ(no_text.status, 400);
  EXPECT_EQ(no_text.body, "no_text");
  EXPECT_EQ(Post({{"attachments", json::array()}}).body, "no_text");
  EXPECT_EQ(Post({{"attachments", "x"}}).body, "invalid_attachments");
  EXPECT_TRUE(slack_.Messages().empty());
}

TEST_F(SlackTest, AttachmentsAloneAreAMessage) {
  // Slack shows an attachment's text (its fallback in notifications): no top-level text needed.
  const json attachment{{"color", "#d00000"}, {"fallback", "s/e is down"}, {"text", "loki down"}};
  EXPECT_EQ(Post({{"attachments", json::array({attachment})}}).status, 200);
  ASSERT_EQ(slack_.Messages().size(), 1U);
  EXPECT_EQ(slack_.Messages()[0]["attachments"][0]["text"], "loki down");
  EXPECT_EQ(Post({{"attachments", json::array({{{"color", "#d00000"}}})}}).body, "no_text");
}

TEST_F(SlackTest, BlockKitLimits) {
  json blocks = json::array();
  for (int i = 0; i < 50; ++i) {
    blocks.push_back(Section(10));
  }
  EXPECT_EQ(Post({{"text", "t"}, {"blocks", blocks}}).status, 200);
  blocks.push_back(Section(10));
  auto too_many = Post({{"text", "t"}, {"blocks", blocks}});
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(too_many.body, "invalid_blocks");
  EXPECT_EQ(Post({{"text", "t"}, {"blocks", {Section(3000)}}}).status, 200);
  EXPECT_EQ(Post({{"text", "t"}, {"blocks", {Section(3001)}}}).body, "invalid_blocks");
  const auto header = [](std::size_t n) {
    return json{{"type", "header"},
                {"text", {{"type", "plain_text"}, {"text", std::string(n, 'h')}}}};
  };
  EXPECT_EQ(Post({{"text", "t"}, {"blocks", {header(150)}}}).status, 200);
  EXPECT_EQ(Post({{"text", "t"}, {"blocks", {header(151)}}}).body, "invalid_blocks");
  // Characters, not bytes: 3000 two-byte characters fit.
  std::string umlauts;
  for (int i = 0; i < 3000; ++i) {
    umlauts += "\xC3\xA4";
  }
  EXPECT_EQ(
      Post({{"text", "t"},
            {"blocks", {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", umlauts}}}}}}})
          .status,
      200);
}

TEST_F(SlackTest, InjectedFailures) {
  slack_.RateLimitNext(1, 2);
  slack_.FailNext(1, 500, "rollup_error");
  slack_.FailNext(1, 410, "channel_is_archived");
  slack_.FailNext(1, 404, "channel_not_found");
  slack_.FailNext(1, 400, "invalid_payload");
  auto limited = Post({{"text", "1"}});
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("Retry-After"), "2");
  auto rollup = Post({{"text", "1"}});
  EXPECT_EQ(rollup.status, 500);
  EXPECT_EQ(rollup.body, "rollup_error");
  EXPECT_EQ(Post({{"text", "1"}}).body, "channel_is_archived");
  EXPECT_EQ(Post({{"text", "1"}}).status, 404);
  EXPECT_EQ(Post({{"text", "1"}}).body, "invalid_payload");
  EXPECT_EQ(Post({{"text", "1"}}).status, 200);
  EXPECT_EQ(slack_.Messages().size(), 1U);
  EXPECT_EQ(slack_.Attempts(), 6);
}

}  // namespace
}  // namespace obsforge::fakes
