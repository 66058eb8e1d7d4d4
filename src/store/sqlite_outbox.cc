#include <utility>

#include "store/rows.h"
#include "store/rules.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;
using Poco::Data::Session;

Result<OutboxMessage> SelectMessage(Session& s, std::int64_t id) {
  auto rs = SqliteDb::Query(s, "SELECT " + Columns("outbox") + " FROM outbox WHERE id = ?", id);
  if (!rs.moveFirst()) {
    return MakeError(ErrorCode::kNotFound, "outbox message " + std::to_string(id) + " not found");
  }
  return OutboxFromRow(SqliteRow(rs));
}

// The message must exist and still be pending for any mark to apply.
Result<OutboxMessage> SelectPending(Session& s, std::int64_t id) {
  Result<OutboxMessage> m = SelectMessage(s, id);
  if (!m) {
    return m;
  }
  if (Result<void> pending = CheckOutboxPending(*m); !pending) {
    return pending.error();
  }
  return m;
}

// By reference: moving or copying a Poco 1.11 RecordSet frees its columns twice.
std::vector<OutboxMessage> MessagesFrom(Poco::Data::RecordSet& rs) {
  std::vector<OutboxMessage> messages;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    messages.push_back(OutboxFromRow(SqliteRow(rs)));
  }
  return messages;
}

}  // namespace

Result<std::int64_t> SqliteStore::EnqueueOutbox(const std::string& channel_key,
                                                const std::string& payload_json,
                                                TimeMs not_before) {
  const TimeMs now = Now();
  return db_->Write<std::int64_t>("enqueue notification", [&](Session& s) {
    SqliteDb::Exec(s,
                   "INSERT INTO outbox (channel_key, payload_json, created_at, next_attempt_at) "
                   "VALUES (?, ?, ?, ?)",
                   channel_key, payload_json, now, not_before != 0 ? not_before : now);
    auto rs = SqliteDb::Query(s, "SELECT last_insert_rowid() AS id");
    rs.moveFirst();
    return Result<std::int64_t>(Int(rs, "id"));
  });
}

Result<std::optional<OutboxMessage>> SqliteStore::NextDueOutbox(TimeMs now) {
  return db_->Read<std::optional<OutboxMessage>>("next due notification", false, [&](Session& s) {
    // Heads of the per-channel queues only: a message waiting on a backoff holds back the
    // messages behind it on the same webhook, so Slack sees them in order.
    auto rs = SqliteDb::Query(s,
                              "SELECT " + Columns("outbox") +
                                  " FROM outbox AS m WHERE m.delivered_at = 0 AND "
                                  "m.dropped_at = 0 AND m.next_attempt_at <= ? AND m.id = "
                                  "(SELECT MIN(p.id) FROM outbox AS p WHERE p.channel_key = "
                                  "m.channel_key AND p.delivered_at = 0 AND p.dropped_at = 0) "
                                  "ORDER BY m.next_attempt_at, m.id LIMIT 1",
                              now);
    std::optional<OutboxMessage> next;
    if (rs.moveFirst()) {
      next = OutboxFromRow(SqliteRow(rs));
    }
    return Result<std::optional<OutboxMessage>>(std::move(next));
  });
}

Result<void> SqliteStore::MarkOutboxDelivered(std::int64_t id) {
  const TimeMs now = Now();
  return db_->Write<void>("mark notification delivered", [&](Session& s) -> Result<void> {
    if (Result<OutboxMessage> m = SelectPending(s, id); !m) {
      return m.error();
    }
    SqliteDb::Exec(s, "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
                   now, id);
    return {};
  });
}

Result<void> SqliteStore::MarkOutboxAttempt(std::int64_t id,
                                            TimeMs next_attempt_at,
                                            const std::string& error) {
  return db_->Write<void>("mark notification attempt", [&](Session& s) -> Result<void> {
    if (Result<OutboxMessage> m = SelectPending(s, id); !m) {
      return m.error();
    }
    SqliteDb::Exec(s,
                   "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                   "last_error = ? WHERE id = ?",
                   next_attempt_at, error, id);
    return {};
  });
}

Result<void> SqliteStore::MarkOutboxDropped(std::int64_t id, const std::string& reason) {
  const TimeMs now = Now();
  return db_->Write<void>("mark notification dropped", [&](Session& s) -> Result<void> {
    if (Result<OutboxMessage> m = SelectPending(s, id); !m) {
      return m.error();
    }
    SqliteDb::Exec(s,
                   "UPDATE outbox SET dropped_at = ?, dropped_reason = ?, attempts = attempts + 1 "
                   "WHERE id = ?",
                   now, reason, id);
    return {};
  });
}

Result<std::vector<OutboxMessage>> SqliteStore::ListPendingOutbox(int limit) {
  return db_->Read<std::vector<OutboxMessage>>(
      "list pending notifications", false, [&](Session& s) {
        auto rs = SqliteDb::Query(s,
                                  "SELECT " + Columns("outbox") +
                                      " FROM outbox WHERE delivered_at = 0 "
                                      "AND dropped_at = 0 ORDER BY id LIMIT ?",
                                  limit > 0 ? std::int64_t{limit} : std::int64_t{-1});
        return Result<std::vector<OutboxMessage>>(MessagesFrom(rs));
      });
}

Result<OutboxMessage> SqliteStore::GetOutbox(std::int64_t id) {
  return db_->Read<OutboxMessage>("get notification", false,
                                  [&](Session& s) { return SelectMessage(s, id); });
}

Result<std::int64_t> SqliteStore::PruneOutbox(TimeMs before) {
  return db_->Write<std::int64_t>("prune notifications", [&](Session& s) {
    return Result<std::int64_t>(static_cast<std::int64_t>(
        SqliteDb::Exec(s,
                       "DELETE FROM outbox WHERE (delivered_at != 0 AND delivered_at < ?) OR "
                       "(dropped_at != 0 AND dropped_at < ?)",
                       before, before)));
  });
}

}  // namespace obsforge::store
