// LocalRuntime as a Runtime: how a bundle gets into components obsforge runs itself.
#include <algorithm>

#include "apply/alertmanager_driver.h"
#include "apply/local_drivers.h"
#include "apply/local_runtime.h"
#include "apply/prometheus_driver.h"

namespace obsforge::apply {
namespace {

// A driver that starts its component on the first apply (the files are in place only once the
// revision is written) and hands over to the reload/restart driver once the component runs.
class StartingDriver final : public ComponentDriver {
 public:
  StartingDriver(std::unique_ptr<ComponentDriver> inner,
                 LocalRuntime& runtime,
                 std::chrono::milliseconds ready_timeout)
      : inner_(std::move(inner)), runtime_(runtime), ready_timeout_(ready_timeout) {}

  std::string Component() const override { return inner_->Component(); }

  core::Result<void> Activate(const render::Bundle& bundle) override {
    const auto state = runtime_.State(Component());
    if (state && state->phase == ProcessPhase::kRunning) {
      return inner_->Activate(bundle);
    }
    if (auto started = runtime_.Start(Component()); !started.ok()) {
      return started;
    }
    return runtime_.WaitReady(Component(), ready_timeout_);
  }

  core::Result<void> Verify(const render::Bundle& bundle) override {
    return inner_->Verify(bundle);
  }

 private:
  std::unique_ptr<ComponentDriver> inner_;
  LocalRuntime& runtime_;
  std::chrono::milliseconds ready_timeout_;
};

void Report(const StepCallback& on_step, const Step& step) {
  if (on_step) {
    on_step(step);
  }
}

ComponentState StateOf(ProcessPhase phase) {
  switch (phase) {
    case ProcessPhase::kRunning:
      return ComponentState::kRunning;
    case ProcessPhase::kRestarting:
      return ComponentState::kRestarting;
    case ProcessPhase::kStopping:
      return ComponentState::kStopping;
    case ProcessPhase::kStopped:
      return ComponentState::kStopped;
    case ProcessPhase::kUnavailable:
      return ComponentState::kUnavailable;
  }
  return ComponentState::kStopped;
}

}  // namespace

void LocalRuntime::Update(const spec::EnvironmentSpec& env) {
  std::lock_guard lock(mu_);
  env_ = env;
}

void LocalRuntime::ConfigureRender(render::RenderOptions& options) const {
  options.ports = ports_;
}

ProvisionAccess LocalRuntime::Provisioning() const {
  return ProvisionAccess{.grafana_local = true, .grafana_url = BaseUrl("grafana")};
}

ApplyResult LocalRuntime::Apply(const render::Bundle& bundle,
                                Applier& applier,
                                const StepCallback& on_step) {
  std::vector<std::unique_ptr<ComponentDriver>> owned;
  std::vector<ComponentDriver*> drivers;
  std::vector<std::string> unavailable;
  for (const auto& component : EnabledComponents()) {
    // A missing binary is reported, never skipped silently; the rest of the stack still applies.
    if (auto binary = ResolveComponentBinary(component, options_.path_env); !binary.ok()) {
      unavailable.push_back(component);
      const auto now = clock_.Now();
      Report(on_step, Step{.name = "start",
                           .component = component,
                           .state = StepState::kFailed,
                           .started_at = now,
                           .finished_at = now,
                           .message = "unavailable: " + binary.error().message});
      continue;
    }
    std::unique_ptr<ComponentDriver> inner;
    if (component == "prometheus") {
      inner = std::make_unique<PrometheusDriver>(
          PrometheusDriverOptions{.base_url = BaseUrl(component)}, http_, clock_);
    } else if (component == "alertmanager") {
      inner = std::make_unique<AlertmanagerDriver>(
          AlertmanagerDriverOptions{.base_url = BaseUrl(component)}, http_, clock_);
    } else {
      inner = MakeRestartDriver(*this, component,
                                RestartDriverOptions{.ready_timeout = options_.ready_timeout});
    }
    if (inner == nullptr) {
      continue;
    }
    owned.push_back(
        std::make_unique<StartingDriver>(std::move(inner), *this, options_.ready_timeout));
    drivers.push_back(owned.back().get());
  }
  std::string stack;
  std::string env;
  {
    std::lock_guard lock(mu_);
    stack = env_.stack;
    env = env_.env;
  }
  auto result = applier.Apply(stack, env, bundle, drivers, on_step);
  if (result.outcome == Outcome::kApplied || result.outcome == Outcome::kUnchanged) {
    // Components whose files did not change were not activated: make sure they run anyway.
    EnsureRunning(unavailable, result, on_step);
  }
  return result;
}

void LocalRuntime::EnsureRunning(const std::vector<std::string>& skip,
                                 ApplyResult& result,
                                 const StepCallback& on_step) {
  for (const auto& component : EnabledComponents()) {
    if (std::find(skip.begin(), skip.end(), component) != skip.end()) {
      continue;
    }
    const auto state = State(component);
    if (state &&
        (state->phase == ProcessPhase::kRunning || state->phase == ProcessPhase::kRestarting)) {
      continue;
    }
    const auto now = clock_.Now();
    Step step{.name = "start",
              .component = component,
              .state = StepState::kRunning,
              .started_at = now,
              .finished_at = now};
    Report(on_step, step);
    auto started = Start(component);
    if (started.ok()) {
      started = WaitReady(component, options_.ready_timeout);
    }
    step.finished_at = clock_.Now();
    step.state = started.ok() ? StepState::kSucceeded : StepState::kFailed;
    step.message = started.ok() ? "ready at " + BaseUrl(component) : started.error().message;
    Report(on_step, step);
    if (!started.ok() && result.outcome != Outcome::kFailed) {
      result.outcome = Outcome::kFailed;
      result.error = started.error();
      result.failed_component = component;
    }
  }
}

std::vector<ComponentStatus> LocalRuntime::Status() const {
  std::vector<ComponentStatus> out;
  for (const auto& state : States()) {
    out.push_back(ComponentStatus{.name = state.name,
                                  .state = StateOf(state.phase),
                                  .reason = state.reason,
                                  .url = BaseUrl(state.name),
                                  .process = ProcessInfo{.pid = static_cast<int>(state.pid),
                                                         .restarts = state.restarts,
                                                         .last_exit = state.last_exit}});
  }
  return out;
}

std::map<std::string, std::string> LocalRuntime::Urls() const {
  std::map<std::string, std::string> urls;
  for (const auto& component : EnabledComponents()) {
    urls[component] = BaseUrl(component);
    if (component != "tempo") {
      continue;
    }
    nlohmann::json tempo;
    {
      std::lock_guard lock(mu_);
      tempo = env_.merged.value(nlohmann::json::json_pointer("/spec/components/tempo"),
                                nlohmann::json::object());
    }
    for (const auto& receiver : TempoReceivers(tempo)) {
      if (receiver == "otlp_http") {
        urls[kTempoOtlpHttp] = "http://127.0.0.1:" + std::to_string(ports_.at("otlp_http"));
      } else if (receiver == "otlp_grpc") {
        urls[kTempoOtlpGrpc] = "http://127.0.0.1:" + std::to_string(ports_.at("otlp_grpc"));
      }
    }
  }
  return urls;
}

}  // namespace obsforge::apply
