#include "control/stack_scope.h"

#include <algorithm>

#include <fnmatch.h>

namespace obsforge::control {

StackScope StackScope::From(std::optional<std::vector<std::string>> patterns) {
  return patterns ? StackScope(std::move(*patterns)) : StackScope();
}

bool StackScope::Allows(const std::string& stack) const {
  if (!patterns_) {
    return true;
  }
  return std::any_of(patterns_->begin(), patterns_->end(), [&](const std::string& pattern) {
    return ::fnmatch(pattern.c_str(), stack.c_str(), 0) == 0;
  });
}

std::string ScopePatternProblem(const std::string& pattern) {
  if (pattern.empty()) {
    return "must not be empty";
  }
  const bool ok = std::all_of(pattern.begin(), pattern.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*' || c == '?' ||
           c == '[' || c == ']' || c == '!';
  });
  return ok ? "" : "\"" + pattern + "\" is not a stack name or glob (a-z, 0-9, -, *, ?, [...])";
}

}  // namespace obsforge::control
