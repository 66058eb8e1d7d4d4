// Per-stack secrets: sealed text in, sealed text out.

#include "store/rows.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;
using Poco::Data::Session;

}  // namespace

Result<StackSecret> SqliteStore::PutSecret(const StackSecret& secret) {
  StackSecret stored = secret;
  stored.updated_at = Now();
  // The key names the row in messages; the value never does.
  return db_->Write<StackSecret>(
      "put secret " + secret.key + " of " + secret.stack, [&](Session& s) {
        SqliteDb::Exec(s,
                       "INSERT OR REPLACE INTO stack_secrets (" + Columns("stack_secrets") +
                           ") VALUES (?, ?, ?, ?, ?)",
                       stored.stack, stored.key, stored.sealed, stored.key_id, stored.updated_at);
        return Result<StackSecret>(stored);
      });
}

Result<StackSecret> SqliteStore::GetSecret(const std::string& stack, const std::string& key) {
  return db_->Read<StackSecret>(
      "get secret " + key + " of " + stack, false, [&](Session& s) -> Result<StackSecret> {
        auto rs = SqliteDb::Query(s,
                                  "SELECT " + Columns("stack_secrets") +
                                      " FROM stack_secrets WHERE stack = ? AND key = ?",
                                  stack, key);
        if (!rs.moveFirst()) {
          return MakeError(ErrorCode::kNotFound,
                           "secret " + key + " of stack " + stack + " not found");
        }
        return StackSecretFromRow(SqliteRow(rs));
      });
}

Result<std::vector<StackSecret>> SqliteStore::ListSecrets(const std::string& stack) {
  return db_->Read<std::vector<StackSecret>>(
      "list secrets of " + (stack.empty() ? std::string("every stack") : stack), false,
      [&](Session& s) {
        const std::string select = "SELECT " + Columns("stack_secrets") + " FROM stack_secrets";
        auto rs = stack.empty()
                      ? SqliteDb::Query(s, select + " ORDER BY stack, key")
                      : SqliteDb::Query(s, select + " WHERE stack = ? ORDER BY key", stack);
        std::vector<StackSecret> secrets;
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
          secrets.push_back(StackSecretFromRow(SqliteRow(rs)));
        }
        return Result<std::vector<StackSecret>>(std::move(secrets));
      });
}

Result<void> SqliteStore::DeleteSecret(const std::string& stack, const std::string& key) {
  return db_->Write<void>("delete secret " + key + " of " + stack, [&](Session& s) -> Result<void> {
    if (SqliteDb::Exec(s, "DELETE FROM stack_secrets WHERE stack = ? AND key = ?", stack, key) ==
        0) {
      return MakeError(ErrorCode::kNotFound, "secret " + key + " of stack " + stack + " not found");
    }
    return {};
  });
}

}  // namespace obsforge::store
