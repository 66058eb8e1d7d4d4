#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace obsforge::gitops {

/// How often to sync.
struct PollerOptions {
  /// Time between syncs, measured on the injected clock from the end of the previous sync.
  std::chrono::milliseconds interval{60'000};
  /// Longest real wait before the clock is read again; it bounds how late a poll can be when the
  /// clock is not the system clock (a FakeClock moved by a test). Keep it ≤ interval.
  std::chrono::milliseconds recheck{1'000};
};

/// A thread that runs `sync` once at start, then every `interval`, and at once on TriggerNow().
/// Syncs never overlap. Triggers coalesce: any number of TriggerNow() calls while a sync runs
/// cause exactly one more sync after it. `sync` must not throw (an exception is swallowed).
class Poller {
 public:
  Poller(std::function<void()> sync, core::Clock& clock, PollerOptions options);
  /// Stops (see Stop()).
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  /// Starts the thread (the first sync runs at once). Idempotent.
  void Start();
  /// Asks for a sync as soon as possible (webhooks). Never blocks on a running sync.
  void TriggerNow();
  /// Stops promptly: waits only for a sync already running. Idempotent.
  void Stop();
  /// Blocks until no sync is running or asked for (TriggerNow() or Start() not yet served), or
  /// `timeout` passed; true when idle. Syncs due later by the interval do not count. After
  /// Stop() it returns true at once: nothing asked for will run.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  void Run();

  std::function<void()> sync_;
  core::Clock& clock_;
  PollerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;  // WaitIdle's: cv_ wakes only the thread
  bool stop_ = false;
  bool pending_ = false;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace obsforge::gitops
