#include "control/retention.h"

#include <optional>
#include <string>
#include <utility>

namespace obsforge::control {

Retention::Retention(RetentionOptions options,
                     store::Store& store,
                     core::Clock& clock,
                     core::Logger& logger)
    : options_(std::move(options)), store_(store), clock_(clock), logger_(logger) {
}

Retention::~Retention() {
  Stop();
}

core::Result<Pruned> Retention::RunOnce() {
  const auto now = clock_.Now();
  const auto before = [&](std::chrono::hours keep) { return store::ToTimeMs(now - keep); };
  Pruned pruned;
  std::optional<core::Error> first;
  // Each table on its own: a failure in one must not keep the others growing.
  const auto take = [&](core::Result<std::int64_t> result, std::int64_t& count) {
    if (result.ok()) {
      count = *result;
    } else if (!first) {
      first = result.error();
    }
  };
  take(store_.PruneHealthEvents(before(options_.health_events)), pruned.health_events);
  take(store_.PruneOutbox(before(options_.outbox)), pruned.outbox);
  take(store_.PruneWebhookDeliveries(before(options_.webhook_deliveries)),
       pruned.webhook_deliveries);
  if (first) {
    return *first;
  }
  return pruned;
}

void Retention::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Retention::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    thread = std::move(thread_);  // taken under the lock: two Stop()s never join one thread
  }
  wake_.notify_all();
  if (thread.joinable()) {
    thread.join();
  }
}

void Retention::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto pruned = RunOnce();
    if (!pruned.ok()) {
      logger_.Error("retention: pruning the store failed", {{"error", pruned.error().message}});
    } else if (pruned->health_events + pruned->outbox + pruned->webhook_deliveries > 0) {
      logger_.Info("retention: pruned the store",
                   {{"health_events", std::to_string(pruned->health_events)},
                    {"outbox", std::to_string(pruned->outbox)},
                    {"webhook_deliveries", std::to_string(pruned->webhook_deliveries)}});
    }
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

}  // namespace obsforge::control
