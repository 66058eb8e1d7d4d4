#include "control/health_runtime.h"

#include "control/gitops_target.h"
#include "server/health_routes.h"

namespace obsforge::server {

HealthRuntime::HealthRuntime(HealthRuntimeOptions options,
                             store::Store& store,
                             EnvironmentBackend& backend,
                             http::HttpClient& http,
                             core::Clock& clock,
                             core::Logger& logger,
                             UrlsFunction urls)
    : store_(store),
      inner_(backend),
      clock_(clock),
      logger_(logger),
      outbox_(store),
      sink_(store, logger),
      notifier_(std::make_unique<notify::Notifier>(options.notifier, outbox_, http, clock, logger)),
      monitor_(std::make_unique<health::HealthMonitor>(
          options.monitor, clock, notifier_.get(), &sink_, logger)),
      watcher_(std::make_unique<HealthWatcher>(std::move(options.defaults),
                                               *monitor_,
                                               notifier_.get(),
                                               std::move(urls),
                                               &store,
                                               logger)),
      monitored_(std::make_unique<MonitoredBackend>(backend, *watcher_)) {
}

HealthRuntime::~HealthRuntime() {
  Stop();
}

void HealthRuntime::Attach(Server& server, const std::string& version) {
  RegisterHealthRoutes(server.router(), HealthRouteDeps{.monitor = *monitor_,
                                                        .store = store_,
                                                        .backend = inner_,
                                                        .clock = clock_,
                                                        .version = version});
  server.metrics().AddCollector([monitor = monitor_.get()] { return monitor->MetricsText(); });
}

void HealthRuntime::Start() {
  monitor_->Start();
}

void HealthRuntime::WatchStored() {
  auto watched = watcher_->WatchStored(store_);
  if (!watched.ok()) {
    logger_.Error("cannot watch stored environments", {{"error", watched.error().message}});
  } else if (*watched > 0) {
    logger_.Info("watching external environments", {{"count", std::to_string(*watched)}});
  }
}

void HealthRuntime::ReportBrokenCommit(const std::string& source_key,
                                       const gitops::SyncReport& report,
                                       const std::string& operation_id) {
  notify::BrokenCommitReport message{.source = source_key,
                                     .sha = report.commit.sha,
                                     .summary = report.Summary(),
                                     .operation_id = operation_id};
  for (const auto& d : report.diagnostics) {
    message.findings += d.ToString() + "\n";
  }
  auto managed = StacksManagedBy(store_, source_key);
  if (!managed.ok()) {
    logger_.Error("cannot announce a broken gitops commit", {{"error", managed.error().message}});
    return;
  }
  std::vector<spec::StackSpec> stacks;
  for (const auto& s : *managed) {
    if (auto stack = StoredSpec(s.name, s.spec_json); stack.ok()) {
      stacks.push_back(std::move(*stack));
    }
  }
  watcher_->ReportBrokenCommit(stacks, std::move(message));
}

void HealthRuntime::Stop() {
  // Probing first: a transition must not enqueue into a stopped notifier's outbox unseen.
  monitor_->Stop();
  notifier_->Stop();
}

}  // namespace obsforge::server
