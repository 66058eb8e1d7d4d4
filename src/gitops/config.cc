#include "gitops/config.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "gitops/git_source.h"
#include "spec/stack.h"

namespace obsforge::gitops {

std::string SourceConfig::Key() const {
  return RedactUrl(repo) + "#" + branch + ":" + path;
}

namespace {

// Collects the problems of the file, each at a path inside it.
class Problems {
 public:
  explicit Problems(const std::string& file) : file_(file) {}
  void Add(const std::string& path, const std::string& message) {
    list_.push_back({.file = file_, .path = path, .message = message});
  }
  bool empty() const { return list_.empty(); }
  std::vector<core::Diagnostic> Take() { return std::move(list_); }

 private:
  const std::string& file_;
  std::vector<core::Diagnostic> list_;
};

void StringField(const nlohmann::json& value,
                 const std::string& where,
                 Problems& problems,
                 std::string& out) {
  if (!value.is_string() || value.get<std::string>().empty()) {
    problems.Add(where, "must be a non-empty string");
  } else {
    out = value.get<std::string>();
  }
}

void SecretField(const nlohmann::json& value,
                 const std::string& where,
                 Problems& problems,
                 std::optional<core::SecretRef>& out) {
  out = spec::AsSecretRef(value);
  if (!out) {
    problems.Add(where, "must be {secret: NAME} or {secret_file: PATH}");
  }
}

void PollField(const nlohmann::json& value,
               const std::string& where,
               Problems& problems,
               SourceConfig& source) {
  const auto poll =
      value.is_string() ? core::ParseDuration(value.get<std::string>()) : std::nullopt;
  if (!poll || poll->count() <= 0) {
    problems.Add(where, "must be a duration like 30s, 5m or 1h");
  } else {
    source.poll = *poll;
  }
}

void PruneField(const nlohmann::json& value,
                const std::string& where,
                Problems& problems,
                SourceConfig& source) {
  if (!value.is_boolean()) {
    problems.Add(where, "must be true or false");
  } else {
    source.prune = value.get<bool>();
  }
}

void AutoApplyField(const nlohmann::json& value,
                    const std::string& where,
                    Problems& problems,
                    SourceConfig& source) {
  if (!value.is_array()) {
    problems.Add(where, "must be a list of environment names");
    return;
  }
  for (size_t j = 0; j < value.size(); ++j) {
    if (!value[j].is_string()) {
      problems.Add(where + "[" + std::to_string(j) + "]", "must be an environment name");
    } else {
      source.auto_apply.push_back(value[j].get<std::string>());
    }
  }
}

// Reads one field of a source entry into `source`; what is wrong goes to `problems`.
void ParseField(const std::string& key,
                const nlohmann::json& value,
                const std::string& where,
                Problems& problems,
                SourceConfig& source) {
  static const std::map<std::string, std::string SourceConfig::*> kStrings = {
      {"repo", &SourceConfig::repo},
      {"branch", &SourceConfig::branch},
      {"path", &SourceConfig::path},
      {"token_user", &SourceConfig::token_user}};
  static const std::map<std::string, std::optional<core::SecretRef> SourceConfig::*> kSecrets = {
      {"token", &SourceConfig::token},
      {"ssh_key", &SourceConfig::ssh_key},
      {"ssh_passphrase", &SourceConfig::ssh_passphrase},
      {"webhook_secret", &SourceConfig::webhook_secret}};
  if (const auto field = kStrings.find(key); field != kStrings.end()) {
    StringField(value, where, problems, source.*(field->second));
  } else if (const auto secret = kSecrets.find(key); secret != kSecrets.end()) {
    SecretField(value, where, problems, source.*(secret->second));
  } else if (key == "poll") {
    PollField(value, where, problems, source);
  } else if (key == "prune") {
    PruneField(value, where, problems, source);
  } else if (key == "auto_apply") {
    AutoApplyField(value, where, problems, source);
  } else {
    problems.Add(where, "unknown field");
  }
}

// One entry of the list (`at` is where it is); nullopt when it is not a map.
std::optional<SourceConfig> ParseSource(const nlohmann::json& entry,
                                        const std::string& at,
                                        Problems& problems) {
  if (!entry.is_object()) {
    problems.Add(at, "must be a map");
    return std::nullopt;
  }
  SourceConfig source;
  for (const auto& item : entry.items()) {
    ParseField(item.key(), item.value(), at + "." + item.key(), problems, source);
  }
  if (source.repo.empty() && !entry.contains("repo")) {
    problems.Add(at + ".repo", "is required");
  }
  return source;
}

}  // namespace

std::vector<SourceConfig> ParseSources(const nlohmann::json& gitops, const std::string& file) {
  std::vector<SourceConfig> sources;
  if (gitops.is_null()) {
    return sources;
  }
  if (!gitops.is_array()) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{.file = file, .path = "gitops", .message = "must be a list of sources"});
  }
  Problems problems(file);
  std::set<std::string> keys_seen;
  for (size_t i = 0; i < gitops.size(); ++i) {
    const std::string at = "gitops[" + std::to_string(i) + "]";
    std::optional<SourceConfig> source = ParseSource(gitops[i], at, problems);
    if (!source) {
      continue;
    }
    if (!source->repo.empty() && !keys_seen.insert(source->Key()).second) {
      problems.Add(at, "the same repo, branch and path are already a source");
    }
    sources.push_back(std::move(*source));
  }
  if (!problems.empty()) {
    throw core::InputError(core::InputError::Kind::kInvalidSpec, problems.Take());
  }
  return sources;
}

}  // namespace obsforge::gitops
