#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "control/hidden_content.h"
#include "control/stack_scope.h"
#include "control/stack_secrets.h"
#include "core/diagnostic.h"
#include "core/secret.h"
#include "http/address_filter.h"
#include "spec/stack.h"

namespace obsforge::control {

/// A server environment variable or file that the operator shares with some stacks (server
/// config `secrets.shared`): a spec of one of those stacks names it `{secret: NAME}`.
struct SharedSecret {
  std::string name;            ///< NAME in `{secret: NAME}`
  std::string env;             ///< the server's environment variable holding the value, or
  std::filesystem::path file;  ///< the file holding it (exactly one of env and file is set)
  StackScope stacks;           ///< the stacks it is shared with
};

/// What the operator lets specs received by the server do (server config `external:`,
/// `secrets:` and `outbound:`, docs/configuration.md). The CLI has none of these limits: it runs
/// with its user's own authority.
struct TrustOptions {
  /// Directories an external runtime's `config_dir` must lie under (`external.config_roots`).
  /// Empty: no spec received by the server may name a config_dir.
  std::vector<std::filesystem::path> config_roots;
  /// The key that seals each stack's own secrets (`secrets.key_file`, OBSFORGE_SECRETS_KEY).
  SecretKeyOptions keys;
  /// Server variables and files shared with stacks (`secrets.shared`).
  std::vector<SharedSecret> shared;
  /// The addresses the server may connect to for what specs name: Grafana, Loki, Prometheus,
  /// Alertmanager, Slack, health checks, imports (`outbound: {allow, deny}`). By default every
  /// address but the link-local ones of cloud metadata services.
  http::AddressFilter outbound;
};

/// The rules a spec sent to the server (API or gitops) must follow before anything of it runs,
/// checked when it is received and again before every operation on it (so a rule tightened
/// since still holds). Immutable; thread-safe.
///
/// - every `config_dir`, with symlinks and `..` resolved, lies under one of the config roots,
///   and neither inside the data directory nor around it;
/// - every secret is `{secret: NAME}` where NAME is a secret of the stack itself (StackSecrets)
///   or one the operator shares with it; `{secret_file: ...}` is refused (files are shared by
///   the operator, under a name).
///
/// It also resolves those secrets for the stack (SecretsOf), so that a spec can never read any
/// other variable or file of the server, whatever reached the runtime.
class TrustPolicy {
 public:
  /// `data_dir` is obsforge's own: never a place for a spec's files. `secrets` (may be null: no
  /// stack has secrets of its own) must outlive the policy; `env` is where shared variables
  /// are read (empty: the process environment).
  TrustPolicy(TrustOptions options,
              const std::filesystem::path& data_dir,
              StackSecrets* secrets,
              core::EnvLookup env = {});

  /// Every rule `stack` breaks, each naming the field (`spec.environments.prod.runtime.
  /// prometheus.config_dir`) and what is allowed. Empty when it may run. Never throws except
  /// std::bad_alloc.
  std::vector<core::Diagnostic> Problems(const spec::StackSpec& stack) const;
  /// Throws core::InputError (kInvalidSpec) with Problems() when there are any.
  void Check(const spec::StackSpec& stack) const;

  /// Where `{secret: NAME}` of `stack` resolves: its own secret NAME, else a variable or file
  /// the operator shares with it under NAME, else nothing. A value that cannot be read (a file
  /// gone, a secret that does not open) is nothing too; Problems() names what is missing.
  core::EnvLookup SecretsOf(const std::string& stack) const;

  const TrustOptions& options() const { return options_; }

 private:
  std::vector<core::Diagnostic> ConfigDirProblems(const spec::StackSpec& stack) const;
  std::vector<core::Diagnostic> SecretProblems(const spec::StackSpec& stack) const;
  // The entry sharing `name` with `stack`, or null.
  const SharedSecret* SharedWith(const std::string& stack, const std::string& name) const;

  TrustOptions options_;
  std::filesystem::path data_dir_;  // resolved
  StackSecrets* secrets_;
  core::EnvLookup env_;
};

}  // namespace obsforge::control
