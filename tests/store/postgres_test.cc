// What only PostgreSQL has to get right: several processes on one database (migrations under an
// advisory lock, row locks for read-modify-write), a connection that dies under a call, and a
// statement that outlives statement_timeout. The behaviour shared with SQLite is in the
// conformance tests (Backings/...).

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "store_fixture.h"
#include "support/poll_until.h"
#include "support/postgres_server.h"

namespace obsforge::store::testing {
namespace {

using obsforge::testing::PgClient;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kStores = 4;

class PostgresStoreTest : public PostgresSchemaTest {
 protected:
  PostgresStoreTest() : PostgresSchemaTest("pgonly") {}

  /// The test schema's URL; sessions opened with it carry `application_name` (so that the test
  /// can find them in pg_stat_activity).
  std::string Url(const std::string& application_name = "obsforge") const {
    return url_ + "&application_name=" + application_name;
  }

  core::Result<std::unique_ptr<PostgresStore>> Open(PostgresStoreOptions options) {
    if (options.url.empty()) {
      options.url = Url();
    }
    return PostgresStore::Open(std::move(options), clock_);
  }

  std::unique_ptr<PostgresStore> OpenOrFail(PostgresStoreOptions options = {}) {
    auto opened = Open(std::move(options));
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(opened).value() : nullptr;
  }

  /// `kStores` stores on the test schema, each with its own connections (as separate processes
  /// would have).
  std::vector<std::unique_ptr<PostgresStore>> OpenStores() {
    std::vector<std::unique_ptr<PostgresStore>> stores;
    stores.reserve(kStores);
    for (int i = 0; i < kStores; ++i) {
      stores.push_back(OpenOrFail({.max_connections = 2}));
    }
    return stores;
  }

  /// Waits until `sql` (one boolean) is true; false after a minute. Polling the server's own
  /// views is the only way to see another session reach a lock; the deadline only bounds a
  /// failure.
  bool WaitUntil(const std::string& sql) const {
    return obsforge::testing::PollUntil([&] { return server_->Value(sql) == "t"; },
                                        std::chrono::minutes(1));
  }

  /// The pid of a session of `application_name` waiting for a lock, other than `not_pid`;
  /// 0 when none appeared within a minute.
  int WaitForBlockedSession(const std::string& application_name, int not_pid = 0) const {
    const std::string where = "application_name = '" + application_name +
                              "' AND wait_event_type = 'Lock' AND pid <> " +
                              std::to_string(not_pid);
    if (!WaitUntil("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE " + where + ")")) {
      return 0;
    }
    return std::stoi(server_->Value("SELECT pid FROM pg_stat_activity WHERE " + where));
  }

  /// A session of the test's own that holds the row lock of stack `name` until it rolls back.
  std::unique_ptr<PgClient> LockStackRow(const std::string& name) {
    auto holder = std::make_unique<PgClient>(server_->url());
    EXPECT_EQ(holder->Exec("BEGIN"), "");
    EXPECT_EQ(
        holder->Exec("SELECT 1 FROM " + schema_ + ".stacks WHERE name = '" + name + "' FOR UPDATE"),
        "");
    return holder;
  }
};

// ---- text ----

// PostgreSQL's text takes neither NUL nor what is not UTF-8; both become U+FFFD, byte by byte,
// and valid text is kept as it is.
TEST(PostgresTextTest, NulAndInvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(StorableText("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(StorableText(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(StorableText("x\xC3"), "x\xEF\xBF\xBD");
  // A surrogate: the lead byte and each continuation byte are replaced one by one.
  EXPECT_EQ(StorableText("\xED\xA0\x80!"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
}

// ---- migrations ----

// Replicas starting together: every one of them waits on the migration lock, and once it is
// free each migration is applied exactly once (a race would fail one Open on CREATE TABLE).
TEST_F(PostgresStoreTest, ConcurrentOpenersWaitOnTheLockAndMigrateOnce) {
  PgClient holder(server_->url());
  const std::string key = "hashtext('" + schema_ + "')";
  ASSERT_EQ(holder.Exec("SELECT pg_advisory_lock(" +
                        std::to_string(PostgresStore::kMigrationLockClass) + ", " + key + ")"),
            "");
  std::vector<std::future<core::Result<std::unique_ptr<PostgresStore>>>> opening;
  opening.reserve(kStores);
  for (int i = 0; i < kStores; ++i) {
    opening.push_back(std::async(std::launch::async, [&] { return Open({.max_connections = 1}); }));
  }
  // pg_locks shows an advisory lock (a, b) as classid a, objid b (as unsigned).
  ASSERT_TRUE(WaitUntil("SELECT COUNT(*) = " + std::to_string(kStores) +
                        " FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND "
                        "classid = " +
                        std::to_string(PostgresStore::kMigrationLockClass) +
                        " AND objid::bigint = (" + key + "::bigint & 4294967295)"));
  EXPECT_EQ(server_->Value("SELECT to_regclass('" + schema_ + ".stacks') IS NULL"), "t");
  ASSERT_EQ(holder.Exec("SELECT pg_advisory_unlock(" +
                        std::to_string(PostgresStore::kMigrationLockClass) + ", " + key + ")"),
            "");

  std::vector<int> expected;
  for (const Migration& m : PostgresMigrations()) {
    expected.push_back(m.version);
  }
  for (auto& f : opening) {
    auto opened = f.get();
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*(*opened)->AppliedMigrations(), expected);
  }
  EXPECT_EQ(server_->Value("SELECT COUNT(*) FROM " + schema_ + ".schema_migrations"),
            std::to_string(expected.size()));
}

TEST_F(PostgresStoreTest, FailingMigrationIsRolledBackWhole) {
  std::vector<Migration> broken = PostgresMigrations();
  broken.push_back(
      {.version = 1000,
       .name = "broken",
       .steps = {"CREATE TABLE half_done (x INTEGER)", "INSERT INTO no_such_table VALUES (1)"}});
  auto opened = Open({.migrations = &broken});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInternal);
  EXPECT_THAT(opened.error().message, StartsWith("migration 1000 (broken): "));
  EXPECT_THAT(opened.error().message, HasSubstr("no_such_table"));
  // DDL is transactional in PostgreSQL: the table of the failed migration is gone too.
  EXPECT_EQ(server_->Value("SELECT to_regclass('" + schema_ + ".half_done') IS NULL"), "t");
  auto store = OpenOrFail();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->AppliedMigrations()->size(), PostgresMigrations().size());
  // The migration lock went back with the connection that failed: nobody holds it.
  EXPECT_EQ(server_->Value("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"), "0");
}

TEST_F(PostgresStoreTest, NewerDatabaseIsRefused) {
  ASSERT_NE(OpenOrFail(), nullptr);
  const std::vector<Migration> old_schema(PostgresMigrations().begin(),
                                          PostgresMigrations().begin() + 2);
  auto opened = Open({.migrations = &old_schema});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(opened.error().message, "database schema version " +
                                        std::to_string(PostgresMigrations().back().version) +
                                        " is newer than this obsforge knows (2)");
}

// ---- several writers ----

// Updates of one stack from several processes take turns on its row: every revision number is
// used once, with no gap, and the stack ends at the last one.
TEST_F(PostgresStoreTest, ConcurrentUpdatesOfOneStackNumberRevisionsWithoutGaps) {
  auto stores = OpenStores();
  ASSERT_TRUE(stores[0]->CreateStack("shared", {.spec_json = "{}"}));
  constexpr int kUpdates = 20;
  std::vector<std::future<std::string>> writers;
  writers.reserve(kStores);
  for (int s = 0; s < kStores; ++s) {
    writers.push_back(std::async(std::launch::async, [&, s]() -> std::string {
      for (int i = 0; i < kUpdates; ++i) {
        const std::string spec =
            "{\"store\":" + std::to_string(s) + ",\"i\":" + std::to_string(i) + "}";
        if (auto r = stores[s]->UpdateSpec("shared", {.spec_json = spec}, std::nullopt); !r) {
          return r.error().message;
        }
      }
      return "";
    }));
  }
  for (auto& w : writers) {
    EXPECT_EQ(w.get(), "");
  }
  const std::int64_t last = 1 + (kStores * kUpdates);
  auto stack = stores[1]->GetStack("shared");
  ASSERT_TRUE(stack);
  EXPECT_EQ(stack->revision, last);
  auto revisions = stores[2]->ListRevisions("shared", 0);
  ASSERT_TRUE(revisions);
  ASSERT_EQ(revisions->size(), static_cast<std::size_t>(last));
  std::set<std::string> specs;
  for (std::size_t i = 0; i < revisions->size(); ++i) {
    EXPECT_EQ((*revisions)[i].number, last - static_cast<std::int64_t>(i));
    specs.insert((*revisions)[i].spec_json);
  }
  EXPECT_EQ(specs.size(), revisions->size());  // every update kept, none overwritten
  EXPECT_EQ(revisions->front().spec_json, stack->spec_json);
}

// If-Match from several processes: of the writers that read one revision, exactly one wins and
// the others get kPrecondition, so no update is lost silently.
TEST_F(PostgresStoreTest, ConcurrentIfMatchUpdatesLoseNothingSilently) {
  auto stores = OpenStores();
  ASSERT_TRUE(stores[0]->CreateStack("shared", {.spec_json = "{}"}));
  constexpr int kWins = 10;
  std::vector<std::future<std::string>> writers;
  writers.reserve(kStores);
  std::vector<int> refused(kStores, 0);
  for (int s = 0; s < kStores; ++s) {
    writers.push_back(std::async(std::launch::async, [&, s]() -> std::string {
      for (int won = 0; won < kWins;) {
        auto read = stores[s]->GetStack("shared");
        if (!read) {
          return read.error().message;
        }
        const std::string spec =
            "{\"by\":" + std::to_string(s) + ",\"n\":" + std::to_string(won) + "}";
        auto r = stores[s]->UpdateSpec("shared", {.spec_json = spec}, read->revision);
        if (r) {
          ++won;
        } else if (r.error().code == core::ErrorCode::kPrecondition) {
          ++refused[s];
        } else {
          return r.error().message;
        }
      }
      return "";
    }));
  }
  for (auto& w : writers) {
    EXPECT_EQ(w.get(), "");
  }
  // Every success made exactly one revision: none was based on a revision another replaced.
  EXPECT_EQ(stores[3]->GetStack("shared")->revision, 1 + (kStores * kWins));
  EXPECT_EQ(stores[3]->ListRevisions("shared", 0)->size(),
            static_cast<std::size_t>(1 + (kStores * kWins)));
}

// Steps appended to one operation from several processes get distinct, consecutive indexes;
// of several processes finishing one operation, exactly one does.
TEST_F(PostgresStoreTest, ConcurrentStepsAndStateChangesOfOneOperationStayConsistent) {
  auto stores = OpenStores();
  auto op = stores[0]->CreateOperation({.stack = "demo", .env = "dev"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(stores[0]->UpdateOperationState(op->id, {.state = OperationState::kRunning}));
  constexpr int kSteps = 15;
  std::vector<std::future<std::vector<int>>> appenders;
  appenders.reserve(kStores);
  for (int s = 0; s < kStores; ++s) {
    appenders.push_back(std::async(std::launch::async, [&, s] {
      std::vector<int> indexes;
      for (int i = 0; i < kSteps; ++i) {
        auto index =
            stores[s]->AppendStep(op->id, "step-" + std::to_string(s), StepState::kRunning);
        indexes.push_back(index ? *index : -1);
      }
      return indexes;
    }));
  }
  std::multiset<int> all;
  for (auto& a : appenders) {
    for (int index : a.get()) {
      all.insert(index);
    }
  }
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kStores * kSteps));
  int expected = 0;
  for (int index : all) {
    EXPECT_EQ(index, expected++);  // 0, 1, 2, ... each once
  }
  EXPECT_EQ(stores[1]->GetOperation(op->id)->steps.size(), all.size());

  std::vector<std::future<core::Result<Operation>>> finishers;
  finishers.reserve(kStores);
  for (int s = 0; s < kStores; ++s) {
    finishers.push_back(std::async(std::launch::async, [&, s] {
      return stores[s]->UpdateOperationState(
          op->id, {.state = OperationState::kSucceeded, .result_json = std::to_string(s)});
    }));
  }
  int finished = 0;
  std::string winner;
  for (auto& f : finishers) {
    auto r = f.get();
    if (r) {
      ++finished;
      winner = r->result_json;
    } else {
      EXPECT_EQ(r.error().code, core::ErrorCode::kPrecondition) << r.error().message;
    }
  }
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(stores[2]->GetOperation(op->id)->result_json, winner);
}

// Senders in several processes racing for the same messages: each is marked delivered exactly
// once, and the losers are told (kPrecondition) instead of sending it again.
TEST_F(PostgresStoreTest, ConcurrentSendersMarkEachMessageOnce) {
  auto stores = OpenStores();
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(stores[0]->EnqueueOutbox("c" + std::to_string(i % 5), std::to_string(i), 0));
  }
  const TimeMs now = ToTimeMs(clock_.Now());
  std::vector<std::future<std::vector<std::int64_t>>> senders;
  senders.reserve(kStores);
  for (int s = 0; s < kStores; ++s) {
    senders.push_back(std::async(std::launch::async, [&, s] {
      std::vector<std::int64_t> delivered;
      for (;;) {
        auto next = stores[s]->NextDueOutbox(now);
        if (!next || !next->has_value()) {
          break;
        }
        auto marked = stores[s]->MarkOutboxDelivered((*next)->id);
        if (marked) {
          delivered.push_back((*next)->id);
        } else if (marked.error().code != core::ErrorCode::kPrecondition) {
          delivered.push_back(-1);  // an error of another kind
        }
      }
      return delivered;
    }));
  }
  std::map<std::int64_t, int> times;
  for (auto& s : senders) {
    for (std::int64_t id : s.get()) {
      ++times[id];
    }
  }
  EXPECT_EQ(times.count(-1), 0U);
  EXPECT_EQ(times.size(), static_cast<std::size_t>(kMessages));
  for (const auto& [id, n] : times) {
    EXPECT_EQ(n, 1) << "message " << id;
  }
  EXPECT_TRUE(stores[1]->ListPendingOutbox(0)->empty());
}

// ---- connection loss and timeouts ----

// An idle connection killed behind the pool's back (a server restart, a proxy) is replaced on
// the next call, which succeeds.
TEST_F(PostgresStoreTest, IdleConnectionKilledIsReplacedTransparently) {
  auto store = OpenOrFail({.url = Url("idle-victim"), .max_connections = 1});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStack("demo", {.spec_json = "{}"}));
  ASSERT_EQ(server_->Value("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = 'idle-victim'"),
            "1");
  ASSERT_TRUE(
      WaitUntil("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = "
                "'idle-victim')"));
  auto updated = store->UpdateSpec("demo", {.spec_json = "{\"v\":2}"}, 1);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->revision, 2);
}

// A connection killed under a call, and again under its retry: kUnavailable, nothing written,
// and the next call works on a fresh connection.
TEST_F(PostgresStoreTest, ConnectionKilledUnderACallIsUnavailableAndTheNextCallRecovers) {
  auto store = OpenOrFail({.url = Url("busy-victim"), .max_connections = 2});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStack("demo", {.spec_json = "{}"}));
  auto holder = LockStackRow("demo");
  auto update = std::async(std::launch::async, [&] {
    return store->UpdateSpec("demo", {.spec_json = "{\"v\":2}"}, std::nullopt);
  });
  const int first = WaitForBlockedSession("busy-victim");
  ASSERT_NE(first, 0);
  EXPECT_EQ(server_->Value("SELECT pg_terminate_backend(" + std::to_string(first) + ")"), "t");
  const int retry = WaitForBlockedSession("busy-victim", first);  // the one retry
  ASSERT_NE(retry, 0);
  EXPECT_EQ(server_->Value("SELECT pg_terminate_backend(" + std::to_string(retry) + ")"), "t");
  auto failed = update.get();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(failed.error().message, StartsWith("update stack demo: connection to PostgreSQL "));
  EXPECT_THAT(failed.error().message, HasSubstr(" lost"));
  EXPECT_EQ(holder->Exec("ROLLBACK"), "");

  EXPECT_EQ(store->GetStack("demo")->revision, 1);  // the killed update left nothing
  auto recovered = store->UpdateSpec("demo", {.spec_json = "{\"v\":2}"}, 1);
  ASSERT_TRUE(recovered) << recovered.error().message;
  EXPECT_EQ(recovered->revision, 2);
}

TEST_F(PostgresStoreTest, StatementPastTheTimeoutIsTimeoutAndTheNextCallWorks) {
  auto store = OpenOrFail({.statement_timeout = std::chrono::milliseconds(200)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateStack("demo", {.spec_json = "{}"}));
  auto holder = LockStackRow("demo");
  // Blocked on the row lock until statement_timeout cancels it: the lock is held throughout.
  auto timed_out = store->UpdateSpec("demo", {.spec_json = "{\"v\":2}"}, std::nullopt);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, core::ErrorCode::kTimeout);
  EXPECT_THAT(timed_out.error().message, StartsWith("update stack demo: "));
  EXPECT_THAT(timed_out.error().message, HasSubstr("statement timeout"));
  EXPECT_EQ(holder->Exec("ROLLBACK"), "");
  auto updated = store->UpdateSpec("demo", {.spec_json = "{\"v\":2}"}, 1);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->revision, 2);
}

// No server at the address: kUnavailable naming user@host:port/db, and never the password.
TEST_F(PostgresStoreTest, UnreachableServerIsUnavailableWithoutThePassword) {
  // Port 1 (tcpmux) is privileged and unused: the connection is refused at once.
  auto opened = PostgresStore::Open(
      {.url = "postgresql://alice:s3cret-pw@127.0.0.1:1/obsforge?connect_timeout=5"}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(opened.error().message,
              HasSubstr("cannot connect to PostgreSQL alice@127.0.0.1:1/obsforge"));
  EXPECT_THAT(opened.error().message, Not(HasSubstr("s3cret-pw")));
}

TEST_F(PostgresStoreTest, MalformedUrlIsInvalid) {
  auto opened =
      PostgresStore::Open({.url = "postgresql://localhost/db?no_such_parameter=1"}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_EQ(opened.error().message,
            "store URL: invalid URI query parameter: \"no_such_parameter\"");
}

}  // namespace
}  // namespace obsforge::store::testing
