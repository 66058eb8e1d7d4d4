#include "store/sqlite_db.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <string>

#include <Poco/Data/SQLite/Connector.h>

namespace obsforge::store {
namespace {

using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;

void RegisterConnectorOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
}

bool InMemory(const std::string& path) {
  return path == ":memory:" || path.empty();
}

}  // namespace

std::unique_ptr<Poco::Data::Session> SqliteDb::Connect(const SqliteStoreOptions& options,
                                                       bool reader) {
  RegisterConnectorOnce();
  if (!InMemory(options.path)) {
    // Poco keeps retrying an open that cannot succeed until its login timeout; say why at once.
    const std::filesystem::path dir = std::filesystem::absolute(options.path).parent_path();
    if (!std::filesystem::is_directory(dir)) {
      throw Poco::Data::DataException("directory " + dir.string() + " does not exist");
    }
  }
  const auto login_timeout = static_cast<std::size_t>(std::max<std::int64_t>(
      1, std::chrono::ceil<std::chrono::seconds>(options.busy_timeout).count()));
  auto session = std::make_unique<Poco::Data::Session>(
      "SQLite", InMemory(options.path) ? std::string(":memory:") : options.path, login_timeout);
  // busy_timeout first: the pragmas below may themselves need a lock another process holds.
  Exec(*session, "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()));
  Exec(*session, "PRAGMA foreign_keys = ON");
  if (reader) {
    // Readers never write; make a slip loud instead of a lock fight with the writer.
    Exec(*session, "PRAGMA query_only = ON");
    return session;
  }
  if (!InMemory(options.path)) {
    std::string mode;
    // Switching needs a moment alone with the file; another process opening it at the same
    // time makes SQLite refuse without waiting, so retry.
    Poco::Data::Session& raw = *session;
    core::Result<void> switched = RetryWhileLocked(
        [&]() -> core::Result<void> {
          raw << "PRAGMA journal_mode = WAL", into(mode), now;
          return {};
        },
        "set WAL journal mode");
    if (!switched) {
      throw Poco::Data::DataException(switched.error().message);
    }
    if (mode != "wal") {
      throw Poco::Data::DataException("cannot switch " + options.path +
                                      " to WAL journal mode (got '" + mode + "')");
    }
  }
  Exec(*session,
       std::string("PRAGMA synchronous = ") + (options.synchronous_full ? "FULL" : "NORMAL"));
  return session;
}

SqliteDb::SqliteDb(const SqliteStoreOptions& options) : busy_timeout_(options.busy_timeout) {
  writer_ = Connect(options, /*reader=*/false);
  // An in-memory database is private to its connection: readers would see an empty one.
  if (!InMemory(options.path)) {
    for (int i = 0; i < options.reader_connections; ++i) {
      readers_.push_back(Connect(options, /*reader=*/true));
      idle_.push_back(readers_.back().get());
    }
  }
}

SqliteDb::~SqliteDb() = default;

core::Result<void> SqliteDb::Migrate(const std::vector<Migration>& migrations,
                                     std::int64_t now_ms) {
  if (core::Result<void> ordered = CheckMigrationOrder(migrations); !ordered) {
    return ordered;
  }
  core::Result<void> created = Write<void>("create schema_migrations", [](auto& s) {
    Exec(s,
         "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
         "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    return core::Result<void>();
  });
  if (!created) {
    return created;
  }
  core::Result<std::int64_t> newest =
      Write<std::int64_t>("read schema version", [](auto& s) -> core::Result<std::int64_t> {
        auto rs = Query(s, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations");
        rs.moveFirst();
        return Int(rs, "v");
      });
  if (!newest) {
    return newest.error();
  }
  if (core::Result<void> known = CheckNotNewer(*newest, migrations); !known) {
    return known;
  }
  for (const Migration& m : migrations) {
    const std::string what = "migration " + std::to_string(m.version) + " (" + m.name + ")";
    // The check runs inside the migration's own transaction so two processes opening the same
    // file at once cannot both apply it.
    core::Result<void> applied = Write<void>(what, [&](auto& s) {
      auto rs = Query(s, "SELECT version FROM schema_migrations WHERE version = ?", m.version);
      if (rs.rowCount() > 0) {
        return core::Result<void>();
      }
      for (const std::string& step : m.steps) {
        Exec(s, step);
      }
      Exec(s, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
           m.version, m.name, now_ms);
      return core::Result<void>();
    });
    if (!applied) {
      return applied;
    }
  }
  return {};
}

SqliteDb::Lease::Lease(SqliteDb& db) : db_(db) {
  if (db_.readers_.empty()) {
    writer_lock_ = std::unique_lock(db_.write_mu_);
    session_ = db_.writer_.get();
    return;
  }
  std::unique_lock lock(db_.pool_mu_);
  db_.pool_cv_.wait(lock, [&] { return !db_.idle_.empty(); });
  session_ = db_.idle_.back();
  db_.idle_.pop_back();
}

SqliteDb::Lease::~Lease() {
  if (writer_lock_.owns_lock()) {
    return;
  }
  {
    std::lock_guard lock(db_.pool_mu_);
    db_.idle_.push_back(session_);
  }
  db_.pool_cv_.notify_one();
}

void SqliteDb::BeginImmediate(Poco::Data::Session& session) {
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout_;
  std::chrono::milliseconds pause{1};
  for (;;) {
    try {
      Exec(session, "BEGIN IMMEDIATE");
      return;
    } catch (const Poco::Data::SQLite::DBLockedException&) {
      if (std::chrono::steady_clock::now() + pause > deadline) {
        throw;
      }
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

core::Error SqliteDb::Failure(std::string_view what, const std::string& detail) {
  return core::MakeError(core::ErrorCode::kInternal, std::string(what) + ": " + detail);
}

void SqliteDb::RollbackQuietly(Poco::Data::Session& session) {
  // The failure may have happened before BEGIN or after SQLite already rolled back on its own;
  // either way there is nothing more to undo, and the original error is the one to report.
  try {
    Exec(session, "ROLLBACK");
  } catch (const Poco::Exception&) {  // NOLINT(bugprone-empty-catch)
  }
}

std::string Text(Poco::Data::RecordSet& rs, const std::string& name) {
  const Poco::Dynamic::Var v = rs[name];
  return v.isEmpty() ? std::string() : v.convert<std::string>();
}

std::int64_t Int(Poco::Data::RecordSet& rs, const std::string& name) {
  const Poco::Dynamic::Var v = rs[name];
  return v.isEmpty() ? 0 : v.convert<Poco::Int64>();
}

}  // namespace obsforge::store
