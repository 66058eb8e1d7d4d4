#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace obsforge::notify {

/// Milliseconds since the Unix epoch.
using TimeMs = std::int64_t;

/// A message waiting in (or finished in) an outbox.
struct OutboxEntry {
  std::int64_t id = 0;
  /// Which webhook: a secret REFERENCE such as `{secret: SLACK_HEALTH_WEBHOOK}`, never a URL.
  std::string channel_key;
  std::string payload_json;
  int attempts = 0;
  TimeMs next_attempt_at = 0;
  bool delivered = false;
  bool dropped = false;
  std::string dropped_reason;
  std::string last_error;
};

/// A durable queue of outgoing messages, in order per channel. The Notifier's sender for a
/// channel does: m = NextDue(channel, now); send m; then exactly one of MarkDelivered,
/// MarkAttempt or MarkDropped before the next NextDue. Implementations make each call durable
/// before returning, so a restart neither loses an enqueued message nor resends a delivered one.
/// Thread-safe. (The store's OutboxStore satisfies this through a small adapter.)
class Outbox {
 public:
  virtual ~Outbox() = default;
  /// Appends a message for `channel_key`, due at `not_before`; returns its id.
  virtual core::Result<std::int64_t> Enqueue(const std::string& channel_key,
                                             const std::string& payload_json,
                                             TimeMs not_before) = 0;
  /// The oldest pending (neither delivered nor dropped) message of `channel_key` when it is due
  /// (next_attempt_at <= now); nullopt when there is none or it is not due yet (a later message
  /// is never returned while an earlier one is pending).
  virtual core::Result<std::optional<OutboxEntry>> NextDue(const std::string& channel_key,
                                                           TimeMs now) = 0;
  /// Marks `id` delivered. kNotFound when absent; kPrecondition when already finished.
  virtual core::Result<void> MarkDelivered(std::int64_t id) = 0;
  /// Records a failed attempt: attempts + 1, `error` kept, retried at `next_attempt_at`.
  virtual core::Result<void> MarkAttempt(std::int64_t id,
                                         TimeMs next_attempt_at,
                                         const std::string& error) = 0;
  /// Gives up on `id` with `reason`.
  virtual core::Result<void> MarkDropped(std::int64_t id, const std::string& reason) = 0;
};

/// An Outbox in memory (tests, the CLI's `up`): durable only for the object's lifetime.
class InMemoryOutbox final : public Outbox {
 public:
  core::Result<std::int64_t> Enqueue(const std::string& channel_key,
                                     const std::string& payload_json,
                                     TimeMs not_before) override;
  core::Result<std::optional<OutboxEntry>> NextDue(const std::string& channel_key,
                                                   TimeMs now) override;
  core::Result<void> MarkDelivered(std::int64_t id) override;
  core::Result<void> MarkAttempt(std::int64_t id,
                                 TimeMs next_attempt_at,
                                 const std::string& error) override;
  core::Result<void> MarkDropped(std::int64_t id, const std::string& reason) override;

  /// Every message, in id order, in whatever state.
  std::vector<OutboxEntry> All() const;

 private:
  core::Result<OutboxEntry*> PendingLocked(std::int64_t id);

  mutable std::mutex mu_;
  std::vector<OutboxEntry> entries_;
};

}  // namespace obsforge::notify
