#include "apply/supervisor.h"

#include <array>
#include <csignal>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/runtime/runtime_test_util.h"
#include "support/fake_clock.h"
#include "support/poll_until.h"
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

using namespace std::chrono_literals;
using obsforge::testing::PollUntil;
using testing::LiveChildren;
using testing::ProcessAlive;
using testing::Slurp;
using testing::TempDir;

ProcessSpec Sleeper(const std::string& name, const TempDir& dir) {
  return {.name = name,
          .binary = "/bin/sleep",
          .args = {"1000"},
          .working_dir = dir.path(),
          .log_file = dir.path() / (name + ".log")};
}

ProcessSpec Shell(const std::string& name, const TempDir& dir, const std::string& script) {
  return {.name = name,
          .binary = "/bin/sh",
          .args = {"-c", script},
          .working_dir = dir.path(),
          .log_file = dir.path() / (name + ".log")};
}

ProcessState StateOf(const Supervisor& s, const std::string& name) {
  auto state = s.State(name);
  return state.value_or(ProcessState{});
}

TEST(BackoffDelayTest, DoublesUpToTheCap) {
  SupervisorOptions options;
  EXPECT_EQ(BackoffDelay(1, options), 1s);
  EXPECT_EQ(BackoffDelay(2, options), 2s);
  EXPECT_EQ(BackoffDelay(3, options), 4s);
  EXPECT_EQ(BackoffDelay(5, options), 16s);
  EXPECT_EQ(BackoffDelay(6, options), 30s);
  EXPECT_EQ(BackoffDelay(100, options), 30s);
}

TEST(SupervisorTest, StartThenStopLeavesNoProcess) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock);
  ASSERT_TRUE(supervisor.Start(Sleeper("s", dir)).ok());
  auto state = StateOf(supervisor, "s");
  EXPECT_EQ(state.phase, ProcessPhase::kRunning);
  EXPECT_EQ(state.Describe(), "running");
  const pid_t pid = state.pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_EQ(::getpgid(pid), pid);

  ASSERT_TRUE(supervisor.Stop("s").ok());
  state = StateOf(supervisor, "s");
  EXPECT_EQ(state.phase, ProcessPhase::kStopped);
  EXPECT_EQ(state.pid, 0);
  EXPECT_EQ(state.restarts, 0);
  EXPECT_EQ(state.last_exit, "killed by signal 15 (Terminated)");
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
}

TEST(SupervisorTest, StopUnknownIsNotFound) {
  core::SystemClock clock;
  Supervisor supervisor(clock);
  auto stopped = supervisor.Stop("nope");
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(stopped.error().message, "no process named nope");
}

TEST(SupervisorTest, StartFailureIsReportedNotRetried) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock);
  auto started = supervisor.Start({.name = "x", .binary = dir.path() / "missing"});
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message,
            "cannot execute " + (dir.path() / "missing").string() + ": No such file or directory");
  EXPECT_EQ(StateOf(supervisor, "x").phase, ProcessPhase::kStopped);
  EXPECT_EQ(StateOf(supervisor, "x").reason, started.error().message);
}

TEST(SupervisorTest, SigkilledProcessIsRestarted) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock, {.backoff_initial = 100ms});
  ASSERT_TRUE(supervisor.Start(Sleeper("s", dir)).ok());
  const pid_t first = StateOf(supervisor, "s").pid;
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(PollUntil(
      [&] {
        auto s = StateOf(supervisor, "s");
        return s.phase == ProcessPhase::kRunning && s.pid != first && s.pid != 0;
      },
      60s));
  auto state = StateOf(supervisor, "s");
  EXPECT_EQ(state.restarts, 1);
  EXPECT_EQ(state.last_exit, "killed by signal 9 (Killed)");
  EXPECT_EQ(state.last_exit_signal, SIGKILL);
  EXPECT_FALSE(state.last_exit_code.has_value());
  EXPECT_TRUE(ProcessAlive(state.pid));
  EXPECT_THAT(Slurp(dir.path() / "s.log"),
              ::testing::HasSubstr("obsforge: s killed by signal 9 (Killed); restarting in 100ms"));
}

TEST(SupervisorTest, BackoffDoublesOnTheInjectedClock) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  Supervisor supervisor(clock, {.poll_interval = 5ms});
  ASSERT_TRUE(supervisor.Start(Shell("crash", dir, "exit 3")).ok());
  auto restarts_are = [&](int n) {
    return PollUntil([&] { return StateOf(supervisor, "crash").restarts == n; }, 60s);
  };
  // Two no-op commands: the supervisor's loop checks the deadlines after each command it
  // handles, so once the second is answered it has looked at the clock since the last Advance
  // (and a restart it decided on shows in the state).
  auto still = [&](int n) {
    EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
    EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
    auto s = StateOf(supervisor, "crash");
    return s.restarts == n && s.phase == ProcessPhase::kRestarting;
  };
  ASSERT_TRUE(restarts_are(1));
  auto state = StateOf(supervisor, "crash");
  EXPECT_EQ(state.last_exit_code, 3);
  EXPECT_EQ(state.last_exit, "exited with status 3");
  EXPECT_EQ(state.Describe(), "restarting");

  EXPECT_TRUE(still(1));
  clock.Advance(999ms);
  EXPECT_TRUE(still(1));
  clock.Advance(1ms);  // 1s after the first exit
  ASSERT_TRUE(restarts_are(2));
  clock.Advance(1999ms);
  EXPECT_TRUE(still(2));
  clock.Advance(1ms);  // 2s after the second exit
  ASSERT_TRUE(restarts_are(3));
  clock.Advance(3999ms);
  EXPECT_TRUE(still(3));
  clock.Advance(1ms);  // 4s
  ASSERT_TRUE(restarts_are(4));
}

TEST(SupervisorTest, BackoffCapsAndResetsAfterStableRun) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  Supervisor supervisor(clock, {.backoff_max = 3s, .poll_interval = 5ms});
  ASSERT_TRUE(supervisor.Start(Sleeper("s", dir)).ok());
  auto kill_and_wait_restarting = [&](int restarts) {
    const pid_t pid = StateOf(supervisor, "s").pid;
    ::kill(pid, SIGKILL);
    return PollUntil(
        [&] {
          auto s = StateOf(supervisor, "s");
          return s.phase == ProcessPhase::kRestarting && s.restarts == restarts;
        },
        60s);
  };
  // After the clock moved by `advance`: whether the supervisor restarted the process. Two no-op
  // commands: the supervisor's loop checks the deadlines after each command it handles, so once
  // the second is answered it has looked at the clock since the Advance, and a restart it
  // decided on shows in the state.
  auto running_after = [&](std::chrono::milliseconds advance) {
    clock.Advance(advance);
    EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
    EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
    return StateOf(supervisor, "s").phase == ProcessPhase::kRunning;
  };
  ASSERT_TRUE(kill_and_wait_restarting(1));
  ASSERT_TRUE(running_after(1s));
  ASSERT_TRUE(kill_and_wait_restarting(2));
  EXPECT_FALSE(running_after(1999ms));
  ASSERT_TRUE(running_after(1ms));
  ASSERT_TRUE(kill_and_wait_restarting(3));
  EXPECT_FALSE(running_after(2999ms));  // 4s capped at 3s
  ASSERT_TRUE(running_after(1ms));
  ASSERT_TRUE(kill_and_wait_restarting(4));
  ASSERT_TRUE(running_after(3s));
  clock.Advance(60s);  // a stable run resets the backoff
  ASSERT_TRUE(kill_and_wait_restarting(5));
  ASSERT_TRUE(running_after(1s));
}

TEST(SupervisorTest, StopEscalatesToSigkill) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock);
  // An ignored SIGTERM survives exec, so `sleep` ignores it too.
  ASSERT_TRUE(
      supervisor.Start(Shell("stubborn", dir, "trap '' TERM; touch armed; exec sleep 1000")).ok());
  const pid_t pid = StateOf(supervisor, "stubborn").pid;
  // The shell has installed the trap once it touched `armed`.
  ASSERT_TRUE(PollUntil([&] { return std::filesystem::exists(dir.path() / "armed"); }, 60s));
  const auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(supervisor.Stop("stubborn", 300ms).ok());
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 60s);  // not the 1000 s of `sleep`: SIGKILL ended it
  EXPECT_FALSE(ProcessAlive(pid));
  EXPECT_EQ(StateOf(supervisor, "stubborn").last_exit_signal, SIGKILL);
  EXPECT_EQ(StateOf(supervisor, "stubborn").phase, ProcessPhase::kStopped);
}

// A process that takes long to stop (Tempo 2.2–2.4 sleep 30 s on SIGTERM) is given its own
// stop timeout. On a fake clock: after SIGTERM the clock jumps past the default 10 s, two no-op
// commands make sure the supervisor's loop has looked at the deadlines since, and only then may
// the process finish its shutdown.
TEST(SupervisorTest, APerProcessStopTimeoutOutlastsTheDefault) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  Supervisor supervisor(clock);  // default stop timeout: 10 s
  ProcessSpec slow = Shell("slow", dir,
                           "trap 'while [ ! -e release ]; do sleep 0.02; done; exit 0' TERM; "
                           "touch armed; while true; do sleep 0.02; done");
  slow.stop_timeout = 35s;
  ASSERT_TRUE(supervisor.Start(slow).ok());
  ASSERT_TRUE(PollUntil([&] { return std::filesystem::exists(dir.path() / "armed"); }, 60s));
  std::thread stopper([&] { EXPECT_TRUE(supervisor.Stop("slow").ok()); });
  ASSERT_TRUE(
      PollUntil([&] { return StateOf(supervisor, "slow").phase == ProcessPhase::kStopping; }));
  clock.Advance(11s);
  EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(supervisor.Stop("nope").error().code, core::ErrorCode::kNotFound);
  std::ofstream(dir.path() / "release").close();
  stopper.join();
  const auto state = StateOf(supervisor, "slow");
  EXPECT_EQ(state.last_exit, "exited with status 0");  // not "killed by signal 9"
  EXPECT_FALSE(state.last_exit_signal.has_value());
}

TEST(SupervisorTest, APerProcessStopTimeoutStillEndsInSigkill) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  Supervisor supervisor(clock);
  ProcessSpec stubborn = Shell("stubborn", dir, "trap '' TERM; touch armed; exec sleep 1000");
  stubborn.stop_timeout = 35s;
  ASSERT_TRUE(supervisor.Start(stubborn).ok());
  ASSERT_TRUE(PollUntil([&] { return std::filesystem::exists(dir.path() / "armed"); }, 60s));
  std::thread stopper([&] { EXPECT_TRUE(supervisor.Stop("stubborn").ok()); });
  ASSERT_TRUE(
      PollUntil([&] { return StateOf(supervisor, "stubborn").phase == ProcessPhase::kStopping; }));
  clock.Advance(36s);
  stopper.join();
  EXPECT_EQ(StateOf(supervisor, "stubborn").last_exit_signal, SIGKILL);
}

TEST(SupervisorTest, DeadLeaderTakesItsGroupAlong) {
  TempDir dir;
  obsforge::testing::FakeClock clock;  // no restart: the clock never moves
  Supervisor supervisor(clock);
  ASSERT_TRUE(supervisor.Start(Shell("g", dir, "sleep 1000 & echo $!; exec sleep 1000")).ok());
  pid_t background = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto text = Slurp(dir.path() / "g.log");
        if (text.find('\n') == std::string::npos) {
          return false;
        }
        background = std::stoi(text);
        return true;
      },
      60s));
  ASSERT_TRUE(ProcessAlive(background));
  ::kill(StateOf(supervisor, "g").pid, SIGKILL);
  EXPECT_TRUE(PollUntil([&] { return !ProcessAlive(background); }, 60s));
}

TEST(SupervisorTest, StopAllLeavesNoChild) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock);
  std::vector<pid_t> pids;
  for (const auto* name : {"a", "b", "c"}) {
    ASSERT_TRUE(supervisor.Start(Sleeper(name, dir)).ok());
    pids.push_back(StateOf(supervisor, name).pid);
  }
  EXPECT_EQ(LiveChildren().size(), 3U);
  supervisor.StopAll();
  EXPECT_TRUE(LiveChildren().empty());
  for (pid_t pid : pids) {
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
  }
  for (const auto& state : supervisor.States()) {
    EXPECT_EQ(state.phase, ProcessPhase::kStopped) << state.name;
  }
}

TEST(SupervisorTest, DestructorStopsEverything) {
  TempDir dir;
  core::SystemClock clock;
  pid_t pid = 0;
  {
    Supervisor supervisor(clock);
    ASSERT_TRUE(supervisor.Start(Sleeper("s", dir)).ok());
    pid = StateOf(supervisor, "s").pid;
  }
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
  EXPECT_TRUE(LiveChildren().empty());
}

TEST(SupervisorTest, RestartReplacesTheProcess) {
  TempDir dir;
  core::SystemClock clock;
  Supervisor supervisor(clock);
  ASSERT_TRUE(supervisor.Start(Sleeper("s", dir)).ok());
  const pid_t first = StateOf(supervisor, "s").pid;
  ASSERT_TRUE(supervisor.Restart("s").ok());
  auto state = StateOf(supervisor, "s");
  EXPECT_EQ(state.phase, ProcessPhase::kRunning);
  EXPECT_NE(state.pid, first);
  EXPECT_EQ(state.restarts, 0);  // asked for, not a crash
  EXPECT_FALSE(ProcessAlive(first));
}

TEST(SupervisorTest, UnavailableIsReported) {
  core::SystemClock clock;
  Supervisor supervisor(clock);
  supervisor.SetUnavailable("loki", "loki not found on PATH");
  auto state = StateOf(supervisor, "loki");
  EXPECT_EQ(state.phase, ProcessPhase::kUnavailable);
  EXPECT_EQ(state.Describe(), "unavailable: loki not found on PATH");
}

TEST(SupervisorTest, LogIsBoundedByRotation) {
  TempDir dir;
  obsforge::testing::FakeClock clock;  // it exits when done; the clock never allows a restart
  Supervisor supervisor(clock);
  constexpr std::size_t kMax = 1 << 20;
  auto spec = Shell("chatty", dir, "yes | head -c 30000000");
  spec.log_max_bytes = kMax;
  ASSERT_TRUE(supervisor.Start(spec).ok());
  ASSERT_TRUE(PollUntil(
      [&] { return StateOf(supervisor, "chatty").phase == ProcessPhase::kRestarting; }, 60s));
  const auto log = dir.path() / "chatty.log";
  const auto old = dir.path() / "chatty.log.1";
  EXPECT_LE(std::filesystem::file_size(log), kMax);
  EXPECT_EQ(std::filesystem::file_size(old), kMax);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "chatty.log.2"));
  const auto tail = Slurp(old);
  EXPECT_EQ(tail.substr(0, 8), "y\ny\ny\ny\n");
}

TEST(SupervisorTest, NoOrphanWhenSupervisingProcessIsKilled) {
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    core::SystemClock clock;
    Supervisor supervisor(clock);
    auto started = supervisor.Start({.name = "s", .binary = "/bin/sleep", .args = {"1000"}});
    pid_t pid = started.ok() ? supervisor.State("s")->pid : 0;
    [[maybe_unused]] auto n = ::write(fds[1], &pid, sizeof(pid));
    while (true) {
      ::pause();
    }
  }
  ::close(fds[1]);
  pid_t sleeper = 0;
  ASSERT_EQ(::read(fds[0], &sleeper, sizeof(sleeper)), static_cast<ssize_t>(sizeof(sleeper)));
  ::close(fds[0]);
  ASSERT_GT(sleeper, 0);
  ASSERT_TRUE(ProcessAlive(sleeper));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(PollUntil([&] { return !ProcessAlive(sleeper); }, 60s));
}

}  // namespace
}  // namespace obsforge::apply
