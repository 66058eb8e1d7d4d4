#pragma once

// Internal to src/store: the rules every backend applies to a row it read before writing it
// back, so that SQLite and PostgreSQL answer alike (same states, stamps and messages).

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace obsforge::store {

/// "op-<13-digit ms>-<6-digit sequence>": zero-padded so that ids sort as text in creation
/// order; the sequence keeps them unique when the clock stands still or steps back.
std::string OperationId(TimeMs now, std::int64_t seq);

/// The message of a failed If-Match on stack `name`.
core::Error StaleRevision(const std::string& name, std::int64_t current, std::int64_t expected);

/// `ops` with every revision set to `revision` (the revision a spec change just stored).
std::vector<NewOperation> WithRevision(std::vector<NewOperation> ops, std::int64_t revision);

/// The refusal of a change to stack `name` while its delete is queued or running.
core::Error BeingDeleted(const std::string& name);

/// The kinds AppliesSpec accepts as an SQL list: "('create', 'apply', ...)".
const std::string& SpecKindsSql();

/// Moves `op` as `update` says at `now` (see OperationStore::UpdateOperationState);
/// kPrecondition, leaving `op` alone, when it is already terminal.
core::Result<void> ApplyOperationUpdate(Operation& op, const OperationUpdate& update, TimeMs now);

/// Moves `step` of operation `op_id` to `state` with `message` at `now` (see
/// OperationStore::UpdateStep); kPrecondition, leaving it alone, when it is already terminal.
core::Result<void> ApplyStepUpdate(OperationStep& step,
                                   StepState state,
                                   const std::string& message,
                                   TimeMs now);

/// The operations, aliased `o`, that may be claimed now (OperationStore::ClaimNextOperation),
/// oldest first: "SELECT <columns> FROM operations o WHERE ... ORDER BY o.seq". Both dialects.
const std::string& ClaimableSql();

/// "step <index> of operation <op_id>", as messages name a step.
std::string StepName(const std::string& op_id, int index);

/// ok when message `m` may still be marked (neither delivered nor dropped): marking twice would
/// mean two senders had the same message, which is exactly the double delivery to refuse.
core::Result<void> CheckOutboxPending(const OutboxMessage& m);

}  // namespace obsforge::store
