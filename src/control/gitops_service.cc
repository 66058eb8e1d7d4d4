#include "control/gitops_service.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "control/gitops_store.h"
#include "control/gitops_target.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/hash.h"
#include "gitops/git_source.h"
#include "gitops/poller.h"
#include "gitops/sync.h"
#include "render/render.h"

namespace obsforge::control {

struct GitOpsService::Source {
  gitops::SourceConfig config;
  std::string key;
  std::unique_ptr<gitops::GitSource> git;
  std::unique_ptr<GitSyncTarget> target;
  std::unique_ptr<StoreSourceStateStore> state;
  std::unique_ptr<gitops::Syncer> syncer;
  std::unique_ptr<gitops::Poller> poller;
  std::optional<GitOpsSync> last_sync;  // guarded by GitOpsService::mu_
  std::string announced_sha;            // last broken head announced; only its poller touches it
};

namespace {

nlohmann::json ReportJson(const std::string& key, const gitops::SyncReport& report) {
  nlohmann::json diagnostics = nlohmann::json::array();
  for (const auto& d : report.diagnostics) {
    diagnostics.push_back({{"file", d.file},
                           {"path", d.path},
                           {"line", d.line},
                           {"column", d.column},
                           {"message", d.message}});
  }
  return {{"source", key},
          {"commit",
           {{"sha", report.commit.sha},
            {"author", report.commit.author_name},
            {"email", report.commit.author_email},
            {"message", report.commit.message}}},
          {"outcome", gitops::OutcomeName(report.outcome)},
          {"summary", report.Summary()},
          {"applied", report.applied},
          {"torn_down", report.torn_down},
          {"orphaned", report.orphaned},
          {"failures", report.failures},
          {"diagnostics", diagnostics}};
}

// The file libgit2 reads the SSH key from: the file named, or, for a key held in a variable, a
// 0600 file of its own in `dir`.
core::Result<std::filesystem::path> SshKeyFile(const core::SecretRef& ref,
                                               const std::filesystem::path& dir,
                                               const core::EnvLookup& env) {
  if (ref.kind == core::SecretRef::Kind::kFile) {
    return std::filesystem::path(ref.name);
  }
  auto key = core::ResolveSecret(ref, env);
  if (!key.ok()) {
    return key.error();
  }
  auto file = dir / "ssh_key";
  try {
    core::WriteFileAtomic(file, key->Reveal(), 0600);
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kInternal, e.what());
  }
  return file;
}

}  // namespace

GitOpsService::GitOpsService(GitOpsOptions options,
                             StackService& service,
                             store::Store& store,
                             core::Logger& logger)
    : options_(std::move(options)), service_(service), store_(store), logger_(logger) {
  if (!options_.env) {
    options_.env = core::ProcessEnv();
  }
}

GitOpsService::~GitOpsService() {
  Stop();
}

core::Result<void> GitOpsService::Start() {
  if (started_) {
    return {};
  }
  std::vector<gitops::WebhookSource> hooks;
  std::vector<std::unique_ptr<Source>> sources;
  for (const gitops::SourceConfig& config : options_.sources) {
    auto source = std::make_unique<Source>();
    source->config = config;
    source->key = config.Key();
    gitops::GitSourceOptions git{
        .url = config.repo,
        .branch = config.branch,
        .token_user = config.token_user,
        .cache_dir = options_.cache_dir / core::Sha256Hex(source->key).substr(0, 16)};
    auto resolve = [&](const std::optional<core::SecretRef>& ref) -> core::Result<core::Secret> {
      if (!ref) {
        return core::Secret();
      }
      return core::ResolveSecret(*ref, options_.env);
    };
    auto token = resolve(config.token);
    if (!token.ok()) {
      return token.error();
    }
    git.token = *token;
    if (config.ssh_key) {
      auto key_file = SshKeyFile(*config.ssh_key, git.cache_dir, options_.env);
      if (!key_file.ok()) {
        return key_file.error();
      }
      git.ssh_key = *key_file;
    }
    auto passphrase = resolve(config.ssh_passphrase);
    if (!passphrase.ok()) {
      return passphrase.error();
    }
    git.ssh_passphrase = *passphrase;
    auto secret = resolve(config.webhook_secret);
    if (!secret.ok()) {
      return secret.error();
    }
    source->git = std::make_unique<gitops::GitSource>(std::move(git));
    source->target = std::make_unique<GitSyncTarget>(service_, store_, source->key, config.path);
    source->state = std::make_unique<StoreSourceStateStore>(store_);
    source->syncer = std::make_unique<gitops::Syncer>(
        gitops::SyncOptions{.source_key = source->key,
                            .path = config.path,
                            .auto_apply = config.auto_apply,
                            .prune = config.prune},
        *source->git, *source->target, *source->state,
        [](const spec::EnvironmentSpec& env, const spec::ContentSource& content) {
          (void)render::RenderEnvironment(env, content, render::RenderOptions{});
        });
    Source* raw = source.get();
    source->poller = std::make_unique<gitops::Poller>(
        [this, raw] { SyncOnce(*raw); }, clock_,
        gitops::PollerOptions{.interval = config.poll,
                              .recheck = std::min(config.poll, std::chrono::milliseconds(1000))});
    hooks.push_back(
        {.key = source->key, .branch = config.branch, .secret = *secret, .trigger = [raw] {
           raw->poller->TriggerNow();
         }});
    sources.push_back(std::move(source));
  }
  sources_ = std::move(sources);
  deliveries_ = std::make_unique<StoreDeliveryLog>(store_, logger_);
  webhook_ = std::make_unique<gitops::WebhookHandler>(std::move(hooks), *deliveries_);
  started_ = true;
  for (auto& source : sources_) {
    logger_.Info(
        "gitops source watching",
        {{"source", source->key}, {"poll_ms", std::to_string(source->config.poll.count())}});
    source->poller->Start();
  }
  return {};
}

void GitOpsService::Stop() {
  // Waits give up first, so a sync blocked on a long apply does not hold the shutdown.
  for (auto& source : sources_) {
    source->target->Stop();
  }
  for (auto& source : sources_) {
    source->poller->Stop();
  }
}

void GitOpsService::SyncOnce(Source& source) {
  const gitops::SyncReport report = source.syncer->Sync();
  if (report.outcome == gitops::SyncReport::Outcome::kUnchanged) {
    return;
  }
  GitOpsSync last{.outcome = gitops::OutcomeName(report.outcome),
                  .summary = report.Summary(),
                  .sha = report.commit.sha,
                  .at = core::FormatTime(std::chrono::system_clock::now())};
  const bool good = report.outcome == gitops::SyncReport::Outcome::kApplied;
  if (!report.commit.sha.empty()) {
    // The record of this commit: a broken or failed one is a failed operation with the report.
    auto op = store_.CreateOperation(
        {.kind = store::OperationKind::kSync, .stack = "", .env = "", .actor = source.key});
    if (op.ok()) {
      (void)store_.UpdateOperationState(op->id, {.state = store::OperationState::kRunning});
      (void)store_.UpdateOperationState(
          op->id,
          {.state = good ? store::OperationState::kSucceeded : store::OperationState::kFailed,
           .error = good ? "" : report.Summary(),
           .result_json = ReportJson(source.key, report).dump()});
      last.operation = op->id;
    } else {
      logger_.Warn("cannot record the gitops sync", {{"error", op.error().message}});
    }
  }
  core::Logger::Fields fields = {{"source", source.key},
                                 {"outcome", gitops::OutcomeName(report.outcome)},
                                 {"sha", report.commit.sha},
                                 {"summary", report.Summary()}};
  if (good) {
    logger_.Info("gitops sync", fields);
  } else {
    logger_.Error("gitops sync did not apply", fields);
  }
  // Once per head: a repeated sync of the same broken head (e.g. after a failed state save)
  // must not announce it again.
  if (report.outcome == gitops::SyncReport::Outcome::kBroken && !report.commit.sha.empty() &&
      options_.on_broken_commit && source.announced_sha != report.commit.sha) {
    source.announced_sha = report.commit.sha;
    options_.on_broken_commit(source.key, report, last.operation.value_or(""));
  }
  std::lock_guard lock(mu_);
  source.last_sync = std::move(last);
}

gitops::WebhookResponse GitOpsService::HandleWebhook(const gitops::WebhookRequest& request) const {
  if (!webhook_) {
    return {.status = 401, .outcome = "unauthorized", .message = "gitops is not running"};
  }
  return webhook_->Handle(request);
}

std::vector<GitOpsSourceStatus> GitOpsService::Status() {
  std::vector<GitOpsSourceStatus> out;
  for (const gitops::SourceConfig& config : options_.sources) {
    GitOpsSourceStatus item{.key = config.Key(),
                            .repo = gitops::RedactUrl(config.repo),
                            .branch = config.branch,
                            .path = config.path,
                            .poll = config.poll,
                            .auto_apply = config.auto_apply,
                            .prune = config.prune};
    if (auto state = store_.GetGitState(item.key); state.ok()) {
      item.last_seen_sha = state->last_seen_sha;
      item.last_good_sha = state->last_applied_sha;
    }
    std::lock_guard lock(mu_);
    for (const auto& source : sources_) {
      if (source->key == item.key) {
        item.last_sync = source->last_sync;
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

bool GitOpsService::WaitIdle(std::chrono::milliseconds timeout) {
  std::vector<gitops::Poller*> pollers;
  {
    std::lock_guard lock(mu_);
    for (const auto& source : sources_) {
      pollers.push_back(source->poller.get());
    }
  }
  // Not under mu_: a sync ends by taking it to store its report.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (gitops::Poller* poller : pollers) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!poller->WaitIdle(std::max(left, std::chrono::milliseconds(0)))) {
      return false;
    }
  }
  return true;
}

}  // namespace obsforge::control
