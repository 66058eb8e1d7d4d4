#include "gitops/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"

namespace obsforge::gitops {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;

TEST(SourceConfigTest, ParsesTheDocumentedBlock) {
  const auto sources = ParseSources(json::parse(R"([{
      "repo": "https://git.example/obs.git", "branch": "main", "path": "stacks/", "poll": "60s",
      "auto_apply": ["dev", "staging"], "prune": false,
      "webhook_secret": {"secret": "GITOPS_WEBHOOK_SECRET"}, "token": {"secret": "GIT_TOKEN"},
      "token_user": "oauth2"}, {"repo": "file:///srv/obs.git"}])"),
                                    "obsforge.yaml");
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].repo, "https://git.example/obs.git");
  EXPECT_EQ(sources[0].path, "stacks/");
  EXPECT_EQ(sources[0].poll, std::chrono::seconds(60));
  EXPECT_THAT(sources[0].auto_apply, ElementsAre("dev", "staging"));
  EXPECT_FALSE(sources[0].prune);
  EXPECT_EQ(sources[0].webhook_secret, (core::SecretRef{.name = "GITOPS_WEBHOOK_SECRET"}));
  EXPECT_EQ(sources[0].token, (core::SecretRef{.name = "GIT_TOKEN"}));
  EXPECT_EQ(sources[0].token_user, "oauth2");
  EXPECT_EQ(sources[0].Key(), "https://git.example/obs.git#main:stacks/");
  EXPECT_EQ(sources[1].branch, "main");
  EXPECT_EQ(sources[1].path, ".");
  EXPECT_EQ(sources[1].poll, std::chrono::minutes(1));
  EXPECT_TRUE(ParseSources(json(nullptr), "x.yaml").empty());
}

TEST(SourceConfigTest, KeyHidesCredentialsInTheUrl) {
  const SourceConfig source{.repo = "https://u:tok@git.example/obs.git"};
  EXPECT_EQ(source.Key(), "https://<secret>@git.example/obs.git#main:.");
}

TEST(SourceConfigTest, ReportsEveryProblem) {
  try {
    (void)ParseSources(json::parse(R"([{"branch": "main", "poll": "soon", "prune": "yes",
        "auto_apply": ["dev", 3], "webhook_secret": "plain", "colour": "blue"}, 7,
        {"repo": "file:///a"}, {"repo": "file:///a"}])"),
                       "obsforge.yaml");
    FAIL() << "no exception";
  } catch (const core::InputError& e) {
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) {
      lines.push_back(d.ToString());
    }
    EXPECT_THAT(lines,
                ElementsAre("obsforge.yaml: gitops[0].auto_apply[1]: must be an environment name",
                            "obsforge.yaml: gitops[0].colour: unknown field",
                            "obsforge.yaml: gitops[0].poll: must be a duration like 30s, 5m or 1h",
                            "obsforge.yaml: gitops[0].prune: must be true or false",
                            "obsforge.yaml: gitops[0].webhook_secret: must be {secret: NAME} or "
                            "{secret_file: PATH}",
                            "obsforge.yaml: gitops[0].repo: is required",
                            "obsforge.yaml: gitops[1]: must be a map",
                            "obsforge.yaml: gitops[3]: the same repo, branch and path are already "
                            "a source"));
  }
}

std::optional<std::chrono::milliseconds> Poll(const std::string& text) {
  try {
    return ParseSources(json::array({{{"repo", "file:///a"}, {"poll", text}}}), "obsforge.yaml")
        .at(0)
        .poll;
  } catch (const core::InputError&) {
    return std::nullopt;
  }
}

TEST(SourceConfigTest, PollIsAPositivePrometheusDuration) {
  EXPECT_EQ(Poll("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(Poll("30s"), std::chrono::seconds(30));
  EXPECT_EQ(Poll("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(Poll("2h"), std::chrono::hours(2));
  EXPECT_EQ(Poll("1d"), std::chrono::hours(24));  // the one grammar: days too
  EXPECT_FALSE(Poll("0s"));
  EXPECT_FALSE(Poll("0"));
  EXPECT_FALSE(Poll(""));
  EXPECT_FALSE(Poll("10"));
  EXPECT_FALSE(Poll("-5s"));
  EXPECT_FALSE(Poll("1m1h"));
}

}  // namespace
}  // namespace obsforge::gitops
