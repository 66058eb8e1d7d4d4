#include "control/controller_backend.h"

namespace obsforge::control {

RuntimeStatus ControllerBackend::Status(const std::string& stack, const std::string& env) {
  const apply::RuntimeStatus report = controller_.Status(stack, env);
  RuntimeStatus status{.runtime = report.runtime};
  if (report.has_revisions) {
    status.revisions =
        RuntimeStatus::Revisions{.current = report.revision, .last_good = report.last_good};
  }
  for (const apply::ComponentStatus& c : report.components) {
    RuntimeComponent component{.name = c.name, .state = c.Describe(), .url = c.url};
    if (c.process) {
      component.pid = c.process->pid;
      component.restarts = c.process->restarts;
      component.last_exit = c.process->last_exit;
    }
    status.components.push_back(std::move(component));
  }
  return status;
}

}  // namespace obsforge::control
