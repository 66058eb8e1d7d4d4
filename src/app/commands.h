#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/secret.h"

namespace obsforge::app {

/// Exit codes shared by every command (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  ///< invalid spec, template error, differences, failed apply
inline constexpr int kExitUsage = 2;

/// Where a command writes: `out` for results, `err` for diagnostics and progress.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;  ///< `err` is a terminal: progress may be drawn in place
};

/// Options common to commands that read a spec from disk.
struct SpecInput {
  std::filesystem::path spec;                      ///< the spec file
  std::optional<std::filesystem::path> root;       ///< --root
  std::optional<std::filesystem::path> templates;  ///< --templates (default: embedded)
};

struct ValidateOptions {
  std::vector<std::filesystem::path> specs;
  std::optional<std::filesystem::path> root;
  std::optional<std::filesystem::path> templates;
  bool strict = false;  ///< also run promtool/amtool on every environment's rendered output
};

struct RenderCliOptions {
  SpecInput input;  ///< input.spec is empty in repository mode
  /// Repository mode (CI): render every `<repo>/<stacks_path>/*.yaml` into `out/<stack>/`.
  std::optional<std::filesystem::path> repo;
  std::string stacks_path = "stacks";
  std::string env;
  std::filesystem::path out;
  bool check = false;   ///< compare with `out` instead of writing; print a unified diff
  bool strict = false;  ///< also run promtool/amtool on the output
};

/// `obsforge validate`: parses and validates every spec and renders each of its environments (so
/// template errors and rule/dashboard problems are found too), printing every finding as
/// `file:line:col: path: message` to `io.err`. Returns kExitOk or kExitFailed.
int RunValidate(const ValidateOptions& options, Io io);

/// `obsforge render --repo`: every stack of a repository (those that have `env`) into
/// `out/<stack>/`; with check, compares and prints one diff for all. A stack without `env` is
/// skipped with a note. Returns like RunRender; kExitUsage when the repository has no stacks.
int RunRenderRepo(const RenderCliOptions& options, Io io);

/// `obsforge render`: renders one environment into `out` (replacing only what obsforge wrote there
/// before, as listed in its MANIFEST.json), or with `check` compares and prints a unified diff.
/// Returns kExitOk, kExitUsage when `out` is refused (see RefuseOutputDir), or kExitFailed for
/// an invalid spec, a template error or (with check) a difference.
int RunRender(const RenderCliOptions& options, Io io);

/// Options of the commands that act on one environment (`plan`, `apply`, `up`).
struct EnvCommandOptions {
  SpecInput input;
  std::string env;
  std::filesystem::path data_dir = "./var";  ///< revisions, runtime dirs, secrets
  bool full_diff = false;                    ///< plan: every diff line (apply::DiffLimit)
};

/// `obsforge plan`: what an apply would change (per file a unified diff, then a summary).
/// Changes nothing. Returns kExitOk, or kExitFailed for an invalid spec or template error.
int RunPlan(const EnvCommandOptions& options, Io io);

/// `obsforge apply`: applies an environment with the `external` runtime (the server's code path).
/// For a `local` environment it says to use `up` or `serve` and fails. Returns kExitOk when
/// applied or unchanged, kExitFailed when rolled back or failed.
int RunApply(const EnvCommandOptions& options, Io io);

/// `obsforge up`: brings a `local` environment up in the foreground through the same application
/// as `serve` (an in-memory store): start, apply, verify, provision; prints its URLs; then runs
/// the same health monitor, canaries and Slack notifier (`health.slack`) and prints the
/// environment's state changes on `err` (a live status block when it is a terminal, plain lines
/// otherwise) until SIGINT or SIGTERM, when it stops all it started. Returns kExitOk on a clean
/// stop, kExitFailed when it failed to come up.
int RunUp(const EnvCommandOptions& options, Io io);

/// Options of `obsforge serve` (flags win over OBSFORGE_* variables, which win over --config).
struct ServeOptions {
  std::optional<std::filesystem::path> config;
  std::optional<std::string> listen;
  std::optional<std::filesystem::path> data_dir;
  std::optional<std::filesystem::path> content_dir;
  std::optional<std::filesystem::path> tokens_file;
  /// Store URL (store::ParseStoreUrl): "sqlite", "sqlite:PATH" or "postgresql://…".
  std::optional<std::string> store;
  /// How many serve processes share the store (more than one needs PostgreSQL and refuses the
  /// local runtime).
  std::optional<int> replicas;
  /// Stack specs to create (POST /api/v1/stacks) once listening, unless they exist already;
  /// the run command uses it to bring the demo stack up.
  std::vector<std::filesystem::path> bootstrap;
};

/// `obsforge serve`: the REST server with its store (SQLite in the data directory by default, or
/// PostgreSQL) and the local runtime, until SIGTERM or SIGINT (then it drains and stops every
/// local component). Returns kExitOk on a clean stop, kExitFailed when it cannot start (bad
/// configuration, a store it cannot open, several replicas on SQLite).
int RunServe(const ServeOptions& options, Io io);

/// Options of `obsforge import`.
struct ImportCliOptions {
  std::optional<std::filesystem::path> prometheus_config;
  std::optional<std::filesystem::path> alertmanager_config;
  std::optional<std::filesystem::path> loki_config;
  std::optional<std::filesystem::path> tempo_config;
  /// A Grafana to read; its credential comes from the environment: GRAFANA_TOKEN, else
  /// GRAFANA_USER (default admin) and GRAFANA_PASSWORD.
  std::optional<std::string> grafana;
  std::string name;
  std::string env = "prod";  ///< the environment the spec describes
  std::filesystem::path out;
  /// Runtime URLs by component (--prometheus-url, ...): obsforge reloads and checks them.
  std::map<std::string, std::string> urls;
  bool adopt = false;          ///< take the Grafana objects over on the next apply
  bool json = false;           ///< print the report as JSON
  bool force = false;          ///< replace what an earlier import wrote under `out`
  core::EnvLookup env_lookup;  ///< where GRAFANA_* come from; empty: the process environment
};

/// `obsforge import`: turns configuration files and a live Grafana into `out/stacks/NAME.yaml`
/// with `out/dashboards/NAME/…` and `out/alerts/NAME/…`; no secret value is written (each is a
/// `{secret: NAME}` reference, listed in the report). Checks the rendered result with promtool
/// and amtool when they are on PATH. Prints the report (text, or JSON with `json`) to `io.out`.
/// Refuses to replace an earlier import's files unless `force`. Returns kExitOk, or
/// kExitFailed for invalid input, an unreadable file or Grafana, or files in the way.
int RunImport(const ImportCliOptions& options, Io io);

/// Options of `obsforge store migrate`.
struct StoreMigrateOptions {
  std::string from;                          ///< store URL (store::ParseStoreUrl) to copy from
  std::string to;                            ///< store URL to copy into
  bool force = false;                        ///< replace what the target holds
  std::filesystem::path data_dir = "./var";  ///< where "sqlite" alone points
};

/// `obsforge store migrate`: copies every table of one store into another (stacks, revisions,
/// environments, operations, health history, provisioned-object ledgers, outbox, gitops state,
/// and any table a later schema adds), in one transaction on the target, then verifies that
/// both hold the same rows (count and SHA-256 per table) and prints them. Refuses a target that
/// holds anything unless `force`. Stop every server using either store first. Returns kExitOk
/// when copied and verified; kExitFailed otherwise (nothing changed unless verification failed).
int RunStoreMigrate(const StoreMigrateOptions& options, Io io);

/// Options of `obsforge store check` (the store is found as `serve` finds it).
struct StoreCheckOptions {
  std::optional<std::filesystem::path> config;
  std::optional<std::string> store;
  std::optional<std::filesystem::path> data_dir;
};

/// `obsforge store check`: opens the store as `serve` would (applying missing migrations),
/// prints its schema version and each table's rows and SHA-256, and checks the rules between
/// tables (store::CheckTables). Returns kExitOk when consistent, kExitFailed when a rule is
/// broken or the store cannot be opened.
int RunStoreCheck(const StoreCheckOptions& options, Io io);

/// `obsforge version`: obsforge's version and the versions of the libraries it was built with.
int RunVersion(Io io);

}  // namespace obsforge::app
