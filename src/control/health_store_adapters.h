#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "health/monitor.h"
#include "notify/outbox.h"
#include "store/store.h"

namespace obsforge::control {

/// Health history in the store: every transition the HealthMonitor reports becomes one
/// store::HealthEvent (an environment transition has empty component and check; a component
/// transition an empty check). A store failure is logged and the transition dropped (health
/// keeps running). Thread-safe as the store is. Never throws except std::bad_alloc.
class StoreTransitionSink final : public health::TransitionSink {
 public:
  /// `store` and `logger` must outlive the sink.
  StoreTransitionSink(store::HealthStore& store, core::Logger& logger)
      : store_(store), logger_(logger) {}

  /// Appends each transition in order.
  void OnTransitions(const std::vector<health::Transition>& transitions) override;

 private:
  store::HealthStore& store_;
  core::Logger& logger_;
};

/// The store's OutboxStore as a notify::Outbox, so Slack messages survive a restart: each call
/// maps to one store call, durable when it returns. Thread-safe as the store is.
class StoreOutbox final : public notify::Outbox {
 public:
  /// `store` must outlive the adapter. With `may_send`, NextDue finds nothing while it returns
  /// false (among several processes, only the leader sends).
  explicit StoreOutbox(store::OutboxStore& store, std::function<bool()> may_send = {})
      : store_(store), may_send_(std::move(may_send)) {}

  /// EnqueueOutbox.
  core::Result<std::int64_t> Enqueue(const std::string& channel_key,
                                     const std::string& payload_json,
                                     notify::TimeMs not_before) override;
  /// The oldest pending message of `channel_key` (from ListPendingOutbox), when due and
  /// `may_send` allows.
  core::Result<std::optional<notify::OutboxEntry>> NextDue(const std::string& channel_key,
                                                           notify::TimeMs now) override;
  /// MarkOutboxDelivered.
  core::Result<void> MarkDelivered(std::int64_t id) override;
  /// MarkOutboxAttempt.
  core::Result<void> MarkAttempt(std::int64_t id,
                                 notify::TimeMs next_attempt_at,
                                 const std::string& error) override;
  /// MarkOutboxDropped.
  core::Result<void> MarkDropped(std::int64_t id, const std::string& reason) override;

 private:
  store::OutboxStore& store_;
  std::function<bool()> may_send_;
};

/// The store form of `transition`.
store::HealthEvent ToHealthEvent(const health::Transition& transition);

}  // namespace obsforge::control
