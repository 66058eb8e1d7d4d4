#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "provision/ownership.h"
#include "store/store.h"

namespace obsforge::provision {

/// The OwnershipLedger of one (stack, environment) kept in the server's store
/// (store::ProvisionStore, so records survive restarts and are shared by replicas). Recording
/// needs the stack to exist in the store (kNotFound otherwise, from the store). Thread-safe when
/// the store is.
class StoreLedger final : public OwnershipLedger {
 public:
  /// `store` is not owned and must outlive the ledger.
  StoreLedger(store::ProvisionStore& store, std::string stack, std::string env);

  core::Result<std::vector<OwnedObject>> List(std::optional<ObjectKind> kind) override;
  core::Result<void> Record(const OwnedObject& object) override;
  /// Forgetting a record that is not there is not an error.
  core::Result<void> Forget(ObjectKind kind, const std::string& uid) override;

 private:
  store::ProvisionStore& store_;
  std::string stack_;
  std::string env_;
};

}  // namespace obsforge::provision
