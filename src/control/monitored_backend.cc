#include "control/monitored_backend.h"

namespace obsforge::control {

apply::ApplyResult MonitoredBackend::Apply(const spec::StackSpec& stack,
                                           const std::string& env,
                                           const spec::ContentSource& content,
                                           const apply::StepCallback& on_step) {
  apply::ApplyResult result = inner_.Apply(stack, env, content, on_step);
  After(stack, env, result);
  return result;
}

apply::ApplyResult MonitoredBackend::Rollback(const spec::StackSpec& stack,
                                              const std::string& env,
                                              int revision,
                                              const apply::StepCallback& on_step) {
  apply::ApplyResult result = inner_.Rollback(stack, env, revision, on_step);
  After(stack, env, result);
  return result;
}

core::Result<void> MonitoredBackend::Teardown(const std::string& stack,
                                              const std::string& env,
                                              const apply::StepCallback& on_step) {
  // Unwatch first: components stopping must not be reported as an outage.
  watcher_.Unwatch(stack, env);
  return inner_.Teardown(stack, env, on_step);
}

void MonitoredBackend::After(const spec::StackSpec& stack,
                             const std::string& env,
                             const apply::ApplyResult& result) {
  // A failed apply may have left nothing (or a half-started runtime) behind: the previous
  // watch, if any, stays as it was.
  if (result.outcome != apply::Outcome::kFailed) {
    watcher_.Watch(stack, env);
  }
  watcher_.ReportApply(stack, env, result);
}

}  // namespace obsforge::control
