#include <filesystem>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/migrations.h"
#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<int> AllVersions() {
  std::vector<int> versions;
  for (const Migration& m : SqliteMigrations()) {
    versions.push_back(m.version);
  }
  return versions;
}

std::vector<Migration> FirstMigrations(std::size_t n) {
  return {SqliteMigrations().begin(), SqliteMigrations().begin() + static_cast<std::ptrdiff_t>(n)};
}

// Reads the database behind the store's back.
std::int64_t CountRows(const std::string& path, const std::string& sql) {
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", path);
  Poco::Int64 n = -1;
  session << sql, Poco::Data::Keywords::into(n), Poco::Data::Keywords::now;
  return n;
}

class MigrationTest : public ::testing::Test {
 protected:
  std::string Path() const { return (dir_.path() / "obsforge.db").string(); }

  TempDir dir_;
  obsforge::testing::FakeClock clock_;
};

TEST_F(MigrationTest, VersionsAreStrictlyIncreasingFromOne) {
  const std::vector<int> versions = AllVersions();
  ASSERT_FALSE(versions.empty());
  for (std::size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i], static_cast<int>(i) + 1);
  }
}

TEST_F(MigrationTest, EmptyDatabaseGetsEveryMigrationInWalMode) {
  auto store = OpenOrDie(Path(), clock_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->AppliedMigrations(), AllVersions());
  EXPECT_EQ(CountRows(Path(), "SELECT COUNT(*) FROM schema_migrations WHERE applied_at = " +
                                  std::to_string(ToTimeMs(clock_.Now()))),
            static_cast<std::int64_t>(AllVersions().size()));
  EXPECT_TRUE(std::filesystem::exists(Path() + "-wal"));
}

TEST_F(MigrationTest, ReopenAppliesNothingTwiceAndKeepsData) {
  {
    auto store = OpenOrDie(Path(), clock_);
    ASSERT_TRUE(store->CreateStack("demo", {.spec_json = "{}"}));
  }
  clock_.Advance(std::chrono::hours(1));
  auto store = OpenOrDie(Path(), clock_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->AppliedMigrations(), AllVersions());
  // Every version still carries its first applied_at: nothing ran again.
  EXPECT_EQ(CountRows(Path(), "SELECT COUNT(DISTINCT applied_at) FROM schema_migrations"), 1);
  EXPECT_EQ(store->GetStack("demo")->revision, 1);
}

TEST_F(MigrationTest, ReopenAppliesOnlyTheMissingOnes) {
  const std::vector<Migration> old_schema = FirstMigrations(2);
  {
    auto store = OpenOrDie(Path(), clock_, &old_schema);
    ASSERT_NE(store, nullptr);
    EXPECT_THAT(*store->AppliedMigrations(), ElementsAre(1, 2));
    ASSERT_TRUE(store->CreateStack("demo", {.spec_json = "{\"v\":1}"}));
    ASSERT_TRUE(store->CreateOperation({.stack = "demo"}));
  }
  clock_.Advance(std::chrono::hours(1));
  auto store = OpenOrDie(Path(), clock_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->AppliedMigrations(), AllVersions());
  EXPECT_EQ(CountRows(Path(), "SELECT COUNT(DISTINCT applied_at) FROM schema_migrations"), 2);
  EXPECT_EQ(store->GetStack("demo")->spec_json, "{\"v\":1}");
  EXPECT_EQ(store->ListOperations({})->size(), 1U);
  EXPECT_TRUE(store->EnqueueOutbox("a", "{}", 0));  // a table from a later migration
}

TEST_F(MigrationTest, NewerDatabaseIsRefused) {
  { ASSERT_NE(OpenOrDie(Path(), clock_), nullptr); }
  const std::vector<Migration> old_schema = FirstMigrations(2);
  auto opened = SqliteStore::Open({.path = Path(), .migrations = &old_schema}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(opened.error().message, "database schema version " +
                                        std::to_string(AllVersions().back()) +
                                        " is newer than this obsforge knows (2)");
}

TEST_F(MigrationTest, FailingMigrationIsRolledBackWhole) {
  std::vector<Migration> broken = SqliteMigrations();
  broken.push_back(
      {.version = 1000,
       .name = "broken",
       .steps = {"CREATE TABLE half_done (x INTEGER)", "INSERT INTO no_such_table VALUES (1)"}});
  auto opened = SqliteStore::Open({.path = Path(), .migrations = &broken}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInternal);
  EXPECT_THAT(opened.error().message, StartsWith("migration 1000 (broken): "));
  EXPECT_THAT(opened.error().message, HasSubstr("no such table: no_such_table"));

  // The earlier migrations stay; the broken one left nothing behind.
  EXPECT_EQ(CountRows(Path(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'"), 0);
  auto store = OpenOrDie(Path(), clock_);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->AppliedMigrations(), AllVersions());
}

TEST_F(MigrationTest, OutOfOrderMigrationsAreRefused) {
  std::vector<Migration> shuffled = SqliteMigrations();
  std::swap(shuffled[0], shuffled[1]);
  auto opened = SqliteStore::Open({.path = Path(), .migrations = &shuffled}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(opened.error().message, "migrations are not in increasing version order at version 1");
}

TEST_F(MigrationTest, UnopenableFileIsInternalError) {
  const std::string path = (dir_.path() / "missing-dir" / "obsforge.db").string();
  auto opened = SqliteStore::Open({.path = path}, clock_);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(opened.error().message, "cannot open database " + path +
                                        ": Database Exception: directory " +
                                        (dir_.path() / "missing-dir").string() + " does not exist");
}

}  // namespace
}  // namespace obsforge::store::testing
