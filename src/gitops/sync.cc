#include "gitops/sync.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <set>
#include <utility>

#include "core/fs.h"

namespace obsforge::gitops {

namespace fs = std::filesystem;

core::Result<SourceState> InMemorySourceStateStore::Load(const std::string& source_key) {
  std::lock_guard lock(mu_);
  const auto it = states_.find(source_key);
  return it == states_.end() ? SourceState{} : it->second;
}

core::Result<void> InMemorySourceStateStore::Save(const std::string& source_key,
                                                  const SourceState& state) {
  std::lock_guard lock(mu_);
  states_[source_key] = state;
  return {};
}

const char* OutcomeName(SyncReport::Outcome outcome) {
  switch (outcome) {
    case SyncReport::Outcome::kUnchanged:
      return "unchanged";
    case SyncReport::Outcome::kApplied:
      return "applied";
    case SyncReport::Outcome::kBroken:
      return "broken";
    case SyncReport::Outcome::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string SyncReport::Summary() const {
  std::string text = commit.sha.empty() ? std::string("(no commit)") : commit.sha.substr(0, 7);
  text += std::string(" ") + OutcomeName(outcome);
  switch (outcome) {
    case Outcome::kUnchanged:
      break;
    case Outcome::kBroken:
      text += ": " + std::to_string(diagnostics.size()) +
              (diagnostics.size() == 1 ? " problem" : " problems");
      if (!diagnostics.empty()) {
        text += ", first: " + diagnostics.front().ToString();
      }
      break;
    case Outcome::kApplied:
    case Outcome::kFailed:
      text += ": " + std::to_string(applied.size()) + (applied.size() == 1 ? " stack" : " stacks");
      if (!torn_down.empty()) {
        text += ", " + std::to_string(torn_down.size()) + " torn down";
      }
      if (!orphaned.empty()) {
        text += ", " + std::to_string(orphaned.size()) + " orphaned";
      }
      if (!failures.empty()) {
        text += ", " + std::to_string(failures.size()) + " failed, first: " + failures.front();
      }
      break;
  }
  return text;
}

namespace {

// The configured folder, '/'-separated and without a trailing slash; "" for the repository root.
// nullopt when it would leave the checkout.
std::optional<std::string> NormalisePath(const std::string& path) {
  const fs::path p = fs::path(path).lexically_normal();
  if (p.is_absolute()) {
    return std::nullopt;
  }
  std::string text = p.generic_string();
  while (!text.empty() && text.back() == '/') {
    text.pop_back();
  }
  if (text == ".") {
    text.clear();
  }
  if (text == ".." || text.rfind("../", 0) == 0) {
    return std::nullopt;
  }
  return text;
}

std::string ExceptionMessage(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The stacks defined by the .yaml files of `path` at the checkout, in file name order. What is
// wrong with them (unreadable, invalid, a name defined twice) goes to `diagnostics`.
std::vector<spec::StackSpec> ReadStacks(const fs::path& checkout,
                                        const std::string& path,
                                        const std::string& sha,
                                        const spec::ContentSource& content,
                                        std::vector<core::Diagnostic>& diagnostics) {
  std::vector<spec::StackSpec> stacks;
  const auto folder = NormalisePath(path);
  std::error_code ec;
  if (!folder) {
    diagnostics.push_back({.message = "gitops path '" + path + "' leaves the repository"});
    return stacks;
  }
  if (!fs::is_directory(checkout / *folder, ec)) {
    // A missing folder is far more likely a mistake than "delete every stack".
    diagnostics.push_back(
        {.file = *folder,
         .message = "folder '" + *folder + "' does not exist at commit " + sha.substr(0, 7)});
    return stacks;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(checkout / *folder, ec)) {
    if (entry.path().extension() == ".yaml" && entry.is_regular_file(ec) && !entry.is_symlink(ec)) {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> defined_in;
  for (const auto& name : files) {
    const std::string rel = folder->empty() ? name : *folder + "/" + name;
    try {
      auto stack = spec::ParseStack(core::ReadFile(checkout / rel), rel, content);
      if (const auto [it, fresh] = defined_in.emplace(stack.name, rel); !fresh) {
        diagnostics.push_back(
            {.file = rel,
             .path = "metadata.name",
             .message = "stack '" + stack.name + "' is also defined in " + it->second});
        continue;
      }
      stacks.push_back(std::move(stack));
    } catch (const core::InputError& e) {
      diagnostics.insert(diagnostics.end(), e.diagnostics().begin(), e.diagnostics().end());
    } catch (const std::exception& e) {
      diagnostics.push_back({.file = rel, .message = e.what()});
    }
  }
  return stacks;
}

// Renders every environment of every stack with `render_check` (when set); what fails goes to
// `diagnostics`.
void CheckRenders(const std::vector<spec::StackSpec>& stacks,
                  const RenderCheck& render_check,
                  const spec::ContentSource& content,
                  std::vector<core::Diagnostic>& diagnostics) {
  for (const auto& stack : stacks) {
    for (const auto& env : stack.environments) {
      try {
        const auto env_spec = spec::ForEnvironment(stack, env);
        if (render_check) {
          render_check(env_spec, content);
        }
      } catch (const core::InputError& e) {
        diagnostics.insert(diagnostics.end(), e.diagnostics().begin(), e.diagnostics().end());
      } catch (const std::exception& e) {
        diagnostics.push_back(
            {.file = stack.file, .message = "environment " + env + ": " + e.what()});
      }
    }
  }
}

// Applies one stack: the environments listed in `auto_apply` are applied, the others planned.
void ApplyStack(SyncTarget& target,
                const spec::StackSpec& stack,
                const spec::ContentSource& content,
                const CommitInfo& commit,
                const std::vector<std::string>& auto_apply,
                SyncReport& report) {
  std::vector<std::string> apply_envs;
  std::vector<std::string> plan_envs;
  for (const auto& env : stack.environments) {
    const bool automatic = std::find(auto_apply.begin(), auto_apply.end(), env) != auto_apply.end();
    (automatic ? apply_envs : plan_envs).push_back(env);
  }
  try {
    auto applied = target.ApplyStack(stack, content, commit, apply_envs, plan_envs);
    if (applied) {
      report.applied.push_back(stack.name);
    } else {
      report.failures.push_back(stack.name + ": " + applied.error().message);
    }
  } catch (...) {
    report.failures.push_back(stack.name + ": " + ExceptionMessage(std::current_exception()));
  }
}

// The managed stacks that the commit no longer defines: torn down with `prune`, else reported
// as orphaned.
void PruneStacks(SyncTarget& target,
                 const SyncOptions& options,
                 const std::set<std::string>& present,
                 const CommitInfo& commit,
                 SyncReport& report) {
  std::vector<std::string> managed;
  try {
    managed = target.ManagedStacks(options.source_key);
  } catch (...) {
    report.failures.push_back("managed stacks: " + ExceptionMessage(std::current_exception()));
  }
  std::sort(managed.begin(), managed.end());
  for (const auto& name : managed) {
    if (present.contains(name)) {
      continue;
    }
    if (!options.prune) {
      report.orphaned.push_back(name);
      continue;
    }
    try {
      auto removed = target.TeardownStack(name, commit);
      if (removed) {
        report.torn_down.push_back(name);
      } else {
        report.failures.push_back(name + ": " + removed.error().message);
      }
    } catch (...) {
      report.failures.push_back(name + ": " + ExceptionMessage(std::current_exception()));
    }
  }
}

}  // namespace

Syncer::Syncer(SyncOptions options,
               CommitSource& source,
               SyncTarget& target,
               SourceStateStore& state,
               RenderCheck render_check)
    : options_(std::move(options)),
      source_(source),
      target_(target),
      state_(state),
      render_check_(std::move(render_check)) {
}

SyncReport Syncer::Sync(bool force) {
  SyncReport report;
  auto state = state_.Load(options_.source_key);
  if (!state) {
    report.outcome = SyncReport::Outcome::kFailed;
    report.failures.push_back("state: " + state.error().message);
    return report;
  }
  auto head = source_.Fetch();
  if (!head) {
    report.outcome = SyncReport::Outcome::kFailed;
    report.failures.push_back("fetch: " + head.error().message);
    return report;
  }
  if (!force && head->sha == state->last_seen_sha) {
    report.commit = *head;
    return report;
  }
  return ApplyCommit(*head);
}

SyncReport Syncer::ApplyCommit(const CommitInfo& commit) {
  SyncReport report{.commit = commit};
  auto fail = [&report](std::string what) {
    report.outcome = SyncReport::Outcome::kFailed;
    report.failures.push_back(std::move(what));
    return report;
  };
  auto state = state_.Load(options_.source_key);
  if (!state) {
    return fail("state: " + state.error().message);
  }
  auto checkout = source_.Checkout(commit.sha);
  if (!checkout) {
    return fail("checkout: " + checkout.error().message);
  }
  const auto content = spec::MakeDirectorySource(*checkout);

  // ---- validate everything before touching anything ----
  std::vector<spec::StackSpec> stacks =
      ReadStacks(*checkout, options_.path, commit.sha, *content, report.diagnostics);
  CheckRenders(stacks, render_check_, *content, report.diagnostics);

  SourceState next = *state;
  next.last_seen_sha = commit.sha;
  if (!report.diagnostics.empty()) {
    report.outcome = SyncReport::Outcome::kBroken;
    if (auto saved = state_.Save(options_.source_key, next); !saved) {
      report.failures.push_back("state: " + saved.error().message);
    }
    return report;
  }

  // ---- apply ----
  std::set<std::string> present;
  for (const auto& stack : stacks) {
    present.insert(stack.name);
    ApplyStack(target_, stack, *content, commit, options_.auto_apply, report);
  }
  PruneStacks(target_, options_, present, commit, report);
  if (report.failures.empty()) {
    next.last_good_sha = commit.sha;
  }
  if (auto saved = state_.Save(options_.source_key, next); !saved) {
    report.failures.push_back("state: " + saved.error().message);
  }
  report.outcome =
      report.failures.empty() ? SyncReport::Outcome::kApplied : SyncReport::Outcome::kFailed;
  return report;
}

}  // namespace obsforge::gitops
