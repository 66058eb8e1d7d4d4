#include "provision/ownership.h"

namespace obsforge::provision {

const char* KindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kDatasource:
      return "datasource";
    case ObjectKind::kFolder:
      return "folder";
    case ObjectKind::kDashboard:
      return "dashboard";
    case ObjectKind::kRuleGroup:
      return "rule_group";
    case ObjectKind::kContactPoint:
      return "contact_point";
    case ObjectKind::kPolicy:
      return "policy";
    case ObjectKind::kLokiGroup:
      return "loki_group";
  }
  return "unknown";
}

core::Result<std::vector<OwnedObject>> InMemoryLedger::List(std::optional<ObjectKind> kind) {
  std::lock_guard lock(mu_);
  std::vector<OwnedObject> out;
  for (const auto& [key, object] : records_) {
    if (!kind || *kind == key.first) {
      out.push_back(object);
    }
  }
  return out;
}

core::Result<void> InMemoryLedger::Record(const OwnedObject& object) {
  std::lock_guard lock(mu_);
  records_[{object.kind, object.uid}] = object;
  return {};
}

core::Result<void> InMemoryLedger::Forget(ObjectKind kind, const std::string& uid) {
  std::lock_guard lock(mu_);
  records_.erase({kind, uid});
  return {};
}

std::optional<OwnedObject> InMemoryLedger::Find(ObjectKind kind, const std::string& uid) const {
  std::lock_guard lock(mu_);
  const auto it = records_.find({kind, uid});
  if (it == records_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::size_t InMemoryLedger::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

}  // namespace obsforge::provision
