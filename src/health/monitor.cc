#include "health/monitor.h"

#include <algorithm>

#include "http/curl_multi_http_client.h"

namespace obsforge::health {

notify::EnvironmentReport ReportOf(const EnvironmentStatus& status,
                                   const std::string& previous_state,
                                   const std::string& grafana_url) {
  notify::EnvironmentReport report{.stack = status.stack,
                                   .env = status.env,
                                   .state = StateName(status.state),
                                   .previous_state = previous_state,
                                   .at = core::FormatTime(status.since),
                                   .grafana_url = grafana_url};
  for (const auto& component : status.components) {
    int ok = 0;
    for (const auto& check : component.checks) {
      ok += check.state == State::kOk ? 1 : 0;
      if (check.state == State::kFailing) {
        report.failing.push_back(notify::FailingCheck{.component = component.name,
                                                      .check = check.name,
                                                      .error = check.last_error,
                                                      .since = core::FormatTime(check.since)});
      }
    }
    report.components.push_back(notify::ComponentLine{
        .name = component.name,
        .state = StateName(component.state),
        .detail =
            std::to_string(ok) + "/" + std::to_string(component.checks.size()) + " checks ok"});
  }
  return report;
}

HealthMonitor::HealthMonitor(const MonitorOptions& options,
                             core::Clock& clock,
                             http::MultiHttpClient& http,
                             notify::Notifier* notifier,
                             TransitionSink* sink,
                             core::Logger& logger)
    : HealthMonitor(options, clock, &http, nullptr, notifier, sink, logger) {
}

HealthMonitor::HealthMonitor(const MonitorOptions& options,
                             core::Clock& clock,
                             notify::Notifier* notifier,
                             TransitionSink* sink,
                             core::Logger& logger)
    : HealthMonitor(options,
                    clock,
                    nullptr,
                    std::make_unique<http::CurlMultiHttpClient>(
                        http::CurlMultiOptions{.filter = options.outbound}),
                    notifier,
                    sink,
                    logger) {
}

HealthMonitor::HealthMonitor(const MonitorOptions& options,
                             core::Clock& clock,
                             http::MultiHttpClient* http,
                             std::unique_ptr<http::MultiHttpClient> owned_http,
                             notify::Notifier* notifier,
                             TransitionSink* sink,
                             core::Logger& logger)
    : options_(options),
      clock_(clock),
      notifier_(notifier),
      sink_(sink),
      logger_(logger),
      damper_({.flap_window = options.damping_window}),
      owned_http_(std::move(owned_http)),
      prober_(std::make_unique<Prober>(
          options.prober,
          [this](const CheckResult& result) { OnResult(result); },
          clock,
          http != nullptr ? *http : *owned_http_)) {
}

HealthMonitor::~HealthMonitor() {
  Stop();
}

void HealthMonitor::Start() {
  prober_->Start();
}
void HealthMonitor::Stop() {
  prober_->Stop();
}
void HealthMonitor::Step(std::chrono::milliseconds max_wait) {
  prober_->Step(max_wait);
}

void HealthMonitor::Watch(const EnvironmentWatch& watch) {
  std::string reported = "unknown";
  {
    std::lock_guard lock(mu_);
    if (const auto it = envs_.find({watch.stack, watch.env}); it != envs_.end()) {
      reported = it->second.reported_state;
    }
  }
  Unwatch(watch.stack, watch.env);
  const auto now = clock_.Now();
  std::vector<CheckDefinition> definitions;
  {
    std::lock_guard lock(mu_);
    envs_[{watch.stack, watch.env}] = EnvInfo{.slack_channel_key = watch.slack_channel_key,
                                              .slack_channel = watch.slack_channel,
                                              .grafana_url = watch.grafana_url,
                                              .reported_state = reported};
    const int recovery_after = std::max(1, watch.recovery_after.value_or(options_.recovery_after));
    damper_.SetPolicy(watch.stack + "/" + watch.env,
                      {.flap_window = watch.flap_window.value_or(options_.damping_window),
                       .recovery_hold = (recovery_after - 1) * watch.options.interval});
    for (auto& check : BuildComponentChecks(watch.endpoints, watch.options, clock_)) {
      CheckKey key{watch.stack, watch.env, check.component, check.name};
      tracker_.Register(key, check.critical, check.canary, watch.failure_threshold, now);
      check.definition.id = key.Id();
      keys_[check.definition.id] = key;
      definitions.push_back(std::move(check.definition));
    }
  }
  for (auto& definition : definitions) {
    prober_->Add(std::move(definition));
  }
}

void HealthMonitor::Unwatch(const std::string& stack, const std::string& env) {
  const std::string prefix = stack + "/" + env + "/";
  prober_->RemovePrefix(prefix);
  std::lock_guard lock(mu_);
  std::erase_if(keys_, [&](const auto& item) { return item.first.starts_with(prefix); });
  envs_.erase({stack, env});
  tracker_.RemoveEnvironment(stack, env);
}

std::optional<EnvironmentStatus> HealthMonitor::Status(const std::string& stack,
                                                       const std::string& env) const {
  return tracker_.Environment(stack, env);
}

std::string HealthMonitor::MetricsText() const {
  return tracker_.MetricsText();
}

ProberStats HealthMonitor::Stats() const {
  return prober_->Stats();
}

void HealthMonitor::OnResult(const CheckResult& result) {
  CheckKey key;
  {
    std::lock_guard lock(mu_);
    const auto it = keys_.find(result.id);
    if (it == keys_.end()) {
      return;
    }
    key = it->second;
  }
  const auto transitions =
      tracker_.Record(key, result.ok, result.error, result.value, result.duration, clock_.Now());
  if (!transitions.empty() && sink_ != nullptr) {
    sink_->OnTransitions(transitions);
  }
  for (const auto& t : transitions) {
    if (t.scope != Transition::Scope::kEnvironment) {
      continue;
    }
    logger_.Info("environment health changed", {{"stack", t.stack},
                                                {"env", t.env},
                                                {"from", StateName(t.from)},
                                                {"to", StateName(t.to)},
                                                {"why", t.message}});
    // "unknown" says nothing worth a message, and coming up healthy is not news unless the
    // last message said otherwise (a re-watch after an apply that fixed it).
    if (t.to == State::kUnknown) {
      continue;
    }
    if (t.from == State::kUnknown && t.to == State::kOk) {
      std::lock_guard lock(mu_);
      const auto it = envs_.find({t.stack, t.env});
      if (it == envs_.end()) {
        continue;
      }
      if (it->second.reported_state == "unknown" || it->second.reported_state == "ok") {
        it->second.reported_state = StateName(t.to);
        continue;
      }
    }
    bool send = false;
    {
      std::lock_guard lock(mu_);
      send = damper_.Offer(t.stack + "/" + t.env, StateName(t.to), t.to == State::kOk,
                           clock_.Monotonic());
    }
    if (send) {
      Announce(t.stack, t.env, StateName(t.to));
    }
  }
  std::vector<std::pair<std::string, std::string>> due;
  {
    std::lock_guard lock(mu_);
    due = damper_.Due(clock_.Monotonic());
  }
  for (const auto& [where, state] : due) {
    const auto slash = where.find('/');
    Announce(where.substr(0, slash), where.substr(slash + 1), state);
  }
}

void HealthMonitor::Announce(const std::string& stack,
                             const std::string& env,
                             const std::string& state) {
  EnvInfo info;
  {
    std::lock_guard lock(mu_);
    const auto it = envs_.find({stack, env});
    if (it == envs_.end()) {
      return;
    }
    info = it->second;
    if (info.reported_state == state) {
      return;
    }
    it->second.reported_state = state;
  }
  if (notifier_ == nullptr || info.slack_channel_key.empty()) {
    return;
  }
  const auto status = tracker_.Environment(stack, env);
  if (!status) {
    return;
  }
  auto report = ReportOf(*status, info.reported_state, info.grafana_url);
  report.state = state;  // a damped message reports the state it was held for
  notifier_->PostToChannel(info.slack_channel_key, info.slack_channel,
                           notify::EnvironmentMessage(report), {{"stack", stack}, {"env", env}});
}

}  // namespace obsforge::health
