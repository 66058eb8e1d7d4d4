// The operator's side of the trust model: what obsforge.yaml and the tokens file say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "core/hash.h"
#include "server/auth.h"
#include "server/config.h"

namespace obsforge::server {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Lines(const core::InputError& e) {
  std::vector<std::string> lines;
  for (const auto& d : e.diagnostics()) {
    lines.push_back(d.ToString());
  }
  return lines;
}

TEST(TrustConfig, ConfigRootsResolveAgainstTheConfigFolder) {
  const ServerConfig config = ParseServerConfig("external:\n  config_roots: [/srv/obs, teams]\n",
                                                "/etc/obsforge/obsforge.yaml");
  EXPECT_THAT(
      config.server.trust.config_roots,
      ElementsAre(std::filesystem::path("/srv/obs"), std::filesystem::path("/etc/obsforge/teams")));
  EXPECT_TRUE(
      ParseServerConfig("listen: 127.0.0.1:1\n", "o.yaml").server.trust.config_roots.empty())
      << "no root by default";
}

TEST(TrustConfig, BadExternalSectionsAreListedWithPositions) {
  try {
    (void)ParseServerConfig("external:\n  config_roots: /srv\n  roots: [x]\n", "o.yaml");
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    EXPECT_THAT(Lines(e), ElementsAre("o.yaml:2:17: external.config_roots: must be a list of "
                                      "directories",
                                      "o.yaml:3:3: external.roots: unknown setting"));
  }
}

TEST(TrustConfig, OutboundRangesLimitWhereTheServerConnects) {
  const auto defaults = ParseServerConfig("listen: 127.0.0.1:1\n", "o.yaml").server.trust;
  EXPECT_TRUE(defaults.outbound.Allows("10.1.2.3"));
  EXPECT_FALSE(defaults.outbound.Allows("169.254.169.254")) << "cloud metadata, by default";

  const auto listed =
      ParseServerConfig("outbound:\n  allow: [10.0.0.0/8, 127.0.0.1]\n", "o.yaml").server.trust;
  EXPECT_TRUE(listed.outbound.Allows("10.1.2.3"));
  EXPECT_TRUE(listed.outbound.Allows("127.0.0.1"));
  EXPECT_FALSE(listed.outbound.Allows("192.168.1.1"));
  EXPECT_FALSE(listed.outbound.Allows("169.254.169.254")) << "the default deny list stays";

  const auto opened = ParseServerConfig("outbound:\n  deny: []\n", "o.yaml").server.trust.outbound;
  EXPECT_TRUE(opened.Allows("169.254.169.254")) << "an explicit deny list replaces the default";
}

TEST(TrustConfig, BadOutboundSectionsAreListedWithPositions) {
  try {
    (void)ParseServerConfig(
        "outbound:\n  allow: [10.0.0.0/8, intranet, {a: b}]\n  deny: 10.0.0.0/8\n  ports: [80]\n",
        "o.yaml");
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    EXPECT_THAT(
        Lines(e),
        ElementsAre("o.yaml:2:23: outbound.allow[1]: \"intranet\": not an IP address or range "
                    "(such as 10.0.0.0/8 or fd00::/8)",
                    "o.yaml:2:33: outbound.allow[2]: must be an IP address or range, such as "
                    "10.0.0.0/8",
                    "o.yaml:3:9: outbound.deny: must be a list of IP addresses or ranges",
                    "o.yaml:4:3: outbound.ports: unknown setting"));
  }
  EXPECT_THROW((void)ParseServerConfig("outbound: [10.0.0.0/8]\n", "o.yaml"), core::InputError);
}

TEST(TrustConfig, SecretsSectionKeysAndSharedEntries) {
  const ServerConfig config = ParseServerConfig(
      "secrets:\n"
      "  key_file: secrets.key\n"
      "  previous_key_files: [/etc/obsforge/old.key]\n"
      "  shared:\n"
      "    - {env: SLACK_WEBHOOK, stacks: ['*']}\n"
      "    - {name: GRAFANA_TOKEN, file: grafana.token, stacks: [team-a, team-b-*]}\n",
      "/etc/obsforge/obsforge.yaml");
  const auto& trust = config.server.trust;
  EXPECT_EQ(trust.keys.key_file, "/etc/obsforge/secrets.key");
  EXPECT_THAT(trust.keys.previous_key_files, ElementsAre("/etc/obsforge/old.key"));
  ASSERT_EQ(trust.shared.size(), 2U);
  EXPECT_EQ(trust.shared[0].name, "SLACK_WEBHOOK") << "the variable's name by default";
  EXPECT_EQ(trust.shared[0].env, "SLACK_WEBHOOK");
  EXPECT_TRUE(trust.shared[0].stacks.Allows("any"));
  EXPECT_EQ(trust.shared[1].name, "GRAFANA_TOKEN");
  EXPECT_EQ(trust.shared[1].file, "/etc/obsforge/grafana.token");
  EXPECT_TRUE(trust.shared[1].stacks.Allows("team-b-web"));
  EXPECT_FALSE(trust.shared[1].stacks.Allows("team-c"));

  ServerOptions options = config.server;
  ApplyEnvironment(options, [](const std::string& name) -> std::optional<std::string> {
    if (name == "OBSFORGE_SECRETS_KEY") {
      return std::string(64, 'a');
    }
    return std::nullopt;
  });
  EXPECT_EQ(options.trust.keys.key.Reveal(), std::string(64, 'a'));
}

TEST(TrustConfig, BadSharedEntriesAreListedWithPositions) {
  try {
    (void)ParseServerConfig(
        "secrets:\n"
        "  shared:\n"
        "    - {env: A, file: /x, stacks: ['*']}\n"
        "    - {file: /x, stacks: ['*']}\n"
        "    - {env: B}\n"
        "    - {env: C, stacks: ['../x'], color: red}\n"
        "  key: abc\n",
        "o.yaml");
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    EXPECT_THAT(
        Lines(e),
        ElementsAre(
            "o.yaml:3:7: secrets.shared[0]: needs exactly one of env (a variable) and file",
            "o.yaml:4:7: secrets.shared[1].name: required with file: the NAME of {secret: NAME}",
            "o.yaml:5:7: secrets.shared[2].stacks: required: the stacks it is shared with (\"*\" "
            "for all)",
            "o.yaml:6:25: secrets.shared[3].stacks[0]: \"../x\" is not a stack name or glob (a-z, "
            "0-9, -, *, ?, [...])",
            "o.yaml:6:34: secrets.shared[3].color: unknown setting",
            "o.yaml:7:3: secrets.key: unknown setting"));
  }
}

TEST(TrustConfig, TokensMayBeLimitedToStacks) {
  const std::string hash = core::Sha256Hex("team-token");
  const TokenTable table =
      TokenTable::Parse("- {name: ops, role: admin, token_sha256: " + core::Sha256Hex("ops-token") +
                            "}\n"
                            "- {name: team, role: editor, token_sha256: " +
                            hash + ", stacks: [team-a-*, shop]}\n",
                        "tokens.yaml");
  ASSERT_EQ(table.entries().size(), 2U);
  EXPECT_TRUE(table.entries()[0].stacks.All()) << "no stacks: every stack";
  const AuthResult team = table.Authorize("Bearer team-token", Role::kEditor);
  ASSERT_EQ(team.status, 200);
  EXPECT_TRUE(team.scope.Allows("team-a-web"));
  EXPECT_TRUE(team.scope.Allows("shop"));
  EXPECT_FALSE(team.scope.Allows("team-b-web"));
  EXPECT_TRUE(table.Authorize("Bearer ops-token", Role::kAdmin).scope.All());
  EXPECT_TRUE(TokenTable{}.Authorize("", Role::kAdmin).scope.All()) << "no tokens: loopback, all";
}

TEST(TrustConfig, BadTokenStacksAreListedWithPositions) {
  try {
    (void)TokenTable::Parse("- {name: a, role: viewer, token_sha256: " + core::Sha256Hex("x") +
                                ", stacks: team-a}\n"
                                "- {name: b, role: viewer, token_sha256: " +
                                core::Sha256Hex("y") + ", stacks: ['a/b']}\n",
                            "tokens.yaml");
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2U);
    EXPECT_EQ(e.diagnostics()[0].path, "[0].stacks");
    EXPECT_EQ(e.diagnostics()[0].message, "must be a list of stack names or globs");
    EXPECT_EQ(e.diagnostics()[1].path, "[1].stacks[0]");
  }
}

}  // namespace
}  // namespace obsforge::server
