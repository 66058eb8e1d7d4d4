#pragma once

// Internal to src/store: libpq connections behind PostgresStore, a small pool, and the
// transaction runner that turns PostgreSQL's failures into store errors. Not part of the
// module's API (it exposes libpq).

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "store/migrations.h"
#include "store/rows.h"
#include <libpq-fe.h>

namespace obsforge::store {

/// A failure reported by PostgreSQL or libpq.
class PgError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t {
    kStatement,       ///< the server refused a statement; the connection is fine
    kConnectionLost,  ///< the connection broke (server gone, restarted, network)
    kCannotConnect,   ///< no connection could be made
  };
  PgError(Kind kind, std::string sqlstate, const std::string& message)
      : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
  Kind kind() const { return kind_; }
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  Kind kind_;
  std::string sqlstate_;
};

/// A parameter bound to `$n`, in text form; nullopt is NULL.
using PgParam = std::optional<std::string>;

/// Text as PostgreSQL accepts it: valid UTF-8 without NUL. Invalid sequences and NUL bytes
/// become U+FFFD (the database would refuse them, and libpq would cut the value at a NUL).
std::string StorableText(std::string_view text);

inline PgParam ToParam(const std::string& v) {
  return StorableText(v);
}
inline PgParam ToParam(const char* v) {
  return StorableText(v);
}
inline PgParam ToParam(std::integral auto v) {
  return std::to_string(v);
}
inline PgParam ToParam(const std::optional<std::int64_t>& v) {
  return v ? PgParam(std::to_string(*v)) : std::nullopt;
}
inline PgParam ToParam(const PgParam& v) {
  return v;
}

/// The rows (or the count of changed rows) of one statement.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  /// Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  /// Column `column` of row `row` ("" / 0 for NULL). Throw StoreDataError for an unknown
  /// column or a value that is not an integer.
  std::string Text(int row, const char* column) const;
  std::int64_t Int(int row, const char* column) const;
  /// Column number `column` of row `row` as text ("" for NULL).
  std::string Value(int row, int column) const;

 private:
  int Column(const char* column) const;
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

/// Row `index` of a PgResult, as store/rows.h reads rows.
class PgRow {
 public:
  PgRow(const PgResult& result, int index) : result_(&result), index_(index) {}
  std::string Text(const char* column) const { return result_->Text(index_, column); }
  std::int64_t Int(const char* column) const { return result_->Int(index_, column); }

 private:
  const PgResult* result_;
  int index_;
};

/// Every row of `result` mapped by `from_row` (one of store/rows.h).
template <class F>
auto AllRows(const PgResult& result, F from_row) {
  std::vector<decltype(from_row(PgRow(result, 0)))> out;
  out.reserve(static_cast<std::size_t>(result.rows()));
  for (int i = 0; i < result.rows(); ++i) {
    out.push_back(from_row(PgRow(result, i)));
  }
  return out;
}

/// "INSERT INTO <table> (<every column>) VALUES ($1, ..., $n)".
std::string PgInsert(const Table& table);
/// PgInsert that replaces the row when its key exists (ON CONFLICT (<key>) DO UPDATE).
std::string PgUpsert(const Table& table);
/// A LIMIT parameter: NULL (no limit) when `limit` <= 0.
inline std::optional<std::int64_t> PgLimit(int limit) {
  return limit > 0 ? std::optional<std::int64_t>(limit) : std::nullopt;
}

/// libpq keyword/value pairs of a connection; a `dbname` holding a URL is expanded.
using PgConnectParams = std::vector<std::pair<std::string, std::string>>;

/// One libpq connection. Not thread-safe: used by one thread at a time (the pool sees to it).
class PgConnection {
 public:
  /// Connects, then sets the session's statement_timeout (0: the server's). Throws PgError
  /// (kCannotConnect) with libpq's message when it cannot.
  PgConnection(const PgConnectParams& params, std::chrono::milliseconds statement_timeout);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs `sql` with `args` bound to $1, $2, ... in order. Throws PgError.
  template <class... Args>
  PgResult Exec(const std::string& sql, const Args&... args) {
    return ExecParams(sql, {ToParam(args)...});
  }
  PgResult ExecParams(const std::string& sql, const std::vector<PgParam>& params);

  /// Connected and outside any transaction: fit to go back to the pool.
  bool Reusable() const;
  /// Rolls back an open transaction; false when the connection is unusable.
  bool RollbackQuietly();
  /// The server's version as libpq reports it (150004 for 15.4).
  int server_version() const { return PQserverVersion(conn_); }
  /// The libpq connection itself (to wait for notifications).
  PGconn* native() { return conn_; }

 private:
  [[noreturn]] void Fail(PGresult* result);
  PGconn* conn_ = nullptr;
};

/// A bounded pool of connections to one database, and the one place that runs statements: each
/// call borrows a connection, runs a callback on it and maps failures to store errors:
///   cannot connect / connection lost        -> kUnavailable (naming user@host:port/db only)
///   statement_timeout                        -> kTimeout
///   anything else (constraint, syntax, ...)  -> kInternal with PostgreSQL's message
/// A connection found dead (the server restarted, a proxy dropped it) is closed and the call runs
/// once more on a fresh one when nothing can have been committed; a serialization failure or
/// deadlock runs the transaction again (up to 4 times). Callbacks therefore must have no effect
/// outside the database.
class PgPool {
 public:
  PgPool(PgConnectParams params,
         std::string server,
         int max_connections,
         std::chrono::milliseconds statement_timeout);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  /// Runs `fn(conn)` in one READ COMMITTED transaction: committed when it returns ok, rolled
  /// back when it returns an error or throws. `what` prefixes error messages.
  template <class T, class F>
  core::Result<T> Write(std::string_view what, F&& fn) {
    return Run<T>(what, "BEGIN", std::forward<F>(fn));
  }
  /// Runs `fn(conn)`; with `snapshot`, in one REPEATABLE READ READ ONLY transaction so that
  /// several queries see one state.
  template <class T, class F>
  core::Result<T> Read(std::string_view what, bool snapshot, F&& fn) {
    return Run<T>(what, snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : nullptr,
                  std::forward<F>(fn));
  }
  /// Runs `fn(conn)` on one connection outside any transaction (it manages its own, e.g. under
  /// a session advisory lock), without retries.
  template <class T, class F>
  core::Result<T> Session(std::string_view what, F&& fn) {
    try {
      Lease lease(*this);
      return fn(lease.conn());
    } catch (const PgError& e) {
      return Failure(what, e, false);
    } catch (const std::exception& e) {
      return core::MakeError(core::ErrorCode::kInternal, std::string(what) + ": " + e.what());
    }
  }

  /// The store error for `e` (see the class comment); `commit_sent` when it broke a COMMIT.
  core::Error Failure(std::string_view what, const PgError& e, bool commit_sent) const;

  /// user@host:port/db, for messages (never the password).
  const std::string& server() const { return server_; }
  /// The parameters its connections are opened with.
  const PgConnectParams& params() const { return params_; }

 private:
  // A connection borrowed for one call: idle, or newly opened when fewer than max are open.
  // Goes back to the pool when reusable, is closed otherwise.
  class Lease {
   public:
    explicit Lease(PgPool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgConnection& conn() { return *conn_; }

   private:
    PgPool& pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  template <class T, class F>
  core::Result<T> Run(std::string_view what, const char* begin, F&& fn) {
    for (int attempt = 1;; ++attempt) {
      bool commit_sent = false;
      try {
        Lease lease(*this);
        PgConnection& conn = lease.conn();
        try {
          if (begin != nullptr) {
            conn.Exec(begin);
          }
          core::Result<T> result = fn(conn);
          if (begin != nullptr) {
            commit_sent = result.ok();
            conn.Exec(result.ok() ? "COMMIT" : "ROLLBACK");
          }
          return result;
        } catch (...) {
          conn.RollbackQuietly();
          throw;
        }
      } catch (const PgError& e) {
        if (!RunAgain(e, attempt, commit_sent)) {
          return Failure(what, e, commit_sent);
        }
      } catch (const std::exception& e) {
        return core::MakeError(core::ErrorCode::kInternal, std::string(what) + ": " + e.what());
      }
    }
  }

  // Whether a failed attempt may run again; closes idle connections when the server went away.
  bool RunAgain(const PgError& e, int attempt, bool commit_sent);
  void CloseIdle();

  const PgConnectParams params_;
  const std::string server_;
  const int max_connections_;
  const std::chrono::milliseconds statement_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;  // connections that exist or are being opened
  std::vector<std::unique_ptr<PgConnection>> idle_;
};

/// Inside a transaction: tells the store's subscribers, once it commits, that operations
/// changed (`stack` empty) or that an environment of `stack` did (see Store::Subscribe).
void NotifyChange(PgConnection& c, const std::string& stack = "");

/// Inside a write transaction: whether a delete of stack `name` is queued or running.
bool DeletePending(PgConnection& c, const std::string& name);
/// Inside a write transaction: creates `ops` as OperationStore::CreateOperations says. Takes
/// the row lock of each op's stack first, so that one stack's operations are numbered in the
/// order their transactions commit.
core::Result<std::vector<Operation>> InsertOperations(PgConnection& c,
                                                      const std::vector<NewOperation>& ops,
                                                      TimeMs now);

}  // namespace obsforge::store
