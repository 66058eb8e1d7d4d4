#include "apply/transaction.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "apply/lock.h"
#include "apply/tx/tx_test_util.h"
#include "core/clock.h"
#include "core/fs.h"
#include "support/fake_clock.h"
#include "support/meeting.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using testing::MakeBundle;
using testing::TempDir;

/// Records calls; fails Activate or Verify on demand for bundles containing a marker.
class FakeDriver final : public ComponentDriver {
 public:
  explicit FakeDriver(std::string component) : component_(std::move(component)) {}
  std::string Component() const override { return component_; }
  core::Result<void> Activate(const render::Bundle& bundle) override {
    calls.push_back("activate:" + Version(bundle));
    if (!fail_activate_on.empty() && Version(bundle) == fail_activate_on) {
      return core::Error{.code = core::ErrorCode::kUpstream,
                         .message = "failed to reload config: bad " + component_,
                         .upstream_status = 500};
    }
    return {};
  }
  core::Result<void> Verify(const render::Bundle& bundle) override {
    calls.push_back("verify:" + Version(bundle));
    if (!fail_verify_on.empty() && Version(bundle) == fail_verify_on) {
      return core::MakeError(core::ErrorCode::kTimeout, "not verified: " + component_);
    }
    return {};
  }
  std::string Version(const render::Bundle& bundle) const {
    for (const auto& [path, content] : bundle.files()) {
      if (path.rfind(component_ + "/", 0) == 0) {
        return content;
      }
    }
    return "none";
  }

  std::vector<std::string> calls;
  std::string fail_activate_on;
  std::string fail_verify_on;

 private:
  std::string component_;
};

render::Bundle Bundle(const std::string& prom, const std::string& am) {
  return MakeBundle({{"prometheus/prometheus.yml", prom}, {"alertmanager/alertmanager.yml", am}});
}

class ApplierTest : public ::testing::Test {
 protected:
  TempDir dir_;
  obsforge::testing::FakeClock clock_;
  Applier applier_{dir_.path(), clock_};
  FakeDriver prom_{"prometheus"};
  FakeDriver am_{"alertmanager"};
  std::vector<ComponentDriver*> drivers_{&prom_, &am_};
  std::vector<Step> steps_;
  StepCallback record_ = [this](const Step& s) { steps_.push_back(s); };

  fs::path Root() const { return applier_.EnvRoot("demo", "dev"); }
};

TEST_F(ApplierTest, FirstApplyActivatesEveryComponentAndRecordsLastGood) {
  const auto result = applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_, record_);
  EXPECT_EQ(result.outcome, Outcome::kApplied);
  EXPECT_EQ(result.revision, 1);
  EXPECT_FALSE(result.error);
  EXPECT_EQ(prom_.calls, (std::vector<std::string>{"activate:p1", "verify:p1"}));
  EXPECT_EQ(am_.calls, (std::vector<std::string>{"activate:a1", "verify:a1"}));
  EXPECT_EQ(result.components, (std::vector<std::string>{"prometheus", "alertmanager"}));
  EXPECT_EQ(result.plan.summary.added, 2);
  EXPECT_EQ(core::ReadFile(Root() / "last_good"), "1\n");
  EXPECT_EQ(core::ReadFile(Root() / "current/prometheus/prometheus.yml"), "p1");

  std::vector<std::string> names;
  for (const auto& s : steps_) {
    names.push_back(s.name + "/" + s.component + "/" + StepStateName(s.state));
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "write//running", "write//succeeded", "reload/prometheus/running",
                       "reload/prometheus/succeeded", "verify/prometheus/running",
                       "verify/prometheus/succeeded", "reload/alertmanager/running",
                       "reload/alertmanager/succeeded", "verify/alertmanager/running",
                       "verify/alertmanager/succeeded"}));
  EXPECT_EQ(steps_[0].started_at, clock_.Now());
}

TEST_F(ApplierTest, UnchangedBundleIsANoOp) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_).outcome, Outcome::kApplied);
  struct stat before {};
  ASSERT_EQ(::stat((Root() / "revisions/1/prometheus/prometheus.yml").c_str(), &before), 0);
  prom_.calls.clear();
  am_.calls.clear();

  const auto result = applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_, record_);
  EXPECT_EQ(result.outcome, Outcome::kUnchanged);
  EXPECT_EQ(result.revision, 1);
  EXPECT_TRUE(prom_.calls.empty());
  EXPECT_TRUE(am_.calls.empty());
  EXPECT_TRUE(steps_.empty());
  EXPECT_FALSE(fs::exists(Root() / "revisions/2"));
  struct stat after {};
  ASSERT_EQ(::stat((Root() / "revisions/1/prometheus/prometheus.yml").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

TEST_F(ApplierTest, OnlyComponentsWhoseFilesChangedAreActivated) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_).outcome, Outcome::kApplied);
  prom_.calls.clear();
  am_.calls.clear();
  const auto result = applier_.Apply("demo", "dev", Bundle("p1", "a2"), drivers_);
  EXPECT_EQ(result.outcome, Outcome::kApplied);
  EXPECT_EQ(result.revision, 2);
  EXPECT_TRUE(prom_.calls.empty());
  EXPECT_EQ(am_.calls, (std::vector<std::string>{"activate:a2", "verify:a2"}));
  EXPECT_EQ(result.plan.summary.changed, 1);
}

TEST_F(ApplierTest, ActivateFailureRollsBackToLastGood) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_).outcome, Outcome::kApplied);
  prom_.calls.clear();
  am_.calls.clear();
  am_.fail_activate_on = "a2";

  const auto result = applier_.Apply("demo", "dev", Bundle("p2", "a2"), drivers_, record_);
  EXPECT_EQ(result.outcome, Outcome::kRolledBack);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->message, "failed to reload config: bad alertmanager");
  EXPECT_EQ(result.error->upstream_status, 500);
  EXPECT_EQ(result.failed_component, "alertmanager");
  EXPECT_EQ(result.attempted, 2);
  EXPECT_EQ(result.revision, 1);
  EXPECT_EQ(prom_.calls,
            (std::vector<std::string>{"activate:p2", "verify:p2", "activate:p1", "verify:p1"}));
  EXPECT_EQ(am_.calls, (std::vector<std::string>{"activate:a2", "activate:a1", "verify:a1"}));
  EXPECT_EQ(core::ReadFile(Root() / "current/prometheus/prometheus.yml"), "p1");
  EXPECT_EQ(core::ReadFile(Root() / "last_good"), "1\n");

  ASSERT_GE(steps_.size(), 2U);
  const auto& failed = steps_[7];
  EXPECT_EQ(failed.name, "reload");
  EXPECT_EQ(failed.component, "alertmanager");
  EXPECT_EQ(failed.state, StepState::kFailed);
  EXPECT_EQ(failed.message, "failed to reload config: bad alertmanager");
  EXPECT_EQ(steps_.back().name, "rollback");
  EXPECT_EQ(steps_.back().state, StepState::kSucceeded);
  EXPECT_EQ(steps_.back().message, "back on revision 1");
}

TEST_F(ApplierTest, VerifyFailureRollsBackToo) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_).outcome, Outcome::kApplied);
  prom_.calls.clear();
  prom_.fail_verify_on = "p2";
  const auto result = applier_.Apply("demo", "dev", Bundle("p2", "a1"), drivers_);
  EXPECT_EQ(result.outcome, Outcome::kRolledBack);
  EXPECT_EQ(result.error->message, "not verified: prometheus");
  EXPECT_EQ(result.error->code, core::ErrorCode::kTimeout);
  EXPECT_EQ(prom_.calls,
            (std::vector<std::string>{"activate:p2", "verify:p2", "activate:p1", "verify:p1"}));
  EXPECT_EQ(result.revision, 1);
  // The same bundle again is retried, not taken for unchanged.
  prom_.fail_verify_on.clear();
  const auto retry = applier_.Apply("demo", "dev", Bundle("p2", "a1"), drivers_);
  EXPECT_EQ(retry.outcome, Outcome::kApplied);
  EXPECT_EQ(retry.revision, 3);
}

TEST_F(ApplierTest, FailedRollbackIsFailed) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_).outcome, Outcome::kApplied);
  prom_.fail_activate_on = "p2";
  prom_.fail_verify_on = "p1";
  const auto result = applier_.Apply("demo", "dev", Bundle("p2", "a1"), drivers_, record_);
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.error->message, "failed to reload config: bad prometheus");
  EXPECT_EQ(steps_.back().name, "rollback");
  EXPECT_EQ(steps_.back().state, StepState::kFailed);
  EXPECT_EQ(steps_.back().message,
            "prometheus did not take the last good revision back: not verified: prometheus");
}

TEST_F(ApplierTest, FirstApplyFailureLeavesNothingCurrent) {
  prom_.fail_activate_on = "p1";
  const auto result = applier_.Apply("demo", "dev", Bundle("p1", "a1"), drivers_);
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.error->message, "failed to reload config: bad prometheus");
  EXPECT_FALSE(result.revision);
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(Root() / "current")));
  EXPECT_TRUE(am_.calls.empty());
}

TEST_F(ApplierTest, PlanChangesNothing) {
  ASSERT_EQ(applier_.Apply("demo", "dev", Bundle("p1\n", "a1\n"), drivers_).outcome,
            Outcome::kApplied);
  auto plan = applier_.PlanFor("demo", "dev", Bundle("p2\n", "a1\n"));
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->ToText(),
            "--- a/prometheus/prometheus.yml\n+++ b/prometheus/prometheus.yml\n@@ -1 +1 @@\n"
            "-p1\n+p2\nPlan: 0 to add, 1 to change, 0 to remove.\n");
  RevisionStore store = RevisionStore::Open(Root()).value();
  EXPECT_EQ(store.List(), std::vector<int>{1});
  EXPECT_EQ(store.Current(), 1);
}

TEST_F(ApplierTest, OutcomeNames) {
  EXPECT_STREQ(OutcomeName(Outcome::kUnchanged), "unchanged");
  EXPECT_STREQ(OutcomeName(Outcome::kApplied), "applied");
  EXPECT_STREQ(OutcomeName(Outcome::kRolledBack), "rolled_back");
  EXPECT_STREQ(OutcomeName(Outcome::kFailed), "failed");
}

/// Tracks how many activations overlap: each stays in Activate until two were in at once (then
/// every later one passes through), or `hold` passed.
class MeetingDriver final : public ComponentDriver {
 public:
  MeetingDriver(std::atomic<int>& active,
                std::atomic<int>& max_active,
                obsforge::testing::Meeting& meeting,
                std::chrono::milliseconds hold)
      : active_(active), max_active_(max_active), meeting_(meeting), hold_(hold) {}
  std::string Component() const override { return "prometheus"; }
  core::Result<void> Activate(const render::Bundle& /*bundle*/) override {
    const int now = ++active_;
    int seen = max_active_.load();
    while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
    }
    (void)meeting_.Arrive(hold_);
    --active_;
    return {};
  }
  core::Result<void> Verify(const render::Bundle& /*bundle*/) override { return {}; }

 private:
  std::atomic<int>& active_;
  std::atomic<int>& max_active_;
  obsforge::testing::Meeting& meeting_;
  std::chrono::milliseconds hold_;
};

int MaxOverlap(const std::vector<std::pair<std::string, std::string>>& envs,
               std::chrono::milliseconds hold) {
  TempDir dir;
  core::SystemClock clock;
  Applier applier(dir.path(), clock);
  std::atomic<int> active{0};
  std::atomic<int> max_active{0};
  obsforge::testing::Meeting meeting(2);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < envs.size(); ++i) {
    threads.emplace_back([&, i] {
      MeetingDriver driver(active, max_active, meeting, hold);
      const auto result =
          applier.Apply(envs[i].first, envs[i].second,
                        MakeBundle({{"prometheus/p.yml", std::to_string(i)}}), {&driver});
      EXPECT_EQ(result.outcome, Outcome::kApplied);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  return max_active.load();
}

/// Checks, from inside each activation, that the environment's lock file is locked: another
/// open of it cannot take the flock. A flock excludes every other holder, thread or process, so
/// activations that all run under it cannot overlap.
class LockProbeDriver final : public ComponentDriver {
 public:
  LockProbeDriver(fs::path lock_file, std::atomic<int>& held, std::atomic<int>& unlocked)
      : lock_file_(std::move(lock_file)), held_(held), unlocked_(unlocked) {}
  std::string Component() const override { return "prometheus"; }
  core::Result<void> Activate(const render::Bundle& /*bundle*/) override {
    const int fd = ::open(lock_file_.c_str(), O_RDWR | O_CLOEXEC);  // NOLINT
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
      ++held_;
    } else {
      ++unlocked_;
    }
    if (fd >= 0) {
      ::close(fd);
    }
    return {};
  }
  core::Result<void> Verify(const render::Bundle& /*bundle*/) override { return {}; }

 private:
  fs::path lock_file_;
  std::atomic<int>& held_;
  std::atomic<int>& unlocked_;
};

TEST(ApplierConcurrency, SameEnvironmentIsSerialized) {
  TempDir dir;
  core::SystemClock clock;
  Applier applier(dir.path(), clock);
  std::atomic<int> held{0};
  std::atomic<int> unlocked{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      LockProbeDriver driver(dir.path() / "stacks" / "s" / "dev" / "lock", held, unlocked);
      const auto result = applier.Apply(
          "s", "dev", MakeBundle({{"prometheus/p.yml", std::to_string(i)}}), {&driver});
      EXPECT_EQ(result.outcome, Outcome::kApplied);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(held.load(), 4);
  EXPECT_EQ(unlocked.load(), 0);
}

TEST(ApplierConcurrency, DifferentEnvironmentsRunInParallel) {
  // The first activation waits until a second is in at once: ends as soon as they meet, whatever
  // the load; the bound only ends a test of serialized environments.
  EXPECT_GE(MaxOverlap({{"s", "dev"}, {"s", "prod"}, {"t", "dev"}, {"t", "prod"}},
                       std::chrono::seconds(10)),
            2);
}

TEST(EnvLock, LeftoverLockFileDoesNotBlockAndFlockExcludesOtherProcesses) {
  TempDir dir;
  core::WriteFileAtomic(dir.path() / "lock", "stale");
  {
    auto lock = EnvLock::Acquire("s", "e", dir.path());
    ASSERT_TRUE(lock) << lock.error().message;
    // Another process (a forked child) cannot take the flock while it is held.
    const pid_t child = ::fork();
    if (child == 0) {
      const int fd = ::open((dir.path() / "lock").c_str(), O_RDWR);  // NOLINT
      const int rc = ::flock(fd, LOCK_EX | LOCK_NB);
      ::_exit(rc == 0 ? 0 : 7);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 7);
  }
  auto again = EnvLock::Acquire("s", "e", dir.path());
  EXPECT_TRUE(again);
}

}  // namespace
}  // namespace obsforge::apply
