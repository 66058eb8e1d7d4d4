#include "gitops/config.h"

#include <set>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "gitops/git_source.h"
#include "spec/stack.h"

namespace obsforge::gitops {

std::string SourceConfig::Key() const {
  return RedactUrl(repo) + "#" + branch + ":" + path;
}

std::vector<SourceConfig> ParseSources(const nlohmann::json& gitops, const std::string& file) {
  std::vector<core::Diagnostic> problems;
  std::vector<SourceConfig> sources;
  auto problem = [&](const std::string& path, const std::string& message) {
    problems.push_back({.file = file, .path = path, .message = message});
  };
  if (gitops.is_null()) {
    return sources;
  }
  if (!gitops.is_array()) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{.file = file, .path = "gitops", .message = "must be a list of sources"});
  }
  static const std::set<std::string> kKeys = {
      "repo",  "branch",     "path",    "poll",           "auto_apply",    "prune",
      "token", "token_user", "ssh_key", "ssh_passphrase", "webhook_secret"};
  std::set<std::string> keys_seen;
  for (size_t i = 0; i < gitops.size(); ++i) {
    const std::string at = "gitops[" + std::to_string(i) + "]";
    const auto& entry = gitops[i];
    if (!entry.is_object()) {
      problem(at, "must be a map");
      continue;
    }
    SourceConfig source;
    const std::string prefix = at + ".";
    for (const auto& item : entry.items()) {
      // Named, not a structured binding: clang before 16 cannot capture bindings in lambdas.
      const std::string& key = item.key();
      const auto& value = item.value();
      const std::string where = prefix + key;
      if (!kKeys.contains(key)) {
        problem(where, "unknown field");
        continue;
      }
      auto string_field = [&](std::string& out) {
        if (!value.is_string() || value.get<std::string>().empty()) {
          problem(where, "must be a non-empty string");
        } else {
          out = value.get<std::string>();
        }
      };
      auto secret_field = [&](std::optional<core::SecretRef>& out) {
        out = spec::AsSecretRef(value);
        if (!out) {
          problem(where, "must be {secret: NAME} or {secret_file: PATH}");
        }
      };
      if (key == "repo") {
        string_field(source.repo);
      } else if (key == "branch") {
        string_field(source.branch);
      } else if (key == "path") {
        string_field(source.path);
      } else if (key == "token_user") {
        string_field(source.token_user);
      } else if (key == "poll") {
        const auto poll =
            value.is_string() ? core::ParseDuration(value.get<std::string>()) : std::nullopt;
        if (!poll || poll->count() <= 0) {
          problem(where, "must be a duration like 30s, 5m or 1h");
        } else {
          source.poll = *poll;
        }
      } else if (key == "prune") {
        if (!value.is_boolean()) {
          problem(where, "must be true or false");
        } else {
          source.prune = value.get<bool>();
        }
      } else if (key == "auto_apply") {
        if (!value.is_array()) {
          problem(where, "must be a list of environment names");
          continue;
        }
        for (size_t j = 0; j < value.size(); ++j) {
          if (!value[j].is_string()) {
            problem(where + "[" + std::to_string(j) + "]", "must be an environment name");
          } else {
            source.auto_apply.push_back(value[j].get<std::string>());
          }
        }
      } else if (key == "token") {
        secret_field(source.token);
      } else if (key == "ssh_key") {
        secret_field(source.ssh_key);
      } else if (key == "ssh_passphrase") {
        secret_field(source.ssh_passphrase);
      } else if (key == "webhook_secret") {
        secret_field(source.webhook_secret);
      }
    }
    if (source.repo.empty() && !entry.contains("repo")) {
      problem(at + ".repo", "is required");
    }
    if (!source.repo.empty() && !keys_seen.insert(source.Key()).second) {
      problem(at, "the same repo, branch and path are already a source");
    }
    sources.push_back(std::move(source));
  }
  if (!problems.empty()) {
    throw core::InputError(core::InputError::Kind::kInvalidSpec, std::move(problems));
  }
  return sources;
}

}  // namespace obsforge::gitops
