#pragma once

#include <memory>
#include <string>

#include "control/backend.h"
#include "control/health_store_adapters.h"
#include "control/health_watcher.h"
#include "control/monitored_backend.h"
#include "core/clock.h"
#include "core/log.h"
#include "gitops/sync.h"
#include "health/monitor.h"
#include "http/http_client.h"
#include "notify/notifier.h"
#include "server/server.h"
#include "store/store.h"

namespace obsforge::server {

/// Options of a HealthRuntime (an aggregate).
struct HealthRuntimeOptions {
  notify::NotifierOptions notifier;
  health::MonitorOptions monitor;
  HealthDefaults defaults;
};

/// Continuous health and Slack reporting for `obsforge serve`, assembled in one place: a
/// store-backed outbox and Notifier, a HealthMonitor writing its transitions to the store's
/// health history, a HealthWatcher, and a MonitoredBackend around the real backend. Attach()
/// adds the health endpoints, the status page and the check metrics to a Server.
///
/// Lifecycle: construct → Attach(server) → Start() → server.Start() → WatchStored() … then
/// server.Stop() → Stop(). Never throws except std::bad_alloc and what Prober's constructor
/// throws (curl multi handle).
class HealthRuntime {
 public:
  /// Everything passed must outlive the runtime. `backend` is the real one; serve backend().
  HealthRuntime(HealthRuntimeOptions options,
                store::Store& store,
                EnvironmentBackend& backend,
                http::HttpClient& http,
                core::Clock& clock,
                core::Logger& logger,
                UrlsFunction urls);
  ~HealthRuntime();
  HealthRuntime(const HealthRuntime&) = delete;
  HealthRuntime& operator=(const HealthRuntime&) = delete;

  /// The backend to give the Server: the real one, watched.
  EnvironmentBackend& backend() { return *monitored_; }
  /// The monitor (current health, metrics).
  health::HealthMonitor& monitor() { return *monitor_; }
  /// The watcher (what the backend calls after applies and teardowns).
  HealthWatcher& watcher() { return *watcher_; }
  /// The Slack notifier over the store's outbox.
  notify::Notifier& notifier() { return *notifier_; }

  /// Registers the health routes and the status page on `server` and adds the monitor's
  /// metrics to its /metrics. Call before server.Start().
  void Attach(Server& server, const std::string& version);
  /// Starts probing.
  void Start();
  /// Watches the external environments stored (see HealthWatcher::WatchStored); logs errors.
  void WatchStored();
  /// Announces a broken gitops commit on the Slack webhooks of the stacks the source manages
  /// (HealthWatcher::ReportBrokenCommit), with its findings; `operation_id` is the sync
  /// operation. Store errors are logged. Thread-safe.
  void ReportBrokenCommit(const std::string& source_key,
                          const gitops::SyncReport& report,
                          const std::string& operation_id);
  /// Stops probing and the Slack senders; undelivered messages stay in the store. Idempotent.
  void Stop();

 private:
  store::Store& store_;
  EnvironmentBackend& inner_;
  core::Clock& clock_;
  core::Logger& logger_;
  StoreOutbox outbox_;
  StoreTransitionSink sink_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<health::HealthMonitor> monitor_;
  std::unique_ptr<HealthWatcher> watcher_;
  std::unique_ptr<MonitoredBackend> monitored_;
};

}  // namespace obsforge::server
