#pragma once

#include <optional>
#include <string>
#include <vector>

namespace obsforge::control {

/// Which stacks someone may see and change: every stack, or those whose names match one of a
/// list of names and glob patterns (`team-a-*`, `shop`, `[ab]-web`; fnmatch(3) syntax). Used for
/// stack-scoped API tokens and for the stacks a server secret is shared with. A value type;
/// immutable and thread-safe once built.
class StackScope {
 public:
  /// Every stack.
  StackScope() = default;
  /// The stacks matching one of `patterns` (none when the list is empty).
  explicit StackScope(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}
  /// `patterns` when set, every stack when not (a tokens file entry without `stacks:`).
  static StackScope From(std::optional<std::vector<std::string>> patterns);

  /// True when `stack` is in scope.
  bool Allows(const std::string& stack) const;
  /// True when the scope is every stack.
  bool All() const { return !patterns_.has_value(); }
  /// The patterns (nullopt: every stack).
  const std::optional<std::vector<std::string>>& patterns() const { return patterns_; }

 private:
  std::optional<std::vector<std::string>> patterns_;
};

/// Why `pattern` cannot name stacks ("" when it can): empty, or characters a stack name (a DNS
/// label) and a glob never hold.
std::string ScopePatternProblem(const std::string& pattern);

}  // namespace obsforge::control
