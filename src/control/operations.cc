#include "control/operations.h"

#include <algorithm>
#include <exception>

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

OperationRunner::OperationRunner(store::OperationStore& store,
                                 core::Logger& logger,
                                 OperationRunnerOptions options)
    : store_(store), logger_(logger) {
  const int workers = options.workers > 0 ? options.workers : 1;
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

OperationRunner::~OperationRunner() {
  Drain(std::chrono::steady_clock::time_point::max());
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_cv_.notify_all();
  for (std::thread& t : workers_) {
    t.join();
  }
}

core::Result<store::Operation> OperationRunner::Submit(const store::NewOperation& op,
                                                       OperationWork work) {
  auto created = SubmitCreated(
      [&]() -> core::Result<std::vector<store::Operation>> {
        auto one = store_.CreateOperation(op);
        if (!one.ok()) {
          return one.error();
        }
        return std::vector<store::Operation>{std::move(*one)};
      },
      [&](const store::Operation& /*op*/) { return std::move(work); });
  if (!created.ok()) {
    return created.error();
  }
  return std::move(created->front());
}

core::Result<std::vector<store::Operation>> OperationRunner::SubmitCreated(const Creator& create,
                                                                           const WorkOf& work_of) {
  std::unique_lock lock(mu_);
  if (draining_) {
    return core::MakeError(core::ErrorCode::kUnavailable, "server is shutting down");
  }
  // Created under the lock so that queue order equals creation (id) order.
  auto created = create();
  if (!created.ok()) {
    return created;
  }
  for (const store::Operation& op : *created) {
    EnqueueLocked(Task{.op = op, .work = work_of(op)});
  }
  return created;
}

void OperationRunner::EnqueueLocked(Task task) {
  const Key key{task.op.stack, task.op.env};
  queues_[key].push_back(std::move(task));
  ++pending_;
  if (!busy_[key] && queues_[key].size() == 1) {
    busy_[key] = true;
    ready_.push_back(key);
    ready_cv_.notify_one();
  }
}

void OperationRunner::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    ready_cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (ready_.empty()) {
      return;  // stopping with nothing left
    }
    const Key key = ready_.front();
    ready_.pop_front();
    // The task stays at the front of its queue while it runs; only this worker touches it.
    Task& task = queues_[key].front();
    lock.unlock();
    Run(task);
    lock.lock();
    auto& queue = queues_[key];
    queue.pop_front();
    --pending_;
    if (queue.empty()) {
      queues_.erase(key);
      busy_.erase(key);
    } else {
      ready_.push_back(key);
      ready_cv_.notify_one();
    }
    idle_cv_.notify_all();
  }
}

void OperationRunner::Run(Task& task) {
  store::Operation& op = task.op;
  auto running = store_.UpdateOperationState(op.id, {.state = store::OperationState::kRunning});
  if (!running.ok()) {
    // Superseded by a later change of the same environment (the store marked it when that
    // change was queued), failed by Drain() at its deadline, or the database is gone: nothing
    // to run.
    auto now = store_.GetOperation(op.id);
    if (now.ok() && now->state == store::OperationState::kSuperseded) {
      logger_.Info("operation superseded", {{"op", op.id}, {"stack", op.stack}, {"env", op.env}});
      return;
    }
    logger_.Warn("operation not started", {{"op", op.id}, {"error", running.error().message}});
    return;
  }
  op = *running;
  const auto started = std::chrono::steady_clock::now();
  OperationOutcome outcome;
  try {
    OperationContext context(store_, op, logger_, [this, &op](const apply::Step& step) {
      std::shared_lock lock(observers_mu_);
      for (OperationObserver* observer : observers_) {
        observer->OnStep(op, step);
      }
    });
    outcome = task.work(context);
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
  return idle_cv_.wait_until(lock, deadline, [this] { return pending_ == 0; });
}

bool OperationRunner::Drain(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  draining_ = true;
  bool done = true;
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    idle_cv_.wait(lock, [this] { return pending_ == 0; });
  } else {
    done = idle_cv_.wait_until(lock, deadline, [this] { return pending_ == 0; });
  }
  if (done) {
    return true;
  }
  // Fail what has not started; running work keeps going (it cannot be interrupted safely).
  for (auto& [key, queue] : queues_) {
    for (std::size_t i = busy_[key] ? 1 : 0; i < queue.size(); ++i) {
      (void)store_.UpdateOperationState(queue[i].op.id, {.state = store::OperationState::kFailed,
                                                         .error = "server shutting down"});
    }
  }
  return false;
}

void OperationRunner::WaitForOthers(const std::string& stack, const std::string& self_env) {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] {
    return std::none_of(queues_.begin(), queues_.end(), [&](const auto& entry) {
      return entry.first.first == stack && entry.first.second != self_env && !entry.second.empty();
    });
  });
}

int OperationRunner::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
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
