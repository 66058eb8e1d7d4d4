#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using StackStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, StackStoreTest, AllBackings(), BackingName);

std::vector<std::string> Names(const std::vector<Stack>& stacks) {
  std::vector<std::string> names;
  for (const Stack& s : stacks) {
    names.push_back(s.name);
  }
  return names;
}

std::vector<std::int64_t> Numbers(const std::vector<SpecRevision>& revisions) {
  std::vector<std::int64_t> numbers;
  for (const SpecRevision& r : revisions) {
    numbers.push_back(r.number);
  }
  return numbers;
}

TEST_P(StackStoreTest, CreateStoresRevisionOneAndGetReturnsIt) {
  auto created = store_->CreateStack("demo", Api(R"({"name":"demo"})"));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->revision, 1);
  EXPECT_EQ(created->created_at, NowMs());

  clock_.Advance(std::chrono::seconds(1));
  auto got = store_->GetStack("demo");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->name, "demo");
  EXPECT_EQ(got->spec_json, R"({"name":"demo"})");
  EXPECT_EQ(got->spec_hash, "hash-15");
  EXPECT_EQ(got->revision, 1);
  EXPECT_EQ(got->created_at, created->created_at);
  EXPECT_EQ(got->updated_at, created->created_at);

  auto rev = store_->GetRevision("demo", 1);
  ASSERT_TRUE(rev) << rev.error().message;
  EXPECT_EQ(rev->spec_json, R"({"name":"demo"})");
  EXPECT_EQ(rev->source, RevisionSource::kApi);
  EXPECT_EQ(rev->actor, "alice");
  EXPECT_EQ(rev->created_at, created->created_at);
}

TEST_P(StackStoreTest, CreateExistingIsConflictAndKeepsTheOriginal) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{\"v\":1}")));
  auto again = store_->CreateStack("demo", Api("{\"v\":2}"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(again.error().message, "stack demo already exists");
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":1}");
  EXPECT_THAT(Numbers(*store_->ListRevisions("demo", 0)), ElementsAre(1));
}

TEST_P(StackStoreTest, GetMissingIsNotFound) {
  auto got = store_->GetStack("nope");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(got.error().message, "stack nope not found");
}

TEST_P(StackStoreTest, ListIsSortedByName) {
  EXPECT_THAT(*store_->ListStacks(), IsEmpty());
  for (const char* name : {"zeta", "alpha", "mid"}) {
    ASSERT_TRUE(store_->CreateStack(name, Api("{}")));
  }
  EXPECT_THAT(Names(*store_->ListStacks()), ElementsAre("alpha", "mid", "zeta"));
}

TEST_P(StackStoreTest, UpdateSpecAddsARevisionAndMovesTheStack) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{\"v\":1}")));
  clock_.Advance(std::chrono::minutes(1));
  SpecChange git{.spec_json = "{\"v\":2}",
                 .spec_hash = "h2",
                 .source = RevisionSource::kGit,
                 .commit_sha = "0123abcd",
                 .commit_author = "Bob <bob@example.com>",
                 .commit_message = "raise retention",
                 .actor = "gitops:main"};
  auto updated = store_->UpdateSpec("demo", git, std::nullopt);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->revision, 2);
  EXPECT_EQ(updated->spec_json, "{\"v\":2}");
  EXPECT_EQ(updated->updated_at, NowMs());
  EXPECT_LT(updated->created_at, updated->updated_at);

  const Stack stored = *store_->GetStack("demo");
  EXPECT_EQ(stored.revision, 2);
  EXPECT_EQ(stored.spec_hash, "h2");

  auto rev = store_->GetRevision("demo", 2);
  ASSERT_TRUE(rev) << rev.error().message;
  EXPECT_EQ(rev->source, RevisionSource::kGit);
  EXPECT_EQ(rev->commit_sha, "0123abcd");
  EXPECT_EQ(rev->commit_author, "Bob <bob@example.com>");
  EXPECT_EQ(rev->commit_message, "raise retention");
  EXPECT_EQ(rev->actor, "gitops:main");
  EXPECT_EQ(store_->GetRevision("demo", 1)->spec_json, "{\"v\":1}");
}

TEST_P(StackStoreTest, UpdateSpecWithStaleExpectedRevisionIsPreconditionAndChangesNothing) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{\"v\":1}")));
  ASSERT_TRUE(store_->UpdateSpec("demo", Api("{\"v\":2}"), 1));

  auto stale = store_->UpdateSpec("demo", Api("{\"v\":3}"), 1);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(stale.error().message, "stack demo is at revision 2, not 1");
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":2}");
  EXPECT_THAT(Numbers(*store_->ListRevisions("demo", 0)), ElementsAre(2, 1));

  auto fresh = store_->UpdateSpec("demo", Api("{\"v\":3}"), 2);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->revision, 3);
}

TEST_P(StackStoreTest, UpdateSpecOfMissingStackIsNotFound) {
  auto r = store_->UpdateSpec("ghost", Api("{}"), std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "stack ghost not found");
}

TEST_P(StackStoreTest, ListRevisionsIsNewestFirstWithLimit) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store_->UpdateSpec("demo", Api("{}"), std::nullopt));
  }
  EXPECT_THAT(Numbers(*store_->ListRevisions("demo", 0)), ElementsAre(5, 4, 3, 2, 1));
  EXPECT_THAT(Numbers(*store_->ListRevisions("demo", 2)), ElementsAre(5, 4));

  auto missing = store_->ListRevisions("ghost", 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "stack ghost not found");

  auto no_rev = store_->GetRevision("demo", 6);
  ASSERT_FALSE(no_rev);
  EXPECT_EQ(no_rev.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(no_rev.error().message, "revision 6 of stack demo not found");
}

TEST_P(StackStoreTest, DeleteRemovesTheStackAndWhatBelongsToItButKeepsOperations) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  ASSERT_TRUE(store_->CreateStack("other", Api("{}")));
  ASSERT_TRUE(store_->UpdateSpec("demo", Api("{}"), std::nullopt));
  ASSERT_TRUE(store_->UpsertEnvironment({.stack = "demo", .env = "dev", .state = "ready"}));
  ASSERT_TRUE(store_->UpsertProvisionedObject(
      {.stack = "demo", .env = "dev", .kind = ObjectKind::kDashboard, .uid = "d1"}));
  ASSERT_TRUE(store_->AppendHealthEvent({.stack = "demo", .env = "dev", .to_state = "ok"}));
  ASSERT_TRUE(store_->AppendHealthEvent({.stack = "other", .env = "dev", .to_state = "ok"}));
  auto op = store_->CreateOperation({.kind = OperationKind::kTeardown, .stack = "demo"});
  ASSERT_TRUE(op);

  ASSERT_TRUE(store_->DeleteStack("demo"));

  EXPECT_EQ(store_->GetStack("demo").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetRevision("demo", 1).error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(*store_->ListEnvironments("demo"), IsEmpty());
  EXPECT_THAT(*store_->ListProvisionedObjects("demo", "dev", std::nullopt), IsEmpty());
  EXPECT_THAT(*store_->ListHealthEvents({.stack = "demo"}), IsEmpty());
  EXPECT_EQ(store_->ListHealthEvents({.stack = "other"})->size(), 1U);
  EXPECT_TRUE(store_->GetOperation(op->id));
  EXPECT_THAT(Names(*store_->ListStacks()), ElementsAre("other"));

  // A new stack of the same name starts its history afresh.
  auto again = store_->CreateStack("demo", Api("{}"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->revision, 1);
  EXPECT_THAT(Numbers(*store_->ListRevisions("demo", 0)), ElementsAre(1));
}

TEST_P(StackStoreTest, DeleteMissingIsNotFound) {
  auto r = store_->DeleteStack("ghost");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "stack ghost not found");
}

// The store keeps what the client sent, byte for byte: secret references are never resolved,
// reformatted or re-encoded.
TEST_P(StackStoreTest, SpecWithSecretReferencesComesBackByteIdentical) {
  const std::string spec =
      "{\n  \"name\": \"demo\",\n  \"notify\": {\"slack\": {\"webhook\": {\"secret\": "
      "\"SLACK_WEBHOOK\"}}},\n  \"grafana\": {\"admin_password\": {\"secret_file\": "
      "\"/run/secrets/gf\"}},\n  \"note\": \"caf\xc3\xa9 \\u00e9 'quotes' \\\"x\\\" ; DROP TABLE "
      "stacks; --\",   \"trailing\":   [1, 2.50, 1e3]\t}\n";
  ::setenv("SLACK_WEBHOOK", "https://hooks.slack.example/T000/B000/XXXX", 1);
  ASSERT_TRUE(store_->CreateStack("demo", Api(spec)));
  ASSERT_TRUE(store_->UpdateSpec("demo", Api(spec + " "), std::nullopt));

  EXPECT_EQ(store_->GetRevision("demo", 1)->spec_json, spec);
  EXPECT_EQ(store_->GetStack("demo")->spec_json, spec + " ");
  EXPECT_EQ(store_->ListStacks()->at(0).spec_json, spec + " ");
  EXPECT_EQ(store_->ListRevisions("demo", 0)->at(1).spec_json, spec);
  if (Persistent()) {
    Reopen();
    EXPECT_EQ(store_->GetRevision("demo", 1)->spec_json, spec);
    EXPECT_EQ(store_->GetStack("demo")->spec_json, spec + " ");
  }
  ::unsetenv("SLACK_WEBHOOK");
}

TEST_P(StackStoreTest, EnvironmentUpsertGetAndListSortedByEnv) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  EnvironmentState dev{.stack = "demo",
                       .env = "dev",
                       .applied_revision = 1,
                       .last_good_revision = 1,
                       .bundle_hash = "b1",
                       .last_good_bundle_hash = "b1",
                       .state = "ready",
                       .last_operation_id = "op-1",
                       .message = "ok"};
  auto stored = store_->UpsertEnvironment(dev);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->updated_at, NowMs());
  ASSERT_TRUE(store_->UpsertEnvironment({.stack = "demo", .env = "alpha", .state = "pending"}));

  clock_.Advance(std::chrono::seconds(5));
  dev.applied_revision = 2;
  dev.bundle_hash = "b2";
  dev.state = "failed";
  dev.message = "reload failed";
  ASSERT_TRUE(store_->UpsertEnvironment(dev));

  auto got = store_->GetEnvironment("demo", "dev");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->applied_revision, 2);
  EXPECT_EQ(got->last_good_revision, 1);
  EXPECT_EQ(got->bundle_hash, "b2");
  EXPECT_EQ(got->last_good_bundle_hash, "b1");
  EXPECT_EQ(got->state, "failed");
  EXPECT_EQ(got->last_operation_id, "op-1");
  EXPECT_EQ(got->message, "reload failed");
  EXPECT_EQ(got->updated_at, NowMs());

  auto list = store_->ListEnvironments("demo");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_EQ(list->at(0).env, "alpha");
  EXPECT_EQ(list->at(1).env, "dev");
}

TEST_P(StackStoreTest, EnvironmentErrors) {
  auto no_stack = store_->UpsertEnvironment({.stack = "ghost", .env = "dev"});
  ASSERT_FALSE(no_stack);
  EXPECT_EQ(no_stack.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(no_stack.error().message, "stack ghost not found");

  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  auto missing = store_->GetEnvironment("demo", "prod");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "environment prod of stack demo not found");
}

TEST_P(StackStoreTest, DeleteEnvironmentForgetsItsStateHistoryAndOwnedObjectsOnly) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{}")));
  for (const char* env : {"dev", "prod"}) {
    ASSERT_TRUE(store_->UpsertEnvironment({.stack = "demo", .env = env, .state = "ready"}));
    ASSERT_TRUE(store_->AppendHealthEvent({.stack = "demo", .env = env, .check = "ready"}));
    ASSERT_TRUE(store_->UpsertProvisionedObject(
        {.stack = "demo", .env = env, .kind = ObjectKind::kDashboard, .uid = "d1"}));
  }
  ASSERT_TRUE(store_->DeleteEnvironment("demo", "prod"));

  EXPECT_EQ(store_->GetEnvironment("demo", "prod").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListHealthEvents({.stack = "demo", .env = "prod"})->size(), 0U);
  EXPECT_EQ(store_->ListProvisionedObjects("demo", "prod", std::nullopt)->size(), 0U);
  ASSERT_TRUE(store_->GetEnvironment("demo", "dev"));
  EXPECT_EQ(store_->ListHealthEvents({.stack = "demo", .env = "dev"})->size(), 1U);
  EXPECT_EQ(store_->ListProvisionedObjects("demo", "dev", std::nullopt)->size(), 1U);

  auto again = store_->DeleteEnvironment("demo", "prod");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(again.error().message, "environment prod of stack demo not found");
}

TEST_P(StackStoreTest, GetSeesEveryChangeThroughTheCache) {
  ASSERT_TRUE(store_->CreateStack("demo", Api("{\"v\":1}")));
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":1}");
  ASSERT_TRUE(store_->UpdateSpec("demo", Api("{\"v\":2}"), 1));
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":2}");
  EXPECT_EQ(store_->GetStack("demo")->revision, 2);
  ASSERT_FALSE(store_->UpdateSpec("demo", Api("{\"v\":3}"), 1));
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":2}");
  ASSERT_TRUE(store_->DeleteStack("demo"));
  EXPECT_EQ(store_->GetStack("demo").error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(store_->CreateStack("demo", Api("{\"v\":9}")));
  EXPECT_EQ(store_->GetStack("demo")->spec_json, "{\"v\":9}");
  EXPECT_EQ(store_->GetStack("demo")->revision, 1);
}

TEST(StackStoreUncached, SeesWritesOfAnotherStoreOnTheSameFile) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  const std::string path = (dir.path() / "obsforge.db").string();
  auto writer = OpenOrDie(path, clock);
  auto opened = SqliteStore::Open({.path = path, .cache_stacks = false}, clock);
  ASSERT_TRUE(opened) << opened.error().message;
  auto reader = std::move(opened).value();
  ASSERT_TRUE(writer->CreateStack("demo", {.spec_json = "{}"}));
  EXPECT_EQ(reader->GetStack("demo")->revision, 1);
  ASSERT_TRUE(writer->UpdateSpec("demo", {.spec_json = "{}"}, 1));
  EXPECT_EQ(reader->GetStack("demo")->revision, 2);
}

TEST_P(StackStoreTest, PingAnswers) {
  EXPECT_TRUE(store_->Ping());
}

}  // namespace
}  // namespace obsforge::store::testing
