#include "gitops/poller.h"

#include <algorithm>
#include <utility>

namespace obsforge::gitops {

Poller::Poller(std::function<void()> sync, core::Clock& clock, PollerOptions options)
    : sync_(std::move(sync)), clock_(clock), options_(options) {
}

Poller::~Poller() {
  Stop();
}

void Poller::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) {
    return;
  }
  pending_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Poller::TriggerNow() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void Poller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  idle_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

bool Poller::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return !running_ && (stop_ || !pending_); });
}

void Poller::Run() {
  std::unique_lock lock(mu_);
  auto due = clock_.Monotonic();
  while (!stop_) {
    const auto now = clock_.Monotonic();
    if (!pending_ && now < due) {
      // Real waiting is bounded by `recheck` because the injected clock may not be real time.
      const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(due - now),
                                 std::chrono::milliseconds(1));
      cv_.wait_for(lock, std::min(left, options_.recheck), [this] { return stop_ || pending_; });
      continue;
    }
    // Clearing before the sync is what makes a trigger during the sync cause one more.
    pending_ = false;
    running_ = true;
    lock.unlock();
    try {
      sync_();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the contract says sync must not throw
    }
    lock.lock();
    running_ = false;
    idle_cv_.notify_all();
    due = clock_.Monotonic() + options_.interval;
  }
}

}  // namespace obsforge::gitops
