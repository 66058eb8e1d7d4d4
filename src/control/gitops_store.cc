#include "control/gitops_store.h"

namespace obsforge::control {

core::Result<gitops::SourceState> StoreSourceStateStore::Load(const std::string& source_key) {
  auto state = store_.GetGitState(source_key);
  if (!state.ok()) {
    if (state.error().code == core::ErrorCode::kNotFound) {
      return gitops::SourceState{};
    }
    return state.error();
  }
  return gitops::SourceState{.last_seen_sha = state->last_seen_sha,
                             .last_good_sha = state->last_applied_sha};
}

core::Result<void> StoreSourceStateStore::Save(const std::string& source_key,
                                               const gitops::SourceState& state) {
  auto saved = store_.PutGitState({.source_key = source_key,
                                   .last_seen_sha = state.last_seen_sha,
                                   .last_applied_sha = state.last_good_sha});
  if (!saved.ok()) {
    return saved.error();
  }
  return {};
}

bool StoreDeliveryLog::Seen(const std::string& id) {
  auto recorded = store_.RecordWebhookDelivery(id);
  if (recorded.ok()) {
    return false;
  }
  if (recorded.error().code == core::ErrorCode::kConflict) {
    return true;
  }
  logger_.Warn("cannot record webhook delivery; treating it as new",
               {{"delivery", id}, {"error", recorded.error().message}});
  return false;
}

}  // namespace obsforge::control
