#include "apply/environment_controller.h"

#include "apply/alertmanager_driver.h"
#include "apply/binaries.h"
#include "apply/local_drivers.h"
#include "apply/prometheus_driver.h"
#include "apply/revisions.h"
#include "core/diagnostic.h"
#include "core/fs.h"
#include "provision/file_ledger.h"
#include "render/env.h"
#include "render/render.h"
#include "render/render_cache.h"

namespace obsforge::apply {
namespace {

// A driver that starts its component on the first apply (the files are in place only once the
// revision is written) and hands over to the reload/restart driver once the component runs.
class StartingDriver final : public ComponentDriver {
 public:
  StartingDriver(std::unique_ptr<ComponentDriver> inner,
                 LocalRuntime& runtime,
                 std::chrono::milliseconds ready_timeout)
      : inner_(std::move(inner)), runtime_(runtime), ready_timeout_(ready_timeout) {}

  std::string Component() const override { return inner_->Component(); }

  core::Result<void> Activate(const render::Bundle& bundle) override {
    const auto state = runtime_.State(Component());
    if (state && state->phase == ProcessPhase::kRunning) {
      return inner_->Activate(bundle);
    }
    if (auto started = runtime_.Start(Component()); !started.ok()) {
      return started;
    }
    return runtime_.WaitReady(Component(), ready_timeout_);
  }

  core::Result<void> Verify(const render::Bundle& bundle) override {
    return inner_->Verify(bundle);
  }

 private:
  std::unique_ptr<ComponentDriver> inner_;
  LocalRuntime& runtime_;
  std::chrono::milliseconds ready_timeout_;
};

void Report(const StepCallback& on_step, Step step) {
  if (on_step) {
    on_step(step);
  }
}

Step MakeStep(core::Clock& clock,
              std::string name,
              std::string component,
              StepState state,
              std::string message) {
  const auto now = clock.Now();
  return Step{.name = std::move(name),
              .component = std::move(component),
              .state = state,
              .started_at = now,
              .finished_at = now,
              .message = std::move(message)};
}

bool FilesApplied(const ApplyResult& result) {
  return result.outcome == Outcome::kApplied || result.outcome == Outcome::kUnchanged;
}

constexpr const char* kProvisionTargetFile = "provision.json";

ApplyResult FailedRender(const core::InputError& e) {
  ApplyResult result;
  result.outcome = Outcome::kFailed;
  result.error = core::Error{.code = e.kind() == core::InputError::Kind::kRender
                                         ? core::ErrorCode::kRender
                                         : core::ErrorCode::kInvalidSpec,
                             .message = e.what()};
  return result;
}

}  // namespace

EnvironmentController::EnvironmentController(ControllerOptions options,
                                             http::HttpClient& http,
                                             core::Clock& clock,
                                             core::Logger& logger)
    : options_(std::move(options)),
      http_(http),
      clock_(clock),
      logger_(logger),
      applier_(std::filesystem::absolute(options_.data_dir), clock),
      external_(std::filesystem::absolute(options_.data_dir), http, clock) {
  options_.data_dir = std::filesystem::absolute(options_.data_dir);
}

EnvironmentController::~EnvironmentController() {
  StopAll();
}

core::Result<LocalRuntime*> EnvironmentController::Local(const spec::EnvironmentSpec& env) {
  std::lock_guard lock(mu_);
  const Key key{env.stack, env.env};
  auto it = locals_.find(key);
  if (it != locals_.end()) {
    it->second->UpdateSpec(env);
    return it->second.get();
  }
  auto opened = LocalRuntime::Open(env,
                                   LocalRuntimeOptions{.data_dir = options_.data_dir,
                                                       .path_env = options_.path_env,
                                                       .supervisor = options_.supervisor},
                                   http_, clock_, logger_);
  if (!opened.ok()) {
    return opened.error();
  }
  auto* runtime = opened->get();
  locals_.emplace(key, std::move(opened.value()));
  return runtime;
}

render::RenderOptions EnvironmentController::RenderOptionsFor(const PortMap* ports) const {
  render::RenderOptions options;
  options.templates_dir = options_.templates_dir;
  options.data_root = options_.data_dir;
  if (ports != nullptr) {
    options.ports = *ports;
  }
  return options;
}

render::Bundle EnvironmentController::RenderMerged(const spec::EnvironmentSpec& env,
                                                   const spec::ContentSource& content,
                                                   const PortMap* ports) {
  // The shared cache re-renders only when the spec, a content file or a template changed, so an
  // unchanged apply costs reading the files, not evaluating Jsonnet (bench/README.md "Apply").
  return render::SharedRenderCache().Render(env, content, RenderOptionsFor(ports));
}

core::Result<void> EnvironmentController::WriteSecrets(const spec::EnvironmentSpec& env,
                                                       const PortMap* ports) {
  const auto refs = spec::CollectSecretRefs(env.merged);
  if (refs.empty()) {
    return {};
  }
  const auto dir = render::SecretsDir(env, RenderOptionsFor(ports));
  std::vector<std::pair<std::string, core::Secret>> values;
  std::string missing;
  for (const auto& ref : refs) {
    auto value = core::ResolveSecret(ref, options_.env_lookup);
    if (!value.ok()) {
      missing += (missing.empty() ? "" : "; ") + value.error().message;
      continue;
    }
    logger_.AddRedaction(value->Reveal());
    values.emplace_back(render::SecretFilePath(ref, dir), std::move(value.value()));
  }
  if (!missing.empty()) {
    return core::MakeError(core::ErrorCode::kNotFound, missing);
  }
  try {
    for (const auto& [path, value] : values) {
      core::WriteFileAtomic(path, value.Reveal(), 0600);
    }
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kInternal, e.what());
  }
  return {};
}

render::Bundle EnvironmentController::Render(const spec::StackSpec& stack,
                                             const std::string& env,
                                             const spec::ContentSource& content) {
  const auto merged = spec::ForEnvironment(stack, env);
  if (merged.runtime.type == spec::Runtime::Type::kLocal) {
    // Local ports are allocated once and kept in ports.json, so rendering needs the runtime.
    auto local = Local(merged);
    if (local.ok()) {
      return RenderMerged(merged, content, &(*local)->ports());
    }
    logger_.Warn("local runtime unavailable; rendering with default ports",
                 {{"stack", stack.name}, {"env", env}, {"error", local.error().message}});
  }
  return RenderMerged(merged, content, nullptr);
}

core::Result<Plan> EnvironmentController::PlanFor(const spec::StackSpec& stack,
                                                  const std::string& env,
                                                  const spec::ContentSource& content) {
  const auto bundle = Render(stack, env, content);
  auto plan = applier_.PlanFor(stack.name, env, bundle);
  if (!plan.ok()) {
    return plan;
  }
  const auto merged = spec::ForEnvironment(stack, env);
  LocalRuntime* runtime = nullptr;
  if (merged.runtime.type == spec::Runtime::Type::kLocal) {
    if (auto local = Local(merged); local.ok()) {
      runtime = *local;
    }
  }
  const auto target = TargetFor(merged, runtime);
  if (!target.Any()) {
    return plan;
  }
  auto ledger = OpenLedger(stack.name, env);
  if (!ledger.ok()) {
    plan->objects.notes.push_back("cannot plan objects: " + ledger.error().message);
    return plan;
  }
  plan->objects = PlanProvision(target, bundle,
                                ProvisionContext{.http = http_,
                                                 .clock = clock_,
                                                 .env_lookup = options_.env_lookup,
                                                 .logger = logger_,
                                                 .ledger = **ledger,
                                                 .owner = {.stack = stack.name, .env = env},
                                                 .max_attempts = options_.provision_attempts});
  return plan;
}

core::Result<std::unique_ptr<provision::OwnershipLedger>> EnvironmentController::OpenLedger(
    const std::string& stack, const std::string& env) {
  if (options_.ledgers) {
    return options_.ledgers(stack, env);
  }
  auto ledger = provision::FileLedger::Open(applier_.EnvRoot(stack, env) / "provisioned.json");
  if (!ledger.ok()) {
    return ledger.error();
  }
  return std::unique_ptr<provision::OwnershipLedger>(std::move(ledger.value()));
}

ProvisionTarget EnvironmentController::TargetFor(const spec::EnvironmentSpec& env,
                                                 LocalRuntime* runtime) const {
  return ProvisionTargetFor(env, runtime != nullptr ? runtime->BaseUrl("grafana") : "");
}

void EnvironmentController::Provision(const spec::EnvironmentSpec& env,
                                      const render::Bundle& bundle,
                                      LocalRuntime* runtime,
                                      ApplyResult& result,
                                      const StepCallback& on_step) {
  const auto target = TargetFor(env, runtime);
  if (!target.Any()) {
    return;
  }
  if (target.grafana_local) {
    // Like the other components: a missing binary is reported, and the rest still applies.
    if (auto binary = ResolveComponentBinary("grafana", options_.path_env); !binary.ok()) {
      Report(on_step, MakeStep(clock_, "provision", "grafana", StepState::kFailed,
                               "unavailable: " + binary.error().message));
      if (target.loki_url.empty()) {
        return;
      }
    }
  }
  // Saved (references only) so that a teardown, which has no spec, can find what to clean up.
  try {
    core::WriteFileAtomic(applier_.EnvRoot(env.stack, env.env) / kProvisionTargetFile,
                          target.ToJson().dump(1) + "\n", 0644);
  } catch (const std::exception& e) {
    logger_.Warn("cannot save the provision target",
                 {{"stack", env.stack}, {"env", env.env}, {"error", e.what()}});
  }
  auto step = MakeStep(clock_, "provision", "", StepState::kRunning, "");
  Report(on_step, step);
  ProvisionOutcome outcome;
  auto ledger = OpenLedger(env.stack, env.env);
  if (!ledger.ok()) {
    outcome.error = ledger.error();
    outcome.message = ledger.error().message;
  } else {
    outcome = RunProvision(
        target, bundle,
        ProvisionContext{.http = http_,
                         .clock = clock_,
                         .env_lookup = options_.env_lookup,
                         .logger = logger_,
                         .ledger = **ledger,
                         .owner = {.stack = env.stack, .env = env.env},
                         .revision = result.revision ? std::to_string(*result.revision) : "",
                         .max_attempts = options_.provision_attempts});
    if (auto* file = dynamic_cast<provision::FileLedger*>(ledger->get()); file != nullptr) {
      if (auto flushed = file->Flush(); !flushed.ok() && !outcome.error) {
        outcome.error = flushed.error();
        outcome.message = flushed.error().message;
      }
    }
  }
  result.plan.objects = std::move(outcome.changes);
  step.finished_at = clock_.Now();
  step.state = outcome.error ? StepState::kFailed : StepState::kSucceeded;
  step.message = outcome.message;
  if (outcome.error) {
    step.message += "; the files" +
                    (result.revision ? " of revision " + std::to_string(*result.revision) : "") +
                    " stay applied (not rolled back); the next apply retries what is left";
    result.outcome = Outcome::kFailed;
    result.failed_component = outcome.failed_target.empty() ? "grafana" : outcome.failed_target;
    result.error = std::move(outcome.error);
  }
  Report(on_step, step);
}

void EnvironmentController::EnsureRunning(LocalRuntime& runtime,
                                          const std::vector<std::string>& skip,
                                          ApplyResult* result,
                                          const StepCallback& on_step) {
  for (const auto& component : runtime.EnabledComponents()) {
    if (std::find(skip.begin(), skip.end(), component) != skip.end()) {
      continue;
    }
    const auto state = runtime.State(component);
    if (state &&
        (state->phase == ProcessPhase::kRunning || state->phase == ProcessPhase::kRestarting)) {
      continue;
    }
    auto step = MakeStep(clock_, "start", component, StepState::kRunning, "");
    Report(on_step, step);
    auto started = runtime.Start(component);
    if (started.ok()) {
      started = runtime.WaitReady(component, options_.ready_timeout);
    }
    step.finished_at = clock_.Now();
    step.state = started.ok() ? StepState::kSucceeded : StepState::kFailed;
    step.message =
        started.ok() ? "ready at " + runtime.BaseUrl(component) : started.error().message;
    Report(on_step, step);
    if (!started.ok() && result->outcome != Outcome::kFailed) {
      result->outcome = Outcome::kFailed;
      result->error = started.error();
      result->failed_component = component;
    }
  }
}

ApplyResult EnvironmentController::ApplyLocal(const spec::EnvironmentSpec& env,
                                              const render::Bundle& bundle,
                                              LocalRuntime& runtime,
                                              const StepCallback& on_step) {
  std::vector<std::unique_ptr<ComponentDriver>> owned;
  std::vector<ComponentDriver*> drivers;
  std::vector<std::string> unavailable;
  for (const auto& component : runtime.EnabledComponents()) {
    // A missing binary is reported, never skipped silently; the rest of the stack still applies.
    if (auto binary = ResolveComponentBinary(component, options_.path_env); !binary.ok()) {
      unavailable.push_back(component);
      Report(on_step, MakeStep(clock_, "start", component, StepState::kFailed,
                               "unavailable: " + binary.error().message));
      continue;
    }
    std::unique_ptr<ComponentDriver> inner;
    if (component == "prometheus") {
      inner = std::make_unique<PrometheusDriver>(
          PrometheusDriverOptions{.base_url = runtime.BaseUrl(component)}, http_, clock_);
    } else if (component == "alertmanager") {
      inner = std::make_unique<AlertmanagerDriver>(
          AlertmanagerDriverOptions{.base_url = runtime.BaseUrl(component)}, http_, clock_);
    } else {
      inner = MakeRestartDriver(runtime, component,
                                RestartDriverOptions{.ready_timeout = options_.ready_timeout});
    }
    if (inner == nullptr) {
      continue;
    }
    owned.push_back(
        std::make_unique<StartingDriver>(std::move(inner), runtime, options_.ready_timeout));
    drivers.push_back(owned.back().get());
  }
  auto result = applier_.Apply(env.stack, env.env, bundle, drivers, on_step);
  if (result.outcome == Outcome::kApplied || result.outcome == Outcome::kUnchanged) {
    // Components whose files did not change were not activated: make sure they run anyway.
    EnsureRunning(runtime, unavailable, &result, on_step);
  }
  return result;
}

ApplyResult EnvironmentController::Apply(const spec::StackSpec& stack,
                                         const std::string& env,
                                         const spec::ContentSource& content,
                                         const StepCallback& on_step) {
  auto step = MakeStep(clock_, "render", "", StepState::kRunning, "");
  Report(on_step, step);
  spec::EnvironmentSpec merged;
  render::Bundle bundle;
  LocalRuntime* runtime = nullptr;
  try {
    merged = spec::ForEnvironment(stack, env);
    if (merged.runtime.type == spec::Runtime::Type::kLocal) {
      auto local = Local(merged);
      if (!local.ok()) {
        step.state = StepState::kFailed;
        step.finished_at = clock_.Now();
        step.message = local.error().message;
        Report(on_step, step);
        ApplyResult failed;
        failed.error = local.error();
        return failed;
      }
      runtime = *local;
      bundle = RenderMerged(merged, content, &runtime->ports());
    } else {
      bundle = RenderMerged(merged, content, nullptr);
    }
  } catch (const core::InputError& e) {
    step.state = StepState::kFailed;
    step.finished_at = clock_.Now();
    step.message = e.what();
    Report(on_step, step);
    return FailedRender(e);
  }
  step.state = StepState::kSucceeded;
  step.finished_at = clock_.Now();
  step.message = std::to_string(bundle.files().size()) + " files, sha256 " +
                 bundle.ContentHash().substr(0, 12);
  Report(on_step, step);
  auto secrets = MakeStep(clock_, "secrets", "", StepState::kRunning, "");
  Report(on_step, secrets);
  const auto written = WriteSecrets(merged, runtime != nullptr ? &runtime->ports() : nullptr);
  secrets.finished_at = clock_.Now();
  secrets.state = written.ok() ? StepState::kSucceeded : StepState::kFailed;
  secrets.message = written.ok() ? "" : written.error().message;
  Report(on_step, secrets);
  if (!written.ok()) {
    ApplyResult failed;
    failed.error = written.error();
    return failed;
  }
  auto result = runtime != nullptr ? ApplyLocal(merged, bundle, *runtime, on_step)
                                   : external_.Apply(merged, bundle, on_step);
  if (FilesApplied(result)) {
    Provision(merged, bundle, runtime, result, on_step);
  }
  return result;
}

ApplyResult EnvironmentController::Rollback(const spec::StackSpec& stack,
                                            const std::string& env,
                                            int revision,
                                            const StepCallback& on_step) {
  ApplyResult failed;
  auto store = RevisionStore::Open(applier_.EnvRoot(stack.name, env));
  if (!store.ok()) {
    failed.error = store.error();
    return failed;
  }
  auto bundle = store->Load(revision);
  if (!bundle.ok()) {
    failed.error = bundle.error();
    return failed;
  }
  spec::EnvironmentSpec merged;
  try {
    merged = spec::ForEnvironment(stack, env);
  } catch (const core::InputError& e) {
    return FailedRender(e);
  }
  LocalRuntime* runtime = nullptr;
  if (merged.runtime.type == spec::Runtime::Type::kLocal) {
    auto local = Local(merged);
    if (!local.ok()) {
      failed.error = local.error();
      return failed;
    }
    runtime = *local;
  }
  auto result = runtime != nullptr ? ApplyLocal(merged, *bundle, *runtime, on_step)
                                   : external_.Apply(merged, *bundle, on_step);
  if (FilesApplied(result)) {
    Provision(merged, *bundle, runtime, result, on_step);
  }
  return result;
}

core::Result<void> EnvironmentController::Teardown(const std::string& stack,
                                                   const std::string& env,
                                                   const StepCallback& on_step) {
  std::unique_ptr<LocalRuntime> runtime;
  {
    std::lock_guard lock(mu_);
    auto it = locals_.find(Key{stack, env});
    if (it != locals_.end()) {
      runtime = std::move(it->second);
      locals_.erase(it);
    }
  }
  auto deprovisioned = Deprovision(stack, env, runtime.get(), on_step);
  auto step = MakeStep(clock_, "stop", "", StepState::kRunning, "");
  Report(on_step, step);
  if (runtime) {
    runtime->StopAll();
  }
  step.state = StepState::kSucceeded;
  step.finished_at = clock_.Now();
  step.message = runtime ? "local components stopped" : "nothing running";
  Report(on_step, step);
  return deprovisioned;
}

core::Result<void> EnvironmentController::Deprovision(const std::string& stack,
                                                      const std::string& env,
                                                      LocalRuntime* runtime,
                                                      const StepCallback& on_step) {
  const auto file = applier_.EnvRoot(stack, env) / kProvisionTargetFile;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return {};  // nothing was ever provisioned
  }
  ProvisionTarget target;
  try {
    target = ProvisionTarget::FromJson(nlohmann::json::parse(core::ReadFile(file)));
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kInternal, file.string() + ": " + e.what());
  }
  auto step = MakeStep(clock_, "deprovision", "", StepState::kRunning, "");
  if (target.grafana_local) {
    const auto state = runtime != nullptr ? runtime->State("grafana") : std::nullopt;
    if (!state || state->phase != ProcessPhase::kRunning) {
      // Its objects live in its own data dir under obsforge's; nothing to reach or clean remotely.
      target.grafana = false;
      step.message = "grafana not running: its objects stay in its data dir; ";
    }
  }
  Report(on_step, step);
  auto ledger = OpenLedger(stack, env);
  ProvisionOutcome outcome;
  if (!ledger.ok()) {
    outcome.error = ledger.error();
    outcome.message = ledger.error().message;
  } else {
    outcome =
        apply::Deprovision(target, ProvisionContext{.http = http_,
                                                    .clock = clock_,
                                                    .env_lookup = options_.env_lookup,
                                                    .logger = logger_,
                                                    .ledger = **ledger,
                                                    .owner = {.stack = stack, .env = env},
                                                    .max_attempts = options_.provision_attempts});
    if (auto* f = dynamic_cast<provision::FileLedger*>(ledger->get()); f != nullptr) {
      (void)f->Flush();
    }
  }
  step.finished_at = clock_.Now();
  step.state = outcome.error ? StepState::kFailed : StepState::kSucceeded;
  step.message +=
      outcome.error ? outcome.message
                    : std::to_string(outcome.changes.grafana.size() + outcome.changes.loki.size()) +
                          " owned objects deleted";
  Report(on_step, step);
  if (outcome.error) {
    return *outcome.error;
  }
  std::filesystem::remove(file, ec);
  return {};
}

std::optional<render::Bundle> EnvironmentController::Applied(const std::string& stack,
                                                             const std::string& env) {
  const auto root = applier_.EnvRoot(stack, env);
  if (!std::filesystem::exists(root)) {
    return std::nullopt;
  }
  auto store = RevisionStore::Open(root);
  if (!store.ok() || !store->Current()) {
    return std::nullopt;
  }
  auto bundle = store->Load(*store->Current());
  if (!bundle.ok()) {
    return std::nullopt;
  }
  return std::move(bundle.value());
}

nlohmann::json EnvironmentController::Status(const std::string& stack, const std::string& env) {
  nlohmann::json status = {{"components", nlohmann::json::array()}};
  const auto root = applier_.EnvRoot(stack, env);
  if (std::filesystem::exists(root)) {
    if (auto store = RevisionStore::Open(root); store.ok()) {
      status["revision"] = store->Current() ? nlohmann::json(*store->Current()) : nullptr;
      status["last_good"] = store->LastGood() ? nlohmann::json(*store->LastGood()) : nullptr;
    }
  }
  std::lock_guard lock(mu_);
  auto it = locals_.find(Key{stack, env});
  status["runtime"] = it == locals_.end() ? "external_or_stopped" : "local";
  if (it != locals_.end()) {
    for (const auto& state : it->second->States()) {
      nlohmann::json c = {{"name", state.name},
                          {"state", state.Describe()},
                          {"pid", state.pid},
                          {"restarts", state.restarts},
                          {"url", it->second->BaseUrl(state.name)}};
      if (!state.last_exit.empty()) {
        c["last_exit"] = state.last_exit;
      }
      status["components"].push_back(std::move(c));
    }
  }
  return status;
}

std::map<std::string, std::string> EnvironmentController::Urls(const spec::StackSpec& stack,
                                                               const std::string& env) {
  std::map<std::string, std::string> urls;
  const auto merged = spec::ForEnvironment(stack, env);
  if (merged.runtime.type == spec::Runtime::Type::kLocal) {
    auto local = Local(merged);
    if (local.ok()) {
      for (const auto& component : (*local)->EnabledComponents()) {
        urls[component] = (*local)->BaseUrl(component);
      }
    }
    return urls;
  }
  for (const auto& [component, settings] : merged.runtime.components) {
    if (!settings.url.empty()) {
      urls[component] = settings.url;
    }
  }
  return urls;
}

void EnvironmentController::StopAll() {
  std::map<Key, std::unique_ptr<LocalRuntime>> locals;
  {
    std::lock_guard lock(mu_);
    locals.swap(locals_);
  }
  for (auto& [key, runtime] : locals) {
    runtime->StopAll();
  }
}

}  // namespace obsforge::apply
