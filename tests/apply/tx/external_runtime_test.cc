#include "apply/external_runtime.h"

#include <gtest/gtest.h>

#include "apply/tx/tx_test_util.h"
#include "core/fs.h"
#include "support/fake_clock.h"
#include "support/fake_http_client.h"

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::FakeClock;
using obsforge::testing::FakeHttpClient;
using testing::MakeBundle;
using testing::TempDir;

class ExternalRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.stack = "shop";
    env_.env = "prod";
    env_.runtime.type = spec::Runtime::Type::kExternal;
    env_.runtime.components["loki"] = {.url = "http://loki:3100",
                                       .config_dir = (dir_.path() / "etc/loki").string()};
    env_.runtime.components["grafana"] = {.url = "http://grafana:3000"};
    env_.runtime.components["tempo"] = {.config_dir = (dir_.path() / "etc/tempo").string()};
    http_.On("GET", "http://loki:3100/ready",
             [this](const http::Request&) { return FakeHttpClient::Reply(loki_status_, "ready"); });
  }

  TempDir dir_;
  FakeHttpClient http_;
  FakeClock clock_;
  ExternalRuntime runtime_{dir_.path() / "data",
                           http_,
                           clock_,
                           {.poll_interval = std::chrono::milliseconds(100),
                            .verify_timeout = std::chrono::milliseconds(300)}};
  spec::EnvironmentSpec env_;
  int loki_status_ = 200;
};

TEST_F(ExternalRuntimeTest, DriversOnlyForComponentsWithAConfigDir) {
  const auto drivers = runtime_.MakeDrivers(env_);
  ASSERT_EQ(drivers.size(), 2U);
  EXPECT_EQ(drivers[0]->Component(), "loki");
  EXPECT_EQ(drivers[1]->Component(), "tempo");
}

TEST_F(ExternalRuntimeTest, WritesFilesIntoConfigDirsAndRestoresThemOnFailure) {
  const auto v1 = MakeBundle({{"loki/loki.yaml", "v: 1\n"},
                              {"loki/rules/t/a.yaml", "a\n"},
                              {"tempo/tempo.yaml", "t: 1\n"},
                              {"grafana/grafana.ini", "[x]\n"}});
  auto r1 = runtime_.Apply(env_, v1);
  ASSERT_EQ(r1.outcome, Outcome::kApplied) << (r1.error ? r1.error->message : "");
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/loki.yaml"), "v: 1\n");
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/rules/t/a.yaml"), "a\n");
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/tempo/tempo.yaml"), "t: 1\n");
  EXPECT_FALSE(fs::exists(dir_.path() / "etc/grafana"));
  EXPECT_EQ(http_.CountRequests("GET", "http://loki:3100/ready"), 1U);

  // v2 drops a rule file and changes loki.yaml, but Loki never gets ready: back to v1's files.
  loki_status_ = 503;
  const auto v2 = MakeBundle({{"loki/loki.yaml", "v: 2\n"},
                              {"tempo/tempo.yaml", "t: 1\n"},
                              {"grafana/grafana.ini", "[x]\n"}});
  auto r2 = runtime_.Apply(env_, v2);
  EXPECT_EQ(r2.outcome, Outcome::kFailed)
      << "the rollback's own verify fails too while Loki is down";
  loki_status_ = 200;
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/loki.yaml"), "v: 1\n");
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/rules/t/a.yaml"), "a\n");
  ASSERT_TRUE(r2.error);
  EXPECT_EQ(r2.error->message, "loki not ready after 300 ms: HTTP 503 ready");

  // Loki recovers: v2 applies, the dropped rule file is deleted, tempo (unchanged) not touched.
  const auto tempo_mtime = fs::last_write_time(dir_.path() / "etc/tempo/tempo.yaml");
  auto r3 = runtime_.Apply(env_, v2);
  ASSERT_EQ(r3.outcome, Outcome::kApplied);
  EXPECT_EQ(r3.components, std::vector<std::string>{"loki"});
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/loki.yaml"), "v: 2\n");
  EXPECT_FALSE(fs::exists(dir_.path() / "etc/loki/rules/t/a.yaml"));
  EXPECT_EQ(fs::last_write_time(dir_.path() / "etc/tempo/tempo.yaml"), tempo_mtime);

  auto plan = runtime_.PlanFor(env_, v1);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->summary.added, 1);
  EXPECT_EQ(plan->summary.changed, 1);
}

}  // namespace
}  // namespace obsforge::apply
