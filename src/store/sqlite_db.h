#pragma once

// Internal to src/store: the connections behind SqliteStore and small Poco::Data helpers.
// Not part of the module's API (it exposes Poco).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include "core/error.h"
#include "store/migrations.h"
#include "store/sqlite_store.h"

namespace obsforge::store {

/// One writer connection (guarded by a mutex) and a pool of reader connections on one SQLite
/// database. Write/Read run a callback on a connection and turn exceptions into kInternal.
class SqliteDb {
 public:
  /// Opens the connections and sets the pragmas. Throws Poco::Exception on failure (the caller,
  /// SqliteStore::Open, converts it).
  explicit SqliteDb(const SqliteStoreOptions& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  /// Applies the migrations the database lacks (see SqliteStore::Open).
  core::Result<void> Migrate(const std::vector<Migration>& migrations, std::int64_t now_ms);

  /// Runs `fn(session)` on the writer inside BEGIN IMMEDIATE ... COMMIT; an error result or an
  /// exception rolls back. `what` prefixes the kInternal message of a database failure.
  template <class T, class F>
  core::Result<T> Write(std::string_view what, F&& fn) {
    std::lock_guard lock(write_mu_);
    Poco::Data::Session& session = *writer_;
    try {
      BeginImmediate(session);
      core::Result<T> result = fn(session);
      Exec(session, result.ok() ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (const Poco::Exception& e) {
      RollbackQuietly(session);
      return Failure(what, e.displayText());
    } catch (const std::exception& e) {
      RollbackQuietly(session);
      return Failure(what, e.what());
    }
  }

  /// Runs `fn(session)` on a reader connection; with `snapshot`, inside one read transaction
  /// so several queries see the same state.
  template <class T, class F>
  core::Result<T> Read(std::string_view what, bool snapshot, F&& fn) {
    Lease lease(*this);
    Poco::Data::Session& session = lease.session();
    // A read has no effects, so a lock refused without waiting (see RetryWhileLocked) is
    // simply tried again.
    return RetryWhileLocked(
        [&]() -> core::Result<T> {
          try {
            if (snapshot) {
              Exec(session, "BEGIN");
            }
            core::Result<T> result = fn(session);
            if (snapshot) {
              Exec(session, "COMMIT");
            }
            return result;
          } catch (const Poco::Data::SQLite::DBLockedException&) {
            if (snapshot) {
              RollbackQuietly(session);
            }
            throw;
          } catch (const Poco::Exception& e) {
            if (snapshot) {
              RollbackQuietly(session);
            }
            return Failure(what, e.displayText());
          } catch (const std::exception& e) {
            if (snapshot) {
              RollbackQuietly(session);
            }
            return Failure(what, e.what());
          }
        },
        what);
  }

  /// Executes `sql` with `args` bound to its `?` in order; returns the number of rows changed.
  template <class... Args>
  static std::size_t Exec(Poco::Data::Session& session,
                          const std::string& sql,
                          const Args&... args) {
    Poco::Data::Statement st(session);
    st << sql;
    (st.addBind(Poco::Data::Keywords::bind(args)), ...);
    return st.execute();
  }

  /// Runs the query `sql` with `args` bound; the rows, positioned before the first.
  template <class... Args>
  static Poco::Data::RecordSet Query(Poco::Data::Session& session,
                                     const std::string& sql,
                                     const Args&... args) {
    Poco::Data::Statement st(session);
    st << sql;
    (st.addBind(Poco::Data::Keywords::bind(args)), ...);
    st.execute();
    return Poco::Data::RecordSet(st);
  }

 private:
  // A reader connection borrowed from the pool (or the writer, under its mutex, when the
  // database is in memory and has no readers).
  class Lease {
   public:
    explicit Lease(SqliteDb& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Poco::Data::Session& session() { return *session_; }

   private:
    SqliteDb& db_;
    std::unique_lock<std::mutex> writer_lock_;
    Poco::Data::Session* session_ = nullptr;
  };

  // SQLite answers SQLITE_BUSY without calling the busy handler in a few cases (another
  // connection switching the journal mode or recovering the WAL index; opening a read
  // transaction that races a checkpoint). Runs `fn` again, with short sleeps, until it stops
  // throwing DBLockedException or busy_timeout has passed; then the lock error is the result.
  template <class F>
  auto RetryWhileLocked(F&& fn, std::string_view what) -> decltype(fn()) {
    const auto deadline = std::chrono::steady_clock::now() + busy_timeout_;
    std::chrono::milliseconds pause{1};
    for (;;) {
      try {
        return fn();
      } catch (const Poco::Data::SQLite::DBLockedException& e) {
        if (std::chrono::steady_clock::now() + pause > deadline) {
          return Failure(what, e.displayText());
        }
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  // BEGIN IMMEDIATE, retried as RetryWhileLocked does; throws the lock error after busy_timeout.
  void BeginImmediate(Poco::Data::Session& session);

  static core::Error Failure(std::string_view what, const std::string& detail);
  static void RollbackQuietly(Poco::Data::Session& session);
  std::unique_ptr<Poco::Data::Session> Connect(const SqliteStoreOptions& options, bool reader);

  std::chrono::milliseconds busy_timeout_;
  std::mutex write_mu_;
  std::unique_ptr<Poco::Data::Session> writer_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Poco::Data::Session>> readers_;
  std::vector<Poco::Data::Session*> idle_;
};

/// Column `name` of the current row of `rs` as text ("" for NULL).
std::string Text(Poco::Data::RecordSet& rs, const std::string& name);
/// Column `name` of the current row of `rs` as an integer (0 for NULL).
std::int64_t Int(Poco::Data::RecordSet& rs, const std::string& name);

/// Inside a write transaction: whether a delete of stack `name` is queued or running.
bool DeletePending(Poco::Data::Session& s, const std::string& name);
/// Inside a write transaction: creates `ops` as OperationStore::CreateOperations says.
core::Result<std::vector<Operation>> InsertOperations(Poco::Data::Session& s,
                                                      const std::vector<NewOperation>& ops,
                                                      TimeMs now);

/// The current row of a RecordSet, as store/rows.h reads rows.
class SqliteRow {
 public:
  explicit SqliteRow(Poco::Data::RecordSet& rs) : rs_(&rs) {}
  std::string Text(const char* column) const { return store::Text(*rs_, column); }
  std::int64_t Int(const char* column) const { return store::Int(*rs_, column); }

 private:
  Poco::Data::RecordSet* rs_;
};

}  // namespace obsforge::store
