// Health history, provisioned-object records and gitops bookkeeping: small append/upsert tables.

#include <utility>

#include "store/rows.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;
using Poco::Data::Session;

std::int64_t SqlLimit(int limit) {
  return limit > 0 ? std::int64_t{limit} : std::int64_t{-1};
}

Result<std::int64_t> LastInsertId(Session& s) {
  auto rs = SqliteDb::Query(s, "SELECT last_insert_rowid() AS id");
  rs.moveFirst();
  return Int(rs, "id");
}

}  // namespace

// ---- health events ----

Result<std::int64_t> SqliteStore::AppendHealthEvent(const HealthEvent& event) {
  const TimeMs at = event.at != 0 ? event.at : Now();
  return db_->Write<std::int64_t>("append health event", [&](Session& s) {
    SqliteDb::Exec(s,
                   "INSERT INTO health_events (stack, env, component, check_name, from_state, "
                   "to_state, at, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   event.stack, event.env, event.component, event.check, event.from_state,
                   event.to_state, at, event.message);
    return LastInsertId(s);
  });
}

Result<std::vector<HealthEvent>> SqliteStore::ListHealthEvents(const HealthEventQuery& query) {
  return db_->Read<std::vector<HealthEvent>>("list health events", false, [&](Session& s) {
    // Only the filters in use go into the SQL, so that the (stack, env, at) index serves them.
    Poco::Data::Statement st(s);
    std::string sql = "SELECT " + Columns("health_events") + " FROM health_events WHERE stack = ?";
    st.addBind(Poco::Data::Keywords::bind(query.stack));
    if (!query.env.empty()) {
      sql += " AND env = ?";
      st.addBind(Poco::Data::Keywords::bind(query.env));
    }
    sql += " AND at >= ? ORDER BY at DESC, id DESC LIMIT ?";
    st.addBind(Poco::Data::Keywords::bind(query.since));
    st.addBind(Poco::Data::Keywords::bind(SqlLimit(query.limit)));
    st << sql;
    st.execute();
    Poco::Data::RecordSet rs(st);
    std::vector<HealthEvent> events;
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      events.push_back(HealthEventFromRow(SqliteRow(rs)));
    }
    return Result<std::vector<HealthEvent>>(std::move(events));
  });
}

Result<std::int64_t> SqliteStore::PruneHealthEvents(TimeMs before) {
  return db_->Write<std::int64_t>("prune health events", [&](Session& s) {
    return Result<std::int64_t>(static_cast<std::int64_t>(
        SqliteDb::Exec(s, "DELETE FROM health_events WHERE at < ?", before)));
  });
}

// ---- provisioned objects ----

Result<void> SqliteStore::UpsertProvisionedObject(const ProvisionedObject& object) {
  const TimeMs now = Now();
  return db_->Write<void>(
      "record provisioned " + std::string(Name(object.kind)) + " " + object.uid,
      [&](Session& s) -> Result<void> {
        if (SqliteDb::Query(s, "SELECT 1 FROM stacks WHERE name = ?", object.stack).rowCount() ==
            0) {
          return MakeError(ErrorCode::kNotFound, "stack " + object.stack + " not found");
        }
        SqliteDb::Exec(s,
                       "INSERT OR REPLACE INTO provisioned_objects (" +
                           Columns("provisioned_objects") + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       object.stack, object.env, std::string(Name(object.kind)), object.uid,
                       object.content_hash, now, object.remote_version, object.remote_id);
        return {};
      });
}

Result<void> SqliteStore::DeleteProvisionedObject(const std::string& stack,
                                                  const std::string& env,
                                                  ObjectKind kind,
                                                  const std::string& uid) {
  const std::string what = std::string(Name(kind)) + " " + uid + " of " + stack + "/" + env;
  return db_->Write<void>("forget provisioned " + what, [&](Session& s) -> Result<void> {
    if (SqliteDb::Exec(s,
                       "DELETE FROM provisioned_objects WHERE stack = ? AND env = ? AND kind = ? "
                       "AND uid = ?",
                       stack, env, std::string(Name(kind)), uid) == 0) {
      return MakeError(ErrorCode::kNotFound, "provisioned " + what + " not found");
    }
    return {};
  });
}

Result<std::vector<ProvisionedObject>> SqliteStore::ListProvisionedObjects(
    const std::string& stack, const std::string& env, std::optional<ObjectKind> kind) {
  return db_->Read<std::vector<ProvisionedObject>>(
      "list provisioned objects of " + stack + "/" + env, false, [&](Session& s) {
        Poco::Data::Statement st(s);
        std::string sql = "SELECT " + Columns("provisioned_objects") +
                          " FROM provisioned_objects WHERE stack = ? AND env = ?";
        st.addBind(Poco::Data::Keywords::bind(stack));
        st.addBind(Poco::Data::Keywords::bind(env));
        if (kind) {
          sql += " AND kind = ?";
          st.addBind(Poco::Data::Keywords::bind(std::string(Name(*kind))));
        }
        st << sql + " ORDER BY kind, uid";
        st.execute();
        Poco::Data::RecordSet rs(st);
        std::vector<ProvisionedObject> objects;
        for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
          objects.push_back(ProvisionedObjectFromRow(SqliteRow(rs)));
        }
        return Result<std::vector<ProvisionedObject>>(std::move(objects));
      });
}

// ---- gitops ----

Result<GitState> SqliteStore::GetGitState(const std::string& source_key) {
  return db_->Read<GitState>(
      "get git state of " + source_key, false, [&](Session& s) -> Result<GitState> {
        auto rs = SqliteDb::Query(
            s, "SELECT " + Columns("git_state") + " FROM git_state WHERE source_key = ?",
            source_key);
        if (!rs.moveFirst()) {
          return MakeError(ErrorCode::kNotFound, "git source " + source_key + " has no state");
        }
        return GitStateFromRow(SqliteRow(rs));
      });
}

Result<GitState> SqliteStore::PutGitState(const GitState& state) {
  GitState stored = state;
  stored.updated_at = Now();
  return db_->Write<GitState>("put git state of " + state.source_key, [&](Session& s) {
    SqliteDb::Exec(
        s, "INSERT OR REPLACE INTO git_state (" + Columns("git_state") + ") VALUES (?, ?, ?, ?)",
        stored.source_key, stored.last_seen_sha, stored.last_applied_sha, stored.updated_at);
    return Result<GitState>(stored);
  });
}

Result<void> SqliteStore::RecordWebhookDelivery(const std::string& delivery_id) {
  const TimeMs now = Now();
  return db_->Write<void>(
      "record webhook delivery " + delivery_id, [&](Session& s) -> Result<void> {
        // OR IGNORE + changed-row count: one statement decides "first time".
        if (SqliteDb::Exec(s,
                           "INSERT OR IGNORE INTO webhook_deliveries (id, "
                           "received_at) VALUES (?, ?)",
                           delivery_id, now) == 0) {
          return MakeError(ErrorCode::kConflict,
                           "webhook delivery " + delivery_id + " was already received");
        }
        return {};
      });
}

Result<std::int64_t> SqliteStore::PruneWebhookDeliveries(TimeMs before) {
  return db_->Write<std::int64_t>("prune webhook deliveries", [&](Session& s) {
    return Result<std::int64_t>(static_cast<std::int64_t>(
        SqliteDb::Exec(s, "DELETE FROM webhook_deliveries WHERE received_at < ?", before)));
  });
}

}  // namespace obsforge::store
