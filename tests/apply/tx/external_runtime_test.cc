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
  ExternalRuntimeTest() {
    http_.On("GET", "http://loki:3100/ready",
             [this](const http::Request&) { return FakeHttpClient::Reply(loki_status_, "ready"); });
  }

  spec::EnvironmentSpec Env() const {
    spec::EnvironmentSpec env;
    env.stack = "shop";
    env.env = "prod";
    env.runtime.type = spec::Runtime::Type::kExternal;
    env.runtime.components["loki"] = {.url = "http://loki:3100",
                                      .config_dir = (dir_.path() / "etc/loki").string()};
    env.runtime.components["grafana"] = {.url = "http://grafana:3000"};
    env.runtime.components["tempo"] = {.config_dir = (dir_.path() / "etc/tempo").string()};
    return env;
  }

  TempDir dir_;
  FakeHttpClient http_;
  FakeClock clock_;
  ExternalRuntime runtime_{Env(),
                           dir_.path() / "data",
                           http_,
                           clock_,
                           {.poll_interval = std::chrono::milliseconds(100),
                            .verify_timeout = std::chrono::milliseconds(300)}};
  Applier applier_{dir_.path() / "data", clock_};
  int loki_status_ = 200;
};

TEST_F(ExternalRuntimeTest, DriversOnlyForComponentsWithAConfigDir) {
  const auto drivers = runtime_.MakeDrivers();
  ASSERT_EQ(drivers.size(), 2U);
  EXPECT_EQ(drivers[0]->Component(), "loki");
  EXPECT_EQ(drivers[1]->Component(), "tempo");
}

TEST_F(ExternalRuntimeTest, WritesFilesIntoConfigDirsAndRestoresThemOnFailure) {
  const auto v1 = MakeBundle({{"loki/loki.yaml", "v: 1\n"},
                              {"loki/rules/t/a.yaml", "a\n"},
                              {"tempo/tempo.yaml", "t: 1\n"},
                              {"grafana/grafana.ini", "[x]\n"}});
  auto r1 = runtime_.Apply(v1, applier_, {});
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
  auto r2 = runtime_.Apply(v2, applier_, {});
  EXPECT_EQ(r2.outcome, Outcome::kFailed)
      << "the rollback's own verify fails too while Loki is down";
  loki_status_ = 200;
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/loki.yaml"), "v: 1\n");
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/rules/t/a.yaml"), "a\n");
  ASSERT_TRUE(r2.error);
  EXPECT_EQ(r2.error->message, "loki not ready after 300 ms: HTTP 503 ready");

  // Loki recovers: v2 applies, the dropped rule file is deleted, tempo (unchanged) not touched.
  const auto tempo_mtime = fs::last_write_time(dir_.path() / "etc/tempo/tempo.yaml");
  auto r3 = runtime_.Apply(v2, applier_, {});
  ASSERT_EQ(r3.outcome, Outcome::kApplied);
  EXPECT_EQ(r3.components, std::vector<std::string>{"loki"});
  EXPECT_EQ(core::ReadFile(dir_.path() / "etc/loki/loki.yaml"), "v: 2\n");
  EXPECT_FALSE(fs::exists(dir_.path() / "etc/loki/rules/t/a.yaml"));
  EXPECT_EQ(fs::last_write_time(dir_.path() / "etc/tempo/tempo.yaml"), tempo_mtime);

  auto plan = applier_.PlanFor("shop", "prod", v1);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->summary.added, 1);
  EXPECT_EQ(plan->summary.changed, 1);
}

// A file obsforge did not write is never lost: the plan names it, the first write over it keeps
// a copy, and when obsforge stops writing that path the original comes back (never a delete).
TEST_F(ExternalRuntimeTest, AForeignFileIsKeptPlannedAndPutBack) {
  const auto loki = dir_.path() / "etc/loki";
  core::WriteFileAtomic(loki / "important.txt", "precious\n");
  core::WriteFileAtomic(loki / "other.txt", "not in any bundle\n");
  const auto v1 = MakeBundle({{"loki/loki.yaml", "v: 1\n"}, {"loki/important.txt", "mine\n"}});

  const auto notes = runtime_.PlanNotes(v1);
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_NE(
      notes[0].find("loki: " + (loki / "important.txt").string() + " was not written by obsforge"),
      std::string::npos)
      << notes[0];
  const auto copy = dir_.path() / "data/stacks/shop/prod/external/loki.replaced/important.txt";
  EXPECT_NE(notes[0].find(copy.string()), std::string::npos) << notes[0];

  ASSERT_EQ(runtime_.Apply(v1, applier_, {}).outcome, Outcome::kApplied);
  EXPECT_EQ(core::ReadFile(loki / "important.txt"), "mine\n");
  EXPECT_EQ(core::ReadFile(copy), "precious\n");
  EXPECT_EQ(fs::status(copy).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(runtime_.PlanNotes(v1).empty()) << "obsforge wrote it now";

  const auto v2 = MakeBundle({{"loki/loki.yaml", "v: 2\n"}});
  ASSERT_EQ(runtime_.Apply(v2, applier_, {}).outcome, Outcome::kApplied);
  EXPECT_EQ(core::ReadFile(loki / "important.txt"), "precious\n");
  EXPECT_FALSE(fs::exists(copy));
  EXPECT_EQ(core::ReadFile(loki / "other.txt"), "not in any bundle\n");
  EXPECT_EQ(core::ReadFile(loki / "loki.yaml"), "v: 2\n");
}

TEST_F(ExternalRuntimeTest, AFileChangedSinceObsforgeWroteItIsNeverDeleted) {
  const auto rule = dir_.path() / "etc/loki/rules/a.yaml";
  const auto v1 = MakeBundle({{"loki/loki.yaml", "v: 1\n"}, {"loki/rules/a.yaml", "a\n"}});
  ASSERT_EQ(runtime_.Apply(v1, applier_, {}).outcome, Outcome::kApplied);
  core::WriteFileAtomic(rule, "edited by hand\n");
  const auto v2 = MakeBundle({{"loki/loki.yaml", "v: 2\n"}});
  ASSERT_EQ(runtime_.Apply(v2, applier_, {}).outcome, Outcome::kApplied);
  EXPECT_EQ(core::ReadFile(rule), "edited by hand\n");
}

TEST_F(ExternalRuntimeTest, ReportsItsComponentsAsExternalAndRunsNothing) {
  EXPECT_EQ(std::string(runtime_.Kind().name), "external");
  EXPECT_FALSE(runtime_.Kind().runs_components_here);
  const auto status = runtime_.Status();
  ASSERT_EQ(status.size(), 3U);
  EXPECT_EQ(status[0].name, "loki");
  EXPECT_EQ(status[0].Describe(), "external");
  EXPECT_EQ(status[0].url, "http://loki:3100");
  EXPECT_FALSE(status[0].process.has_value());
  EXPECT_EQ(status[1].name, "tempo");
  EXPECT_EQ(status[1].url, "");
  EXPECT_EQ(status[2].name, "grafana");
  EXPECT_EQ(runtime_.Urls(), (std::map<std::string, std::string>{{"grafana", "http://grafana:3000"},
                                                                 {"loki", "http://loki:3100"}}));
  runtime_.StopAll();  // nothing to stop
}

TEST_F(ExternalRuntimeTest, TempoOtlpReceiversAreUrlsOfTheirOwn) {
  auto env = Env();
  env.runtime.components["tempo"].url = "http://tempo:3200";
  env.runtime.components["tempo"].otlp_http_url = "http://tempo:4318";
  env.runtime.components["tempo"].otlp_grpc_url = "http://tempo:4317";
  runtime_.Update(env);
  const auto urls = runtime_.Urls();
  EXPECT_EQ(urls.at("tempo"), "http://tempo:3200");
  EXPECT_EQ(urls.at(kTempoOtlpHttp), "http://tempo:4318");
  EXPECT_EQ(urls.at(kTempoOtlpGrpc), "http://tempo:4317");
}

TEST_F(ExternalRuntimeTest, ProvisionsThroughTheRuntimesUrlsAndCredentials) {
  auto env = Env();
  env.runtime.components["grafana"].token = core::SecretRef{.name = "GTOKEN"};
  env.runtime.components["loki"].config_dir.clear();  // rules through the ruler API
  runtime_.Update(env);
  auto access = runtime_.Provisioning();
  EXPECT_FALSE(access.grafana_local);
  EXPECT_EQ(access.grafana_url, "http://grafana:3000");
  EXPECT_EQ(access.token, (core::SecretRef{.name = "GTOKEN"}));
  EXPECT_EQ(access.loki_url, "http://loki:3100");
  runtime_.Update(Env());
  access = runtime_.Provisioning();
  EXPECT_FALSE(access.token.has_value());
  EXPECT_EQ(access.loki_url, "") << "a Loki with a config_dir reads its rules from files";
}

TEST(RuntimeFactory, TheSpecsTypeChoosesTheRuntimeOnce) {
  spec::EnvironmentSpec env;
  env.stack = "s";
  env.env = "e";
  env.runtime.type = spec::Runtime::Type::kExternal;
  EXPECT_EQ(std::string(KindOf(env).name), "external");
  EXPECT_FALSE(KindOf(env).runs_components_here);
  env.runtime.type = spec::Runtime::Type::kLocal;
  EXPECT_EQ(std::string(KindOf(env).name), "local");
  EXPECT_TRUE(KindOf(env).runs_components_here);

  TempDir dir;
  FakeHttpClient http;
  FakeClock clock;
  const RuntimeContext context{.data_dir = dir.path(),
                               .http = http,
                               .clock = clock,
                               .logger = core::NullLogger(),
                               .path_env = "",
                               .ready_timeout = std::chrono::milliseconds(100)};
  auto local = MakeRuntime(env, context);
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_EQ(std::string((*local)->Kind().name), "local");
  EXPECT_TRUE(Fits(**local, env));
  env.runtime.type = spec::Runtime::Type::kExternal;
  EXPECT_FALSE(Fits(**local, env));
  auto external = MakeRuntime(env, context);
  ASSERT_TRUE(external.ok());
  EXPECT_TRUE(Fits(**external, env));
  EXPECT_TRUE((*external)->Status().empty());
}

}  // namespace
}  // namespace obsforge::apply
