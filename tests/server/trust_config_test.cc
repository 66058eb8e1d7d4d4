// The operator's side of the trust model: what obsforge.yaml and the tokens file say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
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

}  // namespace
}  // namespace obsforge::server
