#include "control/trust.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/health_watcher.h"
#include "control/stack_scope.h"
#include "control_test_util.h"

namespace obsforge::control {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::ExternalStack;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TempDir;

class ConfigRootsTest : public ::testing::Test {
 protected:
  ConfigRootsTest() {
    fs::create_directories(dir_.path() / "roots/team-a");
    fs::create_directories(dir_.path() / "elsewhere");
    fs::create_directories(dir_.path() / "var");
  }

  std::vector<core::Diagnostic> Problems(const std::string& config_dir,
                                         std::vector<fs::path> roots) const {
    const TrustPolicy policy({.config_roots = std::move(roots)}, dir_.path() / "var", nullptr);
    return policy.Problems(
        ExternalStack("shop", "{type: external, prometheus: {config_dir: '" + config_dir + "'}}"));
  }
  fs::path Root() const { return dir_.path() / "roots"; }

  TempDir dir_;
};

TEST_F(ConfigRootsTest, NoRootsMeansNoConfigDirAndSaysWhatToConfigure) {
  const auto problems = Problems("/etc/prometheus", {});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].path, "spec.environments.prod.runtime.prometheus.config_dir");
  EXPECT_EQ(problems[0].file, "body");
  EXPECT_THAT(problems[0].message,
              HasSubstr("/etc/prometheus is not under an allowed config root"));
  EXPECT_THAT(problems[0].message, HasSubstr("allowed roots: none"));
  EXPECT_THAT(problems[0].message, HasSubstr("external.config_roots"));
}

TEST_F(ConfigRootsTest, ADirectoryUnderARootIsAllowedEvenBeforeItExists) {
  EXPECT_THAT(Problems((Root() / "team-a").string(), {Root()}), IsEmpty());
  EXPECT_THAT(Problems((Root() / "team-a/not/yet").string(), {Root()}), IsEmpty());
  EXPECT_THAT(Problems(Root().string(), {Root()}), IsEmpty());
}

TEST_F(ConfigRootsTest, DotDotSymlinksAndLookAlikesCannotEscape) {
  fs::create_directory_symlink(dir_.path() / "elsewhere", Root() / "team-a/link");
  const std::string roots = "allowed roots: " + Root().string();
  for (const std::string& escape :
       {(Root() / "team-a/../../elsewhere").string(), (Root() / "team-a/link").string(),
        (Root() / "team-a/link/deeper").string(),
        (Root() / "team-a/new/../../../elsewhere").string(), Root().string() + "-evil/x",
        std::string("/etc")}) {
    const auto problems = Problems(escape, {Root()});
    ASSERT_EQ(problems.size(), 1U) << escape;
    EXPECT_THAT(problems[0].message, HasSubstr(roots)) << escape;
  }
}

TEST_F(ConfigRootsTest, TheDataDirectoryIsNeverAConfigDir) {
  // Even when the operator's root holds the data directory.
  auto data = Problems((dir_.path() / "var/stacks/other").string(), {dir_.path()});
  ASSERT_EQ(data.size(), 1U);
  EXPECT_THAT(data[0].message, HasSubstr("overlaps obsforge's data directory"));
  auto around = Problems(dir_.path().string(), {dir_.path()});
  ASSERT_EQ(around.size(), 1U);
  EXPECT_THAT(around[0].message, HasSubstr("overlaps obsforge's data directory"));
}

TEST_F(ConfigRootsTest, CheckThrowsEveryProblemOfEveryEnvironment) {
  const TrustPolicy policy({.config_roots = {Root()}}, dir_.path() / "var", nullptr);
  const auto stack = ExternalStack(
      "shop",
      "{type: external, prometheus: {config_dir: /etc/p}, alertmanager: {config_dir: /etc/a}}");
  try {
    policy.Check(stack);
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    std::vector<std::string> paths;
    for (const auto& d : e.diagnostics()) {
      paths.push_back(d.path);
    }
    EXPECT_THAT(paths, ElementsAre("spec.environments.prod.runtime.alertmanager.config_dir",
                                   "spec.environments.prod.runtime.prometheus.config_dir"));
  }
  EXPECT_NO_THROW(policy.Check(ExternalStack("shop", "{type: local}")));
}

TEST(StackScopeTest, NamesAndGlobs) {
  const StackScope all;
  EXPECT_TRUE(all.All());
  EXPECT_TRUE(all.Allows("anything"));
  const StackScope team(std::vector<std::string>{"team-a-*", "shop", "[xy]-web"});
  EXPECT_FALSE(team.All());
  EXPECT_TRUE(team.Allows("team-a-web"));
  EXPECT_TRUE(team.Allows("shop"));
  EXPECT_TRUE(team.Allows("x-web"));
  EXPECT_FALSE(team.Allows("team-b-web"));
  EXPECT_FALSE(team.Allows("shop2"));
  EXPECT_FALSE(team.Allows("z-web"));
  EXPECT_FALSE(StackScope(std::vector<std::string>{}).Allows("shop"));
  EXPECT_TRUE(StackScope::From(std::nullopt).All());
  EXPECT_EQ(ScopePatternProblem("team-*"), "");
  EXPECT_THAT(ScopePatternProblem(""), HasSubstr("empty"));
  EXPECT_THAT(ScopePatternProblem("../x"), HasSubstr("is not a stack name or glob"));
}

// With per-stack secrets, the same reference in two stacks may be two values: health resolves it
// for its own stack, and keeps their Slack channels apart.
TEST(HealthSecrets, ResolvedPerStackAndChannelsKeyedByStack) {
  const auto stack = ExternalStack(
      "shop", "{type: external, grafana: {url: 'http://grafana:3000', token: {secret: TOKEN}}}",
      "  health:\n    slack: {webhook: {secret: HOOK}, channel: '#ops'}\n");
  HealthDefaults defaults{
      .env_lookup = [](const std::string&) -> std::optional<std::string> { return "process"; },
      .stack_env = [](const std::string& name) -> core::EnvLookup {
        return [name](const std::string& key) -> std::optional<std::string> {
          return name + ":" + key;
        };
      }};
  const auto settings = WatchFor(stack, "prod", {{"grafana", "http://grafana:3000"}}, defaults);
  EXPECT_EQ(settings.watch.slack_channel_key, "shop/{secret: HOOK}");
  EXPECT_EQ(settings.watch.endpoints.grafana_token.Reveal(), "shop:TOKEN");
  defaults.stack_env = nullptr;
  const auto process = WatchFor(stack, "prod", {{"grafana", "http://grafana:3000"}}, defaults);
  EXPECT_EQ(process.watch.slack_channel_key, "{secret: HOOK}");
  EXPECT_EQ(process.watch.endpoints.grafana_token.Reveal(), "process");
}

}  // namespace
}  // namespace obsforge::control
