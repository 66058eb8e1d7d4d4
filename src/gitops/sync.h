#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/error.h"
#include "gitops/git_source.h"
#include "spec/stack.h"

namespace obsforge::gitops {

/// What a sync does to the world. The server implements it with its operations; every call
/// records `commit` (sha, author, message) on the revisions it creates.
class SyncTarget {
 public:
  virtual ~SyncTarget() = default;
  /// Makes `stack` the stack's spec (its paths resolve in `content`, the checkout), applies
  /// environments `apply_envs` and plans `plan_envs` (keeping the diff). Returns an error when
  /// the stack could not be recorded or an apply failed (it rolls back on its own).
  virtual core::Result<void> ApplyStack(const spec::StackSpec& stack,
                                        const spec::ContentSource& content,
                                        const CommitInfo& commit,
                                        const std::vector<std::string>& apply_envs,
                                        const std::vector<std::string>& plan_envs) = 0;
  /// Tears down stack `name` (every environment) because it left the repository at `commit`.
  virtual core::Result<void> TeardownStack(const std::string& name, const CommitInfo& commit) = 0;
  /// Names of the stacks this source created and still manages (source key as given).
  virtual std::vector<std::string> ManagedStacks(const std::string& source_key) = 0;
};

/// What a source has seen and applied.
struct SourceState {
  std::string last_seen_sha;  ///< the last head handled (good or broken)
  std::string last_good_sha;  ///< the last head that validated and was applied everywhere
  bool operator==(const SourceState&) const = default;
};

/// Persistence of SourceState (the server backs it by store::GitStore).
class SourceStateStore {
 public:
  virtual ~SourceStateStore() = default;
  /// The state of `source_key`; an empty state when never saved.
  virtual core::Result<SourceState> Load(const std::string& source_key) = 0;
  virtual core::Result<void> Save(const std::string& source_key, const SourceState& state) = 0;
};

/// A SourceStateStore in memory (tests, CLI). Thread-safe.
class InMemorySourceStateStore final : public SourceStateStore {
 public:
  core::Result<SourceState> Load(const std::string& source_key) override;
  core::Result<void> Save(const std::string& source_key, const SourceState& state) override;

 private:
  std::mutex mu_;
  std::map<std::string, SourceState> states_;
};

/// Renders one environment of one stack to check it; throws core::InputError (kRender) on a
/// template or content error. The server passes a lambda around render::RenderEnvironment.
using RenderCheck =
    std::function<void(const spec::EnvironmentSpec& env, const spec::ContentSource& content)>;

/// How a sync treats the stacks of one source.
struct SyncOptions {
  std::string source_key;  ///< e.g. "https://git.example/obs.git#main:stacks/"
  std::string path = ".";  ///< folder of the repository whose `*.yaml` files are stacks
  std::vector<std::string> auto_apply;  ///< environments applied; the others are planned only
  bool prune = false;  ///< tear down managed stacks that are no longer in the repository
};

/// The outcome of one sync.
struct SyncReport {
  enum class Outcome {
    kUnchanged,  ///< the head was already handled: nothing done
    kApplied,    ///< every stack valid and every ApplyStack/TeardownStack succeeded
    kBroken,     ///< a stack is invalid or failed to render: nothing applied anywhere
    kFailed,     ///< valid, but fetch/checkout or some apply/teardown failed (see `failures`)
  };
  Outcome outcome = Outcome::kUnchanged;
  CommitInfo commit;                          ///< the head handled (empty when fetch failed)
  std::vector<core::Diagnostic> diagnostics;  ///< kBroken: every finding, file:line:col
  std::vector<std::string> applied;           ///< stacks handed to ApplyStack successfully
  std::vector<std::string> torn_down;         ///< stacks removed (prune: true)
  std::vector<std::string> orphaned;          ///< stacks gone from the repo but kept (prune: false)
  std::vector<std::string> failures;          ///< "stack: message" for each failed call

  /// One line for logs and notifications, e.g. "abc1234 broken: 2 problems".
  std::string Summary() const;
};

/// Name of an outcome: "unchanged", "applied", "broken", "failed".
const char* OutcomeName(SyncReport::Outcome outcome);

/// Syncs one source: fetch → checkout → validate every stack → apply/plan, or nothing when any
/// stack is broken. Not thread-safe: one sync at a time (the Poller guarantees it).
class Syncer {
 public:
  /// `render_check` may be empty (validation only). All references must outlive the Syncer.
  Syncer(SyncOptions options,
         CommitSource& source,
         SyncTarget& target,
         SourceStateStore& state,
         RenderCheck render_check = {});

  /// Fetches the head; when it differs from the last seen sha (or `force`), applies it with
  /// ApplyCommit(). A fetch failure is a kFailed report. Never throws.
  SyncReport Sync(bool force = false);

  /// Handles commit `commit` as the new head: checkout; parse and validate every `<path>/*.yaml`
  /// (non-recursive, sorted) with the checkout as the stack root; render-check every
  /// environment. Any finding → kBroken, nothing applied, last good kept. Otherwise ApplyStack
  /// for each stack (auto_apply envs applied, the rest planned) and, for managed stacks no
  /// longer present, TeardownStack when prune, else reported as orphaned. The state records the
  /// sha as seen, and as good when every call succeeded. Never throws.
  SyncReport ApplyCommit(const CommitInfo& commit);

 private:
  SyncOptions options_;
  CommitSource& source_;
  SyncTarget& target_;
  SourceStateStore& state_;
  RenderCheck render_check_;
};

}  // namespace obsforge::gitops
