#include "store/postgres_store.h"

#include <utility>

#include "store/postgres_db.h"
#include "store/rows.h"
#include "store/rules.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

// user@host:port/db of a parsed connection string: what messages may show (no password).
std::string ServerName(const PQconninfoOption* info) {
  std::string user;
  std::string host;
  std::string port;
  std::string db;
  for (const PQconninfoOption* o = info; o->keyword != nullptr; ++o) {
    const std::string key = o->keyword;
    const std::string value = o->val != nullptr ? o->val : "";
    if (key == "user") {
      user = value;
    } else if ((key == "host" && !value.empty()) || (key == "hostaddr" && host.empty())) {
      host = value;
    } else if (key == "port") {
      port = value;
    } else if (key == "dbname") {
      db = value;
    }
  }
  return (user.empty() ? "" : user + "@") + (host.empty() ? "localhost" : host) +
         (port.empty() ? "" : ":" + port) + "/" + db;
}

std::string SelectStackSql(const char* lock) {
  return "SELECT " + Columns("stacks") + " FROM stacks WHERE name = $1" + lock;
}

Result<Stack> SelectStack(PgConnection& c, const std::string& name, const char* lock = "") {
  const PgResult r = c.Exec(SelectStackSql(lock), name);
  if (r.rows() == 0) {
    return MakeError(ErrorCode::kNotFound, "stack " + name + " not found");
  }
  return StackFromRow(PgRow(r, 0));
}

// Locks the stack's row against deletion until the transaction ends, so that rows referring to
// it can be written; false when there is no such stack.
bool LockStack(PgConnection& c, const std::string& name) {
  return c.Exec("SELECT 1 FROM stacks WHERE name = $1 FOR KEY SHARE", name).rows() > 0;
}

void InsertRevision(PgConnection& c,
                    const std::string& stack,
                    std::int64_t number,
                    const SpecChange& spec,
                    TimeMs now) {
  c.Exec(PgInsert(StoredTable("spec_revisions")), stack, number, spec.spec_json, spec.spec_hash,
         std::string(Name(spec.source)), spec.commit_sha, spec.commit_author, spec.commit_message,
         spec.actor, now);
}

// Applies what `migrations` adds to the database, each migration in its own transaction.
// Runs under the migration advisory lock (see Migrate).
Result<void> ApplyMigrations(PgPool& pool,
                             PgConnection& c,
                             const std::vector<Migration>& migrations,
                             TimeMs now) {
  c.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  const PgResult newest = c.Exec("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations");
  if (Result<void> known = CheckNotNewer(newest.Int(0, "v"), migrations); !known) {
    return known;
  }
  for (const Migration& m : migrations) {
    const std::string what = "migration " + std::to_string(m.version) + " (" + m.name + ")";
    try {
      c.Exec("BEGIN");
      if (c.Exec("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).rows() == 0) {
        for (const std::string& step : m.steps) {
          c.Exec(step);
        }
        c.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
               m.version, m.name, now);
      }
      c.Exec("COMMIT");
    } catch (const PgError& e) {
      c.RollbackQuietly();
      return pool.Failure(what, e, false);
    }
  }
  return {};
}

// Migrations run under a session advisory lock, so that replicas starting together wait for
// one another instead of racing on CREATE TABLE; a replica that dies mid-way releases it with
// its connection.
Result<void> Migrate(PgPool& pool, const std::vector<Migration>& migrations, TimeMs now) {
  if (Result<void> ordered = CheckMigrationOrder(migrations); !ordered) {
    return ordered;
  }
  return pool.Session<void>("open store", [&](PgConnection& c) -> Result<void> {
    if (c.server_version() < 120000) {
      return MakeError(ErrorCode::kPrecondition,
                       "PostgreSQL 12 or newer is required; " + pool.server() + " runs " +
                           std::to_string(c.server_version() / 10000) + "." +
                           std::to_string(c.server_version() % 10000));
    }
    c.Exec("SELECT pg_advisory_lock($1, hashtext(current_schema()))",
           PostgresStore::kMigrationLockClass);
    // Released however this ends: the connection goes back to the pool and must not keep it.
    struct Unlock {
      explicit Unlock(PgConnection& connection) : c(connection) {}
      Unlock(const Unlock&) = delete;
      Unlock& operator=(const Unlock&) = delete;
      PgConnection& c;
      ~Unlock() {
        try {
          c.RollbackQuietly();
          c.Exec("SELECT pg_advisory_unlock($1, hashtext(current_schema()))",
                 PostgresStore::kMigrationLockClass);
        } catch (const PgError&) {  // NOLINT(bugprone-empty-catch): a lost session holds no lock
        }
      }
    } unlock{c};
    return ApplyMigrations(pool, c, migrations, now);
  });
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresStoreOptions options,
                                                           core::Clock& clock) {
  Result<std::string> server = ServerOf(options.url);
  if (!server) {
    return server.error();
  }
  // Defaults first: the URL comes last, so whatever it sets wins.
  PgConnectParams params = {
      {"connect_timeout",
       std::to_string(std::max<std::int64_t>(1, options.connect_timeout.count()))},
      {"application_name", "obsforge"},
      {"client_encoding", "UTF8"},
      // A dead peer (a crashed host, a dropped NAT entry) is noticed within about a minute
      // instead of the kernel's two hours.
      {"keepalives", "1"},
      {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},
      {"keepalives_count", "3"},
      {"dbname", options.url},
  };
  auto pool = std::make_unique<PgPool>(std::move(params), std::move(*server),
                                       options.max_connections, options.statement_timeout);
  const std::vector<Migration>& migrations =
      options.migrations != nullptr ? *options.migrations : PostgresMigrations();
  if (Result<void> migrated = Migrate(*pool, migrations, ToTimeMs(clock.Now())); !migrated) {
    return migrated.error();
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(pool), clock));
}

Result<std::string> PostgresStore::ServerOf(const std::string& url) {
  char* parse_error = nullptr;
  PQconninfoOption* info = PQconninfoParse(url.c_str(), &parse_error);
  if (info == nullptr) {
    std::string message = parse_error != nullptr ? parse_error : "out of memory";
    PQfreemem(parse_error);
    while (!message.empty() && message.back() == '\n') {
      message.pop_back();
    }
    return MakeError(ErrorCode::kInvalidSpec, "store URL: " + message);
  }
  std::string server = ServerName(info);
  PQconninfoFree(info);
  return server;
}

TimeMs PostgresStore::Now() {
  return ToTimeMs(clock_.Now());
}

const std::string& PostgresStore::server() const {
  return pool_->server();
}

Result<std::vector<int>> PostgresStore::AppliedMigrations() {
  return pool_->Read<std::vector<int>>("list migrations", false, [](PgConnection& c) {
    const PgResult r = c.Exec("SELECT version FROM schema_migrations ORDER BY version");
    std::vector<int> versions;
    versions.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      versions.push_back(static_cast<int>(r.Int(i, "version")));
    }
    return Result<std::vector<int>>(std::move(versions));
  });
}

Result<void> PostgresStore::Ping() {
  return pool_->Read<void>("ping", false, [](PgConnection& c) {
    c.Exec("SELECT 1");
    return Result<void>();
  });
}

// ---- stacks and revisions ----

Result<Stack> PostgresStore::CreateStack(const std::string& name, const SpecChange& spec) {
  Result<StackWrite> written = CreateStackQueued(name, spec, {});
  if (!written) {
    return written.error();
  }
  return std::move(written->stack);
}

Result<StackWrite> PostgresStore::CreateStackQueued(const std::string& name,
                                                    const SpecChange& spec,
                                                    const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  return pool_->Write<StackWrite>(
      "create stack " + name, [&](PgConnection& c) -> Result<StackWrite> {
        // A concurrent create of the same name waits on the unique index, then inserts nothing.
        // The inserted row stays locked until commit: the operations below are the stack's
        // first.
        const PgResult inserted = c.Exec("INSERT INTO stacks (" + Columns("stacks") +
                                             ") VALUES ($1, $2, $3, 1, $4, $4) "
                                             "ON CONFLICT (name) DO NOTHING",
                                         name, spec.spec_json, spec.spec_hash, now);
        if (inserted.affected() == 0) {
          return MakeError(ErrorCode::kConflict, "stack " + name + " already exists");
        }
        InsertRevision(c, name, 1, spec, now);
        StackWrite written{.stack = Stack{.name = name,
                                          .spec_json = spec.spec_json,
                                          .spec_hash = spec.spec_hash,
                                          .revision = 1,
                                          .created_at = now,
                                          .updated_at = now}};
        Result<std::vector<Operation>> created = InsertOperations(c, WithRevision(ops, 1), now);
        if (!created) {
          return created.error();
        }
        written.operations = std::move(*created);
        return written;
      });
}

Result<Stack> PostgresStore::GetStack(const std::string& name) {
  return pool_->Read<Stack>("get stack " + name, false,
                            [&](PgConnection& c) { return SelectStack(c, name); });
}

Result<std::vector<Stack>> PostgresStore::ListStacks() {
  return pool_->Read<std::vector<Stack>>("list stacks", false, [](PgConnection& c) {
    const PgResult r = c.Exec("SELECT " + Columns("stacks") + " FROM stacks ORDER BY name");
    return Result<std::vector<Stack>>(AllRows(r, StackFromRow<PgRow>));
  });
}

Result<Stack> PostgresStore::UpdateSpec(const std::string& name,
                                        const SpecChange& spec,
                                        std::optional<std::int64_t> expected_revision) {
  Result<StackWrite> written = UpdateSpecQueued(name, spec, expected_revision, {});
  if (!written) {
    return written.error();
  }
  return std::move(written->stack);
}

Result<StackWrite> PostgresStore::UpdateSpecQueued(const std::string& name,
                                                   const SpecChange& spec,
                                                   std::optional<std::int64_t> expected_revision,
                                                   const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  return pool_->Write<StackWrite>(
      "update stack " + name, [&](PgConnection& c) -> Result<StackWrite> {
        // FOR UPDATE: concurrent updates of one stack take turns, so revisions never collide, the
        // If-Match check sees the revision it is about to replace, and the operations of revision
        // n+1 get later ids than those of revision n.
        Result<Stack> current = SelectStack(c, name, " FOR UPDATE");
        if (!current) {
          return current.error();
        }
        if (expected_revision && *expected_revision != current->revision) {
          return StaleRevision(name, current->revision, *expected_revision);
        }
        if (DeletePending(c, name)) {
          return BeingDeleted(name);
        }
        Stack next = std::move(current).value();
        next.revision += 1;
        next.spec_json = spec.spec_json;
        next.spec_hash = spec.spec_hash;
        next.updated_at = now;
        c.Exec(
            "UPDATE stacks SET spec_json = $1, spec_hash = $2, revision = $3, updated_at = $4 "
            "WHERE name = $5",
            next.spec_json, next.spec_hash, next.revision, now, name);
        InsertRevision(c, name, next.revision, spec, now);
        Result<std::vector<Operation>> created =
            InsertOperations(c, WithRevision(ops, next.revision), now);
        if (!created) {
          return created.error();
        }
        return StackWrite{.stack = std::move(next), .operations = std::move(*created)};
      });
}

Result<void> PostgresStore::DeleteStack(const std::string& name) {
  return pool_->Write<void>("delete stack " + name, [&](PgConnection& c) -> Result<void> {
    // Revisions, environments and provisioned objects go by ON DELETE CASCADE; health events
    // carry no foreign key (they are appended at a high rate) and are removed here.
    if (c.Exec("DELETE FROM stacks WHERE name = $1", name).affected() == 0) {
      return MakeError(ErrorCode::kNotFound, "stack " + name + " not found");
    }
    c.Exec("DELETE FROM health_events WHERE stack = $1", name);
    return {};
  });
}

Result<std::vector<SpecRevision>> PostgresStore::ListRevisions(const std::string& stack,
                                                               int limit) {
  return pool_->Read<std::vector<SpecRevision>>(
      "list revisions of " + stack, true,
      [&](PgConnection& c) -> Result<std::vector<SpecRevision>> {
        if (c.Exec("SELECT 1 FROM stacks WHERE name = $1", stack).rows() == 0) {
          return MakeError(ErrorCode::kNotFound, "stack " + stack + " not found");
        }
        const PgResult r = c.Exec("SELECT " + Columns("spec_revisions") +
                                      " FROM spec_revisions WHERE stack = $1 "
                                      "ORDER BY number DESC LIMIT $2",
                                  stack, PgLimit(limit));
        return AllRows(r, RevisionFromRow<PgRow>);
      });
}

Result<SpecRevision> PostgresStore::GetRevision(const std::string& stack, std::int64_t number) {
  return pool_->Read<SpecRevision>(
      "get revision of " + stack, false, [&](PgConnection& c) -> Result<SpecRevision> {
        const PgResult r = c.Exec("SELECT " + Columns("spec_revisions") +
                                      " FROM spec_revisions WHERE stack = $1 AND number = $2",
                                  stack, number);
        if (r.rows() == 0) {
          return MakeError(ErrorCode::kNotFound, "revision " + std::to_string(number) +
                                                     " of stack " + stack + " not found");
        }
        return RevisionFromRow(PgRow(r, 0));
      });
}

// ---- environments ----

Result<EnvironmentState> PostgresStore::UpsertEnvironment(const EnvironmentState& state) {
  EnvironmentState stored = state;
  stored.updated_at = Now();
  return pool_->Write<EnvironmentState>(
      "upsert environment " + state.stack + "/" + state.env,
      [&](PgConnection& c) -> Result<EnvironmentState> {
        if (!LockStack(c, state.stack)) {
          return MakeError(ErrorCode::kNotFound, "stack " + state.stack + " not found");
        }
        c.Exec(PgUpsert(StoredTable("environments")), stored.stack, stored.env,
               stored.applied_revision, stored.last_good_revision, stored.bundle_hash,
               stored.last_good_bundle_hash, stored.state, stored.last_operation_id, stored.message,
               stored.updated_at);
        NotifyChange(c, stored.stack);
        return stored;
      });
}

Result<EnvironmentState> PostgresStore::GetEnvironment(const std::string& stack,
                                                       const std::string& env) {
  return pool_->Read<EnvironmentState>(
      "get environment " + stack + "/" + env, false,
      [&](PgConnection& c) -> Result<EnvironmentState> {
        const PgResult r = c.Exec("SELECT " + Columns("environments") +
                                      " FROM environments WHERE stack = $1 AND env = $2",
                                  stack, env);
        if (r.rows() == 0) {
          return MakeError(ErrorCode::kNotFound,
                           "environment " + env + " of stack " + stack + " not found");
        }
        return EnvironmentFromRow(PgRow(r, 0));
      });
}

Result<std::vector<EnvironmentState>> PostgresStore::ListEnvironments(const std::string& stack) {
  return pool_->Read<std::vector<EnvironmentState>>(
      "list environments of " + stack, false, [&](PgConnection& c) {
        const PgResult r = c.Exec("SELECT " + Columns("environments") +
                                      " FROM environments WHERE stack = $1 ORDER BY env",
                                  stack);
        return Result<std::vector<EnvironmentState>>(AllRows(r, EnvironmentFromRow<PgRow>));
      });
}

Result<void> PostgresStore::DeleteEnvironment(const std::string& stack, const std::string& env) {
  return pool_->Write<void>(
      "delete environment " + stack + "/" + env, [&](PgConnection& c) -> Result<void> {
        if (c.Exec("DELETE FROM environments WHERE stack = $1 AND env = $2", stack, env)
                .affected() == 0) {
          return MakeError(ErrorCode::kNotFound,
                           "environment " + env + " of stack " + stack + " not found");
        }
        c.Exec("DELETE FROM health_events WHERE stack = $1 AND env = $2", stack, env);
        c.Exec("DELETE FROM provisioned_objects WHERE stack = $1 AND env = $2", stack, env);
        NotifyChange(c, stack);
        return {};
      });
}

}  // namespace obsforge::store
