#include "control/application.h"

#include <map>
#include <set>

#include "apply/runtime.h"
#include "control/health_watcher.h"
#include "spec/stack.h"

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
  if (options_.leadership != nullptr) {
    leadership_ = options_.leadership;
  } else {
    sole_ = std::make_unique<store::SoleLeadership>("");
    leadership_ = sole_.get();
  }
  runner_ = std::make_unique<OperationRunner>(store_, logger_,
                                              OperationRunnerOptions{
                                                  .workers = options_.operation_workers,
                                                  .owner = options_.replica_id,
                                                  .lease = options_.operation_lease,
                                              });
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
  runner_->Stop();  // the work and the keeper call into members destroyed before the runner
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
  auto recovered = service_->Recover();
  if (!recovered.ok()) {
    logger_.Error("recovery after restart failed", {{"error", recovered.error().message}});
  } else if (*recovered > 0) {
    logger_.Info("re-applying local environments after restart",
                 {{"operations", std::to_string(*recovered)}});
  }
  service_->StartWork();
  // Other processes sharing the store: their operations wake the workers at once instead of at
  // the next poll, and their environment writes drop the cached stack views.
  store_.Subscribe([runner = runner_.get(), service = service_.get()](const store::StoreChange& c) {
    if (c.kind == store::StoreChange::Kind::kOperations) {
      runner->Wake();
    } else {
      service->InvalidateViews();
    }
  });
  if (sole_) {
    // The only process of its store leads at once, and a loop that cannot start fails Start().
    sole_->Start({});
    if (auto leading = StartLeading(); !leading.ok()) {
      Stop(std::chrono::steady_clock::now());
      return leading.error();
    }
    return {};
  }
  leadership_->Start(
      {.elected =
           [this] {
             logger_.Info("leadership acquired", {{"replica", replica_id()}});
             if (auto leading = StartLeading(); !leading.ok()) {
               logger_.Error("leader loops cannot start", {{"error", leading.error().message}});
             }
           },
       .lost =
           [this] {
             logger_.Error("leadership lost", {{"replica", replica_id()}});
             StopLeading();
             if (options_.leadership_lost) {
               options_.leadership_lost();
             }
           }});
  return {};
}

core::Result<void> Application::StartLeading() {
  {
    std::lock_guard lock(leading_mu_);
    if (led_ || stopped_) {
      return {};
    }
    leading_ = true;
    led_ = true;
  }
  if (health_ != nullptr) {
    health_->Start();
    health_->WatchStored();
    if (!sole_) {
      // Other processes apply too: follow what they leave running.
      resync_ = std::thread([this] { ResyncLoop(); });
    }
  }
  // After recovery: a first sync queues behind the re-applies.
  if (auto gitops = gitops_->Start(); !gitops.ok()) {
    return gitops.error();
  }
  retention_->Start();
  return {};
}

void Application::StopLeading() {
  {
    std::lock_guard lock(leading_mu_);
    if (!leading_) {
      return;
    }
    leading_ = false;
  }
  resync_cv_.notify_all();
  if (resync_.joinable()) {
    resync_.join();
  }
  gitops_->Stop();  // no sync starts new operations while the runner drains
  retention_->Stop();
  if (health_ != nullptr) {
    health_->Stop();
  }
}

void Application::ResyncLoop() {
  // What each watched environment last was: a change (an apply or teardown by any process)
  // re-watches it with the spec it runs now; a vanished one is no longer probed.
  std::map<std::pair<std::string, std::string>, std::string> seen;
  bool first = true;
  std::unique_lock lock(leading_mu_);
  while (leading_) {
    lock.unlock();
    std::map<std::pair<std::string, std::string>, std::string> now;
    auto stacks = store_.ListStacks();
    bool complete = stacks.ok();
    for (const store::Stack& stored : stacks.ok() ? *stacks : std::vector<store::Stack>{}) {
      auto envs = store_.ListEnvironments(stored.name);
      auto stack = StoredSpec(stored.name, stored.spec_json);
      if (!envs.ok() || !stack.ok()) {
        complete = false;
        continue;
      }
      for (const store::EnvironmentState& e : *envs) {
        if (e.last_good_revision <= 0) {
          continue;
        }
        try {
          if (apply::KindOf(spec::ForEnvironment(*stack, e.env)).runs_components_here) {
            continue;
          }
        } catch (const core::InputError&) {
          continue;  // the environment left the spec
        }
        const std::string version = std::to_string(stored.revision) + "/" +
                                    std::to_string(e.last_good_revision) + "/" +
                                    e.last_operation_id;
        now[{stored.name, e.env}] = version;
        auto it = seen.find({stored.name, e.env});
        // The first pass only records: WatchStored watched them all.
        if (!first && (it == seen.end() || it->second != version)) {
          health_->watcher().Watch(*stack, e.env);
        }
      }
    }
    if (complete) {
      for (const auto& [key, version] : seen) {
        if (!now.contains(key)) {
          health_->watcher().Unwatch(key.first, key.second);
        }
      }
      seen = std::move(now);
      first = false;
    }
    lock.lock();
    resync_cv_.wait_for(lock, options_.leader_resync, [this] { return !leading_; });
  }
}

bool Application::Stop(std::chrono::steady_clock::time_point deadline) {
  if (stopped_) {
    return true;
  }
  {
    std::lock_guard lock(leading_mu_);
    stopped_ = true;
  }
  leadership_->Stop();
  store_.Subscribe({});
  // Loops first: no sync starts new operations while the runner drains.
  std::unique_lock lock(leading_mu_);
  const bool leading = leading_;
  lock.unlock();
  if (leading) {
    gitops_->Stop();
    retention_->Stop();
  }
  const bool finished = runner_->Drain(deadline);
  if (!finished) {
    logger_.Warn("drain deadline passed with operations still running");
  }
  if (finished) {
    runner_->Stop();  // its threads call into the service, which goes first on destruction
  }
  StopLeading();
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
