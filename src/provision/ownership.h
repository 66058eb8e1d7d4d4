#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace obsforge::provision {

/// Kinds of upstream objects obsforge provisions (same set and order as store::ObjectKind, so
/// StoreLedger converts between them with a cast).
enum class ObjectKind : std::uint8_t {
  kDatasource,
  kFolder,
  kDashboard,
  kRuleGroup,
  kContactPoint,
  kPolicy,
  kLokiGroup,
};

/// Wire name: "datasource", "folder", "dashboard", "rule_group", "contact_point", "policy",
/// "loki_group".
const char* KindName(ObjectKind kind);

/// Who owns what obsforge provisions: one (stack, environment).
struct Owner {
  std::string stack;
  std::string env;

  /// "<stack>/<env>": the value of every marker.
  std::string Id() const { return stack + "/" + env; }
  /// Dashboard tag marking ownership: "obsforge:<stack>/<env>".
  std::string DashboardTag() const { return "obsforge:" + Id(); }
};

/// Name of the label (alert rules) / matcher (notification policy route) and of the datasource
/// jsonData member that mark an object as obsforge's.
inline constexpr const char* kOwnerLabel = "obsforge_owner";
inline constexpr const char* kDatasourceMarker = "obsforgeOwner";

/// One object obsforge created and still owns.
struct OwnedObject {
  ObjectKind kind = ObjectKind::kDashboard;
  /// Dashboards, folders, datasources, contact points: the uid. Rule groups: "<folderUid>/<title>".
  /// Policy: "policy". Loki groups: "<tenant>/<namespace>/<group>".
  std::string uid;
  /// CanonicalHash of what was last written (secret values included), to detect a change of a
  /// secret that Grafana never echoes.
  std::string content_hash;
  /// Grafana's version and id of the object right after obsforge wrote it (dashboards; 0 =
  /// unknown). When neither the content hash nor these moved, there is nothing to compare.
  std::int64_t remote_version = 0;
  std::int64_t remote_id = 0;
  bool operator==(const OwnedObject&) const = default;
};

/// Where ownership records of ONE (stack, environment) live: StoreLedger keeps them in the store
/// (store::ProvisionedObject). Implementations must be thread-safe.
class OwnershipLedger {
 public:
  virtual ~OwnershipLedger() = default;
  /// Every record, of `kind` only when set.
  virtual core::Result<std::vector<OwnedObject>> List(std::optional<ObjectKind> kind) = 0;
  /// Inserts or replaces the record of (object.kind, object.uid).
  virtual core::Result<void> Record(const OwnedObject& object) = 0;
  /// Forgets (kind, uid); not an error when there is no such record.
  virtual core::Result<void> Forget(ObjectKind kind, const std::string& uid) = 0;
};

/// An OwnershipLedger in memory (tests, benchmarks, `plan` without a store). Thread-safe.
class InMemoryLedger final : public OwnershipLedger {
 public:
  core::Result<std::vector<OwnedObject>> List(std::optional<ObjectKind> kind) override;
  core::Result<void> Record(const OwnedObject& object) override;
  core::Result<void> Forget(ObjectKind kind, const std::string& uid) override;

  /// The record of (kind, uid), if any.
  std::optional<OwnedObject> Find(ObjectKind kind, const std::string& uid) const;
  /// Number of records.
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<ObjectKind, std::string>, OwnedObject> records_;
};

}  // namespace obsforge::provision
