#include "control/health_runtime.h"

#include <algorithm>

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
  return monitor_.Status(stack, env);
}

core::Result<std::vector<store::HealthEvent>> HealthRuntime::History(
    const store::HealthEventQuery& query) {
  if (auto known = CheckEnvironment(query.stack, query.env); !known.ok()) {
    return known.error();
  }
  return store_.ListHealthEvents(query);
}

}  // namespace obsforge::control
