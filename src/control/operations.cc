#include "control/operations.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <random>

#include <unistd.h>

namespace obsforge::control {
namespace {

store::StepState ToStoreState(apply::StepState state) {
  switch (state) {
    case apply::StepState::kRunning:
      return store::StepState::kRunning;
    case apply::StepState::kSucceeded:
      return store::StepState::kSucceeded;
    case apply::StepState::kFailed:
      return store::StepState::kFailed;
  }
  return store::StepState::kFailed;
}

}  // namespace

OperationContext::OperationContext(store::OperationStore& store,
                                   const store::Operation& op,
                                   core::Logger& logger,
                                   std::function<void(const apply::Step&)> on_step)
    : store_(store), op_(op), logger_(logger), on_step_(std::move(on_step)) {
}

void OperationContext::OnStep(const apply::Step& step) {
  if (on_step_) {
    on_step_(step);
  }
  const std::string name = step.component.empty() ? step.name : step.name + ":" + step.component;
  auto it = indexes_.find(name);
  if (it == indexes_.end()) {
    auto index = store_.AppendStep(op_.id, name, ToStoreState(step.state));
    if (!index.ok()) {
      logger_.Warn("cannot record step", {{"op", op_.id}, {"error", index.error().message}});
      return;
    }
    it = indexes_.emplace(name, *index).first;
    if (step.state == apply::StepState::kRunning && step.message.empty()) {
      return;
    }
  }
  auto updated = store_.UpdateStep(op_.id, it->second, ToStoreState(step.state), step.message);
  if (!updated.ok()) {
    logger_.Warn("cannot record step", {{"op", op_.id}, {"error", updated.error().message}});
  }
}

apply::StepCallback OperationContext::Callback() {
  return [this](const apply::Step& step) { OnStep(step); };
}

std::string DefaultReplicaId() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  std::random_device random;
  std::array<char, 16> suffix{};
  std::snprintf(suffix.data(), suffix.size(), "%06x", random() & 0xffffffU);
  return std::string(host.data()) + "-" + std::to_string(::getpid()) + "-" + suffix.data();
}

OperationRunner::OperationRunner(store::OperationStore& store,
                                 core::Logger& logger,
                                 OperationRunnerOptions options)
    : store_(store), logger_(logger), options_(std::move(options)) {
  if (options_.owner.empty()) {
    options_.owner = DefaultReplicaId();
  }
  options_.workers = std::max(options_.workers, 1);
  options_.lease = std::max(options_.lease, std::chrono::milliseconds(30));
  options_.poll = std::max(options_.poll, std::chrono::milliseconds(1));
}

OperationRunner::~OperationRunner() {
  Stop();
}

void OperationRunner::Stop() {
  Drain(std::chrono::steady_clock::time_point::max());
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads = std::move(threads_);
  }
  wake_cv_.notify_all();
  for (std::thread& t : threads) {
    t.join();
  }
}

void OperationRunner::Start(WorkOf work_of, Abandoned abandoned) {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) {
    return;
  }
  started_ = true;
  work_of_ = std::move(work_of);
  abandoned_ = std::move(abandoned);
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  threads_.emplace_back([this] { KeeperLoop(); });
}

core::Result<std::vector<store::Operation>> OperationRunner::SubmitCreated(const Creator& create) {
  {
    std::lock_guard lock(mu_);
    if (draining_) {
      return core::MakeError(core::ErrorCode::kUnavailable, "server is shutting down");
    }
  }
  auto created = create();
  if (created.ok() && !created->empty()) {
    std::lock_guard lock(mu_);
    ++generation_;
    wake_cv_.notify_all();
  }
  return created;
}

void OperationRunner::Wake() {
  std::lock_guard lock(mu_);
  ++generation_;
  wake_cv_.notify_all();
}

core::Result<std::vector<store::Operation>> OperationRunner::FailAbandoned(
    const std::string& error) {
  bool started = false;
  {
    std::lock_guard lock(mu_);
    started = started_;
  }
  // A configured replica name is the same after a restart: until this run claims anything, the
  // claims under it were left by the run before.
  return store_.FailAbandonedOperations(
      options_.owner, started ? store::OwnClaims::kLive : store::OwnClaims::kLeftByEarlierRun,
      error);
}

void OperationRunner::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (draining_) {
      wake_cv_.wait(lock, [this] { return stopping_; });
      continue;
    }
    const std::uint64_t generation = generation_;
    ++claiming_;  // a claim in flight may take an operation: not idle until it says
    lock.unlock();
    auto claimed = store_.ClaimNextOperation(options_.owner, options_.lease);
    lock.lock();
    --claiming_;
    idle_cv_.notify_all();
    if (claimed.ok() && claimed->has_value()) {
      ++running_;
      lock.unlock();
      Run(**claimed);
      lock.lock();
      --running_;
      ++generation_;  // the next operation of its environment may start now
      wake_cv_.notify_all();
      idle_cv_.notify_all();
      continue;
    }
    if (!claimed.ok()) {
      lock.unlock();
      logger_.Warn("cannot claim an operation", {{"error", claimed.error().message}});
      lock.lock();
    } else {
      empty_seen_ = std::max(empty_seen_, generation);
    }
    // Woken by a submit or an end here; operations other processes queue are found by polling.
    wake_cv_.wait_for(lock, options_.poll,
                      [&] { return stopping_ || draining_ || generation_ != generation; });
  }
}

void OperationRunner::KeeperLoop() {
  const auto renew_every = options_.lease / 3;
  const auto reap_every = std::max(options_.poll, options_.lease / 2);
  auto next_reap = std::chrono::steady_clock::now();
  auto renewed = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const bool working = running_ > 0;
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    if (working) {
      if (auto renew = store_.RenewLeases(options_.owner, options_.lease); renew.ok()) {
        renewed = now;
      } else if (now - renewed > options_.lease) {
        // Another process may take these operations as abandoned now; the work goes on, but its
        // outcome will be refused (the store ended the operation already).
        logger_.Error("operation claims not renewed within their lease",
                      {{"owner", options_.owner}, {"error", renew.error().message}});
      }
    } else {
      renewed = now;
    }
    if (now >= next_reap) {
      next_reap = now + reap_every;
      auto failed = FailAbandoned("interrupted: the replica " +
                                  std::string("that claimed it stopped renewing its claim"));
      if (!failed.ok()) {
        logger_.Warn("cannot look for abandoned operations", {{"error", failed.error().message}});
      } else if (!failed->empty()) {
        for (const store::Operation& op : *failed) {
          logger_.Warn("abandoned operation failed",
                       {{"op", op.id}, {"owner", op.owner}, {"stack", op.stack}, {"env", op.env}});
        }
        if (abandoned_) {
          abandoned_(*failed);
        }
      }
    }
    lock.lock();
    wake_cv_.wait_for(lock, std::min<std::chrono::milliseconds>(renew_every, reap_every),
                      [this] { return stopping_; });
  }
}

void OperationRunner::Run(const store::Operation& claimed) {
  const store::Operation& op = claimed;
  const auto started = std::chrono::steady_clock::now();
  OperationOutcome outcome;
  try {
    OperationContext context(store_, op, logger_, [this, &op](const apply::Step& step) {
      std::shared_lock lock(observers_mu_);
      for (OperationObserver* observer : observers_) {
        observer->OnStep(op, step);
      }
    });
    outcome = work_of_ ? work_of_(op)(context) : OperationOutcome{};
  } catch (const std::exception& e) {
    outcome = {.state = store::OperationState::kFailed, .error = e.what()};
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto done = store_.UpdateOperationState(
      op.id, {.state = outcome.state, .error = outcome.error, .result_json = outcome.result_json});
  if (!done.ok()) {
    logger_.Error("cannot record operation outcome",
                  {{"op", op.id}, {"error", done.error().message}});
  }
  {
    std::shared_lock lock(observers_mu_);
    for (OperationObserver* observer : observers_) {
      observer->OnFinished(op, outcome, seconds);
    }
  }
  logger_.Info("operation finished", {{"op", op.id},
                                      {"kind", store::Name(op.kind)},
                                      {"stack", op.stack},
                                      {"env", op.env},
                                      {"state", store::Name(outcome.state)},
                                      {"duration_ms", std::to_string(seconds * 1000)},
                                      {"error", outcome.error}});
}

bool OperationRunner::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [this] {
    return running_ == 0 && claiming_ == 0 && empty_seen_ >= generation_;
  });
}

bool OperationRunner::Drain(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  draining_ = true;
  wake_cv_.notify_all();
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    idle_cv_.wait(lock, [this] { return running_ == 0 && claiming_ == 0; });
    return true;
  }
  return idle_cv_.wait_until(lock, deadline, [this] { return running_ == 0 && claiming_ == 0; });
}

int OperationRunner::pending() const {
  std::lock_guard lock(mu_);
  return running_;
}

void OperationRunner::AddObserver(OperationObserver& observer) {
  std::unique_lock lock(observers_mu_);
  observers_.push_back(&observer);
}

void OperationRunner::RemoveObserver(OperationObserver& observer) {
  std::unique_lock lock(observers_mu_);
  std::erase(observers_, &observer);
}

}  // namespace obsforge::control
