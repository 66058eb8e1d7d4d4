#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;

const std::string kTestData = std::string(OBS_SOURCE_DIR) + "/tests/spec/testdata";

StackSpec FullStack() {
  std::ifstream in(kTestData + "/good/full.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  const auto content = MakeDirectorySource(kTestData + "/root");
  return ParseStack(text.str(), "full.yaml", *content);
}

StackSpec Parse(const std::string& text) {
  const auto content = MakeMemorySource({});
  return ParseStack(text, "s.yaml", *content);
}

TEST(ForEnvironmentTest, MergesTheEnvironmentOverSpec) {
  const auto prod = ForEnvironment(FullStack(), "prod");
  EXPECT_EQ(prod.stack, "tokpulse");
  EXPECT_EQ(prod.env, "prod");
  const auto& spec = prod.merged["spec"];
  EXPECT_FALSE(spec.contains("environments"));
  EXPECT_EQ(prod.merged["metadata"]["name"], "tokpulse");
  // maps merge recursively; null deletes
  EXPECT_EQ(spec["values"]["retention"], json({{"metrics", "90d"}, {"traces", "7d"}}));
  EXPECT_EQ(spec["values"]["scrape_interval"], "15s");
  // lists replace; the rest of the component stays
  EXPECT_EQ(spec["components"]["prometheus"]["remote_write"],
            json::parse(R"([{"url": "https://metrics.example/api/v1/push"}])"));
  EXPECT_EQ(spec["components"]["prometheus"]["scrape"][0]["job"], "tokpulse-api");
}

TEST(ForEnvironmentTest, EveryComponentGetsEnabled) {
  const auto stack = FullStack();
  const auto prod = ForEnvironment(stack, "prod");
  const auto& prod_components = prod.merged["spec"]["components"];
  EXPECT_EQ(prod_components["prometheus"]["enabled"], true);        // present, no `enabled`
  EXPECT_EQ(prod_components["alertmanager"]["enabled"], true);      // `enabled: true`
  EXPECT_EQ(prod_components["tempo"], json({{"enabled", false}}));  // removed by prod (null)
  EXPECT_EQ(prod_components["otel_collector"]["enabled"], false);   // `enabled: false`
  EXPECT_EQ(prod_components["otel_collector"]["sampling"]["ratio"], 0.5);
  const auto dev = ForEnvironment(stack, "dev");
  EXPECT_EQ(dev.merged["spec"]["components"]["otel_collector"]["enabled"], true);
  EXPECT_EQ(dev.merged["spec"]["components"]["tempo"]["enabled"], true);
  EXPECT_EQ(dev.merged["spec"]["values"]["scrape_interval"], "30s");
}

TEST(ForEnvironmentTest, AbsentAndBareComponents) {
  const auto stack = Parse(
      "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n  components:\n"
      "    loki:\n");
  const auto env = ForEnvironment(stack, "default");
  const auto& components = env.merged["spec"]["components"];
  EXPECT_EQ(components["loki"], json({{"enabled", true}}));
  for (const auto& name : ComponentNames()) {
    ASSERT_TRUE(components.contains(name)) << name;
    EXPECT_EQ(components[name]["enabled"], name == "loki") << name;
  }
  const auto no_components = ForEnvironment(
      Parse("apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec: {}\n"), "default");
  EXPECT_EQ(no_components.merged["spec"]["components"].size(), ComponentNames().size());
}

TEST(ForEnvironmentTest, ParsesTheRuntime) {
  const auto stack = FullStack();
  const auto prod = ForEnvironment(stack, "prod");
  EXPECT_EQ(prod.runtime.type, Runtime::Type::kExternal);
  ASSERT_EQ(prod.runtime.components.size(), 3U);
  const auto& prom = prod.runtime.components.at("prometheus");
  EXPECT_EQ(prom.url, "http://prom.prod:9090");
  EXPECT_EQ(prom.config_dir, "/etc/prometheus");
  EXPECT_EQ(prod.runtime.components.at("loki").tenant, "tokpulse");
  const auto& grafana = prod.runtime.components.at("grafana");
  ASSERT_TRUE(grafana.token.has_value());
  EXPECT_EQ(grafana.token->ToString(), "{secret: GRAFANA_TOKEN}");
  EXPECT_EQ(grafana.user, "admin");
  ASSERT_TRUE(grafana.password.has_value());
  EXPECT_EQ(grafana.password->name, "GRAFANA_PASSWORD");
  EXPECT_FALSE(grafana.port.has_value());

  const auto dev = ForEnvironment(stack, "dev");
  EXPECT_EQ(dev.runtime.type, Runtime::Type::kLocal);
  EXPECT_EQ(dev.runtime.components.at("grafana").port, 3300);
  EXPECT_EQ(dev.runtime.components.at("grafana").url, "");
}

TEST(ForEnvironmentTest, DefaultEnvironmentIsLocal) {
  const auto stack =
      Parse("apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n  values: {a: 1}\n");
  ASSERT_EQ(stack.environments, (std::vector<std::string>{"default"}));
  const auto env = ForEnvironment(stack, "default");
  EXPECT_EQ(env.env, "default");
  EXPECT_EQ(env.runtime.type, Runtime::Type::kLocal);
  EXPECT_TRUE(env.runtime.components.empty());
  EXPECT_EQ(env.merged["spec"]["values"], json({{"a", 1}}));
  EXPECT_EQ(env.merged["apiVersion"], "obsforge/v1");
}

TEST(ForEnvironmentTest, UnknownEnvironment) {
  const auto stack = FullStack();
  try {
    (void)ForEnvironment(stack, "qa");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.kind(), core::InputError::Kind::kInvalidSpec);
    EXPECT_STREQ(e.what(), "full.yaml: unknown environment \"qa\"");
  }
  try {
    (void)ForEnvironment(stack, "prd");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_STREQ(e.what(), "full.yaml: unknown environment \"prd\"; did you mean \"prod\"?");
  }
  EXPECT_THROW((void)ForEnvironment(stack, "default"), core::InputError);
}

TEST(ForEnvironmentTest, EnvironmentsMayOverrideWithNullAndRemoveWhatIsReferenced) {
  // prod drops the receivers list the route needs: only the merged result shows it.
  const std::string text =
      "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n  components:\n"
      "    alertmanager:\n      route: {receiver: team}\n      receivers: [{name: team}]\n"
      "  environments:\n    dev: {runtime: {type: local}}\n"
      "    prod:\n      runtime: {type: local}\n      components:\n"
      "        alertmanager: {receivers: null}\n";
  try {
    (void)Parse(text);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "s.yaml:7:25: spec.components.alertmanager.route.receiver: route receiver "
                 "\"team\" is not defined in receivers (in environment \"prod\")");
  }
}

TEST(ForEnvironmentTest, MergedFindingsPointIntoTheEnvironment) {
  // The bad receiver is written in the environment: the position is there, reported once.
  const std::string text =
      "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n  components:\n"
      "    alertmanager:\n      receivers: [{name: team}]\n"
      "  environments:\n    prod:\n      runtime: {type: local}\n      components:\n"
      "        alertmanager: {route: {receiver: nobody}}\n";
  try {
    (void)Parse(text);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_STREQ(e.what(),
                 "s.yaml:12:42: spec.components.alertmanager.route.receiver: route receiver "
                 "\"nobody\" is not defined in receivers (in environment \"prod\")");
  }
}

TEST(StackRootTest, Cases) {
  EXPECT_EQ(StackRoot("repo/stacks/tokpulse.yaml", std::nullopt), "repo");
  EXPECT_EQ(StackRoot("/abs/repo/stacks/tokpulse.yaml", std::nullopt), "/abs/repo");
  EXPECT_EQ(StackRoot("stacks/tokpulse.yaml", std::nullopt), ".");
  EXPECT_EQ(StackRoot("repo/specs/tokpulse.yaml", std::nullopt), "repo/specs");
  EXPECT_EQ(StackRoot("tokpulse.yaml", std::nullopt), ".");
  EXPECT_EQ(StackRoot("repo/./stacks/x.yaml", std::nullopt), "repo");
  EXPECT_EQ(StackRoot("repo/stacks/x.yaml", std::filesystem::path("/content")), "/content");
  EXPECT_EQ(StackRoot("repo/stacks/team/x.yaml", std::nullopt), "repo/stacks/team");
}

TEST(LokiTenantTest, TheStackByDefaultTheRuntimesTenantAndFakeWithoutAuth) {
  const std::string head = "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: shop}\nspec:\n";
  const auto stack = Parse(head +
                           "  components: {loki: {}}\n"
                           "  environments:\n"
                           "    dev: {runtime: {type: local}}\n"
                           "    prod: {runtime: {type: external, loki: {url: 'http://l:3100', "
                           "tenant: team-a}}}\n"
                           "    single: {runtime: {type: local}, components: {loki: "
                           "{auth_enabled: false}}}\n");
  // Multi-tenant is Loki's default: the stack's name is the tenant unless the runtime names one.
  EXPECT_EQ(LokiTenant(ForEnvironment(stack, "dev")), "shop");
  EXPECT_EQ(LokiTenant(ForEnvironment(stack, "prod")), "team-a");
  // auth_enabled: false files everything under Loki's own tenant, whatever the runtime says.
  EXPECT_EQ(LokiTenant(ForEnvironment(stack, "single")), "fake");
}

}  // namespace
}  // namespace obsforge::spec
