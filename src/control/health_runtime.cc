#include "control/health_runtime.h"

#include <algorithm>
#include <map>
#include <set>

#include "control/gitops_target.h"

namespace obsforge::control {

HealthRuntime::HealthRuntime(store::Store& store,
                             EnvironmentBackend& backend,
                             health::HealthMonitor& monitor,
                             notify::Notifier& notifier,
                             HealthWatcher& watcher,
                             core::Logger& logger)
    : store_(store),
      monitor_(monitor),
      notifier_(notifier),
      watcher_(watcher),
      logger_(logger),
      monitored_(backend, watcher) {
}

HealthRuntime::~HealthRuntime() {
  Stop();
}

void HealthRuntime::Start() {
  monitor_.Start();
  probing_ = true;
}

void HealthRuntime::WatchStored() {
  auto watched = watcher_.WatchStored(store_);
  if (!watched.ok()) {
    logger_.Error("cannot watch stored environments", {{"error", watched.error().message}});
  } else if (*watched > 0) {
    logger_.Info("watching external environments", {{"count", std::to_string(*watched)}});
  }
}

void HealthRuntime::ReportBrokenCommit(const std::string& source_key,
                                       const gitops::SyncReport& report,
                                       const std::string& operation_id) {
  notify::BrokenCommitReport message{.source = source_key,
                                     .sha = report.commit.sha,
                                     .summary = report.Summary(),
                                     .operation_id = operation_id};
  for (const auto& d : report.diagnostics) {
    message.findings += d.ToString() + "\n";
  }
  auto managed = StacksManagedBy(store_, source_key);
  if (!managed.ok()) {
    logger_.Error("cannot announce a broken gitops commit", {{"error", managed.error().message}});
    return;
  }
  std::vector<spec::StackSpec> stacks;
  for (const auto& s : *managed) {
    if (auto stack = StoredSpec(s.name, s.spec_json); stack.ok()) {
      stacks.push_back(std::move(*stack));
    }
  }
  watcher_.ReportBrokenCommit(stacks, std::move(message));
}

void HealthRuntime::Stop() {
  // Probing first: a transition must not enqueue into a stopped notifier's outbox unseen.
  probing_ = false;
  monitor_.Stop();
  notifier_.Stop();
}

core::Result<void> HealthRuntime::CheckEnvironment(const std::string& stack,
                                                   const std::string& env) {
  auto stored = store_.GetStack(stack);
  if (!stored.ok()) {
    return stored.error();
  }
  auto spec = StoredSpec(stored->name, stored->spec_json);
  if (!spec.ok()) {
    return spec.error();
  }
  if (std::find(spec->environments.begin(), spec->environments.end(), env) ==
      spec->environments.end()) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "stack " + stack + " has no environment " + env);
  }
  return {};
}

core::Result<std::optional<health::EnvironmentStatus>> HealthRuntime::Current(
    const std::string& stack, const std::string& env) {
  if (auto known = CheckEnvironment(stack, env); !known.ok()) {
    return known.error();
  }
  if (!probing_) {
    // A replica that does not lead registers what it applies with its monitor but never probes
    // it: its "unknown" would hide what the leader found.
    return std::optional<health::EnvironmentStatus>();
  }
  return monitor_.Status(stack, env);
}

namespace {

health::State StateNamed(const std::string& name) {
  for (const health::State s : {health::State::kOk, health::State::kFailing,
                                health::State::kDegraded, health::State::kDown}) {
    if (name == health::StateName(s)) {
      return s;
    }
  }
  return health::State::kUnknown;
}

health::TimePoint At(store::TimeMs ms) {
  return health::TimePoint(std::chrono::milliseconds(ms));
}

// Folds one recorded change of a component or of one of its checks into `components`, newest
// first: only the first change seen of each component and each check counts.
void AddComponentEvent(const store::HealthEvent& e,
                       std::map<std::string, health::ComponentStatus>& components,
                       std::set<std::pair<std::string, std::string>>& checks_seen) {
  auto [it, added] = components.try_emplace(e.component);
  health::ComponentStatus& component = it->second;
  if (added) {
    component.name = e.component;
  }
  if (e.check.empty()) {
    if (component.since == health::TimePoint{}) {
      component.state = StateNamed(e.to_state);
      component.since = At(e.at);
    }
    return;
  }
  if (!checks_seen.insert({e.component, e.check}).second) {
    return;
  }
  health::CheckStatus check{.name = e.check, .state = StateNamed(e.to_state), .since = At(e.at)};
  if (check.state != health::State::kOk && check.state != health::State::kUnknown) {
    check.last_error = e.message;
  }
  component.checks.push_back(std::move(check));
}

}  // namespace

core::Result<std::optional<health::EnvironmentStatus>> HealthRuntime::Recorded(
    const std::string& stack, const std::string& env) {
  if (auto known = CheckEnvironment(stack, env); !known.ok()) {
    return known.error();
  }
  auto events = store_.ListHealthEvents(
      {.stack = stack, .env = env, .limit = kRecordedScan});  // newest first
  if (!events.ok()) {
    return events.error();
  }
  if (events->empty()) {
    return std::optional<health::EnvironmentStatus>();
  }
  health::EnvironmentStatus status{.stack = stack, .env = env};
  bool env_seen = false;
  std::map<std::string, health::ComponentStatus> components;
  std::set<std::pair<std::string, std::string>> checks_seen;
  for (const store::HealthEvent& e : *events) {  // the newest change of each wins
    if (!e.component.empty()) {
      AddComponentEvent(e, components, checks_seen);
    } else if (!env_seen) {
      env_seen = true;
      status.state = StateNamed(e.to_state);
      status.since = At(e.at);
    }
  }
  for (auto& [name, component] : components) {
    std::sort(component.checks.begin(), component.checks.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    status.components.push_back(std::move(component));
  }
  return std::optional<health::EnvironmentStatus>(std::move(status));
}

core::Result<std::vector<store::HealthEvent>> HealthRuntime::History(
    const store::HealthEventQuery& query) {
  if (auto known = CheckEnvironment(query.stack, query.env); !known.ok()) {
    return known.error();
  }
  return store_.ListHealthEvents(query);
}

}  // namespace obsforge::control
