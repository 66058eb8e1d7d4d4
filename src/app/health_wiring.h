#pragma once

#include <vector>

#include "control/backend.h"
#include "control/health_runtime.h"
#include "control/health_store_adapters.h"
#include "control/health_watcher.h"
#include "core/clock.h"
#include "core/log.h"
#include "health/monitor.h"
#include "http/http_client.h"
#include "notify/notifier.h"
#include "store/store.h"

namespace obsforge::app {

/// Options of the health parts (an aggregate).
struct HealthOptions {
  notify::NotifierOptions notifier;
  health::MonitorOptions monitor;
  control::HealthDefaults defaults;
  /// Whether the Slack senders may send now (among several processes: only on the leader).
  /// Empty: always.
  std::function<bool()> may_send;
};

/// The concrete health parts `serve` and `up` share, wired once: the store's outbox under a
/// Slack Notifier, a HealthMonitor whose transitions go to the store's health history (and to
/// `also`, when given: the terminal of `up`), a HealthWatcher, and the control::HealthRuntime
/// over them that the application is given. Never throws except std::bad_alloc and what the
/// Prober's constructor throws (curl multi handle).
class HealthWiring {
 public:
  /// Everything passed must outlive the wiring. `backend` is the real one; `urls` gives the
  /// components' base URLs of an environment (EnvironmentController::Urls); `also` may be null.
  HealthWiring(HealthOptions options,
               store::Store& store,
               control::EnvironmentBackend& backend,
               http::HttpClient& http,
               core::Clock& clock,
               core::Logger& logger,
               control::UrlsFunction urls,
               health::TransitionSink* also = nullptr);
  HealthWiring(const HealthWiring&) = delete;
  HealthWiring& operator=(const HealthWiring&) = delete;
  ~HealthWiring() = default;

  /// What the application is given.
  control::HealthRuntime& runtime() { return runtime_; }

 private:
  // Hands every transition to each sink in turn.
  class Sinks final : public health::TransitionSink {
   public:
    explicit Sinks(std::vector<health::TransitionSink*> sinks) : sinks_(std::move(sinks)) {}
    void OnTransitions(const std::vector<health::Transition>& transitions) override;

   private:
    std::vector<health::TransitionSink*> sinks_;
  };

  control::StoreOutbox outbox_;
  control::StoreTransitionSink history_;
  Sinks sinks_;
  notify::Notifier notifier_;
  health::HealthMonitor monitor_;
  control::HealthWatcher watcher_;
  control::HealthRuntime runtime_;
};

}  // namespace obsforge::app
