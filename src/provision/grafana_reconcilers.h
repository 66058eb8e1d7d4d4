#pragma once

// Internal to src/provision: the per-kind reconcilers GrafanaProvisioner runs, and the one
// compare-then-upsert skeleton they share (Reconciler::Compare and Reconciler::Upsert).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/ownership.h"

namespace obsforge::provision::detail {

/// How secret values show in diffs.
inline constexpr const char* kSecretShown = "<secret>";

/// One object of a reconcile: what is desired, what to do about it, and what the write needs.
struct Item {
  const DesiredObject* desired = nullptr;  ///< null for deletions
  ObjectKind kind = ObjectKind::kDashboard;
  std::string uid;
  std::string title;
  std::string folder_uid;
  /// The body with its secret values, for objects that have secrets: only ever sent, never
  /// shown. Others send the desired body itself (dashboards can be hundreds of kilobytes).
  std::optional<nlohmann::json> with_secrets;
  std::string hash;
  std::optional<ChangeAction> action;
  std::vector<FieldDiff> diffs;
  bool conflict = false;
  bool owned_unrecorded = false;       ///< the ledger lacks or has a stale record; Grafana matches
  std::int64_t remote_version = 0;     ///< dashboards: Grafana's version, as last read or written
  std::int64_t remote_id = 0;          ///< dashboards: Grafana's id, likewise
  bool title_changed = false;          ///< folders
  bool parent_changed = false;         ///< folders
  std::vector<std::string> rule_uids;  ///< rule groups to delete

  /// What a create or update sends.
  const nlohmann::json& Body() const { return with_secrets ? *with_secrets : desired->body; }
};

/// What Examine found in Grafana for one desired object.
enum class Found {
  kAbsent,    ///< not there: create it
  kForeign,   ///< there, not ours: a conflict (`why` says what is in the way)
  kUsedAsIs,  ///< there, not ours, and fine to use as it is: a note (`why`)
  kCompared,  ///< there and ours: Item::diffs says what differs (update when not empty)
};
struct Verdict {
  Found found = Found::kCompared;
  std::string why;
};

/// "\"text\"".
std::string Quoted(const std::string& s);

/// The body as shown in diffs and compared with Grafana: secret slots erased (Grafana redacts
/// or omits them), the whole secureJsonData left out (never echoed), server fields stripped.
nlohmann::json Comparable(const DesiredObject& object);

/// Collects the first failure of a phase (by index, so the message is deterministic) and counts
/// the others: " (and N more)". Thread-safe.
class Failures {
 public:
  void Add(std::size_t index, core::Error error);
  core::Result<void> Take();

 private:
  std::mutex mu_;
  std::optional<core::Error> first_;
  std::size_t first_index_ = 0;
  int count_ = 0;
};

/// What the reconcilers of one Plan or Apply share: options, client, the ledger's records as
/// read at the start, secret lookup, and the plan being built. Not thread-safe except the const
/// members (used from Examine on several threads).
class Session {
 public:
  Session(const ProvisionerOptions& options, GrafanaClient& client, const core::EnvLookup& env);

  /// Reads the ledger's records (all kinds).
  core::Result<void> LoadLedger(OwnershipLedger& ledger);

  const ProvisionerOptions& options() const { return options_; }
  const Owner& owner() const { return options_.owner; }
  GrafanaClient& client() const { return client_; }
  GrafanaPlan& plan() { return plan_; }

  /// The ledger's record of (kind, uid), or null.
  const OwnedObject* Recorded(ObjectKind kind, const std::string& uid) const;
  bool InLedger(ObjectKind kind, const std::string& uid) const {
    return Recorded(kind, uid) != nullptr;
  }
  /// True when the ledger records any object of `kind`.
  bool AnyRecorded(ObjectKind kind) const;
  /// Uids of `kind` the ledger records and `wanted` lacks, in uid order.
  std::vector<std::string> OwnedNotWanted(ObjectKind kind,
                                          const std::set<std::string>& wanted) const;

  /// An item for `d` with its secrets resolved and its content hash (dashboards hash their
  /// folder too: a move is a change). Fails naming the object and the missing reference.
  core::Result<Item> MakeItem(const DesiredObject& d) const;
  /// Marks `item` a conflict and reports it in the plan.
  void Conflict(Item& item, const std::string& why);
  /// Adds a "/secrets" diff when the object has secrets and the ledger's hash differs: secret
  /// changes are invisible in Grafana, the ledger's hash is the only witness.
  void SecretDiff(Item& item) const;
  /// Marks an item that needs no write but whose ledger record is missing or stale.
  void Finish(Item& item) const;

  /// Dashboards the dashboards' Prune is about to delete (the folders' Prune keeps a folder
  /// that holds anything else).
  std::set<std::string> dashboards_to_delete;

 private:
  const ProvisionerOptions& options_;
  GrafanaClient& client_;
  const core::EnvLookup& env_;
  std::map<std::pair<ObjectKind, std::string>, OwnedObject> ledger_;
  GrafanaPlan plan_;
};

/// One kind of Grafana object. The skeleton is shared: Compare() runs MakeItem and the kind's
/// Examine on every desired object (on `parallel` threads), then turns each verdict into a
/// create, a conflict, a note or an update; Upsert() runs the kind's Write on every item with an
/// action (on `parallel` threads) and records written and stale items in the ledger. A kind
/// supplies how to read and compare (Examine), write (Write), find what left the spec (Prune)
/// and delete (Delete).
class Reconciler {
 public:
  Reconciler(ObjectKind kind,
             Session& session,
             const std::vector<DesiredObject>& desired,
             int parallel)
      : kind_(kind), session_(session), desired_(desired), parallel_(parallel) {}
  virtual ~Reconciler() = default;
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  /// The compare skeleton. Stops at the first failure (sequential kinds) or reports the first
  /// by index with " (and N more)" (parallel kinds).
  virtual core::Result<void> Compare();
  /// The upsert skeleton; stops after the first phase failure, reported like Compare's.
  virtual core::Result<void> Upsert(OwnershipLedger& ledger, core::Logger& logger);
  /// Appends a deletion for every owned object of this kind that left the spec.
  virtual core::Result<void> Prune(std::vector<Item>& deletions) = 0;
  /// Deletes one object of this kind.
  virtual core::Result<void> Delete(const Item& item) = 0;
  /// Adds the changes of this kind's items to the plan, in order.
  virtual void AddToPlan(GrafanaPlan& plan) const;

  const std::vector<Item>& items() const { return items_; }

 protected:
  /// Reads `d` from Grafana and compares; may set item.diffs and kind-specific fields.
  virtual core::Result<Verdict> Examine(const DesiredObject& d, Item& item) = 0;
  /// Creates or updates `item` (its action says which).
  virtual core::Result<void> Write(Item& item) = 0;

  /// Uids of this kind to delete: recorded in the ledger or `marked` (found in Grafana with this
  /// owner's marker), and no longer wanted; in uid order.
  std::set<std::string> Unwanted(const std::vector<std::string>& marked = {}) const;
  /// Appends a deletion of each of `uids`; `still_there` reads whether Grafana still has the
  /// object (and may fill the item); when it has not, only the ledger entry goes.
  core::Result<void> AddDeletions(const std::set<std::string>& uids,
                                  const std::function<core::Result<bool>(Item&)>& still_there,
                                  std::vector<Item>& deletions) const;

  ObjectKind kind_;
  Session& session_;
  const std::vector<DesiredObject>& desired_;
  int parallel_;
  std::vector<Item> items_;
  std::set<std::string> wanted_;  ///< uids of the desired objects
};

/// A deletion of (kind, uid): the action is kDelete; reset it when only the ledger entry goes.
Item Deletion(ObjectKind kind, const std::string& uid);
/// The change `item` makes, when it has an action.
void AddChange(GrafanaPlan& plan, const Item& item);
/// Records `item` (hash, remote version and id) in `ledger`.
core::Result<void> Record(OwnershipLedger& ledger, const Item& item);

/// The reconcilers, in apply order.
std::unique_ptr<Reconciler> MakeDatasources(Session& s, const std::vector<DesiredObject>& d);
std::unique_ptr<Reconciler> MakeFolders(Session& s, const std::vector<DesiredObject>& d);
std::unique_ptr<Reconciler> MakeDashboards(Session& s, const std::vector<DesiredObject>& d);
std::unique_ptr<Reconciler> MakeRuleGroups(Session& s, const std::vector<DesiredObject>& d);
std::unique_ptr<Reconciler> MakeContactPoints(Session& s, const std::vector<DesiredObject>& d);
/// The stack's route in the shared notification-policy tree. `desired` holds the route or is
/// empty. Its Prune also runs when pruning is off: an absent route the ledger still records is
/// forgotten (no write).
std::unique_ptr<Reconciler> MakePolicy(Session& s, const std::vector<DesiredObject>& desired);

}  // namespace obsforge::provision::detail
