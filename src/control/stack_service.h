#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apply/plan.h"
#include "control/backend.h"
#include "control/operations.h"
#include "control/spec_body.h"
#include "control/trust.h"
#include "core/log.h"
#include "store/store.h"

namespace obsforge::control {

/// Options of a StackService.
/// A rule of the deployment that every spec must pass before it is stored (API create and
/// update, GitOps sync), beyond the spec's own validation: throws core::InputError
/// (kInvalidSpec) naming what it refuses and where.
using SpecRule = std::function<void(const spec::StackSpec&)>;

struct ServiceOptions {
  std::filesystem::path content_dir = ".";   ///< where specs sent alone find their files
  std::filesystem::path data_dir = "./var";  ///< files sent with specs: data_dir/content/...
  /// Get() answers from a cached view while the stack and its environment states are unchanged
  /// and the runtime status in it is younger than this.
  std::chrono::milliseconds status_max_age{1000};
  /// The server's rules for the specs it receives (checked on create, update, sync and before
  /// every operation); null: none, the caller's own authority (`up`).
  const TrustPolicy* trust = nullptr;
  /// The stacks' own secrets, deleted with their stack; null: none.
  StackSecrets* secrets = nullptr;
  /// Empty: no rule beyond the spec's validation.
  SpecRule spec_rule;
};

/// Operations queued for one stack by a create, an update or a sync.
struct Submitted {
  std::string stack;
  std::int64_t revision = 0;  ///< the spec revision they apply
  bool changed = true;        ///< false: a sync whose spec was already stored (no new revision)
  std::vector<store::Operation> operations;
};

/// One operation queued for a stack (delete, apply, rollback).
struct Queued {
  std::string stack;
  store::Operation operation;
};

/// The stored stacks.
struct StackList {
  std::vector<store::Stack> stacks;
};

/// One environment of a stack: where the operations left it and what runs it now.
struct EnvironmentView {
  store::EnvironmentState state;
  RuntimeStatus runtime;
};

/// A stack with its spec (as stored: secrets as references only), its revision and its
/// environments. Built once per change and shared by every reader: never modified.
struct StackDetail {
  store::Stack stack;
  std::vector<EnvironmentView> environments;
};

/// What an apply of a stack's current spec to one environment would change.
struct PlanView {
  std::string stack;
  std::string env;
  std::int64_t revision = 0;  ///< the spec revision planned
  apply::Plan plan;
};

/// One spec revision with what became of it.
struct RevisionView {
  /// An environment that runs this revision now (applied) or as its last good one.
  struct Environment {
    bool applied = false;     ///< true: live now; false: the environment's last good revision
    std::string bundle_hash;  ///< of the bundle that revision rendered to there
  };
  store::SpecRevision revision;
  std::string outcome = "none";  ///< state of the latest operation that applied it
  std::map<std::string, Environment> environments;
};

/// The revisions of a stack, newest first.
struct RevisionList {
  std::string stack;
  std::vector<RevisionView> revisions;
};

/// How an apply operation ended, read back from its stored result.
struct ApplySummary {
  std::string outcome;                   ///< apply::OutcomeName: "applied", "rolled_back", ...
  std::optional<std::int64_t> revision;  ///< the revision the runtime applied, when one did
  std::string failed_component;          ///< "" unless one component failed
};

/// Stacks, environments and operations, free of any transport: turns requests into store writes
/// and queued operations that drive the EnvironmentBackend. Thread-safe. Runtime failures are
/// core::Error values (kNotFound, kConflict, kPrecondition, ...); bad input throws
/// core::InputError.
class StackService {
 public:
  /// Everything passed must outlive the service.
  StackService(ServiceOptions options,
               store::Store& store,
               EnvironmentBackend& backend,
               OperationRunner& runner,
               core::Logger& logger);

  /// Parses a spec sent as `body` (ParseSpecBody, paths resolving in the content directory);
  /// `file` names it in diagnostics. Throws core::InputError.
  SpecInput ParseSpec(const std::string& body, const std::string& file) const;
  /// The bundle `env` of `input` renders to, without storing anything. Throws core::InputError
  /// (unknown environment, template or content error).
  render::Bundle Render(const SpecInput& input, const std::string& env);

  /// Stores `input` as a new stack (revision 1) and queues one create operation per environment
  /// (all, or `environments` — each must exist). Throws core::InputError when the spec rule
  /// refuses it (so do Update and, as a kInvalidSpec result, SyncSpec).
  core::Result<Submitted> Create(const SpecInput& input,
                                 const std::optional<std::vector<std::string>>& environments,
                                 const std::string& actor);
  /// Every stored stack.
  core::Result<StackList> List();
  /// The stack with per-environment state and runtime status, from a cached view (see
  /// ServiceOptions::status_max_age).
  core::Result<std::shared_ptr<const StackDetail>> Get(const std::string& name);
  /// Replaces the spec (metadata.name must equal `name`); `if_match` is the expected revision.
  /// Queues an update operation per environment, and a teardown of every environment the new
  /// spec no longer has.
  core::Result<Submitted> Update(const std::string& name,
                                 const SpecInput& input,
                                 std::optional<std::int64_t> if_match,
                                 const std::string& actor);
  /// Queues the teardown of every environment, then the removal of the stack.
  core::Result<Queued> Delete(const std::string& name, const std::string& actor);
  /// The plan of an apply of the current spec to `env`.
  core::Result<PlanView> Plan(const std::string& name, const std::string& env);
  /// Queues an apply of the current spec to `env`.
  core::Result<Queued> Apply(const std::string& name,
                             const std::string& env,
                             const std::string& actor);
  /// Queues an apply of spec revision `revision` to `env` (kind rollback).
  core::Result<Queued> Rollback(const std::string& name,
                                const std::string& env,
                                std::int64_t revision,
                                const std::string& actor);
  /// The bundle `env` renders to from the current spec.
  core::Result<render::Bundle> Rendered(const std::string& name, const std::string& env);
  /// The spec revisions of a stack, newest first, with the environments running each.
  core::Result<RevisionList> Revisions(const std::string& name);
  /// Revision `number` of `name` with its spec as stored (secrets as references only).
  /// kNotFound when the stack or the revision does not exist.
  core::Result<store::SpecRevision> Revision(const std::string& name, std::int64_t number);
  /// The bundle revision `number` of `name` renders to for `env` (as Rendered() does for the
  /// current spec). kNotFound for an unknown stack, revision or environment.
  core::Result<render::Bundle> RenderedRevision(const std::string& name,
                                                const std::string& env,
                                                std::int64_t number);
  /// The operation with its steps.
  core::Result<store::Operation> Operation(const std::string& id);

  /// GitOps: makes `input` the spec of its stack as recorded by `origin` (source, commit,
  /// actor; spec_json/spec_hash are taken from `input`), creating the stack when absent and
  /// adding no revision when the hash is unchanged. Then queues an apply (kind sync) of each of
  /// `apply_envs` not already ready at the current revision, a plan (kind plan, the diff kept as
  /// the operation's result) of each of `plan_envs` when the spec changed, and a teardown of
  /// environments that left the spec. Ownership is the caller's business.
  core::Result<Submitted> SyncSpec(const SpecInput& input,
                                   const store::SpecChange& origin,
                                   const std::vector<std::string>& apply_envs,
                                   const std::vector<std::string>& plan_envs);

  /// Forgets every cached view (another process wrote an environment state): the next Get()
  /// reads the store.
  void InvalidateViews() { ++env_generation_; }

  /// Starts running operations: the runner's workers claim them and run the work their row
  /// names; operations abandoned by a gone replica are reconciled as Recover() does for the
  /// interrupted ones (an apply of the environment's last good revision queued), without the
  /// restart-only parts. Once, after Recover().
  void StartWork();

  /// At start, reconciles every environment: each operation left running by a process that is
  /// gone (on SQLite: any earlier run; on PostgreSQL: a replica whose claim's lease ran out,
  /// never a live one's) is failed ("interrupted by restart") with its unfinished steps closed
  /// (running ones failed, pending ones skipped). Queued operations stay queued: their rows say
  /// what to do, and they run. Then an apply (actor "obsforge") of the last good revision — the
  /// head when there is none — is queued for every environment with no operation queued or
  /// running that an interrupted operation touched, that was left pending, or whose components
  /// run here (`local` runtime: they stopped with the process); an environment that left the
  /// spec is torn down. Files of stacks no longer stored are removed. Returns the operations
  /// queued.
  core::Result<int> Recover();

  /// How the apply operation `op` ended (create, update, apply, rollback, sync); nullopt for
  /// other kinds and for operations that have not finished.
  static std::optional<ApplySummary> ApplySummaryOf(const store::Operation& op);

 private:
  // The spec of a stored revision, with its content source.
  core::Result<SpecInput> Load(const std::string& name,
                               const std::string& spec_json,
                               const std::string& spec_hash);
  // The spec of revision `revision` of stack `name`.
  core::Result<SpecInput> LoadRevision(const std::string& name, std::int64_t revision);
  core::Result<void> SaveFiles(const std::string& name, const SpecInput& input);
  // The work of `op`, chosen from its row alone, so that any process holding the store could
  // run it (after a restart, or on another replica).
  OperationWork WorkOf(const store::Operation& op);
  // Applies `revision` to `env` and records where the environment stands.
  OperationWork ApplyWork(const std::string& name, const std::string& env, std::int64_t revision);
  // Computes the plan of `revision` for `env` and keeps it as the operation's result.
  OperationWork PlanWork(const std::string& name, const std::string& env, std::int64_t revision);
  // Stops and forgets an environment that left the spec (kind teardown).
  OperationWork TeardownWork(const std::string& name, const std::string& env);
  // Waits for the stack's other operations, tears every environment down, forgets the stack.
  OperationWork DeleteWork(const std::string& name);
  // Writes operations with `create` and schedules their work (see
  // OperationRunner::SubmitCreated).
  core::Result<std::vector<store::Operation>> Queue(const OperationRunner::Creator& create);
  core::Result<Queued> QueueOne(const store::NewOperation& op);
  // Stores `change` (a new stack when `create`) and queues `ops` in the same transaction.
  core::Result<Submitted> QueueSpec(const std::string& name,
                                    const store::SpecChange& change,
                                    bool create,
                                    std::optional<std::int64_t> if_match,
                                    const std::vector<store::NewOperation>& ops,
                                    bool changed);
  // One operation of `kind` per environment of `envs` (revision filled in by the store).
  static std::vector<store::NewOperation> ApplyAll(store::OperationKind kind,
                                                   const std::string& name,
                                                   const std::vector<std::string>& envs,
                                                   const std::string& actor);
  // Adds a teardown of every stored environment of `name` that `stack` no longer has.
  core::Result<void> TeardownLeft(const std::string& name,
                                  const spec::StackSpec& stack,
                                  const std::string& actor,
                                  std::vector<store::NewOperation>& ops);
  // Closes every unfinished step of `op` (failed already) with `reason`.
  void CloseInterrupted(const store::Operation& op, const std::string& reason);
  // Closes the steps of `interrupted` (failed already) and queues the applies that bring
  // their environments back (see Recover(); `at_start` adds the restart-only parts).
  core::Result<int> Reconcile(const std::vector<store::Operation>& interrupted,
                              const std::string& reason,
                              bool at_start = false);
  // (stack, environment) pairs; "" for the environment of a stack-wide operation.
  using EnvKeys = std::set<std::pair<std::string, std::string>>;
  // The operations Reconcile queues for the environments of `stack`: none for those `busy`
  // with an operation; an apply of the last good revision (or the head) for those
  // `interrupted`, or at start pending or running here; at start, a teardown for those the
  // head no longer has.
  std::vector<store::NewOperation> RecoveryOperations(const store::Stack& stack,
                                                      const EnvKeys& busy,
                                                      const EnvKeys& interrupted,
                                                      bool at_start);
  // Whether revision `revision` of `name` runs `env`'s components in this process's host
  // (the local runtime): a restart stopped them, so they must be applied again.
  bool RunsHere(const std::string& name, const std::string& env, std::int64_t revision);
  // The current spec of `name` loaded, checked to have `env` (kNotFound otherwise).
  core::Result<SpecInput> LoadWithEnv(const store::Stack& stack,
                                      const std::string& spec_json,
                                      const std::string& spec_hash,
                                      const std::string& env);
  std::filesystem::path ContentDir(const std::string& name, const std::string& hash) const;
  // Makes the next apply of (name, env) a full one when the store says another replica applied
  // a different bundle since this one did.
  void DistrustIfAppliedElsewhere(const std::string& name, const std::string& env);
  // Every environment-state write goes through here: it invalidates the cached views.
  core::Result<store::EnvironmentState> UpsertEnvironment(const store::EnvironmentState& state);

  struct CachedView {
    store::TimeMs updated_at = 0;
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point built;
    std::shared_ptr<const StackDetail> view;
  };

  ServiceOptions options_;
  store::Store& store_;
  EnvironmentBackend& backend_;
  OperationRunner& runner_;
  core::Logger& logger_;
  std::atomic<std::uint64_t> env_generation_{0};
  std::mutex cache_mu_;
  std::map<std::string, CachedView> view_cache_;  // by stack name
};

}  // namespace obsforge::control
