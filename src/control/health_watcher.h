#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "apply/transaction.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "health/monitor.h"
#include "notify/notifier.h"
#include "spec/stack.h"
#include "store/store.h"

namespace obsforge::control {

/// Base URL of each component of an environment, by component name ("prometheus",
/// "otel_collector", ...): apply::EnvironmentController::Urls in production.
using UrlsFunction =
    std::function<std::map<std::string, std::string>(const spec::StackSpec&, const std::string&)>;

/// Defaults for what a spec's `health:` section leaves out (an aggregate).
struct HealthDefaults {
  std::chrono::milliseconds interval{15000};
  std::chrono::milliseconds timeout{5000};
  int failure_threshold = 3;
  /// Where `{secret: NAME}` references (Slack webhook, Grafana token) are resolved.
  core::EnvLookup env_lookup = core::ProcessEnv();
  /// When set, where the references of each stack are resolved instead (the server: a stack's
  /// own secrets). Then the same reference in two stacks may be two webhooks, so a Slack
  /// channel key carries its stack ("<stack>/{secret: NAME}").
  core::StackEnvLookup stack_env;
  /// The lookup for `stack`.
  core::EnvLookup For(const std::string& stack) const {
    return stack_env ? stack_env(stack) : env_lookup;
  }
};

/// What watching one environment takes: the monitor's watch and, when the spec names one, the
/// Slack webhook reference (its string form is watch.slack_channel_key).
struct WatchSettings {
  health::EnvironmentWatch watch;
  std::optional<core::SecretRef> webhook;
};

/// The watch of `env` of `stack` from the merged spec's `health:` section (interval, timeout,
/// failure_threshold, canaries, notify.flap_window, notify.recovery_after, slack.webhook,
/// slack.channel; durations as in the spec, e.g. "200ms", "1m30s") and `urls` (components without a
/// URL get no checks; otel_collector's URL is its health_check extension; apply::kTempoOtlpHttp is
/// where the trace canary pushes; each enabled component's declared `version` gets a version
/// check). The Grafana token comes from the runtime's `grafana.token` (unresolvable: no datasource
/// checks), the Loki tenant from spec::LokiTenant(). Throws core::InputError for an unknown
/// environment (spec::ForEnvironment).
WatchSettings WatchFor(const spec::StackSpec& stack,
                       const std::string& env,
                       const std::map<std::string, std::string>& urls,
                       const HealthDefaults& defaults);

/// Keeps the HealthMonitor and the Notifier in step with what is applied: Watch() after an
/// apply, Unwatch() after a teardown, ReportApply() to announce an apply's outcome on Slack.
/// Registers each spec's Slack webhook with the Notifier (the URL resolved from its secret,
/// never logged). Thread-safe. Never throws except std::bad_alloc.
class HealthWatcher {
 public:
  /// `notifier` may be null (no Slack); `datasources` may be null (no datasource checks).
  /// Everything passed must outlive the watcher.
  HealthWatcher(HealthDefaults defaults,
                health::HealthMonitor& monitor,
                notify::Notifier* notifier,
                UrlsFunction urls,
                store::ProvisionStore* datasources,
                core::Logger& logger);

  /// Watches (or re-watches with the new spec) `env` of `stack`. An unknown environment or a
  /// webhook secret that cannot be resolved is logged (by reference) and the watch goes on
  /// without Slack.
  void Watch(const spec::StackSpec& stack, const std::string& env);
  /// Stops watching (stack, env).
  void Unwatch(const std::string& stack, const std::string& env);
  /// Posts the outcome of an apply or rollback of `env` to the stack's Slack webhook: applied →
  /// succeeded; rolled back → with the reason and the revision running now; failed → with the
  /// reason. An unchanged apply is not news and sends nothing. No-op without a webhook.
  void ReportApply(const spec::StackSpec& stack,
                   const std::string& env,
                   const apply::ApplyResult& result);
  /// Posts a broken gitops commit to the Slack webhooks of `stacks` (their stored specs: the
  /// commit's own may not even parse): one message per distinct webhook and channel, naming the
  /// stacks that use it (report.stacks is filled here). No-op without webhooks.
  void ReportBrokenCommit(const std::vector<spec::StackSpec>& stacks,
                          notify::BrokenCommitReport report);
  /// After a restart: watches every environment of every stored stack that has a last good
  /// revision and an `external` runtime (local ones are watched when recovery re-applies
  /// them). Returns how many it watches; store errors are returned.
  core::Result<int> WatchStored(store::Store& store);

 private:
  std::optional<WatchSettings> Settings(const spec::StackSpec& stack, const std::string& env);

  HealthDefaults defaults_;
  health::HealthMonitor& monitor_;
  notify::Notifier* notifier_;
  UrlsFunction urls_;
  store::ProvisionStore* datasources_;
  core::Logger& logger_;
};

/// A StackSpec from a stored spec document (the JSON the store keeps), without re-validating it
/// (its content files may have moved): name, document and environments ({"default"} when none).
/// kInvalidSpec when `spec_json` is not a JSON object.
core::Result<spec::StackSpec> StoredSpec(const std::string& name, const std::string& spec_json);

}  // namespace obsforge::control
