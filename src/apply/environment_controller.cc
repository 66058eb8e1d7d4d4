#include "apply/environment_controller.h"

#include <algorithm>

#include "apply/binaries.h"
#include "apply/revisions.h"
#include "core/diagnostic.h"
#include "core/fs.h"
#include "health/checks.h"
#include "provision/file_ledger.h"
#include "render/env.h"
#include "render/render.h"
#include "render/render_cache.h"

namespace obsforge::apply {
namespace {

void Report(const StepCallback& on_step, const Step& step) {
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

// One note per running component whose version is not the one the spec declares. A component
// that does not answer (not started, unreachable) says nothing: there is nothing to compare.
std::vector<std::string> VersionNotes(const spec::EnvironmentSpec& env,
                                      const std::map<std::string, std::string>& urls,
                                      http::HttpClient& http) {
  std::vector<std::string> notes;
  for (const auto& [component, declared] : spec::DeclaredVersions(env)) {
    const auto url = urls.find(component);
    if (url == urls.end()) {
      continue;
    }
    auto probe = health::VersionProbeFor(component, url->second);
    if (!probe) {
      continue;
    }
    probe->request.timeout = std::chrono::milliseconds(2000);
    probe->request.connect_timeout = std::chrono::milliseconds(1000);
    const auto answer = http.Send(probe->request);
    if (!answer.ok() || answer->status != 200) {
      continue;
    }
    const std::string running = probe->read(*answer);
    if (!health::VersionMatches(declared, running)) {
      notes.push_back(component + ": " + health::VersionSkewMessage(declared, running));
    }
  }
  return notes;
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
      applier_(std::filesystem::absolute(options_.data_dir), clock) {
  options_.data_dir = std::filesystem::absolute(options_.data_dir);
}

EnvironmentController::~EnvironmentController() {
  StopAll();
}

core::Result<Runtime*> EnvironmentController::RuntimeFor(const spec::EnvironmentSpec& env) {
  std::unique_ptr<Runtime> replaced;  // the spec asks for another kind: stopped outside the lock
  auto found = [&]() -> core::Result<Runtime*> {
    std::lock_guard lock(mu_);
    const Key key{env.stack, env.env};
    auto it = runtimes_.find(key);
    if (it != runtimes_.end()) {
      if (Fits(*it->second, env)) {
        it->second->Update(env);
        return it->second.get();
      }
      replaced = std::move(it->second);
      runtimes_.erase(it);
    }
    auto made = MakeRuntime(env, RuntimeContext{.data_dir = options_.data_dir,
                                                .http = http_,
                                                .clock = clock_,
                                                .logger = logger_,
                                                .path_env = options_.path_env,
                                                .ready_timeout = options_.ready_timeout,
                                                .supervisor = options_.supervisor});
    if (!made.ok()) {
      return made.error();
    }
    auto* runtime = made->get();
    runtimes_.emplace(key, std::move(made.value()));
    return runtime;
  }();
  if (replaced) {
    replaced->StopAll();
  }
  return found;
}

render::RenderOptions EnvironmentController::RenderOptionsFor(const Runtime* runtime) const {
  render::RenderOptions options;
  options.templates_dir = options_.templates_dir;
  options.data_root = options_.data_dir;
  if (runtime != nullptr) {
    runtime->ConfigureRender(options);
  }
  return options;
}

render::Bundle EnvironmentController::RenderMerged(const spec::EnvironmentSpec& env,
                                                   const spec::ContentSource& content,
                                                   const Runtime* runtime) {
  // The shared cache re-renders only when the spec, a content file or a template changed, so an
  // unchanged apply costs reading the files, not evaluating Jsonnet (bench/README.md "Apply").
  return render::SharedRenderCache().Render(env, content, RenderOptionsFor(runtime));
}

core::EnvLookup EnvironmentController::EnvFor(const std::string& stack) const {
  return options_.stack_env ? options_.stack_env(stack) : options_.env_lookup;
}

core::Result<void> EnvironmentController::WriteSecrets(const spec::EnvironmentSpec& env,
                                                       const Runtime& runtime) {
  const auto refs = spec::CollectSecretRefs(env.merged);
  if (refs.empty()) {
    return {};
  }
  const auto dir = render::SecretsDir(env, RenderOptionsFor(&runtime));
  const core::EnvLookup env_lookup = EnvFor(env.stack);
  std::vector<std::pair<std::string, core::Secret>> values;
  std::string missing;
  for (const auto& ref : refs) {
    auto value = core::ResolveSecret(ref, env_lookup);
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
  // A local runtime's ports are allocated once and kept in ports.json: rendering needs it.
  auto runtime = RuntimeFor(merged);
  if (!runtime.ok()) {
    logger_.Warn("runtime unavailable; rendering without it",
                 {{"stack", stack.name}, {"env", env}, {"error", runtime.error().message}});
    return RenderMerged(merged, content, nullptr);
  }
  return RenderMerged(merged, content, *runtime);
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
  auto runtime = RuntimeFor(merged);
  if (!runtime.ok()) {
    plan->objects.notes.push_back("cannot plan objects: " + runtime.error().message);
    return plan;
  }
  for (auto& note : (*runtime)->PlanNotes(bundle)) {
    plan->objects.notes.push_back(std::move(note));
  }
  const auto target = ProvisionTargetFor(merged, (*runtime)->Provisioning());
  if (target.Any()) {
    auto ledger = OpenLedger(stack.name, env);
    if (!ledger.ok()) {
      plan->objects.notes.push_back("cannot plan objects: " + ledger.error().message);
    } else {
      // The runtime's notes above are kept: the provisioning plan replaces the objects part.
      std::vector<std::string> notes = std::move(plan->objects.notes);
      plan->objects = PlanProvision(target, bundle,
                                    ProvisionContext{.http = http_,
                                                     .clock = clock_,
                                                     .env_lookup = EnvFor(stack.name),
                                                     .logger = logger_,
                                                     .ledger = **ledger,
                                                     .owner = {.stack = stack.name, .env = env},
                                                     .max_attempts = options_.provision_attempts});
      notes.insert(notes.end(), std::make_move_iterator(plan->objects.notes.begin()),
                   std::make_move_iterator(plan->objects.notes.end()));
      plan->objects.notes = std::move(notes);
    }
  }
  for (auto& note : VersionNotes(merged, (*runtime)->Urls(), http_)) {
    plan->objects.notes.push_back(std::move(note));
  }
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

void EnvironmentController::Provision(const spec::EnvironmentSpec& env,
                                      const render::Bundle& bundle,
                                      const Runtime& runtime,
                                      ApplyResult& result,
                                      const StepCallback& on_step) {
  const auto target = ProvisionTargetFor(env, runtime.Provisioning());
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
                         .env_lookup = EnvFor(env.stack),
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

ApplyResult EnvironmentController::ApplyWith(const spec::EnvironmentSpec& env,
                                             const render::Bundle& bundle,
                                             Runtime& runtime,
                                             const StepCallback& on_step) {
  auto result = runtime.Apply(bundle, applier_, on_step);
  if (FilesApplied(result)) {
    Provision(env, bundle, runtime, result, on_step);
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
  Runtime* runtime = nullptr;
  try {
    merged = spec::ForEnvironment(stack, env);
    auto opened = RuntimeFor(merged);
    if (!opened.ok()) {
      step.state = StepState::kFailed;
      step.finished_at = clock_.Now();
      step.message = opened.error().message;
      Report(on_step, step);
      ApplyResult failed;
      failed.error = opened.error();
      return failed;
    }
    runtime = *opened;
    bundle = RenderMerged(merged, content, runtime);
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
  const auto written = WriteSecrets(merged, *runtime);
  secrets.finished_at = clock_.Now();
  secrets.state = written.ok() ? StepState::kSucceeded : StepState::kFailed;
  secrets.message = written.ok() ? "" : written.error().message;
  Report(on_step, secrets);
  if (!written.ok()) {
    ApplyResult failed;
    failed.error = written.error();
    return failed;
  }
  return ApplyWith(merged, bundle, *runtime, on_step);
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
  auto runtime = RuntimeFor(merged);
  if (!runtime.ok()) {
    failed.error = runtime.error();
    return failed;
  }
  return ApplyWith(merged, *bundle, **runtime, on_step);
}

core::Result<void> EnvironmentController::Teardown(const std::string& stack,
                                                   const std::string& env,
                                                   const StepCallback& on_step) {
  std::unique_ptr<Runtime> runtime;
  {
    std::lock_guard lock(mu_);
    auto it = runtimes_.find(Key{stack, env});
    if (it != runtimes_.end()) {
      runtime = std::move(it->second);
      runtimes_.erase(it);
    }
  }
  auto deprovisioned = Deprovision(stack, env, runtime.get(), on_step);
  auto step = MakeStep(clock_, "stop", "", StepState::kRunning, "");
  Report(on_step, step);
  const bool runs_components = runtime && runtime->Kind().runs_components_here;
  if (runtime) {
    runtime->StopAll();
  }
  step.state = StepState::kSucceeded;
  step.finished_at = clock_.Now();
  step.message = runs_components ? std::string(runtime->Kind().name) + " components stopped"
                                 : "nothing running";
  Report(on_step, step);
  return deprovisioned;
}

core::Result<void> EnvironmentController::Deprovision(const std::string& stack,
                                                      const std::string& env,
                                                      const Runtime* runtime,
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
    const auto components = runtime != nullptr ? runtime->Status() : std::vector<ComponentStatus>{};
    const bool running =
        std::any_of(components.begin(), components.end(), [](const ComponentStatus& c) {
          return c.name == "grafana" && c.state == ComponentState::kRunning;
        });
    if (!running) {
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
                                                    .env_lookup = EnvFor(stack),
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
  // Peek, not Open: opening recovers, which would delete the revision an apply of this
  // environment is writing right now (a plan runs beside it, without the EnvLock).
  const RevisionStore store = RevisionStore::Peek(root);
  const auto current = store.Current();
  if (!current) {
    return std::nullopt;
  }
  auto bundle = store.Load(*current);
  if (!bundle.ok()) {
    return std::nullopt;
  }
  return std::move(bundle.value());
}

RuntimeStatus EnvironmentController::Status(const std::string& stack, const std::string& env) {
  RuntimeStatus status;
  const auto root = applier_.EnvRoot(stack, env);
  if (std::filesystem::exists(root)) {
    const RevisionStore store = RevisionStore::Peek(root);  // as in Applied()
    status.has_revisions = true;
    status.revision = store.Current();
    status.last_good = store.LastGood();
  }
  std::lock_guard lock(mu_);
  if (auto it = runtimes_.find(Key{stack, env}); it != runtimes_.end()) {
    status.runtime = it->second->Kind().name;
    status.components = it->second->Status();
  }
  return status;
}

std::map<std::string, std::string> EnvironmentController::Urls(const spec::StackSpec& stack,
                                                               const std::string& env) {
  auto runtime = RuntimeFor(spec::ForEnvironment(stack, env));
  if (!runtime.ok()) {
    return {};
  }
  return (*runtime)->Urls();
}

void EnvironmentController::StopAll() {
  std::map<Key, std::unique_ptr<Runtime>> runtimes;
  {
    std::lock_guard lock(mu_);
    runtimes.swap(runtimes_);
  }
  for (auto& [key, runtime] : runtimes) {
    runtime->StopAll();
  }
}

}  // namespace obsforge::apply
