#include "control/trust.h"

#include <system_error>

namespace obsforge::control {
namespace fs = std::filesystem;

fs::path ResolvedPath(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) {
    absolute = path;
  }
  fs::path resolved = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute : resolved).lexically_normal();
}

bool IsWithin(const fs::path& path, const fs::path& root) {
  const std::string p = path.generic_string();
  std::string r = root.generic_string();
  while (r.size() > 1 && r.back() == '/') {
    r.pop_back();
  }
  if (p == r) {
    return true;
  }
  const std::string prefix = r == "/" ? r : r + "/";
  return p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0;
}

TrustPolicy::TrustPolicy(TrustOptions options, fs::path data_dir)
    : options_(std::move(options)), data_dir_(ResolvedPath(data_dir)) {
}

std::vector<core::Diagnostic> TrustPolicy::ConfigDirProblems(const spec::StackSpec& stack) const {
  std::string allowed;
  for (const auto& root : options_.config_roots) {
    allowed += (allowed.empty() ? "" : ", ") + root.string();
  }
  if (allowed.empty()) {
    allowed = "none (the operator lists them in external.config_roots of the server config)";
  }
  std::vector<core::Diagnostic> problems;
  for (const std::string& env : stack.environments) {
    spec::EnvironmentSpec merged;
    try {
      merged = spec::ForEnvironment(stack, env);
    } catch (const core::InputError& e) {
      problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
      continue;
    }
    for (const auto& [component, runtime] : merged.runtime.components) {
      if (runtime.config_dir.empty()) {
        continue;
      }
      const std::string field =
          "spec.environments." + env + ".runtime." + component + ".config_dir";
      auto report = [&](std::string message) {
        problems.push_back({.file = stack.file, .path = field, .message = std::move(message)});
      };
      const fs::path dir(runtime.config_dir);  // absolute: the spec's validation says so
      const fs::path resolved = ResolvedPath(dir);
      if (IsWithin(resolved, data_dir_) || IsWithin(data_dir_, resolved)) {
        report(runtime.config_dir + " overlaps obsforge's data directory");
        continue;
      }
      bool inside = false;
      for (const auto& root : options_.config_roots) {
        inside = inside || IsWithin(resolved, ResolvedPath(root));
      }
      if (!inside) {
        report(runtime.config_dir +
               (resolved != dir.lexically_normal() ? " (" + resolved.string() + ")" : "") +
               " is not under an allowed config root; allowed roots: " + allowed);
      }
    }
  }
  return problems;
}

std::vector<core::Diagnostic> TrustPolicy::Problems(const spec::StackSpec& stack) const {
  return ConfigDirProblems(stack);
}

void TrustPolicy::Check(const spec::StackSpec& stack) const {
  auto problems = Problems(stack);
  if (!problems.empty()) {
    throw core::InputError(core::InputError::Kind::kInvalidSpec, std::move(problems));
  }
}

}  // namespace obsforge::control
