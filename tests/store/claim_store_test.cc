// Operation claims (OperationStore::ClaimNextOperation, RenewLeases, FailAbandonedOperations)
// on every backing: what replicas sharing a store rely on to work on each operation once and on
// each environment one at a time.
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using std::chrono::milliseconds;
using ClaimTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, ClaimTest, AllBackings(), BackingName);

std::string Claimed(Store& store, const std::string& owner = "r1") {
  auto claimed = store.ClaimNextOperation(owner, milliseconds(1000));
  EXPECT_TRUE(claimed.ok()) << claimed.error().message;
  return claimed.ok() && claimed->has_value() ? (*claimed)->env : "none";
}

void Finish(Store& store, const std::string& id) {
  auto done = store.UpdateOperationState(id, {.state = OperationState::kSucceeded});
  ASSERT_TRUE(done.ok()) << done.error().message;
}

TEST_P(ClaimTest, AClaimTakesTheOldestQueuedOperationAndMarksItRunningWithItsLease) {
  auto op = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  ASSERT_TRUE(op.ok());
  auto claimed = store_->ClaimNextOperation("replica-a", milliseconds(1500));
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_TRUE(claimed->has_value());
  EXPECT_EQ((*claimed)->id, op->id);
  EXPECT_EQ((*claimed)->state, OperationState::kRunning);
  EXPECT_EQ((*claimed)->owner, "replica-a");
  EXPECT_EQ((*claimed)->lease_until, NowMs() + 1500);
  auto stored = store_->GetOperation(op->id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, OperationState::kRunning);
  EXPECT_EQ(stored->owner, "replica-a");
  EXPECT_EQ(stored->started_at, NowMs());
  EXPECT_EQ(Claimed(*store_), "none");
}

TEST_P(ClaimTest, OneEnvironmentRunsOneOperationAtATimeInOrderWhileOthersGoOn) {
  // Plans: they supersede nothing, so all three stay queued.
  auto a = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  auto b = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  auto c = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "prod"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(Claimed(*store_), "dev");
  EXPECT_EQ(Claimed(*store_), "prod");  // b waits behind a
  EXPECT_EQ(Claimed(*store_), "none");
  Finish(*store_, a->id);
  auto next = store_->ClaimNextOperation("r2", milliseconds(1000));
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->id, b->id);
}

TEST_P(ClaimTest, AStackWideOperationWaitsForTheStacksEarlierOnesAndHoldsBackLaterOnes) {
  auto dev = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  auto del = store_->CreateOperation({.kind = OperationKind::kDelete, .stack = "s"});
  auto prod = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "prod"});
  auto other = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "t", .env = "dev"});
  ASSERT_TRUE(dev.ok() && del.ok() && prod.ok() && other.ok());
  EXPECT_EQ(Claimed(*store_), "dev");
  EXPECT_EQ(Claimed(*store_), "dev");  // stack t's
  EXPECT_EQ(Claimed(*store_), "none");
  Finish(*store_, dev->id);
  EXPECT_EQ(Claimed(*store_), "");  // the delete
  EXPECT_EQ(Claimed(*store_), "none");
  Finish(*store_, del->id);
  EXPECT_EQ(Claimed(*store_), "prod");
}

TEST_P(ClaimTest, AnAbandonedClaimIsFailedOnceWhenItsLeaseRunsOutUnlessRenewed) {
  auto op = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  ASSERT_TRUE(op.ok());
  ASSERT_EQ(Claimed(*store_, "r1"), "dev");
  clock_.Advance(milliseconds(800));
  auto renewed = store_->RenewLeases("r1", milliseconds(1000));
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(*renewed, 1);
  EXPECT_EQ(store_->GetOperation(op->id)->lease_until, NowMs() + 1000);
  auto others = store_->RenewLeases("r2", milliseconds(1000));
  ASSERT_TRUE(others.ok());
  EXPECT_EQ(*others, 0);

  clock_.Advance(milliseconds(900));  // still within the renewed lease
  auto live = store_->FailAbandonedOperations("r1", OwnClaims::kLive, "lost");
  ASSERT_TRUE(live.ok()) << live.error().message;
  EXPECT_TRUE(live->empty());

  clock_.Advance(milliseconds(200));
  // Its own process never takes its claims for abandoned, whatever the lease says: it is running
  // them (a renewal late under load must not fail the operation under the running apply).
  auto own = store_->FailAbandonedOperations("r1", OwnClaims::kLive, "lost");
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_TRUE(own->empty());
  EXPECT_EQ(store_->GetOperation(op->id)->state, OperationState::kRunning);
  auto failed = store_->FailAbandonedOperations("r2", OwnClaims::kLive,
                                                "its replica stopped renewing its lease");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  ASSERT_EQ(failed->size(), 1U);
  EXPECT_EQ(failed->front().id, op->id);
  EXPECT_EQ(failed->front().state, OperationState::kFailed);
  auto stored = store_->GetOperation(op->id);
  EXPECT_EQ(stored->state, OperationState::kFailed);
  EXPECT_EQ(stored->error, "its replica stopped renewing its lease");
  EXPECT_EQ(stored->finished_at, NowMs());
  auto again = store_->FailAbandonedOperations("r2", OwnClaims::kLive, "lost");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // The owner's late outcome is refused: the operation already ended.
  EXPECT_FALSE(store_->UpdateOperationState(op->id, {.state = OperationState::kSucceeded}).ok());
}

TEST_P(ClaimTest, ALiveClaimOfAnotherOwnerIsAbandonedOnlyWhereOneProcessOpensTheStore) {
  auto op = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  ASSERT_TRUE(op.ok());
  ASSERT_EQ(Claimed(*store_, "earlier-run"), "dev");
  auto failed =
      store_->FailAbandonedOperations("this-run", OwnClaims::kLive, "interrupted by restart");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  // SQLite: only one process opens it, so another owner is an earlier run. PostgreSQL: another
  // owner is another replica, alive while its lease runs.
  EXPECT_EQ(failed->size(), GetParam() == Backing::kPostgres ? 0U : 1U);
}

// A replica restarted under the same configured name (OBSFORGE_REPLICA_ID) finds its earlier
// run's claims under its own name, with a live lease: at start, before it claims anything, they
// are abandoned on every backing; while it runs they are its own.
TEST_P(ClaimTest, AtStartTheClaimsOfAnEarlierRunUnderTheSameNameAreAbandoned) {
  auto op = store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "s", .env = "dev"});
  ASSERT_TRUE(op.ok());
  ASSERT_EQ(Claimed(*store_, "replica-a"), "dev");
  auto live = store_->FailAbandonedOperations("replica-a", OwnClaims::kLive, "lost");
  ASSERT_TRUE(live.ok()) << live.error().message;
  EXPECT_TRUE(live->empty());
  auto failed = store_->FailAbandonedOperations("replica-a", OwnClaims::kLeftByEarlierRun,
                                                "interrupted by restart");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  ASSERT_EQ(failed->size(), 1U);
  EXPECT_EQ(failed->front().id, op->id);
  EXPECT_EQ(store_->GetOperation(op->id)->error, "interrupted by restart");
}

// An in-memory store has one connection, so nothing in it runs concurrently.
using ConcurrentClaimTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings,
                         ConcurrentClaimTest,
                         ::testing::Values(Backing::kFile, Backing::kPostgres),
                         BackingName);

TEST_P(ConcurrentClaimTest, ClaimersTakeEachOperationOnceAndNeverTwoOfOneEnvironment) {
  constexpr int kEnvs = 4;
  constexpr int kPerEnv = 6;
  for (int i = 0; i < kPerEnv; ++i) {
    for (int e = 0; e < kEnvs; ++e) {
      ASSERT_TRUE(
          store_
              ->CreateOperation(
                  {.kind = OperationKind::kPlan, .stack = "s", .env = "env" + std::to_string(e)})
              .ok());
    }
  }
  std::mutex mu;
  std::set<std::string> busy;  // environments a claimer works on
  std::map<std::string, int> claims;
  std::map<std::string, std::vector<std::string>> order;  // per environment, claim order
  std::vector<std::string> violations;
  constexpr int kClaimers = 6;
  std::vector<std::thread> claimers;
  claimers.reserve(kClaimers);
  for (int t = 0; t < kClaimers; ++t) {
    claimers.emplace_back([&, t] {
      const std::string owner = "r" + std::to_string(t);
      for (int idle = 0; idle < 200;) {
        auto claimed = store_->ClaimNextOperation(owner, milliseconds(60000));
        if (!claimed.ok() || !claimed->has_value()) {
          std::lock_guard lock(mu);
          if (static_cast<int>(claims.size()) == kEnvs * kPerEnv) {
            return;
          }
          ++idle;
          continue;
        }
        const Operation& op = **claimed;
        {
          std::lock_guard lock(mu);
          if (!busy.insert(op.env).second) {
            violations.push_back(op.id + " claimed while " + op.env + " was busy");
          }
          ++claims[op.id];
          order[op.env].push_back(op.id);
        }
        // Held across the end and the release: a claim of the next operation of this
        // environment cannot be checked before the environment is released.
        std::lock_guard lock(mu);
        (void)store_->UpdateOperationState(op.id, {.state = OperationState::kSucceeded});
        busy.erase(op.env);
      }
    });
  }
  for (std::thread& t : claimers) {
    t.join();
  }
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_EQ(claims.size(), static_cast<std::size_t>(kEnvs * kPerEnv));
  for (const auto& [id, n] : claims) {
    EXPECT_EQ(n, 1) << id;
  }
  for (const auto& [env, ids] : order) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << env;
  }
}

// Store::Subscribe on PostgreSQL: another process's committed changes are heard, and only those
// of the subscriber's own schema.
class PostgresChangesTest : public PostgresSchemaTest {
 protected:
  PostgresChangesTest() : PostgresSchemaTest("changes") {}
};

TEST_F(PostgresChangesTest, AnotherProcesssOperationsAndEnvironmentWritesAreHeard) {
  if (server_ == nullptr) {
    return;
  }
  auto listening = OpenPostgresOrDie(url_, clock_);
  auto writer = OpenPostgresOrDie(url_, clock_);
  auto other_schema = server_->NewSchemaUrl("elsewhere");
  ASSERT_TRUE(listening && writer && other_schema);
  auto elsewhere = OpenPostgresOrDie(*other_schema, clock_);
  ASSERT_TRUE(elsewhere);
  std::mutex mu;
  std::condition_variable heard_cv;
  std::vector<StoreChange> heard;
  listening->Subscribe([&](const StoreChange& change) {
    std::lock_guard lock(mu);
    heard.push_back(change);
    heard_cv.notify_all();
  });
  // LISTEN runs on the subscriber's thread: wait until a change of its own is heard.
  bool first = false;
  for (int i = 0; i < 300 && !first; ++i) {
    ASSERT_TRUE(writer->CreateOperation({.kind = OperationKind::kPlan, .stack = "s"}).ok());
    std::unique_lock lock(mu);
    first = heard_cv.wait_for(lock, milliseconds(100), [&] { return !heard.empty(); });
  }
  ASSERT_TRUE(first);
  {
    std::lock_guard lock(mu);
    heard.clear();
  }
  ASSERT_TRUE(elsewhere->CreateStack("x", {.spec_json = "{}"}).ok());
  ASSERT_TRUE(elsewhere->UpsertEnvironment({.stack = "x", .env = "dev"}).ok());
  ASSERT_TRUE(writer->CreateStack("demo", {.spec_json = "{}"}).ok());
  ASSERT_TRUE(writer->UpsertEnvironment({.stack = "demo", .env = "dev"}).ok());
  // The warm-up may have more than one operation change still on its way: wait for the
  // environment change itself, and look only at environment changes.
  const auto environments = [&] {
    std::vector<std::string> stacks;
    for (const StoreChange& change : heard) {
      if (change.kind == StoreChange::Kind::kEnvironment) {
        stacks.push_back(change.stack);
      }
    }
    return stacks;
  };
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        heard_cv.wait_for(lock, std::chrono::seconds(30), [&] { return !environments().empty(); }));
    // Not the other schema's "x", which was committed first.
    EXPECT_EQ(environments(), std::vector<std::string>{"demo"});
  }
  listening->Subscribe({});
}

}  // namespace
}  // namespace obsforge::store::testing
