#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "control/backend.h"
#include "control/health_watcher.h"
#include "control/monitored_backend.h"
#include "core/error.h"
#include "core/log.h"
#include "gitops/sync.h"
#include "health/monitor.h"
#include "notify/notifier.h"
#include "store/store.h"

namespace obsforge::control {

/// Continuous health and Slack reporting of the application, over parts wired by the caller (in
/// obsforge, app::HealthWiring): the HealthMonitor probing every watched environment, the
/// Notifier sending Slack messages from its outbox, and the HealthWatcher keeping both in step
/// with what is applied. Adds the watched backend (MonitoredBackend around the real one) that
/// the application's operations go through, and answers the health queries.
///
/// Lifecycle: Start() → WatchStored() … → Stop() (the Application does this). Thread-safe.
/// Never throws except std::bad_alloc.
class HealthRuntime {
 public:
  /// Everything passed must outlive the runtime. `backend` is the real one.
  HealthRuntime(store::Store& store,
                EnvironmentBackend& backend,
                health::HealthMonitor& monitor,
                notify::Notifier& notifier,
                HealthWatcher& watcher,
                core::Logger& logger);
  ~HealthRuntime();
  HealthRuntime(const HealthRuntime&) = delete;
  HealthRuntime& operator=(const HealthRuntime&) = delete;

  /// The backend operations must use: the real one, watched (see MonitoredBackend).
  EnvironmentBackend& backend() { return monitored_; }
  /// The monitor (current health, metrics).
  health::HealthMonitor& monitor() { return monitor_; }
  /// The watcher (what the backend calls after applies and teardowns).
  HealthWatcher& watcher() { return watcher_; }
  /// The Slack notifier.
  notify::Notifier& notifier() { return notifier_; }

  /// Starts probing.
  void Start();
  /// Watches the external environments stored (see HealthWatcher::WatchStored); logs errors.
  void WatchStored();
  /// Announces a broken gitops commit on the Slack webhooks of the stacks the source manages
  /// (HealthWatcher::ReportBrokenCommit), with its findings; `operation_id` is the sync
  /// operation. Store errors are logged.
  void ReportBrokenCommit(const std::string& source_key,
                          const gitops::SyncReport& report,
                          const std::string& operation_id);
  /// Stops probing and the Slack senders; undelivered messages stay in the outbox. Idempotent.
  void Stop();

  /// The current health of `env` of `stack`; nullopt when it is not watched, or this process
  /// does not probe (not started, or stopped: not the leader). kNotFound when
  /// the stack does not exist or its spec has no such environment; store errors as returned.
  core::Result<std::optional<health::EnvironmentStatus>> Current(const std::string& stack,
                                                                 const std::string& env);
  /// The health of `env` as the store last recorded it, for a process that does not probe it
  /// (a replica that does not lead, or an environment not watched here): for the environment,
  /// each component and each check, the state its newest recorded change (among the newest
  /// kRecordedScan) entered, and since when; unknown where none is recorded. The leader records
  /// every change, so this is its live state up to the time of its last change. nullopt when
  /// nothing was recorded. Errors as Current().
  core::Result<std::optional<health::EnvironmentStatus>> Recorded(const std::string& stack,
                                                                  const std::string& env);
  /// How many of the newest recorded changes Recorded() reads.
  static constexpr int kRecordedScan = 1000;
  /// The stored state changes `query` selects (its stack and env must exist, as for
  /// Current()), newest first.
  core::Result<std::vector<store::HealthEvent>> History(const store::HealthEventQuery& query);

 private:
  // kNotFound unless `stack` is stored and its spec has `env`.
  core::Result<void> CheckEnvironment(const std::string& stack, const std::string& env);

  std::atomic<bool> probing_{false};  // between Start() and Stop()
  store::Store& store_;
  health::HealthMonitor& monitor_;
  notify::Notifier& notifier_;
  HealthWatcher& watcher_;
  core::Logger& logger_;
  MonitoredBackend monitored_;
};

}  // namespace obsforge::control
