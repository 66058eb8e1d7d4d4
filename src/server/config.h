#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"
#include "server/server.h"

namespace obsforge::server {

/// The server part of obsforge.yaml (docs/configuration.md).
struct ServerConfig {
  ServerOptions server;
  /// The store URL (store::ParseStoreUrl; a relative SQLite path made relative to the config
  /// file's folder); opened by the app.
  std::string store = "sqlite";
  /// How many `serve` processes share the store (more than one needs PostgreSQL).
  int replicas = 1;
  /// The `gitops` section untouched, as JSON ("null" when absent), for the gitops module.
  std::string gitops_json = "null";
};

/// Why `store` is not a store URL (store::ParseStoreUrl's message), or "" when it is one. Used
/// for the config file, --store and OBSFORGE_STORE alike.
std::string StoreProblem(std::string_view store);

/// Parses obsforge.yaml: listen, data_dir, content_dir, store, replicas, tokens_file, gitops,
/// external (config_roots), secrets (key_file, previous_key_files, shared), outbound (allow,
/// deny: IP ranges the server may connect to), and the server's
/// limits: max_threads, max_queued, max_keep_alive_requests, body_limit (bytes, or
/// "16MiB"/"512KiB"), read_timeout, write_timeout, keep_alive_timeout, max_queue_wait,
/// drain_timeout ("30s", "500ms", "2m"), operation_workers. Relative paths resolve
/// against the config file's folder. Unknown keys are errors. Throws core::InputError
/// (kInvalidSpec) listing every problem with file:line:col.
ServerConfig ParseServerConfig(std::string_view text, const std::filesystem::path& file);

/// Reads and parses `file`. Throws core::InputError when unreadable or invalid.
ServerConfig LoadServerConfig(const std::filesystem::path& file);

/// Overrides `options` from the variable OBSFORGE_<KEY> of each scalar setting of ServerOptions
/// (OBSFORGE_LISTEN, OBSFORGE_DATA_DIR, OBSFORGE_MAX_QUEUE_WAIT, ...: every key of obsforge.yaml
/// but `store`, `replicas`, `gitops`, `external`, `secrets` and `outbound`), read with the same
/// grammar as the file, and from OBSFORGE_SECRETS_KEY (the secrets key itself, over
/// secrets.key_file). Paths are taken as given. Throws core::InputError naming the variable for a
/// bad value, in the words the file's error would use.
void ApplyEnvironment(ServerOptions& options, const core::EnvLookup& env);

/// The variables ApplyEnvironment reads (OBSFORGE_LISTEN, ..., OBSFORGE_SECRETS_KEY).
std::vector<std::string> EnvironmentVariables();

/// "1048576", "512KiB", "16MiB", "1GiB" → bytes; nullopt when malformed.
std::optional<std::size_t> ParseByteSize(std::string_view text);

}  // namespace obsforge::server
