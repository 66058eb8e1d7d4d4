#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;

using OutboxStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, OutboxStoreTest, AllBackings(), BackingName);

TEST_P(OutboxStoreTest, EnqueuedMessageIsDueAndDeliveredOnce) {
  const TimeMs t0 = NowMs();
  auto id = store_->EnqueueOutbox("{secret: SLACK_DEMO}", R"({"text":"dev degraded"})", 0);
  ASSERT_TRUE(id) << id.error().message;

  auto next = store_->NextDueOutbox(t0);
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(next->has_value());
  const OutboxMessage& m = **next;
  EXPECT_EQ(m.id, *id);
  EXPECT_EQ(m.channel_key, "{secret: SLACK_DEMO}");
  EXPECT_EQ(m.payload_json, R"({"text":"dev degraded"})");
  EXPECT_EQ(m.created_at, t0);
  EXPECT_EQ(m.next_attempt_at, t0);
  EXPECT_EQ(m.attempts, 0);

  clock_.Advance(std::chrono::milliseconds(40));
  ASSERT_TRUE(store_->MarkOutboxDelivered(*id));
  EXPECT_FALSE(store_->NextDueOutbox(t0 + 1000)->has_value());
  auto stored = store_->GetOutbox(*id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->delivered_at, t0 + 40);
  EXPECT_EQ(stored->attempts, 1);

  auto twice = store_->MarkOutboxDelivered(*id);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(twice.error().message,
            "outbox message " + std::to_string(*id) + " is already delivered");
  EXPECT_EQ(store_->MarkOutboxAttempt(*id, t0, "x").error().code, core::ErrorCode::kPrecondition);

  auto missing = store_->MarkOutboxDelivered(9999);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "outbox message 9999 not found");
}

TEST_P(OutboxStoreTest, NotBeforeAndRetryTimesAreHonoured) {
  const TimeMs t0 = NowMs();
  auto id = *store_->EnqueueOutbox("a", "{}", t0 + 5000);
  EXPECT_FALSE(store_->NextDueOutbox(t0 + 4999)->has_value());
  EXPECT_EQ((*store_->NextDueOutbox(t0 + 5000))->id, id);

  ASSERT_TRUE(store_->MarkOutboxAttempt(id, t0 + 9000, "429 Too Many Requests; Retry-After: 4"));
  EXPECT_FALSE(store_->NextDueOutbox(t0 + 8999)->has_value());
  auto retry = *store_->NextDueOutbox(t0 + 9000);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->attempts, 1);
  EXPECT_EQ(retry->last_error, "429 Too Many Requests; Retry-After: 4");
}

TEST_P(OutboxStoreTest, OrderIsKeptPerChannelWhileOtherChannelsProceed) {
  const TimeMs t0 = NowMs();
  const auto a1 = *store_->EnqueueOutbox("a", "a1", 0);
  const auto a2 = *store_->EnqueueOutbox("a", "a2", 0);
  const auto b1 = *store_->EnqueueOutbox("b", "b1", 0);

  EXPECT_EQ((*store_->NextDueOutbox(t0))->id, a1);
  // a1 backs off: a2 must wait behind it, b1 may go.
  ASSERT_TRUE(store_->MarkOutboxAttempt(a1, t0 + 3000, "500"));
  EXPECT_EQ((*store_->NextDueOutbox(t0))->id, b1);
  ASSERT_TRUE(store_->MarkOutboxDelivered(b1));
  EXPECT_FALSE(store_->NextDueOutbox(t0 + 2999)->has_value());
  EXPECT_EQ((*store_->NextDueOutbox(t0 + 3000))->id, a1);
  ASSERT_TRUE(store_->MarkOutboxDelivered(a1));
  EXPECT_EQ((*store_->NextDueOutbox(t0 + 3000))->id, a2);
}

TEST_P(OutboxStoreTest, DroppedMessagesStopBlockingAndAreKeptWithTheirReason) {
  const auto a1 = *store_->EnqueueOutbox("a", "a1", 0);
  const auto a2 = *store_->EnqueueOutbox("a", "a2", 0);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->MarkOutboxDropped(a1, "400 invalid_payload"));
  EXPECT_EQ((*store_->NextDueOutbox(NowMs()))->id, a2);
  auto dropped = *store_->GetOutbox(a1);
  EXPECT_EQ(dropped.dropped_reason, "400 invalid_payload");
  EXPECT_EQ(dropped.dropped_at, NowMs());
  EXPECT_EQ(dropped.delivered_at, 0);
  EXPECT_EQ(store_->MarkOutboxDelivered(a1).error().message,
            "outbox message " + std::to_string(a1) + " is already dropped");
}

TEST_P(OutboxStoreTest, ListPendingAndPrune) {
  const auto m1 = *store_->EnqueueOutbox("a", "1", 0);
  const auto m2 = *store_->EnqueueOutbox("b", "2", 0);
  const auto m3 = *store_->EnqueueOutbox("a", "3", 0);
  ASSERT_TRUE(store_->MarkOutboxDelivered(m2));
  auto pending = store_->ListPendingOutbox(0);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2U);
  EXPECT_EQ(pending->at(0).id, m1);
  EXPECT_EQ(pending->at(1).id, m3);
  EXPECT_EQ(store_->ListPendingOutbox(1)->size(), 1U);

  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(store_->MarkOutboxDropped(m1, "gone"));
  auto pruned = store_->PruneOutbox(NowMs());  // m2 only: m1 was dropped at exactly NowMs()
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(store_->GetOutbox(m2).error().code, core::ErrorCode::kNotFound);
  EXPECT_TRUE(store_->GetOutbox(m1));
  // Ids are never reused, even after pruning.
  EXPECT_GT(*store_->EnqueueOutbox("a", "4", 0), m3);
}

// The notifier's loop as the contract prescribes: take, send, mark, repeat.
std::vector<std::string> Drain(Store& store, TimeMs now, int max_messages) {
  std::vector<std::string> sent;
  for (int i = 0; i < max_messages; ++i) {
    auto next = store.NextDueOutbox(now);
    if (!next || !next->has_value()) {
      break;
    }
    sent.push_back((*next)->payload_json);
    EXPECT_TRUE(store.MarkOutboxDelivered((*next)->id));
  }
  return sent;
}

TEST(OutboxAcrossRestart, NothingLostAndNothingSentTwice) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  const std::string path = (dir.path() / "obsforge.db").string();
  std::vector<std::string> sent;
  {
    auto store = OpenOrDie(path, clock);
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(store->EnqueueOutbox(i % 2 == 0 ? "even" : "odd", "m" + std::to_string(i), 0));
    }
    const TimeMs now = ToTimeMs(clock.Now());
    // One message fails first and waits for a retry that is due only after the restart.
    auto first = *store->NextDueOutbox(now);
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(store->MarkOutboxAttempt(first->id, now + 60'000, "503"));
    auto before = Drain(*store, now, 2);
    sent.insert(sent.end(), before.begin(), before.end());
  }  // "crash": the store goes away with messages pending
  {
    clock.Advance(std::chrono::minutes(2));
    auto store = OpenOrDie(path, clock);
    ASSERT_NE(store, nullptr);
    auto after = Drain(*store, ToTimeMs(clock.Now()), 100);
    sent.insert(sent.end(), after.begin(), after.end());
    EXPECT_TRUE(store->ListPendingOutbox(0)->empty());
    EXPECT_EQ(store->GetOutbox(1)->attempts, 2);
  }
  // m1 (odd) backed off, holding m3 and m5 behind it; the even channel went ahead.
  EXPECT_THAT(sent, ElementsAre("m2", "m4", "m1", "m3", "m5"));
}

}  // namespace
}  // namespace obsforge::store::testing
