// Hostile input: whatever an import is given (configuration files, a request body, a Grafana's
// answers), it either succeeds or fails with an error naming where the problem is. Nothing else
// may escape: over the API anything else would be a 500.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/import_service.h"
#include "core/diagnostic.h"
#include "importer/import.h"
#include "provision/grafana_client.h"
#include "render/yaml_json.h"
#include "support/fake_http_client.h"

namespace obsforge::importer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kFullStack =
    fs::path(OBS_SOURCE_DIR) / "tests/importer/testdata/roundtrip/full-stack";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every finding of an InputError, one per line.
std::string Findings(const core::InputError& e) {
  std::string out;
  for (const auto& d : e.diagnostics()) {
    out += d.ToString() + "\n";
  }
  return out;
}

// Imports `text` as the configuration of `component`; the error's findings, or "ok".
std::string ImportConfig(const std::string& component, const std::string& text) {
  const auto files = spec::MakeMemorySource({});
  ImportRequest request{.name = "hostile", .files = files.get()};
  ConfigFile config{.path = "/etc/" + component + "/main.yml", .text = text};
  (component == "prometheus"     ? request.prometheus
   : component == "alertmanager" ? request.alertmanager
   : component == "loki"         ? request.loki
                                 : request.tempo) = config;
  try {
    (void)Import(request);
    return "ok";
  } catch (const core::InputError& e) {
    return Findings(e);
  }
}

struct BadConfig {
  const char* component;
  std::string text;
  const char* finding;
};

TEST(HostileImport, BadConfigurationsNameTheFile) {
  const BadConfig cases[] = {
      {"prometheus", "global: [unclosed", "/etc/prometheus/main.yml:1"},
      {"alertmanager", "- a\n- b\n", "/etc/alertmanager/main.yml: not a Alertmanager"},
      {"loki", "just a string", "/etc/loki/main.yml: not a Loki configuration"},
      {"tempo", std::string(100000, '['), "/etc/tempo/main.yml"},
      {"prometheus", std::string("\x00\xff\xfe: [\x01", 8), "/etc/prometheus/main.yml"},
      {"prometheus", "a: &x [*x]\n", "/etc/prometheus/main.yml"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ImportConfig(c.component, c.text), HasSubstr(c.finding))
        << c.component << ": " << c.text.substr(0, 40);
  }
}

TEST(HostileImport, BadRequestsSayWhatIsWrong) {
  const auto files = spec::MakeMemorySource({});
  const auto error_of = [](const ImportRequest& r) -> std::string {
    try {
      (void)Import(r);
      return "ok";
    } catch (const core::InputError& e) {
      return Findings(e);
    }
  };
  const ConfigFile config{.path = "prometheus.yml", .text = "global: {}\n"};
  EXPECT_THAT(error_of({.name = "Shop!", .prometheus = config, .files = files.get()}),
              HasSubstr("\"Shop!\" is not a valid stack name"));
  EXPECT_THAT(error_of({.name = "shop", .env = "Prod Env", .prometheus = config}),
              HasSubstr("not a valid environment name"));
  EXPECT_THAT(error_of({.name = "shop"}), HasSubstr("nothing to import"));
}

// Each place the importer reads given every type it does not expect: an import either works
// or throws core::InputError, never another exception.
TEST(HostileImport, UnexpectedTypesAnywhereTheImporterLooks) {
  const std::map<std::string, std::vector<std::string>> places = {
      {"prometheus",
       {"/global", "/global/scrape_interval", "/global/external_labels", "/rule_files",
        "/rule_files/0", "/remote_write", "/scrape_configs"}},
      {"alertmanager", {"/templates", "/route", "/route/routes", "/receivers", "/inhibit_rules"}},
      {"loki",
       {"/auth_enabled", "/limits_config", "/ruler/storage", "/ruler/storage/type",
        "/common/storage/filesystem/rules_directory"}},
      {"tempo", {"/distributor", "/server/http_listen_port"}},
  };
  const std::map<std::string, std::string> files = {{"prometheus", "prometheus.yml"},
                                                    {"alertmanager", "alertmanager.yml"},
                                                    {"loki", "loki.yaml"},
                                                    {"tempo", "tempo.yaml"}};
  const std::vector<ordered_json> values = {nullptr, 5, "x", ordered_json::array({nullptr}),
                                            ordered_json::parse(R"({"a": [1, {"b": null}]})")};
  int imports = 0;
  for (const auto& [component, pointers] : places) {
    const ordered_json base =
        render::ParseYaml(Slurp(kFullStack / files.at(component)), files.at(component));
    for (const auto& pointer : pointers) {
      for (const auto& value : values) {
        ordered_json doc = base;
        doc[ordered_json::json_pointer(pointer)] = value;
        try {
          (void)ImportConfig(component, doc.dump());
          ++imports;
        } catch (const std::exception& e) {
          ADD_FAILURE() << component << " " << pointer << " = " << value.dump() << ": " << e.what();
        }
      }
    }
  }
  EXPECT_EQ(imports, 19 * 5);
}

TEST(HostileImport, RuleFilesTheToolsWouldRefuseAreReportedNotCopied) {
  const auto files = spec::MakeMemorySource(
      {{"etc/prometheus/rules/broken.yml", "groups: [{name: x, rules: [{alert: A}]}]\n"},
       {"etc/prometheus/rules/notyaml.yml", "groups: [\n"},
       {"etc/prometheus/rules/leaky.yml",
        "# pushed with https://hooks.slack.com/services/T1/B1/leakedleakedleaked\n"
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"
        "        annotations:\n          runbook: https://ops:hunter2@wiki.example/run\n"}});
  ImportRequest request{.name = "shop",
                        .prometheus = ConfigFile{.path = "/etc/prometheus/prometheus.yml",
                                                 .text = "rule_files: [rules/*.yml]\n"},
                        .files = files.get()};
  const ImportResult result = Import(request);
  const std::string review = json(result.report.review).dump();
  EXPECT_THAT(review, HasSubstr("/etc/prometheus/rules/broken.yml: not imported"));
  EXPECT_THAT(review, HasSubstr("/etc/prometheus/rules/notyaml.yml: not imported"));
  EXPECT_THAT(review, HasSubstr("leaky.yml groups[0].rules[0].annotations.runbook"));
  ASSERT_EQ(result.files.size(), 1U);
  const std::string& leaky = result.files.begin()->second;
  EXPECT_THAT(leaky, Not(HasSubstr("hunter2")));
  EXPECT_THAT(leaky, Not(HasSubstr("leakedleaked")));
}

TEST(HostileImport, ATemplateHoldingACredentialIsNotCopied) {
  const auto files = spec::MakeMemorySource(
      {{"etc/am/templates/ok.tmpl", "{{ define \"x\" }}fine{{ end }}\n"},
       {"etc/am/templates/leak.tmpl",
        "{{ define \"y\" }}see https://hooks.slack.com/services/T1/B1/leakedleaked{{ end }}\n"}});
  const ImportResult result =
      Import({.name = "shop",
              .alertmanager = ConfigFile{.path = "/etc/am/alertmanager.yml",
                                         .text = "route: {receiver: r}\nreceivers: [{name: r}]\n"
                                                 "templates: [templates/*.tmpl]\n"},
              .files = files.get()});
  ASSERT_EQ(result.files.size(), 1U);
  EXPECT_EQ(result.files.begin()->first, "alerts/shop/templates/ok.tmpl");
  EXPECT_THAT(json(result.report.review).dump(),
              HasSubstr("/etc/am/templates/leak.tmpl: not imported, it holds what looks like a "
                        "credential"));
}

// --- the body of POST /api/v1/import ------------------------------------------------------------

TEST(HostileImport, BadBodiesNameTheMember) {
  const control::ImportService service(nullptr, {.max_config_bytes = 64, .max_files = 3});
  const struct {
    const char* body;
    const char* finding;
  } cases[] = {
      {R"([1, 2])", "body: must be a JSON object"},
      {R"({"files": {}})", "body: name: required"},
      {R"({"name": 5})", "body: name: must be a string"},
      {R"({"name": "s", "extra": 1})", "body: extra: unknown member"},
      {R"({"name": "s", "files": []})", "body: files: must map paths"},
      {R"({"name": "s", "files": {"a": 5}})", "files[\"a\"]: must be the file's content"},
      {R"({"name": "s", "files": {"a": "", "b": "", "c": "", "d": ""}})", "more than 3 files"},
      {R"({"name": "s", "files": {"../etc/passwd": ""}})", "\"..\" is not allowed"},
      {R"({"name": "s", "files": {"/a": "", "a": ""}})", "posted twice"},
      {R"({"name": "s", "prometheus_config": "p.yml"})", "prometheus_config: \"p.yml\" is not"},
      {R"({"name": "s", "loki_config": "l", "files": {"l": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}})",
       "loki_config: \"l\" is larger than 64 bytes"},
      {R"({"name": "s", "adopt": "yes"})", "adopt: must be true or false"},
      {R"({"name": "s", "urls": {"grafana": "http://g"}})", "urls.grafana: unknown component"},
      {R"({"name": "s", "urls": {"loki": "ftp://l"}})", "urls.loki: must be an http"},
      {R"({"name": "s", "grafana": "http://g"})", "grafana: must be an object"},
      {R"({"name": "s", "grafana": {"url": "g:3000"}})", "grafana.url: must be an http"},
      {R"({"name": "s", "grafana": {"url": "http://g", "org": 1}})", "grafana.org: unknown"},
      {R"({"name": "s", "grafana": {"url": "http://g", "org_id": -1}})", "grafana.org_id"},
  };
  for (const auto& c : cases) {
    std::string findings = "no error";
    try {
      (void)service.ParseBody(json::parse(c.body));
    } catch (const core::InputError& e) {
      findings = Findings(e);
    }
    EXPECT_THAT(findings, HasSubstr(c.finding)) << c.body;
  }
}

TEST(HostileImport, AGrafanaWithoutAnHttpClientIsUnavailable) {
  const control::ImportService service(nullptr);
  auto result = service.Import(
      service.ParseBody(json::parse(R"({"name": "s", "grafana": {"url": "http://g:3000"}})")));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
}

// --- a Grafana that answers nonsense ------------------------------------------------------------

constexpr const char* kGrafana = "http://grafana:3000";

class JunkGrafana : public ::testing::Test {
 protected:
  void SetUp() override {
    Answer("/api/health", R"({"database": "ok", "version": "11.2.0"})");
    Answer("/api/datasources", R"([{"uid": "p", "name": "P", "type": "prometheus"}])");
    Answer("/api/datasources/uid/p", R"({"uid": "p", "name": "P", "type": "prometheus"})");
    Answer("/api/folders", "[]");
    Answer("/api/search", R"([{"uid": "d", "title": "D"}])");
    Answer("/api/dashboards/uid/d", R"({"dashboard": {"uid": "d", "title": "D", "panels": []},
                                        "meta": {"folderUid": ""}})");
    Answer("/api/v1/provisioning/alert-rules", "[]");
    Answer("/api/v1/provisioning/contact-points", "[]");
    Answer("/api/v1/provisioning/policies", "{}");
    Answer("/api/v1/provisioning/mute-timings", "[]");
    Answer("/api/v1/provisioning/templates", "[]");
  }

  void Answer(const std::string& path, const std::string& body, int status = 200) {
    http_.On("GET", std::string(kGrafana) + path, [body, status](const http::Request&) {
      return http::Response{.status = status, .body = body};
    });
  }

  // The import's outcome: "ok", the error's message, or the InputError's findings.
  std::string ImportIt() {
    provision::GrafanaClient client({.base_url = kGrafana, .basic_user = "admin"}, http_);
    auto snapshot = ReadGrafana(client, kGrafana, "basic", "admin", {.max_dashboards = 5});
    if (!snapshot.ok()) {
      return snapshot.error().message;
    }
    try {
      (void)Import({.name = "shop", .grafana = *snapshot});
      return "ok";
    } catch (const core::InputError& e) {
      return Findings(e);
    }
  }

  obsforge::testing::FakeHttpClient http_;
};

TEST_F(JunkGrafana, SaneAnswersImport) {
  EXPECT_EQ(ImportIt(), "ok");
}

TEST_F(JunkGrafana, AnswersOfTheWrongShapeNameWhatWasRead) {
  const struct {
    const char* path;
    const char* body;
    const char* finding;
  } cases[] = {
      {"/api/datasources", "{}", "datasources"},
      {"/api/datasources", "not json", "datasources"},
      {"/api/search", R"({"uid": "d"})", "dashboards"},
      {"/api/dashboards/uid/d", "[1]", "dashboard \"d\""},
      {"/api/dashboards/uid/d", R"({"dashboard": "x"})", "dashboard \"d\""},
      {"/api/v1/provisioning/alert-rules", R"({"a": 1})", "alert rules"},
      {"/api/v1/provisioning/contact-points", "5", "contact points"},
  };
  for (const auto& c : cases) {
    SetUp();
    Answer(c.path, c.body);
    EXPECT_THAT(ImportIt(), HasSubstr(c.finding)) << c.path << " answering " << c.body;
  }
}

// Members of the wrong type inside otherwise well-formed answers: skipped or reported, never
// an exception.
TEST_F(JunkGrafana, MembersOfTheWrongTypeAreSkippedOrReported) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/datasources", R"([5, null, {"uid": 7}, {"uid": "p", "name": 1}])"},
      {"/api/datasources/uid/p",
       R"({"uid": "p", "name": "P", "type": "prometheus", "readOnly": "yes", "isDefault": 1,
           "jsonData": [], "secureJsonFields": {"password": "true"}, "basicAuth": "no"})"},
      {"/api/folders", R"([5, {"uid": 5}, {"uid": "f", "title": 7, "parentUid": []}])"},
      {"/api/search", R"([5, {"uid": null}, {"uid": "d"}])"},
      {"/api/dashboards/uid/d",
       R"({"dashboard": {"uid": 5, "title": ["x"], "__inputs": {"a": 1}, "panels": "x"},
           "meta": {"folderUid": 5, "provisioned": "no"}})"},
      {"/api/dashboards/uid/d",
       R"({"dashboard": {"uid": "d", "title": "D", "panels": [],
                         "__inputs": [5, {"name": 1, "type": "datasource", "pluginId": 2}]},
           "meta": []})"},
      {"/api/v1/provisioning/alert-rules", R"([5, {"folderUID": 1, "ruleGroup": []}])"},
      {"/api/v1/provisioning/contact-points",
       R"([5, {"uid": "c", "name": "c", "type": "slack", "settings": "x"},
           {"uid": 1, "settings": {"url": 5}}])"},
      {"/api/v1/provisioning/policies", "[1]"},
  };
  for (const auto& [path, body] : cases) {
    SetUp();
    Answer(path, body);
    std::string outcome;
    EXPECT_NO_THROW(outcome = ImportIt()) << path << " answering " << body;
  }
}

TEST_F(JunkGrafana, MoreDashboardsThanTheLimitAreRefused) {
  json hits = json::array();
  for (int i = 0; i < 6; ++i) {
    hits.push_back({{"uid", "d" + std::to_string(i)}});
  }
  Answer("/api/search", hits.dump());
  EXPECT_THAT(ImportIt(), HasSubstr("Grafana holds 6 dashboards, more than the 5"));
}

TEST_F(JunkGrafana, AFolderThatIsItsOwnChildEnds) {
  http_.On("GET", std::string(kGrafana) + "/api/folders", [](const http::Request& r) {
    const std::string parent =
        r.url.find("parentUid=") == std::string::npos ? "" : "loop";  // every level: one folder
    return http::Response{
        .status = 200,
        .body = json::array({{{"uid", "loop"}, {"title", "Loop"}, {"parentUid", parent}}}).dump()};
  });
  EXPECT_EQ(ImportIt(), "ok");
}

}  // namespace
}  // namespace obsforge::importer
