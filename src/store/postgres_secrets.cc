// Per-stack secrets: sealed text in, sealed text out.

#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "store/rows.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

}  // namespace

Result<StackSecret> PostgresStore::PutSecret(const StackSecret& secret) {
  StackSecret stored = secret;
  stored.updated_at = Now();
  // The key names the row in messages; the value never does.
  return pool_->Write<StackSecret>(
      "put secret " + secret.key + " of " + secret.stack, [&](PgConnection& c) {
        c.Exec(PgUpsert(StoredTable("stack_secrets")), stored.stack, stored.key, stored.sealed,
               stored.key_id, stored.updated_at);
        return Result<StackSecret>(stored);
      });
}

Result<StackSecret> PostgresStore::GetSecret(const std::string& stack, const std::string& key) {
  return pool_->Read<StackSecret>(
      "get secret " + key + " of " + stack, false, [&](PgConnection& c) -> Result<StackSecret> {
        const PgResult r = c.Exec("SELECT " + Columns("stack_secrets") +
                                      " FROM stack_secrets WHERE stack = $1 AND key = $2",
                                  stack, key);
        if (r.rows() == 0) {
          return MakeError(ErrorCode::kNotFound,
                           "secret " + key + " of stack " + stack + " not found");
        }
        return StackSecretFromRow(PgRow(r, 0));
      });
}

Result<std::vector<StackSecret>> PostgresStore::ListSecrets(const std::string& stack) {
  return pool_->Read<std::vector<StackSecret>>(
      "list secrets of " + (stack.empty() ? std::string("every stack") : stack), false,
      [&](PgConnection& c) {
        const std::string select = "SELECT " + Columns("stack_secrets") + " FROM stack_secrets";
        return Result<std::vector<StackSecret>>(
            stack.empty()
                ? AllRows(c.Exec(select + " ORDER BY stack, key"), StackSecretFromRow<PgRow>)
                : AllRows(c.Exec(select + " WHERE stack = $1 ORDER BY key", stack),
                          StackSecretFromRow<PgRow>));
      });
}

Result<void> PostgresStore::DeleteSecret(const std::string& stack, const std::string& key) {
  return pool_->Write<void>(
      "delete secret " + key + " of " + stack, [&](PgConnection& c) -> Result<void> {
        if (c.Exec("DELETE FROM stack_secrets WHERE stack = $1 AND key = $2", stack, key)
                .affected() == 0) {
          return MakeError(ErrorCode::kNotFound,
                           "secret " + key + " of stack " + stack + " not found");
        }
        return {};
      });
}

}  // namespace obsforge::store
