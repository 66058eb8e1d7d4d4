#pragma once

#include "apply/environment_controller.h"
#include "control/backend.h"

namespace obsforge::control {

/// The production EnvironmentBackend: forwards every call to an apply::EnvironmentController
/// (render + Applier + local/external runtime), and reads its status report into a
/// RuntimeStatus. Thread-safety is the controller's.
class ControllerBackend final : public EnvironmentBackend {
 public:
  /// `controller` must outlive the backend.
  explicit ControllerBackend(apply::EnvironmentController& controller) : controller_(controller) {}

  render::Bundle Render(const spec::StackSpec& stack,
                        const std::string& env,
                        const spec::ContentSource& content) override {
    return controller_.Render(stack, env, content);
  }
  core::Result<apply::Plan> Plan(const spec::StackSpec& stack,
                                 const std::string& env,
                                 const spec::ContentSource& content) override {
    return controller_.PlanFor(stack, env, content);
  }
  apply::ApplyResult Apply(const spec::StackSpec& stack,
                           const std::string& env,
                           const spec::ContentSource& content,
                           const apply::StepCallback& on_step) override {
    return controller_.Apply(stack, env, content, on_step);
  }
  apply::ApplyResult Rollback(const spec::StackSpec& stack,
                              const std::string& env,
                              int revision,
                              const apply::StepCallback& on_step) override {
    return controller_.Rollback(stack, env, revision, on_step);
  }
  core::Result<void> Teardown(const std::string& stack,
                              const std::string& env,
                              const apply::StepCallback& on_step) override {
    return controller_.Teardown(stack, env, on_step);
  }
  core::Result<void> ForgetApplied(const std::string& stack, const std::string& env) override {
    return controller_.ForgetLastGood(stack, env);
  }
  std::optional<render::Bundle> Applied(const std::string& stack, const std::string& env) override {
    return controller_.Applied(stack, env);
  }
  /// The controller's status report as a RuntimeStatus.
  RuntimeStatus Status(const std::string& stack, const std::string& env) override;

 private:
  apply::EnvironmentController& controller_;
};

}  // namespace obsforge::control
