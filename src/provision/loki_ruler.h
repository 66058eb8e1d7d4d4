#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "http/http_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/normalize.h"
#include "provision/ownership.h"
#include "render/bundle.h"

namespace obsforge::provision {

/// One Loki rule group as the bundle holds it.
struct LokiGroup {
  std::string tenant;  ///< X-Scope-OrgID it is sent with (the rules/<tenant>/ folder)
  std::string name;
  nlohmann::ordered_json body;  ///< {name, interval?, rules: [...]}, as posted
  std::string source;           ///< bundle file
};

/// Every group of a bundle, by tenant.
using LokiGroups = std::map<std::string, std::vector<LokiGroup>>;

/// Reads every loki/rules/<tenant>/*.yaml (each `{groups: [...]}`) and validates ALL groups
/// before anything may be sent, since one bad group breaks the tenant's whole rule listing:
/// a non-empty unique (per tenant) `name`; `interval`, if present, a Prometheus duration; a
/// non-empty `rules` list; per rule exactly one of `alert`/`record` (non-empty strings), a
/// non-empty `expr`, `for` (alerts only) a duration, `labels`/`annotations` maps of strings.
/// Throws core::InputError (kRender) with every finding ("file: groups[0].rules[1].expr: must be
/// a non-empty string").
LokiGroups LoadLokiGroups(const render::Bundle& bundle);

/// How to reach the Loki ruler (an aggregate).
struct LokiRulerOptions {
  std::string base_url;  ///< "http://127.0.0.1:3100"
  /// The rule namespace: the stack's name.
  std::string rule_namespace;
  /// Delete groups of the namespace that are not in the bundle.
  bool prune = true;
  std::chrono::milliseconds timeout{15000};
};

/// One change to a Loki rule group.
struct LokiChange {
  std::string tenant;
  std::string group;
  ChangeAction action = ChangeAction::kCreate;
  std::vector<FieldDiff> diffs;  ///< updates only; before = Loki, after = bundle
};

/// What LokiRuler::Apply did.
struct LokiApplyReport {
  std::vector<LokiChange> changes;
  int writes = 0;
};

/// Keeps the rule groups of one namespace in each tenant equal to the bundle's: GET the
/// namespace (404 "no rule groups found" = empty), compare group by group (durations compared
/// by value, fields Loki adds ignored), POST /loki/api/v1/rules/{namespace} (application/yaml,
/// one group per request) only for groups that differ, DELETE groups that left the bundle.
/// Every request carries X-Scope-OrgID = tenant. Tenants come from the bundle and from the
/// ledger (so a tenant that disappears is emptied). Thread-compatible.
class LokiRuler {
 public:
  /// `http` and `ledger` are not owned and must outlive the ruler.
  LokiRuler(LokiRulerOptions options, http::HttpClient& http, OwnershipLedger& ledger);

  /// The changes Apply would make. Errors: a failed GET (kUpstream with status and body), a
  /// ledger failure.
  core::Result<std::vector<LokiChange>> Plan(const LokiGroups& groups);
  /// Makes the changes; stops at the first failed write and returns it, naming tenant and group.
  core::Result<LokiApplyReport> Apply(const LokiGroups& groups);

 private:
  struct Computed;
  core::Result<void> Compute(const LokiGroups& groups, Computed& out);
  core::Result<void> ComputeTenant(const std::string& tenant,
                                   const LokiGroups& groups,
                                   std::map<std::string, std::string>& ledger,
                                   Computed& out);
  core::Result<http::Response> Send(const std::string& method,
                                    const std::string& path,
                                    const std::string& tenant,
                                    std::string body,
                                    const std::string& what,
                                    std::initializer_list<int> accept);

  LokiRulerOptions options_;
  http::HttpClient& http_;
  OwnershipLedger& ledger_;
};

}  // namespace obsforge::provision
