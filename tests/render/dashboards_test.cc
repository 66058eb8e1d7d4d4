#include "render/dashboards.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "render/emit.h"
#include "support/generated_dashboard.h"
#include "support/paths.h"

namespace obsforge::render {
namespace {

using nlohmann::ordered_json;

const std::map<std::string, DatasourceRef>& Datasources() {
  static const std::map<std::string, DatasourceRef> kDs = {
      {"prometheus", {.uid = "s-prometheus", .name = "Prometheus", .type = "prometheus"}},
      {"loki", {.uid = "s-loki", .name = "Loki", .type = "loki"}},
  };
  return kDs;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A dashboard of the suite: "content/<file>" (tests/content/dashboards), "generated" (the large
// export built by GeneratedExportedDashboard) or "corpus/<file>" (the optional third-party corpus).
std::filesystem::path PathOf(const std::string& key) {
  if (key.starts_with("corpus/")) {
    return obs_test::CorpusDir() / "dashboards" / key.substr(7);
  }
  return obs_test::ContentDir() / "dashboards" / key.substr(key.find('/') + 1);
}

std::string TextOf(const std::string& key) {
  return key == "generated" ? obs_test::GeneratedExportedDashboard() : Slurp(PathOf(key));
}

bool IsBuiltin(const ordered_json& ref) {
  const std::string uid = ref.is_string() ? ref.get<std::string>() : ref.value("uid", "");
  return uid == "-- Grafana --" || uid == "-- Mixed --" || uid == "-- Dashboard --" ||
         uid == "grafana";
}

// Every datasource reference in `node` is built in, or {type, uid} naming the stack's datasource
// of that type (directly or through a datasource variable whose current value is that uid).
void ExpectResolved(const ordered_json& node,
                    const ordered_json& dashboard,
                    const std::string& where,
                    int& count) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "datasource") {
        ++count;
        if (value.is_null()) {
          // Allowed where nothing queries it (a row, a text panel).
          EXPECT_TRUE(node.value("targets", ordered_json::array()).empty()) << where;
          continue;
        }
        if (IsBuiltin(value)) {
          continue;
        }
        ASSERT_TRUE(value.is_object()) << where << ": " << value.dump();
        const std::string type = value.value("type", "");
        const std::string uid = value.value("uid", "");
        ASSERT_TRUE(Datasources().count(type)) << where << ": " << value.dump();
        std::string resolved = uid;
        if (uid.starts_with("${")) {
          const std::string var = uid.substr(2, uid.size() - 3);
          for (const auto& v : dashboard["templating"]["list"]) {
            if (v.value("name", "") == var) {
              EXPECT_EQ(v["type"], "datasource");
              EXPECT_EQ(v["query"], type);
              resolved = v["current"]["value"].get<std::string>();
            }
          }
        }
        EXPECT_EQ(resolved, Datasources().at(type).uid) << where << ": " << value.dump();
      } else {
        std::string at = where;
        at += "/";
        at += key;
        ExpectResolved(value, dashboard, at, count);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      ExpectResolved(node[i], dashboard, where + "/" + std::to_string(i), count);
    }
  }
}

int CountTargetsWithoutDatasource(const ordered_json& panels) {
  int n = 0;
  for (const auto& p : panels) {
    for (const auto& t : p.value("targets", ordered_json::array())) {
      n += t.contains("datasource") ? 0 : 1;
    }
    n += CountTargetsWithoutDatasource(p.value("panels", ordered_json::array()));
  }
  return n;
}

class ExportedDashboard : public testing::TestWithParam<std::string> {};

TEST_P(ExportedDashboard, EveryDatasourceReferenceResolvesToAUidOfTheRightType) {
  if (GetParam() != "generated") {
    OBS_SKIP_UNLESS_PRESENT(PathOf(GetParam()));
  }
  const auto in = ordered_json::parse(TextOf(GetParam()));
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", "dashboards/" + GetParam());
  int count = 0;
  ExpectResolved(out, out, GetParam(), count);
  EXPECT_GT(count, 10);
  EXPECT_FALSE(out.contains("__inputs"));
  EXPECT_FALSE(out.contains("__requires"));
  EXPECT_TRUE(out["id"].is_null());
  EXPECT_TRUE(IsValidUid(out["uid"].get<std::string>()));
  EXPECT_EQ(CountTargetsWithoutDatasource(out.value("panels", ordered_json::array())), 0);
  for (const auto& row : out.value("rows", ordered_json::array())) {
    EXPECT_EQ(CountTargetsWithoutDatasource(row.value("panels", ordered_json::array())), 0);
  }
  EXPECT_EQ(out.dump().find("${DS_"), std::string::npos);
  // Rewriting is idempotent: a rendered dashboard rendered again is the same.
  EXPECT_EQ(RewriteDashboard(out, Datasources(), "prometheus", "dashboards/" + GetParam()), out);
}

std::string ParamName(const testing::TestParamInfo<std::string>& info) {
  std::string n = info.param.substr(0, info.param.find('.'));
  for (auto& c : n) {
    c = std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  }
  return n;
}

// The project's own exports: legacy rows, datasource variables with Loki logs panels, two
// `__inputs` with a mixed-datasource panel and a collapsed row, and the generated large export.
INSTANTIATE_TEST_SUITE_P(Content,
                         ExportedDashboard,
                         testing::Values("content/legacy-rows.schema12.json",
                                         "content/logs-and-metrics.json",
                                         "content/mixed-sources.inputs.json",
                                         "generated"),
                         ParamName);

// Extra coverage: the third-party corpus, when present (skipped otherwise).
INSTANTIATE_TEST_SUITE_P(Corpus,
                         ExportedDashboard,
                         testing::Values("corpus/node-exporter-full.inputs.json",
                                         "corpus/dockprom-docker-host.schema12.json",
                                         "corpus/loki-logs.json"),
                         ParamName);

// `rows[]` of a schemaVersion 12 dashboard keep their shape; the first key stays first.
void ExpectLegacyRowsKept(const std::string& key, const std::string& source) {
  const auto in = ordered_json::parse(TextOf(key));
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", source);
  ASSERT_TRUE(out["rows"].is_array());
  EXPECT_EQ(out["rows"].size(), in["rows"].size());
  EXPECT_FALSE(out.contains("panels"));
  EXPECT_EQ(out["rows"][0]["panels"][0]["datasource"],
            ordered_json::parse(R"({"type":"prometheus","uid":"s-prometheus"})"));
  EXPECT_EQ(out["uid"], DashboardUid(in, source));
  EXPECT_EQ(out.begin().key(), in.begin().key());
}

TEST(RewriteDashboard, LegacyRowsKeepTheirShapeAndGetADerivedUid) {
  const std::string key = "content/legacy-rows.schema12.json";
  ExpectLegacyRowsKept(key, "dashboards/legacy host.json");
  const auto in = ordered_json::parse(TextOf(key));
  ASSERT_FALSE(in.contains("uid"));
  EXPECT_TRUE(
      DashboardUid(in, "dashboards/legacy host.json").starts_with("dashboards-legacy-host-"));
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", "dashboards/legacy.json");
  EXPECT_EQ(out.begin().key(), "id");
  EXPECT_TRUE(out["id"].is_null());
  // A panel with datasource null, and a target that named the datasource itself.
  EXPECT_EQ(out["rows"][0]["panels"][2]["datasource"]["uid"], "s-prometheus");
  EXPECT_EQ(out["rows"][1]["panels"][1]["targets"][1]["datasource"]["uid"], "s-prometheus");
  // The text panel gets no datasource.
  EXPECT_FALSE(out["rows"][6]["panels"][0].contains("datasource"));
}

TEST(RewriteDashboard, LegacyRowsOfTheCorpusExport) {
  OBS_SKIP_UNLESS_PRESENT(PathOf("corpus/dockprom-docker-host.schema12.json"));
  ExpectLegacyRowsKept("corpus/dockprom-docker-host.schema12.json", "dashboards/docker host.json");
}

// Datasource-type variables get the stack's datasource of their type as current value.
void ExpectDatasourceVariables(const std::string& key, const std::string& uid) {
  const auto in = ordered_json::parse(TextOf(key));
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", "x.json");
  EXPECT_EQ(out["uid"], uid);
  const auto& vars = out["templating"]["list"];
  EXPECT_EQ(vars[0]["current"]["value"], "s-prometheus");
  EXPECT_EQ(vars[3]["current"]["value"], "s-loki");
}

TEST(RewriteDashboard, KeepsAValidUidAndSetsDatasourceVariables) {
  ExpectDatasourceVariables("content/logs-and-metrics.json", "app-logs");
  const auto out = RewriteDashboard(ordered_json::parse(TextOf("content/logs-and-metrics.json")),
                                    Datasources(), "prometheus", "x.json");
  // Panels keep pointing at the variables, now typed.
  EXPECT_EQ(out["panels"][0]["datasource"],
            ordered_json::parse(R"({"type":"prometheus","uid":"${datasource}"})"));
  EXPECT_EQ(out["panels"][5]["datasource"],
            ordered_json::parse(R"({"type":"loki","uid":"${loki_datasource}"})"));
  EXPECT_EQ(out["panels"][5]["type"], "logs");
}

// Found by dashboard_fuzzer: `"type": {...}` in an __inputs entry made nlohmann's value() throw
// a type_error (a 500 from the server, an abort in the fuzzer). Members of an unexpected type are
// now read as absent: the dashboard is rewritten and those parts left as they were.
TEST(RewriteDashboard, MembersOfAnyTypeAreReadAsAbsentNeverThrown) {
  const auto in = ordered_json::parse(R"({
    "__inputs": [{"name": "DS_PROM", "label": "Prometheus", "type": {"x": ""}, "pluginId": 7},
                 {"name": "DS_LOKI", "type": "datasource", "pluginId": ["loki"]}],
    "uid": "odd-types",
    "templating": {"list": [{"name": "ds", "type": 3, "query": "prometheus"},
                            {"name": "job", "type": "query", "datasource": "${DS_PROM}"}]},
    "annotations": {"list": [{"builtIn": "1", "datasource": null},
                             {"builtIn": 1, "datasource": null}]},
    "panels": [{"type": "timeseries", "datasource": {"uid": 12, "type": "prometheus"},
                "targets": [{"refId": "A"}]}]})");
  ordered_json out;
  ASSERT_NO_THROW(out = RewriteDashboard(in, Datasources(), "prometheus", "dashboards/odd.json"));
  EXPECT_EQ(out["uid"], "odd-types");
  // The built-in annotation keeps its null; the other one gets the default datasource.
  EXPECT_TRUE(out["annotations"]["list"][1]["datasource"].is_null());
  EXPECT_EQ(out["annotations"]["list"][0]["datasource"]["uid"], Datasources().at("prometheus").uid);
}

TEST(RewriteDashboard, DatasourceVariablesOfTheCorpusExport) {
  OBS_SKIP_UNLESS_PRESENT(PathOf("corpus/loki-logs.json"));
  ExpectDatasourceVariables("corpus/loki-logs.json", "logs");
}

TEST(RewriteDashboard, MixedPanelsAndCollapsedRowsOfATwoInputExport) {
  const auto out =
      RewriteDashboard(ordered_json::parse(TextOf("content/mixed-sources.inputs.json")),
                       Datasources(), "prometheus", "dashboards/m.json");
  const auto prom = ordered_json::parse(R"({"type":"prometheus","uid":"s-prometheus"})");
  const auto loki = ordered_json::parse(R"({"type":"loki","uid":"s-loki"})");
  const auto& p = out["panels"];
  EXPECT_EQ(out["uid"], "shop-mixed");
  EXPECT_EQ(p[1]["datasource"], prom);  // "${DS_METRICS}" as a plain string
  EXPECT_EQ(p[2]["datasource"]["uid"], "-- Mixed --");
  EXPECT_EQ(p[2]["targets"][0]["datasource"], prom);
  EXPECT_EQ(p[2]["targets"][1]["datasource"], loki);
  EXPECT_EQ(p[3]["datasource"]["uid"], "-- Dashboard --");
  EXPECT_EQ(p[3]["targets"][0]["datasource"]["uid"], "-- Dashboard --");
  EXPECT_FALSE(p[4].contains("datasource"));  // text panel
  const auto& nested = p[5]["panels"];
  ASSERT_EQ(nested.size(), 3U);
  EXPECT_EQ(nested[0]["datasource"], prom);
  EXPECT_EQ(nested[1]["datasource"], loki);  // null panel datasource, from its only target
  EXPECT_EQ(nested[2]["datasource"], loki);
  EXPECT_EQ(out["annotations"]["list"][0]["datasource"], "-- Grafana --");
  EXPECT_EQ(out["annotations"]["list"][1]["datasource"], loki);
}

TEST(RewriteDashboard, GeneratedLargeExportIsRewrittenWhole) {
  const std::string text = TextOf("generated");
  ASSERT_GT(text.size(), 400000U);
  const auto in = ordered_json::parse(text);
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", "n.json");
  EXPECT_EQ(out["uid"], "generated-node");
  int collapsed = 0;
  int nested = 0;
  for (const auto& panel : out["panels"]) {
    if (panel["type"] == "row" && panel["collapsed"] == true) {
      ++collapsed;
      for (const auto& child : panel["panels"]) {
        ++nested;
        EXPECT_EQ(child["datasource"]["uid"], "s-prometheus") << child["title"];
      }
    }
  }
  EXPECT_EQ(collapsed, 14);
  EXPECT_EQ(nested, 14 * 12);
  EXPECT_EQ(out["templating"]["list"][0]["current"]["value"], "s-prometheus");
  EXPECT_GT(EmitJson(out).size(), 100000U);
}

TEST(RewriteDashboard, ResolvesEveryKindOfReference) {
  const auto in = ordered_json::parse(R"({
    "__inputs": [{"name": "DS_LOGS", "label": "My Logs", "type": "datasource", "pluginId": "loki"}],
    "__requires": [], "id": 12, "uid": "has space", "title": "t",
    "annotations": {"list": [{"builtIn": 1, "datasource": "-- Grafana --"},
                             {"datasource": {"type": "datasource", "uid": "grafana"}}]},
    "panels": [
      {"id": 1, "datasource": "Prometheus", "targets": [{"expr": "up"}]},
      {"id": 2, "datasource": "${DS_LOGS}", "targets": [{"expr": "{a=\"b\"}"}]},
      {"id": 3, "datasource": null, "targets": [{"expr": "up"}]},
      {"id": 4, "targets": [{"expr": "x", "datasource": {"type": "loki", "uid": "P123"}}]},
      {"id": 5, "datasource": {"type": "datasource", "uid": "-- Mixed --"},
       "targets": [{"expr": "x"}, {"datasource": "My Logs", "expr": "y"}]},
      {"id": 6, "datasource": "-- Dashboard --"},
      {"id": 7, "type": "text"},
      {"id": 8, "type": "row", "collapsed": true,
       "panels": [{"id": 9, "datasource": {"uid": "abc"}, "targets": [{"expr": "z"}]}]},
      {"id": 10, "datasource": "Some Other Prom", "targets": [{"expr": "up"}]},
      {"id": 11, "datasource": {"type": "influxdb", "uid": "i"}}
    ]
  })");
  const auto out = RewriteDashboard(in, Datasources(), "prometheus", "dashboards/a.json");
  const auto prom = ordered_json::parse(R"({"type":"prometheus","uid":"s-prometheus"})");
  const auto loki = ordered_json::parse(R"({"type":"loki","uid":"s-loki"})");
  const auto& p = out["panels"];
  EXPECT_EQ(p[0]["datasource"], prom);
  EXPECT_EQ(p[0]["targets"][0]["datasource"], prom);
  EXPECT_EQ(p[1]["datasource"], loki);
  EXPECT_EQ(p[1]["targets"][0]["datasource"], loki);
  EXPECT_EQ(p[2]["datasource"], prom);
  EXPECT_EQ(p[3]["datasource"], loki);  // from its only target
  EXPECT_EQ(p[4]["datasource"]["uid"], "-- Mixed --");
  EXPECT_EQ(p[4]["targets"][0]["datasource"], prom);
  EXPECT_EQ(p[4]["targets"][1]["datasource"], loki);
  EXPECT_EQ(p[5]["datasource"], "-- Dashboard --");
  EXPECT_FALSE(p[6].contains("datasource"));
  EXPECT_EQ(p[7]["panels"][0]["datasource"], prom);
  EXPECT_EQ(p[8]["datasource"], prom);
  EXPECT_EQ(p[9]["datasource"]["type"], "influxdb");  // no such datasource in the stack
  EXPECT_EQ(out["annotations"]["list"][0]["datasource"], "-- Grafana --");
  EXPECT_EQ(out["annotations"]["list"][1]["datasource"]["uid"], "grafana");
  EXPECT_EQ(out["uid"], DashboardUid(in, "dashboards/a.json"));
  EXPECT_TRUE(out["id"].is_null());
}

TEST(DashboardUid, DerivedUidsAreValidStableAndShort) {
  EXPECT_EQ(MakeUid("abc-DEF_1"), "abc-DEF_1");
  const std::string long_path(100, 'a');
  const auto uid = MakeUid(long_path);
  EXPECT_LE(uid.size(), 40U);
  EXPECT_TRUE(IsValidUid(uid));
  EXPECT_EQ(uid, MakeUid(long_path));
  EXPECT_NE(MakeUid("a/b"), MakeUid("a b"));
  EXPECT_FALSE(IsValidUid(std::string(41, 'a')));
  EXPECT_FALSE(IsValidUid(""));
}

}  // namespace
}  // namespace obsforge::render
