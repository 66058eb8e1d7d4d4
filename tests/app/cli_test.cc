// The command line as a user drives it: exit codes, messages, files written.
#include "app/cli.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/tool_check.h"
#include "core/fs.h"
#include <unistd.h>

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("obs-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "stacks");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path WriteSpec(const std::string& name, const std::string& text) {
    const auto path = dir_ / "stacks" / name;
    core::WriteFileAtomic(path, text);
    return path;
  }

  int Validate(const std::vector<fs::path>& specs, bool strict = false) {
    out_.str("");
    err_.str("");
    return RunValidate({.specs = specs, .strict = strict}, Io{out_, err_});
  }

  int Render(const fs::path& spec,
             const std::string& env,
             const fs::path& out,
             bool check = false) {
    out_.str("");
    err_.str("");
    return RunRender({.input = {.spec = spec}, .env = env, .out = out, .check = check},
                     Io{out_, err_});
  }

  static constexpr const char* kMinimal = R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: mini}
spec:
  components:
    prometheus: {}
    alertmanager:
      route: {receiver: default}
      receivers: [{name: default}]
)";

  fs::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliTest, ValidateAcceptsAGoodSpec) {
  const auto spec = WriteSpec("mini.yaml", kMinimal);
  EXPECT_EQ(Validate({spec}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("mini.yaml: ok (1 environment)"));
}

TEST_F(CliTest, ValidateReportsEveryErrorWithItsPosition) {
  const auto spec = WriteSpec("bad.yaml", R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: Bad_Name}
spec:
  components:
    prometheus:
      scrap: []
)");
  EXPECT_EQ(Validate({spec}), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("bad.yaml:3:18: metadata.name:"));
  EXPECT_THAT(err_.str(), HasSubstr("bad.yaml:7:7: spec.components.prometheus.scrap: unknown key "
                                    "\"scrap\"; did you mean \"scrape\"?"));
}

TEST_F(CliTest, ValidateChecksEverySpecGiven) {
  const auto good = WriteSpec("mini.yaml", kMinimal);
  const auto bad =
      WriteSpec("bad.yaml", "apiVersion: obsforge/v2\nkind: Stack\nmetadata: {name: b}\n");
  EXPECT_EQ(Validate({good, bad}), kExitFailed);
  EXPECT_THAT(out_.str(), HasSubstr("mini.yaml: ok"));
  EXPECT_THAT(err_.str(), HasSubstr("bad.yaml:1:13: apiVersion:"));
}

TEST_F(CliTest, RenderWritesTheBundleAndReplacesOnlyWhatItWrote) {
  const auto spec = WriteSpec("mini.yaml", kMinimal);
  const auto out = dir_ / "out";
  fs::create_directories(out);
  core::WriteFileAtomic(out / "NOTES.txt", "mine");
  ASSERT_EQ(Render(spec, "default", out), kExitOk) << err_.str();
  EXPECT_TRUE(fs::exists(out / "prometheus/prometheus.yml"));
  EXPECT_TRUE(fs::exists(out / "alertmanager/alertmanager.yml"));
  EXPECT_TRUE(fs::exists(out / "MANIFEST.json"));

  // Drop Alertmanager: its files go, the user's file stays.
  WriteSpec("mini.yaml", R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: mini}
spec:
  components:
    prometheus: {}
)");
  ASSERT_EQ(Render(spec, "default", out), kExitOk) << err_.str();
  EXPECT_FALSE(fs::exists(out / "alertmanager/alertmanager.yml"));
  EXPECT_TRUE(fs::exists(out / "prometheus/prometheus.yml"));
  EXPECT_EQ(core::ReadFile(out / "NOTES.txt"), "mine");
}

TEST_F(CliTest, RenderCheckPrintsADiffWhenStale) {
  const auto spec = WriteSpec("mini.yaml", kMinimal);
  const auto out = dir_ / "out";
  ASSERT_EQ(Render(spec, "default", out), kExitOk) << err_.str();
  EXPECT_EQ(Render(spec, "default", out, /*check=*/true), kExitOk) << out_.str();

  std::ofstream(out / "prometheus/prometheus.yml", std::ios::app) << "# hand edit\n";
  EXPECT_EQ(Render(spec, "default", out, /*check=*/true), kExitFailed);
  EXPECT_THAT(out_.str(), HasSubstr("--- a/prometheus/prometheus.yml"));
  EXPECT_THAT(out_.str(), HasSubstr("-# hand edit"));
  EXPECT_THAT(err_.str(), HasSubstr("is stale"));
}

TEST_F(CliTest, StrictValidationParsesAlertmanagerTemplatesWithAmtool) {
  if (!FindOnPath("amtool")) {
    if (std::getenv("CI") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
      FAIL() << "CI must have amtool";
    }
    GTEST_SKIP() << "amtool not installed";
  }
  const auto spec = WriteSpec("mini.yaml", std::string(kMinimal) + "      templates: [notify/*]\n");
  core::WriteFileAtomic(dir_ / "notify/team.tmpl", "{{ define \"team\" }}{{ .Status }}{{ end }}\n");
  EXPECT_EQ(Validate({spec}, /*strict=*/true), kExitOk) << err_.str();

  // Alertmanager would refuse to start (or reload) with it; amtool says where.
  core::WriteFileAtomic(dir_ / "notify/team.tmpl", "{{ define \"team\" }}{{ .Status \n");
  EXPECT_EQ(Validate({spec}, /*strict=*/true), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("alertmanager/templates/*.tmpl"));
  EXPECT_THAT(err_.str(), HasSubstr("amtool check-config:"));
  EXPECT_THAT(err_.str(), HasSubstr("team.tmpl:"));
  EXPECT_THAT(err_.str(), HasSubstr("unclosed action"));
}

TEST_F(CliTest, PlanCutsLongDiffsUnlessFullIsAsked) {
  std::string rules = "groups:\n- name: many\n  rules:\n";
  for (int i = 0; i < 700; ++i) {
    rules += "  - record: r" + std::to_string(i) + "\n    expr: vector(1)\n";
  }
  core::WriteFileAtomic(dir_ / "alerts/many.yaml", rules);
  const auto spec =
      WriteSpec("mini.yaml", std::string(kMinimal) +
                                 "  alerts:\n    - {path: alerts/*.yaml, type: prometheus}\n");
  EnvCommandOptions options{.input = {.spec = spec}, .env = "default", .data_dir = dir_ / "var"};
  ASSERT_EQ(RunPlan(options, Io{out_, err_}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("\n... diff cut after 1000 of "));
  EXPECT_THAT(out_.str(), Not(HasSubstr("- record: r699\n")));
  EXPECT_THAT(out_.str(), HasSubstr("Plan: "));

  out_.str("");
  options.full_diff = true;
  ASSERT_EQ(RunPlan(options, Io{out_, err_}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), Not(HasSubstr("diff cut")));
  EXPECT_THAT(out_.str(), HasSubstr("- record: r699\n"));
}

TEST_F(CliTest, RenderOfAnUnknownEnvironmentFails) {
  const auto spec = WriteSpec("mini.yaml", kMinimal);
  EXPECT_EQ(Render(spec, "qa", dir_ / "out"), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("unknown environment \"qa\""));
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(CliTest, NoSecretValueReachesRenderedFiles) {
  ::setenv("OBS_CLI_TEST_SLACK", "https://hooks.example.test/T00/B00/very-secret-value", 1);
  const auto spec = WriteSpec("sec.yaml", R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: sec}
spec:
  components:
    alertmanager:
      route: {receiver: slack}
      receivers:
        - name: slack
          slack: {channel: "#alerts", webhook: {secret: OBS_CLI_TEST_SLACK}}
    grafana:
      admin: {user: admin, password: {secret: OBS_CLI_TEST_SLACK}}
)");
  const auto out = dir_ / "out";
  ASSERT_EQ(Render(spec, "default", out), kExitOk) << err_.str();
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (entry.is_regular_file()) {
      EXPECT_THAT(core::ReadFile(entry.path()), Not(HasSubstr("very-secret-value")))
          << entry.path();
    }
  }
  EXPECT_THAT(core::ReadFile(out / "alertmanager/alertmanager.yml"), HasSubstr("api_url_file:"));
}

TEST_F(CliTest, RepoModeRendersEveryStackThatHasTheEnvironment) {
  WriteSpec("mini.yaml", kMinimal);
  WriteSpec("staged.yaml", R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: staged}
spec:
  components: {prometheus: {}}
  environments:
    dev: {runtime: {type: local}}
    prod: {runtime: {type: external, prometheus: {config_dir: /etc/prometheus}}}
)");
  const auto out = dir_ / "rendered";
  RenderCliOptions options{.env = "prod", .out = out};
  options.repo = dir_;
  out_.str("");
  err_.str("");
  ASSERT_EQ(RunRender(options, Io{out_, err_}), kExitOk) << err_.str();
  EXPECT_TRUE(fs::exists(out / "staged/prometheus/prometheus.yml"));
  EXPECT_FALSE(fs::exists(out / "mini"));
  EXPECT_THAT(err_.str(), HasSubstr("mini.yaml has no environment prod; skipped"));

  options.check = true;
  err_.str("");
  EXPECT_EQ(RunRender(options, Io{out_, err_}), kExitOk) << err_.str();
  std::ofstream(out / "staged/prometheus/prometheus.yml", std::ios::app) << "# stale\n";
  out_.str("");
  EXPECT_EQ(RunRender(options, Io{out_, err_}), kExitFailed);
  EXPECT_THAT(out_.str(), HasSubstr("-# stale"));
  EXPECT_THAT(err_.str(), HasSubstr("rendered output is stale"));
}

TEST_F(CliTest, RepoModeWithoutStacksIsAUsageError) {
  RenderCliOptions options{.env = "prod", .out = dir_ / "out"};
  options.repo = dir_ / "empty";
  EXPECT_EQ(RunRender(options, Io{out_, err_}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("no stacks (*.yaml) in"));
}

// `obsforge import` of a hand-built stack: the files land under --out, no secret value among
// them, and what was written validates (with promtool and amtool) as it is.
TEST_F(CliTest, ImportWritesASpecThatValidatesAndNoSecret) {
  const fs::path fixture =
      fs::path(OBS_SOURCE_DIR) / "tests/importer/testdata/roundtrip/full-stack";
  ImportCliOptions options{.prometheus_config = fixture / "prometheus.yml",
                           .alertmanager_config = fixture / "alertmanager.yml",
                           .loki_config = fixture / "loki.yaml",
                           .tempo_config = fixture / "tempo.yaml",
                           .name = "shop",
                           .out = dir_ / "repo",
                           .urls = {{"prometheus", "http://127.0.0.1:9090"}}};
  ASSERT_EQ(RunImport(options, Io{out_, err_}), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("imported stack shop (environment prod)"));
  EXPECT_THAT(out_.str(), HasSubstr("SHOP_ALERTMANAGER_RECEIVERS_SLACK_SLACK_API_URL <- "));
  EXPECT_THAT(out_.str(), HasSubstr("next: obsforge plan "));
  std::set<std::string> written;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "repo")) {
    if (e.is_regular_file()) {
      written.insert(fs::relative(e.path(), dir_ / "repo").generic_string());
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      EXPECT_THAT(text.str(), Not(HasSubstr("s3cr3t"))) << e.path();
    }
  }
  EXPECT_EQ(written,
            (std::set<std::string>{"alerts/shop/loki/shop.yaml", "alerts/shop/prometheus/shop.yaml",
                                   "alerts/shop/templates/shop.tmpl", "stacks/shop.yaml"}));
  const auto spec = dir_ / "repo/stacks/shop.yaml";
  EXPECT_EQ(Validate({spec}, /*strict=*/true), kExitOk) << err_.str();

  // Files of an earlier import are replaced only when asked.
  out_.str("");
  err_.str("");
  EXPECT_EQ(RunImport(options, Io{out_, err_}), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("exists (an earlier import?): give --force"));
  options.force = true;
  options.json = true;
  out_.str("");
  ASSERT_EQ(RunImport(options, Io{out_, err_}), kExitOk) << err_.str();
  const auto report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["spec"], "stacks/shop.yaml");
  EXPECT_EQ(report["secrets"].size(), 2U);
}

TEST_F(CliTest, ImportOfAMissingFileFailsNamingIt) {
  EXPECT_EQ(RunImport({.prometheus_config = dir_ / "nope.yml", .name = "shop", .out = dir_},
                      Io{out_, err_}),
            kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("nope.yml: not found or not a file"));
  std::vector<std::string> args = {"obsforge", "import", "--out", dir_.string()};  // no --name
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  EXPECT_EQ(Main(static_cast<int>(argv.size()), argv.data()), kExitUsage);
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  std::vector<std::string> args = {"obsforge", "render", "x.yaml"};  // no --env/--out
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  EXPECT_EQ(Main(static_cast<int>(argv.size()), argv.data()), kExitUsage);
  std::vector<std::string> bogus = {"obsforge", "frobnicate"};
  std::vector<char*> argv2;
  for (auto& a : bogus) {
    argv2.push_back(a.data());
  }
  EXPECT_EQ(Main(static_cast<int>(argv2.size()), argv2.data()), kExitUsage);
}

TEST_F(CliTest, VersionNamesTheLibraries) {
  EXPECT_EQ(RunVersion(Io{out_, err_}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("obsforge "));
  EXPECT_THAT(out_.str(), HasSubstr("libjsonnet v0.18"));
  EXPECT_THAT(out_.str(), HasSubstr("poco 1.11"));
}

}  // namespace
}  // namespace obsforge::app
