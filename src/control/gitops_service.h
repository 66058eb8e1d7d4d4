#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "control/stack_service.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "gitops/config.h"
#include "gitops/sync.h"
#include "gitops/webhook.h"
#include "store/store.h"

namespace obsforge::control {

/// Told about a broken commit: (source key, report, sync operation id).
using BrokenCommitHook =
    std::function<void(const std::string&, const gitops::SyncReport&, const std::string&)>;

/// Options of a GitOpsService.
struct GitOpsOptions {
  std::vector<gitops::SourceConfig> sources;  ///< the `gitops:` list of obsforge.yaml
  /// Each source keeps its mirror and checkouts in `cache_dir/<sha256(key) prefix>/`.
  std::filesystem::path cache_dir = "./var/gitops";
  core::EnvLookup env;  ///< resolves the sources' secrets (default: the process environment)
  /// Called once per broken head (invalid spec, template error, rejected config: nothing
  /// applied), with the source key, the report and its sync operation's id (Slack). Failed
  /// applies are announced by the environments themselves; fetch errors are only logged and
  /// recorded. May be empty.
  BrokenCommitHook on_broken_commit;
};

/// The last sync of a source that handled a new head.
struct GitOpsSync {
  std::string outcome;  ///< gitops::OutcomeName
  std::string summary;
  std::string sha;
  std::string at;                        ///< RFC 3339
  std::optional<std::string> operation;  ///< the sync operation recording it, when stored
};

/// One gitops source as configured and as it stands.
struct GitOpsSourceStatus {
  std::string key;
  std::string repo;  ///< with user-info redacted
  std::string branch;
  std::string path;
  std::chrono::milliseconds poll{0};
  std::vector<std::string> auto_apply;
  bool prune = false;
  std::optional<std::string> last_seen_sha;  ///< nullopt until the source's state was stored
  std::optional<std::string> last_good_sha;
  std::optional<GitOpsSync> last_sync;  ///< nullopt until a sync handled a new head
};

/// Runs the `gitops:` sources of the application: per source one GitSource, one Syncer over a
/// GitSyncTarget (the application's own operations) and one Poller (first sync at Start(), then
/// every `poll`, at once on a webhook). Every sync that handled a new head is recorded as an
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

  /// A push notification from a git host, free of HTTP (see gitops::WebhookHandler).
  gitops::WebhookResponse HandleWebhook(const gitops::WebhookRequest& request) const;
  /// Every configured source, in configuration order.
  std::vector<GitOpsSourceStatus> Status();
  /// Blocks until no source's sync is running or asked for (a webhook's trigger not yet served;
  /// see gitops::Poller::WaitIdle), or `timeout` passed; true when idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

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

}  // namespace obsforge::control
