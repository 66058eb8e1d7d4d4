#include "apply/transaction.h"

#include <set>
#include <utility>

#include "apply/lock.h"

namespace obsforge::apply {
namespace {

std::set<std::string> ComponentsWithFiles(const render::Bundle& bundle) {
  std::set<std::string> out;
  for (const auto& [path, content] : bundle.files()) {
    if (auto c = ComponentOfPath(path); !c.empty()) {
      out.insert(std::move(c));
    }
  }
  return out;
}

// Emits a step when it starts and when it ends, timestamped by the injected clock.
class StepReporter {
 public:
  StepReporter(const StepCallback& callback, core::Clock& clock)
      : callback_(callback), clock_(clock) {}

  core::Result<void> Run(const std::string& name,
                         const std::string& component,
                         const std::function<core::Result<void>()>& body,
                         const std::string& success_message = "") {
    Step step{.name = name, .component = component};
    step.started_at = clock_.Now();
    step.finished_at = step.started_at;
    Emit(step);
    auto result = body();
    step.finished_at = clock_.Now();
    step.state = result ? StepState::kSucceeded : StepState::kFailed;
    step.message = result ? success_message : result.error().message;
    Emit(step);
    return result;
  }

 private:
  void Emit(const Step& step) const {
    if (callback_) {
      callback_(step);
    }
  }
  const StepCallback& callback_;
  core::Clock& clock_;
};

// Reloads `driver` with `bundle`, then verifies it; the error of the first step that fails.
core::Result<void> Activate(StepReporter& steps,
                            ComponentDriver& driver,
                            const render::Bundle& bundle) {
  const auto component = driver.Component();
  auto step = steps.Run("reload", component, [&] { return driver.Activate(bundle); });
  if (step) {
    step = steps.Run("verify", component, [&] { return driver.Verify(bundle); });
  }
  return step;
}

// The components an apply activates: those the plan changes, or, when `current` was never
// verified (a crash after the swap) and what the components run is unknown, every component of
// either bundle.
std::set<std::string> Affected(const Plan& plan,
                               const render::Bundle& bundle,
                               const std::optional<render::Bundle>& current_bundle,
                               bool current_verified) {
  if (current_verified) {
    return plan.Components();
  }
  std::set<std::string> affected = ComponentsWithFiles(bundle);
  if (current_bundle) {
    const auto more = ComponentsWithFiles(*current_bundle);
    affected.insert(more.begin(), more.end());
  }
  return affected;
}

// Makes `last_good` current again (or none, without one) and activates it on the `activated`
// drivers.
core::Result<void> RollBack(RevisionStore& store,
                            std::optional<int> last_good,
                            const std::vector<ComponentDriver*>& activated,
                            StepReporter& steps) {
  if (!last_good) {
    return store.ClearCurrent();
  }
  if (auto swapped = store.SetCurrent(*last_good); !swapped) {
    return swapped;
  }
  auto good = store.Load(*last_good);
  if (!good) {
    return good.error();
  }
  for (auto* driver : activated) {
    if (auto step = Activate(steps, *driver, *good); !step) {
      return core::MakeError(step.error().code, driver->Component() +
                                                    " did not take the last good revision back: " +
                                                    step.error().message);
    }
  }
  return {};
}

}  // namespace

const char* StepStateName(StepState state) {
  switch (state) {
    case StepState::kRunning:
      return "running";
    case StepState::kSucceeded:
      return "succeeded";
    case StepState::kFailed:
      return "failed";
  }
  return "failed";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUnchanged:
      return "unchanged";
    case Outcome::kApplied:
      return "applied";
    case Outcome::kRolledBack:
      return "rolled_back";
    case Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

Applier::Applier(std::filesystem::path data_dir, core::Clock& clock, RevisionStoreOptions options)
    : data_dir_(std::move(data_dir)), clock_(clock), options_(options) {
}

std::filesystem::path Applier::EnvRoot(const std::string& stack, const std::string& env) const {
  return data_dir_ / "stacks" / stack / env;
}

namespace {

// Calls `use` with the revisions of (stack, env) opened (crash recovery done) under its lock.
template <class Use>
auto WithRevisions(const std::filesystem::path& root,
                   const std::string& stack,
                   const std::string& env,
                   const RevisionStoreOptions& options,
                   Use use) -> decltype(use(std::declval<RevisionStore&>())) {
  auto lock = EnvLock::Acquire(stack, env, root);
  if (!lock) {
    return lock.error();
  }
  auto store = RevisionStore::Open(root, options);
  if (!store) {
    return store.error();
  }
  return use(*store);
}

// The revision to activate. A complete but unverified `current` with the wanted content is
// reused rather than copied; otherwise `bundle` is written as a new revision and made current.
core::Result<int> TargetRevision(RevisionStore& store,
                                 const render::Bundle& bundle,
                                 std::optional<int> current,
                                 const std::string& desired_hash,
                                 StepReporter& steps) {
  if (current && store.Hash(*current) == desired_hash) {
    return *current;
  }
  int target = 0;
  auto written = steps.Run("write", "", [&]() -> core::Result<void> {
    auto n = store.Write(bundle);
    if (!n) {
      return n.error();
    }
    target = *n;
    return store.SetCurrent(target);
  });
  if (!written) {
    return written.error();
  }
  return target;
}

}  // namespace

core::Result<Plan> Applier::PlanFor(const std::string& stack,
                                    const std::string& env,
                                    const render::Bundle& bundle) {
  return WithRevisions(EnvRoot(stack, env), stack, env, options_,
                       [&](RevisionStore& store) -> core::Result<Plan> {
                         std::optional<render::Bundle> applied;
                         if (const auto current = store.Current()) {
                           auto loaded = store.Load(*current);
                           if (!loaded) {
                             return loaded.error();
                           }
                           applied = std::move(loaded).value();
                         }
                         return ComputePlan(bundle, applied);
                       });
}

core::Result<void> Applier::ForgetLastGood(const std::string& stack, const std::string& env) {
  return WithRevisions(EnvRoot(stack, env), stack, env, options_,
                       [](RevisionStore& store) { return store.ClearLastGood(); });
}

ApplyResult Applier::Apply(const std::string& stack,
                           const std::string& env,
                           const render::Bundle& bundle,
                           const std::vector<ComponentDriver*>& drivers,
                           const StepCallback& on_step) {
  ApplyResult result;
  StepReporter steps(on_step, clock_);
  const auto fail = [&](core::Error error) {
    result.outcome = Outcome::kFailed;
    result.error = std::move(error);
    return result;
  };

  auto lock = EnvLock::Acquire(stack, env, EnvRoot(stack, env));
  if (!lock) {
    return fail(lock.error());
  }
  auto opened = RevisionStore::Open(EnvRoot(stack, env), options_);
  if (!opened) {
    return fail(opened.error());
  }
  auto& store = opened.value();
  const auto current = store.Current();
  const auto last_good = store.LastGood();
  const auto desired_hash = bundle.ContentHash();
  result.revision = current;

  if (current && current == last_good && store.Hash(*current) == desired_hash) {
    result.outcome = Outcome::kUnchanged;
    return result;
  }

  std::optional<render::Bundle> current_bundle;
  if (current) {
    auto loaded = store.Load(*current);
    if (!loaded) {
      return fail(loaded.error());
    }
    current_bundle = std::move(loaded).value();
  }
  result.plan = ComputePlan(bundle, current_bundle);
  const std::set<std::string> affected =
      Affected(result.plan, bundle, current_bundle, current && current == last_good);

  auto written = TargetRevision(store, bundle, current, desired_hash, steps);
  if (!written) {
    result.revision = store.Current();
    return fail(written.error());
  }
  const int target = *written;
  result.attempted = target;
  result.revision = target;

  std::vector<ComponentDriver*> activated;
  std::optional<core::Error> failure;
  for (auto* driver : drivers) {
    const auto component = driver->Component();
    if (!affected.contains(component)) {
      continue;
    }
    activated.push_back(driver);
    result.components.push_back(component);
    if (auto step = Activate(steps, *driver, bundle); !step) {
      failure = step.error();
      result.failed_component = component;
      break;
    }
  }

  if (!failure) {
    if (auto marked = store.MarkLastGood(target); !marked) {
      return fail(marked.error());
    }
    result.outcome = Outcome::kApplied;
    return result;
  }

  result.error = failure;
  result.outcome = Outcome::kRolledBack;
  auto rolled = steps.Run(
      "rollback", "", [&] { return RollBack(store, last_good, activated, steps); },
      last_good ? "back on revision " + std::to_string(*last_good) : "no revision to go back to");
  result.revision = store.Current();
  if (!rolled || !last_good) {
    result.outcome = Outcome::kFailed;
  }
  return result;
}

}  // namespace obsforge::apply
