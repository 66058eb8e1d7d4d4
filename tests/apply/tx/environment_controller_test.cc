// EnvironmentController end to end with the real Prometheus 2.42 and Alertmanager 0.25 from Debian:
// the path `obsforge up` and the server take from a spec to a verified local environment.
#include "apply/environment_controller.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fs.h"
#include "http/curl_http_client.h"
#include "render/env.h"
#include "spec/stack.h"
#include "support/real_upstreams.h"
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRules = R"(groups:
  - name: demo
    rules:
      - alert: Watchdog
        expr: vector(1)
)";

std::string Spec(const std::string& extra_components = "") {
  return R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: ctl}
spec:
  components:
    prometheus: {}
    alertmanager:
      route: {receiver: slack}
      receivers:
        - name: slack
          slack: {channel: "#x", webhook: {secret: OBS_CTL_TEST_WEBHOOK}}
)" + extra_components +
         R"(  alerts:
    - {path: alerts/*.yaml, type: prometheus}
  environments:
    dev: {runtime: {type: local}}
)";
}

class EnvironmentControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindOnPath("prometheus") || !testing::FindOnPath("prometheus-alertmanager")) {
      if (std::getenv("CI") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "CI must have prometheus and prometheus-alertmanager";
      }
      GTEST_SKIP() << "prometheus/prometheus-alertmanager not installed";
    }
    dir_ = fs::temp_directory_path() /
           ("obs-ctl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    files_["alerts/demo.yaml"] = kRules;
    env_["OBS_CTL_TEST_WEBHOOK"] = "https://hooks.example.test/services/T0/B0/s3cr3t-value";
  }
  void TearDown() override {
    controller_.reset();
    fs::remove_all(dir_);
  }

  EnvironmentController& Controller(std::string path_env = ProcessPath()) {
    ControllerOptions options;
    options.data_dir = dir_ / "var";
    options.ready_timeout = std::chrono::seconds(30);
    options.path_env = std::move(path_env);
    options.env_lookup = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    controller_ = std::make_unique<EnvironmentController>(options, http_, clock_, log_);
    return *controller_;
  }

  ApplyResult ApplySpec(const std::string& spec_text) {
    auto content = spec::MakeMemorySource(files_);
    const auto stack = spec::ParseStack(spec_text, "ctl.yaml", *content);
    steps_.clear();
    return controller_->Apply(stack, "dev", *content,
                              [this](const Step& s) { steps_.push_back(s); });
  }

  std::string Get(const std::string& url) {
    auto r = http_.Send({.url = url});
    return r.ok() ? r->body : "";
  }

  bool HasStep(const std::string& name, const std::string& component, StepState state) {
    for (const auto& s : steps_) {
      if (s.name == name && s.component == component && s.state == state) {
        return true;
      }
    }
    return false;
  }

  fs::path dir_;
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> env_;
  std::vector<Step> steps_;
  core::SystemClock clock_;
  std::ostringstream log_stream_;
  core::Logger log_{log_stream_, core::LogLevel::kDebug};
  http::CurlHttpClient http_;
  std::unique_ptr<EnvironmentController> controller_;
};

TEST_F(EnvironmentControllerTest, BringsALocalEnvironmentUpAndLeavesAnUnchangedOneAlone) {
  auto& controller = Controller();
  auto first = ApplySpec(Spec());
  ASSERT_EQ(first.outcome, Outcome::kApplied) << (first.error ? first.error->message : "");
  auto content = spec::MakeMemorySource(files_);
  const auto stack = spec::ParseStack(Spec(), "ctl.yaml", *content);
  const auto urls = controller.Urls(stack, "dev");
  ASSERT_EQ(urls.count("prometheus"), 1U);
  EXPECT_THAT(Get(urls.at("prometheus") + "/api/v1/rules"), HasSubstr("\"Watchdog\""));
  EXPECT_THAT(Get(urls.at("alertmanager") + "/api/v2/status"), HasSubstr("#x"));
  const auto pids_of = [&] {
    std::vector<int> pids;
    for (const auto& c : controller.Status("ctl", "dev").components) {
      pids.push_back(c.process ? c.process->pid : -1);
    }
    return pids;
  };
  const auto pids = pids_of();
  ASSERT_EQ(pids.size(), 2U);

  auto second = ApplySpec(Spec());
  EXPECT_EQ(second.outcome, Outcome::kUnchanged);
  EXPECT_EQ(pids_of(), pids) << "nothing was restarted";
}

TEST_F(EnvironmentControllerTest, WritesSecretsAsFilesAndNeverIntoTheBundle) {
  auto& controller = Controller();
  ASSERT_EQ(ApplySpec(Spec()).outcome, Outcome::kApplied);
  const auto bundle = controller.Applied("ctl", "dev");
  ASSERT_TRUE(bundle.has_value());
  for (const auto& [path, content] : bundle->files()) {
    EXPECT_THAT(content, Not(HasSubstr("s3cr3t-value"))) << path;
  }
  const auto secret_file = dir_ / "var/stacks/ctl/dev/secrets/OBS_CTL_TEST_WEBHOOK";
  ASSERT_TRUE(fs::exists(secret_file));
  EXPECT_EQ(core::ReadFile(secret_file), env_["OBS_CTL_TEST_WEBHOOK"]);
  struct stat st {};
  ASSERT_EQ(::stat(secret_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_THAT(log_stream_.str(), Not(HasSubstr("s3cr3t-value")));
}

TEST_F(EnvironmentControllerTest, AMissingSecretFailsBeforeAnythingStarts) {
  env_.clear();
  auto& controller = Controller();
  const auto result = ApplySpec(Spec());
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_EQ(result.error->message,
            "secret {secret: OBS_CTL_TEST_WEBHOOK}: environment variable OBS_CTL_TEST_WEBHOOK is "
            "not set");
  EXPECT_TRUE(HasStep("secrets", "", StepState::kFailed));
  EXPECT_FALSE(controller.Applied("ctl", "dev").has_value());
  for (const auto& c : controller.Status("ctl", "dev").components) {
    ASSERT_TRUE(c.process.has_value()) << c.name;
    EXPECT_EQ(c.process->pid, 0) << c.name;
  }
}

TEST_F(EnvironmentControllerTest, AMissingBinaryIsReportedAndTheRestStillComesUp) {
  Controller();
  const auto result = ApplySpec(Spec("    loki: {auth_enabled: false}\n"));
  ASSERT_EQ(result.outcome, Outcome::kApplied) << (result.error ? result.error->message : "");
  bool reported = false;
  for (const auto& s : steps_) {
    if (s.name == "start" && s.component == "loki" && s.state == StepState::kFailed) {
      reported = s.message == "unavailable: loki not found on PATH";
    }
  }
  EXPECT_TRUE(reported) << "loki must be reported unavailable, not skipped silently";
}

TEST_F(EnvironmentControllerTest, ARuleThatPrometheusRejectsIsRolledBack) {
  auto& controller = Controller();
  ASSERT_EQ(ApplySpec(Spec()).outcome, Outcome::kApplied);
  // Passes obsforge's structural checks (expr present) but is not valid PromQL.
  files_["alerts/demo.yaml"] = R"(groups:
  - name: demo
    rules:
      - alert: Broken
        expr: rate(http_requests_total[5m]
)";
  const auto result = ApplySpec(Spec());
  EXPECT_EQ(result.outcome, Outcome::kRolledBack);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_THAT(result.error->message, HasSubstr("failed to reload config"));
  auto content = spec::MakeMemorySource(files_);
  const auto urls = controller.Urls(spec::ParseStack(Spec(), "ctl.yaml", *content), "dev");
  const auto rules = Get(urls.at("prometheus") + "/api/v1/rules");
  EXPECT_THAT(rules, HasSubstr("\"Watchdog\""));
  EXPECT_THAT(rules, Not(HasSubstr("\"Broken\"")));
  const auto applied = controller.Applied("ctl", "dev");
  ASSERT_TRUE(applied.has_value());
  EXPECT_THAT(*applied->Find("prometheus/rules/demo.yaml"), HasSubstr("Watchdog"));
}

TEST_F(EnvironmentControllerTest, TeardownLeavesNoProcess) {
  auto& controller = Controller();
  ASSERT_EQ(ApplySpec(Spec()).outcome, Outcome::kApplied);
  std::vector<int> pids;
  const auto status = controller.Status("ctl", "dev");
  EXPECT_EQ(std::string(status.runtime), "local");
  for (const auto& c : status.components) {
    EXPECT_EQ(c.state, ComponentState::kRunning) << c.name;
    pids.push_back(c.process->pid);
  }
  ASSERT_EQ(pids.size(), 2U);
  std::string stopped;
  ASSERT_TRUE(controller
                  .Teardown("ctl", "dev",
                            [&](const Step& s) {
                              if (s.name == "stop" && s.state == StepState::kSucceeded) {
                                stopped = s.message;
                              }
                            })
                  .ok());
  EXPECT_EQ(stopped, "local components stopped");
  for (const int pid : pids) {
    EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " still alive";
  }
}

}  // namespace
}  // namespace obsforge::apply
