#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apply/plan.h"
#include "apply/transaction.h"
#include "core/error.h"
#include "render/bundle.h"
#include "spec/stack.h"

namespace obsforge::control {

/// One component of an environment as its runtime reports it.
struct RuntimeComponent {
  std::string name;       ///< "prometheus", "otel_collector", ...
  std::string state;      ///< "running", "restarting", "unavailable: <reason>", ...
  int pid = 0;            ///< the live process (0 when none)
  int restarts = 0;       ///< automatic restarts after unexpected exits
  std::string url;        ///< base URL the component answers on
  std::string last_exit;  ///< "exited with status 1", ...; "" when it never exited
};

/// What runs an environment now (GET /api/v1/stacks/{name}: environments.*.runtime).
struct RuntimeStatus {
  /// Revisions of the bundle on disk, when the environment has a revision history.
  struct Revisions {
    std::optional<int> current;    ///< the revision applied now
    std::optional<int> last_good;  ///< the last revision that applied and verified
  };
  std::string runtime;  ///< which runtime reports ("local", ...)
  std::optional<Revisions> revisions;
  std::vector<RuntimeComponent> components;
};

/// What the application drives for each (stack, environment): rendering and the runtime. The
/// application owns the store and the operation queue; the production implementation wraps
/// apply::EnvironmentController (ControllerBackend); unit tests use a fake.
///
/// Contract: thread-safe. The application never runs two calls that change the same (stack,
/// env) at once (its OperationRunner serializes them), but calls for different environments run
/// in parallel, and the read-only calls (Render, Plan, Applied, Status) may run at any time.
/// Runtime failures are returned as values; only bad user input throws core::InputError.
class EnvironmentBackend {
 public:
  virtual ~EnvironmentBackend() = default;

  /// The bundle `env` of `stack` would get, as it would be applied. Throws core::InputError
  /// (kInvalidSpec for an unknown environment, kRender for a template or content error).
  virtual render::Bundle Render(const spec::StackSpec& stack,
                                const std::string& env,
                                const spec::ContentSource& content) = 0;

  /// What an apply would change against what is applied now. Throws like Render(); I/O failures
  /// are returned (kInternal).
  virtual core::Result<apply::Plan> Plan(const spec::StackSpec& stack,
                                         const std::string& env,
                                         const spec::ContentSource& content) = 0;

  /// Renders and applies `env`, reporting every step through `on_step` (called on the calling
  /// thread). Never throws: a render error is apply::Outcome::kFailed with a failed "render"
  /// step and `error` set.
  virtual apply::ApplyResult Apply(const spec::StackSpec& stack,
                                   const std::string& env,
                                   const spec::ContentSource& content,
                                   const apply::StepCallback& on_step) = 0;

  /// Applies the bundle of applied revision `revision` of `env` again. Never throws.
  virtual apply::ApplyResult Rollback(const spec::StackSpec& stack,
                                      const std::string& env,
                                      int revision,
                                      const apply::StepCallback& on_step) = 0;

  /// Stops what obsforge runs for `env` and removes what it provisioned.
  virtual core::Result<void> Teardown(const std::string& stack,
                                      const std::string& env,
                                      const apply::StepCallback& on_step) = 0;

  /// Forgets which bundle this process last applied to `env` and verified, because another
  /// process sharing the store applied a different one since: the next apply activates in full
  /// instead of skipping what looks unchanged. Default: nothing is kept, nothing to forget.
  virtual core::Result<void> ForgetApplied(const std::string& stack, const std::string& env) {
    (void)stack;
    (void)env;
    return {};
  }

  /// The bundle applied now, or nullopt when nothing was applied.
  virtual std::optional<render::Bundle> Applied(const std::string& stack,
                                                const std::string& env) = 0;

  /// What runs `env` now. Never throws except std::bad_alloc.
  virtual RuntimeStatus Status(const std::string& stack, const std::string& env) = 0;
};

}  // namespace obsforge::control
