#include "gitops/poller.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "support/fake_clock.h"

namespace obsforge::gitops {
namespace {

using namespace std::chrono_literals;

// Waits (real time, bounded) until `pred` holds.
template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 3s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

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
    return Eventually([&] { return reads_ >= seen + 3; });
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
  ASSERT_TRUE(Eventually([&] { return syncs == 1; }));
  clock.Advance(59s);
  ASSERT_TRUE(clock.WaitLooked());
  EXPECT_EQ(syncs, 1);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return syncs == 2; }));
  ASSERT_TRUE(clock.WaitLooked());
  EXPECT_EQ(syncs, 2);
  clock.Advance(60s);
  ASSERT_TRUE(Eventually([&] { return syncs == 3; }));
  poller.Stop();
}

TEST(PollerTest, TriggerNowSyncsAtOnce) {
  testing::FakeClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  ASSERT_TRUE(Eventually([&] { return syncs == 1; }));
  poller.TriggerNow();
  ASSERT_TRUE(Eventually([&] { return syncs == 2; }));
}

TEST(PollerTest, TriggersDuringASyncCoalesceIntoOneMore) {
  testing::FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int started = 0;
  std::atomic<int> finished{0};
  Poller poller(
      [&] {
        std::unique_lock lock(mu);
        ++started;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        ++finished;
      },
      clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 3s, [&] { return started == 1; }));
  }
  for (int i = 0; i < 5; ++i) {
    poller.TriggerNow();
  }
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(Eventually([&] { return finished == 2; }));
  // A third sync, had the triggers not coalesced, would be asked for already: WaitIdle waits for
  // it.
  ASSERT_TRUE(poller.WaitIdle(3s));
  EXPECT_EQ(finished, 2);
  std::lock_guard lock(mu);
  EXPECT_EQ(started, 2);
}

TEST(PollerTest, StopsPromptlyWithALongRealInterval) {
  core::SystemClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 1h, .recheck = 1h});
  poller.Start();
  ASSERT_TRUE(Eventually([&] { return syncs == 1; }));
  const auto start = std::chrono::steady_clock::now();
  poller.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  poller.TriggerNow();  // after Stop: nothing runs
  EXPECT_TRUE(poller.WaitIdle(0ms));
  poller.Stop();  // joins whatever could have run
  EXPECT_EQ(syncs, 1);
}

TEST(PollerTest, WaitIdleWaitsForARunningAndAnAskedForSync) {
  testing::FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int started = 0;
  std::atomic<int> finished{0};
  Poller poller(
      [&] {
        std::unique_lock lock(mu);
        ++started;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        ++finished;
      },
      clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 3s, [&] { return started == 1; }));
  }
  EXPECT_FALSE(poller.WaitIdle(0ms));  // the first sync runs
  poller.TriggerNow();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(poller.WaitIdle(3s));
  EXPECT_EQ(finished, 2);  // the triggered one ran too
  EXPECT_TRUE(poller.WaitIdle(0ms));
}

TEST(PollerTest, RealIntervalIsHonoured) {
  core::SystemClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 100ms, .recheck = 1s});
  const auto start = std::chrono::steady_clock::now();
  poller.Start();
  ASSERT_TRUE(Eventually([&] { return syncs == 3; }));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 2s);
}

}  // namespace
}  // namespace obsforge::gitops
