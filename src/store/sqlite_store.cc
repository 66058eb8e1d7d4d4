#include "store/sqlite_store.h"

#include <utility>

#include "store/rows.h"
#include "store/rules.h"
#include "store/sqlite_db.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;
using Poco::Data::Session;

Result<Stack> SelectStack(Session& s, const std::string& name) {
  auto rs = SqliteDb::Query(s, "SELECT " + Columns("stacks") + " FROM stacks WHERE name = ?", name);
  if (!rs.moveFirst()) {
    return MakeError(ErrorCode::kNotFound, "stack " + name + " not found");
  }
  return StackFromRow(SqliteRow(rs));
}

bool StackExists(Session& s, const std::string& name) {
  return SqliteDb::Query(s, "SELECT 1 FROM stacks WHERE name = ?", name).rowCount() > 0;
}

void InsertRevision(
    Session& s, const std::string& stack, std::int64_t number, const SpecChange& spec, TimeMs now) {
  SqliteDb::Exec(s,
                 "INSERT INTO spec_revisions (" + Columns("spec_revisions") +
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 stack, number, spec.spec_json, spec.spec_hash, std::string(Name(spec.source)),
                 spec.commit_sha, spec.commit_author, spec.commit_message, spec.actor, now);
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options,
                                                       core::Clock& clock) {
  std::unique_ptr<SqliteDb> db;
  try {
    db = std::make_unique<SqliteDb>(options);
  } catch (const Poco::Exception& e) {
    return MakeError(ErrorCode::kInternal,
                     "cannot open database " + options.path + ": " + e.displayText());
  }
  const std::vector<Migration>& migrations =
      options.migrations != nullptr ? *options.migrations : SqliteMigrations();
  if (Result<void> migrated = db->Migrate(migrations, ToTimeMs(clock.Now())); !migrated) {
    return migrated.error();
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), clock, options.cache_stacks));
}

SqliteStore::SqliteStore(std::unique_ptr<SqliteDb> db, core::Clock& clock, bool cache_stacks)
    : db_(std::move(db)), clock_(clock), cache_stacks_(cache_stacks) {
}

void SqliteStore::Invalidate(const std::string& name) {
  if (!cache_stacks_) {
    return;
  }
  std::lock_guard lock(cache_mu_);
  ++cache_generation_;
  stack_cache_.erase(name);
}

SqliteStore::~SqliteStore() = default;

TimeMs SqliteStore::Now() {
  return ToTimeMs(clock_.Now());
}

Result<std::vector<int>> SqliteStore::AppliedMigrations() {
  return db_->Read<std::vector<int>>("list migrations", false, [](Session& s) {
    auto rs = SqliteDb::Query(s, "SELECT version FROM schema_migrations ORDER BY version");
    std::vector<int> versions;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      versions.push_back(static_cast<int>(Int(rs, "version")));
    }
    return Result<std::vector<int>>(std::move(versions));
  });
}

Result<void> SqliteStore::Ping() {
  return db_->Read<void>("ping", false, [](Session& s) {
    SqliteDb::Query(s, "SELECT 1");
    return Result<void>();
  });
}

// ---- stacks and revisions ----

Result<Stack> SqliteStore::CreateStack(const std::string& name, const SpecChange& spec) {
  Result<StackWrite> written = CreateStackQueued(name, spec, {});
  if (!written) {
    return written.error();
  }
  return std::move(written->stack);
}

Result<StackWrite> SqliteStore::CreateStackQueued(const std::string& name,
                                                  const SpecChange& spec,
                                                  const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  // Nothing to invalidate: the cache never holds an absent stack.
  return db_->Write<StackWrite>("create stack " + name, [&](Session& s) -> Result<StackWrite> {
    if (StackExists(s, name)) {
      return MakeError(ErrorCode::kConflict, "stack " + name + " already exists");
    }
    SqliteDb::Exec(s, "INSERT INTO stacks (" + Columns("stacks") + ") VALUES (?, ?, ?, 1, ?, ?)",
                   name, spec.spec_json, spec.spec_hash, now, now);
    InsertRevision(s, name, 1, spec, now);
    StackWrite written{.stack = Stack{.name = name,
                                      .spec_json = spec.spec_json,
                                      .spec_hash = spec.spec_hash,
                                      .revision = 1,
                                      .created_at = now,
                                      .updated_at = now}};
    Result<std::vector<Operation>> created = InsertOperations(s, WithRevision(ops, 1), now);
    if (!created) {
      return created.error();
    }
    written.operations = std::move(*created);
    return written;
  });
}

Result<Stack> SqliteStore::GetStack(const std::string& name) {
  std::uint64_t generation = 0;
  if (cache_stacks_) {
    std::lock_guard lock(cache_mu_);
    if (auto it = stack_cache_.find(name); it != stack_cache_.end()) {
      return it->second;
    }
    generation = cache_generation_;
  }
  Result<Stack> stack = db_->Read<Stack>("get stack " + name, false,
                                         [&](Session& s) { return SelectStack(s, name); });
  if (cache_stacks_ && stack) {
    std::lock_guard lock(cache_mu_);
    if (generation == cache_generation_) {
      stack_cache_.emplace(name, *stack);
    }
  }
  return stack;
}

Result<std::vector<Stack>> SqliteStore::ListStacks() {
  return db_->Read<std::vector<Stack>>("list stacks", false, [](Session& s) {
    auto rs = SqliteDb::Query(s, "SELECT " + Columns("stacks") + " FROM stacks ORDER BY name");
    std::vector<Stack> stacks;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      stacks.push_back(StackFromRow(SqliteRow(rs)));
    }
    return Result<std::vector<Stack>>(std::move(stacks));
  });
}

Result<Stack> SqliteStore::UpdateSpec(const std::string& name,
                                      const SpecChange& spec,
                                      std::optional<std::int64_t> expected_revision) {
  Result<StackWrite> written = UpdateSpecQueued(name, spec, expected_revision, {});
  if (!written) {
    return written.error();
  }
  return std::move(written->stack);
}

Result<StackWrite> SqliteStore::UpdateSpecQueued(const std::string& name,
                                                 const SpecChange& spec,
                                                 std::optional<std::int64_t> expected_revision,
                                                 const std::vector<NewOperation>& ops) {
  const TimeMs now = Now();
  Result<StackWrite> updated =
      db_->Write<StackWrite>("update stack " + name, [&](Session& s) -> Result<StackWrite> {
        Result<Stack> current = SelectStack(s, name);
        if (!current) {
          return current.error();
        }
        if (expected_revision && *expected_revision != current->revision) {
          return StaleRevision(name, current->revision, *expected_revision);
        }
        if (DeletePending(s, name)) {
          return BeingDeleted(name);
        }
        Stack next = std::move(current).value();
        next.revision += 1;
        next.spec_json = spec.spec_json;
        next.spec_hash = spec.spec_hash;
        next.updated_at = now;
        SqliteDb::Exec(
            s,
            "UPDATE stacks SET spec_json = ?, spec_hash = ?, revision = ?, updated_at = ? "
            "WHERE name = ?",
            next.spec_json, next.spec_hash, next.revision, now, name);
        InsertRevision(s, name, next.revision, spec, now);
        Result<std::vector<Operation>> created =
            InsertOperations(s, WithRevision(ops, next.revision), now);
        if (!created) {
          return created.error();
        }
        return StackWrite{.stack = std::move(next), .operations = std::move(*created)};
      });
  if (updated) {
    Invalidate(name);
  }
  return updated;
}

Result<void> SqliteStore::DeleteStack(const std::string& name) {
  Result<void> deleted = db_->Write<void>("delete stack " + name, [&](Session& s) -> Result<void> {
    // Revisions, environments and provisioned objects go by ON DELETE CASCADE; health events
    // carry no foreign key (they are appended at a high rate) and are removed here.
    if (SqliteDb::Exec(s, "DELETE FROM stacks WHERE name = ?", name) == 0) {
      return MakeError(ErrorCode::kNotFound, "stack " + name + " not found");
    }
    SqliteDb::Exec(s, "DELETE FROM health_events WHERE stack = ?", name);
    return {};
  });
  if (deleted) {
    Invalidate(name);
  }
  return deleted;
}

Result<std::vector<SpecRevision>> SqliteStore::ListRevisions(const std::string& stack, int limit) {
  return db_->Read<std::vector<SpecRevision>>(
      "list revisions of " + stack, true, [&](Session& s) -> Result<std::vector<SpecRevision>> {
        if (!StackExists(s, stack)) {
          return MakeError(ErrorCode::kNotFound, "stack " + stack + " not found");
        }
        auto rs = SqliteDb::Query(s,
                                  "SELECT " + Columns("spec_revisions") +
                                      " FROM spec_revisions WHERE stack = ? "
                                      "ORDER BY number DESC LIMIT ?",
                                  stack, limit > 0 ? std::int64_t{limit} : std::int64_t{-1});
        std::vector<SpecRevision> revisions;
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
          revisions.push_back(RevisionFromRow(SqliteRow(rs)));
        }
        return revisions;
      });
}

Result<SpecRevision> SqliteStore::GetRevision(const std::string& stack, std::int64_t number) {
  return db_->Read<SpecRevision>(
      "get revision of " + stack, false, [&](Session& s) -> Result<SpecRevision> {
        auto rs = SqliteDb::Query(s,
                                  "SELECT " + Columns("spec_revisions") +
                                      " FROM spec_revisions WHERE stack = ? AND number = ?",
                                  stack, number);
        if (!rs.moveFirst()) {
          return MakeError(ErrorCode::kNotFound, "revision " + std::to_string(number) +
                                                     " of stack " + stack + " not found");
        }
        return RevisionFromRow(SqliteRow(rs));
      });
}

// ---- environments ----

Result<EnvironmentState> SqliteStore::UpsertEnvironment(const EnvironmentState& state) {
  EnvironmentState stored = state;
  stored.updated_at = Now();
  return db_->Write<EnvironmentState>(
      "upsert environment " + state.stack + "/" + state.env,
      [&](Session& s) -> Result<EnvironmentState> {
        if (!StackExists(s, state.stack)) {
          return MakeError(ErrorCode::kNotFound, "stack " + state.stack + " not found");
        }
        SqliteDb::Exec(s,
                       "INSERT OR REPLACE INTO environments (" + Columns("environments") +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       stored.stack, stored.env, stored.applied_revision, stored.last_good_revision,
                       stored.bundle_hash, stored.last_good_bundle_hash, stored.state,
                       stored.last_operation_id, stored.message, stored.updated_at);
        return stored;
      });
}

Result<EnvironmentState> SqliteStore::GetEnvironment(const std::string& stack,
                                                     const std::string& env) {
  return db_->Read<EnvironmentState>(
      "get environment " + stack + "/" + env, false, [&](Session& s) -> Result<EnvironmentState> {
        auto rs = SqliteDb::Query(
            s,
            "SELECT " + Columns("environments") + " FROM environments WHERE stack = ? AND env = ?",
            stack, env);
        if (!rs.moveFirst()) {
          return MakeError(ErrorCode::kNotFound,
                           "environment " + env + " of stack " + stack + " not found");
        }
        return EnvironmentFromRow(SqliteRow(rs));
      });
}

Result<std::vector<EnvironmentState>> SqliteStore::ListEnvironments(const std::string& stack) {
  return db_->Read<std::vector<EnvironmentState>>(
      "list environments of " + stack, false, [&](Session& s) {
        auto rs = SqliteDb::Query(
            s,
            "SELECT " + Columns("environments") + " FROM environments WHERE stack = ? ORDER BY env",
            stack);
        std::vector<EnvironmentState> envs;
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
          envs.push_back(EnvironmentFromRow(SqliteRow(rs)));
        }
        return Result<std::vector<EnvironmentState>>(std::move(envs));
      });
}

Result<void> SqliteStore::DeleteEnvironment(const std::string& stack, const std::string& env) {
  return db_->Write<void>(
      "delete environment " + stack + "/" + env, [&](Session& s) -> Result<void> {
        if (SqliteDb::Exec(s, "DELETE FROM environments WHERE stack = ? AND env = ?", stack, env) ==
            0) {
          return MakeError(ErrorCode::kNotFound,
                           "environment " + env + " of stack " + stack + " not found");
        }
        // Health history of an environment that no longer exists would show on the status page
        // under a name the spec no longer has.
        SqliteDb::Exec(s, "DELETE FROM health_events WHERE stack = ? AND env = ?", stack, env);
        SqliteDb::Exec(s, "DELETE FROM provisioned_objects WHERE stack = ? AND env = ?", stack,
                       env);
        return {};
      });
}

}  // namespace obsforge::store
