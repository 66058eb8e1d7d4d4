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

TEST(PollerTest, SyncsAtStartThenEveryIntervalOfTheInjectedClock) {
  testing::FakeClock clock;
  std::atomic<int> syncs{0};
  Poller poller([&] { ++syncs; }, clock, {.interval = 60s, .recheck = 2ms});
  poller.Start();
  ASSERT_TRUE(Eventually([&] { return syncs == 1; }));
  clock.Advance(59s);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(syncs, 1);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return syncs == 2; }));
  std::this_thread::sleep_for(30ms);
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
  std::this_thread::sleep_for(50ms);
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
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(syncs, 1);
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
