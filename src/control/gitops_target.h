#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "control/stack_service.h"
#include "gitops/sync.h"
#include "store/store.h"

namespace obsforge::control {

/// True when stack `name` was created by gitops source `source_key` (its revision 1 has
/// source git and that actor). Such a stack is "managed" by the source: later commits update it
/// (a PUT through the API in between is overwritten by the next commit) and `prune` may remove
/// it. A stack created through the API, or by another source, is never touched by a sync.
/// Store failures other than kNotFound are returned.
core::Result<bool> ManagedBy(store::StackStore& store,
                             const std::string& name,
                             const std::string& source_key);

/// Every stored stack that `source_key` manages (ManagedBy), sorted by name. Store errors are
/// returned; a stack whose revisions cannot be read is skipped.
core::Result<std::vector<store::Stack>> StacksManagedBy(store::StackStore& store,
                                                        const std::string& source_key);

/// gitops::SyncTarget over the application's own operations: the same StackService, operation
/// runner and backend that the REST API drives. ApplyStack records the spec as a git revision
/// (commit SHA, author, message; actor = the source key) with every file of the checkout but
/// the other stacks' specs, queues an apply (kind sync) of each auto-applied environment and a
/// plan of the others, and waits until they finish: any apply that does not succeed makes it an
/// error. A stack of the same name that the source does not manage is refused (kConflict) and
/// left as it is. TeardownStack deletes a managed stack through the same path as DELETE.
/// One sync at a time (the Poller's guarantee); Stop() makes waits give up.
class GitSyncTarget final : public gitops::SyncTarget {
 public:
  /// `service` and `store` must outlive the target. `stack_folder` is the folder of the
  /// repository holding the stacks ("" for the root).
  GitSyncTarget(StackService& service,
                store::Store& store,
                std::string source_key,
                std::string stack_folder);

  core::Result<void> ApplyStack(const spec::StackSpec& stack,
                                const spec::ContentSource& content,
                                const gitops::CommitInfo& commit,
                                const std::vector<std::string>& apply_envs,
                                const std::vector<std::string>& plan_envs) override;
  core::Result<void> TeardownStack(const std::string& name,
                                   const gitops::CommitInfo& commit) override;
  std::vector<std::string> ManagedStacks(const std::string& source_key) override;

  /// Makes a running or later wait return kUnavailable ("server stopping") at once.
  void Stop() { stopping_ = true; }

 private:
  // Waits until operation `id` is terminal; its error ("" when it succeeded).
  core::Result<std::string> Wait(const std::string& id);

  StackService& service_;
  store::Store& store_;
  std::string source_key_;
  std::string stack_folder_;
  std::atomic<bool> stopping_{false};
};

}  // namespace obsforge::control
