#include "control/health_store_adapters.h"

#include <chrono>

#include "core/clock.h"

namespace obsforge::control {

store::HealthEvent ToHealthEvent(const health::Transition& transition) {
  return store::HealthEvent{
      .stack = transition.stack,
      .env = transition.env,
      .component = transition.component,
      .check = transition.check,
      .from_state = health::StateName(transition.from),
      .to_state = health::StateName(transition.to),
      .at = std::chrono::duration_cast<std::chrono::milliseconds>(transition.at.time_since_epoch())
                .count(),
      .message = transition.message,
  };
}

void StoreTransitionSink::OnTransitions(const std::vector<health::Transition>& transitions) {
  for (const auto& transition : transitions) {
    auto appended = store_.AppendHealthEvent(ToHealthEvent(transition));
    if (!appended.ok()) {
      logger_.Error("could not store a health transition", {{"stack", transition.stack},
                                                            {"env", transition.env},
                                                            {"error", appended.error().message}});
    }
  }
}

core::Result<std::int64_t> StoreOutbox::Enqueue(const std::string& channel_key,
                                                const std::string& payload_json,
                                                notify::TimeMs not_before) {
  return store_.EnqueueOutbox(channel_key, payload_json, not_before);
}

core::Result<std::optional<notify::OutboxEntry>> StoreOutbox::NextDue(
    const std::string& channel_key, notify::TimeMs now) {
  if (may_send_ && !may_send_()) {
    return std::optional<notify::OutboxEntry>();
  }
  // The store picks across channels; a sender needs its own channel's head, which is the
  // first pending message of that channel in id order.
  auto pending = store_.ListPendingOutbox(0);
  if (!pending.ok()) {
    return pending.error();
  }
  for (const auto& m : *pending) {
    if (m.channel_key != channel_key) {
      continue;
    }
    if (m.next_attempt_at > now) {
      return std::optional<notify::OutboxEntry>();
    }
    return std::optional<notify::OutboxEntry>(notify::OutboxEntry{
        .id = m.id,
        .channel_key = m.channel_key,
        .payload_json = m.payload_json,
        .attempts = m.attempts,
        .next_attempt_at = m.next_attempt_at,
        .last_error = m.last_error,
    });
  }
  return std::optional<notify::OutboxEntry>();
}

core::Result<void> StoreOutbox::MarkDelivered(std::int64_t id) {
  return store_.MarkOutboxDelivered(id);
}

core::Result<void> StoreOutbox::MarkAttempt(std::int64_t id,
                                            notify::TimeMs next_attempt_at,
                                            const std::string& error) {
  return store_.MarkOutboxAttempt(id, next_attempt_at, error);
}

core::Result<void> StoreOutbox::MarkDropped(std::int64_t id, const std::string& reason) {
  return store_.MarkOutboxDropped(id, reason);
}

}  // namespace obsforge::control
