#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace obsforge::render {

/// A datasource of the stack as dashboards should reference it.
struct DatasourceRef {
  std::string uid;
  std::string name;
  std::string type;
};

/// Rewrites a dashboard (an export, a provisioned file or Jsonnet output) so it works as soon as it
/// lands, keeping key order:
/// - every datasource reference resolves to the stack's datasource of the right type by uid:
///   `${DS_*}` inputs (by the input's pluginId), names ("Prometheus", an input's label, a type),
///   `{type, uid}` objects with foreign uids, `null`/absent panel and target datasources (a
///   target inherits its panel's; a panel with none gets its targets' or the default one);
/// - references to datasource-type template variables stay `${var}` (typed), and those
///   variables get the stack's datasource as current value;
/// - `-- Grafana --`, `-- Mixed --`, `-- Dashboard --` are left alone; legacy `rows[]` keep
///   their shape with their panels rewritten;
/// - `__inputs`/`__requires` are removed, `id` is null, `uid` kept when valid else derived from
///   `source_path` (see DashboardUid).
/// `datasources` maps a type ("prometheus") to the stack's datasource; `default_type` names the
/// one used for null references. References to types the stack lacks are left as they are.
nlohmann::ordered_json RewriteDashboard(nlohmann::ordered_json dashboard,
                                        const std::map<std::string, DatasourceRef>& datasources,
                                        const std::string& default_type,
                                        const std::string& source_path);

/// The dashboard's uid if it is valid for Grafana (1..40 of [A-Za-z0-9_-]), else one derived from
/// `source_path` (same rules, stable, with a hash suffix when it must be shortened).
std::string DashboardUid(const nlohmann::ordered_json& dashboard, const std::string& source_path);

/// Whether `uid` is a valid Grafana uid (1..40 characters of [A-Za-z0-9_-]).
bool IsValidUid(const std::string& uid);

/// `text` turned into a valid uid: invalid characters become '-', and a text longer than 40
/// characters keeps its start plus a hash of the whole.
std::string MakeUid(const std::string& text);

}  // namespace obsforge::render
