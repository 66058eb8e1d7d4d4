#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/normalize.h"
#include "provision/ownership.h"

namespace obsforge::provision {

/// What a change does to one upstream object.
enum class ChangeAction { kCreate, kUpdate, kDelete };

/// "create", "update", "delete".
const char* ActionName(ChangeAction action);

/// One API object change of a plan.
struct ObjectChange {
  ObjectKind kind = ObjectKind::kDashboard;
  std::string uid;
  std::string title;
  ChangeAction action = ChangeAction::kCreate;
  /// Field-level differences after normalisation (updates only; before = Grafana, after =
  /// desired). Secret values show as "<secret>".
  std::vector<FieldDiff> diffs;

  /// "update dashboard \"uid\" (Title): 2 fields" style one-liner.
  std::string Summary() const;
};

/// An object in the way that obsforge does not own: never written, reported instead.
struct Conflict {
  ObjectKind kind = ObjectKind::kDashboard;
  std::string uid;
  std::string message;
};

/// What an Apply would do to Grafana.
struct GrafanaPlan {
  /// In apply order: datasources, folders, dashboards, rule groups, contact points, policy,
  /// then deletions (rule groups, dashboards, contact points, folders, datasources).
  std::vector<ObjectChange> changes;
  std::vector<Conflict> conflicts;
  /// Things worth knowing that change nothing (e.g. an existing folder used as is).
  std::vector<std::string> notes;

  /// True when nothing would be written.
  bool empty() const { return changes.empty(); }
};

/// How the provisioner behaves (an aggregate).
struct ProvisionerOptions {
  Owner owner;
  /// Named in each dashboard's version message: "obsforge <stack>/<env> revision <revision>".
  std::string revision;
  /// Dashboards (GETs and POSTs) in flight at once.
  int max_parallel = 8;
  /// Delete owned objects that left the spec.
  bool prune = true;
  /// Run /health on every desired datasource after datasources are applied.
  bool check_health = true;
};

/// What Apply did.
struct ApplyReport {
  GrafanaPlan plan;  ///< the changes made (all of them, on success)
  std::vector<DatasourceHealth> health;
  int writes = 0;  ///< write requests sent to Grafana
};

/// Reconciles Grafana with a DesiredGrafana: compare, then write only what differs.
///
/// Ownership: an object is obsforge's when the ledger records it or when it carries the marker
/// of this owner (see LoadDesiredGrafana). An existing object with a desired uid that is not
/// owned is a Conflict: it is never written or deleted. Folders are the exception: an existing
/// unowned folder is used as is (a note), since dashboards only need it to exist. An object the
/// spec adopts (DesiredObject::adopt) is neither: it is compared and written like an owned one,
/// and recorded, so it is owned from then on.
/// Comparison ignores server-managed fields (StripServerFields / NormalizeDashboard), compares
/// datasources, rule groups, contact points and the policy route on the fields obsforge sets,
/// and compares secrets (secureJsonData, secret references) through the ledger's content hash,
/// since Grafana never echoes them. Each kind has its reconciler (grafana_reconcilers.h), all
/// on one compare-then-upsert skeleton.
class GrafanaProvisioner {
 public:
  /// `client`, `ledger` and `logger` are not owned and must outlive the provisioner. `env`
  /// resolves secret references.
  GrafanaProvisioner(ProvisionerOptions options,
                     GrafanaClient& client,
                     OwnershipLedger& ledger,
                     core::EnvLookup env = core::ProcessEnv(),
                     core::Logger& logger = core::NullLogger());

  /// Reads Grafana and the ledger and returns the changes an Apply would make. Writes nothing.
  /// Errors: a read that failed (naming the object), an unresolvable secret (naming the object
  /// and the reference), a ledger failure, an answer of an unexpected shape (kUpstream
  /// "grafana: unexpected answer: ..."). Like Apply, never throws but std::bad_alloc.
  core::Result<GrafanaPlan> Plan(const DesiredGrafana& desired);

  /// Plans, then writes in order: datasources (+ health checks, reported, not fatal), folders
  /// (parents first), dashboards (max_parallel at once), rule groups, contact points, the policy
  /// tree (the stack's route merged into the existing tree, other routes kept), then prunes.
  /// Every object written is recorded in the ledger with its content hash; deleted ones are
  /// forgotten. Stops at the first phase with a failure and returns it (the message names the
  /// object; with several failures in a phase, " (and N more)"). When everything else succeeded
  /// but conflicts were found, returns kConflict listing them.
  core::Result<ApplyReport> Apply(const DesiredGrafana& desired);

 private:
  struct Work;
  core::Result<void> Compute(const DesiredGrafana& desired, Work& work);
  core::Result<ApplyReport> ApplyGuarded(const DesiredGrafana& desired);

  ProvisionerOptions options_;
  GrafanaClient& client_;
  OwnershipLedger& ledger_;
  core::EnvLookup env_;
  core::Logger& logger_;
};

}  // namespace obsforge::provision
