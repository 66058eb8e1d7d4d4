#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "apply/plan.h"
#include "apply/transaction.h"
#include "core/error.h"
#include "render/bundle.h"
#include "spec/stack.h"

namespace obsforge::server {

/// What the REST server drives for each (stack, environment). The server owns HTTP, auth, the
/// store and the operation queue; a backend owns rendering and the runtime. The production
/// implementation wraps apply::EnvironmentController; unit tests use a fake.
///
/// Contract: thread-safe. The server never runs two calls that change the same (stack, env) at
/// once (its OperationRunner serializes them), but calls for different environments run in
/// parallel, and the read-only calls (Render, Plan, Applied, Status) may run at any time.
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

  /// The bundle applied now, or nullopt when nothing was applied.
  virtual std::optional<render::Bundle> Applied(const std::string& stack,
                                                const std::string& env) = 0;

  /// Runtime status shown by GET /api/v1/stacks/{name}: {runtime, revision, last_good,
  /// components: [{name, state, pid, url, ...}]}. Never throws.
  virtual nlohmann::json Status(const std::string& stack, const std::string& env) = 0;
};

}  // namespace obsforge::server
