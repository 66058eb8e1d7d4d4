#include "gitops/poller.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "support/fake_clock.h"
#include "support/poll_until.h"

namespace obsforge::gitops {
namespace {

using namespace std::chrono_literals;

// A FakeClock that counts how often the poller read its monotonic time. The poller decides
// whether to sync right after a read, and reads again after a sync, so once it has read the clock
// three more times every decision it took on the time it saw has shown.
class CountingClock final : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() override { return clock_.Now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    const auto now = clock_.Monotonic();
    ++reads_;
    return now;
  }
  void SleepFor(std::chrono::milliseconds d) override { clock_.SleepFor(d); }
  void Advance(std::chrono::milliseconds d) { clock_.Advance(d); }
  // Waits until the poller has read the clock three more times than when called.
  bool WaitLooked() {
    const int seen = reads_;
    return obsforge::testing::PollUntil([&] { return reads_ >= seen + 3; });
  }

 private:
  testing::FakeClock clock_;
  std::atomic<int> reads_{0};
};

TEST(PollerTest, SyncsAtStartThenEveryIntervalOfTheInjectedClock) {
  CountingClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  // After each sync the poller reads the clock for the next one's time; WaitIdle returns after
  // that (the same lock), so the clock moves only once the next sync's time is set.
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 1; }));
  ASSERT_TRUE(poller.WaitIdle(30s));
  clock.Advance(59s);
  ASSERT_TRUE(clock.WaitLooked());
  EXPECT_EQ(syncs, 1);
  clock.Advance(1s);
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 2; }));
  ASSERT_TRUE(poller.WaitIdle(30s));
  ASSERT_TRUE(clock.WaitLooked());
  EXPECT_EQ(syncs, 2);
  clock.Advance(60s);
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 3; }));
  poller.Stop();
}

TEST(PollerTest, TriggerNowSyncsAtOnce) {
  testing::FakeClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 1; }));
  poller.TriggerNow();
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 2; }));
}

// A sync that blocks until Release(), counting the syncs started and finished.
class BlockingSync {
 public:
  void operator()() {
    std::unique_lock lock(mu_);
    ++started_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return release_; });
    ++finished_;
  }
  // Waits until `n` syncs started.
  bool WaitStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 3s, [&] { return started_ >= n; });
  }
  // Lets every sync, running or to come, finish.
  void Release() {
    {
      std::lock_guard lock(mu_);
      release_ = true;
    }
    cv_.notify_all();
  }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  int finished() const { return finished_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool release_ = false;
  int started_ = 0;
  std::atomic<int> finished_{0};
};

TEST(PollerTest, TriggersDuringASyncCoalesceIntoOneMore) {
  testing::FakeClock clock;
  BlockingSync sync;
  Poller poller([&] { sync(); }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  ASSERT_TRUE(sync.WaitStarted(1));
  for (int i = 0; i < 5; ++i) {
    poller.TriggerNow();
  }
  sync.Release();
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return sync.finished() == 2; }));
  // A third sync, had the triggers not coalesced, would be asked for already: WaitIdle waits for
  // it.
  ASSERT_TRUE(poller.WaitIdle(30s));
  EXPECT_EQ(sync.finished(), 2);
  EXPECT_EQ(sync.started(), 2);
}

TEST(PollerTest, StopsPromptlyWithALongRealInterval) {
  core::SystemClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 1h, .recheck = 1h});
  poller.Start();
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 1; }));
  const auto start = std::chrono::steady_clock::now();
  poller.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // not the hour of the interval
  poller.TriggerNow();                                       // after Stop: nothing runs
  EXPECT_TRUE(poller.WaitIdle(0ms));
  poller.Stop();  // joins whatever could have run
  EXPECT_EQ(syncs, 1);
}

TEST(PollerTest, WaitIdleWaitsForARunningAndAnAskedForSync) {
  testing::FakeClock clock;
  BlockingSync sync;
  Poller poller([&] { sync(); }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  ASSERT_TRUE(sync.WaitStarted(1));
  EXPECT_FALSE(poller.WaitIdle(0ms));  // the first sync runs
  poller.TriggerNow();
  sync.Release();
  ASSERT_TRUE(poller.WaitIdle(30s));
  EXPECT_EQ(sync.finished(), 2);  // the triggered one ran too
  EXPECT_TRUE(poller.WaitIdle(0ms));
}

TEST(PollerTest, RealIntervalIsHonoured) {
  core::SystemClock clock;
  std::atomic<int> syncs{0};
  // Nothing but the interval can bring three syncs within the wait: the recheck is an hour.
  Poller poller([&] { ++syncs; }, clock, {.interval = 100ms, .recheck = 1h});
  const auto start = std::chrono::steady_clock::now();
  poller.Start();
  ASSERT_TRUE(obsforge::testing::PollUntil([&] { return syncs == 3; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
}

}  // namespace
}  // namespace obsforge::gitops
