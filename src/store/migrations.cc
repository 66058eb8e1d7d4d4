#include "store/migrations.h"

namespace obsforge::store {

core::Result<void> CheckMigrationOrder(const std::vector<Migration>& migrations) {
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      return core::MakeError(core::ErrorCode::kInternal,
                             "migrations are not in increasing version order at version " +
                                 std::to_string(migrations[i].version));
    }
  }
  return {};
}

core::Result<void> CheckNotNewer(std::int64_t newest, const std::vector<Migration>& migrations) {
  const int known = migrations.empty() ? 0 : migrations.back().version;
  if (newest > known) {
    return core::MakeError(core::ErrorCode::kPrecondition,
                           "database schema version " + std::to_string(newest) +
                               " is newer than this obsforge knows (" + std::to_string(known) +
                               ")");
  }
  return {};
}

// Conventions: every time is INTEGER milliseconds since the epoch (0 = unset); text columns are
// NOT NULL DEFAULT '' so that rows read back without NULL handling; enums are stored by their
// wire names so the database stays readable with the sqlite3 shell.
const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration> kMigrations = {
      {.version = 1,
       .name = "stacks and spec revisions",
       .steps =
           {
               R"(CREATE TABLE stacks (
                    name TEXT PRIMARY KEY,
                    spec_json TEXT NOT NULL,
                    spec_hash TEXT NOT NULL DEFAULT '',
                    revision INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL))",
               R"(CREATE TABLE spec_revisions (
                    stack TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    spec_json TEXT NOT NULL,
                    spec_hash TEXT NOT NULL DEFAULT '',
                    source TEXT NOT NULL,
                    commit_sha TEXT NOT NULL DEFAULT '',
                    commit_author TEXT NOT NULL DEFAULT '',
                    commit_message TEXT NOT NULL DEFAULT '',
                    actor TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (stack, number)))",
               R"(CREATE TABLE environments (
                    stack TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    env TEXT NOT NULL,
                    applied_revision INTEGER NOT NULL DEFAULT 0,
                    last_good_revision INTEGER NOT NULL DEFAULT 0,
                    bundle_hash TEXT NOT NULL DEFAULT '',
                    last_good_bundle_hash TEXT NOT NULL DEFAULT '',
                    state TEXT NOT NULL DEFAULT '',
                    last_operation_id TEXT NOT NULL DEFAULT '',
                    message TEXT NOT NULL DEFAULT '',
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (stack, env)))",
           }},
      // Operations outlive their stack (a teardown's record must stay readable after the
      // stack is gone), so they do not reference stacks.
      {.version = 2,
       .name = "operations and steps",
       .steps =
           {
               R"(CREATE TABLE operations (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    stack TEXT NOT NULL DEFAULT '',
                    env TEXT NOT NULL DEFAULT '',
                    state TEXT NOT NULL,
                    revision INTEGER NOT NULL DEFAULT 0,
                    actor TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL,
                    started_at INTEGER NOT NULL DEFAULT 0,
                    finished_at INTEGER NOT NULL DEFAULT 0,
                    error TEXT NOT NULL DEFAULT '',
                    result_json TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX operations_by_stack_env ON operations(stack, env, seq)",
               "CREATE INDEX operations_unfinished ON operations(seq) "
               "WHERE state IN ('queued', 'running')",
               R"(CREATE TABLE operation_steps (
                    op_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    state TEXT NOT NULL,
                    started_at INTEGER NOT NULL DEFAULT 0,
                    finished_at INTEGER NOT NULL DEFAULT 0,
                    message TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (op_id, idx)))",
           }},
      {.version = 3,
       .name = "health events",
       .steps =
           {
               R"(CREATE TABLE health_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stack TEXT NOT NULL,
                    env TEXT NOT NULL,
                    component TEXT NOT NULL DEFAULT '',
                    check_name TEXT NOT NULL DEFAULT '',
                    from_state TEXT NOT NULL DEFAULT '',
                    to_state TEXT NOT NULL DEFAULT '',
                    at INTEGER NOT NULL,
                    message TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX health_events_by_stack_env ON health_events(stack, env, at)",
               "CREATE INDEX health_events_by_at ON health_events(at)",
           }},
      {.version = 4,
       .name = "provisioned objects",
       .steps =
           {
               R"(CREATE TABLE provisioned_objects (
                    stack TEXT NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    env TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    uid TEXT NOT NULL,
                    content_hash TEXT NOT NULL DEFAULT '',
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (stack, env, kind, uid)))",
           }},
      // AUTOINCREMENT: an id is never reused, so "message N was delivered" stays unambiguous
      // even after pruning.
      {.version = 5,
       .name = "notification outbox",
       .steps =
           {
               R"(CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel_key TEXT NOT NULL,
                    payload_json TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL DEFAULT 0,
                    delivered_at INTEGER NOT NULL DEFAULT 0,
                    dropped_at INTEGER NOT NULL DEFAULT 0,
                    dropped_reason TEXT NOT NULL DEFAULT '',
                    last_error TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX outbox_pending ON outbox(channel_key, id) "
               "WHERE delivered_at = 0 AND dropped_at = 0",
           }},
      {.version = 6,
       .name = "gitops state and webhook deliveries",
       .steps =
           {
               R"(CREATE TABLE git_state (
                    source_key TEXT PRIMARY KEY,
                    last_seen_sha TEXT NOT NULL DEFAULT '',
                    last_applied_sha TEXT NOT NULL DEFAULT '',
                    updated_at INTEGER NOT NULL))",
               R"(CREATE TABLE webhook_deliveries (
                    id TEXT PRIMARY KEY,
                    received_at INTEGER NOT NULL))",
               "CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries(received_at)",
           }},
      // Grafana's id and version of a dashboard right after obsforge wrote it: with the content
      // hash, they let a resync skip comparing dashboards that changed on neither side (the id
      // catches a dashboard deleted and recreated, whose version starts again at 1).
      {.version = 7,
       .name = "remote id and version of provisioned objects",
       .steps =
           {
               "ALTER TABLE provisioned_objects ADD COLUMN remote_version INTEGER NOT NULL "
               "DEFAULT 0",
               "ALTER TABLE provisioned_objects ADD COLUMN remote_id INTEGER NOT NULL DEFAULT 0",
           }},
      // Sealed (AES-256-GCM) by the application; no foreign key to stacks: a stack's secrets
      // are set before the spec that names them is accepted.
      {.version = 8,
       .name = "stack secrets",
       .steps =
           {
               R"(CREATE TABLE stack_secrets (
                    stack TEXT NOT NULL,
                    key TEXT NOT NULL,
                    sealed TEXT NOT NULL,
                    key_id TEXT NOT NULL DEFAULT '',
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (stack, key)))",
           }},
      // Which replica works on a running operation, and until when its claim holds unless it
      // renews it: a claim whose lease ran out belongs to a replica that is gone.
      {.version = 9,
       .name = "operation claims",
       .steps =
           {
               "ALTER TABLE operations ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
               "ALTER TABLE operations ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0",
               "CREATE INDEX operations_queued ON operations(stack, env, seq) "
               "WHERE state IN ('queued', 'running')",
           }},
  };
  return kMigrations;
}

}  // namespace obsforge::store

namespace obsforge::store {

// The same tables as SQLite's, in PostgreSQL's terms: BIGINT for every integer (times are
// milliseconds), text columns COLLATE "C" so that ORDER BY compares bytes exactly as SQLite
// does whatever the database's locale, identity columns BY DEFAULT so that a copied store keeps
// its ids (the copy then moves the sequence past them).
const std::vector<Migration>& PostgresMigrations() {
  static const std::vector<Migration> kMigrations = {
      {.version = 1,
       .name = "stacks and spec revisions",
       .steps =
           {
               R"(CREATE TABLE stacks (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    spec_json TEXT NOT NULL,
                    spec_hash TEXT NOT NULL DEFAULT '',
                    revision BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL))",
               R"(CREATE TABLE spec_revisions (
                    stack TEXT COLLATE "C" NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    number BIGINT NOT NULL,
                    spec_json TEXT NOT NULL,
                    spec_hash TEXT NOT NULL DEFAULT '',
                    source TEXT NOT NULL,
                    commit_sha TEXT NOT NULL DEFAULT '',
                    commit_author TEXT NOT NULL DEFAULT '',
                    commit_message TEXT NOT NULL DEFAULT '',
                    actor TEXT NOT NULL DEFAULT '',
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (stack, number)))",
               R"(CREATE TABLE environments (
                    stack TEXT COLLATE "C" NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    env TEXT COLLATE "C" NOT NULL,
                    applied_revision BIGINT NOT NULL DEFAULT 0,
                    last_good_revision BIGINT NOT NULL DEFAULT 0,
                    bundle_hash TEXT NOT NULL DEFAULT '',
                    last_good_bundle_hash TEXT NOT NULL DEFAULT '',
                    state TEXT NOT NULL DEFAULT '',
                    last_operation_id TEXT NOT NULL DEFAULT '',
                    message TEXT NOT NULL DEFAULT '',
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (stack, env)))",
           }},
      {.version = 2,
       .name = "operations and steps",
       .steps =
           {
               R"(CREATE TABLE operations (
                    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    id TEXT COLLATE "C" NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    stack TEXT COLLATE "C" NOT NULL DEFAULT '',
                    env TEXT COLLATE "C" NOT NULL DEFAULT '',
                    state TEXT NOT NULL,
                    revision BIGINT NOT NULL DEFAULT 0,
                    actor TEXT NOT NULL DEFAULT '',
                    created_at BIGINT NOT NULL,
                    started_at BIGINT NOT NULL DEFAULT 0,
                    finished_at BIGINT NOT NULL DEFAULT 0,
                    error TEXT NOT NULL DEFAULT '',
                    result_json TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX operations_by_stack_env ON operations(stack, env, seq)",
               "CREATE INDEX operations_unfinished ON operations(seq) "
               "WHERE state IN ('queued', 'running')",
               R"(CREATE TABLE operation_steps (
                    op_id TEXT COLLATE "C" NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
                    idx BIGINT NOT NULL,
                    name TEXT NOT NULL,
                    state TEXT NOT NULL,
                    started_at BIGINT NOT NULL DEFAULT 0,
                    finished_at BIGINT NOT NULL DEFAULT 0,
                    message TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (op_id, idx)))",
           }},
      {.version = 3,
       .name = "health events",
       .steps =
           {
               R"(CREATE TABLE health_events (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    stack TEXT COLLATE "C" NOT NULL,
                    env TEXT COLLATE "C" NOT NULL,
                    component TEXT NOT NULL DEFAULT '',
                    check_name TEXT NOT NULL DEFAULT '',
                    from_state TEXT NOT NULL DEFAULT '',
                    to_state TEXT NOT NULL DEFAULT '',
                    at BIGINT NOT NULL,
                    message TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX health_events_by_stack_env ON health_events(stack, env, at)",
               "CREATE INDEX health_events_by_at ON health_events(at)",
           }},
      {.version = 4,
       .name = "provisioned objects",
       .steps =
           {
               R"(CREATE TABLE provisioned_objects (
                    stack TEXT COLLATE "C" NOT NULL REFERENCES stacks(name) ON DELETE CASCADE,
                    env TEXT COLLATE "C" NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL,
                    uid TEXT COLLATE "C" NOT NULL,
                    content_hash TEXT NOT NULL DEFAULT '',
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (stack, env, kind, uid)))",
           }},
      {.version = 5,
       .name = "notification outbox",
       .steps =
           {
               R"(CREATE TABLE outbox (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    channel_key TEXT COLLATE "C" NOT NULL,
                    payload_json TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL DEFAULT 0,
                    delivered_at BIGINT NOT NULL DEFAULT 0,
                    dropped_at BIGINT NOT NULL DEFAULT 0,
                    dropped_reason TEXT NOT NULL DEFAULT '',
                    last_error TEXT NOT NULL DEFAULT ''))",
               "CREATE INDEX outbox_pending ON outbox(channel_key, id) "
               "WHERE delivered_at = 0 AND dropped_at = 0",
           }},
      {.version = 6,
       .name = "gitops state and webhook deliveries",
       .steps =
           {
               R"(CREATE TABLE git_state (
                    source_key TEXT COLLATE "C" PRIMARY KEY,
                    last_seen_sha TEXT NOT NULL DEFAULT '',
                    last_applied_sha TEXT NOT NULL DEFAULT '',
                    updated_at BIGINT NOT NULL))",
               R"(CREATE TABLE webhook_deliveries (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    received_at BIGINT NOT NULL))",
               "CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries(received_at)",
           }},
      {.version = 7,
       .name = "remote id and version of provisioned objects",
       .steps =
           {
               "ALTER TABLE provisioned_objects ADD COLUMN remote_version BIGINT NOT NULL "
               "DEFAULT 0",
               "ALTER TABLE provisioned_objects ADD COLUMN remote_id BIGINT NOT NULL DEFAULT 0",
           }},
      {.version = 8,
       .name = "stack secrets",
       .steps =
           {
               R"(CREATE TABLE stack_secrets (
                    stack TEXT COLLATE "C" NOT NULL,
                    key TEXT COLLATE "C" NOT NULL,
                    sealed TEXT NOT NULL,
                    key_id TEXT NOT NULL DEFAULT '',
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (stack, key)))",
           }},
      // Which replica works on a running operation, and until when its claim holds unless it
      // renews it: a claim whose lease ran out belongs to a replica that is gone.
      {.version = 9,
       .name = "operation claims",
       .steps =
           {
               "ALTER TABLE operations ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
               "ALTER TABLE operations ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0",
               "CREATE INDEX operations_queued ON operations(stack, env, seq) "
               "WHERE state IN ('queued', 'running')",
           }},
  };
  return kMigrations;
}

}  // namespace obsforge::store
