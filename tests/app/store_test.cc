// The store as a user chooses it: `obsforge serve` on PostgreSQL (flag and obsforge.yaml),
// `obsforge store migrate` between SQLite and PostgreSQL, `obsforge store check`. Every test
// shares the PostgreSQL this binary starts (support/postgres_server.h), each in its own schema.
#include <filesystem>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/fs.h"
#include "http/curl_http_client.h"
#include "store/migrations.h"
#include "store/populate.h"
#include "store/sqlite_store.h"
#include "store/store_copy.h"
#include "store/store_fixture.h"
#include "support/obsforge_process.h"
#include "support/postgres_server.h"
#include "support/real_upstreams.h"

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::Obsforge;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// Upper bound for a server to come up and apply the demo stack; the test goes on as soon as it
// has.
constexpr seconds kComeUp{120};

class StoreCommandTest : public store::testing::PostgresSchemaTest {
 protected:
  StoreCommandTest() : PostgresSchemaTest("app") {}

  int Migrate(const std::string& from, const std::string& to, bool force = false) {
    out_.str("");
    err_.str("");
    return RunStoreMigrate({.from = from, .to = to, .force = force, .data_dir = Dir() / "var"},
                           Io{out_, err_});
  }

  int Check(const std::string& store) {
    out_.str("");
    err_.str("");
    return RunStoreCheck({.store = store}, Io{out_, err_});
  }

  fs::path Dir() const { return tmp_.path(); }

  std::vector<store::TableDigest> Digests(const std::string& sqlite_file) {
    auto opened = store::SqliteStore::Open({.path = sqlite_file}, clock_);
    EXPECT_TRUE(opened) << opened.error().message;
    return *store::DigestTables(**opened);
  }

  store::testing::TempDir tmp_;
  std::ostringstream out_;
  std::ostringstream err_;
};

// The round trip a user makes: SQLite into PostgreSQL and back; every table compares equal.
TEST_F(StoreCommandTest, MigrateRoundTripOfAPopulatedStoreComparesEqual) {
  const fs::path source = Dir() / "var" / "obsforge.db";
  {
    fs::create_directories(source.parent_path());
    auto store = store::testing::OpenOrDie(source.string(), clock_);
    ASSERT_NE(store, nullptr);
    store::testing::Populate(*store, clock_);
  }
  const std::string rows = std::to_string(store::testing::kPopulatedRows);

  ASSERT_EQ(Migrate("sqlite:" + (Dir() / "var").string(), url_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("copied " + rows +
                                    " rows in 11 tables; counts and hashes "
                                    "match"));
  EXPECT_THAT(out_.str(), HasSubstr("  outbox                         2  sha256:"));
  const std::string schema = std::to_string(store::SqliteMigrations().back().version);
  EXPECT_THAT(err_.str(), HasSubstr("copying sqlite " + source.string() + " (schema " + schema +
                                    ") into postgresql obsforge@127.0.0.1:"));

  // A second copy into the now full target needs --force.
  ASSERT_EQ(Migrate("sqlite", url_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr(" already holds " + rows + " rows; --force replaces them"));
  ASSERT_EQ(Migrate("sqlite", url_, /*force=*/true), kExitOk) << err_.str();

  ASSERT_EQ(Check(url_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(rows + " rows in 11 tables; consistent"));

  const fs::path back = Dir() / "back";
  ASSERT_EQ(Migrate(url_, "sqlite:" + back.string()), kExitOk) << err_.str();
  EXPECT_EQ(Digests((back / "obsforge.db").string()), Digests(source.string()));
}

TEST_F(StoreCommandTest, MigrateRefusesAMissingSourceOrTheSameStoreAndLeavesTheTarget) {
  {
    auto store = store::testing::OpenOrDie((Dir() / "obsforge.db").string(), clock_);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateStack("kept", {.spec_json = "{}"}));
  }
  ASSERT_EQ(Migrate("sqlite:" + Dir().string(), url_), kExitOk) << err_.str();
  ASSERT_EQ(Check(url_), kExitOk);
  const std::string before = out_.str();

  EXPECT_EQ(Migrate("sqlite:" + (Dir() / "typo").string(), url_, /*force=*/true), kExitFailed);
  EXPECT_EQ(err_.str(), "--from: no store at " + (Dir() / "typo" / "obsforge.db").string() + "\n");
  EXPECT_FALSE(fs::exists(Dir() / "typo"));
  EXPECT_EQ(Migrate(url_, url_, true), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("--from and --to name the same store (postgresql "));
  EXPECT_EQ(Migrate("mysql://root@db/x", url_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("--from: store URL: unknown scheme \"mysql\""));

  ASSERT_EQ(Check(url_), kExitOk);
  EXPECT_EQ(out_.str(), before);
}

TEST_F(StoreCommandTest, UnreachableTargetIsNamedWithoutItsPassword) {
  EXPECT_EQ(Migrate(url_, "postgresql://alice:s3cret-pw@127.0.0.1:1/obsforge"), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("--to: open store: cannot connect to PostgreSQL "
                                    "alice@127.0.0.1:1/obsforge"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("s3cret-pw")));
}

// ---- serve ----

// What a client sees of the server: JSON of GET `path`.
nlohmann::json Get(const std::string& base, const std::string& path) {
  http::CurlHttpClient client;
  auto got = client.Send({.url = base + path, .timeout = seconds(30)});
  EXPECT_TRUE(got.ok()) << got.error().message;
  if (!got.ok()) {
    return {};
  }
  EXPECT_EQ(got->status, 200) << got->body;
  return nlohmann::json::parse(got->body, nullptr, false);
}

// The server's base URL from its first line ("obsforge: http://127.0.0.1:PORT  (API ...").
std::string BaseUrl(Obsforge& serve) {
  const int line = serve.out().WaitFor("obsforge: http://", 0, kComeUp);
  if (line < 0) {
    return "";
  }
  const std::string all = serve.out().All();
  const auto start = all.find("http://");
  return all.substr(start, all.find(' ', start) - start);
}

class ServePostgresTest : public StoreCommandTest {
 protected:
  // `serve ARGS` with the data directory and a free port, content from the source tree.
  std::unique_ptr<Obsforge> Serve(std::vector<std::string> args) {
    args.insert(args.begin(), {"serve", "--listen", "127.0.0.1:0", "--data-dir",
                               (Dir() / "var").string(), "--content-dir", OBS_SOURCE_DIR});
    return std::make_unique<Obsforge>(args, std::vector<std::string>{});
  }

  const http::CurlGlobal curl_;
};

// A single serve on PostgreSQL runs everything, the local runtime included; its state lives in
// the database, so a server started again from obsforge.yaml (`store: postgresql://…`) finds
// it.
TEST_F(ServePostgresTest, RunsTheDemoStackAndFindsItAgainThroughTheConfigFile) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  {
    auto serve =
        Serve({"--store", url_, "--bootstrap", std::string(OBS_SOURCE_DIR) + "/stacks/demo.yaml"});
    ASSERT_GE(serve->out().WaitFor("serving; SIGTERM or Ctrl-C stops it", 0, kComeUp), 0)
        << serve->out().All() << serve->err().All();
    // stdout and stderr are read by separate threads: the bootstrap line, written before
    // "serving", may not have been read yet.
    EXPECT_GE(serve->err().WaitFor("demo.yaml [dev]: ", 0, kComeUp), 0) << serve->err().All();
    EXPECT_THAT(serve->err().All(), HasSubstr("demo.yaml [dev]: succeeded"));
    EXPECT_THAT(serve->err().All(), HasSubstr("postgresql obsforge@127.0.0.1:"));
    EXPECT_THAT(serve->err().All(), Not(HasSubstr("obsforge.db")));
    ASSERT_EQ(::kill(serve->pid(), SIGTERM), 0);
    EXPECT_EQ(serve->Wait(), 0);
  }
  // Behind the server's back: the rows are in PostgreSQL, nothing in a SQLite file.
  EXPECT_EQ(server_->Value("SELECT revision FROM " + schema_ + ".stacks WHERE name = 'demo'"), "1");
  EXPECT_EQ(server_->Value("SELECT state FROM " + schema_ + ".environments WHERE stack = 'demo'"),
            "ready");
  EXPECT_EQ(server_->Value("SELECT COUNT(*) FROM " + schema_ +
                           ".operations WHERE stack = 'demo' AND state = 'succeeded'"),
            "1");
  EXPECT_FALSE(fs::exists(Dir() / "var" / "obsforge.db"));

  const fs::path config = Dir() / "obsforge.yaml";
  core::WriteFileAtomic(config, "store: " + url_ + "\n");
  auto serve = Serve({"--config", config.string()});
  const std::string base = BaseUrl(*serve);
  ASSERT_FALSE(base.empty()) << serve->out().All() << serve->err().All();
  const nlohmann::json stack = Get(base, "/api/v1/stacks/demo");
  EXPECT_EQ(stack.value("revision", 0), 1) << stack.dump();
  const nlohmann::json revisions = Get(base, "/api/v1/stacks/demo/revisions");
  EXPECT_THAT(revisions.dump(), HasSubstr("\"number\":1")) << revisions.dump();
  ASSERT_EQ(::kill(serve->pid(), SIGTERM), 0);
  EXPECT_EQ(serve->Wait(), 0);
  EXPECT_FALSE(fs::exists(Dir() / "var" / "obsforge.db"));
}

// Declared replicas: SQLite cannot be shared; on PostgreSQL a spec whose environments use the
// local runtime is refused when stored, naming each such environment.
TEST_F(ServePostgresTest, SeveralReplicasRefuseSqliteAndTheLocalRuntime) {
  {
    auto serve = Serve({"--replicas", "2"});
    EXPECT_EQ(serve->Wait(), kExitFailed);
  }
  auto serve = Serve({"--store", url_, "--replicas", "3"});
  const std::string base = BaseUrl(*serve);
  ASSERT_FALSE(base.empty()) << serve->out().All() << serve->err().All();
  http::CurlHttpClient client;
  auto created =
      client.Send({.method = "POST",
                   .url = base + "/api/v1/stacks",
                   .headers = {{"Content-Type", "application/yaml"}},
                   .body = core::ReadFile(fs::path(OBS_SOURCE_DIR) / "stacks" / "demo.yaml"),
                   .timeout = seconds(30)});
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->status, 400) << created->body;
  EXPECT_THAT(created->body, HasSubstr("spec.environments.dev.runtime"));
  EXPECT_THAT(created->body, HasSubstr("one of 3 replicas sharing its store: use the external "
                                       "runtime"));
  EXPECT_EQ(Get(base, "/api/v1/stacks").dump().find("demo"), std::string::npos);
  ASSERT_EQ(::kill(serve->pid(), SIGTERM), 0);
  EXPECT_EQ(serve->Wait(), 0);
}

TEST(ServeStore, BadStoreUrlsStopTheServerWithTheReason) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunServe({.store = "mysql://root:pw@db/x"}, Io{out, err}), kExitFailed);
  EXPECT_EQ(err.str(),
            "store URL: unknown scheme \"mysql\" (use sqlite, sqlite:PATH or "
            "postgresql://user@host/db)\n");
  store::testing::TempDir dir;
  const fs::path config = dir.path() / "obsforge.yaml";
  core::WriteFileAtomic(config, "store: mysql://x\nreplicas: 0\n");
  err.str("");
  EXPECT_EQ(RunServe({.config = config}, Io{out, err}), kExitFailed);
  EXPECT_THAT(err.str(), HasSubstr("obsforge.yaml:1:8: store: store URL: unknown scheme"));
  EXPECT_THAT(err.str(), HasSubstr("obsforge.yaml:2:11: replicas: must be a positive integer"));
}

}  // namespace
}  // namespace obsforge::app
