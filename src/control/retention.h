#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

namespace obsforge::control {

/// How long the store keeps what only matters for a while (an aggregate).
struct RetentionOptions {
  /// Health transitions (GET …/health/history).
  std::chrono::hours health_events{24 * 30};
  /// Slack messages once delivered or dropped (pending ones are never pruned).
  std::chrono::hours outbox{24 * 7};
  /// Webhook delivery ids: git hosts redeliver within hours, never after days.
  std::chrono::hours webhook_deliveries{24 * 7};
  /// How often the pruning runs; the first run is at Start().
  std::chrono::milliseconds interval{std::chrono::hours(1)};
};

/// What one pass deleted.
struct Pruned {
  std::int64_t health_events = 0;
  std::int64_t outbox = 0;
  std::int64_t webhook_deliveries = 0;
};

/// Keeps the store from growing without bound: deletes health history, finished Slack messages
/// and webhook delivery ids older than their retention, on a background thread. "Now" comes from
/// the injected clock. Thread-safe. Never throws except std::bad_alloc and std::system_error
/// from starting the thread.
class Retention {
 public:
  /// `store`, `clock` and `logger` must outlive the object.
  Retention(RetentionOptions options,
            store::Store& store,
            core::Clock& clock,
            core::Logger& logger);
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  /// One pass over the three tables. The first store error is returned; the tables after it are
  /// still pruned.
  core::Result<Pruned> RunOnce();
  /// Runs RunOnce() now and every `interval` on a thread until Stop(). Errors are logged.
  void Start();
  /// Stops and joins the thread. Idempotent.
  void Stop();

 private:
  void Loop();

  RetentionOptions options_;
  store::Store& store_;
  core::Clock& clock_;
  core::Logger& logger_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace obsforge::control
