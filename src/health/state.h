#pragma once

#include <chrono>
#include <compare>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/exposition.h"

namespace obsforge::health {

using TimePoint = std::chrono::system_clock::time_point;

/// Identifies one check of one component of one environment of one stack.
struct CheckKey {
  std::string stack;
  std::string env;
  std::string component;
  std::string check;

  /// "stack/env/component/check": the Prober id used for it.
  std::string Id() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags every defaulted operator<=>
  auto operator<=>(const CheckKey&) const = default;
};

/// State of a check, a component or an environment. Checks are only unknown, ok or failing.
///
/// - check: unknown until its first result; ok after one success; failing after
///   `failure_threshold` consecutive failures (fewer leave the state as it was).
/// - component: down when a critical check (liveness/readiness) is failing; degraded when only
///   non-critical checks are failing; otherwise unknown while none of its checks or one of its
///   critical checks has no state yet, and ok once they all have one (non-critical checks still
///   unknown are ignored).
/// - environment: unknown when every component is unknown; down when every component with a
///   state is down; degraded when some component is degraded or down; ok otherwise.
enum class State { kUnknown, kOk, kFailing, kDegraded, kDown };

/// "unknown", "ok", "failing", "degraded", "down".
const char* StateName(State state);

/// A state change, for the store's health history and for notifications.
struct Transition {
  enum class Scope { kCheck, kComponent, kEnvironment };
  Scope scope = Scope::kCheck;
  std::string stack;
  std::string env;
  std::string component;  ///< empty for an environment transition
  std::string check;      ///< empty unless scope is kCheck
  State from = State::kUnknown;
  State to = State::kUnknown;
  TimePoint at;
  /// Check: its last error (or "recovered"); component/environment: what is failing, e.g.
  /// "prometheus/ready: HTTP 503: ...; alertmanager/cluster: ..." ("all checks ok" when none).
  std::string message;
};

/// The current state of one check.
struct CheckStatus {
  std::string name;
  bool critical = false;
  bool canary = false;
  State state = State::kUnknown;
  TimePoint since;  ///< when it entered `state` (registration time while unknown)
  TimePoint last_run;
  int consecutive_failures = 0;
  std::string last_error;  ///< of the last failed run; cleared by a passing run
  std::optional<double> value;
  std::chrono::microseconds last_duration{0};
};

/// The current state of one component and its checks (sorted by name).
struct ComponentStatus {
  std::string name;
  State state = State::kUnknown;
  TimePoint since;
  std::vector<CheckStatus> checks;
};

/// The current state of one environment and its components (sorted by name).
struct EnvironmentStatus {
  std::string stack;
  std::string env;
  State state = State::kUnknown;
  TimePoint since;
  std::vector<ComponentStatus> components;
};

/// The health state machine of every registered check, aggregated per component and
/// environment. Pure (time is passed in) and thread-safe.
class HealthTracker {
 public:
  HealthTracker() = default;

  /// Registers (or re-registers, resetting it to unknown) a check at `now`. `failure_threshold`
  /// >= 1 (smaller values count as 1).
  void Register(
      const CheckKey& key, bool critical, bool canary, int failure_threshold, TimePoint now);
  /// Forgets every check of (stack, env).
  void RemoveEnvironment(const std::string& stack, const std::string& env);

  /// Feeds one run's result; returns the transitions it caused, check first, then component,
  /// then environment. An unregistered key is ignored (returns nothing). A successful canary
  /// run's `duration` goes into the canary latency histogram.
  std::vector<Transition> Record(const CheckKey& key,
                                 bool ok,
                                 const std::string& error,
                                 std::optional<double> value,
                                 std::chrono::microseconds duration,
                                 TimePoint at);

  /// The status of (stack, env); nullopt when it has no registered check.
  std::optional<EnvironmentStatus> Environment(const std::string& stack,
                                               const std::string& env) const;

  /// Prometheus text exposition: `obsforge_check_up{stack,env,component,check}` (1 ok, 0
  /// failing; unknown checks are left out) and the histogram
  /// `obsforge_canary_latency_seconds{stack,env,component,check}`.
  std::string MetricsText() const;

 private:
  struct CheckEntry {
    CheckStatus status;
    int failure_threshold = 3;
    core::Histogram latency{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0}};  // canaries
  };
  struct Aggregate {
    State state = State::kUnknown;
    TimePoint since;
  };
  using EnvKey = std::pair<std::string, std::string>;

  EnvironmentStatus BuildLocked(const EnvKey& env) const;

  mutable std::mutex mu_;
  std::map<CheckKey, CheckEntry> checks_;
  std::map<std::pair<EnvKey, std::string>, Aggregate> components_;
  std::map<EnvKey, Aggregate> environments_;
};

/// The API view of `status` (docs/api.md .../health): {stack, env, state, since, components:
/// [{name, state, since, checks: [{name, state, critical, since, last_run?, last_error?,
/// consecutive_failures, value?, duration_ms?}]}]}; times are RFC 3339 UTC.
nlohmann::json ToJson(const EnvironmentStatus& status);
/// The history view of one transition: {scope, stack, env, component?, check?, from, to, at,
/// message}.
nlohmann::json ToJson(const Transition& transition);

}  // namespace obsforge::health
