#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace obsforge::render {

/// Checks a parsed Prometheus or Loki rule file: `groups` a list (null file or null list = no
/// groups), unique non-empty group names, `interval` a duration, every rule with `expr` and
/// exactly one of `alert`/`record`, `for`/`keep_firing_for` durations, labels and annotations maps.
/// Throws core::InputError (kRender) listing every problem, each naming `file` and the path
/// ("groups[1].rules[0]"). With `grafana` (a `type: grafana` file) an alert rule may instead
/// carry Grafana's own queries: `data` (a non-empty list) and `condition` (a refId), no `expr`.
void CheckRuleFile(const nlohmann::ordered_json& doc,
                   const std::string& file,
                   bool grafana = false);

/// Checks a rewritten dashboard: an object with a non-empty string `title` and a `panels` or
/// `rows` list. Throws core::InputError (kRender) naming `file`.
void CheckDashboard(const nlohmann::ordered_json& dashboard, const std::string& file);

/// Checks that emitted YAML parses back. Throws core::InputError (kRender) naming `file` (the
/// bundle path) and where the parse failed.
void CheckYamlParses(const std::string& yaml, const std::string& file);

}  // namespace obsforge::render
