#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/backend.h"
#include "control/gitops_service.h"
#include "control/health_runtime.h"
#include "control/import_service.h"
#include "control/operations.h"
#include "control/overview.h"
#include "control/retention.h"
#include "control/stack_service.h"
#include "control/trust.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "gitops/config.h"
#include "store/leadership.h"
#include "store/store.h"

namespace obsforge::control {

/// What the application is configured with (an aggregate).
struct ApplicationOptions {
  std::filesystem::path data_dir = "./var";  ///< files sent with specs, gitops caches
  std::filesystem::path content_dir = ".";   ///< where specs sent alone find their files
  int operation_workers = 4;                 ///< operations running at once
  /// This process's name among the replicas sharing the store (claims, leadership); empty:
  /// "<hostname>-<pid>-<random>".
  std::string replica_id;
  /// How long a claim on an operation holds without renewal (OperationRunnerOptions::lease).
  std::chrono::milliseconds operation_lease{10000};
  /// Which of the processes sharing the store runs the loops that must run once (not owned;
  /// must outlive the application). Null: this process is the only one (SoleLeadership).
  store::Leadership* leadership = nullptr;
  /// Called (on the leadership's thread) when this process stops being the leader while it
  /// runs; its leader loops are stopped already and cannot start again, so the caller should
  /// end the process (a supervisor starts it again as a follower). May be empty.
  std::function<void()> leadership_lost;
  /// How often the leader of several processes looks for environments another process applied
  /// or tore down, to probe what they run now.
  std::chrono::milliseconds leader_resync{1000};
  /// The gitops sources; their caches go under data_dir/gitops.
  std::vector<gitops::SourceConfig> gitops;
  /// Resolves the gitops sources' secrets; empty: the process environment.
  core::EnvLookup secret_env;
  /// Told about every broken gitops commit, besides the Slack announcement that a HealthRuntime
  /// makes. May be empty.
  BrokenCommitHook gitops_broken_commit;
  /// How long health history, sent Slack messages and webhook delivery ids are kept.
  RetentionOptions retention;
  /// The server's rules for the specs it receives (see TrustPolicy); nullopt: none, specs run
  /// with the caller's own authority (`up`).
  std::optional<TrustOptions> trust;
  /// A rule every spec must pass before it is stored (StackService). Empty: none.
  SpecRule spec_rule;
  /// Reads the Grafanas that imports name (not owned; must outlive the application). Null:
  /// imports read configuration files only.
  http::HttpClient* import_http = nullptr;
};

/// One environment as it stands now: what runs it and, when watched, its health.
struct EnvironmentNow {
  RuntimeStatus runtime;
  std::optional<health::EnvironmentStatus> health;  ///< nullopt when not watched
};

/// The application obsforge is: stacks, revisions and operations (StackService over an
/// OperationRunner), the gitops sources, the store's retention and, when given one, continuous
/// health with Slack (HealthRuntime). Free of any transport: `serve` puts the REST API in front
/// of it, `up` a terminal. Every result is a typed value; runtime failures are core::Error
/// values, bad input throws core::InputError.
///
/// Lifecycle: construct → Start() → … → Stop() (the destructor stops too), both from one thread.
/// Everything else is thread-safe.
class Application {
 public:
  /// Everything passed must outlive the application. `backend` is the real one; with `health`
  /// (may be null) operations go through its watched backend, applies are announced on Slack,
  /// broken gitops commits too, and the health queries answer.
  Application(ApplicationOptions options,
              store::Store& store,
              EnvironmentBackend& backend,
              core::Clock& clock,
              core::Logger& logger,
              HealthRuntime* health = nullptr);
  ~Application();
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  /// Stacks, environments, revisions and operations.
  StackService& stacks() { return *service_; }
  /// The gitops sources.
  GitOpsService& gitops() { return *gitops_; }
  /// Imports of hand-built stacks (configuration files, a live Grafana).
  const ImportService& importer() const { return *importer_; }
  /// Continuous health; null when the application runs without it.
  HealthRuntime* health() { return health_; }
  /// The stacks' own secrets; null without trust options (`up`).
  StackSecrets* secrets() { return secrets_.get(); }
  /// The rules specs are held to; null without trust options (`up`). Its SecretsOf() is where
  /// the backend and health must resolve each stack's secrets.
  const TrustPolicy* trust() const { return trust_.get(); }
  /// The operation runner (to observe operations: AddObserver before Start()).
  OperationRunner& operations() { return *runner_; }
  /// The clock the application reads "now" from.
  core::Clock& clock() { return clock_; }
  /// Who leads the processes sharing the store.
  const store::Leadership& leadership() const { return *leadership_; }
  /// This process's name among them.
  const std::string& replica_id() const { return runner_->owner(); }

  /// With trust options: refuses a content directory inside the data directory, loads the
  /// secrets keys and re-seals what a previous key sealed (kPrecondition for either, and
  /// nothing starts). Recovers from a previous run (StackService::Recover), starts running
  /// operations, and takes part in the leadership: once this process leads, it probes (with
  /// health) every stored external environment, and starts the gitops sources and the retention
  /// pass. kNotFound naming a gitops secret reference that cannot be resolved when this process
  /// leads at once (the sole process of its store: what was started is stopped again; among
  /// several, the error is logged). Idempotent.
  core::Result<void> Start();
  /// Stops the gitops sources and the retention pass, refuses new operations and waits for
  /// those queued or running until `deadline` (still queued then: failed), then stops health.
  /// Returns true when every operation finished in time. Idempotent.
  bool Stop(std::chrono::steady_clock::time_point deadline);

  /// Ready to serve: the store answers. kUnavailable otherwise.
  core::Result<void> Ready();
  /// How many stacks are stored.
  core::Result<std::size_t> StackCount();
  /// Every stack with its environments (state, components, health) and last operations.
  core::Result<std::vector<StatusStack>> Overview();
  /// `env` of `stack` now. Never throws except std::bad_alloc.
  EnvironmentNow Environment(const std::string& stack, const std::string& env);

 private:
  ApplicationOptions options_;
  store::Store& store_;
  EnvironmentBackend& backend_;  // the real one, for status
  core::Clock& clock_;
  core::Logger& logger_;
  HealthRuntime* health_;
  std::unique_ptr<StackSecrets> secrets_;  // null without options_.trust
  std::unique_ptr<TrustPolicy> trust_;     // null without options_.trust
  std::unique_ptr<OperationRunner> runner_;
  std::unique_ptr<StackService> service_;
  std::unique_ptr<GitOpsService> gitops_;
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<ImportService> importer_;
  std::unique_ptr<store::Leadership> sole_;  // when options_.leadership is null
  store::Leadership* leadership_;
  // The loops only the leader runs: started once elected, stopped when leadership is lost or the
  // application stops.
  core::Result<void> StartLeading();
  void StopLeading();
  void ResyncLoop();
  std::mutex leading_mu_;
  std::condition_variable resync_cv_;
  bool leading_ = false;
  bool led_ = false;  // leading_ was true once: the loops cannot start again
  std::thread resync_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace obsforge::control
