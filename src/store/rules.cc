#include "store/rules.h"

#include <cstdio>

#include "store/tables.h"

namespace obsforge::store {

using core::ErrorCode;
using core::MakeError;

std::string OperationId(TimeMs now, std::int64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "op-%013lld-%06lld", static_cast<long long>(now),
                static_cast<long long>(seq));
  return buf;
}

core::Error StaleRevision(const std::string& name, std::int64_t current, std::int64_t expected) {
  return MakeError(ErrorCode::kPrecondition, "stack " + name + " is at revision " +
                                                 std::to_string(current) + ", not " +
                                                 std::to_string(expected));
}

std::vector<NewOperation> WithRevision(std::vector<NewOperation> ops, std::int64_t revision) {
  for (NewOperation& op : ops) {
    op.revision = revision;
  }
  return ops;
}

core::Error BeingDeleted(const std::string& name) {
  return MakeError(ErrorCode::kConflict, "stack " + name + " is being deleted");
}

const std::string& SpecKindsSql() {
  static const std::string sql = [] {
    std::string out = "(";
    for (int k = 0; k <= static_cast<int>(OperationKind::kTeardown); ++k) {
      const auto kind = static_cast<OperationKind>(k);
      if (AppliesSpec(kind)) {
        out += std::string(out.size() > 1 ? ", '" : "'") + Name(kind) + "'";
      }
    }
    return out + ")";
  }();
  return sql;
}

core::Result<void> ApplyOperationUpdate(Operation& op, const OperationUpdate& update, TimeMs now) {
  if (IsTerminal(op.state)) {
    return MakeError(ErrorCode::kPrecondition,
                     "operation " + op.id + " is already " + Name(op.state));
  }
  op.state = update.state;
  if (update.state == OperationState::kRunning && op.started_at == 0) {
    op.started_at = now;
  }
  if (IsTerminal(update.state)) {
    op.finished_at = now;
  }
  if (!update.error.empty()) {
    op.error = update.error;
  }
  if (update.result_json) {
    op.result_json = *update.result_json;
  }
  return {};
}

const std::string& ClaimableSql() {
  static const std::string kSql = [] {
    std::string columns;
    for (const Column& c : StoredTable("operations").columns) {
      columns += (columns.empty() ? "o." : ", o.") + c.name;
    }
    // Earlier operations of the stack in the way: those of the same environment, and every one
    // when either is stack-wide (env ""). Ids follow commit order within a stack (the stack's
    // row lock), so "earlier" is seq order.
    return "SELECT " + columns +
           " FROM operations o WHERE o.state = 'queued' AND NOT EXISTS (SELECT 1 FROM "
           "operations p WHERE p.stack = o.stack AND p.seq < o.seq AND p.state IN ('queued', "
           "'running') AND (p.env = o.env OR p.env = '' OR o.env = '')) ORDER BY o.seq";
  }();
  return kSql;
}

std::string StepName(const std::string& op_id, int index) {
  return "step " + std::to_string(index) + " of operation " + op_id;
}

core::Result<void> ApplyStepUpdate(OperationStep& step,
                                   StepState state,
                                   const std::string& message,
                                   TimeMs now) {
  if (IsTerminal(step.state)) {
    return MakeError(ErrorCode::kPrecondition, StepName(step.op_id, step.index) + " (" + step.name +
                                                   ") is already " + Name(step.state));
  }
  step.state = state;
  if (state != StepState::kPending && step.started_at == 0) {
    step.started_at = now;
  }
  if (IsTerminal(state)) {
    step.finished_at = now;
  }
  if (!message.empty()) {
    step.message = message;
  }
  return {};
}

core::Result<void> CheckOutboxPending(const OutboxMessage& m) {
  if (m.delivered_at != 0) {
    return MakeError(ErrorCode::kPrecondition,
                     "outbox message " + std::to_string(m.id) + " is already delivered");
  }
  if (m.dropped_at != 0) {
    return MakeError(ErrorCode::kPrecondition,
                     "outbox message " + std::to_string(m.id) + " is already dropped");
  }
  return {};
}

}  // namespace obsforge::store
