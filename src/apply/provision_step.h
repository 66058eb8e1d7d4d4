#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "apply/plan.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/http_client.h"
#include "provision/ownership.h"
#include "render/bundle.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// Where the provision step of one environment reaches Grafana and the Loki ruler, with
/// credentials as secret REFERENCES only (so it can be saved next to the revisions and used again
/// by a teardown, which has no spec).
///
/// Rules (docs/templates.md "Grafana objects and the Loki ruler"):
/// - Grafana: every object of grafana/objects.json (datasources, folders, dashboards, rule
///   groups, contact points, the policy route) goes through the HTTP API, never through
///   provisioning files, so no object is both (Grafana refuses API writes to file-provisioned
///   ones). Local runtime: the Grafana obsforge started, as its admin
///   (`components.grafana.admin`, password "admin" when unset: Grafana's default). External: the
///   runtime's `url`, authenticated by its `token`, else its `user`/`password`, else the admin of
///   `components.grafana`.
/// - Loki: rule groups go through the ruler API only for an external Loki with a `url` and no
///   `config_dir`; otherwise Loki reads them as files from its (local, read-only) rule store.
struct ProvisionTarget {
  bool grafana = false;        ///< Grafana is enabled
  bool grafana_local = false;  ///< obsforge runs it (local runtime)
  std::string grafana_url;     ///< "" when an external Grafana has no url
  std::optional<core::SecretRef> token;
  std::string user;                         ///< basic-auth user (used when there is no token)
  std::optional<core::SecretRef> password;  ///< nullopt: "admin"
  int org_id = 0;                           ///< X-Grafana-Org-Id when > 0
  bool disable_provenance = false;
  std::string loki_url;  ///< set only where Loki's rules are API-managed

  /// True when there is anything to provision.
  bool Any() const { return grafana || !loki_url.empty(); }
  /// Serialised form (references only, never a secret value).
  nlohmann::json ToJson() const;
  /// Inverse of ToJson. Throws nlohmann::json::exception on a malformed document.
  static ProvisionTarget FromJson(const nlohmann::json& doc);
};

/// Where a runtime says Grafana and the Loki ruler answer (Runtime::Provisioning()).
struct ProvisionAccess {
  bool grafana_local = false;  ///< obsforge runs Grafana (the admin of the spec signs in)
  std::string grafana_url;     ///< "" when unknown
  /// Credentials the runtime gives for Grafana; neither set: the admin of `components.grafana`.
  std::optional<core::SecretRef> token;
  std::string user;  ///< with `password`
  std::optional<core::SecretRef> password;
  std::string loki_url;  ///< set only where Loki's rules are API-managed
};

/// The target of `env` per the rules above, reached through `access`. Never throws.
ProvisionTarget ProvisionTargetFor(const spec::EnvironmentSpec& env, const ProvisionAccess& access);

/// What the provision step needs besides the target (an aggregate; references must outlive the
/// call).
struct ProvisionContext {
  http::HttpClient& http;  ///< wrapped in a RetryingHttpClient (5xx, 429, connection errors)
  core::Clock& clock;
  core::EnvLookup env_lookup;  ///< resolves credential and object secret references
  core::Logger& logger;
  provision::OwnershipLedger& ledger;
  provision::Owner owner;
  std::string revision;  ///< named in dashboard version messages
  int max_attempts = 4;  ///< per request, retries included
};

/// What the provision step did.
struct ProvisionOutcome {
  ObjectPlan changes;  ///< the changes made (or that would have been made, on failure)
  int writes = 0;      ///< write requests sent
  /// The first failure: upstream status/body and the object named in the message.
  std::optional<core::Error> error;
  /// One line for the step ("3 objects changed (3 writes)", "no changes (0 writes)", the error).
  std::string message;
  /// Which upstream failed: "grafana" or "loki" ("" on success).
  std::string failed_target;
};

/// The API object changes an apply of `bundle` would make. Never fails: what cannot be planned
/// (Grafana unreachable, a missing credential secret, a bad objects.json) becomes a note saying
/// so, e.g. "grafana: cannot plan objects: GET http://...: connection refused".
ObjectPlan PlanProvision(const ProvisionTarget& target,
                         const render::Bundle& bundle,
                         const ProvisionContext& ctx);

/// Provisions `bundle`'s Grafana objects and (where API-managed) Loki rule groups: compare, write
/// only what differs, record ownership, prune owned objects that left the bundle. Stops at the
/// first failure (Grafana first, then Loki). Never throws.
ProvisionOutcome RunProvision(const ProvisionTarget& target,
                              const render::Bundle& bundle,
                              const ProvisionContext& ctx);

/// Deletes every object the ledger says obsforge owns for this environment (teardown); objects
/// it does not own are never touched. Never throws.
ProvisionOutcome Deprovision(const ProvisionTarget& target, const ProvisionContext& ctx);

}  // namespace obsforge::apply
