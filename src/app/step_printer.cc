#include "app/step_printer.h"

namespace obsforge::app {

void PrintStep(const apply::Step& step, std::ostream& out) {
  if (step.state == apply::StepState::kRunning) {
    return;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(step.finished_at - step.started_at)
          .count();
  out << "  " << (step.state == apply::StepState::kSucceeded ? "ok  " : "FAIL") << ' ' << step.name;
  if (!step.component.empty()) {
    out << ' ' << step.component;
  }
  out << " (" << ms << " ms)";
  if (!step.message.empty()) {
    out << ": " << step.message;
  }
  out << '\n';
}

void PrintOutcome(const apply::ApplyResult& result, std::ostream& out) {
  out << apply::OutcomeName(result.outcome);
  if (result.revision) {
    out << " (revision " << *result.revision << ")";
  }
  if (result.error) {
    out << ": ";
    if (!result.failed_component.empty()) {
      out << result.failed_component << ": ";
    }
    out << result.error->message;
  }
  out << '\n';
}

}  // namespace obsforge::app
