// GitOps wired into the server: local bare repositories over file://, the real server on port 0
// with the fake backend (the apply outcome is not the subject here).
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/bytes.h"
#include "core/hash.h"
#include "gitops/test_repo.h"
#include "server/harness.h"
#include "support/poll_until.h"

namespace obsforge::server {
namespace {

using namespace std::chrono_literals;
using gitops::testing::TestRepo;
using obsforge::testing::PollUntil;
using testing::kAdminToken;
using testing::kViewerToken;
using testing::ServerHarness;
using testing::ShopSpec;

::testing::Environment* const kCurl =
    ::testing::AddGlobalTestEnvironment(new testing::CurlEnvironment);

constexpr const char* kSecret = "hook-secret-0123";

std::string Signature(const std::string& body, const std::string& secret = kSecret) {
  const auto mac = core::HmacSha256(secret, body);
  return "sha256=" + core::ToHex(core::CharsOf(mac));
}

// A sync on a loaded machine under ASan took more than 5 s: waits for one are bounded by a
// minute (the bound only ends a failing test).
constexpr std::chrono::seconds kSync{60};

class GitOpsServerTest : public ::testing::Test {
 protected:
  // Starts the server with one source on `remote_` (auto_apply dev, staging planned only).
  void StartServer(std::chrono::milliseconds poll, bool prune = false) {
    server_ = std::make_unique<ServerHarness>(true, [&](ServerOptions& options) {
      options.gitops_broken_commit = [this](const std::string& source,
                                            const gitops::SyncReport& report,
                                            const std::string& operation) {
        std::lock_guard lock(failures_mu_);
        failures_.push_back(source + " " + report.commit.sha + " " +
                            gitops::OutcomeName(report.outcome) + " " + operation);
      };
      gitops::SourceConfig source;
      source.repo = remote_.Url();
      source.path = "stacks";
      source.poll = poll;
      source.auto_apply = {"dev"};
      source.prune = prune;
      source.webhook_secret = core::SecretRef{.name = "HOOK_SECRET"};
      options.gitops = {source};
      options.secret_env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "HOOK_SECRET") {
          return std::string(kSecret);
        }
        return std::nullopt;
      };
    });
  }

  ServerHarness& server() { return *server_; }
  std::vector<std::string> Failures() {
    std::lock_guard lock(failures_mu_);
    return failures_;
  }

  nlohmann::json Revisions(const std::string& stack = "shop") {
    return ServerHarness::Json(
        server().Call("GET", "/api/v1/stacks/" + stack + "/revisions", kViewerToken));
  }
  // Sha of the newest revision ("" when the stack does not exist).
  std::string NewestSha(const std::string& stack = "shop") {
    const auto revisions = Revisions(stack);
    if (!revisions.contains("revisions") || revisions["revisions"].empty()) {
      return "";
    }
    return revisions["revisions"][0].value("commit", nlohmann::json::object()).value("sha", "");
  }
  // The dev environment applied `sha`'s revision and its state is ready.
  bool DevLive(const std::string& sha) {
    const auto revisions = Revisions();
    if (!revisions.contains("revisions") || revisions["revisions"].empty()) {
      return false;
    }
    const auto& newest = revisions["revisions"][0];
    return newest["commit"].value("sha", "") == sha && newest["environments"].contains("dev") &&
           newest["environments"]["dev"].value("applied", false) &&
           newest.value("outcome", "") == "succeeded";
  }
  nlohmann::json Source() {
    return ServerHarness::Json(server().Call("GET", "/api/v1/gitops", kViewerToken))["sources"][0];
  }
  // Waits until the last sync handled `sha`; that sync's report.
  nlohmann::json SyncOf(const std::string& sha) {
    nlohmann::json last;
    EXPECT_TRUE(PollUntil(
        [&] {
          last = Source()["last_sync"];
          return last.is_object() && last["sha"] == sha;
        },
        kSync))
        << last.dump();
    return last;
  }
  http::Response Webhook(const std::string& body,
                         const std::string& signature,
                         const std::string& delivery) {
    return server().Call("POST", "/api/v1/gitops/webhook", "", body, "application/json",
                         {{"X-GitHub-Event", "push"},
                          {"X-Hub-Signature-256", signature},
                          {"X-GitHub-Delivery", delivery}});
  }
  static std::string Push(const std::string& sha) {
    return R"({"ref":"refs/heads/main","after":")" + sha + R"("})";
  }
  int ApplyCalls() {
    int n = 0;
    for (const auto& call : server().backend.calls()) {
      n += call.rfind("apply ", 0) == 0 ? 1 : 0;
    }
    return n;
  }

  testing::TempDir dir_;
  TestRepo remote_{dir_.path() / "remote.git"};
  // Declared before server_: the hook writes here until the server is gone.
  std::mutex failures_mu_;
  std::vector<std::string> failures_;
  std::unique_ptr<ServerHarness> server_;
};

TEST_F(GitOpsServerTest, CommitIsAppliedWithinThePollIntervalWithTheCommitOnTheRevision) {
  StartServer(300ms);
  const std::string sha = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "shop: first\n\nbody");
  ASSERT_TRUE(PollUntil([&] { return DevLive(sha); }, kSync)) << Revisions().dump();

  const auto revision = Revisions()["revisions"][0];
  EXPECT_EQ(revision["source"], "git");
  EXPECT_EQ(revision["commit"]["sha"], sha);
  EXPECT_EQ(revision["commit"]["message"], "shop: first\n\nbody");
  EXPECT_THAT(revision["commit"]["author"].get<std::string>(), ::testing::HasSubstr("<"));
  EXPECT_EQ(revision["actor"], remote_.Url() + "#main:stacks");
  // staging is planned only: a plan operation holding the diff, nothing applied there.
  const auto ops = server().store().ListOperations({.stack = "shop", .env = "staging"});
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 1U);
  EXPECT_EQ((*ops)[0].kind, store::OperationKind::kPlan);
  const auto plan = server().WaitOperation((*ops)[0].id);
  EXPECT_EQ(plan["state"], "succeeded");
  EXPECT_EQ(plan["result"]["files"][0]["change"], "added");
  EXPECT_EQ(server().backend.calls(), std::vector<std::string>{"apply shop/dev {\"tier\":1}"});
  EXPECT_EQ(SyncOf(sha)["outcome"], "applied");
  EXPECT_EQ(Source()["last_good_sha"], sha);
}

TEST_F(GitOpsServerTest, WebhookAppliesAtOnceAndARepeatedDeliveryDoesNothing) {
  StartServer(1h);  // only the start-up sync polls
  const std::string first = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "first");
  // The start-up sync may or may not have seen the commit: the webhook makes sure.
  auto reply = Webhook(Push(first), Signature(Push(first)), "d-1");
  EXPECT_EQ(reply.status, 202) << reply.body;
  ASSERT_TRUE(PollUntil([&] { return DevLive(first); }, kSync));

  const std::string second =
      remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 2}")}}, "second");
  reply = Webhook(Push(second), Signature(Push(second)), "d-2");
  EXPECT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(ServerHarness::Json(reply)["outcome"], "triggered");
  // The poll interval is an hour: besides the start-up sync, only webhooks start syncs.
  ASSERT_TRUE(PollUntil([&] { return DevLive(second); }, kSync)) << Revisions().dump();
  // d-2 may have come in just after a sync started (for d-1) that still fetched and applied
  // `second`: the one more sync d-2 then asked for (a trigger during a sync causes one more) must
  // be over before `third` exists.
  ASSERT_TRUE(server().app().gitops().WaitIdle(60s));
  const int applies = ApplyCalls();

  // A newer commit waits in the repository: a sync (only a webhook starts one) would apply it.
  const std::string third = remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 3}")}}, "third");
  reply = Webhook(Push(second), Signature(Push(second)), "d-2");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(ServerHarness::Json(reply)["outcome"], "duplicate");
  // A sync the delivery asked for would be pending or running now: wait until none is.
  ASSERT_TRUE(server().app().gitops().WaitIdle(60s));
  EXPECT_EQ(ApplyCalls(), applies);
  EXPECT_EQ(Revisions()["revisions"].size(), 2U);
  EXPECT_NE(NewestSha(), third);
}

TEST_F(GitOpsServerTest, WrongSignatureIs401AndStartsNothing) {
  remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "first");
  StartServer(1h);
  ASSERT_TRUE(PollUntil([&] { return !NewestSha().empty(); }, kSync));
  const std::string second =
      remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 2}")}}, "second");
  const auto reply = Webhook(Push(second), Signature(Push(second), "wrong-secret"), "d-9");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(ServerHarness::Json(reply)["error"]["code"], "unauthorized");
  const auto unsigned_reply =
      server().Call("POST", "/api/v1/gitops/webhook", "", Push(second), "application/json");
  EXPECT_EQ(unsigned_reply.status, 401);
  // A sync either request asked for would be pending or running now: wait until none is.
  ASSERT_TRUE(server().app().gitops().WaitIdle(60s));
  EXPECT_NE(NewestSha(), second);
  EXPECT_EQ(Revisions()["revisions"].size(), 1U);
  // The delivery was not recorded: the same id with the right signature still triggers.
  EXPECT_EQ(Webhook(Push(second), Signature(Push(second)), "d-9").status, 202);
  EXPECT_TRUE(PollUntil([&] { return DevLive(second); }, kSync));
}

TEST_F(GitOpsServerTest, BrokenCommitAppliesNothingAndTheNextGoodCommitIs) {
  StartServer(300ms);
  const std::string good = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "good");
  ASSERT_TRUE(PollUntil([&] { return DevLive(good); }, kSync));
  const int applies = ApplyCalls();

  const std::string broken =
      remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 2}") + "  bogus: 1\n"}}, "broken");
  // last_seen_sha moves when the commit is fetched, last_sync when its sync ends: wait for that.
  const nlohmann::json last_sync = SyncOf(broken);
  EXPECT_EQ(Source()["last_seen_sha"], broken);
  EXPECT_EQ(Source()["last_good_sha"], good);
  EXPECT_EQ(last_sync["outcome"], "broken");
  const auto op = server().WaitOperation(last_sync["operation"].get<std::string>());
  EXPECT_EQ(op["state"], "failed");
  EXPECT_EQ(op["kind"], "sync");
  EXPECT_EQ(op["result"]["commit"]["sha"], broken);
  EXPECT_FALSE(op["result"]["diagnostics"].empty());
  EXPECT_EQ(ApplyCalls(), applies);
  EXPECT_TRUE(DevLive(good));
  // Announced once (serve turns this into Slack messages), naming the sync operation.
  const std::string announced = remote_.Url() + "#main:stacks " + broken + " broken " +
                                last_sync["operation"].get<std::string>();
  EXPECT_THAT(Failures(), ::testing::ElementsAre(announced));

  const std::string fixed = remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 3}")}}, "fixed");
  ASSERT_TRUE(PollUntil([&] { return DevLive(fixed); }, kSync));
  EXPECT_EQ(server().backend.calls().back(), "apply shop/dev {\"tier\":3}");
  EXPECT_EQ(SyncOf(fixed)["outcome"], "applied");
  EXPECT_EQ(Source()["last_good_sha"], fixed);
}

TEST_F(GitOpsServerTest, ForcePushRewindingTheBranchAppliesTheNewHead) {
  StartServer(300ms);
  const std::string a = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "a");
  ASSERT_TRUE(PollUntil([&] { return DevLive(a); }, kSync));
  const std::string b = remote_.Commit({{"stacks/shop.yaml", ShopSpec("{tier: 2}")}}, "b");
  ASSERT_TRUE(PollUntil([&] { return DevLive(b); }, kSync));
  // Rewritten history: a sibling of b replaces it.
  const std::string c =
      remote_.CommitOn(a, {{"stacks/shop.yaml", ShopSpec("{tier: 5}")}}, "c instead of b");
  ASSERT_TRUE(PollUntil([&] { return DevLive(c); }, kSync)) << Revisions().dump();
  EXPECT_EQ(server().backend.calls().back(), "apply shop/dev {\"tier\":5}");
  // And a plain rewind to an older commit.
  remote_.ResetBranch(a);
  ASSERT_TRUE(PollUntil([&] { return DevLive(a); }, kSync)) << Revisions().dump();
  EXPECT_EQ(server().backend.calls().back(), "apply shop/dev {\"tier\":1}");
  EXPECT_EQ(SyncOf(a)["outcome"], "applied");
  EXPECT_EQ(Source()["last_good_sha"], a);
}

TEST_F(GitOpsServerTest, AStackCreatedThroughTheApiIsNotOverwritten) {
  StartServer(300ms);
  auto created = server().Call("POST", "/api/v1/stacks", kAdminToken, ShopSpec("{tier: 7}"));
  ASSERT_EQ(created.status, 202) << created.body;
  const std::string sha = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "mine now?");
  const auto last = SyncOf(sha);
  EXPECT_EQ(last["outcome"], "failed");
  EXPECT_THAT(last["summary"].get<std::string>(),
              ::testing::HasSubstr("exists and was not created by this source"));
  const auto revisions = Revisions()["revisions"];
  ASSERT_EQ(revisions.size(), 1U);
  EXPECT_EQ(revisions[0]["source"], "api");
}

TEST_F(GitOpsServerTest, PruneTearsDownAStackThatLeftTheRepository) {
  StartServer(300ms, /*prune=*/true);
  std::string other = ShopSpec();
  other.replace(other.find("name: shop"), 10, "name: cart");
  const std::string both =
      remote_.Commit({{"stacks/shop.yaml", ShopSpec()}, {"stacks/cart.yaml", other}}, "two stacks");
  ASSERT_TRUE(PollUntil([&] { return DevLive(both) && NewestSha("cart") == both; }, kSync));
  const std::string one = remote_.Commit({{"stacks/shop.yaml", ShopSpec()}}, "cart leaves");
  ASSERT_TRUE(PollUntil([&] { return Source()["last_good_sha"] == one; }, kSync));
  EXPECT_EQ(server().Call("GET", "/api/v1/stacks/cart", kViewerToken).status, 404);
  EXPECT_EQ(SyncOf(one)["outcome"], "applied");
  // shop's files did not change: no new revision, no new apply.
  EXPECT_EQ(Revisions()["revisions"].size(), 1U);
}

TEST_F(GitOpsServerTest, WebhookRouteIsInTheOpenApiDocument) {
  StartServer(1h);
  const auto doc = ServerHarness::Json(server().Call("GET", "/api/v1/openapi.json", ""));
  ASSERT_TRUE(doc["paths"].contains("/api/v1/gitops/webhook")) << doc.dump();
  EXPECT_TRUE(doc["paths"]["/api/v1/gitops/webhook"].contains("post"));
}

}  // namespace
}  // namespace obsforge::server
