#include "app/step_printer.h"

#include "control/stack_service.h"

namespace obsforge::app {
namespace {

void PrintOutcome(const std::string& outcome,
                  const std::optional<std::int64_t>& revision,
                  const std::string& failed_component,
                  const std::string& error,
                  std::ostream& out) {
  out << outcome;
  if (revision) {
    out << " (revision " << *revision << ")";
  }
  if (!error.empty()) {
    out << ": ";
    if (!failed_component.empty()) {
      out << failed_component << ": ";
    }
    out << error;
  }
  out << '\n';
}

}  // namespace

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
  PrintOutcome(apply::OutcomeName(result.outcome),
               result.revision ? std::optional<std::int64_t>(*result.revision) : std::nullopt,
               result.failed_component, result.error ? result.error->message : "", out);
}

void PrintOutcome(const store::Operation& op, std::ostream& out) {
  if (const auto summary = control::StackService::ApplySummaryOf(op)) {
    PrintOutcome(summary->outcome, summary->revision, summary->failed_component, op.error, out);
  } else {
    PrintOutcome("failed", std::nullopt, "", op.error, out);
  }
}

}  // namespace obsforge::app
