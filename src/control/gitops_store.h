#pragma once

#include <string>

#include "core/log.h"
#include "gitops/sync.h"
#include "gitops/webhook.h"
#include "store/store.h"

namespace obsforge::control {

/// gitops::SourceStateStore over store::GitStore: last_good_sha is kept as last_applied_sha.
/// Store failures are returned as they come (a never-saved source loads as an empty state).
class StoreSourceStateStore final : public gitops::SourceStateStore {
 public:
  /// `store` must outlive this object.
  explicit StoreSourceStateStore(store::GitStore& store) : store_(store) {}
  core::Result<gitops::SourceState> Load(const std::string& source_key) override;
  core::Result<void> Save(const std::string& source_key, const gitops::SourceState& state) override;

 private:
  store::GitStore& store_;
};

/// gitops::DeliveryLog over store::GitStore, so a redelivered webhook is recognised across
/// restarts. When the store fails the delivery counts as new (logged): the sync it triggers is
/// itself idempotent (an already handled head is not applied again). Thread-safe.
class StoreDeliveryLog final : public gitops::DeliveryLog {
 public:
  /// `store` and `logger` must outlive this object.
  StoreDeliveryLog(store::GitStore& store, core::Logger& logger) : store_(store), logger_(logger) {}
  bool Seen(const std::string& id) override;

 private:
  store::GitStore& store_;
  core::Logger& logger_;
};

}  // namespace obsforge::control
