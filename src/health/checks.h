#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"
#include "health/prober.h"

namespace obsforge::health {

/// Where the components of one environment answer. An empty URL means "not part of this
/// environment": its checks are not built. Base URLs have no trailing path ("http://h:9090").
struct Endpoints {
  std::string prometheus;
  std::string alertmanager;
  std::string loki;
  /// Sent as X-Scope-OrgID to Loki when non-empty (spec::LokiTenant(): real Loki answers 401
  /// "no org id" without it unless multi-tenancy is off).
  std::string loki_tenant;
  std::string tempo;
  /// Tempo's OTLP/HTTP receiver (port 4318 by default); the trace canary pushes there. Tempo
  /// never takes OTLP on its API port, so when this is empty the canary fails saying so.
  std::string tempo_otlp;
  std::string grafana;
  /// Grafana API token; datasource health checks are built only when it is set.
  core::Secret grafana_token;
  /// UIDs of the datasources obsforge provisioned.
  std::vector<std::string> grafana_datasource_uids;
  /// Full URL of the collector's health_check extension, e.g. "http://h:13133/".
  std::string otelcol_health;
  /// The version the spec declares per component (spec names: "loki", "otel_collector", ...;
  /// `components.<c>.version`); each one present gets a `version` check.
  std::map<std::string, std::string> versions;
};

/// How checks run (an aggregate: use designated initializers).
struct CheckOptions {
  std::chrono::milliseconds interval{15000};
  /// Per request.
  std::chrono::milliseconds timeout{5000};
  /// Build the Loki and Tempo canaries (spec `health.canaries`).
  bool canaries = false;
  /// A canary that cannot read its line / span back within this long fails.
  std::chrono::milliseconds canary_deadline{10000};
  /// Pause between read-back attempts.
  std::chrono::milliseconds canary_poll{200};
  /// The targets check fails when fewer than this share of active targets is up (1.0: any
  /// down target fails it).
  double min_targets_up_share = 1.0;
};

/// One check of one component, ready for the Prober (its definition's id is left empty: the
/// caller namespaces it, e.g. "stack/env/component/check").
struct ComponentCheck {
  std::string component;  ///< "prometheus", "alertmanager", "loki", "tempo", "grafana", "otelcol"
  std::string name;       ///< "healthy", "ready", "config_reload", "targets", "rules", ...
  /// A failing critical check (liveness/readiness) makes its component "down"; any other failing
  /// check makes it "degraded".
  bool critical = false;
  /// The run's duration is an end-to-end canary latency.
  bool canary = false;
  CheckDefinition definition;
};

/// Makes unique hex identifiers: a call with `hex_digits` returns that many lower-case hex digits.
using IdSource = std::function<std::string(int hex_digits)>;

/// Random ids from a thread-safe generator seeded by the random device.
IdSource RandomIds();

/// The checks for the components in `endpoints`:
///   prometheus: healthy (/-/healthy), ready (/-/ready), config_reload (/metrics
///     prometheus_config_last_reload_successful), targets (/api/v1/targets), rules (/api/v1/rules);
///   alertmanager: ready, cluster (/api/v2/status: ready or disabled), config_reload (/metrics);
///   loki: ready, rules (the ruler's /prometheus/api/v1/rules: rules whose evaluation fails;
///     a Loki without a ruler answers 404, which passes);
///   tempo: ready, ingestion (/metrics: spans refused by the receivers or failed ingester
///     appends since the previous run fail it);
///   grafana: health (/api/health) and datasource:<uid> per provisioned datasource when a token
///   is set; otelcol: health;
///   version, for each component in `endpoints.versions` that can tell its version (all but the
///     collector): fails when the running version is not the declared one (VersionProbeFor,
///     VersionMatches);
///   canaries when options.canaries: loki canary_logs (push a line carrying a unique id to the
///   one stream {job="obsforge-canary"}, find it with query_range), tempo canary_traces (push an
///   OTLP/HTTP JSON span to `tempo_otlp`, GET /api/traces/{id} until it holds the span).
/// Canary deadlines run on `clock` (Monotonic) and pushed log lines carry its Now(); it must
/// outlive the checks. Never throws (except std::bad_alloc).
std::vector<ComponentCheck> BuildComponentChecks(const Endpoints& endpoints,
                                                 const CheckOptions& options,
                                                 core::Clock& clock,
                                                 IdSource ids = RandomIds());

// Pure parsers, exposed for tests. Each returns the outcome of one response body.

/// 200 → ok; any other status → "HTTP <status>: <first 200 bytes of the body>"; a transport
/// error → its message.
ProbeOutcome ExpectStatus200(const core::Result<http::Response>& answer);
/// The value of the first sample of `metric` (no labels or any labels) in Prometheus text
/// exposition `text`; nullopt when absent or unparsable.
std::optional<double> MetricValue(std::string_view text, std::string_view metric);
/// /metrics text → ok when `metric` is 1; "<metric> is 0 (the last configuration reload failed)"
/// or "<metric> not found in /metrics".
ProbeOutcome ParseReloadMetric(const http::Response& response, std::string_view metric);
/// /api/v1/targets JSON → value = share of active targets up (1 when there are none); fails when
/// the share is below `min_share`, listing each down target as `<scrapePool> <scrapeUrl>:
/// <lastError>` joined by "; ", after "<down> of <total> targets down: ".
ProbeOutcome ParseTargets(const http::Response& response, double min_share);
/// /api/v1/rules JSON → fails when any rule's health is "err", listing
/// `<file>/<group>/<rule>: <lastError>` joined by "; ", after "<n> rules failing: ".
ProbeOutcome ParseRules(const http::Response& response);
/// /api/v2/status JSON → ok when cluster.status is "ready" or "disabled"; otherwise
/// "cluster status is <status>".
ProbeOutcome ParseAlertmanagerStatus(const http::Response& response);
/// Grafana /api/datasources/uid/{uid}/health → ok on 200 {"status":"OK"}; otherwise
/// "HTTP <status>: <message>".
ProbeOutcome ParseDatasourceHealth(const http::Response& response);
/// The sum of every sample of `metric` (any labels) in Prometheus text exposition `text`;
/// nullopt when it has none.
std::optional<double> MetricSum(std::string_view text, std::string_view metric);
/// The value of label `label` on the first sample of `metric` in `text` ("" when absent).
std::string MetricLabel(std::string_view text, std::string_view metric, std::string_view label);

/// How to ask a running component (spec name) its version: the request to send to `base_url`
/// and what to read in the answer. Prometheus, Alertmanager and Tempo: `<name>_build_info` on
/// /metrics (Tempo 2.2 has no buildinfo endpoint); Loki: /loki/api/v1/status/buildinfo (no
/// tenant needed); Grafana: /api/health. nullopt for a component that cannot tell (the
/// collector's health_check extension).
struct VersionProbe {
  http::Request request;
  /// The version in a 200 answer ("" when it has none).
  std::function<std::string(const http::Response&)> read;
};
std::optional<VersionProbe> VersionProbeFor(const std::string& component,
                                            const std::string& base_url);
/// Whether `running` is the `declared` version: equal dotted numbers as far as `declared` goes
/// ("3.0" is 3.0.x; a leading "v" is ignored). A running version that is not a release number
/// ("", "main-2a3b4c5") cannot be compared and counts as matching.
bool VersionMatches(std::string_view declared, std::string_view running);
/// "running <running>, the spec declares <declared> (the configuration is written for
/// <declared>)".
std::string VersionSkewMessage(std::string_view declared, std::string_view running);

}  // namespace obsforge::health
