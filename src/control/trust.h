#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::control {

/// What the operator lets specs received by the server do (server config `external:` and
/// `secrets:`, docs/configuration.md). The CLI has none of these limits: it runs with its user's
/// own authority.
struct TrustOptions {
  /// Directories an external runtime's `config_dir` must lie under (`external.config_roots`).
  /// Empty: no spec received by the server may name a config_dir.
  std::vector<std::filesystem::path> config_roots;
};

/// The rules a spec sent to the server (API or gitops) must follow before anything of it runs,
/// checked when it is received and again before every operation on it (so a rule tightened
/// since still holds). Immutable; thread-safe.
///
/// - every `config_dir`, with symlinks and `..` resolved, lies under one of the config roots,
///   and neither inside the data directory nor around it.
class TrustPolicy {
 public:
  /// `data_dir` is obsforge's own: never a place for a spec's files.
  TrustPolicy(TrustOptions options, std::filesystem::path data_dir);

  /// Every rule `stack` breaks, each naming the field (`spec.environments.prod.runtime.
  /// prometheus.config_dir`) and what is allowed. Empty when it may run. Never throws except
  /// std::bad_alloc.
  std::vector<core::Diagnostic> Problems(const spec::StackSpec& stack) const;
  /// Throws core::InputError (kInvalidSpec) with Problems() when there are any.
  void Check(const spec::StackSpec& stack) const;

  const TrustOptions& options() const { return options_; }

 private:
  std::vector<core::Diagnostic> ConfigDirProblems(const spec::StackSpec& stack) const;

  TrustOptions options_;
  std::filesystem::path data_dir_;  // resolved
};

/// `path` made absolute, with symlinks of its existing part and `.`/`..` resolved.
std::filesystem::path ResolvedPath(const std::filesystem::path& path);
/// True when the resolved `path` is `root` or lies below it (both as ResolvedPath gives them).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace obsforge::control
