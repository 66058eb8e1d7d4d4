#include "gitops/webhook.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hash.h"

namespace obsforge::gitops {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Sign(const std::string& secret, const std::string& body) {
  const auto mac = core::HmacSha256(secret, body);
  return "sha256=" +
         core::ToHex(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

const std::string kBody =
    R"({"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111",)"
    R"("after":"2222222222222222222222222222222222222222","repository":{"name":"obs"}})";

TEST(GithubSignatureTest, AcceptsTheRightDigestOnly) {
  EXPECT_TRUE(VerifyGithubSignature("topsecret", kBody, Sign("topsecret", kBody)));
  std::string upper = Sign("topsecret", kBody);
  for (size_t i = 7; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  EXPECT_TRUE(VerifyGithubSignature("topsecret", kBody, upper));
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody, Sign("other", kBody)));
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody + " ", Sign("topsecret", kBody)));
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody, ""));
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody, "sha256="));
  const std::string hex = Sign("topsecret", kBody).substr(7);
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody, "sha1=" + hex));
  EXPECT_FALSE(VerifyGithubSignature("topsecret", kBody, hex));
  EXPECT_FALSE(VerifyGithubSignature("", kBody, Sign("", kBody)));
}

TEST(GitlabTokenTest, ComparesTheToken) {
  EXPECT_TRUE(VerifyGitlabToken("topsecret", "topsecret"));
  EXPECT_FALSE(VerifyGitlabToken("topsecret", "topsecreT"));
  EXPECT_FALSE(VerifyGitlabToken("topsecret", "topsecret2"));
  EXPECT_FALSE(VerifyGitlabToken("topsecret", ""));
  EXPECT_FALSE(VerifyGitlabToken("", ""));
}

TEST(DeliveryLogTest, RemembersTheLastIdsWithinCapacity) {
  InMemoryDeliveryLog log(3);
  EXPECT_FALSE(log.Seen("a"));
  EXPECT_TRUE(log.Seen("a"));
  EXPECT_FALSE(log.Seen("b"));
  EXPECT_FALSE(log.Seen("c"));
  EXPECT_FALSE(log.Seen("d"));  // evicts "a"
  EXPECT_TRUE(log.Seen("d"));
  EXPECT_TRUE(log.Seen("b"));
  EXPECT_FALSE(log.Seen("a"));
}

TEST(PushPayloadTest, ReadsGithubAndGitlab) {
  const auto github = ParsePushPayload(kBody);
  ASSERT_TRUE(github.has_value());
  EXPECT_EQ(github->ref, "refs/heads/main");
  EXPECT_EQ(github->after, std::string(40, '2'));
  const auto gitlab = ParsePushPayload(
      R"({"object_kind":"push","ref":"refs/heads/dev","after":"aaaa","checkout_sha":"bbbb"})");
  ASSERT_TRUE(gitlab.has_value());
  EXPECT_EQ(gitlab->ref, "refs/heads/dev");
  EXPECT_EQ(gitlab->after, "bbbb");
  const auto deleted = ParsePushPayload(R"({"ref":"refs/heads/x","checkout_sha":null})");
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->after, "");
  EXPECT_EQ(
      ParsePushPayload(R"({"ref":"refs/heads/x","after":")" + std::string(40, '0') + "\"}")->after,
      "");
  EXPECT_FALSE(ParsePushPayload(R"({"zen":"Keep it logically awesome.","hook_id":1})"));
  EXPECT_FALSE(ParsePushPayload("not json"));
  EXPECT_FALSE(ParsePushPayload("[1]"));
}

class WebhookHandlerTest : public ::testing::Test {
 protected:
  WebhookHandlerTest()
      : handler_({{.key = "main-src",
                   .branch = "main",
                   .secret = core::Secret("main-secret"),
                   .trigger = [this] { ++main_triggers_; }},
                  {.key = "dev-src",
                   .branch = "dev",
                   .secret = core::Secret("dev-secret"),
                   .trigger = [this] { ++dev_triggers_; }}},
                 log_) {}

  WebhookResponse Send(std::map<std::string, std::string> headers, const std::string& body) {
    return handler_.Handle({.header =
                                [headers](const std::string& name) {
                                  const auto it = headers.find(name);
                                  return it == headers.end() ? std::string() : it->second;
                                },
                            .body = body});
  }

  int main_triggers_ = 0;
  int dev_triggers_ = 0;
  InMemoryDeliveryLog log_;
  WebhookHandler handler_;
};

TEST_F(WebhookHandlerTest, ValidGithubPushTriggersItsSourceOnce) {
  const auto r = Send(
      {{"X-Hub-Signature-256", Sign("main-secret", kBody)}, {"X-GitHub-Delivery", "d-1"}}, kBody);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.outcome, "triggered");
  EXPECT_EQ(r.message, "sync triggered for refs/heads/main at " + std::string(40, '2'));
  EXPECT_THAT(r.sources, ElementsAre("main-src"));
  EXPECT_EQ(main_triggers_, 1);
  EXPECT_EQ(dev_triggers_, 0);

  const auto again = Send(
      {{"X-Hub-Signature-256", Sign("main-secret", kBody)}, {"X-GitHub-Delivery", "d-1"}}, kBody);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.outcome, "duplicate");
  EXPECT_EQ(again.message, "delivery d-1 was already handled");
  EXPECT_EQ(main_triggers_, 1);
}

TEST_F(WebhookHandlerTest, BadOrMissingSignatureIs401AndRecordsNothing) {
  const auto bad =
      Send({{"X-Hub-Signature-256", Sign("wrong", kBody)}, {"X-GitHub-Delivery", "d-2"}}, kBody);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.outcome, "unauthorized");
  EXPECT_EQ(bad.message, "webhook signature does not verify");
  const auto missing = Send({{"X-GitHub-Delivery", "d-2"}}, kBody);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.message, "missing X-Hub-Signature-256 or X-Gitlab-Token");
  const auto sha1 =
      Send({{"X-Hub-Signature-256", "sha1=" + Sign("main-secret", kBody).substr(7)}}, kBody);
  EXPECT_EQ(sha1.status, 401);
  EXPECT_EQ(main_triggers_ + dev_triggers_, 0);
  // The forged attempts did not burn the delivery id.
  EXPECT_FALSE(log_.Seen("d-2"));
}

TEST_F(WebhookHandlerTest, GitlabTokenSelectsTheSourceAndDedupesOnEventUuid) {
  const std::string body = R"({"object_kind":"push","ref":"refs/heads/dev","checkout_sha":"abc"})";
  const auto r = Send({{"X-Gitlab-Token", "dev-secret"}, {"X-Gitlab-Event-UUID", "u-1"}}, body);
  EXPECT_EQ(r.status, 202);
  EXPECT_THAT(r.sources, ElementsAre("dev-src"));
  EXPECT_EQ(dev_triggers_, 1);
  EXPECT_EQ(Send({{"X-Gitlab-Token", "dev-secret"}, {"X-Gitlab-Event-UUID", "u-1"}}, body).outcome,
            "duplicate");
  EXPECT_EQ(Send({{"X-Gitlab-Token", "main-secret"}, {"X-Gitlab-Event-UUID", "u-2"}}, body).outcome,
            "ignored");  // authenticated as main, but the push is to dev
  EXPECT_EQ(dev_triggers_, 1);
  EXPECT_EQ(main_triggers_, 0);
}

TEST_F(WebhookHandlerTest, PingsOtherBranchesAndDeletionsAreIgnored) {
  const std::string ping = R"({"zen":"Design for failure.","hook_id":7})";
  const auto p = Send({{"X-Hub-Signature-256", Sign("main-secret", ping)}}, ping);
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.outcome, "ignored");
  EXPECT_EQ(p.message, "not a push event");
  const std::string other = R"({"ref":"refs/heads/feature","after":"abc"})";
  const auto o = Send({{"X-Hub-Signature-256", Sign("main-secret", other)}}, other);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.message, "no source follows refs/heads/feature");
  EXPECT_THAT(o.sources, IsEmpty());
  const std::string gone = R"({"ref":"refs/heads/main","after":")" + std::string(40, '0') + "\"}";
  const auto g = Send({{"X-Hub-Signature-256", Sign("main-secret", gone)}}, gone);
  EXPECT_EQ(g.message, "branch deleted: refs/heads/main");
  EXPECT_EQ(main_triggers_, 0);
}

}  // namespace
}  // namespace obsforge::gitops
