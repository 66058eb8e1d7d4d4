#include <atomic>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

constexpr int kThreads = 8;
constexpr int kPerThread = 25;

// Everything one worker writes; returns the first error (empty when none).
std::string Work(Store& store, int t) {
  for (int i = 0; i < kPerThread; ++i) {
    const std::string name = "s" + std::to_string(t) + "-" + std::to_string(i);
    if (auto r = store.CreateStack(name, {.spec_json = "{}"}); !r) {
      return r.error().message;
    }
    if (auto r = store.GetStack(name); !r || r->revision != 1) {
      return r ? "stack not at revision 1" : r.error().message;
    }
    if (auto r = store.UpdateSpec(name, {.spec_json = "{\"v\":2}"}, 1); !r) {
      return r.error().message;
    }
    if (auto r = store.GetStack(name); !r || r->revision != 2) {
      return r ? "a stale stack after UpdateSpec" : r.error().message;
    }
    auto op = store.CreateOperation({.stack = name, .env = "dev"});
    if (!op) {
      return op.error().message;
    }
    if (auto r = store.AppendStep(op->id, "render", StepState::kRunning); !r) {
      return r.error().message;
    }
    if (auto r = store.EnqueueOutbox("c" + std::to_string(t), name, 0); !r) {
      return r.error().message;
    }
    if (auto r = store.ListStacks(); !r) {
      return r.error().message;
    }
    if (auto r = store.GetOperation(op->id); !r || r->steps.size() != 1) {
      return r ? "operation lost its step" : r.error().message;
    }
  }
  return "";
}

void ExpectEverythingWritten(Store& store) {
  EXPECT_EQ(store.ListStacks()->size(), static_cast<std::size_t>(kThreads * kPerThread));
  auto ops = store.ListOperations({.limit = 0});
  ASSERT_TRUE(ops);
  EXPECT_EQ(ops->size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::string> ids;
  for (const Operation& op : *ops) {
    ids.insert(op.id);
  }
  EXPECT_EQ(ids.size(), ops->size());
  EXPECT_EQ(store.ListPendingOutbox(0)->size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(store.GetStack("s7-24")->revision, 2);
}

TEST(StoreConcurrency, EightThreadsShareOneStore) {
  TempDir dir;
  core::SystemClock clock;
  // synchronous=NORMAL: this is about locking, and fsync per commit would only make it slow.
  auto opened = SqliteStore::Open(
      {.path = (dir.path() / "obsforge.db").string(), .synchronous_full = false}, clock);
  ASSERT_TRUE(opened) << opened.error().message;
  auto store = std::move(opened).value();
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { errors[t] = Work(*store, t); });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
  }
  ExpectEverythingWritten(*store);
}

// Opens kThreads stores with `open` at once (the migrations must be applied exactly once), then
// runs Work on each at once, as kThreads processes would; checks what they wrote and returns
// the stores' migration count.
template <class Open>
std::size_t OpenAndWorkAtOnce(Open open) {
  std::vector<std::unique_ptr<Store>> stores(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = open();
      if (!opened) {
        errors[t] = "open: " + opened.error().message;
        return;
      }
      stores[t] = std::move(opened).value();
      errors[t] = Work(*stores[t], t);
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
  }
  if (stores[0] == nullptr) {
    ADD_FAILURE() << "the first store did not open";
    return 0;
  }
  ExpectEverythingWritten(*stores[0]);
  return stores[0]->AppliedMigrations()->size();
}

// Eight stores on one file contend for SQLite's own lock (as two processes would): busy_timeout
// and BEGIN IMMEDIATE must absorb it without a single SQLITE_BUSY.
TEST(StoreConcurrency, EightConnectionsOnOneFile) {
  TempDir dir;
  core::SystemClock clock;
  const std::string path = (dir.path() / "obsforge.db").string();
  EXPECT_EQ(OpenAndWorkAtOnce([&] {
              return SqliteStore::Open(
                  {.path = path, .reader_connections = 1, .synchronous_full = false}, clock);
            }),
            SqliteMigrations().size());
}

// Eight stores on one PostgreSQL database, as eight replicas would be: opened concurrently (the
// migrations run once, under their lock), then writing at once through row locks and sequences.
TEST(StoreConcurrencyPostgres, EightStoresOnOneDatabase) {
  obsforge::testing::PostgresServer* server = nullptr;
  obsforge::testing::RequirePostgres(server);
  if (server == nullptr) {
    return;
  }
  const auto url = server->NewSchemaUrl("conc");
  ASSERT_TRUE(url.has_value());
  core::SystemClock clock;
  EXPECT_EQ(OpenAndWorkAtOnce(
                [&] { return PostgresStore::Open({.url = *url, .max_connections = 1}, clock); }),
            PostgresMigrations().size());
}

TEST(StoreConcurrency, InMemoryStoreIsSafeToShare) {
  core::SystemClock clock;
  auto store = OpenOrDie(":memory:", clock);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { errors[t] = Work(*store, t); });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
  }
  ExpectEverythingWritten(*store);
}

}  // namespace
}  // namespace obsforge::store::testing
