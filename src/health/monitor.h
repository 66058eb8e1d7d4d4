#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "health/checks.h"
#include "health/prober.h"
#include "health/state.h"
#include "http/address_filter.h"
#include "http/multi_http_client.h"
#include "notify/damper.h"
#include "notify/notifier.h"
#include "notify/slack.h"

namespace obsforge::health {

/// What to watch for one (stack, environment).
struct EnvironmentWatch {
  std::string stack;
  std::string env;
  Endpoints endpoints;
  CheckOptions options;
  /// Spec `health.failure_threshold`.
  int failure_threshold = 3;
  /// Outbox channel of the stack's Slack webhook (its secret reference, e.g.
  /// `{secret: SLACK_HEALTH_WEBHOOK}`); empty: no Slack messages.
  std::string slack_channel_key;
  /// Spec `health.slack.channel` ("#obs-health"): sent as the payload's `channel` when set.
  std::string slack_channel;
  /// Linked from messages when set.
  std::string grafana_url;
  /// Spec `health.notify.flap_window`: this environment's Slack damping window for failures
  /// (0: none); nullopt: MonitorOptions::damping_window.
  std::optional<std::chrono::milliseconds> flap_window;
  /// Spec `health.notify.recovery_after`: a recovery is announced once the environment has been
  /// ok for this many runs of its checks (1: at the first ok run; a failure meanwhile cancels
  /// it), whatever the flap window; nullopt: MonitorOptions::recovery_after.
  std::optional<int> recovery_after;
};

/// Receives every state transition (for the store's health history). Called on the prober's
/// loop thread: must not block for long.
class TransitionSink {
 public:
  virtual ~TransitionSink() = default;
  /// `transitions` as HealthTracker::Record returned them (check, component, environment).
  virtual void OnTransitions(const std::vector<Transition>& transitions) = 0;
};

/// Options of a HealthMonitor.
struct MonitorOptions {
  ProberOptions prober;
  /// At most one Slack message about a failure per environment per window (notify::FlapDamper);
  /// a state that changed meanwhile is sent when the window ends. An environment's own
  /// flap_window wins.
  std::chrono::milliseconds damping_window{std::chrono::minutes(5)};
  /// Default of EnvironmentWatch::recovery_after: announce a recovery at the first ok run, so it
  /// reaches Slack within one or two check intervals of the fix.
  int recovery_after = 1;
  /// The addresses the monitor's own client (the constructor without a MultiHttpClient) may
  /// probe; null: any.
  std::shared_ptr<const http::AddressFilter> outbound;
};

/// Continuous health of every watched environment: builds its checks, runs them on one Prober,
/// feeds the HealthTracker, forwards transitions to the sink, and posts one Slack message per
/// environment state change (degraded, down, and recovery to ok; the first ok after start-up is
/// not announced), flap-damped on the clock's monotonic time.
///
/// Thread-safe. Never throws except std::bad_alloc (and what Prober's constructor throws).
class HealthMonitor {
 public:
  /// Probes through `http`, which the monitor's loop thread polls (nobody else may).
  /// `notifier` and `sink` may be null. All references must outlive the monitor.
  HealthMonitor(const MonitorOptions& options,
                core::Clock& clock,
                http::MultiHttpClient& http,
                notify::Notifier* notifier,
                TransitionSink* sink,
                core::Logger& logger);
  /// The same over its own http::CurlMultiHttpClient (default options). Requires a live
  /// http::CurlGlobal; throws std::runtime_error when curl cannot create its multi handle.
  HealthMonitor(const MonitorOptions& options,
                core::Clock& clock,
                notify::Notifier* notifier,
                TransitionSink* sink,
                core::Logger& logger);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;
  HealthMonitor(HealthMonitor&&) = delete;
  HealthMonitor& operator=(HealthMonitor&&) = delete;

  /// Starts probing.
  void Start();
  /// Stops probing (idempotent).
  void Stop();
  /// One turn of the probing loop on the caller's thread (Prober::Step), for a monitor that was
  /// not Start()ed: tests drive it so, on a fake clock.
  void Step(std::chrono::milliseconds max_wait);

  /// Watches (or re-watches, replacing the old checks) an environment. A re-watch restarts
  /// its checks from unknown but remembers the state last announced, so an environment that was
  /// reported degraded and comes back ok after the re-watch gets its recovery message, and one
  /// that is still degraded is not announced twice.
  void Watch(const EnvironmentWatch& watch);
  /// Stops watching (stack, env) and forgets its state.
  void Unwatch(const std::string& stack, const std::string& env);

  /// Current state of (stack, env); nullopt when not watched.
  std::optional<EnvironmentStatus> Status(const std::string& stack, const std::string& env) const;
  /// HealthTracker::MetricsText() of everything watched.
  std::string MetricsText() const;
  /// The prober's counters.
  ProberStats Stats() const;

 private:
  // Probes through `http`, or through `owned_http` when `http` is null.
  HealthMonitor(const MonitorOptions& options,
                core::Clock& clock,
                http::MultiHttpClient* http,
                std::unique_ptr<http::MultiHttpClient> owned_http,
                notify::Notifier* notifier,
                TransitionSink* sink,
                core::Logger& logger);

  struct Registered {
    CheckKey key;
  };
  struct EnvInfo {
    std::string slack_channel_key;
    std::string slack_channel;
    std::string grafana_url;
    std::string reported_state = "unknown";
  };

  void OnResult(const CheckResult& result);
  void Announce(const std::string& stack, const std::string& env, const std::string& state);

  MonitorOptions options_;
  core::Clock& clock_;
  notify::Notifier* notifier_;
  TransitionSink* sink_;
  core::Logger& logger_;
  HealthTracker tracker_;

  mutable std::mutex mu_;
  std::map<std::string, CheckKey> keys_;  // prober id -> key
  std::map<std::pair<std::string, std::string>, EnvInfo> envs_;
  notify::FlapDamper damper_;

  std::unique_ptr<http::MultiHttpClient> owned_http_;  // set by the second public constructor
  std::unique_ptr<Prober> prober_;                     // last: stopped before the rest is destroyed
};

/// The Slack report of `status` (components with "n/m checks ok", failing checks with their last
/// error and since).
notify::EnvironmentReport ReportOf(const EnvironmentStatus& status,
                                   const std::string& previous_state,
                                   const std::string& grafana_url);

}  // namespace obsforge::health
