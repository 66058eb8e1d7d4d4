#include <chrono>
#include <optional>
#include <utility>

#include "store/rows.h"
#include "store/rules.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;
using Poco::Data::Session;

Result<Operation> SelectOperation(Session& s, const std::string& id) {
  auto rs =
      SqliteDb::Query(s, "SELECT " + Columns("operations") + " FROM operations WHERE id = ?", id);
  if (!rs.moveFirst()) {
    return MakeError(ErrorCode::kNotFound, "operation " + id + " not found");
  }
  return OperationFromRow(SqliteRow(rs));
}

// By reference: moving or copying a Poco 1.11 RecordSet frees its columns twice.
std::vector<Operation> OperationsFrom(Poco::Data::RecordSet& rs) {
  std::vector<Operation> ops;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    ops.push_back(OperationFromRow(SqliteRow(rs)));
  }
  return ops;
}

}  // namespace

bool DeletePending(Session& s, const std::string& name) {
  return SqliteDb::Query(s,
                         "SELECT 1 FROM operations WHERE stack = ? AND kind = 'delete' AND "
                         "state IN ('queued', 'running')",
                         name)
             .rowCount() > 0;
}

Result<std::vector<Operation>> InsertOperations(Session& s,
                                                const std::vector<NewOperation>& ops,
                                                TimeMs now) {
  std::vector<Operation> out;
  for (const NewOperation& op : ops) {
    if (op.kind != OperationKind::kPlan && !op.stack.empty() && DeletePending(s, op.stack)) {
      return BeingDeleted(op.stack);
    }
    const std::string superseded =
        "UPDATE operations SET state = 'superseded', finished_at = ? WHERE stack = ? AND "
        "state = 'queued' AND kind IN " +
        SpecKindsSql();
    if (AppliesSpec(op.kind) || op.kind == OperationKind::kTeardown) {
      SqliteDb::Exec(s, superseded + " AND env = ?", now, op.stack, op.env);
    } else if (op.kind == OperationKind::kDelete) {
      SqliteDb::Exec(s, superseded, now, op.stack);
    }
    std::int64_t revision = op.revision;
    if (revision == 0 && AppliesSpec(op.kind)) {
      auto current = SqliteDb::Query(s, "SELECT revision FROM stacks WHERE name = ?", op.stack);
      revision = current.moveFirst() ? Int(current, "revision") : 0;
    }
    auto rs = SqliteDb::Query(s, "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM operations");
    rs.moveFirst();
    const std::int64_t seq = Int(rs, "next");
    Operation created{.id = OperationId(now, seq),
                      .kind = op.kind,
                      .stack = op.stack,
                      .env = op.env,
                      .state = OperationState::kQueued,
                      .revision = revision,
                      .actor = op.actor,
                      .created_at = now};
    SqliteDb::Exec(s,
                   "INSERT INTO operations (seq, id, kind, stack, env, state, revision, actor, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   seq, created.id, std::string(Name(created.kind)), created.stack, created.env,
                   std::string(Name(created.state)), created.revision, created.actor, now);
    if (AppliesSpec(op.kind) && !op.env.empty()) {
      SqliteDb::Exec(s,
                     "INSERT OR IGNORE INTO environments (stack, env, state, updated_at) "
                     "SELECT name, ?, 'pending', ? FROM stacks WHERE name = ?",
                     op.env, now, op.stack);
    }
    out.push_back(std::move(created));
  }
  return out;
}

Result<Operation> SqliteStore::CreateOperation(const NewOperation& op) {
  Result<std::vector<Operation>> created = CreateOperations({op});
  if (!created) {
    return created.error();
  }
  return std::move(created->front());
}

Result<std::vector<Operation>> SqliteStore::CreateOperations(const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  return db_->Write<std::vector<Operation>>(
      "create operations", [&](Session& s) { return InsertOperations(s, ops, now); });
}

Result<Operation> SqliteStore::GetOperation(const std::string& id) {
  return db_->Read<Operation>("get operation " + id, true, [&](Session& s) -> Result<Operation> {
    Result<Operation> op = SelectOperation(s, id);
    if (!op) {
      return op;
    }
    auto rs = SqliteDb::Query(s,
                              "SELECT " + Columns("operation_steps") +
                                  " FROM operation_steps WHERE op_id = ? "
                                  "ORDER BY idx",
                              id);
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      op->steps.push_back(StepFromRow(SqliteRow(rs)));
    }
    return op;
  });
}

Result<Operation> SqliteStore::UpdateOperationState(const std::string& id,
                                                    const OperationUpdate& update) {
  const TimeMs now = Now();
  return db_->Write<Operation>("update operation " + id, [&](Session& s) -> Result<Operation> {
    Result<Operation> current = SelectOperation(s, id);
    if (!current) {
      return current;
    }
    Operation op = std::move(current).value();
    if (Result<void> moved = ApplyOperationUpdate(op, update, now); !moved) {
      return moved.error();
    }
    SqliteDb::Exec(s,
                   "UPDATE operations SET state = ?, started_at = ?, finished_at = ?, "
                   "error = ?, result_json = ? WHERE id = ?",
                   std::string(Name(op.state)), op.started_at, op.finished_at, op.error,
                   op.result_json, id);
    return op;
  });
}

Result<int> SqliteStore::AppendStep(const std::string& op_id,
                                    const std::string& name,
                                    StepState state) {
  const TimeMs now = Now();
  return db_->Write<int>("append step to operation " + op_id, [&](Session& s) -> Result<int> {
    if (Result<Operation> op = SelectOperation(s, op_id); !op) {
      return op.error();
    }
    auto rs = SqliteDb::Query(
        s, "SELECT COALESCE(MAX(idx), -1) + 1 AS next FROM operation_steps WHERE op_id = ?", op_id);
    rs.moveFirst();
    const int index = static_cast<int>(Int(rs, "next"));
    const TimeMs started = state == StepState::kPending ? 0 : now;
    const TimeMs finished = IsTerminal(state) ? now : 0;
    SqliteDb::Exec(s,
                   "INSERT INTO operation_steps (" + Columns("operation_steps") +
                       ") VALUES (?, ?, ?, ?, ?, ?, '')",
                   op_id, index, name, std::string(Name(state)), started, finished);
    return index;
  });
}

Result<OperationStep> SqliteStore::UpdateStep(const std::string& op_id,
                                              int index,
                                              StepState state,
                                              const std::string& message) {
  const TimeMs now = Now();
  const std::string what = StepName(op_id, index);
  return db_->Write<OperationStep>("update " + what, [&](Session& s) -> Result<OperationStep> {
    auto rs = SqliteDb::Query(s,
                              "SELECT " + Columns("operation_steps") +
                                  " FROM operation_steps WHERE op_id = ? AND idx = ?",
                              op_id, index);
    if (!rs.moveFirst()) {
      return MakeError(ErrorCode::kNotFound, what + " not found");
    }
    OperationStep step = StepFromRow(SqliteRow(rs));
    if (Result<void> moved = ApplyStepUpdate(step, state, message, now); !moved) {
      return moved.error();
    }
    SqliteDb::Exec(s,
                   "UPDATE operation_steps SET state = ?, started_at = ?, finished_at = ?, "
                   "message = ? WHERE op_id = ? AND idx = ?",
                   std::string(Name(step.state)), step.started_at, step.finished_at, step.message,
                   op_id, index);
    return step;
  });
}

Result<std::vector<Operation>> SqliteStore::ListOperations(const OperationQuery& query) {
  return db_->Read<std::vector<Operation>>("list operations", false, [&](Session& s) {
    // Only the filters in use go into the SQL, so that the (stack, env, seq) index serves them.
    Poco::Data::Statement st(s);
    std::string sql = "SELECT " + Columns("operations") + " FROM operations";
    const char* glue = " WHERE ";
    if (!query.stack.empty()) {
      sql += std::string(glue) + "stack = ?";
      st.addBind(Poco::Data::Keywords::bind(query.stack));
      glue = " AND ";
    }
    if (!query.env.empty()) {
      sql += std::string(glue) + "env = ?";
      st.addBind(Poco::Data::Keywords::bind(query.env));
    }
    sql += " ORDER BY seq DESC LIMIT ?";
    st.addBind(
        Poco::Data::Keywords::bind(query.limit > 0 ? std::int64_t{query.limit} : std::int64_t{-1}));
    st << sql;
    st.execute();
    Poco::Data::RecordSet rs(st);
    return Result<std::vector<Operation>>(OperationsFrom(rs));
  });
}

Result<std::vector<Operation>> SqliteStore::ListUnfinishedOperations() {
  return db_->Read<std::vector<Operation>>("list unfinished operations", false, [](Session& s) {
    auto rs = SqliteDb::Query(s, "SELECT " + Columns("operations") +
                                     " FROM operations WHERE state IN ('queued', 'running') "
                                     "ORDER BY seq");
    return Result<std::vector<Operation>>(OperationsFrom(rs));
  });
}

Result<std::optional<Operation>> SqliteStore::ClaimNextOperation(const std::string& owner,
                                                                 std::chrono::milliseconds lease) {
  const TimeMs now = Now();
  // One writer at a time: the write transaction alone makes the claim exclusive.
  return db_->Write<std::optional<Operation>>(
      "claim an operation", [&](Session& s) -> Result<std::optional<Operation>> {
        auto rs = SqliteDb::Query(s, ClaimableSql() + " LIMIT 1");
        if (!rs.moveFirst()) {
          return std::optional<Operation>();
        }
        Operation op = OperationFromRow(SqliteRow(rs));
        op.state = OperationState::kRunning;
        op.started_at = op.started_at == 0 ? now : op.started_at;
        op.owner = owner;
        op.lease_until = now + lease.count();
        SqliteDb::Exec(s,
                       "UPDATE operations SET state = 'running', started_at = ?, owner = ?, "
                       "lease_until = ? WHERE id = ?",
                       op.started_at, op.owner, op.lease_until, op.id);
        return std::optional<Operation>(std::move(op));
      });
}

Result<int> SqliteStore::RenewLeases(const std::string& owner, std::chrono::milliseconds lease) {
  const TimeMs until = Now() + lease.count();
  return db_->Write<int>("renew operation leases", [&](Session& s) -> Result<int> {
    SqliteDb::Exec(s, "UPDATE operations SET lease_until = ? WHERE owner = ? AND state = 'running'",
                   until, owner);
    auto rs = SqliteDb::Query(s, "SELECT changes() AS n");
    rs.moveFirst();
    return static_cast<int>(Int(rs, "n"));
  });
}

Result<std::vector<Operation>> SqliteStore::FailAbandonedOperations(const std::string& owner,
                                                                    OwnClaims own,
                                                                    const std::string& error) {
  const TimeMs now = Now();
  return db_->Write<std::vector<Operation>>(
      "fail abandoned operations", [&](Session& s) -> Result<std::vector<Operation>> {
        // Only this process opens the database: a running operation of another owner was left
        // by an earlier run, whatever its lease says; its own are running here, whatever their
        // lease says (a renewal can fall behind on a starved machine).
        const std::string where = " WHERE state = 'running' AND (owner <> ? OR ? = 1)";
        const int earlier = own == OwnClaims::kLeftByEarlierRun ? 1 : 0;
        auto rs = SqliteDb::Query(
            s, "SELECT " + Columns("operations") + " FROM operations" + where + " ORDER BY seq",
            owner, earlier);
        std::vector<Operation> ops = OperationsFrom(rs);
        SqliteDb::Exec(s,
                       "UPDATE operations SET state = 'failed', finished_at = ?, error = ?" + where,
                       now, error, owner, earlier);
        for (Operation& op : ops) {
          op.state = OperationState::kFailed;
          op.finished_at = now;
          op.error = error;
        }
        return ops;
      });
}

}  // namespace obsforge::store
