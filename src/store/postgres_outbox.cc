#include <utility>

#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include "store/rows.h"
#include "store/rules.h"

namespace obsforge::store {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

Result<OutboxMessage> SelectMessage(PgConnection& c, std::int64_t id, const char* lock = "") {
  const PgResult r =
      c.Exec("SELECT " + Columns("outbox") + " FROM outbox WHERE id = $1" + lock, id);
  if (r.rows() == 0) {
    return MakeError(ErrorCode::kNotFound, "outbox message " + std::to_string(id) + " not found");
  }
  return OutboxFromRow(PgRow(r, 0));
}

// Runs `update` (with $1 = id) on message `id` if it is still pending, its row locked so that
// two marks of one message cannot both pass the check.
template <class... Args>
Result<void> MarkPending(PgConnection& c,
                         std::int64_t id,
                         const std::string& update,
                         const Args&... args) {
  Result<OutboxMessage> m = SelectMessage(c, id, " FOR UPDATE");
  if (!m) {
    return m.error();
  }
  if (Result<void> pending = CheckOutboxPending(*m); !pending) {
    return pending;
  }
  c.Exec(update, id, args...);
  return {};
}

}  // namespace

Result<std::int64_t> PostgresStore::EnqueueOutbox(const std::string& channel_key,
                                                  const std::string& payload_json,
                                                  TimeMs not_before) {
  const TimeMs now = Now();
  return pool_->Write<std::int64_t>("enqueue notification", [&](PgConnection& c) {
    const PgResult r = c.Exec(
        "INSERT INTO outbox (channel_key, payload_json, created_at, next_attempt_at) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        channel_key, payload_json, now, not_before != 0 ? not_before : now);
    return Result<std::int64_t>(r.Int(0, "id"));
  });
}

Result<std::optional<OutboxMessage>> PostgresStore::NextDueOutbox(TimeMs now) {
  return pool_->Read<std::optional<OutboxMessage>>(
      "next due notification", false, [&](PgConnection& c) {
        // Heads of the per-channel queues only: a message waiting on a backoff holds back the
        // messages behind it on the same webhook, so Slack sees them in order.
        const PgResult r = c.Exec("SELECT " + Columns("outbox") +
                                      " FROM outbox AS m WHERE m.delivered_at = 0 AND "
                                      "m.dropped_at = 0 AND m.next_attempt_at <= $1 AND m.id = "
                                      "(SELECT MIN(p.id) FROM outbox AS p WHERE p.channel_key = "
                                      "m.channel_key AND p.delivered_at = 0 AND p.dropped_at = 0) "
                                      "ORDER BY m.next_attempt_at, m.id LIMIT 1",
                                  now);
        std::optional<OutboxMessage> next;
        if (r.rows() > 0) {
          next = OutboxFromRow(PgRow(r, 0));
        }
        return Result<std::optional<OutboxMessage>>(std::move(next));
      });
}

Result<void> PostgresStore::MarkOutboxDelivered(std::int64_t id) {
  const TimeMs now = Now();
  return pool_->Write<void>("mark notification delivered", [&](PgConnection& c) {
    return MarkPending(
        c, id, "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1 WHERE id = $1", now);
  });
}

Result<void> PostgresStore::MarkOutboxAttempt(std::int64_t id,
                                              TimeMs next_attempt_at,
                                              const std::string& error) {
  return pool_->Write<void>("mark notification attempt", [&](PgConnection& c) {
    return MarkPending(c, id,
                       "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, "
                       "last_error = $3 WHERE id = $1",
                       next_attempt_at, error);
  });
}

Result<void> PostgresStore::MarkOutboxDropped(std::int64_t id, const std::string& reason) {
  const TimeMs now = Now();
  return pool_->Write<void>("mark notification dropped", [&](PgConnection& c) {
    return MarkPending(c, id,
                       "UPDATE outbox SET dropped_at = $2, dropped_reason = $3, "
                       "attempts = attempts + 1 WHERE id = $1",
                       now, reason);
  });
}

Result<std::vector<OutboxMessage>> PostgresStore::ListPendingOutbox(int limit) {
  return pool_->Read<std::vector<OutboxMessage>>(
      "list pending notifications", false, [&](PgConnection& c) {
        const PgResult r = c.Exec("SELECT " + Columns("outbox") +
                                      " FROM outbox WHERE delivered_at = 0 AND dropped_at = 0 "
                                      "ORDER BY id LIMIT $1",
                                  PgLimit(limit));
        return Result<std::vector<OutboxMessage>>(AllRows(r, OutboxFromRow<PgRow>));
      });
}

Result<OutboxMessage> PostgresStore::GetOutbox(std::int64_t id) {
  return pool_->Read<OutboxMessage>("get notification", false,
                                    [&](PgConnection& c) { return SelectMessage(c, id); });
}

Result<std::int64_t> PostgresStore::PruneOutbox(TimeMs before) {
  return pool_->Write<std::int64_t>("prune notifications", [&](PgConnection& c) {
    return Result<std::int64_t>(
        c.Exec("DELETE FROM outbox WHERE (delivered_at != 0 AND delivered_at < $1) OR "
               "(dropped_at != 0 AND dropped_at < $1)",
               before)
            .affected());
  });
}

}  // namespace obsforge::store
