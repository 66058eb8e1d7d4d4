#include "provision/parallel.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace obsforge::provision {
namespace {

TEST(ParallelFor, CallsEveryIndexOnce) {
  std::vector<std::atomic<int>> calls(100);
  ParallelFor(calls.size(), 4, [&](std::size_t i) { ++calls[i]; });
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].load(), 1) << i;
  }
}

TEST(ParallelFor, ZeroCountCallsNothing) {
  ParallelFor(0, 4, [](std::size_t) { FAIL() << "called"; });
}

TEST(ParallelFor, RethrowsTheExceptionOfAWorkerToTheCaller) {
  // Every index throws, so whichever runs first on whatever thread, the caller must get one of
  // them (and the process must not end).
  std::atomic<int> calls{0};
  try {
    ParallelFor(64, 4, [&](std::size_t i) {
      ++calls;
      throw std::runtime_error("index " + std::to_string(i));
    });
    FAIL() << "nothing thrown";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("index ", 0), 0U) << e.what();
  }
  // Indices not started when the first threw are skipped: at most one call per thread.
  EXPECT_GE(calls.load(), 1);
  EXPECT_LE(calls.load(), 4);
}

TEST(ParallelFor, OtherIndicesFinishBeforeTheExceptionReachesTheCaller) {
  std::atomic<int> running{0};
  std::atomic<int> finished{0};
  EXPECT_THROW(ParallelFor(2, 2,
                           [&](std::size_t i) {
                             ++running;
                             if (i == 1) {
                               // Wait until the other index started, then fail.
                               while (running.load() < 2) {
                                 std::this_thread::yield();
                               }
                               throw std::logic_error("odd answer");
                             }
                             while (running.load() < 2) {
                               std::this_thread::yield();
                             }
                             ++finished;
                           }),
               std::logic_error);
  EXPECT_EQ(finished.load(), 1) << "ParallelFor returned before the running call was done";
}

TEST(ParallelFor, SingleThreadRethrowsToo) {
  EXPECT_THROW(ParallelFor(3, 1, [](std::size_t) { throw std::out_of_range("x"); }),
               std::out_of_range);
}

}  // namespace
}  // namespace obsforge::provision
