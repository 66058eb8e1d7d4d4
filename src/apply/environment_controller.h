#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "apply/binaries.h"
#include "apply/provision_step.h"
#include "apply/runtime.h"
#include "apply/supervisor.h"
#include "apply/transaction.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/http_client.h"
#include "provision/ownership.h"
#include "render/bundle.h"
#include "render/render.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// Opens the ownership ledger of (stack, env): the store in the server, a file for the CLI.
using LedgerFactory = std::function<core::Result<std::unique_ptr<provision::OwnershipLedger>>(
    const std::string& stack, const std::string& env)>;

/// Options of an EnvironmentController (an aggregate).
struct ControllerOptions {
  std::filesystem::path data_dir = "./var";        ///< revisions, runtime dirs, secrets
  std::filesystem::path templates_dir;             ///< empty: the templates built into obsforge
  std::chrono::milliseconds ready_timeout{60000};  ///< a started component must be ready by then
  std::string path_env = ProcessPath();            ///< where component binaries are looked up
  SupervisorOptions supervisor;
  core::EnvLookup env_lookup = core::ProcessEnv();  ///< where `{secret: NAME}` values come from
  /// When set, where the secrets of each stack come from instead of env_lookup (the server).
  core::StackEnvLookup stack_env;
  /// Where provisioned objects are recorded; unset: a JSON file per environment,
  /// `<data_dir>/stacks/<stack>/<env>/provisioned.json` (provision::FileLedger).
  LedgerFactory ledgers;
  /// Attempts per provisioning request (retries on connection errors, 5xx and 429 included).
  int provision_attempts = 4;
};

/// The one code path from a stack spec to a running, verified environment, shared by the CLI
/// (`plan`, `apply`, `up`) and the server: render → write revision → start or reload → verify →
/// record, or roll back (see Applier). Each environment gets its Runtime (MakeRuntime) on first
/// use, kept until Teardown: local environments run as supervised children of this process,
/// external ones are written to their config dirs and reloaded over HTTP.
/// Thread-safe; applies of one (stack, env) are serialized by the Applier's lock.
class EnvironmentController {
 public:
  /// `http`, `clock` and `logger` must outlive the controller.
  EnvironmentController(ControllerOptions options,
                        http::HttpClient& http,
                        core::Clock& clock,
                        core::Logger& logger);
  /// Stops every local component it started.
  ~EnvironmentController();
  EnvironmentController(const EnvironmentController&) = delete;
  EnvironmentController& operator=(const EnvironmentController&) = delete;

  /// Renders `env` as it would be applied (local environments with their real ports and
  /// directories). Throws core::InputError for an unknown environment or a template/content error.
  render::Bundle Render(const spec::StackSpec& stack,
                        const std::string& env,
                        const spec::ContentSource& content);

  /// What an apply would change, against the revision applied now: files, and the API objects
  /// the provision step would create, update or delete (Grafana, Loki ruler). An upstream that
  /// cannot be read makes a note in the plan ("grafana: cannot plan objects: ..."), not an error;
  /// so does a running component whose version is not the one the spec declares ("loki: running
  /// 2.9.9, the spec declares 3.0 ...").
  /// Throws core::InputError like Render(); I/O failures are kInternal.
  core::Result<Plan> PlanFor(const spec::StackSpec& stack,
                             const std::string& env,
                             const spec::ContentSource& content);

  /// Renders and applies `env`. Local: components not running are started (and must get ready)
  /// once their files are in place; running ones are reloaded or restarted when their files
  /// changed; an unchanged bundle writes and reloads nothing but still makes sure every component
  /// runs (this is how a restarted server brings environments back). A component whose binary is
  /// missing is reported in a step as `unavailable: <binary> not found on PATH`.
  /// Then, when the files are applied or unchanged, the "provision" step (see provision_step.h)
  /// reconciles Grafana objects and API-managed Loki rule groups; result.plan.objects lists what
  /// it changed. A provisioning failure makes the outcome kFailed with the upstream's error
  /// naming the object, and does NOT roll the files back: they are verified and independent of
  /// the API objects, the API writes already made cannot be undone by restoring files, and
  /// provisioning is idempotent, so the next apply retries exactly what is left.
  /// Never throws: a render error is Outcome::kFailed with a failed "render" step.
  ApplyResult Apply(const spec::StackSpec& stack,
                    const std::string& env,
                    const spec::ContentSource& content,
                    const StepCallback& on_step = {});

  /// Applies the bundle of a former `revision` again (it becomes a new revision).
  ApplyResult Rollback(const spec::StackSpec& stack,
                       const std::string& env,
                       int revision,
                       const StepCallback& on_step = {});

  /// Removes what obsforge provisioned for the environment (owned objects only; a "deprovision"
  /// step, skipped for a local Grafana that is not running), then stops the environment's local
  /// components and forgets its runtime. Revisions stay on disk. A deprovisioning failure is
  /// returned after the components are stopped.
  core::Result<void> Teardown(const std::string& stack,
                              const std::string& env,
                              const StepCallback& on_step = {});

  /// Applier::ForgetLastGood of (stack, env).
  core::Result<void> ForgetLastGood(const std::string& stack, const std::string& env) {
    return applier_.ForgetLastGood(stack, env);
  }

  /// The bundle `current` points at, if anything was applied.
  std::optional<render::Bundle> Applied(const std::string& stack, const std::string& env);

  /// The revisions of (stack, env) and, when its runtime is open in this process, the runtime's
  /// name and a state per component. Never throws.
  RuntimeStatus Status(const std::string& stack, const std::string& env);

  /// Base URL of each component of `env` (Runtime::Urls(): loopback URLs for a local
  /// environment, the runtime's `url` for an external one); empty when its runtime cannot be
  /// opened. Throws core::InputError for an unknown environment.
  std::map<std::string, std::string> Urls(const spec::StackSpec& stack, const std::string& env);

  /// Stops what the runtimes of every environment run.
  void StopAll();

 private:
  using Key = std::pair<std::string, std::string>;

  // The runtime of (stack, env), made on first use (or again when the spec asks for another
  // kind); the spec is handed to it on every call.
  core::Result<Runtime*> RuntimeFor(const spec::EnvironmentSpec& env);
  render::RenderOptions RenderOptionsFor(const Runtime* runtime) const;
  render::Bundle RenderMerged(const spec::EnvironmentSpec& env,
                              const spec::ContentSource& content,
                              const Runtime* runtime);
  // Resolves every secret the spec references and writes each value (0600) where the rendered
  // files point. A missing secret fails the apply before anything else is written.
  core::Result<void> WriteSecrets(const spec::EnvironmentSpec& env, const Runtime& runtime);
  // Render, secrets, then the runtime's apply and the provision step.
  ApplyResult ApplyWith(const spec::EnvironmentSpec& env,
                        const render::Bundle& bundle,
                        Runtime& runtime,
                        const StepCallback& on_step);
  // Where the `{secret: NAME}` of `stack` resolve.
  core::EnvLookup EnvFor(const std::string& stack) const;
  core::Result<std::unique_ptr<provision::OwnershipLedger>> OpenLedger(const std::string& stack,
                                                                       const std::string& env);
  // Deletes the owned objects of (stack, env) through the target saved by its last apply.
  core::Result<void> Deprovision(const std::string& stack,
                                 const std::string& env,
                                 const Runtime* runtime,
                                 const StepCallback& on_step);
  // The provision step after files were applied or found unchanged; updates `result`.
  void Provision(const spec::EnvironmentSpec& env,
                 const render::Bundle& bundle,
                 const Runtime& runtime,
                 ApplyResult& result,
                 const StepCallback& on_step);

  ControllerOptions options_;
  http::HttpClient& http_;
  core::Clock& clock_;
  core::Logger& logger_;
  Applier applier_;
  std::mutex mu_;  // guards runtimes_
  std::map<Key, std::unique_ptr<Runtime>> runtimes_;
};

}  // namespace obsforge::apply
