// Alertmanager notification templates (`components.alertmanager.templates`) rendered with the
// default templates: copied into alertmanager/templates/, listed in MANIFEST.json, and named by
// alertmanager.yml where they are deployed.
#include <map>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "core/hash.h"
#include "render/render.h"
#include "render/yaml_json.h"
#include "spec/stack.h"

namespace obsforge::render {
namespace {

using nlohmann::json;

constexpr const char* kSlackTemplate =
    "{{ define \"slack.shop.title\" }}[{{ .Status | toUpper }}] "
    "{{ .CommonLabels.alertname }}{{ end }}\n";
constexpr const char* kLinksTemplate =
    "{{ define \"slack.shop.links\" }}{{ range .Alerts }}{{ .GeneratorURL }}\n{{ end }}{{ end }}\n";

std::string Spec(const std::string& templates, bool alertmanager = true) {
  return "apiVersion: obsforge/v1\n"
         "kind: Stack\n"
         "metadata: {name: shop}\n"
         "spec:\n"
         "  components:\n"
         "    prometheus: {enabled: true}\n"
         "    alertmanager:\n"
         "      enabled: " +
         std::string(alertmanager ? "true" : "false") +
         "\n"
         "      route: {receiver: team}\n"
         "      receivers:\n"
         "        - name: team\n"
         "          slack:\n"
         "            channel: '#shop'\n"
         "            webhook: {secret: SHOP_SLACK}\n"
         "            title: '{{ template \"slack.shop.title\" . }}'\n" +
         templates +
         "  environments:\n"
         "    dev: {runtime: {type: local}}\n"
         "    prod:\n"
         "      runtime:\n"
         "        type: external\n"
         "        alertmanager: {url: 'http://am.prod:9093', config_dir: /etc/alertmanager}\n";
}

const std::map<std::string, std::string> kFiles = {
    {"notify/slack.tmpl", kSlackTemplate},
    {"notify/links.tmpl", kLinksTemplate},
};

Bundle RenderSpec(const std::string& spec_text,
                  const std::string& env = "dev",
                  const std::map<std::string, std::string>& files = kFiles) {
  const auto content = spec::MakeMemorySource(files);
  const auto stack = spec::ParseStack(spec_text, "shop.yaml", *content);
  return RenderEnvironment(spec::ForEnvironment(stack, env), *content, RenderOptions{});
}

json TemplatesOf(const Bundle& bundle) {
  const auto* config = bundle.Find("alertmanager/alertmanager.yml");
  EXPECT_NE(config, nullptr);
  const auto parsed = ParseYaml(config == nullptr ? "" : *config, "alertmanager.yml");
  return parsed.contains("templates") ? json(parsed["templates"]) : json();
}

TEST(AlertmanagerTemplates, CopiedIntoTheBundleAndListedInTheManifest) {
  const auto bundle = RenderSpec(Spec("      templates: [notify/*.tmpl]\n"));
  ASSERT_NE(bundle.Find("alertmanager/templates/slack.tmpl"), nullptr);
  EXPECT_EQ(*bundle.Find("alertmanager/templates/slack.tmpl"), kSlackTemplate);
  ASSERT_NE(bundle.Find("alertmanager/templates/links.tmpl"), nullptr);
  EXPECT_EQ(*bundle.Find("alertmanager/templates/links.tmpl"), kLinksTemplate);

  const auto manifest = json::parse(*bundle.Find("MANIFEST.json"));
  EXPECT_EQ(manifest["files"]["alertmanager/templates/slack.tmpl"],
            core::Sha256Hex(kSlackTemplate));
  EXPECT_EQ(manifest["files"]["alertmanager/templates/links.tmpl"],
            core::Sha256Hex(kLinksTemplate));

  EXPECT_EQ(
      TemplatesOf(bundle),
      json::array({"/var/lib/obsforge/stacks/shop/dev/current/alertmanager/templates/*.tmpl"}));
}

TEST(AlertmanagerTemplates, ExternalRuntimeNamesItsConfigDir) {
  const auto bundle = RenderSpec(Spec("      templates: [notify/*.tmpl]\n"), "prod");
  EXPECT_EQ(TemplatesOf(bundle), json::array({"/etc/alertmanager/templates/*.tmpl"}));
  EXPECT_NE(bundle.Find("alertmanager/templates/slack.tmpl"), nullptr);
}

TEST(AlertmanagerTemplates, WithoutTemplatesNothingIsCopiedOrNamed) {
  const auto bundle = RenderSpec(Spec(""));
  EXPECT_TRUE(TemplatesOf(bundle).is_null());
  for (const auto& [path, content] : bundle.files()) {
    EXPECT_FALSE(path.starts_with("alertmanager/templates/")) << path;
  }
}

TEST(AlertmanagerTemplates, DisabledAlertmanagerCopiesNothing) {
  const auto bundle = RenderSpec(Spec("      templates: [notify/*.tmpl]\n", false));
  EXPECT_EQ(bundle.Find("alertmanager/alertmanager.yml"), nullptr);
  EXPECT_EQ(bundle.Find("alertmanager/templates/slack.tmpl"), nullptr);
}

// Alertmanager only loads *.tmpl: other names get that extension; two files with one stem keep
// both (the second named after its path); a file matched by two globs is copied once.
TEST(AlertmanagerTemplates, FileNames) {
  const std::map<std::string, std::string> files = {
      {"notify/a/slack.tpl", "{{ define \"a\" }}a{{ end }}"},
      {"notify/b/slack.tmpl", "{{ define \"b\" }}b{{ end }}"},
  };
  const auto bundle = RenderSpec(
      Spec("      templates: [notify/a/*, notify/*/*.tmpl, notify/b/slack.tmpl]\n"), "dev", files);
  std::map<std::string, std::string> copied;
  for (const auto& [path, content] : bundle.files()) {
    if (path.starts_with("alertmanager/templates/")) {
      copied[path] = content;
    }
  }
  EXPECT_EQ(copied,
            (std::map<std::string, std::string>{
                {"alertmanager/templates/slack.tmpl", "{{ define \"a\" }}a{{ end }}"},
                {"alertmanager/templates/notify-b-slack.tmpl", "{{ define \"b\" }}b{{ end }}"}}));
}

TEST(AlertmanagerTemplates, EnvironmentsMayOverrideTheList) {
  std::string spec = Spec("      templates: [notify/slack.tmpl]\n");
  spec +=
      "    staging:\n"
      "      runtime: {type: local}\n"
      "      components:\n"
      "        alertmanager: {templates: [notify/links.tmpl]}\n";
  const auto bundle = RenderSpec(spec, "staging");
  EXPECT_EQ(bundle.Find("alertmanager/templates/slack.tmpl"), nullptr);
  EXPECT_NE(bundle.Find("alertmanager/templates/links.tmpl"), nullptr);
}

TEST(AlertmanagerTemplates, AChangedTemplateChangesTheBundleAndTheInputsHash) {
  const auto before = RenderSpec(Spec("      templates: [notify/*.tmpl]\n"));
  auto files = kFiles;
  files["notify/slack.tmpl"] = "{{ define \"slack.shop.title\" }}changed{{ end }}\n";
  const auto after = RenderSpec(Spec("      templates: [notify/*.tmpl]\n"), "dev", files);
  EXPECT_EQ(*after.Find("alertmanager/templates/slack.tmpl"), files["notify/slack.tmpl"]);
  EXPECT_NE(json::parse(*before.Find("MANIFEST.json"))["inputs_sha256"],
            json::parse(*after.Find("MANIFEST.json"))["inputs_sha256"]);
}

// Validation rejects these first; the renderer still names the entry when given a merged spec
// directly (the server renders stored specs).
TEST(AlertmanagerTemplates, BadEntriesAreErrorsNamingTheirPath) {
  const auto content = spec::MakeMemorySource(kFiles);
  const auto stack =
      spec::ParseStack(Spec("      templates: [notify/*.tmpl]\n"), "shop.yaml", *content);
  const struct {
    json templates;
    std::string message;
  } cases[] = {
      {json::array({"notify/*.tmpl", "none/*.tmpl"}),
       "spec.components.alertmanager.templates[1]: \"none/*.tmpl\" matches no file"},
      {json::array({"../outside/*.tmpl"}),
       "spec.components.alertmanager.templates[0]: \"../outside/*.tmpl\" leaves the stack root"},
      {json::array({42}), "spec.components.alertmanager.templates[0]: must be a path"},
      {json("notify/*.tmpl"), "spec.components.alertmanager.templates: must be a list of paths"},
  };
  for (const auto& c : cases) {
    auto env = spec::ForEnvironment(stack, "dev");
    env.merged["spec"]["components"]["alertmanager"]["templates"] = c.templates;
    try {
      (void)RenderEnvironment(env, *content, RenderOptions{});
      ADD_FAILURE() << "no error for " << c.templates.dump();
    } catch (const core::InputError& e) {
      ASSERT_EQ(e.diagnostics().size(), 1U);
      EXPECT_EQ(e.diagnostics()[0].ToString(), c.message);
    }
  }
}

}  // namespace
}  // namespace obsforge::render
