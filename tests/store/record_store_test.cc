#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;

using RecordStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, RecordStoreTest, AllBackings(), BackingName);

std::vector<std::string> Checks(const std::vector<HealthEvent>& events) {
  std::vector<std::string> checks;
  for (const HealthEvent& e : events) {
    checks.push_back(e.check);
  }
  return checks;
}

TEST_P(RecordStoreTest, HealthEventsFilterBySinceAndEnvNewestFirst) {
  const TimeMs t0 = NowMs();
  auto first = store_->AppendHealthEvent({.stack = "demo",
                                          .env = "dev",
                                          .component = "prometheus",
                                          .check = "ready",
                                          .from_state = "ok",
                                          .to_state = "failing",
                                          .message = "connection refused"});
  ASSERT_TRUE(first) << first.error().message;
  auto second = store_->AppendHealthEvent(
      {.stack = "demo", .env = "prod", .check = "healthy", .at = t0 + 1000});
  auto third = store_->AppendHealthEvent(
      {.stack = "demo", .env = "dev", .check = "targets", .at = t0 + 2000});
  ASSERT_TRUE(second && third);
  EXPECT_LT(*first, *second);
  EXPECT_LT(*second, *third);
  ASSERT_TRUE(store_->AppendHealthEvent({.stack = "other", .env = "dev", .check = "x"}));

  auto all = store_->ListHealthEvents({.stack = "demo"});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_THAT(Checks(*all), ElementsAre("targets", "healthy", "ready"));
  const HealthEvent& ready = all->at(2);
  EXPECT_EQ(ready.id, *first);
  EXPECT_EQ(ready.component, "prometheus");
  EXPECT_EQ(ready.from_state, "ok");
  EXPECT_EQ(ready.to_state, "failing");
  EXPECT_EQ(ready.at, t0);  // stamped from the clock
  EXPECT_EQ(ready.message, "connection refused");

  EXPECT_THAT(Checks(*store_->ListHealthEvents({.stack = "demo", .env = "dev"})),
              ElementsAre("targets", "ready"));
  EXPECT_THAT(Checks(*store_->ListHealthEvents({.stack = "demo", .since = t0 + 1000})),
              ElementsAre("targets", "healthy"));
  EXPECT_THAT(Checks(*store_->ListHealthEvents({.stack = "demo", .limit = 1})),
              ElementsAre("targets"));

  auto pruned = store_->PruneHealthEvents(t0 + 1000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2);  // "ready" of demo and "x" of other
  EXPECT_THAT(Checks(*store_->ListHealthEvents({.stack = "demo"})),
              ElementsAre("targets", "healthy"));
}

TEST_P(RecordStoreTest, ProvisionedObjectsUpsertListAndDelete) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  ASSERT_TRUE(store_->UpsertProvisionedObject({.stack = "demo",
                                               .env = "dev",
                                               .kind = ObjectKind::kFolder,
                                               .uid = "f1",
                                               .content_hash = "h-f1"}));
  ASSERT_TRUE(store_->UpsertProvisionedObject(
      {.stack = "demo", .env = "dev", .kind = ObjectKind::kDashboard, .uid = "d2"}));
  ASSERT_TRUE(store_->UpsertProvisionedObject({.stack = "demo",
                                               .env = "dev",
                                               .kind = ObjectKind::kDashboard,
                                               .uid = "d1",
                                               .remote_version = 7,
                                               .remote_id = 42}));
  ASSERT_TRUE(store_->UpsertProvisionedObject(
      {.stack = "demo", .env = "prod", .kind = ObjectKind::kDashboard, .uid = "d1"}));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->UpsertProvisionedObject({.stack = "demo",
                                               .env = "dev",
                                               .kind = ObjectKind::kFolder,
                                               .uid = "f1",
                                               .content_hash = "h-f1-v2"}));

  auto all = store_->ListProvisionedObjects("demo", "dev", std::nullopt);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3U);
  EXPECT_EQ(all->at(0).uid, "d1");
  EXPECT_EQ(all->at(0).kind, ObjectKind::kDashboard);
  EXPECT_EQ(all->at(0).remote_version, 7);
  EXPECT_EQ(all->at(0).remote_id, 42);
  EXPECT_EQ(all->at(1).uid, "d2");
  EXPECT_EQ(all->at(1).remote_version, 0);
  EXPECT_EQ(all->at(2).uid, "f1");
  EXPECT_EQ(all->at(2).kind, ObjectKind::kFolder);
  EXPECT_EQ(all->at(2).content_hash, "h-f1-v2");
  EXPECT_EQ(all->at(2).updated_at, NowMs());

  auto folders = store_->ListProvisionedObjects("demo", "dev", ObjectKind::kFolder);
  ASSERT_EQ(folders->size(), 1U);
  EXPECT_EQ(folders->at(0).uid, "f1");

  ASSERT_TRUE(store_->DeleteProvisionedObject("demo", "dev", ObjectKind::kDashboard, "d1"));
  EXPECT_EQ(store_->ListProvisionedObjects("demo", "dev", ObjectKind::kDashboard)->size(), 1U);
  EXPECT_EQ(store_->ListProvisionedObjects("demo", "prod", std::nullopt)->size(), 1U);

  auto gone = store_->DeleteProvisionedObject("demo", "dev", ObjectKind::kDashboard, "d1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(gone.error().message, "provisioned dashboard d1 of demo/dev not found");

  auto no_stack = store_->UpsertProvisionedObject(
      {.stack = "ghost", .env = "dev", .kind = ObjectKind::kLokiGroup, .uid = "g"});
  ASSERT_FALSE(no_stack);
  EXPECT_EQ(no_stack.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(no_stack.error().message, "stack ghost not found");
}

TEST_P(RecordStoreTest, GitStatePutAndGet) {
  auto missing = store_->GetGitState("repo#main:stacks/");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "git source repo#main:stacks/ has no state");

  ASSERT_TRUE(store_->PutGitState({.source_key = "repo#main:stacks/", .last_seen_sha = "aaa"}));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->PutGitState(
      {.source_key = "repo#main:stacks/", .last_seen_sha = "bbb", .last_applied_sha = "aaa"}));
  auto got = store_->GetGitState("repo#main:stacks/");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->last_seen_sha, "bbb");
  EXPECT_EQ(got->last_applied_sha, "aaa");
  EXPECT_EQ(got->updated_at, NowMs());
}

TEST_P(RecordStoreTest, WebhookDeliveryIsAcceptedOnce) {
  ASSERT_TRUE(store_->RecordWebhookDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  ASSERT_TRUE(store_->RecordWebhookDelivery("other"));
  auto again = store_->RecordWebhookDelivery("72d3162e-cc78-11e3-81ab-4c9367dc0958");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(again.error().message,
            "webhook delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958 was already received");
  if (Persistent()) {
    Reopen();
    EXPECT_EQ(store_->RecordWebhookDelivery("other").error().code, core::ErrorCode::kConflict);
  }

  clock_.Advance(std::chrono::hours(48));
  auto pruned = store_->PruneWebhookDeliveries(NowMs() - 24 * 3600 * 1000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 2);
  EXPECT_TRUE(store_->RecordWebhookDelivery("other"));
}

}  // namespace
}  // namespace obsforge::store::testing
