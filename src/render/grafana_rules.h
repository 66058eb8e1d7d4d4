#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "render/dashboards.h"

namespace obsforge::render {

/// Where a Grafana-managed rule group goes and what it queries.
struct GrafanaRuleContext {
  std::string folder_uid;  ///< the group's folder (already resolved from group/entry)
  int org_id = 1;
  DatasourceRef prometheus;  ///< datasource for `datasource: prometheus` (the default)
  DatasourceRef loki;        ///< datasource for `datasource: loki`; empty uid = none
};

/// Turns one group of a `type: grafana` rule file (Prometheus shape plus optional per-rule `uid`,
/// `datasource`, `no_data_state`, `exec_err_state`) into the Grafana provisioning-API rule-group
/// body: {title, folderUid, interval (seconds, default 60), rules: [{uid, title, ruleGroup,
/// folderUID, orgID, condition: "C", data: [A query, B reduce last, C threshold > 0],
/// noDataState, execErrState, for, labels, annotations, isPaused}]}. Rule uids not given are
/// derived from folder, group and title. A rule with `data` (Grafana's own queries, e.g. an
/// imported rule) keeps them and its `condition` as they are instead of the A/B/C pipeline;
/// `is_paused` sets isPaused, and the members of a `grafana` map are added to the rule as they
/// are (e.g. notification_settings). Throws core::InputError (kRender) naming `file` and
/// `path` ("groups[0]") for recording rules, an unknown datasource, or an interval Grafana rejects
/// (not a positive multiple of 10s).
nlohmann::ordered_json GrafanaRuleGroup(const nlohmann::ordered_json& group,
                                        const GrafanaRuleContext& context,
                                        const std::string& file,
                                        const std::string& path);

}  // namespace obsforge::render
