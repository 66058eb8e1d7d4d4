#include "provision/store_ledger.h"

#include <utility>

namespace obsforge::provision {
namespace {

// The two enums list the same kinds in the same order (ownership.h), so converting is a cast;
// these asserts keep that true.
static_assert(static_cast<int>(ObjectKind::kLokiGroup) ==
              static_cast<int>(store::ObjectKind::kLokiGroup));
static_assert(static_cast<int>(ObjectKind::kPolicy) ==
              static_cast<int>(store::ObjectKind::kPolicy));

store::ObjectKind ToStore(ObjectKind kind) {
  return static_cast<store::ObjectKind>(kind);
}

}  // namespace

StoreLedger::StoreLedger(store::ProvisionStore& store, std::string stack, std::string env)
    : store_(store), stack_(std::move(stack)), env_(std::move(env)) {
}

core::Result<std::vector<OwnedObject>> StoreLedger::List(std::optional<ObjectKind> kind) {
  std::optional<store::ObjectKind> filter;
  if (kind) {
    filter = ToStore(*kind);
  }
  auto rows = store_.ListProvisionedObjects(stack_, env_, filter);
  if (!rows.ok()) {
    return rows.error();
  }
  std::vector<OwnedObject> out;
  out.reserve(rows->size());
  for (auto& row : *rows) {
    out.push_back({.kind = static_cast<ObjectKind>(row.kind),
                   .uid = std::move(row.uid),
                   .content_hash = std::move(row.content_hash),
                   .remote_version = row.remote_version,
                   .remote_id = row.remote_id});
  }
  return out;
}

core::Result<void> StoreLedger::Record(const OwnedObject& object) {
  return store_.UpsertProvisionedObject({.stack = stack_,
                                         .env = env_,
                                         .kind = ToStore(object.kind),
                                         .uid = object.uid,
                                         .content_hash = object.content_hash,
                                         .remote_version = object.remote_version,
                                         .remote_id = object.remote_id});
}

core::Result<void> StoreLedger::Forget(ObjectKind kind, const std::string& uid) {
  auto deleted = store_.DeleteProvisionedObject(stack_, env_, ToStore(kind), uid);
  if (!deleted.ok() && deleted.error().code == core::ErrorCode::kNotFound) {
    return {};
  }
  return deleted;
}

}  // namespace obsforge::provision
