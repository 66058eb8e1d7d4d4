#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apply/transaction.h"
#include "core/log.h"
#include "store/store.h"

namespace obsforge::control {

/// How an operation's work ended.
struct OperationOutcome {
  store::OperationState state = store::OperationState::kSucceeded;  ///< a terminal state
  std::string error;                                                ///< failed / rolled_back
  std::optional<std::string> result_json;
};

/// Told about the progress of every operation (metrics, a terminal). Called on the worker
/// thread that runs the operation: must be quick and must not throw.
class OperationObserver {
 public:
  virtual ~OperationObserver() = default;
  /// A step of `op` started or ended (as the work reported it).
  virtual void OnStep(const store::Operation& op, const apply::Step& step) = 0;
  /// `op` ended with `outcome` after `seconds` of work.
  virtual void OnFinished(const store::Operation& op,
                          const OperationOutcome& outcome,
                          double seconds) = 0;
};

/// Handed to an operation's work: the operation and a sink for its steps.
class OperationContext {
 public:
  /// `op` must outlive the context; `on_step` (may be empty) hears every step as it is reported.
  OperationContext(store::OperationStore& store,
                   const store::Operation& op,
                   core::Logger& logger,
                   std::function<void(const apply::Step&)> on_step = {});
  const store::Operation& operation() const { return op_; }
  /// Records an apply step: the first report of (name, component) appends a step, later ones
  /// update it. Store failures are logged, not thrown (progress is best effort).
  void OnStep(const apply::Step& step);
  /// A callback forwarding to OnStep().
  apply::StepCallback Callback();

 private:
  store::OperationStore& store_;
  const store::Operation& op_;
  core::Logger& logger_;
  std::function<void(const apply::Step&)> on_step_;
  std::map<std::string, int> indexes_;  // "name[:component]" -> step index
};

/// The work of an operation. Runs on a worker thread; should not throw (a throw fails the
/// operation with the exception's text).
using OperationWork = std::function<OperationOutcome(OperationContext&)>;

/// Options of an OperationRunner.
struct OperationRunnerOptions {
  int workers = 4;  ///< operations running at once, across all environments
};

/// Runs operations on a bounded pool of workers. Operations with the same (stack, env) key run
/// one at a time in submission order; different keys run in parallel. Every state change is
/// persisted through the OperationStore (queued → running → terminal), and every step and end is
/// told to the observers. Thread-safe.
class OperationRunner {
 public:
  /// `store` and `logger` must outlive the runner. Starts the workers.
  OperationRunner(store::OperationStore& store,
                  core::Logger& logger,
                  OperationRunnerOptions options = {});
  /// Drain(no deadline wait beyond running work), then joins the workers.
  ~OperationRunner();
  OperationRunner(const OperationRunner&) = delete;
  OperationRunner& operator=(const OperationRunner&) = delete;

  /// Creates the operation (queued) and schedules `work` behind earlier operations of the same
  /// (stack, env). kUnavailable when the runner is draining; store errors as returned.
  core::Result<store::Operation> Submit(const store::NewOperation& op, OperationWork work);

  /// What SubmitCreated calls to write operations: returns them as the store created them.
  using Creator = std::function<core::Result<std::vector<store::Operation>>()>;
  /// The work of an operation, chosen from its row alone (kind, stack, env, revision).
  using WorkOf = std::function<OperationWork(const store::Operation&)>;
  /// Calls `create` (which writes queued operations to the store, typically with the spec
  /// change they apply) and schedules `work_of(op)` for each operation it returns. `create`
  /// runs under the runner's lock, so the operations of one (stack, env) run in the order the
  /// store numbered them however many threads submit at once. kUnavailable when draining;
  /// `create`'s error as returned.
  core::Result<std::vector<store::Operation>> SubmitCreated(const Creator& create,
                                                            const WorkOf& work_of);

  /// Stops accepting operations and waits until every submitted one has finished or `deadline`
  /// passes. Operations still queued at the deadline are marked failed ("server shutting down").
  /// Returns true when everything finished in time.
  bool Drain(std::chrono::steady_clock::time_point deadline);

  /// Blocks until no operation of `stack` under another env than `self_env` is queued or
  /// running: lets a stack-wide operation (delete) wait for the environments' operations.
  void WaitForOthers(const std::string& stack, const std::string& self_env);

  /// Blocks until no operation is queued or running, or `deadline` passes; keeps accepting
  /// operations (unlike Drain). True when idle in time.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  /// Operations queued or running now.
  int pending() const;

  /// Tells `observer` about every step and end from now on; it must outlive the runner or be
  /// removed first.
  void AddObserver(OperationObserver& observer);
  /// Stops telling `observer`; returns once no call to it is running.
  void RemoveObserver(OperationObserver& observer);

 private:
  struct Task {
    store::Operation op;
    OperationWork work;
  };
  using Key = std::pair<std::string, std::string>;

  void WorkerLoop();
  void Run(Task& task);
  // Queues `task` behind the others of its key; mu_ held.
  void EnqueueLocked(Task task);

  store::OperationStore& store_;
  core::Logger& logger_;
  std::shared_mutex observers_mu_;  // shared while telling, exclusive to add or remove
  std::vector<OperationObserver*> observers_;
  mutable std::mutex mu_;
  std::condition_variable ready_cv_;        // a key became ready, or stopping
  std::condition_variable idle_cv_;         // a task finished
  std::map<Key, std::deque<Task>> queues_;  // per key; front is running when key is busy
  std::map<Key, bool> busy_;
  std::deque<Key> ready_;  // keys with work and no running task
  int pending_ = 0;
  bool draining_ = false;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace obsforge::control
