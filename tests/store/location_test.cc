// Store URLs: which store each form names, and the refusals (store/location.h).
#include "store/location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Kind = StoreLocation::Kind;

StoreLocation Parsed(std::string_view url, const std::filesystem::path& data_dir = "var") {
  auto parsed = ParseStoreUrl(url, data_dir);
  EXPECT_TRUE(parsed) << url << ": " << parsed.error().message;
  return parsed ? *parsed : StoreLocation{};
}

TEST(StoreUrl, SqliteDefaultsToTheDataDirectory) {
  EXPECT_EQ(Parsed("sqlite").target, "var/obsforge.db");
  EXPECT_EQ(Parsed("").target, "var/obsforge.db");
  EXPECT_EQ(Parsed("sqlite").kind, Kind::kSqlite);
  EXPECT_EQ(Parsed("sqlite").display, "sqlite var/obsforge.db");
}

TEST(StoreUrl, SqlitePathIsADirectoryUnlessItNamesADatabaseFile) {
  TempDir dir;
  const std::string existing = dir.path().string();
  EXPECT_EQ(Parsed("sqlite:" + existing).target, existing + "/obsforge.db");
  EXPECT_EQ(Parsed("sqlite:./var").target, "./var/obsforge.db");
  EXPECT_EQ(Parsed("sqlite:/srv/obsforge/state.db").target, "/srv/obsforge/state.db");
  EXPECT_EQ(Parsed("sqlite:x.sqlite").target, "x.sqlite");
  EXPECT_EQ(Parsed("/srv/obsforge").target, "/srv/obsforge/obsforge.db");  // a bare path
  EXPECT_EQ(Parsed("state.db").target, "state.db");
  // A directory called *.db is still a directory.
  std::filesystem::create_directories(dir.path() / "odd.db");
  EXPECT_EQ(Parsed("sqlite:" + existing + "/odd.db").target, existing + "/odd.db/obsforge.db");
}

TEST(StoreUrl, PostgresUrlsAreShownWithoutTheirPassword) {
  for (const char* url : {"postgresql://alice:s3cret@db.example:5433/obsforge?sslmode=require",
                          "postgres://alice:s3cret@db.example:5433/obsforge"}) {
    const StoreLocation l = Parsed(url);
    EXPECT_EQ(l.kind, Kind::kPostgres);
    EXPECT_EQ(l.target, url);
    EXPECT_EQ(l.display, "postgresql alice@db.example:5433/obsforge");
  }
  EXPECT_EQ(Parsed("postgresql:///obsforge").display, "postgresql localhost/obsforge");
}

TEST(StoreUrl, RefusalsNameTheProblemAndNeverTheUrl) {
  auto mysql = ParseStoreUrl("mysql://root:pw@db/x", "var");
  ASSERT_FALSE(mysql);
  EXPECT_EQ(mysql.error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_EQ(mysql.error().message,
            "store URL: unknown scheme \"mysql\" (use sqlite, sqlite:PATH or "
            "postgresql://user@host/db)");
  auto empty = ParseStoreUrl("sqlite:", "var");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "store URL: sqlite: needs a path (a directory or a .db file)");
  auto bad = ParseStoreUrl("postgresql://alice:s3cret@db/x?no_such_option=1", "var");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_THAT(bad.error().message, HasSubstr("no_such_option"));
  EXPECT_THAT(bad.error().message, Not(HasSubstr("s3cret")));
}

TEST(StoreUrl, OpenStoreCreatesTheSqliteDirectory) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  auto opened = OpenStore(Parsed("sqlite:" + (dir.path() / "a" / "b").string()), clock);
  ASSERT_TRUE(opened) << opened.error().message;
  ASSERT_TRUE((*opened)->CreateStack("s", {.spec_json = "{}"}));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "a" / "b" / "obsforge.db"));
}

}  // namespace
}  // namespace obsforge::store::testing
