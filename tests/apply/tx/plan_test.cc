#include "apply/plan.h"

#include <string>

#include <gtest/gtest.h>

#include "core/diagnostic.h"

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

std::string NumberedLines(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    out += "line " + std::to_string(i) + "\n";
  }
  return out;
}

TEST(Plan, LongDiffsAreCutWithANoteAndKeptWholeInThePlan) {
  render::Bundle big;
  big.Add("grafana/dashboards/big.json", NumberedLines(5000));
  big.Add("small.yml", "a\n");
  const auto plan = ComputePlan(big, std::nullopt);
  ASSERT_EQ(plan.files.size(), 2U);
  // The plan itself holds the whole diff: 3 header lines and 5000 added lines.
  EXPECT_TRUE(plan.files[0].diff.ends_with("+line 5000\n"));

  const auto json = plan.ToJson();
  const std::string expected_start =
      "--- /dev/null\n+++ b/grafana/dashboards/big.json\n@@ -0,0 +1,5000 @@\n+line 1\n";
  const auto& cut = json["files"][0];
  EXPECT_EQ(cut["diff"].get<std::string>().rfind(expected_start, 0), 0U);
  EXPECT_TRUE(cut["diff"].get<std::string>().ends_with(
      "+line 996\n+line 997\n... diff cut after 1000 of 5003 lines (4003 not shown)\n"));
  EXPECT_EQ(cut["diff_cut"], true);
  EXPECT_EQ(cut["diff_lines"], 5003);
  EXPECT_FALSE(json["files"][1].contains("diff_cut"));
  EXPECT_FALSE(json["files"][1].contains("diff_lines"));
  EXPECT_EQ(json["files"][1]["diff"], plan.files[1].diff);

  const auto text = plan.ToText();
  EXPECT_NE(text.find("+line 997\n... diff cut after 1000 of 5003 lines (4003 not shown)\n"
                      "--- /dev/null\n+++ b/small.yml\n"),
            std::string::npos);
  EXPECT_EQ(text.find("+line 998\n"), std::string::npos);

  const auto full = plan.ToJson(DiffLimit{.max_lines = 0});
  EXPECT_EQ(full["files"][0]["diff"], plan.files[0].diff);
  EXPECT_FALSE(full["files"][0].contains("diff_cut"));
  EXPECT_NE(plan.ToText(DiffLimit{.max_lines = 0}).find("+line 5000\n"), std::string::npos);

  EXPECT_EQ(plan.ToJson(DiffLimit{.max_lines = 4})["files"][0]["diff"],
            "--- /dev/null\n+++ b/grafana/dashboards/big.json\n@@ -0,0 +1,5000 @@\n+line 1\n"
            "... diff cut after 4 of 5003 lines (4999 not shown)\n");
}

TEST(Plan, CutDiffKeepsADiffOfExactlyTheLimit) {
  const std::string diff = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
  const auto exact = CutDiff(diff, DiffLimit{.max_lines = 5});
  EXPECT_EQ(exact.text, diff);
  EXPECT_EQ(exact.total_lines, 5U);
  EXPECT_FALSE(exact.cut);
  const auto one_less = CutDiff(diff, DiffLimit{.max_lines = 4});
  EXPECT_EQ(one_less.text,
            "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n... diff cut after 4 of 5 lines (1 not shown)\n");
  EXPECT_TRUE(one_less.cut);
}

TEST(Plan, DiffLimitFromTheFullQueryParameter) {
  EXPECT_EQ(DiffLimitFromQuery(std::nullopt).max_lines, kDefaultDiffLines);
  EXPECT_EQ(DiffLimitFromQuery("false").max_lines, kDefaultDiffLines);
  EXPECT_EQ(DiffLimitFromQuery("true").max_lines, 0U);
  for (const char* bad : {"", "1", "yes", "TRUE", "true "}) {
    try {
      (void)DiffLimitFromQuery(std::string(bad));
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const core::InputError& e) {
      ASSERT_EQ(e.diagnostics().size(), 1U);
      EXPECT_EQ(e.diagnostics()[0].file, "query");
      EXPECT_EQ(e.diagnostics()[0].path, "full");
      EXPECT_EQ(e.diagnostics()[0].message, "must be true or false");
    }
  }
}

}  // namespace
}  // namespace obsforge::apply
