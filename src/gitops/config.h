#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/secret.h"

namespace obsforge::gitops {

/// One entry of the server config's `gitops:` list (docs/configuration.md "gitops").
struct SourceConfig {
  std::string repo;  ///< remote URL or local path (required)
  std::string branch = "main";
  std::string path = ".";  ///< folder whose `*.yaml` files are stacks
  std::chrono::milliseconds poll{60'000};
  std::vector<std::string> auto_apply;  ///< environments applied; others planned only
  bool prune = false;
  std::optional<core::SecretRef> webhook_secret;
  std::optional<core::SecretRef> token;       ///< https token
  std::string token_user = "x-access-token";  ///< "oauth2" for GitLab
  std::optional<core::SecretRef> ssh_key;     ///< a `{secret_file: ...}` private key
  std::optional<core::SecretRef> ssh_passphrase;

  /// "<repo>#<branch>:<path>", with user-info of the URL redacted: the key of the source's
  /// state, of its managed stacks and of revisions' actor.
  std::string Key() const;
};

/// Parses the `gitops` section (as JSON; `null` → no sources). Accepted keys: those of
/// SourceConfig; `poll` a positive Prometheus duration (core::ParseDuration: "500ms", "1m30s").
/// Throws core::InputError (kInvalidSpec) listing every problem, with paths like
/// "gitops[0].poll" and `file` as the file name.
std::vector<SourceConfig> ParseSources(const nlohmann::json& gitops, const std::string& file);

}  // namespace obsforge::gitops
