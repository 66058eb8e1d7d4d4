#include <algorithm>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

using OperationStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, OperationStoreTest, AllBackings(), BackingName);

std::vector<std::string> Ids(const std::vector<Operation>& ops) {
  std::vector<std::string> ids;
  for (const Operation& op : ops) {
    ids.push_back(op.id);
  }
  return ids;
}

TEST_P(OperationStoreTest, CreateGivesAQueuedOperationWithASortableUniqueId) {
  auto op = store_->CreateOperation({.kind = OperationKind::kCreate,
                                     .stack = "demo",
                                     .env = "dev",
                                     .revision = 1,
                                     .actor = "alice"});
  ASSERT_TRUE(op) << op.error().message;
  EXPECT_EQ(op->id, "op-1800000000000-000001");
  EXPECT_EQ(op->state, OperationState::kQueued);
  EXPECT_EQ(op->created_at, NowMs());
  EXPECT_EQ(op->started_at, 0);
  EXPECT_EQ(op->finished_at, 0);

  auto got = store_->GetOperation(op->id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->kind, OperationKind::kCreate);
  EXPECT_EQ(got->stack, "demo");
  EXPECT_EQ(got->env, "dev");
  EXPECT_EQ(got->revision, 1);
  EXPECT_EQ(got->actor, "alice");
  EXPECT_EQ(got->state, OperationState::kQueued);
  EXPECT_TRUE(got->steps.empty());

  // Same millisecond (the fake clock stands still): still unique, still in creation order.
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(store_->CreateOperation({.stack = "demo"})->id);
    if (i == 10) {
      clock_.Advance(std::chrono::milliseconds(1));
    }
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  for (const std::string& id : ids) {
    EXPECT_THAT(id, MatchesRegex("op-[0-9]{13}-[0-9]{6}"));
  }
}

TEST_P(OperationStoreTest, StateChangesStampStartAndFinish) {
  const std::string id = store_->CreateOperation({.stack = "demo", .env = "dev"})->id;
  const TimeMs created = NowMs();
  clock_.Advance(std::chrono::seconds(2));
  auto running = store_->UpdateOperationState(id, {.state = OperationState::kRunning});
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_EQ(running->started_at, created + 2000);
  EXPECT_EQ(running->finished_at, 0);

  clock_.Advance(std::chrono::seconds(3));
  auto done = store_->UpdateOperationState(
      id, {.state = OperationState::kRolledBack,
           .error = "verify: prometheus_config_last_reload_successful is 0",
           .result_json = R"({"rolled_back_to":1})"});
  ASSERT_TRUE(done) << done.error().message;

  auto got = *store_->GetOperation(id);
  EXPECT_EQ(got.state, OperationState::kRolledBack);
  EXPECT_EQ(got.started_at, created + 2000);
  EXPECT_EQ(got.finished_at, created + 5000);
  EXPECT_EQ(got.error, "verify: prometheus_config_last_reload_successful is 0");
  EXPECT_EQ(got.result_json, R"({"rolled_back_to":1})");

  auto again = store_->UpdateOperationState(id, {.state = OperationState::kRunning});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(again.error().message, "operation " + id + " is already rolled_back");
}

TEST_P(OperationStoreTest, MissingOperationIsNotFound) {
  auto get = store_->GetOperation("op-404");
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(get.error().message, "operation op-404 not found");
  EXPECT_EQ(store_->UpdateOperationState("op-404", {}).error().message,
            "operation op-404 not found");
  auto step = store_->AppendStep("op-404", "render", StepState::kRunning);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(step.error().message, "operation op-404 not found");
}

TEST_P(OperationStoreTest, StepsKeepTheirOrderAndTimes) {
  const std::string id = store_->CreateOperation({.stack = "demo", .env = "dev"})->id;
  const TimeMs t0 = NowMs();
  const char* names[] = {"render", "validate", "write", "reload", "verify", "provision"};
  for (int i = 0; i < 6; ++i) {
    auto index =
        store_->AppendStep(id, names[i], i == 0 ? StepState::kRunning : StepState::kPending);
    ASSERT_TRUE(index) << index.error().message;
    EXPECT_EQ(*index, i);
  }
  clock_.Advance(std::chrono::milliseconds(250));
  auto rendered = store_->UpdateStep(id, 0, StepState::kSucceeded, "12 files");
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_EQ(rendered->started_at, t0);
  EXPECT_EQ(rendered->finished_at, t0 + 250);
  ASSERT_TRUE(store_->UpdateStep(id, 1, StepState::kRunning, ""));
  clock_.Advance(std::chrono::milliseconds(100));
  ASSERT_TRUE(store_->UpdateStep(id, 1, StepState::kFailed, "promtool: bad rule"));
  for (int i = 2; i < 6; ++i) {
    ASSERT_TRUE(store_->UpdateStep(id, i, StepState::kSkipped, ""));
  }

  auto op = store_->GetOperation(id);
  ASSERT_TRUE(op) << op.error().message;
  ASSERT_EQ(op->steps.size(), 6U);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(op->steps[i].index, i);
    EXPECT_EQ(op->steps[i].name, names[i]);
    EXPECT_EQ(op->steps[i].op_id, id);
  }
  EXPECT_EQ(op->steps[0].state, StepState::kSucceeded);
  EXPECT_EQ(op->steps[0].message, "12 files");
  EXPECT_EQ(op->steps[1].state, StepState::kFailed);
  EXPECT_EQ(op->steps[1].started_at, t0 + 250);
  EXPECT_EQ(op->steps[1].finished_at, t0 + 350);
  EXPECT_EQ(op->steps[1].message, "promtool: bad rule");
  EXPECT_EQ(op->steps[2].state, StepState::kSkipped);

  auto terminal = store_->UpdateStep(id, 1, StepState::kRunning, "");
  ASSERT_FALSE(terminal);
  EXPECT_EQ(terminal.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(terminal.error().message,
            "step 1 of operation " + id + " (validate) is already failed");

  auto missing = store_->UpdateStep(id, 6, StepState::kRunning, "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "step 6 of operation " + id + " not found");
}

TEST_P(OperationStoreTest, StepsOfDifferentOperationsAreIndexedSeparately) {
  const std::string a = store_->CreateOperation({.stack = "demo", .env = "dev"})->id;
  const std::string b = store_->CreateOperation({.stack = "demo", .env = "prod"})->id;
  EXPECT_EQ(*store_->AppendStep(a, "render", StepState::kPending), 0);
  EXPECT_EQ(*store_->AppendStep(b, "render", StepState::kPending), 0);
  EXPECT_EQ(*store_->AppendStep(a, "write", StepState::kPending), 1);
  EXPECT_EQ(store_->GetOperation(a)->steps.size(), 2U);
  EXPECT_EQ(store_->GetOperation(b)->steps.size(), 1U);
}

TEST_P(OperationStoreTest, ListFiltersByStackAndEnvNewestFirst) {
  std::vector<std::string> ids;
  for (const auto& [stack, env] : std::vector<std::pair<std::string, std::string>>{
           {"demo", "dev"}, {"demo", "prod"}, {"other", "dev"}, {"demo", "dev"}, {"demo", ""}}) {
    ids.push_back(store_->CreateOperation({.stack = stack, .env = env})->id);
    clock_.Advance(std::chrono::seconds(1));
  }
  EXPECT_THAT(Ids(*store_->ListOperations({.stack = "demo", .env = "dev"})),
              ElementsAre(ids[3], ids[0]));
  EXPECT_THAT(Ids(*store_->ListOperations({.stack = "demo"})),
              ElementsAre(ids[4], ids[3], ids[1], ids[0]));
  EXPECT_THAT(Ids(*store_->ListOperations({.env = "dev"})), ElementsAre(ids[3], ids[2], ids[0]));
  EXPECT_THAT(Ids(*store_->ListOperations({.limit = 2})), ElementsAre(ids[4], ids[3]));
  EXPECT_EQ(store_->ListOperations({.limit = 0})->size(), 5U);
  EXPECT_TRUE(store_->ListOperations({.stack = "ghost"})->empty());
}

TEST_P(OperationStoreTest, ListUnfinishedIsOldestFirstAndSurvivesReopen) {
  const std::string queued = store_->CreateOperation({.stack = "a"})->id;
  const std::string running = store_->CreateOperation({.stack = "b"})->id;
  const std::string done = store_->CreateOperation({.stack = "c"})->id;
  const std::string failed = store_->CreateOperation({.stack = "d"})->id;
  const std::string later = store_->CreateOperation({.stack = "e"})->id;
  ASSERT_TRUE(store_->UpdateOperationState(running, {.state = OperationState::kRunning}));
  ASSERT_TRUE(store_->UpdateOperationState(done, {.state = OperationState::kSucceeded}));
  ASSERT_TRUE(store_->UpdateOperationState(failed, {.state = OperationState::kFailed}));

  EXPECT_THAT(Ids(*store_->ListUnfinishedOperations()), ElementsAre(queued, running, later));
  if (Persistent()) {
    Reopen();
    EXPECT_THAT(Ids(*store_->ListUnfinishedOperations()), ElementsAre(queued, running, later));
    // Ids keep increasing after a restart.
    EXPECT_GT(store_->CreateOperation({.stack = "f"})->id, later);
  }
}

}  // namespace
}  // namespace obsforge::store::testing

namespace obsforge::store::testing {
namespace {

using QueueingTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, QueueingTest, AllBackings(), BackingName);

std::vector<NewOperation> Both(OperationKind kind) {
  return {{.kind = kind, .stack = "demo", .env = "dev", .actor = "alice"},
          {.kind = kind, .stack = "demo", .env = "prod", .actor = "alice"}};
}

TEST_P(QueueingTest, ARevisionAndItsOperationsAreWrittenTogether) {
  auto created = store_->CreateStackQueued("demo", Api("{}"), Both(OperationKind::kCreate));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->stack.revision, 1);
  ASSERT_EQ(created->operations.size(), 2U);
  EXPECT_EQ(created->operations[0].revision, 1);
  EXPECT_EQ(created->operations[1].env, "prod");
  EXPECT_LT(created->operations[0].id, created->operations[1].id);
  // The environments exist from the start: pending until their operations say otherwise.
  auto envs = store_->ListEnvironments("demo");
  ASSERT_EQ(envs->size(), 2U);
  EXPECT_EQ((*envs)[0].state, "pending");
  EXPECT_EQ((*envs)[0].applied_revision, 0);

  auto updated =
      store_->UpdateSpecQueued("demo", Api("{\"a\":1}"), 1, Both(OperationKind::kUpdate));
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->stack.revision, 2);
  EXPECT_EQ(updated->operations[0].revision, 2);
  EXPECT_LT(created->operations[1].id, updated->operations[0].id);
  // The queued creates of revision 1 will never run: revision 2 is what the environments get.
  EXPECT_EQ(store_->GetOperation(created->operations[0].id)->state, OperationState::kSuperseded);
  EXPECT_EQ(store_->GetOperation(created->operations[0].id)->finished_at, NowMs());
  EXPECT_EQ(store_->ListUnfinishedOperations()->size(), 2U);

  // A refused update writes nothing: neither the revision nor the operations.
  auto stale = store_->UpdateSpecQueued("demo", Api("{\"b\":1}"), 1, Both(OperationKind::kUpdate));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(store_->GetStack("demo")->revision, 2);
  EXPECT_EQ(store_->ListOperations({.stack = "demo"})->size(), 4U);
  auto twice = store_->CreateStackQueued("demo", Api("{}"), Both(OperationKind::kCreate));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(store_->ListOperations({.stack = "demo"})->size(), 4U);
}

TEST_P(QueueingTest, OnlyQueuedApplyOfTheSameEnvironmentIsSuperseded) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  auto running = store_->CreateOperation(
      {.kind = OperationKind::kApply, .stack = "demo", .env = "dev", .revision = 1});
  ASSERT_TRUE(store_->UpdateOperationState(running->id, {.state = OperationState::kRunning}));
  auto plan =
      store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "demo", .env = "dev"});
  auto other =
      store_->CreateOperation({.kind = OperationKind::kApply, .stack = "demo", .env = "prod"});
  auto queued =
      store_->CreateOperation({.kind = OperationKind::kApply, .stack = "demo", .env = "dev"});
  // Revision 0: the stack's current one, read in the same transaction.
  EXPECT_EQ(queued->revision, 1);
  auto rollback = store_->CreateOperation(
      {.kind = OperationKind::kRollback, .stack = "demo", .env = "dev", .revision = 1});
  ASSERT_TRUE(rollback);
  EXPECT_EQ(store_->GetOperation(queued->id)->state, OperationState::kSuperseded);
  EXPECT_EQ(store_->GetOperation(running->id)->state, OperationState::kRunning);
  EXPECT_EQ(store_->GetOperation(plan->id)->state, OperationState::kQueued);
  EXPECT_EQ(store_->GetOperation(other->id)->state, OperationState::kQueued);
  // A superseded operation is final.
  auto start = store_->UpdateOperationState(queued->id, {.state = OperationState::kRunning});
  ASSERT_FALSE(start);
  EXPECT_EQ(start.error().code, core::ErrorCode::kPrecondition);
  EXPECT_THAT(start.error().message, ::testing::HasSubstr("superseded"));
  // A teardown supersedes the environment's applies too.
  ASSERT_TRUE(
      store_->CreateOperation({.kind = OperationKind::kTeardown, .stack = "demo", .env = "dev"}));
  EXPECT_EQ(store_->GetOperation(rollback->id)->state, OperationState::kSuperseded);
}

TEST_P(QueueingTest, ADeleteSupersedesQueuedAppliesAndRefusesLaterChanges) {
  ASSERT_TRUE(store_->CreateStackQueued("demo", Api("{}"), Both(OperationKind::kCreate)));
  auto plan =
      store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "demo", .env = "dev"});
  auto del = store_->CreateOperation({.kind = OperationKind::kDelete, .stack = "demo"});
  ASSERT_TRUE(del) << del.error().message;
  auto unfinished = store_->ListUnfinishedOperations();
  ASSERT_EQ(unfinished->size(), 2U);
  EXPECT_EQ((*unfinished)[0].id, plan->id);
  EXPECT_EQ((*unfinished)[1].id, del->id);

  for (const auto& refused :
       {store_->CreateOperation({.kind = OperationKind::kApply, .stack = "demo", .env = "dev"}),
        store_->CreateOperation({.kind = OperationKind::kDelete, .stack = "demo"})}) {
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::ErrorCode::kConflict);
    EXPECT_EQ(refused.error().message, "stack demo is being deleted");
  }
  auto update = store_->UpdateSpecQueued("demo", Api("{\"a\":1}"), std::nullopt,
                                         Both(OperationKind::kUpdate));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(store_->GetStack("demo")->revision, 1);
  // A plan changes nothing, so it may still be asked for.
  EXPECT_TRUE(
      store_->CreateOperation({.kind = OperationKind::kPlan, .stack = "demo", .env = "dev"}));

  // Once the delete has ended (here: failed), changes are accepted again.
  ASSERT_TRUE(store_->UpdateOperationState(del->id, {.state = OperationState::kFailed}));
  EXPECT_TRUE(store_->UpdateSpecQueued("demo", Api("{\"a\":1}"), std::nullopt,
                                       Both(OperationKind::kUpdate)));
}

// Many writers at once on one stack: every revision's operations are numbered after those of
// the revision before, and exactly the newest revision's are left queued.
TEST_P(QueueingTest, ConcurrentUpdatesAreTotallyOrdered) {
  ASSERT_TRUE(store_->CreateStackQueued("demo", Api("{}"), Both(OperationKind::kCreate)));
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([this, i] {
      for (int j = 0; j < 5; ++j) {
        auto r = store_->UpdateSpecQueued("demo", Api("{\"w\":" + std::to_string(i * 10 + j) + "}"),
                                          std::nullopt, Both(OperationKind::kUpdate));
        EXPECT_TRUE(r) << r.error().message;
      }
    });
  }
  for (auto& t : writers) {
    t.join();
  }
  EXPECT_EQ(store_->GetStack("demo")->revision, 41);
  auto ops = store_->ListOperations({.stack = "demo", .limit = 0});
  ASSERT_EQ(ops->size(), 82U);
  // Newest first: revisions never increase going back in id order.
  for (std::size_t i = 1; i < ops->size(); ++i) {
    EXPECT_GE((*ops)[i - 1].revision, (*ops)[i].revision) << (*ops)[i].id;
  }
  auto unfinished = store_->ListUnfinishedOperations();
  ASSERT_EQ(unfinished->size(), 2U);
  EXPECT_EQ((*unfinished)[0].revision, 41);
  EXPECT_EQ((*unfinished)[1].revision, 41);
}

}  // namespace
}  // namespace obsforge::store::testing
