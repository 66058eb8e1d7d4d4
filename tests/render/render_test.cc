#include "render/render.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "core/hash.h"
#include "render/dashboards.h"
#include "render/env.h"
#include "render/yaml_json.h"
#include "support/generated_dashboard.h"
#include "support/paths.h"

namespace obsforge::render {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using testing::HasSubstr;

const fs::path kTestdata = fs::path(OBS_SOURCE_DIR) / "tests/render/testdata";
constexpr const char* kSecretValue = "hunter2-the-secret-value-0123456789";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rule files and dashboards under `root` (tests/content, or the optional corpus), with the
// testdata the spec below also names.
std::map<std::string, std::string> ContentFiles(const fs::path& root = obs_test::ContentDir()) {
  std::map<std::string, std::string> files;
  for (const auto& dir : {"rules/prometheus", "rules/loki", "dashboards"}) {
    for (const auto& e : fs::directory_iterator(root / dir)) {
      files[std::string(dir) + "/" + e.path().filename().string()] = Slurp(e.path());
    }
  }
  if (root == obs_test::ContentDir()) {
    files["dashboards/generated-node.inputs.json"] = obs_test::GeneratedExportedDashboard();
  }
  files["rules/grafana/api.yaml"] = Slurp(kTestdata / "grafana-rules.yaml");
  files["mixins/x/mixin.libsonnet"] = Slurp(kTestdata / "mixin/mixin.libsonnet");
  // Served from vendor/ (where jsonnet-bundler puts a mixin's dependencies) without tracking a
  // vendor/ folder.
  files["mixins/x/vendor/lib.libsonnet"] = Slurp(kTestdata / "mixin/dep.libsonnet");
  files["own/prometheus/main.jsonnet"] = Slurp(kTestdata / "own/prometheus/main.jsonnet");
  return files;
}

spec::EnvironmentSpec TestSpec() {
  spec::EnvironmentSpec s;
  s.stack = "teststack";
  s.env = "dev";
  s.merged = json::parse(R"({
    "apiVersion": "obsforge/v1", "kind": "Stack", "metadata": {"name": "teststack"},
    "spec": {
      "values": {"scrape_interval": "30s"},
      "components": {
        "prometheus": {},
        "alertmanager": {"enabled": true},
        "loki": {"enabled": true},
        "tempo": {"enabled": false},
        "grafana": {"admin": {"user": "admin", "password": {"secret": "OBS_RENDER_TEST_PW"}}}
      },
      "dashboards": [{"path": "dashboards/*.json", "folder": {"uid": "content", "title": "Content"}}],
      "alerts": [
        {"path": "rules/prometheus/*", "type": "prometheus"},
        {"path": "rules/loki/*.yaml", "type": "loki"},
        {"path": "rules/grafana/*.yaml", "type": "grafana", "folder": {"uid": "g", "title": "G"}}
      ],
      "mixins": [{"path": "mixins/x/mixin.libsonnet", "config": {"selector": "job=\"y\""}}]
    }
  })");
  return s;
}

RenderOptions TestOptions() {
  return RenderOptions{.templates_dir = kTestdata / "templates"};
}

class RenderTest : public testing::Test {
 protected:
  // The default render, shared by the tests that only read it (rendering is the slow part).
  const Bundle& Default() {
    static const Bundle kBundle = Render();
    return kBundle;
  }

  Bundle Render(const spec::EnvironmentSpec& s = TestSpec(),
                const RenderOptions& o = TestOptions()) {
    return RenderEnvironment(s, *content_, o);
  }
  std::unique_ptr<spec::ContentSource> content_ = spec::MakeMemorySource(ContentFiles());
};

TEST_F(RenderTest, TemplatesFilesAreWrittenByExtension) {
  const auto& b = Default();
  ASSERT_NE(b.Find("prometheus/prometheus.yml"), nullptr);
  EXPECT_EQ(ParseYaml(*b.Find("prometheus/prometheus.yml"), "p")["global"]["scrape_interval"],
            "30s");
  EXPECT_EQ(*b.Find("alertmanager/alertmanager.yml"),
            "route:\n  receiver: x\nreceivers:\n  - name: x\n");
  EXPECT_THAT(*b.Find("grafana/grafana.ini"),
              HasSubstr("[server]\nhttp_addr = 127.0.0.1\nhttp_port = 3000\n"));
  EXPECT_THAT(*b.Find("grafana/grafana.ini"),
              HasSubstr("admin_password = $__file{/var/lib/obsforge/stacks/teststack/dev/secrets/"
                        "OBS_RENDER_TEST_PW}\n"));
  EXPECT_EQ(b.Find("tempo/tempo.yaml"), nullptr);
}

TEST_F(RenderTest, EnvObjectFollowsTheContract) {
  auto o = TestOptions();
  o.ports["loki"] = 41000;
  const auto env = json::parse(*Render(TestSpec(), o).Find("prometheus/env.json"));
  EXPECT_EQ(env["name"], "dev");
  EXPECT_EQ(env["stack"], "teststack");
  EXPECT_EQ(env["runtime"], "local");
  EXPECT_EQ(env["listen"], "127.0.0.1");
  EXPECT_EQ(env["tenant"], "teststack");
  EXPECT_EQ(env["ports"]["prometheus"], 9090);
  EXPECT_EQ(env["ports"]["loki"], 41000);
  EXPECT_EQ(env["ports"]["otel_otlp_grpc"], 4317);  // Tempo is disabled
  EXPECT_EQ(env["urls"]["loki"], "http://127.0.0.1:41000");
  EXPECT_EQ(env["dirs"]["config"]["otel_collector"],
            "/var/lib/obsforge/stacks/teststack/dev/current/otel-collector");
  EXPECT_EQ(env["dirs"]["data"]["loki"], "/var/lib/obsforge/stacks/teststack/dev/loki/data");
  EXPECT_EQ(env["dirs"]["secrets"], "/var/lib/obsforge/stacks/teststack/dev/secrets");
  EXPECT_EQ(env["datasources"]["prometheus"],
            json::parse(R"({"uid": "teststack-prometheus", "name": "Prometheus",
                            "type": "prometheus", "url": "http://127.0.0.1:9090"})"));
  EXPECT_FALSE(env["datasources"].contains("tempo"));
  const auto stack = json::parse(*Render().Find("prometheus/stack.json"));
  EXPECT_EQ(stack["spec"]["components"]["prometheus"]["enabled"], true);
  EXPECT_EQ(stack["spec"]["components"]["otel_collector"]["enabled"], false);
  EXPECT_EQ(stack["spec"]["components"]["grafana"]["admin"]["password"],
            json::parse(R"({"secret": "OBS_RENDER_TEST_PW",
              "file": "/var/lib/obsforge/stacks/teststack/dev/secrets/OBS_RENDER_TEST_PW"})"));
}

TEST_F(RenderTest, ExternalRuntimeUsesItsUrlsAndConfigDirs) {
  auto s = TestSpec();
  s.runtime.type = spec::Runtime::Type::kExternal;
  s.runtime.components["prometheus"] = {.url = "http://prom.prod:9090/",
                                        .config_dir = "/etc/prometheus"};
  s.runtime.components["loki"] = {.tenant = "acme"};
  const auto b = Render(s);
  const auto env = json::parse(*b.Find("prometheus/env.json"));
  EXPECT_EQ(env["listen"], "0.0.0.0");
  EXPECT_EQ(env["urls"]["prometheus"], "http://prom.prod:9090");
  EXPECT_EQ(env["dirs"]["config"]["prometheus"], "/etc/prometheus");
  EXPECT_EQ(env["tenant"], "acme");
  EXPECT_NE(b.Find("loki/rules/acme/app-logs.yaml"), nullptr);
}

TEST_F(RenderTest, RuleFilesRenderIncludingNullAndEmptyGroups) {
  const auto& b = Default();
  for (const auto* name : {"host-alerts", "mixin-style-alerts", "empty-group", "whole-file-null"}) {
    const auto* text = b.Find(std::string("prometheus/rules/") + name + ".yaml");
    ASSERT_NE(text, nullptr) << name;
    EXPECT_NO_THROW((void)ParseYaml(*text, name));
  }
  // A file that is just `null`, and a group whose `rules:` is empty (null), are valid for
  // Prometheus and come out as the equivalent explicit empty lists.
  EXPECT_EQ(*b.Find("prometheus/rules/whole-file-null.yaml"), "groups: []\n");
  EXPECT_EQ(*b.Find("prometheus/rules/empty-group.yaml"),
            "groups:\n  - name: QueueExporter\n    rules: []\n");
  const auto host = ParseYaml(*b.Find("prometheus/rules/host-alerts.yaml"), "h");
  ASSERT_EQ(host["groups"].size(), 1U);
  EXPECT_EQ(host["groups"][0]["rules"].size(), 12U);
  EXPECT_EQ(host["groups"][0]["rules"][0]["expr"],
            "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05)");
  EXPECT_EQ(
      host["groups"][0]["rules"][0]["annotations"]["description"],
      "Less than 5% of memory is available\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}");
  // Mixin output: the same alert name twice in a group is kept, block scalars keep their text.
  const auto mixin = ParseYaml(*b.Find("prometheus/rules/mixin-style-alerts.yaml"), "m");
  ASSERT_EQ(mixin["groups"].size(), 2U);
  EXPECT_EQ(mixin["groups"][0]["rules"][0]["alert"], "QueueBacklogGrowing");
  EXPECT_EQ(mixin["groups"][0]["rules"][1]["alert"], "QueueBacklogGrowing");
  EXPECT_EQ(mixin["groups"][0]["rules"][1]["labels"]["severity"], "critical");
  EXPECT_THAT(mixin["groups"][0]["rules"][0]["expr"].get<std::string>(),
              HasSubstr("\nand\n  predict_linear("));
  EXPECT_EQ(mixin["groups"][1]["rules"][1]["record"],
            "queue:worker_job_duration_seconds:histogram_quantile");
}

TEST_F(RenderTest, LogQlRulesGoToTheLokiRuler) {
  const auto& b = Default();
  // The test templates' Loki runs with auth disabled... but auth_enabled is not set in the spec,
  // so the tenant is the stack's.
  const auto* text = b.Find("loki/rules/teststack/app-logs.yaml");
  ASSERT_NE(text, nullptr);
  EXPECT_THAT(*text, HasSubstr("TokenInLogLine"));
  EXPECT_THAT(*text, HasSubstr(R"re(|~ "(?i)authorization: bearer [a-z0-9._-]{8,}" [5m])re"));
  EXPECT_EQ(b.Find("prometheus/rules/app-logs.yaml"), nullptr);
  auto s = TestSpec();
  s.merged["spec"]["components"]["loki"]["auth_enabled"] = false;
  EXPECT_NE(Render(s).Find("loki/rules/fake/app-logs.yaml"), nullptr);
}

TEST_F(RenderTest, GrafanaRuleGroupsBecomeProvisioningBodies) {
  const auto& b = Default();
  const auto* text = b.Find("grafana/alerting/g/api.json");
  ASSERT_NE(text, nullptr);
  const auto body = json::parse(*text);
  EXPECT_EQ(body["title"], "api");
  EXPECT_EQ(body["folderUid"], "g");
  EXPECT_EQ(body["interval"], 60);
  ASSERT_EQ(body["rules"].size(), 2U);
  const auto& r = body["rules"][0];
  EXPECT_EQ(r["title"], "HighErrors");
  EXPECT_EQ(r["ruleGroup"], "api");
  EXPECT_EQ(r["folderUID"], "g");
  EXPECT_EQ(r["orgID"], 1);
  EXPECT_EQ(r["condition"], "C");
  EXPECT_EQ(r["for"], "5m");
  EXPECT_EQ(r["noDataState"], "NoData");
  EXPECT_EQ(r["execErrState"], "Error");
  EXPECT_EQ(r["labels"]["priority"], "1");
  EXPECT_EQ(r["data"][0]["datasourceUid"], "teststack-prometheus");
  EXPECT_EQ(r["data"][0]["model"]["expr"], "sum(rate(errors_total[5m])) > 1");
  EXPECT_EQ(r["data"][1]["model"]["type"], "reduce");
  EXPECT_EQ(r["data"][1]["model"]["reducer"], "last");
  EXPECT_EQ(r["data"][2]["model"]["conditions"][0]["evaluator"],
            json::parse(R"({"type": "gt", "params": [0]})"));
  EXPECT_EQ(body["rules"][1]["data"][0]["datasourceUid"], "teststack-loki");
  EXPECT_EQ(body["rules"][1]["noDataState"], "OK");
  const auto other = json::parse(*b.Find("grafana/alerting/other-folder/other.json"));
  EXPECT_EQ(other["rules"][0]["uid"], "fixed-uid");
  EXPECT_EQ(other["rules"][0]["folderUID"], "other-folder");
  // Derived rule uids are stable across renders.
  EXPECT_EQ(body["rules"][0]["uid"],
            json::parse(*Render().Find("grafana/alerting/g/api.json"))["rules"][0]["uid"]);
}

TEST_F(RenderTest, MixinRulesAndDashboardsAreRendered) {
  const auto& b = Default();
  const auto alerts = ParseYaml(*b.Find("prometheus/rules/mixin-x-alerts.yaml"), "a");
  EXPECT_EQ(alerts["groups"][0]["rules"][0]["expr"], "up{job=\"y\"} == 0");
  const auto rules = ParseYaml(*b.Find("prometheus/rules/mixin-x-rules.yaml"), "r");
  EXPECT_EQ(rules["groups"][0]["rules"][0]["record"], "x:up");
  const auto* dash = b.Find("grafana/dashboards/x/x-overview.json");
  ASSERT_NE(dash, nullptr);
  const auto d = json::parse(*dash);
  EXPECT_EQ(d["panels"][0]["datasource"],
            json::parse(R"({"type": "prometheus", "uid": "${datasource}"})"));
  EXPECT_EQ(d["templating"]["list"][0]["current"]["value"], "teststack-prometheus");
}

TEST_F(RenderTest, DashboardsAndGrafanaObjects) {
  const auto& b = Default();
  EXPECT_NE(b.Find("grafana/dashboards/content/generated-node.json"), nullptr);
  EXPECT_NE(b.Find("grafana/dashboards/content/app-logs.json"), nullptr);
  EXPECT_NE(b.Find("grafana/dashboards/content/shop-mixed.json"), nullptr);
  // No uid in the legacy export: derived from its path.
  EXPECT_NE(b.Find("grafana/dashboards/content/" +
                   DashboardUid({}, "dashboards/legacy-rows.schema12.json") + ".json"),
            nullptr);
  const auto objects = json::parse(*b.Find("grafana/objects.json"));
  EXPECT_EQ(objects["datasources"].size(), 3U);  // prometheus, loki, alertmanager
  EXPECT_EQ(objects["datasources"][0]["uid"], "teststack-prometheus");
  EXPECT_EQ(objects["datasources"][0]["isDefault"], true);
  // Regression: Loki is multi-tenant unless auth_enabled is false (the template's default), so
  // the datasource must send the tenant; it used to do so only when auth_enabled was set.
  const auto loki_it = std::find_if(objects["datasources"].begin(), objects["datasources"].end(),
                                    [](const json& ds) { return ds["type"] == "loki"; });
  ASSERT_NE(loki_it, objects["datasources"].end());
  const json& loki = *loki_it;
  EXPECT_EQ(loki["jsonData"]["httpHeaderName1"], "X-Scope-OrgID");
  EXPECT_FALSE(loki["secureJsonData"]["httpHeaderValue1"].get<std::string>().empty());
  EXPECT_EQ(objects["folders"],
            json::parse(R"([{"uid": "content", "title": "Content", "parentUid": ""},
                            {"uid": "g", "title": "G", "parentUid": ""},
                            {"uid": "other-folder", "title": "Other", "parentUid": ""},
                            {"uid": "x", "title": "x", "parentUid": ""}])"));
  EXPECT_EQ(objects["dashboards"].size(), 5U);  // four under dashboards/, one from the mixin
  for (const auto& d : objects["dashboards"]) {
    EXPECT_NE(b.Find(d["file"].get<std::string>()), nullptr) << d;
  }
  EXPECT_EQ(objects["rule_groups"].size(), 2U);
  EXPECT_EQ(objects["contact_points"][0]["type"], "prometheus-alertmanager");
  EXPECT_EQ(objects["policy"]["receiver"], "obsforge-alertmanager");
}

TEST_F(RenderTest, ManifestListsEveryFileWithItsHash) {
  const auto& b = Default();
  const auto manifest = json::parse(*b.Find("MANIFEST.json"));
  EXPECT_EQ(manifest["stack"], "teststack");
  EXPECT_EQ(manifest["environment"], "dev");
  EXPECT_EQ(manifest["inputs_sha256"].get<std::string>().size(), 64U);
  EXPECT_EQ(manifest["files"].size(), b.files().size() - 1);
  for (const auto& [path, text] : b.files()) {
    if (path != "MANIFEST.json") {
      EXPECT_EQ(manifest["files"][path], core::Sha256Hex(text)) << path;
    }
  }
  auto s = TestSpec();
  s.merged["spec"]["values"]["scrape_interval"] = "10s";
  EXPECT_NE(json::parse(*Render(s).Find("MANIFEST.json"))["inputs_sha256"],
            manifest["inputs_sha256"]);
}

TEST_F(RenderTest, RenderingTwiceGivesIdenticalBytes) {
  const auto a = Render();
  const auto b = Render();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.ContentHash(), b.ContentHash());
}

TEST_F(RenderTest, SecretValuesNeverReachTheOutput) {
  ASSERT_EQ(setenv("OBS_RENDER_TEST_PW", kSecretValue, 1), 0);
  const auto b = Render();
  unsetenv("OBS_RENDER_TEST_PW");
  for (const auto& [path, text] : b.files()) {
    EXPECT_EQ(text.find(kSecretValue), std::string::npos) << path;
  }
}

TEST_F(RenderTest, StackTemplatesReplaceTheDefaultsPerComponent) {
  auto s = TestSpec();
  s.merged["spec"]["templates"] = "./own";
  const auto b = Render(s);
  EXPECT_EQ(*b.Find("prometheus/prometheus.yml"), "own: true\n");
  EXPECT_NE(b.Find("loki/loki.yaml"), nullptr);  // still the default
}

TEST_F(RenderTest, JsonnetErrorsReportTheTemplateFileLineAndColumn) {
  auto s = TestSpec();
  for (const auto* c : {"alertmanager", "loki", "grafana"}) {
    s.merged["spec"]["components"][c]["enabled"] = false;
  }
  try {
    (void)Render(s, RenderOptions{.templates_dir = kTestdata / "broken"});
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.kind(), core::InputError::Kind::kRender);
    ASSERT_EQ(e.diagnostics().size(), 1U);
    const auto& d = e.diagnostics()[0];
    EXPECT_EQ(d.file, "templates/prometheus/main.jsonnet");
    EXPECT_EQ(d.line, 3);
    EXPECT_EQ(d.column, 21);
    EXPECT_EQ(d.message, "field does not exist: missing");
  }
}

TEST_F(RenderTest, BadContentIsReportedWithItsFile) {
  auto files = ContentFiles();
  files["rules/prometheus/bad.yml"] =
      "groups:\n  - name: a\n    rules:\n      - alert: A\n        record: b\n        expr: up\n"
      "        for: soon\n  - name: a\n    rules: []\n";
  const auto content = spec::MakeMemorySource(files);
  try {
    (void)RenderEnvironment(TestSpec(), *content, TestOptions());
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics()) {
      got.push_back(d.ToString());
    }
    EXPECT_THAT(got, testing::ElementsAre(
                         "rules/prometheus/bad.yml: groups[0].rules[0]: a rule needs exactly one "
                         "of alert and record",
                         "rules/prometheus/bad.yml: groups[0].rules[0].for: \"soon\" is not a "
                         "duration",
                         "rules/prometheus/bad.yml: groups[0].rules[0]: a recording rule cannot "
                         "have for or annotations",
                         "rules/prometheus/bad.yml: groups[1].name: group name \"a\" is used "
                         "twice"));
  }
  files.erase("rules/prometheus/bad.yml");
  files["dashboards/broken.json"] = "{\"title\": \"x\"";
  try {
    (void)RenderEnvironment(TestSpec(), *spec::MakeMemorySource(files), TestOptions());
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].file, "dashboards/broken.json");
    EXPECT_THAT(e.diagnostics()[0].message, HasSubstr("invalid JSON"));
  }
  files["dashboards/broken.json"] = "{\"panels\": []}";
  try {
    (void)RenderEnvironment(TestSpec(), *spec::MakeMemorySource(files), TestOptions());
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].ToString(),
              "dashboards/broken.json: title: a dashboard needs a title");
  }
}

TEST_F(RenderTest, AGlobMatchingNothingIsAnError) {
  auto s = TestSpec();
  s.merged["spec"]["alerts"][0]["path"] = "rules/none/*.yaml";
  try {
    (void)Render(s);
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].ToString(),
              "spec.alerts[0].path: \"rules/none/*.yaml\" matches no file");
  }
}

// Extra coverage when the optional third-party corpus is present (see tests/support/paths.h):
// the same spec over real-world exports and rule collections.
TEST(CorpusRender, ThirdPartyRuleFilesAndDashboardsRender) {
  const fs::path corpus = obs_test::CorpusDir();
  OBS_SKIP_UNLESS_PRESENT(corpus / "rules/prometheus/awesome-node-exporter.yml");
  const auto content = spec::MakeMemorySource(ContentFiles(corpus));
  const Bundle b = RenderEnvironment(TestSpec(), *content, TestOptions());
  for (const auto* name :
       {"awesome-node-exporter", "mixins-website-node-exporter-alerts",
        "awesome-zookeeper-cloudflare", "mixins-website-prometheus-rules.null"}) {
    const auto* text = b.Find(std::string("prometheus/rules/") + name + ".yaml");
    ASSERT_NE(text, nullptr) << name;
    EXPECT_NO_THROW((void)ParseYaml(*text, name));
  }
  EXPECT_EQ(*b.Find("prometheus/rules/mixins-website-prometheus-rules.null.yaml"), "groups: []\n");
  EXPECT_EQ(*b.Find("prometheus/rules/awesome-zookeeper-cloudflare.yaml"),
            "groups:\n  - name: CloudflareKafkaZookeeperExporter\n    rules: []\n");
  const auto node = ParseYaml(*b.Find("prometheus/rules/awesome-node-exporter.yaml"), "n");
  EXPECT_EQ(node["groups"][0]["rules"].size(), 35U);
  EXPECT_EQ(node["groups"][0]["rules"][0]["expr"],
            "(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < .10)");
  const auto* loki = b.Find("loki/rules/teststack/loki-tool-basic.yaml");
  ASSERT_NE(loki, nullptr);
  EXPECT_THAT(*loki, HasSubstr("HTTPCredentialsLeaked"));
  EXPECT_NE(b.Find("grafana/dashboards/content/rYdddlPWk.json"), nullptr);
  EXPECT_NE(b.Find("grafana/dashboards/content/logs.json"), nullptr);
}

TEST(SecretFilePath, NamesFilesByVariableOrPathHash) {
  EXPECT_EQ(SecretFilePath({.kind = core::SecretRef::Kind::kEnv, .name = "SLACK_URL"}, "/s"),
            "/s/SLACK_URL");
  const auto file = SecretFilePath({.kind = core::SecretRef::Kind::kFile, .name = "/etc/x"}, "/s");
  EXPECT_EQ(file, "/s/file-" + core::Sha256Hex("/etc/x").substr(0, 16));
}

}  // namespace
}  // namespace obsforge::render
