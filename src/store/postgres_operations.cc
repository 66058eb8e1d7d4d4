#include <chrono>
#include <optional>
#include <utility>

#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "store/rows.h"
#include "store/rules.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

Result<Operation> SelectOperation(PgConnection& c, const std::string& id, const char* lock = "") {
  const PgResult r =
      c.Exec("SELECT " + Columns("operations") + " FROM operations WHERE id = $1" + lock, id);
  if (r.rows() == 0) {
    return MakeError(ErrorCode::kNotFound, "operation " + id + " not found");
  }
  return OperationFromRow(PgRow(r, 0));
}

}  // namespace

bool DeletePending(PgConnection& c, const std::string& name) {
  return c.Exec(
              "SELECT 1 FROM operations WHERE stack = $1 AND kind = 'delete' AND "
              "state IN ('queued', 'running')",
              name)
             .rows() > 0;
}

Result<std::vector<Operation>> InsertOperations(PgConnection& c,
                                                const std::vector<NewOperation>& ops,
                                                TimeMs now) {
  std::vector<Operation> out;
  for (const NewOperation& op : ops) {
    // The stack's row lock orders this with every other write of the stack's operations
    // (UpdateSpecQueued holds it already; taking it twice is free).
    const PgResult stack =
        c.Exec("SELECT revision FROM stacks WHERE name = $1 FOR NO KEY UPDATE", op.stack);
    const bool stack_exists = !op.stack.empty() && stack.rows() > 0;
    const std::int64_t revision = op.revision == 0 && AppliesSpec(op.kind) && stack_exists
                                      ? stack.Int(0, "revision")
                                      : op.revision;
    if (op.kind != OperationKind::kPlan && !op.stack.empty() && DeletePending(c, op.stack)) {
      return BeingDeleted(op.stack);
    }
    const std::string superseded =
        "UPDATE operations SET state = 'superseded', finished_at = $1 WHERE stack = $2 AND "
        "state = 'queued' AND kind IN " +
        SpecKindsSql();
    if (AppliesSpec(op.kind) || op.kind == OperationKind::kTeardown) {
      c.Exec(superseded + " AND env = $3", now, op.stack, op.env);
    } else if (op.kind == OperationKind::kDelete) {
      c.Exec(superseded, now, op.stack);
    }
    // The sequence, not MAX(seq) + 1: processes creating operations at once get distinct ids
    // without waiting for one another.
    const std::int64_t seq =
        c.Exec("SELECT nextval(pg_get_serial_sequence('operations', 'seq')) AS seq").Int(0, "seq");
    Operation created{.id = OperationId(now, seq),
                      .kind = op.kind,
                      .stack = op.stack,
                      .env = op.env,
                      .state = OperationState::kQueued,
                      .revision = revision,
                      .actor = op.actor,
                      .created_at = now};
    c.Exec(
        "INSERT INTO operations (seq, id, kind, stack, env, state, revision, actor, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        seq, created.id, std::string(Name(created.kind)), created.stack, created.env,
        std::string(Name(created.state)), created.revision, created.actor, now);
    if (stack_exists && AppliesSpec(op.kind) && !op.env.empty()) {
      c.Exec(
          "INSERT INTO environments (stack, env, state, updated_at) VALUES ($1, $2, 'pending', "
          "$3) ON CONFLICT (stack, env) DO NOTHING",
          op.stack, op.env, now);
    }
    out.push_back(std::move(created));
  }
  if (!out.empty()) {
    NotifyChange(c);
  }
  return out;
}

Result<Operation> PostgresStore::CreateOperation(const NewOperation& op) {
  Result<std::vector<Operation>> created = CreateOperations({op});
  if (!created) {
    return created.error();
  }
  return std::move(created->front());
}

Result<std::vector<Operation>> PostgresStore::CreateOperations(
    const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  return pool_->Write<std::vector<Operation>>(
      "create operations", [&](PgConnection& c) { return InsertOperations(c, ops, now); });
}

Result<Operation> PostgresStore::GetOperation(const std::string& id) {
  return pool_->Read<Operation>(
      "get operation " + id, true, [&](PgConnection& c) -> Result<Operation> {
        Result<Operation> op = SelectOperation(c, id);
        if (!op) {
          return op;
        }
        const PgResult r = c.Exec("SELECT " + Columns("operation_steps") +
                                      " FROM operation_steps WHERE op_id = $1 ORDER BY idx",
                                  id);
        op->steps = AllRows(r, StepFromRow<PgRow>);
        return op;
      });
}

Result<Operation> PostgresStore::UpdateOperationState(const std::string& id,
                                                      const OperationUpdate& update) {
  const TimeMs now = Now();
  return pool_->Write<Operation>(
      "update operation " + id, [&](PgConnection& c) -> Result<Operation> {
        Result<Operation> current = SelectOperation(c, id, " FOR UPDATE");
        if (!current) {
          return current;
        }
        Operation op = std::move(current).value();
        if (Result<void> moved = ApplyOperationUpdate(op, update, now); !moved) {
          return moved.error();
        }
        c.Exec(
            "UPDATE operations SET state = $1, started_at = $2, finished_at = $3, error = $4, "
            "result_json = $5 WHERE id = $6",
            std::string(Name(op.state)), op.started_at, op.finished_at, op.error, op.result_json,
            id);
        if (IsTerminal(op.state)) {
          NotifyChange(c);  // the next operation of its environment may start
        }
        return op;
      });
}

Result<int> PostgresStore::AppendStep(const std::string& op_id,
                                      const std::string& name,
                                      StepState state) {
  const TimeMs now = Now();
  return pool_->Write<int>(
      "append step to operation " + op_id, [&](PgConnection& c) -> Result<int> {
        // The operation's row lock makes concurrent appends to one operation take turns, so
        // each gets the next index.
        if (Result<Operation> op = SelectOperation(c, op_id, " FOR UPDATE"); !op) {
          return op.error();
        }
        const int index = static_cast<int>(
            c.Exec("SELECT COALESCE(MAX(idx), -1) + 1 AS next FROM operation_steps "
                   "WHERE op_id = $1",
                   op_id)
                .Int(0, "next"));
        const TimeMs started = state == StepState::kPending ? 0 : now;
        const TimeMs finished = IsTerminal(state) ? now : 0;
        c.Exec(PgInsert(StoredTable("operation_steps")), op_id, index, name,
               std::string(Name(state)), started, finished, std::string());
        return index;
      });
}

Result<OperationStep> PostgresStore::UpdateStep(const std::string& op_id,
                                                int index,
                                                StepState state,
                                                const std::string& message) {
  const TimeMs now = Now();
  const std::string what = StepName(op_id, index);
  return pool_->Write<OperationStep>(
      "update " + what, [&](PgConnection& c) -> Result<OperationStep> {
        const PgResult r = c.Exec("SELECT " + Columns("operation_steps") +
                                      " FROM operation_steps WHERE op_id = $1 AND idx = $2 "
                                      "FOR UPDATE",
                                  op_id, index);
        if (r.rows() == 0) {
          return MakeError(ErrorCode::kNotFound, what + " not found");
        }
        OperationStep step = StepFromRow(PgRow(r, 0));
        if (Result<void> moved = ApplyStepUpdate(step, state, message, now); !moved) {
          return moved.error();
        }
        c.Exec(
            "UPDATE operation_steps SET state = $1, started_at = $2, finished_at = $3, "
            "message = $4 WHERE op_id = $5 AND idx = $6",
            std::string(Name(step.state)), step.started_at, step.finished_at, step.message, op_id,
            index);
        return step;
      });
}

Result<std::vector<Operation>> PostgresStore::ListOperations(const OperationQuery& query) {
  return pool_->Read<std::vector<Operation>>("list operations", false, [&](PgConnection& c) {
    // Only the filters in use go into the SQL, so that the (stack, env, seq) index serves them.
    std::string sql = "SELECT " + Columns("operations") + " FROM operations";
    std::vector<PgParam> params;
    const char* glue = " WHERE ";
    if (!query.stack.empty()) {
      params.push_back(ToParam(query.stack));
      sql += std::string(glue) + "stack = $" + std::to_string(params.size());
      glue = " AND ";
    }
    if (!query.env.empty()) {
      params.push_back(ToParam(query.env));
      sql += std::string(glue) + "env = $" + std::to_string(params.size());
    }
    params.push_back(ToParam(PgLimit(query.limit)));
    sql += " ORDER BY seq DESC LIMIT $" + std::to_string(params.size());
    return Result<std::vector<Operation>>(
        AllRows(c.ExecParams(sql, params), OperationFromRow<PgRow>));
  });
}

Result<std::vector<Operation>> PostgresStore::ListUnfinishedOperations() {
  return pool_->Read<std::vector<Operation>>(
      "list unfinished operations", false, [](PgConnection& c) {
        const PgResult r = c.Exec("SELECT " + Columns("operations") +
                                  " FROM operations WHERE state IN ('queued', 'running') "
                                  "ORDER BY seq");
        return Result<std::vector<Operation>>(AllRows(r, OperationFromRow<PgRow>));
      });
}

Result<std::optional<Operation>> PostgresStore::ClaimNextOperation(
    const std::string& owner, std::chrono::milliseconds lease) {
  const TimeMs now = Now();
  return pool_->Write<std::optional<Operation>>(
      "claim an operation", [&](PgConnection& c) -> Result<std::optional<Operation>> {
        // SKIP LOCKED: replicas claiming at once take different operations instead of queueing
        // behind one another's row locks.
        const PgResult r = c.Exec(ClaimableSql() + " LIMIT 1 FOR UPDATE OF o SKIP LOCKED");
        if (r.rows() == 0) {
          return std::optional<Operation>();
        }
        Operation op = OperationFromRow(PgRow(r, 0));
        // Claims of one stack take turns on its advisory lock (released at commit), and the
        // way is checked again under it with a fresh snapshot: whatever the interleaving, two
        // replicas never both start work on one environment.
        c.Exec("SELECT pg_advisory_xact_lock($1, hashtext($2))", kClaimLockClass, op.stack);
        const PgResult earlier = c.Exec(
            "SELECT 1 FROM operations p WHERE p.stack = $1 AND p.seq < (SELECT seq FROM "
            "operations WHERE id = $2) AND p.state IN ('queued', 'running') AND (p.env = $3 OR "
            "p.env = '' OR $3 = '') LIMIT 1",
            op.stack, op.id, op.env);
        if (earlier.rows() > 0) {
          return std::optional<Operation>();
        }
        op.state = OperationState::kRunning;
        op.started_at = op.started_at == 0 ? now : op.started_at;
        op.owner = owner;
        op.lease_until = now + lease.count();
        c.Exec(
            "UPDATE operations SET state = 'running', started_at = $1, owner = $2, "
            "lease_until = $3 WHERE id = $4",
            op.started_at, op.owner, op.lease_until, op.id);
        return std::optional<Operation>(std::move(op));
      });
}

Result<int> PostgresStore::RenewLeases(const std::string& owner, std::chrono::milliseconds lease) {
  const TimeMs until = Now() + lease.count();
  return pool_->Write<int>("renew operation leases", [&](PgConnection& c) -> Result<int> {
    return static_cast<int>(
        c.Exec("UPDATE operations SET lease_until = $1 WHERE owner = $2 AND state = 'running'",
               until, owner)
            .affected());
  });
}

Result<std::vector<Operation>> PostgresStore::FailAbandonedOperations(const std::string& owner,
                                                                      OwnClaims own,
                                                                      const std::string& error) {
  const TimeMs now = Now();
  return pool_->Write<std::vector<Operation>>(
      "fail abandoned operations", [&](PgConnection& c) -> Result<std::vector<Operation>> {
        // Several replicas may look at once: SKIP LOCKED hands each expired claim to one. A
        // replica's own claims are running in it, whatever their lease says (its renewal can
        // fall behind on a starved machine): only the others may take them for abandoned.
        const PgResult r = c.Exec(
            "UPDATE operations SET state = 'failed', finished_at = $1, error = $2 WHERE seq IN "
            "(SELECT seq FROM operations WHERE state = 'running' AND ((lease_until < $1 AND owner "
            "<> $3) OR (owner = $3 AND $4)) FOR UPDATE SKIP LOCKED) RETURNING " +
                Columns("operations"),
            now, error, owner, own == OwnClaims::kLeftByEarlierRun ? "true" : "false");
        if (r.rows() > 0) {
          NotifyChange(c);
        }
        return AllRows(r, OperationFromRow<PgRow>);
      });
}

}  // namespace obsforge::store
