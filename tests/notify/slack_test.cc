#include "notify/slack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsforge::notify {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

std::size_t Chars(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0u) != 0x80u ? 1 : 0;
  }
  return n;
}

// Checks every Block Kit limit of docs/upstream-apis.md §6 on `message`.
void ExpectWithinLimits(const json& message) {
  ASSERT_TRUE(message.contains("text"));
  EXPECT_FALSE(message["text"].get<std::string>().empty());
  ASSERT_TRUE(message["blocks"].is_array());
  EXPECT_LE(message["blocks"].size(), 50u);
  for (const auto& block : message["blocks"]) {
    const std::string type = block["type"];
    if (type == "header") {
      EXPECT_LE(Chars(block["text"]["text"]), 150u);
    } else if (type == "section" && block.contains("text")) {
      EXPECT_LE(Chars(block["text"]["text"]), 3000u);
    } else if (type == "section") {
      EXPECT_LE(block["fields"].size(), 10u);
      for (const auto& field : block["fields"]) {
        EXPECT_LE(Chars(field["text"]), 2000u);
      }
    } else if (type == "context") {
      EXPECT_LE(block["elements"].size(), 10u);
    }
  }
}

TEST(TruncateChars, CutsOnCharacterBoundariesWithAnEllipsis) {
  EXPECT_EQ(TruncateChars("abcdef", 6), "abcdef");
  EXPECT_EQ(TruncateChars("abcdef", 4), "abc…");
  EXPECT_EQ(TruncateChars("ééééé", 3), "éé…");
  EXPECT_EQ(TruncateChars("abc", 0), "");
}

TEST(EscapeMrkdwn, EscapesControlCharacters) {
  EXPECT_EQ(EscapeMrkdwn("a<b>&c"), "a&lt;b&gt;&amp;c");
}

TEST(EnvironmentMessage, DegradedNamesTheFailingCheckAndItsError) {
  EnvironmentReport report{.stack = "demo",
                           .env = "dev",
                           .state = "degraded",
                           .previous_state = "ok",
                           .at = "2026-01-01T00:00:00.000Z",
                           .components = {{"alertmanager", "ok", "3/3 checks ok"},
                                          {"prometheus", "down", "0/5 checks ok"}},
                           .failing = {{"prometheus", "ready", "GET http://x/-/ready: refused",
                                        "2026-01-01T00:00:00.000Z"}},
                           .grafana_url = "http://grafana:3000/d/x"};
  const json message = EnvironmentMessage(report);
  ExpectWithinLimits(message);
  EXPECT_EQ(message["blocks"][0]["text"]["text"], "demo/dev is degraded");
  EXPECT_EQ(message["text"],
            "demo/dev is degraded (was ok): prometheus/ready: GET http://x/-/ready: refused");
  EXPECT_EQ(message["blocks"][2]["fields"].size(), 2u);
  EXPECT_THAT(message["blocks"][3]["text"]["text"].get<std::string>(),
              HasSubstr("```GET http://x/-/ready: refused```"));
  EXPECT_EQ(message["blocks"].back()["text"]["text"], "<http://grafana:3000/d/x|Open Grafana>");
}

TEST(EnvironmentMessage, RecoveryHeader) {
  const json message = EnvironmentMessage(
      {.stack = "demo", .env = "dev", .state = "ok", .previous_state = "degraded"});
  EXPECT_EQ(message["blocks"][0]["text"]["text"], "demo/dev recovered");
  EXPECT_EQ(message["text"], "demo/dev recovered (was degraded)");
}

TEST(EnvironmentMessage, HugeFailureListStaysWithinLimits) {
  EnvironmentReport report{
      .stack = std::string(200, 's'), .env = "prod", .state = "down", .previous_state = "ok"};
  for (int i = 0; i < 30; ++i) {
    report.components.push_back({"component" + std::to_string(i), "down", std::string(3000, 'd')});
  }
  for (int i = 0; i < 500; ++i) {
    report.failing.push_back(
        {"prometheus", "check" + std::to_string(i), std::string(10000, 'e'), "since"});
  }
  report.grafana_url = "http://grafana/";
  const json message = EnvironmentMessage(report);
  ExpectWithinLimits(message);
  EXPECT_EQ(message["blocks"].size(), 50u);
  // 1 header + 1 summary + 3 field sections (30 components) + 43 failing + "more" + link.
  EXPECT_EQ(message["blocks"][48]["elements"][0]["text"], "…and 457 more failing checks");
  EXPECT_EQ(message["blocks"][49]["text"]["text"], "<http://grafana/|Open Grafana>");
  const std::string header = message["blocks"][0]["text"]["text"];
  EXPECT_EQ(Chars(header), 150u);
  EXPECT_TRUE(header.ends_with("…"));
  // The cut error keeps its closing code fence.
  EXPECT_TRUE(message["blocks"][5]["text"]["text"].get<std::string>().ends_with("…```"));
}

TEST(ApplyMessage, RolledBackCarriesTheReason) {
  const json message = ApplyMessage({.stack = "demo",
                                     .env = "prod",
                                     .outcome = ApplyReport::Outcome::kRolledBack,
                                     .revision = 7,
                                     .rolled_back_to = 6,
                                     .reason = "prometheus: reload failed"});
  ExpectWithinLimits(message);
  EXPECT_EQ(message["text"],
            ":leftwards_arrow_with_hook: demo/prod: apply rolled back: prometheus: reload failed");
  EXPECT_EQ(message["blocks"][1]["text"]["text"],
            "Applying revision 7 to *demo/prod* failed and was rolled back to revision 6.");
  EXPECT_EQ(message["blocks"][2]["text"]["text"], "*Reason*\n```prometheus: reload failed```");
}

TEST(ApplyMessage, Succeeded) {
  const json message = ApplyMessage({.stack = "demo", .env = "dev", .revision = 3});
  EXPECT_EQ(message["text"], ":white_check_mark: demo/dev: apply succeeded");
  EXPECT_EQ(message["blocks"].size(), 2u);
}

TEST(BrokenCommitMessage, SaysTheLastGoodStaysAndListsFindings) {
  std::string findings;
  for (int i = 0; i < 400; ++i) {
    findings += "stacks/shop.yaml:" + std::to_string(i + 1) + ":3: spec.bogus: unknown key\n";
  }
  const json message = BrokenCommitMessage({.source = "file:///repo#main:stacks",
                                            .sha = "0123456789abcdef0123",
                                            .stacks = {"cart", "shop"},
                                            .summary = "0123456 broken: 400 problems",
                                            .findings = findings,
                                            .operation_id = "op-9"});
  ExpectWithinLimits(message);
  EXPECT_EQ(message["text"],
            ":x: gitops: commit 0123456789ab is broken: 0123456 broken: 400 problems");
  EXPECT_EQ(message["blocks"][1]["text"]["text"],
            "Commit `0123456789ab` of gitops source `file:///repo#main:stacks`: 0123456 broken: "
            "400 problems. Nothing was applied to *cart*, *shop*; the last good commit stays live. "
            "Operation `op-9`.");
  EXPECT_THAT(message["blocks"][2]["text"]["text"].get<std::string>(),
              HasSubstr("*Findings*\n```stacks/shop.yaml:1:3: spec.bogus: unknown key"));

  const json bare = BrokenCommitMessage({.sha = "abc", .summary = "abc broken"});
  EXPECT_EQ(bare["blocks"][0]["text"]["text"], ":x: gitops: commit abc is broken");
  EXPECT_EQ(bare["blocks"].size(), 2u);
}

}  // namespace
}  // namespace obsforge::notify
