// A Grafana built by hand (hand_built_grafana.h) is imported, the spec is rendered from the text
// written, and applied back with the provisioner.
#include <algorithm>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_grafana.h"
#include "http/curl_http_client.h"
#include "importer/hand_built_grafana.h"
#include "importer/import.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/ownership.h"
#include "render/render.h"
#include "render/yaml_json.h"
#include "spec/stack.h"

namespace obsforge::importer {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using ::testing::HasSubstr;
using ::testing::Not;

const http::CurlGlobal kCurlGlobal;

using testing::kDatasourcePassword;
using testing::kSlackUrl;

class GrafanaImport : public ::testing::Test {
 protected:
  ImportResult ImportIt(bool adopt) {
    auto snapshot = ReadGrafana(client_, grafana_.url(), "basic", "admin");
    EXPECT_TRUE(snapshot.ok()) << snapshot.error().message;
    ImportRequest request{.name = "shop", .grafana = *snapshot, .adopt = adopt};
    return Import(request);
  }

  // The bundle `obsforge render` makes of what import wrote.
  static render::Bundle Render(const ImportResult& result) {
    std::map<std::string, std::string> files = result.files;
    files[result.spec_path] = result.spec_yaml;
    const auto content = spec::MakeMemorySource(files);
    const auto stack = spec::ParseStack(result.spec_yaml, result.spec_path, *content);
    return render::RenderEnvironment(spec::ForEnvironment(stack, "prod"), *content,
                                     render::RenderOptions{});
  }

  // The user sets each secret the report lists to the value it had.
  core::EnvLookup Secrets(const ImportResult& result) {
    std::map<std::string, std::string> values;
    for (const auto& s : result.report.secrets) {
      const std::string from = s.from.front();
      values[s.name] = from.find("basicAuthPassword") != std::string::npos ? kDatasourcePassword
                       : from.find("contact point") != std::string::npos   ? kSlackUrl
                                                                           : "unexpected";
    }
    return [values](const std::string& name) -> std::optional<std::string> {
      const auto it = values.find(name);
      return it == values.end() ? std::nullopt : std::optional(it->second);
    };
  }

  core::Result<provision::ApplyReport> Apply(const render::Bundle& bundle,
                                             const core::EnvLookup& env) {
    provision::GrafanaProvisioner provisioner({.owner = owner_, .revision = "1"}, client_, ledger_,
                                              env);
    return provisioner.Apply(provision::LoadDesiredGrafana(bundle, owner_));
  }

  fakes::FakeGrafana grafana_;
  testing::HandBuiltGrafana built_{grafana_};
  http::CurlHttpClient curl_;
  provision::GrafanaClient client_{
      {.base_url = grafana_.url(), .basic_user = "admin", .basic_password = core::Secret("admin")},
      curl_};
  provision::Owner owner_{.stack = "shop", .env = "prod"};
  provision::InMemoryLedger ledger_;
};

TEST_F(GrafanaImport, KeepsUidsAndTheFolderTreeAndWritesNoSecret) {
  const ImportResult result = ImportIt(/*adopt=*/false);
  SCOPED_TRACE(result.report.ToText());
  EXPECT_THAT(result.spec_yaml, Not(HasSubstr("s3cr3t")));
  for (const auto& [path, text] : result.files) {
    EXPECT_THAT(text, Not(HasSubstr("s3cr3t"))) << path;
  }
  // Folder structure kept as directories.
  std::set<std::string> paths;
  for (const auto& [path, text] : result.files) {
    paths.insert(path);
  }
  EXPECT_EQ(paths,
            (std::set<std::string>{
                "alerts/shop/grafana/shop.yaml", "dashboards/shop/home.json",
                "dashboards/shop/platform/node.json", "dashboards/shop/shop/payments/payments.json",
                "dashboards/shop/shop/shop-overview.json", "dashboards/shop/welcome.json"}));
  const json spec = json(result.spec)["spec"];
  EXPECT_EQ(spec["folders"],
            json::parse(R"([{"uid":"platform","title":"Platform"},{"uid":"shop","title":"Shop"},
                            {"uid":"shop-payments","title":"Payments","parent_uid":"shop"}])"));
  const json& datasources = spec["components"]["grafana"]["datasources"];
  ASSERT_EQ(datasources.size(), 2U);
  EXPECT_EQ(datasources[0]["uid"], "loki-main");
  EXPECT_EQ(datasources[1]["uid"], "prom-main");
  ASSERT_TRUE(datasources[1]["secureJsonData"]["basicAuthPassword"].contains("secret"));

  // Dashboards without server-managed fields; the leftover input points at this Grafana's
  // Prometheus.
  const json payments = json::parse(result.files.at("dashboards/shop/shop/payments/payments.json"));
  for (const char* field : {"id", "version", "__inputs", "__requires"}) {
    EXPECT_FALSE(payments.contains(field)) << field;
  }
  EXPECT_EQ(payments["panels"][0]["datasource"]["uid"], "prom-main");

  // Secrets: the one Grafana never returns, and the one it masks.
  ASSERT_EQ(result.report.secrets.size(), 2U);
  std::string origins;
  for (const auto& s : result.report.secrets) {
    origins += s.name + ": " + s.from.front() + "\n";
  }
  EXPECT_THAT(origins, HasSubstr("secureJsonData.basicAuthPassword"));
  EXPECT_THAT(origins, HasSubstr("contact point \"shop-slack\""));
  // Without --adopt nothing is taken over.
  EXPECT_FALSE(spec["components"]["grafana"].contains("adopt"));
  EXPECT_TRUE(result.report.adopted.empty());
  // The provisioned dashboard is left to its files.
  EXPECT_THAT(origins + json(result.report.review).dump(), HasSubstr("from-files"));
}

TEST_F(GrafanaImport, WithoutAdoptAnApplyReportsConflictsAndWritesNothingOfTheirs) {
  const ImportResult result = ImportIt(/*adopt=*/false);
  auto applied = Apply(Render(result), Secrets(result));
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, core::ErrorCode::kConflict) << applied.error().message;
  EXPECT_THAT(applied.error().message, HasSubstr("prom-main"));
  for (const char* write : {"POST /api/dashboards/db", "PUT /api/datasources/uid/{uid}",
                            "PUT /api/v1/provisioning/contact-points/{uid}",
                            "PUT /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}"}) {
    EXPECT_EQ(grafana_.Writes(write), 0) << write;
  }
  EXPECT_EQ(ledger_.size(), 0U);
}

TEST_F(GrafanaImport, AdoptedStackAppliesOnceThenMakesZeroWritesAndIsOwned) {
  const json before = grafana_.State();
  const ImportResult result = ImportIt(/*adopt=*/true);
  SCOPED_TRACE(result.report.ToText());
  // Datasources, folders, dashboards, the rule group, and the contact points: shop-slack and
  // the default one Grafana makes (its notification policy names it).
  EXPECT_EQ(result.report.adopted.size(), 2U + 3U + 5U + 1U + 2U);
  const render::Bundle bundle = Render(result);

  auto first = Apply(bundle, Secrets(result));
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Nothing was created: every object was taken over where it is.
  EXPECT_EQ(grafana_.Writes("POST /api/datasources"), 0);
  EXPECT_EQ(grafana_.Writes("POST /api/folders"), 0);
  EXPECT_EQ(grafana_.Writes("POST /api/v1/provisioning/contact-points"), 0);
  const json after = grafana_.State();
  EXPECT_EQ(after["datasources"].size(), before["datasources"].size());
  EXPECT_EQ(after["dashboards"].size(), before["dashboards"].size());
  EXPECT_EQ(after["alertRules"].size(), before["alertRules"].size());
  EXPECT_EQ(after["contactPoints"].size(), before["contactPoints"].size());
  // The secrets reached Grafana, and the dashboard still reads the same datasource.
  EXPECT_EQ(grafana_.Datasource("prom-main")->at("secureJsonData")["basicAuthPassword"],
            kDatasourcePassword);
  EXPECT_EQ((*grafana_.Dashboard("payments"))["panels"][0]["datasource"]["uid"], "prom-main");

  grafana_.ResetCounters();
  auto second = Apply(bundle, Secrets(result));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(grafana_.TotalWrites(), 0) << json(grafana_.server().WriteCounts()).dump();
  EXPECT_TRUE(second->plan.empty());

  // Owned from now on: recorded, so prune can remove what leaves the spec.
  for (const auto& uid : {"prom-main", "loki-main"}) {
    EXPECT_TRUE(ledger_.Find(provision::ObjectKind::kDatasource, uid).has_value()) << uid;
  }
  for (const auto& uid : {"shop-overview", "payments", "node", "home"}) {
    EXPECT_TRUE(ledger_.Find(provision::ObjectKind::kDashboard, uid).has_value()) << uid;
  }
  EXPECT_TRUE(ledger_.Find(provision::ObjectKind::kContactPoint, "shop-slack").has_value());

  ImportResult without_home = result;
  without_home.files.erase("dashboards/shop/home.json");
  auto pruned = Apply(Render(without_home), Secrets(result));
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_FALSE(grafana_.Dashboard("home").has_value());
  EXPECT_TRUE(grafana_.Dashboard("from-files").has_value());  // never adopted, never touched
}

}  // namespace
}  // namespace obsforge::importer
