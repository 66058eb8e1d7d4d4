#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/stack_service.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "gitops/config.h"
#include "gitops/sync.h"
#include "gitops/webhook.h"
#include "server/router.h"
#include "store/store.h"

namespace obsforge::server {

/// Told about a broken commit: (source key, report, sync operation id).
using BrokenCommitHook =
    std::function<void(const std::string&, const gitops::SyncReport&, const std::string&)>;

/// Options of a GitOpsService.
struct GitOpsOptions {
  std::vector<gitops::SourceConfig> sources;  ///< the server config's `gitops:` list
  /// Each source keeps its mirror and checkouts in `cache_dir/<sha256(key) prefix>/`.
  std::filesystem::path cache_dir = "./var/gitops";
  core::EnvLookup env;  ///< resolves the sources' secrets (default: the process environment)
  /// Called once per broken head (invalid spec, template error, rejected config: nothing
  /// applied), with the source key, the report and its sync operation's id (Slack). Failed
  /// applies are announced by the environments themselves; fetch errors are only logged and
  /// recorded. May be empty.
  BrokenCommitHook on_broken_commit;
};

/// Runs the `gitops:` sources inside the server: per source one GitSource, one Syncer over a
/// GitSyncTarget (the server's own operations) and one Poller (first sync at Start(), then every
/// `poll`, at once on a webhook). Every sync that handled a new head is recorded as an
/// operation of kind sync (stack "", actor = the source key) whose result is the report
/// (commit, outcome, applied, torn_down, orphaned, failures, diagnostics); a broken commit or a
/// failed sync is that operation failed. Thread-safe.
class GitOpsService {
 public:
  /// Everything referenced must outlive the object.
  GitOpsService(GitOpsOptions options,
                StackService& service,
                store::Store& store,
                core::Logger& logger);
  /// Stops.
  ~GitOpsService();
  GitOpsService(const GitOpsService&) = delete;
  GitOpsService& operator=(const GitOpsService&) = delete;

  /// Resolves every source's secrets and starts the pollers. kNotFound naming the secret
  /// reference when one cannot be resolved (nothing started then). Requires a live
  /// gitops::GitLibrary.
  core::Result<void> Start();
  /// Stops the pollers, waiting only for a sync already running (which gives up waiting for its
  /// operations; they finish in the runner). Idempotent.
  void Stop();

  /// POST /api/v1/gitops/webhook, free of HTTP (see gitops::WebhookHandler).
  gitops::WebhookResponse HandleWebhook(const gitops::WebhookRequest& request) const;
  /// {sources: [{key, repo, branch, path, poll_ms, auto_apply, prune, last_seen_sha,
  /// last_good_sha, last_sync: {operation, outcome, summary, at} | null}]}.
  nlohmann::json Status();

 private:
  struct Source;
  void SyncOnce(Source& source);

  GitOpsOptions options_;
  StackService& service_;
  store::Store& store_;
  core::Logger& logger_;
  core::SystemClock clock_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<gitops::DeliveryLog> deliveries_;
  std::unique_ptr<gitops::WebhookHandler> webhook_;
  std::mutex mu_;  // guards the sources' last reports
  bool started_ = false;
};

/// Registers POST /api/v1/gitops/webhook (open route: the signature is its authentication)
/// and GET /api/v1/gitops (viewer). `gitops` must outlive the router.
void RegisterGitOpsRoutes(Router& router, GitOpsService& gitops);

}  // namespace obsforge::server
