// Copying a whole store between backends (what `obsforge store migrate` does), its
// verification digests, and the consistency check (`obsforge store check`).
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/populate.h"
#include "store/store_copy.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::int64_t TotalRows(const std::vector<TableDigest>& digests) {
  std::int64_t n = 0;
  for (const TableDigest& d : digests) {
    n += d.rows;
  }
  return n;
}

class StoreCopyPostgresTest : public PostgresSchemaTest {
 protected:
  StoreCopyPostgresTest() : PostgresSchemaTest("copy") {}

  // A SQLite store in a file of its own (synchronous=NORMAL: these tests write many rows and
  // are about their contents, not about surviving a power cut).
  std::unique_ptr<SqliteStore> Sqlite(const std::string& name) {
    auto opened = SqliteStore::Open(
        {.path = (dir_.path() / (name + ".db")).string(), .synchronous_full = false}, clock_);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(opened).value() : nullptr;
  }

  TempDir dir_;
};

// SQLite -> PostgreSQL -> SQLite: every table arrives whole (digests equal at each hop), the
// copy reads back through the Store interface as the original does, and ids handed out before
// are never handed out again, even those whose rows were pruned.
TEST_F(StoreCopyPostgresTest, PostgresRoundTripOfAPopulatedSqliteStoreComparesEqual) {
  auto source = Sqlite("source");
  ASSERT_NE(source, nullptr);
  Populate(*source, clock_);
  auto pg = OpenPostgresOrDie(url_, clock_);
  auto back = Sqlite("back");
  ASSERT_NE(pg, nullptr);
  ASSERT_NE(back, nullptr);

  ASSERT_TRUE(CopyTables(*source, *pg));
  ASSERT_TRUE(CopyTables(*pg, *back));
  auto original = DigestTables(*source);
  ASSERT_TRUE(original);
  EXPECT_EQ(TotalRows(*original), kPopulatedRows);
  EXPECT_EQ(*DigestTables(*pg), *original);
  EXPECT_EQ(*DigestTables(*back), *original);

  for (Store* copy : {static_cast<Store*>(pg.get()), static_cast<Store*>(back.get())}) {
    EXPECT_EQ(copy->GetStack("alpha")->revision, 2);
    auto revisions = copy->ListRevisions("alpha", 0);
    ASSERT_TRUE(revisions);
    ASSERT_EQ(revisions->size(), 2U);
    EXPECT_EQ((*revisions)[0].commit_message, "line one\nline two");
    EXPECT_EQ((*revisions)[1].spec_json, source->GetRevision("alpha", 1)->spec_json);
    auto ops = copy->ListOperations({.limit = 0});
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 4U);
    auto op = copy->GetOperation((*ops)[1].id);
    ASSERT_TRUE(op);
    EXPECT_EQ(op->steps.size(), 2U);
    EXPECT_EQ(op->steps[1].message, "exit 1: boom");
    auto events = copy->ListHealthEvents({.stack = "alpha", .env = "dev"});
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 3U);
    EXPECT_EQ(events->front().message, "event 4");
    EXPECT_EQ(events->front().id, source->ListHealthEvents({.stack = "alpha"})->front().id);
    EXPECT_EQ(copy->ListProvisionedObjects("alpha", "dev", std::nullopt)->size(), 2U);
    EXPECT_EQ(copy->GetGitState("main")->last_seen_sha, "s1");
    EXPECT_EQ(copy->RecordWebhookDelivery("delivery-1").error().code, core::ErrorCode::kConflict);
  }
  // New ids continue after the source's, pruned ones included.
  auto source_op = source->CreateOperation({.stack = "alpha", .env = "dev"});
  const auto source_outbox = source->EnqueueOutbox("c", "{}", 0);
  const auto source_event = source->AppendHealthEvent({.stack = "alpha", .env = "dev", .at = 1});
  ASSERT_TRUE(source_op);
  for (Store* copy : {static_cast<Store*>(pg.get()), static_cast<Store*>(back.get())}) {
    auto op = copy->CreateOperation({.stack = "alpha", .env = "dev"});
    ASSERT_TRUE(op);
    EXPECT_EQ(op->id, source_op->id);
    EXPECT_EQ(*copy->EnqueueOutbox("c", "{}", 0), *source_outbox);
    EXPECT_EQ(*copy->AppendHealthEvent({.stack = "alpha", .env = "dev", .at = 1}), *source_event);
  }
}

// The copy replaces what the target held, and a copy that fails half-way leaves the target as
// it was (one transaction).
TEST_F(StoreCopyPostgresTest, CopyReplacesTheTargetWholeOrNotAtAll) {
  auto source = Sqlite("source");
  auto pg = OpenPostgresOrDie(url_, clock_);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(pg, nullptr);
  Populate(*source, clock_);
  ASSERT_TRUE(pg->CreateStack("old", {.spec_json = "{}"}));
  ASSERT_TRUE(pg->EnqueueOutbox("c", "{}", 0));

  ASSERT_TRUE(CopyTables(*source, *pg));
  EXPECT_EQ(*DigestTables(*pg), *DigestTables(*source));
  EXPECT_EQ(pg->GetStack("old").error().code, core::ErrorCode::kNotFound);

  // A source that fails in the middle of the outbox.
  struct Failing final : TableStore {
    explicit Failing(TableStore& inner) : inner(inner) {}
    core::Result<void> ReadTables(
        const std::function<core::Result<void>(TableReader&)>& read) override {
      return inner.ReadTables([&](TableReader& r) {
        struct Reader final : TableReader {
          explicit Reader(TableReader& r) : r(r) {}
          void Each(const Table& t, const std::function<void(const TableRow&)>& row) override {
            r.Each(t, [&](const TableRow& values) {
              if (t.name == "outbox") {
                throw std::runtime_error("source disk failed");
              }
              row(values);
            });
          }
          std::int64_t LastIdentity(const Table& t) override { return r.LastIdentity(t); }
          TableReader& r;
        } reader(r);
        return read(reader);
      });
    }
    core::Result<void> ReplaceTables(
        const std::function<core::Result<void>(TableWriter&)>& fill) override {
      return inner.ReplaceTables(fill);
    }
    core::Result<std::vector<int>> AppliedMigrations() override {
      return inner.AppliedMigrations();
    }
    TableStore& inner;
  };
  auto other = Sqlite("other");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->CreateStack("other", {.spec_json = "{}"}));
  ASSERT_TRUE(other->EnqueueOutbox("c", "{}", 0));
  const auto before = DigestTables(*pg);
  Failing failing(*other);
  auto failed = CopyTables(failing, *pg);
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("source disk failed"));
  EXPECT_EQ(*DigestTables(*pg), *before);
  EXPECT_EQ(pg->GetStack("other").error().code, core::ErrorCode::kNotFound);
}

// Pages of rows: a table larger than one page is read whole, in key order, without repeats.
TEST_F(StoreCopyPostgresTest, TablesLargerThanAPageAreCopiedWhole) {
  auto source = Sqlite("source");
  auto pg = OpenPostgresOrDie(url_, clock_);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(source->CreateStack("alpha", {.spec_json = "{}"}));
  const int events = (2 * kTablePageRows) + 7;
  for (int i = 0; i < events; ++i) {
    ASSERT_TRUE(source->AppendHealthEvent({.stack = "alpha", .env = "dev", .at = i + 1}));
  }
  // Text keys across page boundaries too: 10 sorts between 1 and 2 as text.
  for (int i = 0; i < kTablePageRows + 3; ++i) {
    ASSERT_TRUE(source->RecordWebhookDelivery("d" + std::to_string(i)));
  }
  ASSERT_TRUE(CopyTables(*source, *pg));
  const auto digests = DigestTables(*pg);
  ASSERT_TRUE(digests);
  EXPECT_EQ(*digests, *DigestTables(*source));
  for (const TableDigest& d : *digests) {
    if (d.table == "health_events") {
      EXPECT_EQ(d.rows, events);
    }
    if (d.table == "webhook_deliveries") {
      EXPECT_EQ(d.rows, kTablePageRows + 3);
    }
  }
}

TEST_F(StoreCopyPostgresTest, DigestsDifferWhenOneValueDiffers) {
  auto a = Sqlite("a");
  auto b = OpenPostgresOrDie(url_, clock_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->CreateStack("alpha", {.spec_json = "{\"v\":1}"}));
  ASSERT_TRUE(b->CreateStack("alpha", {.spec_json = "{\"v\":1}"}));
  EXPECT_EQ(*DigestTables(*a), *DigestTables(*b));
  ASSERT_TRUE(b->UpsertEnvironment({.stack = "alpha", .env = "dev", .message = "x"}));
  ASSERT_TRUE(a->UpsertEnvironment({.stack = "alpha", .env = "dev", .message = "y"}));
  const auto da = *DigestTables(*a);
  const auto db = *DigestTables(*b);
  for (std::size_t i = 0; i < da.size(); ++i) {
    EXPECT_EQ(da[i].rows, db[i].rows) << da[i].table;
    EXPECT_EQ(da[i].sha256 == db[i].sha256, da[i].table != "environments") << da[i].table;
  }
}

// Broken rules between tables, made behind the store's back (SQLite enforces foreign keys
// only on connections that ask for them, as the store's do).
TEST(StoreCheck, FindsRowsThatBreakTheRulesBetweenTables) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  const std::string path = (dir.path() / "obsforge.db").string();
  auto store = OpenOrDie(path, clock);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStack("alpha", {.spec_json = "{}"}));
  ASSERT_TRUE(store->UpdateSpec("alpha", {.spec_json = "{\"v\":2}"}, 1));
  auto op = store->CreateOperation({.stack = "alpha"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(store->AppendStep(op->id, "render", StepState::kRunning));
  EXPECT_THAT(*CheckTables(*store), ElementsAre());

  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session raw("SQLite", path);
  raw << "UPDATE stacks SET revision = 5", Poco::Data::Keywords::now;
  raw << "INSERT INTO environments (stack, env, updated_at) VALUES ('ghost', 'dev', 1)",
      Poco::Data::Keywords::now;
  raw << "INSERT INTO operation_steps (op_id, idx, name, state) VALUES ('op-x', 0, 'a', "
         "'running')",
      Poco::Data::Keywords::now;
  EXPECT_THAT(*CheckTables(*store),
              ElementsAre("environments: a row of stack \"ghost\", which is not stored",
                          "stacks: stack \"alpha\" is at revision 5 but its newest stored "
                          "revision is 2",
                          "operation_steps: a step of operation \"op-x\", which is not stored"));
  auto limited = CheckTables(*store, 1);
  ASSERT_TRUE(limited);
  EXPECT_THAT(*limited, ElementsAre("environments: a row of stack \"ghost\", which is not stored",
                                    "... and 2 more"));
}

}  // namespace
}  // namespace obsforge::store::testing
