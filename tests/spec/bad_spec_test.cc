// Every bad spec in testdata/bad with the exact diagnostics a user sees, all at once.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::spec {
namespace {

struct BadSpecCase {
  std::string file;
  std::vector<std::string> diagnostics;
};

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const std::string kTestData = std::string(OBS_SOURCE_DIR) + "/tests/spec/testdata";

const BadSpecCase kBadSpecs[] = {
    {"bad_duration.yaml",
     {
         "bad_duration.yaml:8:62: spec.components.prometheus.scrape[0].scrape_interval: \"5x\" is "
         "not a duration (e.g. 30s, 5m, 1h30m)",
         "bad_duration.yaml:8:82: spec.components.prometheus.scrape[0].scrape_timeout: 10 is not a "
         "duration (e.g. 30s, 5m, 1h30m)",
     }},
    {"bad_stack_name.yaml",
     {
         "bad_stack_name.yaml:3:18: metadata.name: \"Tok_Pulse\" is not a valid name: lower-case "
         "letters, digits and \"-\", starting and ending with a letter or digit, at most 63 "
         "characters",
     }},
    {"credential_in_values.yaml",
     {
         "credential_in_values.yaml:6:13: spec.values.notify: secret written inline; use {secret: "
         "NAME} or {secret_file: PATH}",
         "credential_in_values.yaml:8:16: spec.values.nested[0].token: secret written inline; use "
         "{secret: NAME} or {secret_file: PATH}",
         "credential_in_values.yaml:9:9: spec.values.db: secret written inline; use {secret: NAME} "
         "or {secret_file: PATH}",
     }},
    {"duplicate_key.yaml",
     {
         "duplicate_key.yaml:7:5: spec.components.loki: duplicate key \"loki\" (first defined at "
         "line 6)",
     }},
    {"duplicate_receiver.yaml",
     {
         "duplicate_receiver.yaml:10:17: spec.components.alertmanager.receivers[1].name: duplicate "
         "receiver name \"slack\"",
     }},
    {"duplicate_scrape_job.yaml",
     {
         "duplicate_scrape_job.yaml:10:17: spec.components.prometheus.scrape[2].job: duplicate "
         "scrape job \"api\"",
     }},
    {"empty_document.yaml",
     {
         "empty_document.yaml: the document is empty; a stack spec starts with apiVersion: "
         "obsforge/v1",
     }},
    {"env_bad_name.yaml",
     {
         "env_bad_name.yaml:6:5: spec.environments.Prod_EU: \"Prod_EU\" is not a valid name: "
         "lower-case letters, digits and \"-\", starting and ending with a letter or digit, at "
         "most 63 characters",
         "env_bad_name.yaml:8:14: spec.environments.staging: missing required key \"runtime\"",
     }},
    {"env_bad_runtime.yaml",
     {
         "env_bad_runtime.yaml:8:9: spec.environments.prod.runtime: missing required key \"type\"",
         "env_bad_runtime.yaml:8:27: spec.environments.prod.runtime.prometheus.url: \"prom:9090\" "
         "is not an http(s) URL",
         "env_bad_runtime.yaml:8:52: spec.environments.prod.runtime.prometheus.config_dir: "
         "\"etc/prometheus\" is not an absolute path",
         "env_bad_runtime.yaml:8:74: spec.environments.prod.runtime.prometheus.port: port must be "
         "between 1 and 65535",
         "env_bad_runtime.yaml:9:48: spec.environments.prod.runtime.grafana.token: secret written "
         "inline; use {secret: NAME} or {secret_file: PATH}",
     }},
    {"env_removes_receiver.yaml",
     {
         "env_removes_receiver.yaml:7:25: spec.components.alertmanager.route.receiver: route "
         "receiver \"slack\" is not defined in receivers (in environment \"prod\")",
     }},
    {"env_unknown_key.yaml",
     {
         "env_unknown_key.yaml:11:22: spec.environments.prod.components.prometheus.scrap: unknown "
         "key \"scrap\"; did you mean \"scrape\"?",
         "env_unknown_key.yaml:12:7: spec.environments.prod.helth: unknown key \"helth\"; did you "
         "mean \"health\"?",
     }},
    {"expected_map_got_list.yaml",
     {
         "expected_map_got_list.yaml:5:15: spec.components: expected a map, got a list",
     }},
    {"failure_threshold_zero.yaml",
     {
         "failure_threshold_zero.yaml:7:24: spec.health.failure_threshold: failure_threshold must "
         "be at least 1",
     }},
    {"glob_matches_nothing.yaml",
     {
         "glob_matches_nothing.yaml:7:13: spec.dashboards[1].path: \"dashboards/x/*.json\" matches "
         "no file",
     }},
    {"inline_slack_webhook.yaml",
     {
         "inline_slack_webhook.yaml:11:22: "
         "spec.components.alertmanager.receivers[0].slack.webhook: secret written inline; use "
         "{secret: NAME} or {secret_file: PATH}",
     }},
    {"json_errors.json",
     {
         "json_errors.json:7:60: spec.components.prometheus.scrape[0].targets[0]: \"api\" is not "
         "host:port",
         "json_errors.json:8:41: spec.components.grafana.admin.password: secret written inline; "
         "use {secret: NAME} or {secret_file: PATH}",
     }},
    {"json_fallback_duplicate_key.json",
     {
         "json_fallback_duplicate_key.json:7:5: spec.components: duplicate key \"components\" "
         "(first defined at line 6)",
     }},
    {"json_fallback_positions.json",
     {
         "json_fallback_positions.json:6:83: spec.components.prometheus.scrape[0].targets[1]: "
         "\"api:x\" is not host:port",
         "json_fallback_positions.json:7:29: spec.dashboards[0].path: path \"../up.json\" escapes "
         "the stack root",
     }},
    {"json_syntax_error.json",
     {
         "json_syntax_error.json:4:12: invalid JSON: syntax error while parsing object - "
         "unexpected string literal; expected '}'",
     }},
    {"malformed_secret_ref.yaml",
     {
         "malformed_secret_ref.yaml:8:19: spec.components.grafana.admin.password: expected "
         "{secret: NAME} or {secret_file: PATH}, got a map with keys file, secret",
         "malformed_secret_ref.yaml:10:22: spec.health.slack.webhook: expected {secret: NAME} or "
         "{secret_file: PATH}, got a list",
     }},
    {"many_errors.yaml",
     {
         "many_errors.yaml:5:18: metadata.labels.team: expected a string, got an integer",
         "many_errors.yaml:12:11: spec.components.prometheus.scrape[0].schema: unknown key "
         "\"schema\"; did you mean \"scheme\"?",
         "many_errors.yaml:14:38: spec.components.grafana.admin.password: secret written inline; "
         "use {secret: NAME} or {secret_file: PATH}",
         "many_errors.yaml:16:7: spec.dashboards[0]: missing required key \"path\"",
         "many_errors.yaml:18:40: spec.alerts[0].type: \"promethues\" is not one of prometheus, "
         "loki, grafana; did you mean \"prometheus\"?",
         "many_errors.yaml:19:36: spec.health.canaries: expected a boolean (true or false), got a "
         "string",
     }},
    {"missing_required_job.yaml",
     {
         "missing_required_job.yaml:8:11: spec.components.prometheus.scrape[0]: missing required "
         "key \"job\"",
     }},
    {"missing_top_level.yaml",
     {
         "missing_top_level.yaml:1:1: missing required key \"kind\"",
         "missing_top_level.yaml:1:1: missing required key \"spec\"",
         "missing_top_level.yaml:2:11: metadata: missing required key \"name\"",
     }},
    {"mixin_paths.yaml",
     {
         "mixin_paths.yaml:6:13: spec.mixins[0].path: \"mixins/node/mixin.yaml\" is not a "
         ".libsonnet or .jsonnet file",
         "mixin_paths.yaml:7:13: spec.mixins[1].path: file \"mixins/redis/mixin.libsonnet\" does "
         "not exist",
     }},
    {"pagerduty_keys.yaml",
     {
         "pagerduty_keys.yaml:11:15: spec.components.alertmanager.receivers[0].pagerduty[0]: "
         "missing required key \"routing_key\" (or \"service_key\")",
         "pagerduty_keys.yaml:12:15: spec.components.alertmanager.receivers[0].pagerduty[1]: set "
         "only one of \"routing_key\" and \"service_key\"",
     }},
    {"password_in_remote_write.yaml",
     {
         "password_in_remote_write.yaml:8:16: spec.components.prometheus.remote_write[0].url: "
         "secret written inline; use {secret: NAME} or {secret_file: PATH}",
     }},
    {"path_absolute.yaml",
     {
         "path_absolute.yaml:6:14: spec.alerts[0].path: path \"/etc/prometheus/rules/*.yaml\" "
         "escapes the stack root",
     }},
    {"path_escapes_dotdot.yaml",
     {
         "path_escapes_dotdot.yaml:6:13: spec.dashboards[0].path: path \"../x/*.json\" escapes the "
         "stack root",
     }},
    {"ratio_out_of_range.yaml",
     {
         "ratio_out_of_range.yaml:7:25: spec.components.otel_collector.sampling.ratio: \"ratio\" "
         "must be between 0 and 1",
     }},
    {"route_receiver_undefined.yaml",
     {
         "route_receiver_undefined.yaml:8:19: spec.components.alertmanager.route.receiver: route "
         "receiver \"pager\" is not defined in receivers",
         "route_receiver_undefined.yaml:11:24: "
         "spec.components.alertmanager.route.routes[1].receiver: route receiver \"email\" is not "
         "defined in receivers",
     }},
    {"target_not_host_port.yaml",
     {
         "target_not_host_port.yaml:9:33: spec.components.prometheus.scrape[0].targets[1]: "
         "\"api:notaport\" is not host:port",
         "target_not_host_port.yaml:9:49: spec.components.prometheus.scrape[0].targets[2]: \"api\" "
         "is not host:port",
     }},
    {"templates_dir_empty.yaml",
     {
         "templates_dir_empty.yaml:5:14: spec.templates: directory \"./my-templates\" holds no "
         "files",
     }},
    {"tempo_receiver_enum.yaml",
     {
         "tempo_receiver_enum.yaml:6:36: spec.components.tempo.receivers[1]: \"otlp-http\" is not "
         "one of otlp_grpc, otlp_http, jaeger_grpc, jaeger_thrift_http, zipkin; did you mean "
         "\"otlp_http\"?",
         "tempo_receiver_enum.yaml:6:47: spec.components.tempo.receivers[2]: \"kafka\" is not one "
         "of otlp_grpc, otlp_http, jaeger_grpc, jaeger_thrift_http, zipkin",
     }},
    {"two_documents.yaml",
     {
         "two_documents.yaml:6:1: expected one document, found 2",
     }},
    {"unknown_component.yaml",
     {
         "unknown_component.yaml:6:5: spec.components.lokii: unknown component \"lokii\"; did you "
         "mean \"loki\"?",
         "unknown_component.yaml:7:5: spec.components.jaeger: unknown component \"jaeger\"",
     }},
    {"unknown_key_did_you_mean.yaml",
     {
         "unknown_key_did_you_mean.yaml:7:7: spec.components.prometheus.scrap: unknown key "
         "\"scrap\"; did you mean \"scrape\"?",
     }},
    {"unknown_key_plain.yaml",
     {
         "unknown_key_plain.yaml:5:3: metadata.colour: unknown key \"colour\"",
     }},
    {"unsupported_tag.yaml",
     {
         "unsupported_tag.yaml:5:11: spec.values: unsupported tag \"!custom\"",
     }},
    {"webhook_url.yaml",
     {
         "webhook_url.yaml:10:27: spec.components.alertmanager.receivers[0].webhook[0].url: "
         "\"ftp://example/x\" is not an http(s) URL",
         "webhook_url.yaml:10:75: spec.components.alertmanager.receivers[0].webhook[2]: missing "
         "required key \"url\"",
     }},
    {"wrong_api_version.yaml",
     {
         "wrong_api_version.yaml:1:13: apiVersion: apiVersion must be \"obsforge/v1\"",
         "wrong_api_version.yaml:2:7: kind: kind must be \"Stack\"",
     }},
    {"wrong_types.yaml",
     {
         "wrong_types.yaml:6:24: spec.components.grafana.enabled: expected a boolean (true or "
         "false), got a string",
         "wrong_types.yaml:6:39: spec.components.grafana.org_id: expected an integer, got a string",
         "wrong_types.yaml:6:53: spec.components.grafana.version: expected a string, got a number",
         "wrong_types.yaml:7:26: spec.components.loki.auth_enabled: expected a boolean (true or "
         "false), got an integer",
         "wrong_types.yaml:7:37: spec.components.loki.limits: expected a map, got a list",
     }},
    {"yaml_syntax_error.yaml",
     {
         "yaml_syntax_error.yaml:6:1: invalid YAML: end of sequence flow not found",
     }},
};

class BadSpecTest : public testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSpecTest, ReportsEveryDiagnostic) {
  const auto& c = GetParam();
  const auto text = ReadTestFile(kTestData + "/bad/" + c.file);
  ASSERT_FALSE(text.empty()) << c.file;
  const auto content = MakeDirectorySource(kTestData + "/root");
  try {
    (void)ParseStack(text, c.file, *content);
    FAIL() << c.file << " was accepted";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.kind(), core::InputError::Kind::kInvalidSpec);
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics()) {
      got.push_back(d.ToString());
      EXPECT_EQ(d.file, c.file);
    }
    EXPECT_EQ(got, c.diagnostics);
  }
}

INSTANTIATE_TEST_SUITE_P(Table,
                         BadSpecTest,
                         testing::ValuesIn(kBadSpecs),
                         [](const testing::TestParamInfo<BadSpecCase>& info) {
                           std::string name;
                           for (const char ch : info.param.file) {
                             name += std::isalnum(static_cast<unsigned char>(ch)) != 0 ? ch : '_';
                           }
                           return name;
                         });

TEST(BadSpecTableTest, CoversEveryFileInTestdata) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kTestData + "/bad")) {
    const auto name = entry.path().filename().string();
    ++files;
    EXPECT_TRUE(std::any_of(std::begin(kBadSpecs), std::end(kBadSpecs),
                            [&](const BadSpecCase& c) { return c.file == name; }))
        << name << " has no expected diagnostics";
  }
  EXPECT_EQ(files, std::size(kBadSpecs));
  EXPECT_GE(files, 30U);
}

TEST(BadSpecTest, DiagnosticCarriesStructuredFields) {
  const auto content = MakeMemorySource({});
  try {
    (void)ParseStack(
        "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n"
        "  health: {interval: 5x}\n",
        "s.yaml", *content);
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1U);
    EXPECT_EQ(e.diagnostics()[0],
              (core::Diagnostic{.file = "s.yaml",
                                .line = 5,
                                .column = 22,
                                .path = "spec.health.interval",
                                .message = "\"5x\" is not a duration (e.g. 30s, 5m, 1h30m)"}));
  }
}

}  // namespace
}  // namespace obsforge::spec
