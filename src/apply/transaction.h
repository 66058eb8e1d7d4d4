#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "apply/drivers.h"
#include "apply/plan.h"
#include "apply/revisions.h"
#include "core/clock.h"
#include "core/error.h"
#include "render/bundle.h"

namespace obsforge::apply {

/// State of one step of an apply.
enum class StepState { kRunning, kSucceeded, kFailed };

/// "running", "succeeded" or "failed".
const char* StepStateName(StepState state);

/// One step of an apply, reported when it starts and again when it ends.
struct Step {
  std::string name;       ///< "write", "reload", "verify" or "rollback"
  std::string component;  ///< for reload/verify: the component; "" otherwise
  StepState state = StepState::kRunning;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;  ///< == started_at while running
  std::string message;  ///< e.g. "revision 4", or the error text on failure
};

/// Receives every Step update (called on the applying thread).
using StepCallback = std::function<void(const Step&)>;

/// How an apply ended.
enum class Outcome {
  kUnchanged,   ///< the bundle equals the last good revision: nothing written, nothing reloaded
  kApplied,     ///< new revision written, activated, verified, recorded as last good
  kRolledBack,  ///< activation or verification failed; back on the last good revision
  kFailed,      ///< failed with no way back (no last good revision, write or rollback failure)
};

/// "unchanged", "applied", "rolled_back" or "failed" (the operations API's names).
const char* OutcomeName(Outcome outcome);

/// The result of Applier::Apply.
struct ApplyResult {
  Outcome outcome = Outcome::kFailed;
  std::optional<int> revision;          ///< revision `current` points at afterwards
  std::optional<int> attempted;         ///< the revision that was tried (applied or rolled back)
  Plan plan;                            ///< what changed against the previous revision
  std::vector<std::string> components;  ///< components activated
  std::optional<core::Error> error;     ///< rolled_back/failed: the upstream's own error
  std::string failed_component;         ///< which component failed, when one did
};

/// Applies bundles to environments as transactions, one at a time per (stack, env), with the
/// revisions kept under `<data_dir>/stacks/<stack>/<env>/` (see RevisionStore).
class Applier {
 public:
  /// `clock` timestamps steps and must outlive the Applier.
  Applier(std::filesystem::path data_dir, core::Clock& clock, RevisionStoreOptions options = {});

  /// `<data_dir>/stacks/<stack>/<env>`.
  std::filesystem::path EnvRoot(const std::string& stack, const std::string& env) const;

  /// Applies an already validated `bundle`: lock (blocks while another apply of the same
  /// (stack, env) runs) → open revisions (crash recovery) → if equal to the last good revision
  /// (and `current`): kUnchanged, no write, no driver called → write revision N+1 → point
  /// `current` at it → for each driver whose component's files changed (all components with
  /// files on a first apply): Activate, then Verify → record N+1 as last good. When a driver
  /// fails: `current` back to the last good revision, then Activate + Verify of the same
  /// components with that bundle → kRolledBack carrying the driver's error. Drivers without
  /// changed files are not called. Never throws; I/O failures are kFailed.
  ApplyResult Apply(const std::string& stack,
                    const std::string& env,
                    const render::Bundle& bundle,
                    const std::vector<ComponentDriver*>& drivers,
                    const StepCallback& on_step = {});

  /// Forgets which revision was last good (under the lock): the next Apply then skips nothing
  /// as unchanged and activates every component with files, and a failure has no revision to
  /// go back to. For when the environment was changed by someone else since (another replica
  /// sharing the store). kInternal on I/O failure.
  core::Result<void> ForgetLastGood(const std::string& stack, const std::string& env);

  /// What Apply would change (against the revision `current` points at). Changes nothing but
  /// crash recovery of the revision directory. kInternal on I/O failure.
  core::Result<Plan> PlanFor(const std::string& stack,
                             const std::string& env,
                             const render::Bundle& bundle);

 private:
  std::filesystem::path data_dir_;
  core::Clock& clock_;
  RevisionStoreOptions options_;
};

}  // namespace obsforge::apply
