// The fake-* executables start from the real binaries' command lines and stop on SIGTERM.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fakes/test_client.h"
#include "support/poll_until.h"
#include "support/real_upstreams.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::Call;
using testing::TempDir;

const std::filesystem::path kBinDir = OBS_FAKES_BIN_DIR;

// A child process whose exit status the test checks.
class Child {
 public:
  Child(const std::filesystem::path& binary,
        const std::vector<std::string>& args,
        const std::filesystem::path& log)
      : pid_(obsforge::testing::SpawnLogged(binary, args, log)) {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Sends `signal` and returns the exit code (-1 when killed by a signal or still running after a
  /// minute).
  int StopWith(int signal) {
    ::kill(pid_, signal);
    return Wait();
  }
  /// Waits up to a minute for the exit code (-1 when killed by a signal or still running).
  int Wait() {
    int status = 0;
    if (!obsforge::testing::PollUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                                      std::chrono::seconds(60))) {
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// Polls until `path` answers 200 (false after a minute: the process may be slow to start).
bool WaitFor200(std::uint16_t port, const std::string& path) {
  return obsforge::testing::PollUntil(
      [&] {
        try {
          return Call(port, "GET", path).status == 200;
        } catch (const Poco::Exception&) {
          return false;
        }
      },
      std::chrono::seconds(60));
}

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::uint16_t FreePort() {
  return static_cast<std::uint16_t>(obsforge::testing::FreeLoopbackPort());
}

TEST(FakeBinariesTest, LokiFromConfigFileViaSymlinkStopsOnSigterm) {
  TempDir dir;
  const auto port = FreePort();
  Write(dir.path() / "loki.yaml",
        json{{"auth_enabled", true},
             {"server", {{"http_listen_port", port}, {"http_listen_address", "127.0.0.1"}}}}
            .dump());
  // obsforge finds the binary under its real name on PATH.
  std::filesystem::create_symlink(kBinDir / "fake-loki", dir.path() / "loki");
  Child loki(dir.path() / "loki", {"-config.file=" + (dir.path() / "loki.yaml").string()},
             dir.path() / "log");
  ASSERT_TRUE(WaitFor200(port, "/ready"));
  EXPECT_EQ(Call(port, "GET", "/loki/api/v1/rules").status, 401);
  EXPECT_EQ(loki.StopWith(SIGTERM), 0);
}

TEST(FakeBinariesTest, TempoServesOtlpOnTheConfiguredEndpoint) {
  TempDir dir;
  const auto port = FreePort();
  const auto otlp = FreePort();
  Write(dir.path() / "tempo.yaml",
        "server:\n  http_listen_port: " + std::to_string(port) +
            "\ndistributor:\n  receivers:\n    otlp:\n      protocols:\n        http:\n          "
            "endpoint: \"127.0.0.1:" +
            std::to_string(otlp) + "\"\n");
  Child tempo(kBinDir / "fake-tempo", {"-config.file=" + (dir.path() / "tempo.yaml").string()},
              dir.path() / "log");
  ASSERT_TRUE(WaitFor200(port, "/ready"));
  EXPECT_EQ(Call(otlp, "POST", "/v1/traces", R"({"resourceSpans":[]})",
                 {{"Content-Type", "application/json"}})
                .status,
            200);
  EXPECT_EQ(tempo.StopWith(SIGTERM), 0);
}

TEST(FakeBinariesTest, GrafanaReadsPortAndAdminFromIni) {
  TempDir dir;
  const auto port = FreePort();
  Write(dir.path() / "pw", "from-file\n");
  Write(dir.path() / "grafana.ini",
        "[server]\nhttp_addr = 127.0.0.1\nhttp_port = " + std::to_string(port) +
            "\n\n[security]\nadmin_user = ops\nadmin_password = $__file{" +
            (dir.path() / "pw").string() + "}\n");
  for (const bool subcommand : {true, false}) {
    std::vector<std::string> args{"--homepath", "/usr/share/grafana", "--config",
                                  (dir.path() / "grafana.ini").string()};
    if (subcommand) {
      args.insert(args.begin(), "server");
    }
    Child grafana(kBinDir / "fake-grafana", args, dir.path() / "log");
    ASSERT_TRUE(WaitFor200(port, "/api/health"));
    EXPECT_EQ(Call(port, "GET", "/api/search", "",
                   {{"Authorization", testing::BasicAuth("ops", "from-file")}})
                  .status,
              200);
    EXPECT_EQ(Call(port, "GET", "/api/search", "",
                   {{"Authorization", testing::BasicAuth("admin", "admin")}})
                  .status,
              401);
    EXPECT_EQ(grafana.StopWith(SIGTERM), 0);
  }
}

TEST(FakeBinariesTest, OtelcolServesHealthCheck) {
  TempDir dir;
  const auto port = FreePort();
  Write(
      dir.path() / "config.yaml",
      json{{"extensions", {{"health_check", {{"endpoint", "127.0.0.1:" + std::to_string(port)}}}}}}
          .dump());
  Child otelcol(kBinDir / "fake-otelcol", {"--config=" + (dir.path() / "config.yaml").string()},
                dir.path() / "log");
  ASSERT_TRUE(WaitFor200(port, "/"));
  EXPECT_EQ(otelcol.StopWith(SIGTERM), 0);
}

TEST(FakeBinariesTest, MissingConfigExitsWithOne) {
  TempDir dir;
  Child loki(kBinDir / "fake-loki", {"-config.file=" + (dir.path() / "absent.yaml").string()},
             dir.path() / "log");
  EXPECT_EQ(loki.Wait(), 1);
  Child grafana(kBinDir / "fake-grafana", {"server"}, dir.path() / "log2");
  EXPECT_EQ(grafana.Wait(), 1);
}

}  // namespace
}  // namespace obsforge::fakes
