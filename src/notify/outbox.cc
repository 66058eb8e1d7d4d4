#include "notify/outbox.h"

namespace obsforge::notify {

using core::ErrorCode;
using core::MakeError;

core::Result<std::int64_t> InMemoryOutbox::Enqueue(const std::string& channel_key,
                                                   const std::string& payload_json,
                                                   TimeMs not_before) {
  std::lock_guard lock(mu_);
  OutboxEntry entry{.id = static_cast<std::int64_t>(entries_.size()) + 1,
                    .channel_key = channel_key,
                    .payload_json = payload_json,
                    .next_attempt_at = not_before};
  entries_.push_back(std::move(entry));
  return entries_.back().id;
}

core::Result<std::optional<OutboxEntry>> InMemoryOutbox::NextDue(const std::string& channel_key,
                                                                 TimeMs now) {
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    if (entry.channel_key != channel_key || entry.delivered || entry.dropped) {
      continue;
    }
    if (entry.next_attempt_at > now) {
      return std::optional<OutboxEntry>();
    }
    return std::optional<OutboxEntry>(entry);
  }
  return std::optional<OutboxEntry>();
}

core::Result<OutboxEntry*> InMemoryOutbox::PendingLocked(std::int64_t id) {
  if (id < 1 || id > static_cast<std::int64_t>(entries_.size())) {
    return MakeError(ErrorCode::kNotFound, "outbox message " + std::to_string(id) + " not found");
  }
  OutboxEntry& entry = entries_[static_cast<std::size_t>(id - 1)];
  if (entry.delivered || entry.dropped) {
    return MakeError(ErrorCode::kPrecondition,
                     "outbox message " + std::to_string(id) + " is already finished");
  }
  return &entry;
}

core::Result<void> InMemoryOutbox::MarkDelivered(std::int64_t id) {
  std::lock_guard lock(mu_);
  auto entry = PendingLocked(id);
  if (!entry) {
    return entry.error();
  }
  (*entry)->delivered = true;
  return {};
}

core::Result<void> InMemoryOutbox::MarkAttempt(std::int64_t id,
                                               TimeMs next_attempt_at,
                                               const std::string& error) {
  std::lock_guard lock(mu_);
  auto entry = PendingLocked(id);
  if (!entry) {
    return entry.error();
  }
  ++(*entry)->attempts;
  (*entry)->next_attempt_at = next_attempt_at;
  (*entry)->last_error = error;
  return {};
}

core::Result<void> InMemoryOutbox::MarkDropped(std::int64_t id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto entry = PendingLocked(id);
  if (!entry) {
    return entry.error();
  }
  (*entry)->dropped = true;
  (*entry)->dropped_reason = reason;
  return {};
}

std::vector<OutboxEntry> InMemoryOutbox::All() const {
  std::lock_guard lock(mu_);
  return entries_;
}

}  // namespace obsforge::notify
