#include "provision/grafana_provisioner.h"

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "provision/grafana_reconcilers.h"

namespace obsforge::provision {

namespace {

using detail::Item;
using detail::Reconciler;

// /health of every datasource obsforge reconciled (reported, not fatal).
std::vector<DatasourceHealth> CheckHealth(GrafanaClient& client,
                                          core::Logger& logger,
                                          const std::vector<Item>& datasources) {
  std::vector<DatasourceHealth> out;
  for (const auto& item : datasources) {
    if (item.conflict) {
      continue;
    }
    auto health = client.CheckDatasourceHealth(item.uid);
    out.push_back(
        health.ok()
            ? *health
            : DatasourceHealth{.uid = item.uid, .ok = false, .message = health.error().message});
    if (!out.back().ok) {
      logger.Warn("datasource unhealthy", {{"uid", item.uid}, {"message", out.back().message}});
    }
  }
  return out;
}

// Runs `body`; an exception (an answer of a shape no check foresaw, read on any thread of the
// reconcile) becomes an error instead of leaving the provision step.
template <class T, class F>
core::Result<T> Guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kUpstream,
                           std::string("grafana: unexpected answer: ") + e.what());
  }
}

}  // namespace

// One Plan or Apply: the session, the reconcilers in apply order, and the deletions.
struct GrafanaProvisioner::Work {
  Work(const ProvisionerOptions& options, GrafanaClient& client, const core::EnvLookup& env)
      : session(options, client, env) {}

  detail::Session session;
  std::vector<DesiredObject> policy;  // the desired route, when there is one
  std::unique_ptr<Reconciler> datasources, folders, dashboards, rule_groups, contact_points,
      policy_route;
  std::vector<std::pair<Reconciler*, Item>> deletions;  // with the reconciler that deletes

  // In apply order.
  std::vector<Reconciler*> All() const {
    return {datasources.get(), folders.get(),        dashboards.get(),
            rule_groups.get(), contact_points.get(), policy_route.get()};
  }
  // Deleting children before what holds them: rule groups, dashboards, contact points, folders,
  // datasources (the policy's own entry comes first).
  std::vector<Reconciler*> PruneOrder() const {
    return {rule_groups.get(), dashboards.get(), contact_points.get(), folders.get(),
            datasources.get()};
  }
};

const char* ActionName(ChangeAction action) {
  switch (action) {
    case ChangeAction::kCreate:
      return "create";
    case ChangeAction::kUpdate:
      return "update";
    case ChangeAction::kDelete:
      return "delete";
  }
  return "unknown";
}

std::string ObjectChange::Summary() const {
  std::string out =
      std::string(ActionName(action)) + " " + KindName(kind) + " " + detail::Quoted(uid);
  if (!title.empty() && title != uid) {
    out += " (" + title + ")";
  }
  if (action == ChangeAction::kUpdate) {
    out += ": " + std::to_string(diffs.size()) + (diffs.size() == 1 ? " field" : " fields");
  }
  return out;
}

GrafanaProvisioner::GrafanaProvisioner(ProvisionerOptions options,
                                       GrafanaClient& client,
                                       OwnershipLedger& ledger,
                                       core::EnvLookup env,
                                       core::Logger& logger)
    : options_(std::move(options)),
      client_(client),
      ledger_(ledger),
      env_(std::move(env)),
      logger_(logger) {
}

core::Result<void> GrafanaProvisioner::Compute(const DesiredGrafana& desired, Work& work) {
  detail::Session& session = work.session;
  if (auto loaded = session.LoadLedger(ledger_); !loaded.ok()) {
    return loaded;
  }
  if (desired.policy) {
    work.policy.push_back(*desired.policy);
  }
  work.datasources = detail::MakeDatasources(session, desired.datasources);
  work.folders = detail::MakeFolders(session, desired.folders);
  work.dashboards = detail::MakeDashboards(session, desired.dashboards);
  work.rule_groups = detail::MakeRuleGroups(session, desired.rule_groups);
  work.contact_points = detail::MakeContactPoints(session, desired.contact_points);
  work.policy_route = detail::MakePolicy(session, work.policy);
  for (Reconciler* reconciler : work.All()) {
    if (auto compared = reconciler->Compare(); !compared.ok()) {
      return compared;
    }
  }
  const auto prune = [&](Reconciler* reconciler) -> core::Result<void> {
    std::vector<Item> items;
    if (auto pruned = reconciler->Prune(items); !pruned.ok()) {
      return pruned;
    }
    for (auto& item : items) {
      work.deletions.emplace_back(reconciler, std::move(item));
    }
    return {};
  };
  if (auto forgotten = prune(work.policy_route.get()); !forgotten.ok()) {
    return forgotten;
  }
  if (options_.prune) {
    for (Reconciler* reconciler : work.PruneOrder()) {
      if (auto pruned = prune(reconciler); !pruned.ok()) {
        return pruned;
      }
    }
  }
  GrafanaPlan& plan = session.plan();
  for (const Reconciler* reconciler : work.All()) {
    reconciler->AddToPlan(plan);
  }
  for (const auto& [reconciler, item] : work.deletions) {
    detail::AddChange(plan, item);
  }
  return {};
}

core::Result<GrafanaPlan> GrafanaProvisioner::Plan(const DesiredGrafana& desired) {
  return Guarded<GrafanaPlan>([&]() -> core::Result<GrafanaPlan> {
    Work work(options_, client_, env_);
    if (auto computed = Compute(desired, work); !computed.ok()) {
      return computed.error();
    }
    return std::move(work.session.plan());
  });
}

core::Result<ApplyReport> GrafanaProvisioner::Apply(const DesiredGrafana& desired) {
  return Guarded<ApplyReport>([&] { return ApplyGuarded(desired); });
}

core::Result<ApplyReport> GrafanaProvisioner::ApplyGuarded(const DesiredGrafana& desired) {
  Work work(options_, client_, env_);
  if (auto computed = Compute(desired, work); !computed.ok()) {
    return computed.error();
  }
  const int writes_before = client_.writes();
  ApplyReport report;
  for (Reconciler* reconciler : work.All()) {
    if (auto upserted = reconciler->Upsert(ledger_, logger_); !upserted.ok()) {
      return upserted.error();
    }
    if (reconciler == work.datasources.get() && options_.check_health) {
      report.health = CheckHealth(client_, logger_, reconciler->items());
    }
  }
  for (const auto& [reconciler, item] : work.deletions) {
    if (item.action) {
      if (auto deleted = reconciler->Delete(item); !deleted.ok()) {
        return deleted.error();
      }
    }
    if (auto forgot = ledger_.Forget(item.kind, item.uid); !forgot.ok()) {
      return forgot.error();
    }
  }
  report.writes = client_.writes() - writes_before;
  report.plan = std::move(work.session.plan());
  if (!report.plan.conflicts.empty()) {
    std::string text;
    for (const auto& c : report.plan.conflicts) {
      text += (text.empty() ? "" : "; ") + c.message;
    }
    return core::MakeError(core::ErrorCode::kConflict, text);
  }
  return report;
}

}  // namespace obsforge::provision
