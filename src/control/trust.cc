#include "control/trust.h"

#include <algorithm>
#include <optional>
#include <set>
#include <system_error>

#include "core/fs.h"

namespace obsforge::control {
namespace fs = std::filesystem;

namespace {

// Calls `visit(path, ref)` for every secret reference in `value` at `path`.
template <class Visit>
void WalkSecrets(const nlohmann::json& value, const std::string& path, const Visit& visit) {
  if (auto ref = spec::AsSecretRef(value)) {
    visit(path, *ref);
    return;
  }
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      std::string child_path = path;
      if (!child_path.empty()) {
        child_path += '.';
      }
      child_path += key;
      WalkSecrets(child, child_path, visit);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      std::string child_path = path;
      child_path.append("[").append(std::to_string(i)).append("]");
      WalkSecrets(value[i], child_path, visit);
    }
  }
}

std::optional<std::string> ReadShared(const fs::path& file) {
  try {
    std::string value = core::ReadFile(file);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
      value.pop_back();
    }
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// What is wrong with an external runtime's `config_dir` (absolute: the spec's validation says
// so), or nullopt: it must not overlap the data directory and must lie under an allowed root.
std::optional<std::string> ConfigDirProblem(const std::string& config_dir,
                                            const fs::path& data_dir,
                                            const std::vector<fs::path>& roots,
                                            const std::string& allowed) {
  const fs::path dir(config_dir);
  const fs::path resolved = ResolvedPath(dir);
  if (IsWithin(resolved, data_dir) || IsWithin(data_dir, resolved)) {
    return config_dir + " overlaps obsforge's data directory";
  }
  const bool inside = std::any_of(roots.begin(), roots.end(), [&](const fs::path& root) {
    return IsWithin(resolved, ResolvedPath(root));
  });
  if (inside) {
    return std::nullopt;
  }
  std::string message = config_dir;
  if (resolved != dir.lexically_normal()) {
    message.append(" (").append(resolved.string()).append(")");
  }
  return message.append(" is not under an allowed config root; allowed roots: ").append(allowed);
}

}  // namespace

TrustPolicy::TrustPolicy(TrustOptions options,
                         const fs::path& data_dir,
                         StackSecrets* secrets,
                         core::EnvLookup env)
    : options_(std::move(options)),
      data_dir_(ResolvedPath(data_dir)),
      secrets_(secrets),
      env_(env ? std::move(env) : core::ProcessEnv()) {
}

const SharedSecret* TrustPolicy::SharedWith(const std::string& stack,
                                            const std::string& name) const {
  for (const auto& shared : options_.shared) {
    if (shared.name == name && shared.stacks.Allows(stack)) {
      return &shared;
    }
  }
  return nullptr;
}

std::vector<core::Diagnostic> TrustPolicy::SecretProblems(const spec::StackSpec& stack) const {
  std::set<std::string> own;
  std::string unreadable;
  if (secrets_ != nullptr) {
    if (auto listed = secrets_->List(stack.name); listed.ok()) {
      for (const auto& info : *listed) {
        own.insert(info.key);
      }
    } else {
      unreadable = listed.error().message;
    }
  }
  std::vector<core::Diagnostic> problems;
  WalkSecrets(stack.document, "", [&](const std::string& path, const core::SecretRef& ref) {
    auto report = [&](std::string message) {
      problems.push_back({.file = stack.file, .path = path, .message = std::move(message)});
    };
    if (ref.kind == core::SecretRef::Kind::kFile) {
      report(ref.ToString() +
             ": the server reads no file a spec names; use {secret: NAME} with a secret of the "
             "stack or one the operator shares with it (secrets.shared)");
      return;
    }
    if (own.contains(ref.name) || SharedWith(stack.name, ref.name) != nullptr) {
      return;
    }
    report(ref.ToString() + " is neither a secret of stack " + stack.name +
           " (PUT /api/v1/stacks/" + stack.name + "/secrets/" + ref.name +
           ") nor one the operator shares with it (secrets.shared)" +
           (unreadable.empty() ? "" : "; its secrets cannot be read: " + unreadable));
  });
  return problems;
}

core::EnvLookup TrustPolicy::SecretsOf(const std::string& stack) const {
  return [this, stack](const std::string& name) -> std::optional<std::string> {
    if (secrets_ != nullptr) {
      auto own = secrets_->Get(stack, name);
      if (own.ok() && own->has_value()) {
        return (*own)->Reveal();
      }
    }
    const SharedSecret* shared = SharedWith(stack, name);
    if (shared == nullptr) {
      return std::nullopt;
    }
    return shared->env.empty() ? ReadShared(shared->file) : env_(shared->env);
  };
}

std::vector<core::Diagnostic> TrustPolicy::ConfigDirProblems(const spec::StackSpec& stack) const {
  std::string allowed;
  for (const auto& root : options_.config_roots) {
    allowed.append(allowed.empty() ? "" : ", ").append(root.string());
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
      if (auto message =
              ConfigDirProblem(runtime.config_dir, data_dir_, options_.config_roots, allowed)) {
        std::string field = "spec.environments.";
        field.append(env).append(".runtime.").append(component).append(".config_dir");
        problems.push_back(
            {.file = stack.file, .path = std::move(field), .message = std::move(*message)});
      }
    }
  }
  return problems;
}

std::vector<core::Diagnostic> TrustPolicy::Problems(const spec::StackSpec& stack) const {
  auto problems = ConfigDirProblems(stack);
  auto secrets = SecretProblems(stack);
  problems.insert(problems.end(), secrets.begin(), secrets.end());
  return problems;
}

void TrustPolicy::Check(const spec::StackSpec& stack) const {
  auto problems = Problems(stack);
  if (!problems.empty()) {
    throw core::InputError(core::InputError::Kind::kInvalidSpec, std::move(problems));
  }
}

}  // namespace obsforge::control
