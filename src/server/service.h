#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "server/backend.h"
#include "server/operations.h"
#include "server/spec_body.h"
#include "store/store.h"

namespace obsforge::server {

/// Options of a StackService.
struct ServiceOptions {
  std::filesystem::path content_dir = ".";   ///< where specs sent alone find their files
  std::filesystem::path data_dir = "./var";  ///< files sent with specs: data_dir/content/...
  /// GET /stacks/{name} answers from a cached view while the stack and its environment states
  /// are unchanged and the runtime status in it is younger than this.
  std::chrono::milliseconds status_max_age{1000};
};

/// What the REST API does, free of HTTP: stacks, environments, operations. Turns requests into
/// store writes and queued operations that drive the EnvironmentBackend. Thread-safe.
/// Runtime failures are core::Error values (kNotFound, kConflict, kPrecondition, ...); bad
/// input throws core::InputError.
class StackService {
 public:
  /// Everything passed must outlive the service.
  StackService(ServiceOptions options,
               store::Store& store,
               EnvironmentBackend& backend,
               OperationRunner& runner,
               core::Logger& logger);

  /// Stores `input` as a new stack (revision 1) and queues one create operation per environment
  /// (all, or `environments` — each must exist). {stack, revision, operations: [...]}.
  core::Result<nlohmann::json> Create(const SpecInput& input,
                                      const std::optional<std::vector<std::string>>& environments,
                                      const std::string& actor);
  /// {stacks: [{name, revision, spec_hash, created_at, updated_at}]}.
  core::Result<nlohmann::json> List();
  /// A stack as served: the JSON text and the revision (the ETag).
  struct StackView {
    std::int64_t revision = 0;
    std::string json;  ///< {name, revision, spec_hash, spec, created_at, updated_at, environments}
  };
  /// The stack with per-environment state and runtime status. The stored spec JSON is spliced
  /// in as is (it was serialised by this service), which keeps the hottest endpoint cheap.
  core::Result<StackView> Get(const std::string& name);
  /// Replaces the spec (metadata.name must equal `name`); `if_match` is the expected revision.
  /// Queues an update operation per environment. {stack, revision, operations}.
  core::Result<nlohmann::json> Update(const std::string& name,
                                      const SpecInput& input,
                                      std::optional<std::int64_t> if_match,
                                      const std::string& actor);
  /// Queues the teardown of every environment, then the removal of the stack. {operation}.
  core::Result<nlohmann::json> Delete(const std::string& name, const std::string& actor);
  /// The plan of an apply of the current spec to `env`. Plan::ToJson(limit).
  core::Result<nlohmann::json> Plan(const std::string& name,
                                    const std::string& env,
                                    const apply::DiffLimit& limit = {});
  /// Queues an apply of the current spec to `env`. {operation}.
  core::Result<nlohmann::json> Apply(const std::string& name,
                                     const std::string& env,
                                     const std::string& actor);
  /// Queues an apply of spec revision `revision` to `env` (kind rollback). {operation}.
  core::Result<nlohmann::json> Rollback(const std::string& name,
                                        const std::string& env,
                                        std::int64_t revision,
                                        const std::string& actor);
  /// The bundle `env` renders to from the current spec.
  core::Result<render::Bundle> Rendered(const std::string& name, const std::string& env);
  /// {revisions: [{number, spec_hash, source, actor, created_at, commit..., environments}]}.
  core::Result<nlohmann::json> Revisions(const std::string& name);
  /// The operation with its steps and progress.
  core::Result<nlohmann::json> Operation(const std::string& id);

  /// GitOps: makes `input` the spec of its stack as recorded by `origin` (source, commit,
  /// actor; spec_json/spec_hash are taken from `input`), creating the stack when absent and
  /// adding no revision when the hash is unchanged. Then queues an apply (kind sync) of each of
  /// `apply_envs` not already ready at the current revision, a plan (kind plan, the diff kept as
  /// the operation's result) of each of `plan_envs` when the spec changed, and a teardown of
  /// environments that left the spec. Ownership is the caller's business.
  /// {stack, revision, changed, operations: [...]}.
  core::Result<nlohmann::json> SyncSpec(const SpecInput& input,
                                        const store::SpecChange& origin,
                                        const std::vector<std::string>& apply_envs,
                                        const std::vector<std::string>& plan_envs);

  /// After a restart: fails every unfinished operation ("interrupted by restart") and queues an
  /// apply of the last good revision of every `local` environment. Returns operations queued.
  core::Result<int> Recover();

  /// {files: {path: {sha256, content}}, hash}.
  static nlohmann::json BundleJson(const render::Bundle& bundle);
  /// The API view of an operation.
  static nlohmann::json OperationJson(const store::Operation& op);

 private:
  // The spec of a stored revision, with its content source.
  core::Result<SpecInput> Load(const std::string& name,
                               const std::string& spec_json,
                               const std::string& spec_hash);
  core::Result<void> SaveFiles(const std::string& name, const SpecInput& input);
  core::Result<store::Operation> SubmitApply(store::OperationKind kind,
                                             const std::string& name,
                                             const std::string& env,
                                             std::int64_t revision,
                                             const std::string& actor);
  // Computes the plan of `revision` for `env` and keeps it as the operation's result.
  core::Result<store::Operation> SubmitPlan(const std::string& name,
                                            const std::string& env,
                                            std::int64_t revision,
                                            const std::string& actor);
  // Stops and forgets an environment that left the spec (kind teardown).
  core::Result<store::Operation> SubmitTeardown(const std::string& name,
                                                const std::string& env,
                                                std::int64_t revision,
                                                const std::string& actor);
  core::Result<nlohmann::json> SubmitAll(store::OperationKind kind,
                                         const store::Stack& stack,
                                         const std::vector<std::string>& envs,
                                         const std::string& actor);
  std::filesystem::path ContentDir(const std::string& name, const std::string& hash) const;
  // Every environment-state write goes through here: it invalidates the cached views.
  core::Result<store::EnvironmentState> UpsertEnvironment(const store::EnvironmentState& state);

  struct CachedView {
    store::TimeMs updated_at = 0;
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point built;
    StackView view;
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

}  // namespace obsforge::server
