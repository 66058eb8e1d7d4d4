// `obsforge up` as a user runs it: the real binary brings the demo stack up with Debian's
// Prometheus and Alertmanager, watches it with the health monitor of `serve`, prints its state
// changes on stderr and posts them to Slack (faked on loopback).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fs.h"
#include "fakes/fake_slack.h"
#include "support/obsforge_process.h"
#include "support/real_upstreams.h"
#include <unistd.h>

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::Obsforge;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Upper bounds for events to happen; the test continues as soon as they do.
constexpr seconds kComeUp{120};
constexpr seconds kChange{30};

// The pid of the process running `binary` whose command line mentions `dir`; 0 when none.
pid_t FindProcess(const std::string& binary, const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
    if (fs::path(argv0).filename() == binary && cmdline.find(dir.string()) != std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

// The demo stack with health checks every 200 ms, Slack on a webhook from the environment and
// no flap damping, so that every change is a message.
std::string DemoSpec() {
  std::string spec = core::ReadFile(fs::path(OBS_SOURCE_DIR) / "stacks/demo.yaml");
  const auto health = spec.find("  health:\n");
  const auto environments = spec.find("  environments:\n");
  EXPECT_NE(health, std::string::npos);
  EXPECT_NE(environments, std::string::npos);
  spec.replace(health, environments - health,
               "  health:\n"
               "    interval: 200ms\n"
               "    timeout: 2s\n"
               "    failure_threshold: 2\n"
               "    notify: {flap_window: 0s}\n"
               "    slack: {webhook: {secret: OBS_UP_TEST_WEBHOOK}, channel: \"#demo\"}\n");
  const auto interval = spec.find("scrape_interval: 15s");
  EXPECT_NE(interval, std::string::npos);
  spec.replace(interval, 20, "scrape_interval: 1s");
  return spec;
}

std::string Text(const nlohmann::json& message) {
  return message.value("text", "");
}

TEST(UpTest, FrozenPrometheusIsAnnouncedOnTheTerminalAndOnSlackAndSoIsItsRecovery) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  const fs::path dir = fs::temp_directory_path() / ("obs-up-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  core::WriteFileAtomic(dir / "demo.yaml", DemoSpec());
  fakes::FakeSlack slack;

  {
    Obsforge up({"up", (dir / "demo.yaml").string(), "--env", "dev", "--root", OBS_SOURCE_DIR,
                 "--data-dir", (dir / "var").string()},
                {"OBS_UP_TEST_WEBHOOK=" + slack.WebhookUrl()});
    ASSERT_GE(up.out().WaitFor("running; press Ctrl-C to stop", 0, kComeUp), 0)
        << up.out().All() << up.err().All();
    EXPECT_THAT(up.out().All(), HasSubstr("applied (revision 1)"));
    EXPECT_THAT(up.out().All(), HasSubstr("  prometheus: http://127.0.0.1:"));
    // stderr has a reader thread of its own: wait for the line rather than read what came so far.
    EXPECT_GE(up.err().WaitFor("bringing up demo [dev]", 0, kComeUp), 0) << up.err().All();
    // The apply is announced, as `serve` announces it.
    ASSERT_TRUE(slack.WaitForMessages(1, kComeUp));
    EXPECT_THAT(Text(slack.Messages()[0]), HasSubstr("demo/dev: apply succeeded"));
    EXPECT_EQ(slack.Messages()[0]["channel"], "#demo");
    // Every check of Prometheus ran: it is ok (coming up healthy is not news on Slack).
    ASSERT_GE(up.err().WaitFor("demo/dev prometheus: unknown -> ok", 0, kChange), 0)
        << up.err().All();
    ASSERT_GE(up.err().WaitFor("demo/dev: unknown -> ok", 0, kChange), 0) << up.err().All();

    const pid_t prom = FindProcess("prometheus", dir);
    ASSERT_NE(prom, 0);
    ASSERT_NE(FindProcess("prometheus-alertmanager", dir) + FindProcess("alertmanager", dir), 0);
    const std::size_t before = up.err().size();
    ASSERT_EQ(::kill(prom, SIGSTOP), 0);
    const int frozen = up.err().WaitFor("demo/dev: ok -> degraded", before, kChange);
    const bool announced = slack.WaitForMessages(2, kChange);
    ::kill(prom, SIGCONT);  // whatever happened, it must not stay frozen
    ASSERT_GE(frozen, 0) << up.err().All();
    EXPECT_GE(up.err().WaitFor("demo/dev prometheus: ok -> ", before, kChange), 0)
        << up.err().All();
    ASSERT_TRUE(announced);
    EXPECT_THAT(Text(slack.Messages()[1]), HasSubstr("demo/dev is degraded (was ok): prometheus/"));

    EXPECT_GE(up.err().WaitFor("demo/dev: degraded -> ok", frozen, kChange), 0) << up.err().All();
    ASSERT_TRUE(slack.WaitForMessages(3, kChange));
    EXPECT_EQ(Text(slack.Messages()[2]), "demo/dev recovered (was degraded)");

    ASSERT_EQ(::kill(up.pid(), SIGINT), 0);
    EXPECT_EQ(up.Wait(), 0);
  }
  // One message per change: the apply, the degradation, the recovery.
  EXPECT_EQ(slack.Messages().size(), 3U);
  // Everything it started is gone.
  EXPECT_EQ(FindProcess("prometheus", dir), 0);
  EXPECT_EQ(FindProcess("prometheus-alertmanager", dir), 0);
  EXPECT_EQ(FindProcess("alertmanager", dir), 0);
  fs::remove_all(dir);
}

// Loki (multi-tenant, its default) and Tempo run by the local runtime with both canaries: the
// real Loki and Tempo when they are on PATH, otherwise the project's fakes (tests/fakes/loki.md
// and tests/fakes/tempo.md say what they reproduce of the real servers), put on PATH as `loki` and
// `tempo`. The stack comes up ok with both canaries passing, a frozen Loki is announced on the
// terminal and on Slack, and so is its recovery after the thaw.
TEST(UpTest, LokiAndTempoWithCanariesComeUpOkAndAFrozenLokiIsAnnouncedAndItsRecovery) {
  const fs::path dir = fs::temp_directory_path() / ("obs-up-lt-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "bin");
  // The real servers when they are installed; the fakes otherwise.
  for (const char* name : {"loki", "tempo"}) {
    if (!obsforge::testing::FindOnPath(name)) {
      fs::create_symlink(fs::path(OBS_FAKES_BIN_DIR) / ("fake-" + std::string(name)),
                         dir / "bin" / name);
    }
  }
  core::WriteFileAtomic(dir / "logs.yaml",
                        "apiVersion: obsforge/v1\n"
                        "kind: Stack\n"
                        "metadata: {name: logs}\n"
                        "spec:\n"
                        "  components:\n"
                        "    loki: {enabled: true}\n"
                        "    tempo: {enabled: true}\n"
                        "  health:\n"
                        "    interval: 200ms\n"
                        "    timeout: 2s\n"
                        "    failure_threshold: 2\n"
                        "    canaries: true\n"
                        "    notify: {flap_window: 0s}\n"
                        "    slack: {webhook: {secret: OBS_UP_TEST_WEBHOOK}, channel: \"#logs\"}\n"
                        "  environments:\n"
                        "    dev: {runtime: {type: local}}\n");
  fakes::FakeSlack slack;
  const char* path = std::getenv("PATH");
  {
    Obsforge up(
        {"up", (dir / "logs.yaml").string(), "--env", "dev", "--root", OBS_SOURCE_DIR, "--data-dir",
         (dir / "var").string()},
        {"OBS_UP_TEST_WEBHOOK=" + slack.WebhookUrl(),
         "PATH=" + (dir / "bin").string() + ":" + (path != nullptr ? path : "/usr/bin:/bin")});
    ASSERT_GE(up.out().WaitFor("running; press Ctrl-C to stop", 0, kComeUp), 0)
        << up.out().All() << up.err().All();
    ASSERT_GE(up.err().WaitFor("logs/dev: unknown -> ok", 0, kComeUp), 0) << up.err().All();
    // ok needs every critical check's verdict: the canaries' included.
    ASSERT_GE(up.err().WaitFor("logs/dev loki: unknown -> ok", 0, kChange), 0) << up.err().All();
    ASSERT_GE(up.err().WaitFor("logs/dev tempo: unknown -> ok", 0, kChange), 0) << up.err().All();
    ASSERT_TRUE(slack.WaitForMessages(1, kComeUp));
    EXPECT_THAT(Text(slack.Messages()[0]), HasSubstr("logs/dev: apply succeeded"));

    const pid_t loki = FindProcess("loki", dir);
    ASSERT_NE(loki, 0);
    const std::size_t before = up.err().size();
    ASSERT_EQ(::kill(loki, SIGSTOP), 0);
    const int frozen = up.err().WaitFor("logs/dev loki: ok -> ", before, kChange);
    const bool announced = slack.WaitForMessages(2, kChange);
    ::kill(loki, SIGCONT);  // whatever happened, it must not stay frozen
    ASSERT_GE(frozen, 0) << up.err().All();
    ASSERT_TRUE(announced) << up.err().All();
    EXPECT_THAT(Text(slack.Messages()[1]), HasSubstr("logs/dev is "));
    EXPECT_THAT(Text(slack.Messages()[1]), HasSubstr("loki/"));

    EXPECT_GE(up.err().WaitFor("logs/dev loki: ", frozen + 1, kChange), 0) << up.err().All();
    ASSERT_TRUE(slack.WaitForMessages(3, kChange)) << up.err().All();
    EXPECT_THAT(Text(slack.Messages()[2]), HasSubstr("logs/dev recovered (was "));

    ASSERT_EQ(::kill(up.pid(), SIGINT), 0);
    EXPECT_EQ(up.Wait(), 0);
  }
  EXPECT_EQ(FindProcess("loki", dir), 0);
  EXPECT_EQ(FindProcess("tempo", dir), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace obsforge::app
