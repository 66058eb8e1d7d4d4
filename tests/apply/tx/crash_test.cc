// Crash safety: a child process (this same binary, re-executed into ApplyCrashChild.Loop) applies
// revisions in a loop and is killed with SIGKILL at random moments. After every kill the
// environment must be on one complete revision and the next apply must go through.
//
// The child reports every apply it finished over a pipe; the parent kills it only after it has
// finished at least one, so every trial is known to interrupt a child that made progress (the
// moment of the kill inside the following applies is what is random, not whether it happens).
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "apply/revisions.h"
#include "apply/transaction.h"
#include "apply/tx/tx_test_util.h"
#include "core/clock.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
constexpr const char* kChildEnv = "OBS_APPLY_CRASH_CHILD_DIR";
constexpr const char* kChildFdEnv = "OBS_APPLY_CRASH_CHILD_FD";

/// Generation `g` of a bundle: every file carries `g`, so a mix of generations is detectable.
render::Bundle Generation(long long g) {
  render::Bundle b;
  const auto tag = "generation: " + std::to_string(g) + "\n";
  b.Add("MANIFEST.json", tag);
  b.Add("prometheus/prometheus.yml", tag + std::string(static_cast<std::size_t>(g % 7) * 300, '#'));
  for (int i = 0; i < 4; ++i) {
    b.Add("prometheus/rules/r" + std::to_string(i) + ".yaml", tag);
  }
  b.Add("alertmanager/alertmanager.yml", tag);
  return b;
}

class NoopDriver final : public ComponentDriver {
 public:
  explicit NoopDriver(std::string c) : c_(std::move(c)) {}
  std::string Component() const override { return c_; }
  core::Result<void> Activate(const render::Bundle&) override { return {}; }
  core::Result<void> Verify(const render::Bundle&) override { return {}; }

 private:
  std::string c_;
};

TEST(ApplyCrashChild, Loop) {
  const char* dir = std::getenv(kChildEnv);
  if (dir == nullptr) {
    GTEST_SKIP() << "only runs as the child of ApplyCrash.SigkillAtRandomPoints";
  }
  core::SystemClock clock;
  Applier applier(dir, clock, {.keep = 3});
  NoopDriver prom("prometheus");
  NoopDriver am("alertmanager");
  const char* fd_text = std::getenv(kChildFdEnv);
  const int fd = fd_text == nullptr ? -1 : std::atoi(fd_text);
  for (long long g = static_cast<long long>(::getpid()) * 100000;; ++g) {
    const auto result = applier.Apply("crash", "dev", Generation(g), {&prom, &am});
    if (fd >= 0 && result.outcome == Outcome::kApplied) {
      const char done = 'a';
      (void)::write(fd, &done, 1);
    }
  }
}

// The generation recorded in a bundle, or -1 when its files disagree (a mix).
long long GenerationOf(const render::Bundle& b) {
  const auto* manifest = b.Find("MANIFEST.json");
  if (manifest == nullptr) {
    return -1;
  }
  const long long g = std::stoll(manifest->substr(std::string("generation: ").size()));
  return b == Generation(g) ? g : -1;
}

TEST(ApplyCrash, SigkillAtRandomPoints) {
  testing::TempDir dir;
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> fraction(0.0, 2.0);
  auto apply_time = std::chrono::microseconds(20000);
  const auto self = fs::read_symlink("/proc/self/exe");
  core::SystemClock clock;
  Applier applier(dir.path(), clock, {.keep = 3});
  NoopDriver prom("prometheus");
  NoopDriver am("alertmanager");
  int progressed = 0;
  std::optional<int> previous;
  constexpr int kTrials = 50;
  for (int trial = 0; trial < kTrials; ++trial) {
    int ready[2] = {-1, -1};
    ASSERT_EQ(::pipe(ready), 0);  // NOLINT(android-cloexec-pipe): the child must inherit it
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(ready[0]);
      ::setenv(kChildEnv, dir.path().c_str(), 1);
      ::setenv(kChildFdEnv, std::to_string(ready[1]).c_str(), 1);
      const int null = ::open("/dev/null", O_WRONLY);  // NOLINT
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(self.c_str(), self.c_str(), "--gtest_filter=ApplyCrashChild.Loop", nullptr);
      ::_exit(127);
    }
    ASSERT_GT(child, 0);
    // Once the child has finished one or two applies, kill it anywhere within about two more.
    ::close(ready[1]);
    const int finished = 1 + static_cast<int>(rng() % 2);
    for (int i = 0; i < finished; ++i) {
      char byte = 0;
      ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "trial " << trial << ": child did not apply";
    }
    std::this_thread::sleep_for(
        std::chrono::duration_cast<std::chrono::microseconds>(apply_time * fraction(rng)));
    ::kill(child, SIGKILL);
    ::close(ready[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "trial " << trial << ": child exited with " << status;

    auto store = RevisionStore::Open(applier.EnvRoot("crash", "dev"));
    ASSERT_TRUE(store) << store.error().message;
    const auto current = store->Current();
    if (current) {
      auto bundle = store->Load(*current);
      ASSERT_TRUE(bundle) << "trial " << trial << ": " << bundle.error().message;
      EXPECT_GE(GenerationOf(*bundle), 0)
          << "trial " << trial << ": revision " << *current << " mixes generations";
      for (const int n : store->List()) {
        auto other = store->Load(n);
        ASSERT_TRUE(other) << "trial " << trial << ": " << other.error().message;
        EXPECT_GE(GenerationOf(*other), 0);
      }
      progressed += current != previous ? 1 : 0;
      previous = current;
    }
    // The next apply is not blocked by the dead child's lock and lands completely.
    const auto next = Generation(1000 + trial);
    const auto started = std::chrono::steady_clock::now();
    const auto result = applier.Apply("crash", "dev", next, {&prom, &am});
    apply_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    ASSERT_EQ(result.outcome, Outcome::kApplied) << "trial " << trial;
    auto reopened = RevisionStore::Open(applier.EnvRoot("crash", "dev"));
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->Load(*reopened->Current()).value(), next);
    previous = reopened->Current();
  }
  // Every child finished an apply before it was killed, so each trial moved the environment on.
  EXPECT_EQ(progressed, kTrials);
}

}  // namespace
}  // namespace obsforge::apply
