#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/secret_store.h"
#include "store/tables.h"
#include "store/types.h"

namespace obsforge::store {

// The store is split into one narrow interface per concern so that a module depends only on
// what it uses (notify on OutboxStore, health on HealthStore, ...) and tests fake only that.
// `Store` joins them; SqliteStore implements it.
//
// Common contract of every method below:
//  - thread-safe: any method may be called from any thread at any time;
//  - never throws for expected failures; they are returned as core::Result errors:
//      kNotFound     the named stack/revision/operation/... does not exist,
//      kConflict     it already exists,
//      kPrecondition a version check or state rule failed,
//      kInternal     the database failed (message carries the database's text);
//  - a method that writes several rows writes all of them or none (one transaction);
//  - once a write method has returned ok, the write survives a crash or restart;
//  - strings are stored and returned byte for byte; the store never resolves secrets;
//  - times are TimeMs; "stamped" times come from the store's injected clock.

/// Stacks and their spec revisions.
class StackStore {
 public:
  virtual ~StackStore() = default;

  /// Creates stack `name` with `spec` as revision 1 (both stamped now). kConflict when a stack
  /// of that name exists.
  virtual core::Result<Stack> CreateStack(const std::string& name, const SpecChange& spec) = 0;
  /// The stack. kNotFound when absent.
  virtual core::Result<Stack> GetStack(const std::string& name) = 0;
  /// Every stack, sorted by name.
  virtual core::Result<std::vector<Stack>> ListStacks() = 0;
  /// Stores `spec` as the next revision and makes it current, atomically. With
  /// `expected_revision` set (If-Match), kPrecondition unless it equals the current revision.
  /// kNotFound when the stack is absent. Returns the updated stack.
  virtual core::Result<Stack> UpdateSpec(const std::string& name,
                                         const SpecChange& spec,
                                         std::optional<std::int64_t> expected_revision) = 0;
  /// CreateStack, and in the same transaction CreateOperations(`ops`), each op's revision set to
  /// 1: a stack is never stored without the operations that apply it, nor the reverse.
  virtual core::Result<StackWrite> CreateStackQueued(const std::string& name,
                                                     const SpecChange& spec,
                                                     const std::vector<NewOperation>& ops) = 0;
  /// UpdateSpec, and in the same transaction CreateOperations(`ops`), each op's revision set to
  /// the new revision. Updates of one stack are totally ordered: revision n+1 and its
  /// operations are written after revision n and its operations, so operation ids follow
  /// revision numbers. kConflict when a delete of the stack is queued or running.
  virtual core::Result<StackWrite> UpdateSpecQueued(const std::string& name,
                                                    const SpecChange& spec,
                                                    std::optional<std::int64_t> expected_revision,
                                                    const std::vector<NewOperation>& ops) = 0;
  /// Removes the stack with its revisions, environment states, provisioned-object records and
  /// health history. Operations are kept (they are the record of the teardown). kNotFound when
  /// absent.
  virtual core::Result<void> DeleteStack(const std::string& name) = 0;

  /// Revisions of `stack`, newest first, at most `limit` (<= 0: all). kNotFound when the stack
  /// is absent.
  virtual core::Result<std::vector<SpecRevision>> ListRevisions(const std::string& stack,
                                                                int limit) = 0;
  /// Revision `number` of `stack`. kNotFound when either is absent.
  virtual core::Result<SpecRevision> GetRevision(const std::string& stack, std::int64_t number) = 0;
};

/// Per-environment state of stacks.
class EnvironmentStore {
 public:
  virtual ~EnvironmentStore() = default;

  /// Inserts or replaces the state of (state.stack, state.env); updated_at is stamped.
  /// kNotFound when the stack is absent.
  virtual core::Result<EnvironmentState> UpsertEnvironment(const EnvironmentState& state) = 0;
  /// The state of (stack, env). kNotFound when absent.
  virtual core::Result<EnvironmentState> GetEnvironment(const std::string& stack,
                                                        const std::string& env) = 0;
  /// States of every environment of `stack`, sorted by env (empty when none or no stack).
  virtual core::Result<std::vector<EnvironmentState>> ListEnvironments(
      const std::string& stack) = 0;
  /// Forgets the state of (stack, env) and its provisioned-object records (the environment left
  /// the spec and was torn down). kNotFound when absent.
  virtual core::Result<void> DeleteEnvironment(const std::string& stack,
                                               const std::string& env) = 0;
};

/// Whose running claims FailAbandonedOperations may take for abandoned besides other owners'.
enum class OwnClaims : std::uint8_t {
  kLive,              ///< the caller's own claims are running in it: never
  kLeftByEarlierRun,  ///< the caller starts under the name of an earlier run: those too
};

/// Operations and their steps.
class OperationStore {
 public:
  virtual ~OperationStore() = default;

  /// Creates a queued operation with a fresh id; created_at stamped. Returns it. The rules of
  /// CreateOperations apply.
  virtual core::Result<Operation> CreateOperation(const NewOperation& op) = 0;
  /// Creates `ops` queued, in order, in one transaction (ids increase in that order), and:
  ///  - an operation that applies a spec (AppliesSpec) or tears down (stack, env) marks every
  ///    earlier queued spec-applying operation of that (stack, env) superseded (finished_at
  ///    stamped): only the newest change of an environment runs;
  ///  - a delete marks every queued spec-applying operation of the stack superseded;
  ///  - a spec-applying operation with revision 0 takes the stack's current revision (read in
  ///    the same transaction, so no spec change slips in between);
  ///  - a spec-applying operation of an environment without a state row inserts one in state
  ///    "pending" (when the stack exists);
  ///  - kConflict ("stack <name> is being deleted") when a delete of the stack is queued or
  ///    running, for any operation of that stack but a plan.
  /// Writes of one stack are ordered with UpdateSpecQueued (ids follow that order).
  virtual core::Result<std::vector<Operation>> CreateOperations(
      const std::vector<NewOperation>& ops) = 0;
  /// The operation with its steps in index order. kNotFound when absent.
  virtual core::Result<Operation> GetOperation(const std::string& id) = 0;
  /// Moves operation `id` to `update.state`: started_at is stamped when it first enters
  /// running, finished_at when it enters a terminal state. kNotFound when absent;
  /// kPrecondition when it is already terminal ("operation <id> is already <state>").
  virtual core::Result<Operation> UpdateOperationState(const std::string& id,
                                                       const OperationUpdate& update) = 0;
  /// Appends step `name` in `state` to operation `op_id` and returns its index (0, 1, ...).
  /// started_at is stamped when `state` is not pending. kNotFound when the operation is absent.
  virtual core::Result<int> AppendStep(const std::string& op_id,
                                       const std::string& name,
                                       StepState state) = 0;
  /// Sets step `index` of `op_id` to `state` with `message` (kept when empty): started_at is
  /// stamped when it leaves pending, finished_at when it becomes terminal. kNotFound when the
  /// step is absent.
  virtual core::Result<OperationStep> UpdateStep(const std::string& op_id,
                                                 int index,
                                                 StepState state,
                                                 const std::string& message) = 0;
  /// Operations matching `query`, newest first, without steps.
  virtual core::Result<std::vector<Operation>> ListOperations(const OperationQuery& query) = 0;
  /// Every queued or running operation, oldest first, without steps: what a restarted server
  /// must resume or fail.
  virtual core::Result<std::vector<Operation>> ListUnfinishedOperations() = 0;

  // Claims: each process sharing the store (a replica) works only on the operations it claimed,
  // and holds each claim by renewing its lease while it works.

  /// Claims for `owner` the oldest queued operation that may start now, i.e. no earlier
  /// operation of the same stack and environment is queued or running (an operation of the
  /// whole stack, env "", waits for every earlier one of the stack, and they for it). In one
  /// transaction it becomes running (started_at stamped) with `owner` and lease_until = now +
  /// `lease`; concurrent callers never claim the same operation, nor two of one (stack, env).
  /// nullopt when none may start.
  virtual core::Result<std::optional<Operation>> ClaimNextOperation(
      const std::string& owner, std::chrono::milliseconds lease) = 0;
  /// Sets lease_until = now + `lease` on every running operation `owner` holds; returns how
  /// many.
  virtual core::Result<int> RenewLeases(const std::string& owner,
                                        std::chrono::milliseconds lease) = 0;
  /// Fails, with `error` (finished_at stamped), every running operation whose owner is gone,
  /// and returns them: each to exactly one caller. Gone means its lease ran out; on a store
  /// only one process opens (SQLite), any owner but `owner` (an earlier run of the process).
  /// The caller's own claims (owner == `owner`) are gone only when `own` says they were left
  /// by an earlier run under the same name (at start, before this run claims anything);
  /// otherwise the caller is running them, whatever their lease says.
  virtual core::Result<std::vector<Operation>> FailAbandonedOperations(
      const std::string& owner, OwnClaims own, const std::string& error) = 0;
};

/// History of health-check state changes.
class HealthStore {
 public:
  virtual ~HealthStore() = default;

  /// Appends `event` (id ignored; `at` stamped when 0) and returns its id.
  virtual core::Result<std::int64_t> AppendHealthEvent(const HealthEvent& event) = 0;
  /// Events matching `query`, newest first (by at, then id), at most query.limit.
  virtual core::Result<std::vector<HealthEvent>> ListHealthEvents(
      const HealthEventQuery& query) = 0;
  /// Deletes events older than `before` (retention); returns how many.
  virtual core::Result<std::int64_t> PruneHealthEvents(TimeMs before) = 0;
};

/// Records of the objects obsforge provisioned.
class ProvisionStore {
 public:
  virtual ~ProvisionStore() = default;

  /// Inserts or replaces the record of (stack, env, kind, uid); updated_at stamped.
  /// kNotFound when the stack is absent.
  virtual core::Result<void> UpsertProvisionedObject(const ProvisionedObject& object) = 0;
  /// Forgets (stack, env, kind, uid). kNotFound when there is no such record.
  virtual core::Result<void> DeleteProvisionedObject(const std::string& stack,
                                                     const std::string& env,
                                                     ObjectKind kind,
                                                     const std::string& uid) = 0;
  /// Records of (stack, env), of `kind` only when set; sorted by kind name, then uid.
  virtual core::Result<std::vector<ProvisionedObject>> ListProvisionedObjects(
      const std::string& stack, const std::string& env, std::optional<ObjectKind> kind) = 0;
};

/// A durable queue of outgoing notifications, delivered in order per channel.
///
/// The sender loop: m = NextDueOutbox(now); send m; then exactly one of MarkOutboxDelivered,
/// MarkOutboxAttempt (retry later) or MarkOutboxDropped, before taking the next message. Each
/// mark is durable when it returns, so a restart resends nothing that was marked delivered and
/// loses nothing that was enqueued. (Only a crash between a successful send and its mark can
/// repeat that one message.)
class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  /// Enqueues `payload_json` for `channel_key`, due at `not_before` (0: now). Returns its id.
  virtual core::Result<std::int64_t> EnqueueOutbox(const std::string& channel_key,
                                                   const std::string& payload_json,
                                                   TimeMs not_before) = 0;
  /// The next message to send at `now`: among the oldest pending message of each channel,
  /// those due (next_attempt_at <= now), the earliest due (then lowest id). A later message of
  /// a channel is never returned while an earlier one is pending, so order per channel holds.
  /// nullopt when nothing is due.
  virtual core::Result<std::optional<OutboxMessage>> NextDueOutbox(TimeMs now) = 0;
  /// Marks message `id` delivered (stamped). kNotFound when absent; kPrecondition when it is
  /// already delivered or dropped.
  virtual core::Result<void> MarkOutboxDelivered(std::int64_t id) = 0;
  /// Records a failed attempt: attempts + 1, `error` kept, retried at `next_attempt_at`.
  /// kNotFound / kPrecondition as MarkOutboxDelivered.
  virtual core::Result<void> MarkOutboxAttempt(std::int64_t id,
                                               TimeMs next_attempt_at,
                                               const std::string& error) = 0;
  /// Gives up on message `id` with `reason` (stamped dropped_at). kNotFound / kPrecondition as
  /// MarkOutboxDelivered.
  virtual core::Result<void> MarkOutboxDropped(std::int64_t id, const std::string& reason) = 0;
  /// Messages neither delivered nor dropped, by id, at most `limit` (<= 0: all).
  virtual core::Result<std::vector<OutboxMessage>> ListPendingOutbox(int limit) = 0;
  /// Message `id` in whatever state. kNotFound when absent.
  virtual core::Result<OutboxMessage> GetOutbox(std::int64_t id) = 0;
  /// Deletes delivered or dropped messages finished before `before`; returns how many.
  virtual core::Result<std::int64_t> PruneOutbox(TimeMs before) = 0;
};

/// GitOps bookkeeping: what each source has seen and applied, and webhook idempotence.
class GitStore {
 public:
  virtual ~GitStore() = default;

  /// The state of `source_key`. kNotFound when never stored.
  virtual core::Result<GitState> GetGitState(const std::string& source_key) = 0;
  /// Inserts or replaces the state of state.source_key; updated_at stamped.
  virtual core::Result<GitState> PutGitState(const GitState& state) = 0;
  /// Records webhook delivery `delivery_id` (e.g. X-GitHub-Delivery) as received now.
  /// kConflict when it was recorded before: the delivery is a repeat and must not act again.
  virtual core::Result<void> RecordWebhookDelivery(const std::string& delivery_id) = 0;
  /// Forgets deliveries received before `before`; returns how many.
  virtual core::Result<std::int64_t> PruneWebhookDeliveries(TimeMs before) = 0;
};

/// One stored row: its values in the order of its Table's columns, integers in decimal.
using TableRow = std::vector<std::string>;

/// Reads the rows of one consistent snapshot of a store (see TableStore::ReadTables). Methods
/// throw on a database failure; the enclosing ReadTables returns it as its error.
class TableReader {
 public:
  virtual ~TableReader() = default;
  /// Calls `row` for every row of `table` in key order, a page at a time (memory stays bounded
  /// however large the table).
  virtual void Each(const Table& table, const std::function<void(const TableRow&)>& row) = 0;
  /// The largest id the store has handed out in `table.identity` (0 when none): ids are never
  /// reused, even after the rows that held them were pruned.
  virtual std::int64_t LastIdentity(const Table& table) = 0;
};

/// Writes rows inside TableStore::ReplaceTables. Methods throw on a database failure; the
/// enclosing ReplaceTables rolls back and returns it as its error.
class TableWriter {
 public:
  virtual ~TableWriter() = default;
  /// Inserts `row` into `table` as it is (ids included). Tables are filled parents first
  /// (StoredTables() order).
  virtual void Insert(const Table& table, const TableRow& row) = 0;
  /// Makes the next id of `table.identity` greater than `last` (and than every stored id).
  virtual void SetLastIdentity(const Table& table, std::int64_t last) = 0;
};

/// Whole-table access, for copying a store into another (`obsforge store migrate`) and
/// checking one (`obsforge store check`). Not for the server's own work: it bypasses every rule
/// of the interfaces above.
class TableStore {
 public:
  virtual ~TableStore() = default;

  /// Runs `read` over one consistent snapshot of every table (other writers may go on; they
  /// are not seen). kInternal/kUnavailable when the database fails; otherwise `read`'s result.
  virtual core::Result<void> ReadTables(
      const std::function<core::Result<void>(TableReader&)>& read) = 0;
  /// In one transaction: empties every stored table, then runs `fill`. Committed when `fill`
  /// returns ok; rolled back (the store unchanged) when it returns an error or throws. `fill`
  /// may run twice when the connection is lost before the commit, so it must have no effect
  /// outside this store's transaction.
  virtual core::Result<void> ReplaceTables(
      const std::function<core::Result<void>(TableWriter&)>& fill) = 0;
  /// Versions recorded in schema_migrations, ascending.
  virtual core::Result<std::vector<int>> AppliedMigrations() = 0;
};

/// A change committed to a store, as Store::Subscribe reports it.
struct StoreChange {
  enum class Kind : std::uint8_t {
    kOperations,   ///< operations were queued, or one ended
    kEnvironment,  ///< an environment state of `stack` was written or forgotten
  };
  Kind kind = Kind::kOperations;
  std::string stack;  ///< kEnvironment: the stack; "" when any may have changed
};

/// Everything obsforge persists. Implementations are thread-safe (see the contract above).
class Store : public StackStore,
              public EnvironmentStore,
              public OperationStore,
              public HealthStore,
              public ProvisionStore,
              public OutboxStore,
              public GitStore,
              public SecretStore,
              public TableStore {
 public:
  ~Store() override = default;

  /// ok when the database answers a trivial query (for /readyz); kInternal otherwise.
  virtual core::Result<void> Ping() = 0;

  /// From now on, calls `on_change` (on a thread of the store's; it must be quick and must not
  /// throw) for the changes any process sharing the database commits, its own included. After a
  /// lost connection it reports kOperations and kEnvironment with stack "" (anything may have
  /// changed meanwhile). An empty `on_change` unsubscribes: once this returns, no call to the
  /// earlier one runs. A store only one process opens (SQLite) reports nothing: it knows them.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): an override keeps it (PostgresStore)
  virtual void Subscribe(std::function<void(const StoreChange&)> on_change) { (void)on_change; }
};

}  // namespace obsforge::store
