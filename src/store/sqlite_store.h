#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "store/migrations.h"
#include "store/store.h"

namespace obsforge::store {

class SqliteDb;  // Poco::Data sessions; kept out of this header.

/// Options of SqliteStore::Open.
struct SqliteStoreOptions {
  /// Database file (its directory must exist), or ":memory:" for a private in-memory database
  /// (tests). In memory, every call shares one connection.
  std::string path;
  /// Read-only connections used in parallel by reads; writes always use one writer connection,
  /// so threads of this process never contend for SQLite's write lock.
  int reader_connections = 2;
  /// How long a statement waits for another process's lock before failing (busy_timeout).
  std::chrono::milliseconds busy_timeout{5000};
  /// synchronous=FULL (a committed write survives power loss, which the outbox's "delivered
  /// once" relies on) rather than NORMAL (survives a process crash only; faster).
  bool synchronous_full = true;
  /// Keep stacks read by GetStack in memory (GET /stacks/{name} is the hottest path; a Poco
  /// round trip costs ~50 us). Coherent as long as this SqliteStore is the only writer of the
  /// file, which is how obsforge runs (several replicas use PostgreSQL). Turn off when other
  /// processes write the same file.
  bool cache_stacks = true;
  /// Schema to bring the database to; nullptr means SqliteMigrations(). Tests pass a prefix.
  const std::vector<Migration>* migrations = nullptr;
};

/// The Store on SQLite through Poco::Data: WAL journal, foreign keys on, busy_timeout, versioned
/// migrations recorded in `schema_migrations`. Thread-safe: writes are serialized on one writer
/// connection inside `BEGIN IMMEDIATE` transactions (so they never fail with SQLITE_BUSY inside
/// a transaction), reads run in parallel on a small pool of reader connections.
class SqliteStore final : public Store {
 public:
  /// Opens (creating when missing) the database at options.path, sets it up and applies every
  /// migration it lacks, each in its own transaction. kInternal with SQLite's message when the
  /// file cannot be opened or a migration fails (that migration is rolled back, earlier ones
  /// stay); kPrecondition when the database was migrated by a newer obsforge (its highest
  /// version is unknown here). Never throws.
  static core::Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options,
                                                         core::Clock& clock);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // StackStore
  core::Result<Stack> CreateStack(const std::string& name, const SpecChange& spec) override;
  core::Result<Stack> GetStack(const std::string& name) override;
  core::Result<std::vector<Stack>> ListStacks() override;
  core::Result<Stack> UpdateSpec(const std::string& name,
                                 const SpecChange& spec,
                                 std::optional<std::int64_t> expected_revision) override;
  core::Result<StackWrite> CreateStackQueued(const std::string& name,
                                             const SpecChange& spec,
                                             const std::vector<NewOperation>& ops) override;
  core::Result<StackWrite> UpdateSpecQueued(const std::string& name,
                                            const SpecChange& spec,
                                            std::optional<std::int64_t> expected_revision,
                                            const std::vector<NewOperation>& ops) override;
  core::Result<void> DeleteStack(const std::string& name) override;
  core::Result<std::vector<SpecRevision>> ListRevisions(const std::string& stack,
                                                        int limit) override;
  core::Result<SpecRevision> GetRevision(const std::string& stack, std::int64_t number) override;

  // EnvironmentStore
  core::Result<EnvironmentState> UpsertEnvironment(const EnvironmentState& state) override;
  core::Result<EnvironmentState> GetEnvironment(const std::string& stack,
                                                const std::string& env) override;
  core::Result<std::vector<EnvironmentState>> ListEnvironments(const std::string& stack) override;
  core::Result<void> DeleteEnvironment(const std::string& stack, const std::string& env) override;

  // OperationStore
  core::Result<Operation> CreateOperation(const NewOperation& op) override;
  core::Result<std::vector<Operation>> CreateOperations(
      const std::vector<NewOperation>& ops) override;
  core::Result<Operation> GetOperation(const std::string& id) override;
  core::Result<Operation> UpdateOperationState(const std::string& id,
                                               const OperationUpdate& update) override;
  core::Result<int> AppendStep(const std::string& op_id,
                               const std::string& name,
                               StepState state) override;
  core::Result<OperationStep> UpdateStep(const std::string& op_id,
                                         int index,
                                         StepState state,
                                         const std::string& message) override;
  core::Result<std::vector<Operation>> ListOperations(const OperationQuery& query) override;
  core::Result<std::vector<Operation>> ListUnfinishedOperations() override;
  core::Result<std::optional<Operation>> ClaimNextOperation(
      const std::string& owner, std::chrono::milliseconds lease) override;
  core::Result<int> RenewLeases(const std::string& owner, std::chrono::milliseconds lease) override;
  core::Result<std::vector<Operation>> FailAbandonedOperations(const std::string& owner,
                                                               OwnClaims own,
                                                               const std::string& error) override;

  // HealthStore
  core::Result<std::int64_t> AppendHealthEvent(const HealthEvent& event) override;
  core::Result<std::vector<HealthEvent>> ListHealthEvents(const HealthEventQuery& query) override;
  core::Result<std::int64_t> PruneHealthEvents(TimeMs before) override;

  // ProvisionStore
  core::Result<void> UpsertProvisionedObject(const ProvisionedObject& object) override;
  core::Result<void> DeleteProvisionedObject(const std::string& stack,
                                             const std::string& env,
                                             ObjectKind kind,
                                             const std::string& uid) override;
  core::Result<std::vector<ProvisionedObject>> ListProvisionedObjects(
      const std::string& stack, const std::string& env, std::optional<ObjectKind> kind) override;

  // OutboxStore
  core::Result<std::int64_t> EnqueueOutbox(const std::string& channel_key,
                                           const std::string& payload_json,
                                           TimeMs not_before) override;
  core::Result<std::optional<OutboxMessage>> NextDueOutbox(TimeMs now) override;
  core::Result<void> MarkOutboxDelivered(std::int64_t id) override;
  core::Result<void> MarkOutboxAttempt(std::int64_t id,
                                       TimeMs next_attempt_at,
                                       const std::string& error) override;
  core::Result<void> MarkOutboxDropped(std::int64_t id, const std::string& reason) override;
  core::Result<std::vector<OutboxMessage>> ListPendingOutbox(int limit) override;
  core::Result<OutboxMessage> GetOutbox(std::int64_t id) override;
  core::Result<std::int64_t> PruneOutbox(TimeMs before) override;

  // GitStore
  core::Result<GitState> GetGitState(const std::string& source_key) override;
  core::Result<GitState> PutGitState(const GitState& state) override;
  core::Result<void> RecordWebhookDelivery(const std::string& delivery_id) override;
  core::Result<std::int64_t> PruneWebhookDeliveries(TimeMs before) override;

  // SecretStore (sqlite_secrets.cc)
  core::Result<StackSecret> PutSecret(const StackSecret& secret) override;
  core::Result<StackSecret> GetSecret(const std::string& stack, const std::string& key) override;
  core::Result<std::vector<StackSecret>> ListSecrets(const std::string& stack) override;
  core::Result<void> DeleteSecret(const std::string& stack, const std::string& key) override;

  // TableStore
  core::Result<void> ReadTables(
      const std::function<core::Result<void>(TableReader&)>& read) override;
  /// Also forgets every cached stack.
  core::Result<void> ReplaceTables(
      const std::function<core::Result<void>(TableWriter&)>& fill) override;
  core::Result<std::vector<int>> AppliedMigrations() override;

  // Store
  core::Result<void> Ping() override;

 private:
  SqliteStore(std::unique_ptr<SqliteDb> db, core::Clock& clock, bool cache_stacks);
  TimeMs Now();
  // After a committed write of stack `name`: forget it (and bump the generation, so that a
  // read that started before the write does not put the old value back).
  void Invalidate(const std::string& name);

  std::unique_ptr<SqliteDb> db_;
  core::Clock& clock_;
  const bool cache_stacks_;
  std::mutex cache_mu_;
  std::uint64_t cache_generation_ = 0;
  std::unordered_map<std::string, Stack> stack_cache_;
};

}  // namespace obsforge::store
