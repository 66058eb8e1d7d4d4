#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace obs_test {

/// A large dashboard as Grafana's "Export for sharing externally" writes it, built in code so the
/// repository holds a generator rather than half a megabyte of JSON: `__inputs` naming
/// `DS_PROMETHEUS`, `__requires`, `__elements`, `id: null`, a datasource variable
/// `DS_PROMETHEUS`, query variables on `${DS_PROMETHEUS}`, two open rows with their panels at the
/// top level, then `collapsed_rows` collapsed rows each holding `panels_per_row` panels. Panel
/// datasources are `{type, uid: "${DS_PROMETHEUS}"}`; targets alternate between no datasource
/// and the same reference. With the defaults the text is over 400 KB. Deterministic.
inline std::string GeneratedExportedDashboard(int collapsed_rows = 14, int panels_per_row = 12) {
  using nlohmann::ordered_json;
  const ordered_json ds = {{"type", "prometheus"}, {"uid", "${DS_PROMETHEUS}"}};
  int next_id = 1;
  int y = 0;
  auto panel = [&](int row, int index) {
    const std::string metric =
        "node_metric_" + std::to_string(row) + "_" + std::to_string(index) + "_total";
    ordered_json targets = ordered_json::array();
    for (int t = 0; t < 3; ++t) {
      ordered_json target = {
          {"editorMode", "code"},
          {"expr", "rate(" + metric + "{instance=\"$node\",job=\"$job\",mode=\"m" +
                       std::to_string(t) + "\"}[$__rate_interval])"},
          {"format", "time_series"},
          {"intervalFactor", 1},
          {"legendFormat", "{{device}} mode " + std::to_string(t)},
          {"range", true},
          {"refId", std::string(1, static_cast<char>('A' + t))},
          {"step", 240}};
      if (t % 2 == 1) {
        target["datasource"] = ds;
      }
      targets.push_back(std::move(target));
    }
    ordered_json p = {
        {"datasource", ds},
        {"description", "Per-second rate of " + metric +
                            " on the selected node, split by device and mode. Generated panel " +
                            std::to_string(index) + " of row " + std::to_string(row) + "."},
        {"fieldConfig",
         {{"defaults",
           {{"color", {{"mode", "palette-classic"}}},
            {"custom",
             {{"axisBorderShow", false},
              {"axisCenteredZero", false},
              {"axisColorMode", "text"},
              {"axisLabel", "per second"},
              {"axisPlacement", "auto"},
              {"barAlignment", 0},
              {"drawStyle", "line"},
              {"fillOpacity", 20},
              {"gradientMode", "none"},
              {"hideFrom", {{"legend", false}, {"tooltip", false}, {"viz", false}}},
              {"lineInterpolation", "linear"},
              {"lineWidth", 1},
              {"pointSize", 5},
              {"scaleDistribution", {{"type", "linear"}}},
              {"showPoints", "never"},
              {"spanNulls", false},
              {"stacking", {{"group", "A"}, {"mode", "none"}}},
              {"thresholdsStyle", {{"mode", "off"}}}}},
            {"links", ordered_json::array()},
            {"mappings", ordered_json::array()},
            {"min", 0},
            {"thresholds",
             {{"mode", "absolute"},
              {"steps", {{{"color", "green"}}, {{"color", "red"}, {"value", 80}}}}}},
            {"unit", "ops"}}},
          {"overrides",
           {{{"matcher", {{"id", "byRegexp"}, {"options", "/.*mode 2.*/"}}},
             {"properties",
              {{{"id", "color"}, {"value", {{"fixedColor", "#E24D42"}, {"mode", "fixed"}}}},
               {{"id", "custom.transform"}, {"value", "negative-Y"}}}}}}}}},
        {"gridPos", {{"h", 10}, {"w", 12}, {"x", (index % 2) * 12}, {"y", y}}},
        {"id", next_id++},
        {"options",
         {{"legend",
           {{"calcs", {"min", "mean", "max", "lastNotNull"}},
            {"displayMode", "table"},
            {"placement", "bottom"},
            {"showLegend", true}}},
          {"tooltip", {{"mode", "multi"}, {"sort", "none"}}}}},
        {"pluginVersion", "10.4.2"},
        {"targets", std::move(targets)},
        {"title", "Row " + std::to_string(row) + " metric " + std::to_string(index)},
        {"type", "timeseries"}};
    y += index % 2;
    return p;
  };
  auto row = [&](int number, bool collapsed) {
    ordered_json r = {{"collapsed", collapsed},
                      {"datasource", nullptr},
                      {"gridPos", {{"h", 1}, {"w", 24}, {"x", 0}, {"y", y++}}},
                      {"id", next_id++},
                      {"panels", ordered_json::array()},
                      {"title", "Section " + std::to_string(number)},
                      {"type", "row"}};
    return r;
  };

  ordered_json panels = ordered_json::array();
  for (int open = 0; open < 2; ++open) {
    panels.push_back(row(open, false));
    for (int i = 0; i < 4; ++i) {
      panels.push_back(panel(open, i));
    }
  }
  for (int r = 2; r < 2 + collapsed_rows; ++r) {
    ordered_json collapsed = row(r, true);
    for (int i = 0; i < panels_per_row; ++i) {
      collapsed["panels"].push_back(panel(r, i));
    }
    panels.push_back(std::move(collapsed));
  }

  auto query_variable = [&](const std::string& name, const std::string& query) {
    return ordered_json{{"current", ordered_json::object()},
                        {"datasource", ds},
                        {"definition", query},
                        {"includeAll", false},
                        {"label", name},
                        {"name", name},
                        {"options", ordered_json::array()},
                        {"query", {{"query", query}, {"refId", "PrometheusVariableQueryEditor"}}},
                        {"refresh", 1},
                        {"regex", ""},
                        {"type", "query"}};
  };
  ordered_json dashboard = {
      {"__inputs",
       {{{"name", "DS_PROMETHEUS"},
         {"label", "prometheus"},
         {"description", ""},
         {"type", "datasource"},
         {"pluginId", "prometheus"},
         {"pluginName", "Prometheus"}}}},
      {"__elements", ordered_json::object()},
      {"__requires",
       {{{"type", "grafana"}, {"id", "grafana"}, {"name", "Grafana"}, {"version", "10.4.2"}},
        {{"type", "datasource"},
         {"id", "prometheus"},
         {"name", "Prometheus"},
         {"version", "1.0.0"}},
        {{"type", "panel"}, {"id", "timeseries"}, {"name", "Time series"}, {"version", ""}}}},
      {"annotations",
       {{"list",
         {{{"builtIn", 1},
           {"datasource", {{"type", "datasource"}, {"uid", "grafana"}}},
           {"enable", true},
           {"hide", true},
           {"iconColor", "rgba(0, 211, 255, 1)"},
           {"name", "Annotations & Alerts"},
           {"type", "dashboard"}}}}}},
      {"editable", true},
      {"graphTooltip", 1},
      {"id", nullptr},
      {"links", ordered_json::array()},
      {"panels", std::move(panels)},
      {"refresh", "1m"},
      {"schemaVersion", 39},
      {"tags", {"linux", "generated"}},
      {"templating",
       {{"list",
         {{{"current", ordered_json::object()},
           {"includeAll", false},
           {"label", "Datasource"},
           {"name", "DS_PROMETHEUS"},
           {"options", ordered_json::array()},
           {"query", "prometheus"},
           {"refresh", 1},
           {"regex", ""},
           {"type", "datasource"}},
          query_variable("job", "label_values(node_uname_info, job)"),
          query_variable("node", "label_values(node_uname_info{job=\"$job\"}, instance)")}}}},
      {"time", {{"from", "now-24h"}, {"to", "now"}}},
      {"timepicker", ordered_json::object()},
      {"timezone", "browser"},
      {"title", "Generated Node Overview"},
      {"uid", "generated-node"},
      {"version", 3},
      {"weekStart", ""}};
  return dashboard.dump(2) + "\n";
}

}  // namespace obs_test
