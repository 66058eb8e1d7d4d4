#include "health/state.h"

#include <algorithm>
#include <array>

#include "core/clock.h"
#include "core/exposition.h"

namespace obsforge::health {
namespace {

using json = nlohmann::json;

// A component is ok only once every critical check has a verdict: "ok" from its other checks
// alone would announce a recovery (after a re-watch) that its critical check then takes back.
State ComponentState(const std::vector<CheckStatus>& checks) {
  bool known = false;
  bool critical_unknown = false;
  bool critical_failing = false;
  bool failing = false;
  for (const auto& check : checks) {
    if (check.state == State::kUnknown) {
      critical_unknown = critical_unknown || check.critical;
      continue;
    }
    known = true;
    if (check.state == State::kFailing) {
      failing = true;
      critical_failing = critical_failing || check.critical;
    }
  }
  if (!known) {
    return State::kUnknown;
  }
  if (critical_failing) {
    return State::kDown;
  }
  if (failing) {
    return State::kDegraded;
  }
  return critical_unknown ? State::kUnknown : State::kOk;
}

State EnvironmentState(const std::vector<State>& components) {
  int known = 0;
  int down = 0;
  bool bad = false;
  for (State s : components) {
    if (s == State::kUnknown) {
      continue;
    }
    ++known;
    down += s == State::kDown ? 1 : 0;
    bad = bad || s == State::kDown || s == State::kDegraded;
  }
  if (known == 0) {
    return State::kUnknown;
  }
  if (down == known) {
    return State::kDown;
  }
  return bad ? State::kDegraded : State::kOk;
}

std::string FailingSummary(const std::string& component, const std::vector<CheckStatus>& checks) {
  std::string out;
  for (const auto& check : checks) {
    if (check.state == State::kFailing) {
      out += (out.empty() ? "" : "; ") + component + "/" + check.name + ": " + check.last_error;
    }
  }
  return out;
}

}  // namespace

std::string CheckKey::Id() const {
  return stack + "/" + env + "/" + component + "/" + check;
}

const char* StateName(State state) {
  switch (state) {
    case State::kUnknown:
      return "unknown";
    case State::kOk:
      return "ok";
    case State::kFailing:
      return "failing";
    case State::kDegraded:
      return "degraded";
    case State::kDown:
      return "down";
  }
  return "unknown";
}

void HealthTracker::Register(
    const CheckKey& key, bool critical, bool canary, int failure_threshold, TimePoint now) {
  std::lock_guard lock(mu_);
  CheckEntry entry;
  entry.status =
      CheckStatus{.name = key.check, .critical = critical, .canary = canary, .since = now};
  entry.failure_threshold = std::max(1, failure_threshold);
  checks_[key] = std::move(entry);
  auto& component = components_[{{key.stack, key.env}, key.component}];
  if (component.since == TimePoint{}) {
    component.since = now;
  }
  auto& environment = environments_[{key.stack, key.env}];
  if (environment.since == TimePoint{}) {
    environment.since = now;
  }
}

void HealthTracker::RemoveEnvironment(const std::string& stack, const std::string& env) {
  std::lock_guard lock(mu_);
  std::erase_if(checks_, [&](const auto& item) {
    return item.first.stack == stack && item.first.env == env;
  });
  std::erase_if(components_, [&](const auto& item) {
    return item.first.first == EnvKey{stack, env};
  });
  environments_.erase({stack, env});
}

std::vector<Transition> HealthTracker::Record(const CheckKey& key,
                                              bool ok,
                                              const std::string& error,
                                              std::optional<double> value,
                                              std::chrono::microseconds duration,
                                              TimePoint at) {
  std::lock_guard lock(mu_);
  std::vector<Transition> out;
  const auto it = checks_.find(key);
  if (it == checks_.end()) {
    return out;
  }
  CheckEntry& entry = it->second;
  CheckStatus& status = entry.status;
  const State before = status.state;
  status.last_run = at;
  status.value = value;
  status.last_duration = duration;
  State after = before;
  if (ok) {
    status.consecutive_failures = 0;
    status.last_error.clear();  // an old error next to "ok" reads as a current problem
    after = State::kOk;
    if (status.canary) {
      entry.latency.Observe(std::chrono::duration<double>(duration).count());
    }
  } else {
    ++status.consecutive_failures;
    status.last_error = error;
    if (status.consecutive_failures >= entry.failure_threshold) {
      after = State::kFailing;
    }
  }
  if (after != before) {
    status.state = after;
    status.since = at;
    out.push_back(Transition{.scope = Transition::Scope::kCheck,
                             .stack = key.stack,
                             .env = key.env,
                             .component = key.component,
                             .check = key.check,
                             .from = before,
                             .to = after,
                             .at = at,
                             .message = ok ? "recovered" : error});
  } else {
    return out;  // nothing above the check can change
  }

  const EnvKey env_key{key.stack, key.env};
  EnvironmentStatus view = BuildLocked(env_key);
  std::vector<State> component_states;
  std::string env_summary;
  for (const auto& component : view.components) {
    auto& aggregate = components_[{env_key, component.name}];
    const State now_state = ComponentState(component.checks);
    component_states.push_back(now_state);
    const std::string summary = FailingSummary(component.name, component.checks);
    if (!summary.empty()) {
      env_summary += (env_summary.empty() ? "" : "; ") + summary;
    }
    if (now_state != aggregate.state) {
      out.push_back(Transition{.scope = Transition::Scope::kComponent,
                               .stack = key.stack,
                               .env = key.env,
                               .component = component.name,
                               .from = aggregate.state,
                               .to = now_state,
                               .at = at,
                               .message = summary.empty() ? "all checks ok" : summary});
      aggregate = Aggregate{.state = now_state, .since = at};
    }
  }
  auto& env_aggregate = environments_[env_key];
  const State env_state = EnvironmentState(component_states);
  if (env_state != env_aggregate.state) {
    out.push_back(Transition{.scope = Transition::Scope::kEnvironment,
                             .stack = key.stack,
                             .env = key.env,
                             .from = env_aggregate.state,
                             .to = env_state,
                             .at = at,
                             .message = env_summary.empty() ? "all checks ok" : env_summary});
    env_aggregate = Aggregate{.state = env_state, .since = at};
  }
  return out;
}

EnvironmentStatus HealthTracker::BuildLocked(const EnvKey& env) const {
  EnvironmentStatus out{.stack = env.first, .env = env.second};
  if (const auto it = environments_.find(env); it != environments_.end()) {
    out.state = it->second.state;
    out.since = it->second.since;
  }
  for (auto it = checks_.lower_bound(CheckKey{env.first, env.second, "", ""});
       it != checks_.end() && it->first.stack == env.first && it->first.env == env.second; ++it) {
    if (out.components.empty() || out.components.back().name != it->first.component) {
      ComponentStatus component{.name = it->first.component};
      if (const auto c = components_.find({env, it->first.component}); c != components_.end()) {
        component.state = c->second.state;
        component.since = c->second.since;
      }
      out.components.push_back(std::move(component));
    }
    out.components.back().checks.push_back(it->second.status);
  }
  return out;
}

std::optional<EnvironmentStatus> HealthTracker::Environment(const std::string& stack,
                                                            const std::string& env) const {
  std::lock_guard lock(mu_);
  EnvironmentStatus status = BuildLocked({stack, env});
  if (status.components.empty()) {
    return std::nullopt;
  }
  return status;
}

namespace {

core::Labels Labels(const CheckKey& key) {
  return {
      {"stack", key.stack}, {"env", key.env}, {"component", key.component}, {"check", key.check}};
}

}  // namespace

std::string HealthTracker::MetricsText() const {
  std::lock_guard lock(mu_);
  // 15 significant digits: bucket bounds and sums read as written ("0.025", not
  // 0.025000000000000001).
  core::ExpositionWriter out(15);
  out.Family("obsforge_check_up", "gauge", "Whether a health check is ok (1) or failing (0).");
  for (const auto& [key, entry] : checks_) {
    if (entry.status.state == State::kUnknown) {
      continue;
    }
    out.Sample("obsforge_check_up", Labels(key),
               std::uint64_t{entry.status.state == State::kOk ? 1U : 0U});
  }
  out.Family("obsforge_canary_latency_seconds", "histogram",
             "End-to-end latency of successful canaries (push, then read back).");
  for (const auto& [key, entry] : checks_) {
    if (entry.status.canary) {
      out.Samples("obsforge_canary_latency_seconds", Labels(key), entry.latency);
    }
  }
  return out.Take();
}

json ToJson(const EnvironmentStatus& status) {
  json components = json::array();
  for (const auto& component : status.components) {
    json checks = json::array();
    for (const auto& check : component.checks) {
      json c{{"name", check.name},
             {"state", StateName(check.state)},
             {"critical", check.critical},
             {"since", core::FormatTime(check.since)},
             {"consecutive_failures", check.consecutive_failures}};
      if (check.last_run != TimePoint{}) {
        c["last_run"] = core::FormatTime(check.last_run);
        c["duration_ms"] = std::chrono::duration<double, std::milli>(check.last_duration).count();
      }
      if (!check.last_error.empty()) {
        c["last_error"] = check.last_error;
      }
      if (check.value) {
        c["value"] = *check.value;
      }
      checks.push_back(std::move(c));
    }
    components.push_back({{"name", component.name},
                          {"state", StateName(component.state)},
                          {"since", core::FormatTime(component.since)},
                          {"checks", std::move(checks)}});
  }
  return json{{"stack", status.stack},
              {"env", status.env},
              {"state", StateName(status.state)},
              {"since", core::FormatTime(status.since)},
              {"components", std::move(components)}};
}

json ToJson(const Transition& t) {
  static constexpr std::array<const char*, 3> kScopes = {"check", "component", "environment"};
  json out{{"scope", kScopes.at(static_cast<std::size_t>(t.scope))},
           {"stack", t.stack},
           {"env", t.env},
           {"from", StateName(t.from)},
           {"to", StateName(t.to)},
           {"at", core::FormatTime(t.at)},
           {"message", t.message}};
  if (!t.component.empty()) {
    out["component"] = t.component;
  }
  if (!t.check.empty()) {
    out["check"] = t.check;
  }
  return out;
}

}  // namespace obsforge::health
