#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "spec/document.h"

namespace obsforge::spec {

/// The components obsforge knows, in the order it renders, starts and reports them.
inline const std::vector<std::string>& ComponentNames() {
  static const std::vector<std::string> kNames = {"prometheus", "alertmanager", "loki",
                                                  "tempo",      "grafana",      "otel_collector"};
  return kNames;
}

/// Where a spec's inputs (dashboards, rule files, mixins, templates) are read from: a directory
/// (CLI, the server's content directory, a git checkout) or the files sent along with a spec.
/// Paths are relative to the stack root with '/' separators.
class ContentSource {
 public:
  virtual ~ContentSource() = default;
  /// The content of `rel`, or nullopt when there is no such file. A path that escapes the root
  /// (`..`, absolute, a symlink leading out) is reported as missing; use Escapes() to tell.
  virtual std::optional<std::string> Read(const std::string& rel) const = 0;
  /// Relative paths of the files matching `pattern` (`*`, `?`, `[...]` within a segment; `**`
  /// across segments), sorted bytewise. Never includes a path that escapes the root.
  virtual std::vector<std::string> Glob(const std::string& pattern) const = 0;
  /// True when `rel` is absolute, climbs out with `..`, or resolves through a symlink outside
  /// the root.
  virtual bool Escapes(const std::string& rel) const = 0;
  /// A directory on disk that holds the root, when there is one (for Jsonnet import paths).
  virtual std::optional<std::filesystem::path> Directory() const = 0;
};

/// Files under `root` on disk.
std::unique_ptr<ContentSource> MakeDirectorySource(std::filesystem::path root);
/// Files held in memory (a spec posted with its files): relative path -> content.
std::unique_ptr<ContentSource> MakeMemorySource(std::map<std::string, std::string> files);

/// A parsed and validated stack spec, with every environment still unmerged.
struct StackSpec {
  std::string name;                       ///< metadata.name
  std::string file;                       ///< the spec's file name, for messages ("" if none)
  nlohmann::json document;                ///< the whole document (secrets only as references)
  std::vector<std::string> environments;  ///< in document order; {"default"} when none declared

  /// sha256 of the canonical JSON of `document`.
  std::string Hash() const;
};

/// Settings of one component under an environment's `runtime` (external runtime mostly).
struct ComponentRuntime {
  std::string url;         ///< base URL of a running component ("" when obsforge runs it)
  std::string config_dir;  ///< where its files go (external runtime); "" = keep config as is
  std::string tenant;      ///< Loki/Tempo tenant (X-Scope-OrgID); "" = none
  std::optional<core::SecretRef> token;     ///< Grafana service-account token
  std::optional<core::SecretRef> password;  ///< Grafana basic-auth password (user in `user`)
  std::string user;
  std::optional<int> port;  ///< local runtime: fixed port from the spec
  /// Tempo only: where its OTLP receivers answer (external runtime); "" = none. Tempo serves
  /// OTLP on the receivers' own ports, never on its API `url`.
  std::string otlp_http_url;
  std::string otlp_grpc_url;
};

/// `environments.<env>.runtime`.
struct Runtime {
  enum class Type { kLocal, kExternal };
  Type type = Type::kLocal;
  std::map<std::string, ComponentRuntime> components;  ///< by component name
};

/// The spec merged for one environment: what rendering and apply work from.
struct EnvironmentSpec {
  std::string stack;      ///< stack name
  std::string env;        ///< environment name
  nlohmann::json merged;  ///< {apiVersion, kind, metadata, spec} with the environment merged
                          ///< over spec and `spec.environments` removed
  Runtime runtime;
};

/// Parses YAML or JSON (detected from the content) within `limits` (see ParseDocument) and
/// validates it. `file` names the spec in messages. `content` is used to check that the paths and
/// globs the spec names stay in its root.
/// Throws core::InputError (kInvalidSpec) listing every problem, each with file:line:col and path.
StackSpec ParseStack(std::string_view text,
                     const std::string& file,
                     const ContentSource& content,
                     const DocumentLimits& limits = {});

/// Reads `file` and calls ParseStack(). Throws core::InputError when the file cannot be read too.
StackSpec LoadStackFile(const std::filesystem::path& file, const ContentSource& content);

/// The stack root for a spec file (docs/stack-spec.md "Paths"): `root_flag` when given; for a spec
/// inside a `stacks/` folder, the folder holding `stacks/`; else the spec's own folder.
std::filesystem::path StackRoot(const std::filesystem::path& spec_file,
                                const std::optional<std::filesystem::path>& root_flag);

/// The spec for `env`, merged per docs/stack-spec.md (maps recursively, lists and scalars replace,
/// null deletes). Throws core::InputError when `env` is not one of the stack's environments.
EnvironmentSpec ForEnvironment(const StackSpec& stack, const std::string& env);

/// The Loki tenant of an environment: the one rule behind everything obsforge sends to Loki
/// (canary X-Scope-OrgID, the rule folder `loki/rules/<tenant>/`, the Grafana datasource
/// header). With `components.loki.auth_enabled: false` it is "fake", the tenant Loki files
/// everything under when multi-tenancy is off; otherwise `runtime.loki.tenant`, else the stack's
/// name. Never throws (except std::bad_alloc).
std::string LokiTenant(const EnvironmentSpec& env);

/// The `version` each enabled component of `env` declares (`components.<c>.version`), by
/// component name; components that declare none are left out (the templates' defaults are not
/// a claim about what runs). Never throws (except std::bad_alloc).
std::map<std::string, std::string> DeclaredVersions(const EnvironmentSpec& env);

/// The merge rule itself: `overlay` over `base`.
nlohmann::json MergeOver(const nlohmann::json& base, const nlohmann::json& overlay);

/// `{secret: NAME}` / `{secret_file: PATH}` as a reference; nullopt for anything else.
std::optional<core::SecretRef> AsSecretRef(const nlohmann::json& value);

/// Every secret reference in `value`, in document order, duplicates removed.
std::vector<core::SecretRef> CollectSecretRefs(const nlohmann::json& value);

}  // namespace obsforge::spec
