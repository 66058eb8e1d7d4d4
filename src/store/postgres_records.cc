// Health history, provisioned-object records and gitops bookkeeping: small append/upsert tables.

#include <utility>

#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "store/rows.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

}  // namespace

// ---- health events ----

Result<std::int64_t> PostgresStore::AppendHealthEvent(const HealthEvent& event) {
  const TimeMs at = event.at != 0 ? event.at : Now();
  return pool_->Write<std::int64_t>("append health event", [&](PgConnection& c) {
    const PgResult r = c.Exec(
        "INSERT INTO health_events (stack, env, component, check_name, from_state, to_state, at, "
        "message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        event.stack, event.env, event.component, event.check, event.from_state, event.to_state, at,
        event.message);
    return Result<std::int64_t>(r.Int(0, "id"));
  });
}

Result<std::vector<HealthEvent>> PostgresStore::ListHealthEvents(const HealthEventQuery& query) {
  return pool_->Read<std::vector<HealthEvent>>("list health events", false, [&](PgConnection& c) {
    // Only the filters in use go into the SQL, so that the (stack, env, at) index serves them.
    std::string sql = "SELECT " + Columns("health_events") + " FROM health_events WHERE stack = $1";
    std::vector<PgParam> params{ToParam(query.stack)};
    if (!query.env.empty()) {
      params.push_back(ToParam(query.env));
      sql += " AND env = $2";
    }
    params.push_back(ToParam(query.since));
    params.push_back(ToParam(PgLimit(query.limit)));
    sql += " AND at >= $" + std::to_string(params.size() - 1) +
           " ORDER BY at DESC, id DESC LIMIT $" + std::to_string(params.size());
    return Result<std::vector<HealthEvent>>(
        AllRows(c.ExecParams(sql, params), HealthEventFromRow<PgRow>));
  });
}

Result<std::int64_t> PostgresStore::PruneHealthEvents(TimeMs before) {
  return pool_->Write<std::int64_t>("prune health events", [&](PgConnection& c) {
    return Result<std::int64_t>(
        c.Exec("DELETE FROM health_events WHERE at < $1", before).affected());
  });
}

// ---- provisioned objects ----

Result<void> PostgresStore::UpsertProvisionedObject(const ProvisionedObject& object) {
  const TimeMs now = Now();
  return pool_->Write<void>(
      "record provisioned " + std::string(Name(object.kind)) + " " + object.uid,
      [&](PgConnection& c) -> Result<void> {
        if (c.Exec("SELECT 1 FROM stacks WHERE name = $1 FOR KEY SHARE", object.stack).rows() ==
            0) {
          return MakeError(ErrorCode::kNotFound, "stack " + object.stack + " not found");
        }
        c.Exec(PgUpsert(StoredTable("provisioned_objects")), object.stack, object.env,
               std::string(Name(object.kind)), object.uid, object.content_hash, now,
               object.remote_version, object.remote_id);
        return {};
      });
}

Result<void> PostgresStore::DeleteProvisionedObject(const std::string& stack,
                                                    const std::string& env,
                                                    ObjectKind kind,
                                                    const std::string& uid) {
  const std::string what = std::string(Name(kind)) + " " + uid + " of " + stack + "/" + env;
  return pool_->Write<void>("forget provisioned " + what, [&](PgConnection& c) -> Result<void> {
    if (c.Exec("DELETE FROM provisioned_objects WHERE stack = $1 AND env = $2 AND kind = $3 "
               "AND uid = $4",
               stack, env, std::string(Name(kind)), uid)
            .affected() == 0) {
      return MakeError(ErrorCode::kNotFound, "provisioned " + what + " not found");
    }
    return {};
  });
}

Result<std::vector<ProvisionedObject>> PostgresStore::ListProvisionedObjects(
    const std::string& stack, const std::string& env, std::optional<ObjectKind> kind) {
  return pool_->Read<std::vector<ProvisionedObject>>(
      "list provisioned objects of " + stack + "/" + env, false, [&](PgConnection& c) {
        std::string sql = "SELECT " + Columns("provisioned_objects") +
                          " FROM provisioned_objects WHERE stack = $1 AND env = $2";
        std::vector<PgParam> params{ToParam(stack), ToParam(env)};
        if (kind) {
          params.push_back(ToParam(Name(*kind)));
          sql += " AND kind = $3";
        }
        return Result<std::vector<ProvisionedObject>>(AllRows(
            c.ExecParams(sql + " ORDER BY kind, uid", params), ProvisionedObjectFromRow<PgRow>));
      });
}

// ---- gitops ----

Result<GitState> PostgresStore::GetGitState(const std::string& source_key) {
  return pool_->Read<GitState>(
      "get git state of " + source_key, false, [&](PgConnection& c) -> Result<GitState> {
        const PgResult r = c.Exec(
            "SELECT " + Columns("git_state") + " FROM git_state WHERE source_key = $1", source_key);
        if (r.rows() == 0) {
          return MakeError(ErrorCode::kNotFound, "git source " + source_key + " has no state");
        }
        return GitStateFromRow(PgRow(r, 0));
      });
}

Result<GitState> PostgresStore::PutGitState(const GitState& state) {
  GitState stored = state;
  stored.updated_at = Now();
  return pool_->Write<GitState>("put git state of " + state.source_key, [&](PgConnection& c) {
    c.Exec(PgUpsert(StoredTable("git_state")), stored.source_key, stored.last_seen_sha,
           stored.last_applied_sha, stored.updated_at);
    return Result<GitState>(stored);
  });
}

Result<void> PostgresStore::RecordWebhookDelivery(const std::string& delivery_id) {
  const TimeMs now = Now();
  return pool_->Write<void>(
      "record webhook delivery " + delivery_id, [&](PgConnection& c) -> Result<void> {
        // One statement decides "first time", even for two replicas receiving it at once.
        if (c.Exec("INSERT INTO webhook_deliveries (id, received_at) VALUES ($1, $2) "
                   "ON CONFLICT (id) DO NOTHING",
                   delivery_id, now)
                .affected() == 0) {
          return MakeError(ErrorCode::kConflict,
                           "webhook delivery " + delivery_id + " was already received");
        }
        return {};
      });
}

Result<std::int64_t> PostgresStore::PruneWebhookDeliveries(TimeMs before) {
  return pool_->Write<std::int64_t>("prune webhook deliveries", [&](PgConnection& c) {
    return Result<std::int64_t>(
        c.Exec("DELETE FROM webhook_deliveries WHERE received_at < $1", before).affected());
  });
}

}  // namespace obsforge::store
