// The onboarding path end to end, as a user runs it: a stack built by hand — Debian's Prometheus
// and Alertmanager running on their own configuration files (with rule files and notification
// templates), Loki and Tempo configuration files, and a Grafana filled through its UI (the fake)
// — is imported with `obsforge import --adopt`, then applied twice with `obsforge apply`. The first
// apply takes everything over (both servers reload the rendered files and keep their rules and
// receivers); after it the plan is empty and the second apply writes nothing, to the files or to
// Grafana.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/commands.h"
#include "core/fs.h"
#include "fakes/fake_grafana.h"
#include "http/curl_http_client.h"
#include "importer/hand_built_grafana.h"
#include "render/yaml_json.h"
#include "support/poll_until.h"
#include "support/real_upstreams.h"

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

const fs::path kFixture = fs::path(OBS_SOURCE_DIR) / "tests/importer/testdata/roundtrip/full-stack";
const http::CurlGlobal kCurlGlobal;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ImportE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("obs-import-e2e-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // The hand-built layout: one folder per component, as under /etc.
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"prometheus.yml", "prometheus/prometheus.yml"},
             {"rules/prometheus/shop.yml", "prometheus/rules/prometheus/shop.yml"},
             {"alertmanager.yml", "alertmanager/alertmanager.yml"},
             {"templates/shop.tmpl", "alertmanager/templates/shop.tmpl"},
             {"loki.yaml", "loki/loki.yaml"},
             {"loki-rules/shop/shop.yaml", "loki/loki-rules/shop/shop.yaml"},
             {"tempo.yaml", "tempo/tempo.yaml"}}) {
      core::WriteFileAtomic(Etc() / to, Slurp(kFixture / from));
    }
  }
  void TearDown() override {
    for (const auto& name : set_env_) {
      ::unsetenv(name.c_str());
    }
    if (!HasFailure()) {
      fs::remove_all(dir_);
    }
  }

  fs::path Etc() const { return dir_ / "etc"; }

  // The value a reported secret had: in its configuration file, or in Grafana.
  std::string OriginalValue(const json& secret) {
    const std::string component = secret["component"];
    if (component == "grafana") {
      const std::string from = secret["from"][0];
      return from.find("contact point") != std::string::npos
                 ? importer::testing::kSlackUrl
                 : importer::testing::kDatasourcePassword;
    }
    const std::string file = component == "prometheus"     ? "prometheus/prometheus.yml"
                             : component == "alertmanager" ? "alertmanager/alertmanager.yml"
                             : component == "loki"         ? "loki/loki.yaml"
                                                           : "tempo/tempo.yaml";
    const json original = json(render::ParseYaml(Slurp(Etc() / file), file));
    return original[json::json_pointer(secret["pointers"][0].get<std::string>())];
  }

  void SetEnv(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    set_env_.insert(name);
  }

  json Get(const std::string& url) {
    auto response = http_.Send({.url = url});
    EXPECT_TRUE(response.ok() && response->status == 200) << url;
    return response.ok() ? json::parse(response->body, nullptr, false) : json();
  }

  // Rule group names Prometheus has loaded, and receivers Alertmanager has.
  std::set<std::string> RuleGroups(const std::string& prometheus) {
    std::set<std::string> out;
    const json rules = Get(prometheus + "/api/v1/rules");
    for (const auto& g : rules["data"]["groups"]) {
      out.insert(g["name"].get<std::string>());
    }
    return out;
  }
  std::set<std::string> Receivers(const std::string& alertmanager) {
    std::set<std::string> out;
    const json receivers = Get(alertmanager + "/api/v2/receivers");
    for (const auto& r : receivers) {
      out.insert(r["name"].get<std::string>());
    }
    return out;
  }

  fs::path dir_;
  std::set<std::string> set_env_;
  http::CurlHttpClient http_;
};

TEST_F(ImportE2E, HandBuiltStackIsAdoptedAndASecondApplyChangesNothing) {
  REQUIRE_BINARY(prometheus_bin, "prometheus");
  REQUIRE_BINARY(alertmanager_bin, "prometheus-alertmanager");
  const int prom_port = obsforge::testing::FreeLoopbackPort();
  const int am_port = obsforge::testing::FreeLoopbackPort();
  const std::string prometheus = "http://127.0.0.1:" + std::to_string(prom_port);
  const std::string alertmanager = "http://127.0.0.1:" + std::to_string(am_port);
  fs::create_directories(dir_ / "data");
  obsforge::testing::UpstreamProcess prom(
      *prometheus_bin,
      {"--config.file=" + (Etc() / "prometheus/prometheus.yml").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--web.enable-lifecycle",
       "--storage.tsdb.path=" + (dir_ / "data/prometheus").string()},
      dir_ / "data/prometheus.log");
  obsforge::testing::UpstreamProcess am(
      *alertmanager_bin,
      {"--config.file=" + (Etc() / "alertmanager/alertmanager.yml").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
       "--cluster.listen-address=", "--storage.path=" + (dir_ / "data/alertmanager").string()},
      dir_ / "data/alertmanager.log");
  ASSERT_TRUE(obsforge::testing::WaitUntilReady(http_, prometheus + "/-/ready"));
  ASSERT_TRUE(obsforge::testing::WaitUntilReady(http_, alertmanager + "/-/ready"));
  fakes::FakeGrafana grafana;
  const importer::testing::HandBuiltGrafana built(grafana);
  // Prometheus answers ready before its rule manager lists the groups it loaded.
  std::set<std::string> groups_before;
  obsforge::testing::PollUntil(
      [&] {
        groups_before = RuleGroups(prometheus);
        return !groups_before.empty();
      },
      std::chrono::seconds(60));
  const std::set<std::string> receivers_before = Receivers(alertmanager);
  ASSERT_FALSE(groups_before.empty());
  const json grafana_before = grafana.State();

  // obsforge import ... --adopt --json
  std::ostringstream out;
  std::ostringstream err;
  const ImportCliOptions import{
      .prometheus_config = Etc() / "prometheus/prometheus.yml",
      .alertmanager_config = Etc() / "alertmanager/alertmanager.yml",
      .loki_config = Etc() / "loki/loki.yaml",
      .tempo_config = Etc() / "tempo/tempo.yaml",
      .grafana = grafana.url(),
      .name = "shop",
      .out = dir_ / "repo",
      .urls = {{"prometheus", prometheus}, {"alertmanager", alertmanager}},
      .adopt = true,
      .json = true,
      .env_lookup = [](const std::string& name) -> std::optional<std::string> {
        return name == "GRAFANA_PASSWORD" ? std::optional<std::string>("admin") : std::nullopt;
      }};
  ASSERT_EQ(RunImport(import, Io{out, err}), kExitOk) << err.str();
  const json report = json::parse(out.str());
  for (const auto& line : report["review"]) {
    EXPECT_THAT(line.get<std::string>(), ::testing::Not(HasSubstr("renders back different")));
    EXPECT_THAT(line.get<std::string>(), ::testing::Not(HasSubstr("refused")));
  }
  ASSERT_EQ(grafana.TotalWrites(), 0);  // importing only reads

  // The user sets every secret the report lists, then applies.
  for (const auto& secret : report["secrets"]) {
    SetEnv(secret["name"], OriginalValue(secret));
  }
  SetEnv("GRAFANA_PASSWORD", "admin");
  const EnvCommandOptions apply{
      .input = {.spec = dir_ / "repo/stacks/shop.yaml"}, .env = "prod", .data_dir = dir_ / "var"};
  out.str("");
  err.str("");
  ASSERT_EQ(RunApply(apply, Io{out, err}), kExitOk) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("applied"));
  // Both servers run the rendered files now (reloaded and verified by the apply), with the
  // same rules and receivers.
  EXPECT_THAT(Slurp(Etc() / "prometheus/prometheus.yml"), HasSubstr("rules/*.yaml"));
  EXPECT_EQ(RuleGroups(prometheus), groups_before);
  EXPECT_EQ(Receivers(alertmanager), receivers_before);
  // Grafana: taken over where it was, nothing created, nothing lost.
  const json grafana_after = grafana.State();
  for (const char* kind : {"datasources", "folders", "dashboards", "alertRules", "contactPoints"}) {
    EXPECT_EQ(grafana_after[kind].size(), grafana_before[kind].size()) << kind;
  }

  out.str("");
  ASSERT_EQ(RunPlan(apply, Io{out, err}), kExitOk) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("No changes."));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("Objects:")));

  grafana.ResetCounters();
  const std::string prometheus_yml = Slurp(Etc() / "prometheus/prometheus.yml");
  out.str("");
  ASSERT_EQ(RunApply(apply, Io{out, err}), kExitOk) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("unchanged"));
  EXPECT_EQ(grafana.TotalWrites(), 0) << json(grafana.server().WriteCounts()).dump();
  EXPECT_EQ(Slurp(Etc() / "prometheus/prometheus.yml"), prometheus_yml);
}

}  // namespace
}  // namespace obsforge::app
