#include "control/stack_service.h"

#include <algorithm>
#include <exception>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "apply/runtime.h"
#include "core/clock.h"
#include "core/diagnostic.h"
#include "core/fs.h"
#include "core/hash.h"

namespace obsforge::control {
namespace {

using core::ErrorCode;
using core::MakeError;
using store::OperationKind;
using store::OperationState;

std::string EnvState(apply::Outcome outcome) {
  switch (outcome) {
    case apply::Outcome::kApplied:
    case apply::Outcome::kUnchanged:
      return "ready";
    case apply::Outcome::kRolledBack:
      return "degraded";
    case apply::Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

OperationState OpState(apply::Outcome outcome) {
  switch (outcome) {
    case apply::Outcome::kApplied:
    case apply::Outcome::kUnchanged:
      return OperationState::kSucceeded;
    case apply::Outcome::kRolledBack:
      return OperationState::kRolledBack;
    case apply::Outcome::kFailed:
      return OperationState::kFailed;
  }
  return OperationState::kFailed;
}

core::Error NoEnvironment(const std::string& stack, const std::string& env) {
  return MakeError(ErrorCode::kNotFound,
                   "stack \"" + stack + "\" has no environment \"" + env + "\"");
}

bool HasEnv(const spec::StackSpec& stack, const std::string& env) {
  return std::find(stack.environments.begin(), stack.environments.end(), env) !=
         stack.environments.end();
}

bool IsApplyKind(OperationKind kind) {
  return kind == OperationKind::kCreate || kind == OperationKind::kUpdate ||
         kind == OperationKind::kApply || kind == OperationKind::kRollback ||
         kind == OperationKind::kSync;
}

// Every problem in one line, for the error of an operation or a sync.
std::string Describe(const std::vector<core::Diagnostic>& problems) {
  std::string out;
  for (const auto& d : problems) {
    out += (out.empty() ? "" : "; ") + d.ToString();
  }
  return out;
}

// The sync operations of the environments in `envs` that do not run `revision` yet: a commit
// that did not touch a stack leaves its ready environments alone.
std::vector<store::NewOperation> SyncsNeeded(store::Store& store,
                                             const std::string& name,
                                             std::int64_t revision,
                                             const std::vector<std::string>& envs,
                                             const std::string& actor) {
  std::vector<store::NewOperation> ops;
  for (const std::string& env : envs) {
    auto current = store.GetEnvironment(name, env);
    if (current.ok() && current->applied_revision == revision && current->state == "ready") {
      continue;
    }
    ops.push_back({.kind = OperationKind::kSync,
                   .stack = name,
                   .env = env,
                   .revision = revision,
                   .actor = actor});
  }
  return ops;
}

// A delete cut short after the stack left the store leaves its files behind in `content_dir`.
void RemoveContentOfUnstored(const std::filesystem::path& content_dir,
                             const std::set<std::string>& stored) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(content_dir, ec)) {
    if (entry.is_directory() && !stored.contains(entry.path().filename().string())) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

StackService::StackService(ServiceOptions options,
                           store::Store& store,
                           EnvironmentBackend& backend,
                           OperationRunner& runner,
                           core::Logger& logger)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      runner_(runner),
      logger_(logger) {
}

SpecInput StackService::ParseSpec(const std::string& body, const std::string& file) const {
  // Whatever the two directories are, a spec and its templates never read the data directory
  // (other stacks' uploads, secrets files, revisions).
  return ParseSpecBody(body, file, options_.content_dir, {}, {options_.data_dir});
}

render::Bundle StackService::Render(const SpecInput& input, const std::string& env) {
  return backend_.Render(input.stack, env, *input.content);
}

std::filesystem::path StackService::ContentDir(const std::string& name,
                                               const std::string& hash) const {
  return options_.data_dir / "content" / name / hash;
}

core::Result<void> StackService::SaveFiles(const std::string& name, const SpecInput& input) {
  if (input.files.empty()) {
    return {};
  }
  const auto dir = ContentDir(name, input.hash);
  try {
    for (const auto& [path, content] : input.files) {
      core::WriteFileAtomic(dir / path, content, 0600);
    }
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInternal,
                     std::string("cannot store the spec's files: ") + e.what());
  }
  return {};
}

core::Result<SpecInput> StackService::Load(const std::string& name,
                                           const std::string& spec_json,
                                           const std::string& spec_hash) {
  SpecInput input;
  const auto dir = ContentDir(name, spec_hash);
  std::error_code ec;
  // The stack's own uploads (under the data directory, in its namespace), or the content
  // directory without the data directory.
  input.content =
      std::filesystem::is_directory(dir, ec)
          ? spec::MakeDirectorySource(dir)
          : HideDirectories(spec::MakeDirectorySource(options_.content_dir), {options_.data_dir});
  try {
    input.stack = spec::ParseStack(spec_json, name + ".json", *input.content);
  } catch (const core::InputError& e) {
    // The stored spec was valid when stored; its content directory changed since.
    return MakeError(ErrorCode::kInvalidSpec,
                     std::string("stored spec no longer valid: ") + e.what());
  }
  if (options_.trust != nullptr) {
    // It followed the rules when stored; the operator may have tightened them since.
    if (auto problems = options_.trust->Problems(input.stack); !problems.empty()) {
      return MakeError(ErrorCode::kInvalidSpec,
                       "the stored spec breaks the server's rules: " + Describe(problems));
    }
  }
  input.hash = spec_hash;
  return input;
}

core::Result<SpecInput> StackService::LoadRevision(const std::string& name, std::int64_t revision) {
  auto rev = store_.GetRevision(name, revision);
  if (!rev.ok()) {
    return rev.error();
  }
  return Load(name, rev->spec_json, rev->spec_hash);
}

void StackService::DistrustIfAppliedElsewhere(const std::string& name, const std::string& env) {
  // The store records the hash of the bundle the last apply left live, whichever replica ran
  // it; this replica's revisions on disk record what it applied itself. When they differ,
  // another replica applied since, and the local "last good" no longer says what is live: an
  // apply compared against it could skip changed components as unchanged (or roll back to it).
  auto live = store_.GetEnvironment(name, env);
  if (!live.ok() || live->bundle_hash.empty()) {
    return;
  }
  auto mine = backend_.Applied(name, env);
  if (!mine || mine->ContentHash() == live->bundle_hash) {
    return;
  }
  logger_.Info("environment applied by another replica since; applying in full",
               {{"stack", name}, {"env", env}, {"live_bundle", live->bundle_hash.substr(0, 12)}});
  if (auto forgot = backend_.ForgetApplied(name, env); !forgot.ok()) {
    logger_.Warn("cannot forget the last applied revision",
                 {{"stack", name}, {"env", env}, {"error", forgot.error().message}});
  }
}

OperationWork StackService::ApplyWork(const std::string& name,
                                      const std::string& env,
                                      std::int64_t revision) {
  return [this, name, env, revision](OperationContext& ctx) -> OperationOutcome {
    auto input = LoadRevision(name, revision);
    if (!input.ok()) {
      // Never left pending: the environment says why nothing was applied.
      if (auto current = store_.GetEnvironment(name, env);
          current.ok() && current->state == "pending") {
        store::EnvironmentState failed = *current;
        failed.state = "failed";
        failed.last_operation_id = ctx.operation().id;
        failed.message = input.error().message;
        (void)UpsertEnvironment(failed);
      }
      return {.state = OperationState::kFailed, .error = input.error().message};
    }
    DistrustIfAppliedElsewhere(name, env);
    const apply::ApplyResult result =
        backend_.Apply(input->stack, env, *input->content, ctx.Callback());
    const std::string error = result.error ? result.error->message : "";
    store::EnvironmentState state;
    if (auto current = store_.GetEnvironment(name, env); current.ok()) {
      state = *current;
    }
    state.stack = name;
    state.env = env;
    state.state = EnvState(result.outcome);
    state.last_operation_id = ctx.operation().id;
    state.message = error;
    if (result.outcome == apply::Outcome::kApplied ||
        result.outcome == apply::Outcome::kUnchanged) {
      state.applied_revision = revision;
      state.last_good_revision = revision;
      if (auto applied = backend_.Applied(name, env)) {
        state.bundle_hash = applied->ContentHash();
        state.last_good_bundle_hash = state.bundle_hash;
      }
    }
    if (auto saved = UpsertEnvironment(state); !saved.ok()) {
      logger_.Warn("cannot record environment state",
                   {{"stack", name}, {"env", env}, {"error", saved.error().message}});
    }
    nlohmann::json summary = {{"outcome", apply::OutcomeName(result.outcome)},
                              {"components", result.components},
                              {"plan", result.plan.ToJson()["summary"]}};
    if (result.revision) {
      summary["applied_revision"] = *result.revision;
    }
    if (!result.failed_component.empty()) {
      summary["failed_component"] = result.failed_component;
    }
    return {.state = OpState(result.outcome), .error = error, .result_json = summary.dump()};
  };
}

std::vector<store::NewOperation> StackService::ApplyAll(OperationKind kind,
                                                        const std::string& name,
                                                        const std::vector<std::string>& envs,
                                                        const std::string& actor) {
  std::vector<store::NewOperation> ops;
  ops.reserve(envs.size());
  for (const std::string& env : envs) {
    ops.push_back({.kind = kind, .stack = name, .env = env, .actor = actor});
  }
  return ops;
}

core::Result<void> StackService::TeardownLeft(const std::string& name,
                                              const spec::StackSpec& stack,
                                              const std::string& actor,
                                              std::vector<store::NewOperation>& ops) {
  auto known = store_.ListEnvironments(name);
  if (!known.ok()) {
    return known.error();
  }
  for (const store::EnvironmentState& e : *known) {
    if (!HasEnv(stack, e.env)) {
      ops.push_back(
          {.kind = OperationKind::kTeardown, .stack = name, .env = e.env, .actor = actor});
    }
  }
  return {};
}

core::Result<std::vector<store::Operation>> StackService::Queue(
    const OperationRunner::Creator& create) {
  // No ++env_generation_: that would rebuild every stack's cached view on every change. A
  // spec change moves its stack's revision (the cache's key); a pending row an apply adds for
  // an environment that had none shows once the view is older than status_max_age.
  return runner_.SubmitCreated(create);
}

core::Result<Submitted> StackService::QueueSpec(const std::string& name,
                                                const store::SpecChange& change,
                                                bool create,
                                                std::optional<std::int64_t> if_match,
                                                const std::vector<store::NewOperation>& ops,
                                                bool changed) {
  Submitted submitted{.stack = name, .changed = changed};
  auto created = Queue([&]() -> core::Result<std::vector<store::Operation>> {
    auto written = create ? store_.CreateStackQueued(name, change, ops)
                          : store_.UpdateSpecQueued(name, change, if_match, ops);
    if (!written.ok()) {
      return written.error();
    }
    submitted.revision = written->stack.revision;
    return std::move(written->operations);
  });
  if (!created.ok()) {
    return created.error();
  }
  submitted.operations = std::move(*created);
  return submitted;
}

OperationWork StackService::WorkOf(const store::Operation& op) {
  switch (op.kind) {
    case OperationKind::kPlan:
      return PlanWork(op.stack, op.env, op.revision);
    case OperationKind::kTeardown:
      return TeardownWork(op.stack, op.env);
    case OperationKind::kDelete:
      return DeleteWork(op.stack);
    default:
      return ApplyWork(op.stack, op.env, op.revision);
  }
}

OperationWork StackService::PlanWork(const std::string& name,
                                     const std::string& env,
                                     std::int64_t revision) {
  return [this, name, env, revision](OperationContext& /*ctx*/) -> OperationOutcome {
    auto input = LoadRevision(name, revision);
    if (!input.ok()) {
      return {.state = OperationState::kFailed, .error = input.error().message};
    }
    try {
      auto plan = backend_.Plan(input->stack, env, *input->content);
      if (!plan.ok()) {
        return {.state = OperationState::kFailed, .error = plan.error().message};
      }
      return {.result_json = plan->ToJson().dump()};
    } catch (const core::InputError& e) {
      return {.state = OperationState::kFailed, .error = e.what()};
    }
  };
}

core::Result<Submitted> StackService::SyncSpec(const SpecInput& input,
                                               const store::SpecChange& origin,
                                               const std::vector<std::string>& apply_envs,
                                               const std::vector<std::string>& plan_envs) {
  const std::string& name = input.stack.name;
  if (options_.spec_rule) {
    try {
      options_.spec_rule(input.stack);
    } catch (const core::InputError& e) {
      return MakeError(ErrorCode::kInvalidSpec, e.what());
    }
  }
  store::SpecChange change = origin;
  change.spec_json = input.stack.document.dump();
  change.spec_hash = input.hash;
  auto existing = store_.GetStack(name);
  if (!existing.ok() && existing.error().code != ErrorCode::kNotFound) {
    return existing.error();
  }
  const bool changed = !existing.ok() || existing->spec_hash != input.hash;
  if (changed && options_.trust != nullptr) {
    if (auto problems = options_.trust->Problems(input.stack); !problems.empty()) {
      return MakeError(ErrorCode::kInvalidSpec,
                       "stack \"" + name + "\" breaks the server's rules: " + Describe(problems));
    }
  }
  if (!changed) {
    const std::vector<store::NewOperation> ops =
        SyncsNeeded(store_, name, existing->revision, apply_envs, origin.actor);
    Submitted submitted{.stack = name, .revision = existing->revision, .changed = false};
    if (ops.empty()) {
      return submitted;
    }
    auto created = Queue([&] { return store_.CreateOperations(ops); });
    if (!created.ok()) {
      return created.error();
    }
    submitted.operations = std::move(*created);
    return submitted;
  }
  if (auto saved = SaveFiles(name, input); !saved.ok()) {
    return saved.error();
  }
  std::vector<store::NewOperation> ops =
      ApplyAll(OperationKind::kSync, name, apply_envs, origin.actor);
  for (const std::string& env : plan_envs) {
    ops.push_back({.kind = OperationKind::kPlan, .stack = name, .env = env, .actor = origin.actor});
  }
  if (existing.ok()) {
    if (auto left = TeardownLeft(name, input.stack, origin.actor, ops); !left.ok()) {
      return left.error();
    }
  }
  return QueueSpec(name, change, !existing.ok(), std::nullopt, ops, true);
}

core::Result<Submitted> StackService::Create(
    const SpecInput& input,
    const std::optional<std::vector<std::string>>& environments,
    const std::string& actor) {
  if (options_.spec_rule) {
    options_.spec_rule(input.stack);
  }
  const std::vector<std::string> envs = environments.value_or(input.stack.environments);
  for (const std::string& env : envs) {
    if (!HasEnv(input.stack, env)) {
      return MakeError(ErrorCode::kInvalidSpec,
                       "stack \"" + input.stack.name + "\" has no environment \"" + env + "\"");
    }
  }
  if (options_.trust != nullptr) {
    options_.trust->Check(input.stack);
  }
  if (auto saved = SaveFiles(input.stack.name, input); !saved.ok()) {
    return saved.error();
  }
  return QueueSpec(
      input.stack.name,
      {.spec_json = input.stack.document.dump(), .spec_hash = input.hash, .actor = actor}, true,
      std::nullopt, ApplyAll(OperationKind::kCreate, input.stack.name, envs, actor), true);
}

core::Result<StackList> StackService::List() {
  auto stacks = store_.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  return StackList{.stacks = std::move(*stacks)};
}

core::Result<store::EnvironmentState> StackService::UpsertEnvironment(
    const store::EnvironmentState& state) {
  auto saved = store_.UpsertEnvironment(state);
  ++env_generation_;  // after the write: a view built before it is never taken as current
  return saved;
}

core::Result<std::shared_ptr<const StackDetail>> StackService::Get(const std::string& name) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  const std::uint64_t generation = env_generation_.load();
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mu_);
    auto it = view_cache_.find(name);
    if (it != view_cache_.end() && it->second.view->stack.revision == stack->revision &&
        it->second.updated_at == stack->updated_at && it->second.generation == generation &&
        now - it->second.built < options_.status_max_age) {
      return it->second.view;
    }
  }
  auto envs = store_.ListEnvironments(name);
  if (!envs.ok()) {
    return envs.error();
  }
  auto view = std::make_shared<StackDetail>();
  view->stack = std::move(*stack);
  for (store::EnvironmentState& e : *envs) {
    RuntimeStatus runtime = backend_.Status(name, e.env);
    view->environments.push_back(
        EnvironmentView{.state = std::move(e), .runtime = std::move(runtime)});
  }
  std::lock_guard lock(cache_mu_);
  view_cache_[name] = CachedView{
      .updated_at = view->stack.updated_at, .generation = generation, .built = now, .view = view};
  return std::shared_ptr<const StackDetail>(std::move(view));
}

core::Result<Submitted> StackService::Update(const std::string& name,
                                             const SpecInput& input,
                                             std::optional<std::int64_t> if_match,
                                             const std::string& actor) {
  if (auto existing = store_.GetStack(name); !existing.ok()) {
    return existing.error();
  }
  if (input.stack.name != name) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{
            .file = input.stack.file,
            .path = "metadata.name",
            .message = "is \"" + input.stack.name + "\" but the URL names stack \"" + name + "\""});
  }
  if (options_.trust != nullptr) {
    options_.trust->Check(input.stack);
  }
  if (options_.spec_rule) {
    options_.spec_rule(input.stack);
  }
  if (auto saved = SaveFiles(name, input); !saved.ok()) {
    return saved.error();
  }
  std::vector<store::NewOperation> ops =
      ApplyAll(OperationKind::kUpdate, name, input.stack.environments, actor);
  // An environment the new spec no longer has must not keep running unseen: tear it down.
  if (auto left = TeardownLeft(name, input.stack, actor, ops); !left.ok()) {
    return left.error();
  }
  return QueueSpec(
      name, {.spec_json = input.stack.document.dump(), .spec_hash = input.hash, .actor = actor},
      false, if_match, ops, true);
}

OperationWork StackService::TeardownWork(const std::string& name, const std::string& env) {
  return [this, name, env](OperationContext& ctx) -> OperationOutcome {
    if (auto down = backend_.Teardown(name, env, ctx.Callback()); !down.ok()) {
      return {.state = OperationState::kFailed, .error = down.error().message};
    }
    if (auto forgot = store_.DeleteEnvironment(name, env); !forgot.ok()) {
      return {.state = OperationState::kFailed, .error = forgot.error().message};
    }
    ++env_generation_;
    return {};
  };
}

OperationWork StackService::DeleteWork(const std::string& name) {
  return [this, name](OperationContext& ctx) -> OperationOutcome {
    // Its claim waited for every earlier operation of the stack (store::ClaimNextOperation).
    auto envs = store_.ListEnvironments(name);
    if (!envs.ok()) {
      return {.state = OperationState::kFailed, .error = envs.error().message};
    }
    std::string error;
    for (const store::EnvironmentState& e : *envs) {
      auto down = backend_.Teardown(name, e.env, ctx.Callback());
      if (!down.ok()) {
        error += (error.empty() ? "" : "; ") + e.env + ": " + down.error().message;
      }
    }
    if (!error.empty()) {
      return {.state = OperationState::kFailed, .error = error};
    }
    if (auto removed = store_.DeleteStack(name); !removed.ok()) {
      return {.state = OperationState::kFailed, .error = removed.error().message};
    }
    {
      std::lock_guard lock(cache_mu_);
      view_cache_.erase(name);
    }
    std::error_code ec;
    std::filesystem::remove_all(options_.data_dir / "content" / name, ec);
    if (options_.secrets != nullptr) {
      // A stack created later under this name must not inherit them.
      if (auto forgot = options_.secrets->DeleteAll(name); !forgot.ok()) {
        return {.state = OperationState::kFailed, .error = forgot.error().message};
      }
    }
    return {};
  };
}

core::Result<Queued> StackService::QueueOne(const store::NewOperation& op) {
  auto created = Queue([&] { return store_.CreateOperations({op}); });
  if (!created.ok()) {
    return created.error();
  }
  return Queued{.stack = op.stack, .operation = std::move(created->front())};
}

core::Result<Queued> StackService::Delete(const std::string& name, const std::string& actor) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  return QueueOne(
      {.kind = OperationKind::kDelete, .stack = name, .revision = stack->revision, .actor = actor});
}

core::Result<SpecInput> StackService::LoadWithEnv(const store::Stack& stack,
                                                  const std::string& spec_json,
                                                  const std::string& spec_hash,
                                                  const std::string& env) {
  auto input = Load(stack.name, spec_json, spec_hash);
  if (!input.ok()) {
    return input.error();
  }
  if (!HasEnv(input->stack, env)) {
    return NoEnvironment(stack.name, env);
  }
  return input;
}

core::Result<PlanView> StackService::Plan(const std::string& name, const std::string& env) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  auto input = LoadWithEnv(*stack, stack->spec_json, stack->spec_hash, env);
  if (!input.ok()) {
    return input.error();
  }
  auto plan = backend_.Plan(input->stack, env, *input->content);
  if (!plan.ok()) {
    return plan.error();
  }
  return PlanView{.stack = name, .env = env, .revision = stack->revision, .plan = std::move(*plan)};
}

core::Result<Queued> StackService::Apply(const std::string& name,
                                         const std::string& env,
                                         const std::string& actor) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  if (auto input = LoadWithEnv(*stack, stack->spec_json, stack->spec_hash, env); !input.ok()) {
    return input.error();
  }
  // Revision 0: the store takes the current one in the transaction that queues the apply, so an
  // update committed meanwhile is not undone by this apply superseding it.
  return QueueOne({.kind = OperationKind::kApply, .stack = name, .env = env, .actor = actor});
}

core::Result<Queued> StackService::Rollback(const std::string& name,
                                            const std::string& env,
                                            std::int64_t revision,
                                            const std::string& actor) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  auto rev = store_.GetRevision(name, revision);
  if (!rev.ok()) {
    return rev.error();
  }
  if (auto input = LoadWithEnv(*stack, rev->spec_json, rev->spec_hash, env); !input.ok()) {
    return input.error();
  }
  return QueueOne({.kind = OperationKind::kRollback,
                   .stack = name,
                   .env = env,
                   .revision = revision,
                   .actor = actor});
}

core::Result<render::Bundle> StackService::Rendered(const std::string& name,
                                                    const std::string& env) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  auto input = LoadWithEnv(*stack, stack->spec_json, stack->spec_hash, env);
  if (!input.ok()) {
    return input.error();
  }
  return backend_.Render(input->stack, env, *input->content);
}

core::Result<store::SpecRevision> StackService::Revision(const std::string& name,
                                                         std::int64_t number) {
  return store_.GetRevision(name, number);
}

core::Result<render::Bundle> StackService::RenderedRevision(const std::string& name,
                                                            const std::string& env,
                                                            std::int64_t number) {
  auto stack = store_.GetStack(name);
  if (!stack.ok()) {
    return stack.error();
  }
  auto rev = store_.GetRevision(name, number);
  if (!rev.ok()) {
    return rev.error();
  }
  auto input = LoadWithEnv(*stack, rev->spec_json, rev->spec_hash, env);
  if (!input.ok()) {
    return input.error();
  }
  return backend_.Render(input->stack, env, *input->content);
}

core::Result<RevisionList> StackService::Revisions(const std::string& name) {
  auto revisions = store_.ListRevisions(name, 0);
  if (!revisions.ok()) {
    return revisions.error();
  }
  auto envs = store_.ListEnvironments(name);
  auto ops = store_.ListOperations({.stack = name, .limit = 1000});
  RevisionList out{.stack = name};
  for (store::SpecRevision& r : *revisions) {
    RevisionView view;
    if (envs.ok()) {
      for (const auto& e : *envs) {
        if (e.applied_revision == r.number) {
          view.environments[e.env] = {.applied = true, .bundle_hash = e.bundle_hash};
        } else if (e.last_good_revision == r.number) {
          view.environments[e.env] = {.applied = false, .bundle_hash = e.last_good_bundle_hash};
        }
      }
    }
    if (ops.ok()) {
      // Newest first: the latest operation that applied this revision decides.
      for (const auto& op : *ops) {
        if (op.revision == r.number && op.kind != OperationKind::kDelete &&
            op.kind != OperationKind::kPlan) {
          view.outcome = store::Name(op.state);
          break;
        }
      }
    }
    view.revision = std::move(r);
    out.revisions.push_back(std::move(view));
  }
  return out;
}

core::Result<store::Operation> StackService::Operation(const std::string& id) {
  return store_.GetOperation(id);
}

void StackService::CloseInterrupted(const store::Operation& op, const std::string& reason) {
  // Steps first: when this is cut short the operation is still unfinished, and the next start
  // closes what is left.
  if (auto full = store_.GetOperation(op.id); full.ok()) {
    for (const store::OperationStep& step : full->steps) {
      if (store::IsTerminal(step.state)) {
        continue;
      }
      const auto closed = step.state == store::StepState::kPending ? store::StepState::kSkipped
                                                                   : store::StepState::kFailed;
      (void)store_.UpdateStep(op.id, step.index, closed, reason);
    }
  }
}

bool StackService::RunsHere(const std::string& name,
                            const std::string& env,
                            std::int64_t revision) {
  auto input = LoadRevision(name, revision);
  if (!input.ok() || !HasEnv(input->stack, env)) {
    return false;
  }
  try {
    return apply::KindOf(spec::ForEnvironment(input->stack, env)).runs_components_here;
  } catch (const core::InputError&) {
    return false;
  }
}

void StackService::StartWork() {
  runner_.Start(
      [this](const store::Operation& op) { return WorkOf(op); },
      [this](const std::vector<store::Operation>& abandoned) {
        auto queued = Reconcile(abandoned,
                                "interrupted: the replica that claimed it "
                                "stopped renewing its claim");
        if (!queued.ok()) {
          logger_.Error("cannot recover abandoned operations", {{"error", queued.error().message}});
        }
      });
}

core::Result<int> StackService::Recover() {
  constexpr const char* kInterrupted = "interrupted by restart";
  auto abandoned = runner_.FailAbandoned(kInterrupted);
  if (!abandoned.ok()) {
    return abandoned.error();
  }
  auto queued = Reconcile(*abandoned, kInterrupted, true);
  // A delete cut short after the stack left the store leaves its files behind.
  std::set<std::string> stored;
  if (auto stacks = store_.ListStacks(); stacks.ok()) {
    for (const store::Stack& stack : *stacks) {
      stored.insert(stack.name);
    }
    RemoveContentOfUnstored(options_.data_dir / "content", stored);
  }
  return queued;
}

core::Result<int> StackService::Reconcile(const std::vector<store::Operation>& interrupted_ops,
                                          const std::string& reason,
                                          bool at_start) {
  EnvKeys interrupted;
  for (const store::Operation& op : interrupted_ops) {
    CloseInterrupted(op, reason);
    interrupted.emplace(op.stack, op.env);
  }
  // Environments with an operation still to run or running (another replica's, or queued
  // before a restart): that operation brings them where they belong.
  auto unfinished = store_.ListUnfinishedOperations();
  if (!unfinished.ok()) {
    return unfinished.error();
  }
  EnvKeys busy;
  for (const store::Operation& op : *unfinished) {
    busy.emplace(op.stack, op.env);
  }
  auto stacks = store_.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  int queued = 0;
  for (const store::Stack& stack : *stacks) {
    const auto ops = RecoveryOperations(stack, busy, interrupted, at_start);
    if (ops.empty()) {
      continue;
    }
    auto created = Queue([&] { return store_.CreateOperations(ops); });
    if (!created.ok()) {
      logger_.Warn("cannot queue recovery",
                   {{"stack", stack.name}, {"error", created.error().message}});
      continue;
    }
    queued += static_cast<int>(created->size());
  }
  return queued;
}

std::vector<store::NewOperation> StackService::RecoveryOperations(const store::Stack& stack,
                                                                  const EnvKeys& busy,
                                                                  const EnvKeys& interrupted,
                                                                  bool at_start) {
  std::vector<store::NewOperation> ops;
  if (busy.contains({stack.name, ""})) {
    return ops;  // a delete is on its way
  }
  auto envs = store_.ListEnvironments(stack.name);
  if (!envs.ok()) {
    return ops;
  }
  auto head = Load(stack.name, stack.spec_json, stack.spec_hash);
  for (const store::EnvironmentState& e : *envs) {
    if (busy.contains({stack.name, e.env})) {
      continue;
    }
    if (head.ok() && !HasEnv(head->stack, e.env)) {
      if (at_start) {
        ops.push_back({.kind = OperationKind::kTeardown,
                       .stack = stack.name,
                       .env = e.env,
                       .revision = stack.revision,
                       .actor = "obsforge"});
      }
      continue;
    }
    const std::int64_t target = e.last_good_revision > 0 ? e.last_good_revision : stack.revision;
    const bool touched = interrupted.contains({stack.name, e.env}) ||
                         interrupted.contains({stack.name, ""}) ||
                         (at_start && e.state == "pending");
    if (!touched && !(at_start && RunsHere(stack.name, e.env, target))) {
      continue;
    }
    ops.push_back({.kind = OperationKind::kApply,
                   .stack = stack.name,
                   .env = e.env,
                   .revision = target,
                   .actor = "obsforge"});
  }
  return ops;
}

std::optional<ApplySummary> StackService::ApplySummaryOf(const store::Operation& op) {
  if (!IsApplyKind(op.kind) || !store::IsTerminal(op.state) || op.result_json.empty()) {
    return std::nullopt;
  }
  // The summary SubmitApply stored; a result that does not parse (or another writer's) is none.
  const auto result = nlohmann::json::parse(op.result_json, nullptr, false);
  if (!result.is_object() || !result.contains("outcome") || !result["outcome"].is_string()) {
    return std::nullopt;
  }
  ApplySummary summary{.outcome = result["outcome"].get<std::string>()};
  if (auto it = result.find("applied_revision"); it != result.end() && it->is_number_integer()) {
    summary.revision = it->get<std::int64_t>();
  }
  if (auto it = result.find("failed_component"); it != result.end() && it->is_string()) {
    summary.failed_component = it->get<std::string>();
  }
  return summary;
}

}  // namespace obsforge::control
