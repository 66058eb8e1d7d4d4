#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "store/migrations.h"
#include "store/store.h"

namespace obsforge::store {

class PgPool;  // libpq connections; kept out of this header.

/// Options of PostgresStore::Open.
struct PostgresStoreOptions {
  /// A libpq connection URI: postgresql://user[:password]@host[:port]/db[?param=value&...]
  /// (every libpq parameter works: sslmode, target_session_attrs, options, ...). A password
  /// may also come from PGPASSWORD or ~/.pgpass. Never logged: messages name user@host:port/db.
  std::string url;
  /// Connections opened at most (one per concurrent call; more calls wait for a free one).
  int max_connections = 8;
  /// How long to wait for a connection to be established (libpq connect_timeout, whole
  /// seconds; the URL's own connect_timeout wins).
  std::chrono::seconds connect_timeout{10};
  /// statement_timeout of every session (0: the server's setting). A statement running longer
  /// fails with kTimeout.
  std::chrono::milliseconds statement_timeout{30000};
  /// Schema to bring the database to; nullptr means PostgresMigrations(). Tests pass a prefix.
  const std::vector<Migration>* migrations = nullptr;
};

/// The Store on PostgreSQL (12 or newer) through libpq, for one or several obsforge processes
/// sharing one database. Tables live in the session's current schema (the first of its
/// search_path; `?options=-csearch_path%3Dname` selects another).
///
/// Same contract as SqliteStore (store.h), and in addition:
///  - any number of processes may use the database at once: every read-modify-write locks the
///    rows it changes (SELECT ... FOR UPDATE) inside one READ COMMITTED transaction, ids come from
///    sequences, and "insert unless present" is one INSERT ... ON CONFLICT;
///  - kUnavailable when the server cannot be reached or the connection broke (a connection found
///    dead is replaced and the call tried once more when nothing can have been committed);
///    kTimeout when a statement exceeds statement_timeout;
///  - text is UTF-8: bytes that are not valid UTF-8, and NUL, are stored as U+FFFD (everything
///    obsforge writes is valid UTF-8; this only keeps a hostile upstream's bytes from failing a
///    write);
///  - GetStack reads the database every time (another process may have written).
///
/// Advisory locks taken: (kMigrationLockClass, hashtext(current_schema())) while migrating, so
/// replicas starting together apply each migration once; (kClaimLockClass, hashtext(stack)) in
/// the transaction claiming an operation of `stack`. PostgresLeadership takes
/// kLeaderLockClass.
class PostgresStore final : public Store {
 public:
  /// Advisory lock class held while migrations run ("obsf" + 0).
  static constexpr std::int32_t kMigrationLockClass = 0x6f627366;
  /// Transaction advisory lock class of operation claims, per stack ("obsf" + 1).
  static constexpr std::int32_t kClaimLockClass = 0x6f627367;
  /// Session advisory lock class of the leader, per schema ("obsf" + 2).
  static constexpr std::int32_t kLeaderLockClass = 0x6f627368;

  /// Connects to options.url and applies every migration the database lacks, each in its own
  /// transaction, all under the migration advisory lock. kInvalidSpec when the URL is malformed;
  /// kUnavailable when the server cannot be reached; kPrecondition when the server is older
  /// than 12 or the database was migrated by a newer obsforge; kInternal when a migration fails
  /// (that one is rolled back whole, earlier ones stay). Never throws.
  static core::Result<std::unique_ptr<PostgresStore>> Open(PostgresStoreOptions options,
                                                           core::Clock& clock);

  /// user@host:port/db of `url` (no password), for messages. kInvalidSpec ("store URL: " and
  /// libpq's reason) when libpq cannot parse it. Never throws.
  static core::Result<std::string> ServerOf(const std::string& url);

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  /// user@host:port/db of the database (no password), for messages.
  const std::string& server() const;

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

  // SecretStore (postgres_secrets.cc)
  core::Result<StackSecret> PutSecret(const StackSecret& secret) override;
  core::Result<StackSecret> GetSecret(const std::string& stack, const std::string& key) override;
  core::Result<std::vector<StackSecret>> ListSecrets(const std::string& stack) override;
  core::Result<void> DeleteSecret(const std::string& stack, const std::string& key) override;

  // TableStore
  core::Result<void> ReadTables(
      const std::function<core::Result<void>(TableReader&)>& read) override;
  core::Result<void> ReplaceTables(
      const std::function<core::Result<void>(TableWriter&)>& fill) override;
  core::Result<std::vector<int>> AppliedMigrations() override;

  // Store
  /// kUnavailable when the server cannot be reached.
  core::Result<void> Ping() override;
  /// Through LISTEN/NOTIFY on channel kChangesChannel (payload "<schema>\t<ops|env>\t<stack>"),
  /// on a connection of its own; the writes notify in their transaction, so a change is heard
  /// once committed.
  void Subscribe(std::function<void(const StoreChange&)> on_change) override;

  /// The NOTIFY channel of every obsforge schema of the database.
  static constexpr const char* kChangesChannel = "obsforge_changes";

 private:
  PostgresStore(std::unique_ptr<PgPool> pool, core::Clock& clock);
  TimeMs Now();

  class Listener;  // the LISTEN connection and its thread (postgres_listen.cc)

  std::unique_ptr<PgPool> pool_;
  core::Clock& clock_;
  std::unique_ptr<Listener> listener_;
};

}  // namespace obsforge::store
