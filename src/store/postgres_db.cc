#include "store/postgres_db.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

#include "core/utf8.h"

namespace obsforge::store {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string Trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  // libpq puts several attempts (one per address) on separate lines.
  for (char& c : s) {
    if (c == '\n') {
      c = ';';
    }
  }
  return s;
}

// The message of a failed statement on one line: PostgreSQL's primary message and SQLSTATE.
std::string StatementMessage(const PGresult* result) {
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string message = Trimmed(primary != nullptr ? primary : PQresultErrorMessage(result));
  if (state != nullptr) {
    message += std::string(" (SQLSTATE ") + state + ")";
  }
  return message;
}

}  // namespace

std::string StorableText(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    // PostgreSQL's text refuses NUL as well as what is not UTF-8.
    const std::size_t n = text[i] == '\0' ? 0 : core::Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      if (out.empty()) {
        out.reserve(text.size() + 2);
      }
      out.append(text.substr(0, i));
      text.remove_prefix(i + 1);
      out.append(kReplacement);
      i = 0;
      continue;
    }
    i += n;
  }
  if (out.empty()) {
    return std::string(text);
  }
  out.append(text);
  return out;
}

std::string PgInsert(const Table& table) {
  std::string values;
  for (std::size_t i = 1; i <= table.columns.size(); ++i) {
    values += (i > 1 ? ", $" : "$") + std::to_string(i);
  }
  return "INSERT INTO " + table.name + " (" + table.column_list + ") VALUES (" + values + ")";
}

std::string PgUpsert(const Table& table) {
  std::string set;
  for (const Column& c : table.columns) {
    if (std::find(table.key.begin(), table.key.end(), c.name) != table.key.end()) {
      continue;
    }
    set += (set.empty() ? "" : ", ") + c.name + " = EXCLUDED." + c.name;
  }
  return PgInsert(table) + " ON CONFLICT (" + table.key_list + ") DO UPDATE SET " + set;
}

// ---- PgResult ----

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(n, n + std::strlen(n), value);
  return value;
}

int PgResult::Column(const char* column) const {
  const int index = PQfnumber(result_.get(), column);
  if (index < 0) {
    throw StoreDataError(std::string("no column ") + column + " in the result");
  }
  return index;
}

std::string PgResult::Text(int row, const char* column) const {
  return Value(row, Column(column));
}

std::string PgResult::Value(int row, int column) const {
  if (PQgetisnull(result_.get(), row, column) != 0) {
    return {};
  }
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::int64_t PgResult::Int(int row, const char* column) const {
  const int c = Column(column);
  if (PQgetisnull(result_.get(), row, c) != 0) {
    return 0;
  }
  const char* text = PQgetvalue(result_.get(), row, c);
  const char* end = text + PQgetlength(result_.get(), row, c);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) {
    throw StoreDataError(std::string("column ") + column + " holds '" + text + "', not an integer");
  }
  return value;
}

// ---- PgConnection ----

PgConnection::PgConnection(const PgConnectParams& params,
                           std::chrono::milliseconds statement_timeout) {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : params) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ == nullptr) {
    throw PgError(PgError::Kind::kCannotConnect, "", "out of memory");
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = Trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError(PgError::Kind::kCannotConnect, "", message);
  }
  // NOTICEs ("relation ... already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(
      conn_, [](void* /*arg*/, const char* /*message*/) {}, nullptr);
  try {
    if (statement_timeout.count() > 0) {
      Exec("SELECT set_config('statement_timeout', $1, false)",
           std::to_string(statement_timeout.count()));
    }
  } catch (...) {
    PQfinish(conn_);
    throw;
  }
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
}

PgResult PgConnection::ExecParams(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
  }
  PGresult* result = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, /*resultFormat=*/0);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Fail(result);
  }
  return PgResult(result);
}

void PgConnection::Fail(PGresult* result) {
  const PgResult owned(result);  // freed on the way out
  const bool lost = PQstatus(conn_) != CONNECTION_OK;
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  // Class 08 is "connection exception"; 57P01-57P03 mean the server is shutting down or not
  // accepting this session, after which the connection is gone.
  const bool connection_class = sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P0", 0) == 0;
  const std::string message =
      result != nullptr ? StatementMessage(result) : Trimmed(PQerrorMessage(conn_));
  throw PgError(
      lost || connection_class ? PgError::Kind::kConnectionLost : PgError::Kind::kStatement,
      std::move(sqlstate), message);
}

bool PgConnection::Reusable() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

bool PgConnection::RollbackQuietly() {
  if (PQstatus(conn_) != CONNECTION_OK) {
    return false;
  }
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) {
    return true;
  }
  PGresult* r = PQexec(conn_, "ROLLBACK");
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

// ---- PgPool ----

PgPool::PgPool(PgConnectParams params,
               std::string server,
               int max_connections,
               std::chrono::milliseconds statement_timeout)
    : params_(std::move(params)),
      server_(std::move(server)),
      max_connections_(std::max(1, max_connections)),
      statement_timeout_(statement_timeout) {
}

PgPool::~PgPool() = default;

PgPool::Lease::Lease(PgPool& pool) : pool_(pool) {
  std::unique_lock lock(pool_.mu_);
  pool_.cv_.wait(lock,
                 [&] { return !pool_.idle_.empty() || pool_.open_ < pool_.max_connections_; });
  if (!pool_.idle_.empty()) {
    conn_ = std::move(pool_.idle_.back());
    pool_.idle_.pop_back();
    return;
  }
  ++pool_.open_;
  lock.unlock();
  // Connecting takes a round trip or a timeout: never under the pool's lock.
  try {
    conn_ = std::make_unique<PgConnection>(pool_.params_, pool_.statement_timeout_);
  } catch (...) {
    lock.lock();
    --pool_.open_;
    pool_.cv_.notify_one();
    throw;
  }
}

PgPool::Lease::~Lease() {
  std::unique_ptr<PgConnection> closing;
  {
    std::lock_guard lock(pool_.mu_);
    if (conn_->Reusable()) {
      pool_.idle_.push_back(std::move(conn_));
    } else {
      closing = std::move(conn_);
      --pool_.open_;
    }
  }
  pool_.cv_.notify_one();
}

void PgPool::CloseIdle() {
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    std::lock_guard lock(mu_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
  }
  cv_.notify_all();
}

bool PgPool::RunAgain(const PgError& e, int attempt, bool commit_sent) {
  if (e.kind() == PgError::Kind::kStatement) {
    // 40001 serialization_failure, 40P01 deadlock_detected: the transaction was rolled back
    // whole and may simply run again.
    return (e.sqlstate() == "40001" || e.sqlstate() == "40P01") && attempt < 4;
  }
  if (e.kind() == PgError::Kind::kConnectionLost) {
    // The idle connections most likely died the same death (a restart, a failover): close them
    // all, and run once more on a new one unless a COMMIT was sent (it may have happened).
    CloseIdle();
    return attempt == 1 && !commit_sent;
  }
  return false;
}

core::Error PgPool::Failure(std::string_view what, const PgError& e, bool commit_sent) const {
  using core::ErrorCode;
  const std::string prefix = std::string(what) + ": ";
  switch (e.kind()) {
    case PgError::Kind::kCannotConnect:
      return core::MakeError(ErrorCode::kUnavailable,
                             prefix + "cannot connect to PostgreSQL " + server_ + ": " + e.what());
    case PgError::Kind::kConnectionLost:
      return core::MakeError(
          ErrorCode::kUnavailable,
          prefix + "connection to PostgreSQL " + server_ + " lost" +
              (commit_sent ? " while committing (the change may or may not be saved)" : "") + ": " +
              e.what());
    case PgError::Kind::kStatement:
      break;
  }
  if (e.sqlstate() == "57014") {  // query_canceled: statement_timeout
    return core::MakeError(ErrorCode::kTimeout, prefix + e.what());
  }
  return core::MakeError(ErrorCode::kInternal, prefix + e.what());
}

}  // namespace obsforge::store
