#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace obsforge::store::testing {

using TempDir = ::obsforge::testsupport::TempDir;

/// Opens `path` or fails the test; the store uses `clock`.
inline std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path,
                                              core::Clock& clock,
                                              const std::vector<Migration>* migrations = nullptr) {
  auto opened = SqliteStore::Open({.path = path, .migrations = migrations}, clock);
  if (!opened) {
    ADD_FAILURE() << "open " << path << ": " << opened.error().message;
    return nullptr;
  }
  return std::move(opened).value();
}

/// Opens the PostgreSQL store at `url` or fails the test; the store uses `clock`.
inline std::unique_ptr<PostgresStore> OpenPostgresOrDie(
    const std::string& url,
    core::Clock& clock,
    const std::vector<Migration>* migrations = nullptr) {
  auto opened =
      PostgresStore::Open({.url = url, .max_connections = 4, .migrations = migrations}, clock);
  if (!opened) {
    ADD_FAILURE() << "open " << url << ": " << opened.error().message;
    return nullptr;
  }
  return std::move(opened).value();
}

/// Fixture: the test binary's PostgreSQL (started on first use) and a fresh schema for each
/// test; `schema_` is its name and `url_` a URL whose sessions use it.
class PostgresSchemaTest : public ::testing::Test {
 protected:
  explicit PostgresSchemaTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    obsforge::testing::RequirePostgres(server_);
    if (server_ == nullptr) {
      return;
    }
    auto schema = server_->NewSchema(prefix_);
    ASSERT_TRUE(schema.has_value());
    schema_ = *schema;
    url_ = server_->SchemaUrl(schema_);
  }

  obsforge::testing::PostgresServer* server_ = nullptr;
  std::string schema_;
  std::string url_;
  obsforge::testing::FakeClock clock_;

 private:
  std::string prefix_;
};

/// Parameter of store tests: run on a database file, in memory, or on PostgreSQL (a fresh
/// schema of the binary's server; see support/postgres_server.h).
enum class Backing { kFile, kMemory, kPostgres };

/// Every backing: the conformance tests run on each. (ctest runs the Postgres ones in one
/// process, so that one server serves them all: see CMakeLists.txt.)
inline auto AllBackings() {
  return ::testing::Values(Backing::kFile, Backing::kMemory, Backing::kPostgres);
}

inline std::string BackingName(const ::testing::TestParamInfo<Backing>& info) {
  switch (info.param) {
    case Backing::kFile:
      return "File";
    case Backing::kMemory:
      return "Memory";
    case Backing::kPostgres:
      return "Postgres";
  }
  return "Unknown";
}

/// Fixture: a fresh store on a temp file, in memory or in a fresh PostgreSQL schema, with a
/// fake clock.
class StoreTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Backing::kFile:
        path_ = (dir_.path() / "obsforge.db").string();
        break;
      case Backing::kMemory:
        path_ = ":memory:";
        break;
      case Backing::kPostgres: {
        obsforge::testing::PostgresServer* server = nullptr;
        obsforge::testing::RequirePostgres(server);
        if (server == nullptr) {
          return;
        }
        auto url = server->NewSchemaUrl();
        ASSERT_TRUE(url.has_value());
        path_ = *url;
        break;
      }
    }
    Open();
  }

  /// Closes and reopens the same database (in memory it would be a new one: see Persistent).
  void Reopen() {
    store_.reset();
    Open();
  }

  /// Whether the database outlives its store (a file or PostgreSQL), so Reopen keeps the data.
  bool Persistent() const { return GetParam() != Backing::kMemory; }

  /// A spec change from the API with `json` as the spec.
  static SpecChange Api(std::string json, std::string actor = "alice") {
    std::string hash = "hash-" + std::to_string(json.size());
    return SpecChange{.spec_json = std::move(json),
                      .spec_hash = std::move(hash),
                      .source = RevisionSource::kApi,
                      .actor = std::move(actor)};
  }

  TimeMs NowMs() { return ToTimeMs(clock_.Now()); }

  TempDir dir_;
  obsforge::testing::FakeClock clock_;
  std::string path_;  ///< the file, ":memory:" or the PostgreSQL URL
  std::unique_ptr<Store> store_;

 private:
  void Open() {
    if (GetParam() == Backing::kPostgres) {
      store_ = OpenPostgresOrDie(path_, clock_);
    } else {
      store_ = OpenOrDie(path_, clock_);
    }
    ASSERT_NE(store_, nullptr);
  }
};

}  // namespace obsforge::store::testing
