#pragma once

#include "control/backend.h"
#include "control/health_watcher.h"

namespace obsforge::control {

/// An EnvironmentBackend that keeps health watching in step with the real backend it wraps:
/// after an apply or rollback that leaves the environment running (applied, unchanged, rolled
/// back) it is (re-)watched with the spec just applied; a teardown unwatches it; applied,
/// rolled-back and failed outcomes are announced on Slack. Every call is forwarded unchanged;
/// thread-safety is the wrapped backend's and the watcher's.
class MonitoredBackend final : public EnvironmentBackend {
 public:
  /// `inner` and `watcher` must outlive this backend.
  MonitoredBackend(EnvironmentBackend& inner, HealthWatcher& watcher)
      : inner_(inner), watcher_(watcher) {}

  render::Bundle Render(const spec::StackSpec& stack,
                        const std::string& env,
                        const spec::ContentSource& content) override {
    return inner_.Render(stack, env, content);
  }
  core::Result<apply::Plan> Plan(const spec::StackSpec& stack,
                                 const std::string& env,
                                 const spec::ContentSource& content) override {
    return inner_.Plan(stack, env, content);
  }
  /// Forwards, then watches and reports (see the class comment).
  apply::ApplyResult Apply(const spec::StackSpec& stack,
                           const std::string& env,
                           const spec::ContentSource& content,
                           const apply::StepCallback& on_step) override;
  /// Forwards, then watches and reports (see the class comment).
  apply::ApplyResult Rollback(const spec::StackSpec& stack,
                              const std::string& env,
                              int revision,
                              const apply::StepCallback& on_step) override;
  /// Unwatches, then forwards (nothing is left to probe, whatever the outcome).
  core::Result<void> Teardown(const std::string& stack,
                              const std::string& env,
                              const apply::StepCallback& on_step) override;
  core::Result<void> ForgetApplied(const std::string& stack, const std::string& env) override {
    return inner_.ForgetApplied(stack, env);
  }
  std::optional<render::Bundle> Applied(const std::string& stack, const std::string& env) override {
    return inner_.Applied(stack, env);
  }
  RuntimeStatus Status(const std::string& stack, const std::string& env) override {
    return inner_.Status(stack, env);
  }

 private:
  void After(const spec::StackSpec& stack, const std::string& env, const apply::ApplyResult& r);

  EnvironmentBackend& inner_;
  HealthWatcher& watcher_;
};

}  // namespace obsforge::control
