#include "control/gitops_target.h"

#include <thread>
#include <utility>

#include "control/spec_body.h"
#include "core/hash.h"

namespace obsforge::control {
namespace {

using core::ErrorCode;
using core::MakeError;

// Another stack's spec in the stacks folder: changing it must not make a new revision of this
// stack, so it is left out of this stack's files.
bool IsOtherStack(const std::string& path, const std::string& folder, const std::string& own) {
  if (path == own || path.size() < 5 || path.compare(path.size() - 5, 5, ".yaml") != 0) {
    return false;
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  return dir == folder;
}

}  // namespace

core::Result<bool> ManagedBy(store::StackStore& store,
                             const std::string& name,
                             const std::string& source_key) {
  auto revisions = store.ListRevisions(name, 0);
  if (!revisions.ok()) {
    if (revisions.error().code == ErrorCode::kNotFound) {
      return false;
    }
    return revisions.error();
  }
  if (revisions->empty()) {
    return false;
  }
  const store::SpecRevision& first = revisions->back();  // newest first
  return first.source == store::RevisionSource::kGit && first.actor == source_key;
}

core::Result<std::vector<store::Stack>> StacksManagedBy(store::StackStore& store,
                                                        const std::string& source_key) {
  auto stacks = store.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  std::vector<store::Stack> managed;
  for (store::Stack& stack : *stacks) {
    auto owned = ManagedBy(store, stack.name, source_key);
    if (owned.ok() && *owned) {
      managed.push_back(std::move(stack));
    }
  }
  return managed;
}

GitSyncTarget::GitSyncTarget(StackService& service,
                             store::Store& store,
                             std::string source_key,
                             std::string stack_folder)
    : service_(service),
      store_(store),
      source_key_(std::move(source_key)),
      stack_folder_(std::move(stack_folder)) {
  while (!stack_folder_.empty() && stack_folder_.back() == '/') {
    stack_folder_.pop_back();
  }
  if (stack_folder_ == ".") {
    stack_folder_.clear();
  }
}

core::Result<std::string> GitSyncTarget::Wait(const std::string& id) {
  while (!stopping_) {
    auto op = store_.GetOperation(id);
    if (!op.ok()) {
      return op.error();
    }
    if (store::IsTerminal(op->state)) {
      // Superseded: a later change of the environment (a newer commit, an API update) was
      // queued behind it; that one applies, so this sync did not fail.
      if (op->state == store::OperationState::kSucceeded ||
          op->state == store::OperationState::kSuperseded) {
        return std::string();
      }
      return std::string(store::Name(op->state)) + (op->error.empty() ? "" : ": " + op->error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return MakeError(ErrorCode::kUnavailable, "server stopping");
}

core::Result<void> GitSyncTarget::ApplyStack(const spec::StackSpec& stack,
                                             const spec::ContentSource& content,
                                             const gitops::CommitInfo& commit,
                                             const std::vector<std::string>& apply_envs,
                                             const std::vector<std::string>& plan_envs) {
  if (auto exists = store_.GetStack(stack.name); exists.ok()) {
    auto managed = ManagedBy(store_, stack.name, source_key_);
    if (!managed.ok()) {
      return managed.error();
    }
    if (!*managed) {
      return MakeError(
          ErrorCode::kConflict,
          "stack \"" + stack.name + "\" exists and was not created by this source; left as it is");
    }
  }
  // The checkout is pruned later: the stack keeps its own copy of the files (as a spec posted
  // with its files does), so rollbacks and restarts still find them.
  SpecInput input;
  input.stack = stack;
  for (const std::string& path : content.Glob("**")) {
    if (IsOtherStack(path, stack_folder_, stack.file)) {
      continue;
    }
    if (auto text = content.Read(path)) {
      input.files[path] = std::move(*text);
    }
  }
  input.content = spec::MakeMemorySource(input.files);
  input.hash = core::Sha256Hex(stack.Hash() + ":" + FilesHash(input.files));
  const std::string author = commit.author_email.empty()
                                 ? commit.author_name
                                 : commit.author_name + " <" + commit.author_email + ">";
  auto synced = service_.SyncSpec(input,
                                  {.source = store::RevisionSource::kGit,
                                   .commit_sha = commit.sha,
                                   .commit_author = author,
                                   .commit_message = commit.message,
                                   .actor = source_key_},
                                  apply_envs, plan_envs);
  if (!synced.ok()) {
    return synced.error();
  }
  std::string failures;
  for (const store::Operation& op : synced->operations) {
    auto outcome = Wait(op.id);
    if (!outcome.ok()) {
      return outcome.error();
    }
    // A failed plan is reported too: the commit is not "good" until every environment could
    // at least be planned.
    if (!outcome->empty()) {
      failures +=
          (failures.empty() ? "" : "; ") + op.env + " " + store::Name(op.kind) + " " + *outcome;
    }
  }
  if (!failures.empty()) {
    return MakeError(ErrorCode::kUpstream, failures);
  }
  return {};
}

core::Result<void> GitSyncTarget::TeardownStack(const std::string& name,
                                                const gitops::CommitInfo& /*commit*/) {
  auto deleted = service_.Delete(name, source_key_);
  if (!deleted.ok()) {
    return deleted.error();
  }
  auto outcome = Wait(deleted->operation.id);
  if (!outcome.ok()) {
    return outcome.error();
  }
  if (!outcome->empty()) {
    return MakeError(ErrorCode::kUpstream, "teardown " + *outcome);
  }
  return {};
}

std::vector<std::string> GitSyncTarget::ManagedStacks(const std::string& source_key) {
  auto stacks = StacksManagedBy(store_, source_key);
  if (!stacks.ok()) {
    // Pruning must not act on a partial picture; the Syncer reports the exception.
    throw std::runtime_error("cannot list stacks: " + stacks.error().message);
  }
  std::vector<std::string> names;
  for (const store::Stack& stack : *stacks) {
    names.push_back(stack.name);
  }
  return names;
}

}  // namespace obsforge::control
