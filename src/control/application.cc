#include "control/application.h"

namespace obsforge::control {

Application::Application(ApplicationOptions options,
                         store::Store& store,
                         EnvironmentBackend& backend,
                         core::Clock& clock,
                         core::Logger& logger,
                         HealthRuntime* health)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      clock_(clock),
      logger_(logger),
      health_(health) {
  runner_ = std::make_unique<OperationRunner>(
      store_, logger_, OperationRunnerOptions{.workers = options_.operation_workers});
  if (options_.trust) {
    secrets_ = std::make_unique<StackSecrets>(options_.trust->keys, store_);
    trust_ = std::make_unique<TrustPolicy>(*options_.trust, options_.data_dir, secrets_.get(),
                                           options_.secret_env);
  }
  service_ = std::make_unique<StackService>(
      ServiceOptions{.content_dir = options_.content_dir,
                     .data_dir = options_.data_dir,
                     .trust = trust_.get(),
                     .secrets = secrets_.get(),
                     .spec_rule = options_.spec_rule},
      store_, health_ != nullptr ? health_->backend() : backend_, *runner_, logger_);
  GitOpsOptions gitops{.sources = options_.gitops,
                       .cache_dir = options_.data_dir / "gitops",
                       .env = options_.secret_env};
  if (health_ != nullptr || options_.gitops_broken_commit) {
    // A broken commit is announced where the stacks' own messages go.
    gitops.on_broken_commit = [health = health_, hook = options_.gitops_broken_commit](
                                  const std::string& source, const gitops::SyncReport& report,
                                  const std::string& operation) {
      if (health != nullptr) {
        health->ReportBrokenCommit(source, report, operation);
      }
      if (hook) {
        hook(source, report, operation);
      }
    };
  }
  gitops_ = std::make_unique<GitOpsService>(std::move(gitops), *service_, store_, logger_);
  retention_ = std::make_unique<Retention>(options_.retention, store_, clock_, logger_);
  importer_ =
      std::make_unique<ImportService>(options_.import_http, ImportLimits{.quote_answers = false});
}

Application::~Application() {
  Stop(std::chrono::steady_clock::time_point::max());
}

core::Result<void> Application::Start() {
  if (started_) {
    return {};
  }
  started_ = true;
  if (options_.trust &&
      IsWithin(ResolvedPath(options_.content_dir), ResolvedPath(options_.data_dir))) {
    Stop(std::chrono::steady_clock::now());
    return core::MakeError(core::ErrorCode::kPrecondition,
                           "content_dir " + options_.content_dir.string() +
                               " lies inside data_dir " + options_.data_dir.string() +
                               ": specs would read obsforge's own files; move one of them");
  }
  if (secrets_) {
    if (auto loaded = secrets_->LoadKeys(); !loaded.ok()) {
      Stop(std::chrono::steady_clock::now());
      return loaded.error();
    }
    auto resealed = secrets_->Rotate();
    if (!resealed.ok()) {
      Stop(std::chrono::steady_clock::now());
      return resealed.error();
    }
    if (*resealed > 0) {
      logger_.Info("stack secrets re-sealed under the current key",
                   {{"secrets", std::to_string(*resealed)}});
    }
  }
  if (health_ != nullptr) {
    health_->Start();
  }
  auto recovered = service_->Recover();
  if (!recovered.ok()) {
    logger_.Error("recovery after restart failed", {{"error", recovered.error().message}});
  } else if (*recovered > 0) {
    logger_.Info("re-applying local environments after restart",
                 {{"operations", std::to_string(*recovered)}});
  }
  if (health_ != nullptr) {
    health_->WatchStored();
  }
  // After recovery: a first sync queues behind the re-applies.
  if (auto gitops = gitops_->Start(); !gitops.ok()) {
    Stop(std::chrono::steady_clock::now());
    return gitops.error();
  }
  retention_->Start();
  return {};
}

bool Application::Stop(std::chrono::steady_clock::time_point deadline) {
  if (stopped_) {
    return true;
  }
  stopped_ = true;
  gitops_->Stop();  // no sync starts new operations while the runner drains
  retention_->Stop();
  const bool finished = runner_->Drain(deadline);
  if (!finished) {
    logger_.Warn("drain deadline passed with operations still running");
  }
  if (health_ != nullptr) {
    health_->Stop();
  }
  return finished;
}

core::Result<void> Application::Ready() {
  if (auto ping = store_.Ping(); !ping.ok()) {
    return core::MakeError(core::ErrorCode::kUnavailable, "store: " + ping.error().message);
  }
  return {};
}

core::Result<std::size_t> Application::StackCount() {
  auto stacks = store_.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  return stacks->size();
}

core::Result<std::vector<StatusStack>> Application::Overview() {
  return CollectStatus(store_, backend_, health_ != nullptr ? &health_->monitor() : nullptr);
}

EnvironmentNow Application::Environment(const std::string& stack, const std::string& env) {
  return EnvironmentNow{
      .runtime = backend_.Status(stack, env),
      .health = health_ != nullptr ? health_->monitor().Status(stack, env) : std::nullopt};
}

}  // namespace obsforge::control
