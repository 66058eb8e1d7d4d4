#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "support/fake_clock.h"

namespace obsforge::store::testing {

/// A unique directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "obsforge-store-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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

/// Parameter of store tests: run on a database file or in memory.
enum class Backing { kFile, kMemory };

inline std::string BackingName(const ::testing::TestParamInfo<Backing>& info) {
  return info.param == Backing::kFile ? "File" : "Memory";
}

/// Fixture: a fresh store on a temp file (or in memory) with a fake clock.
class StoreTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    path_ = GetParam() == Backing::kFile ? (dir_.path() / "obsforge.db").string() : ":memory:";
    store_ = OpenOrDie(path_, clock_);
    ASSERT_NE(store_, nullptr);
  }

  /// Closes and reopens the same database (file only; in memory it would be a new one).
  void Reopen() {
    store_.reset();
    store_ = OpenOrDie(path_, clock_);
    ASSERT_NE(store_, nullptr);
  }

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
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace obsforge::store::testing
