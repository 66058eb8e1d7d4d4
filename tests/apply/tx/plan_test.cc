#include "apply/plan.h"

#include <gtest/gtest.h>

namespace obsforge::apply {
namespace {

render::Bundle MakeBundle(std::initializer_list<std::pair<const char*, const char*>> files) {
  render::Bundle b;
  for (const auto& [path, content] : files) {
    b.Add(path, content);
  }
  return b;
}

TEST(Plan, FirstApplyAddsEveryFile) {
  const auto desired =
      MakeBundle({{"prometheus/prometheus.yml", "a: 1\n"}, {"MANIFEST.json", "{}\n"}});
  const auto plan = ComputePlan(desired, std::nullopt);
  ASSERT_EQ(plan.files.size(), 2U);
  EXPECT_EQ(plan.files[0].path, "MANIFEST.json");
  EXPECT_EQ(plan.files[0].change, ChangeKind::kAdded);
  EXPECT_EQ(plan.files[1].diff,
            "--- /dev/null\n+++ b/prometheus/prometheus.yml\n@@ -0,0 +1 @@\n+a: 1\n");
  EXPECT_EQ(plan.summary.added, 2);
  EXPECT_EQ(plan.summary.changed, 0);
  EXPECT_EQ(plan.summary.removed, 0);
  EXPECT_EQ(plan.Components(), std::set<std::string>{"prometheus"});
}

TEST(Plan, AddedChangedRemovedInPathOrderAndUnchangedLeftOut) {
  const auto applied = MakeBundle({{"alertmanager/alertmanager.yml", "route: {}\n"},
                                   {"loki/loki.yaml", "x: 1\n"},
                                   {"prometheus/prometheus.yml", "same\n"}});
  const auto desired = MakeBundle({{"alertmanager/alertmanager.yml", "route: {receiver: a}\n"},
                                   {"otel-collector/config.yaml", "r: 1\n"},
                                   {"prometheus/prometheus.yml", "same\n"}});
  const auto plan = ComputePlan(desired, applied);
  ASSERT_EQ(plan.files.size(), 3U);
  EXPECT_EQ(plan.files[0].path, "alertmanager/alertmanager.yml");
  EXPECT_EQ(plan.files[0].change, ChangeKind::kChanged);
  EXPECT_EQ(plan.files[1].path, "loki/loki.yaml");
  EXPECT_EQ(plan.files[1].change, ChangeKind::kRemoved);
  EXPECT_EQ(plan.files[1].diff, "--- a/loki/loki.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x: 1\n");
  EXPECT_EQ(plan.files[2].path, "otel-collector/config.yaml");
  EXPECT_EQ(plan.files[2].change, ChangeKind::kAdded);
  EXPECT_EQ(plan.Components(), (std::set<std::string>{"alertmanager", "loki", "otel_collector"}));

  EXPECT_EQ(plan.ToText(),
            "--- a/alertmanager/alertmanager.yml\n+++ b/alertmanager/alertmanager.yml\n"
            "@@ -1 +1 @@\n-route: {}\n+route: {receiver: a}\n"
            "--- a/loki/loki.yaml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x: 1\n"
            "--- /dev/null\n+++ b/otel-collector/config.yaml\n@@ -0,0 +1 @@\n+r: 1\n"
            "Plan: 1 to add, 1 to change, 1 to remove.\n");
  const auto json = plan.ToJson();
  EXPECT_EQ(json["summary"],
            (nlohmann::json{{"added", 1},
                            {"changed", 1},
                            {"removed", 1},
                            {"objects", {{"create", 0}, {"update", 0}, {"delete", 0}}}}));
  EXPECT_EQ(json["files"][1]["change"], "removed");
  EXPECT_EQ(json["files"][1]["path"], "loki/loki.yaml");
  EXPECT_EQ(json["files"][1]["diff"], plan.files[1].diff);
}

TEST(Plan, IdenticalBundlesPlanNothing) {
  const auto b = MakeBundle({{"prometheus/prometheus.yml", "a\n"}});
  const auto plan = ComputePlan(b, b);
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.ToText(), "No changes.\n");
  EXPECT_EQ(
      plan.ToJson().dump(),
      R"({"conflicts":[],"files":[],"notes":[],"objects":[],"summary":{"added":0,"changed":0,)"
      R"("objects":{"create":0,"delete":0,"update":0},"removed":0}})");
}

TEST(Plan, ComponentOfPath) {
  EXPECT_EQ(ComponentOfPath("prometheus/rules/a.yaml"), "prometheus");
  EXPECT_EQ(ComponentOfPath("otel-collector/config.yaml"), "otel_collector");
  EXPECT_EQ(ComponentOfPath("MANIFEST.json"), "");
  EXPECT_EQ(ComponentOfPath("secrets/x"), "");
}

TEST(Plan, ComponentFilesKeepsOnlyThatComponent) {
  const auto b = MakeBundle({{"prometheus/prometheus.yml", "p"},
                             {"prometheus/rules/a.yaml", "r"},
                             {"alertmanager/alertmanager.yml", "a"}});
  const auto files = ComponentFiles(b, "prometheus");
  ASSERT_EQ(files.files().size(), 2U);
  EXPECT_NE(files.Find("prometheus/rules/a.yaml"), nullptr);
}

}  // namespace
}  // namespace obsforge::apply
