#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
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

/// "<hostname>-<pid>-<random>": a name for this process unique among the processes sharing a
/// store, telling an operator which host and process it is.
std::string DefaultReplicaId();

/// Options of an OperationRunner.
struct OperationRunnerOptions {
  int workers = 4;  ///< operations running at once in this process
  /// This process's name in the claims it makes (store::Operation::owner): unique among the
  /// processes sharing the store. Empty: "<hostname>-<pid>-<random>".
  std::string owner;
  /// How long a claim holds without renewal. The runner renews its claims every lease/3; a
  /// claim not renewed for this long is taken as abandoned by a gone process.
  std::chrono::milliseconds lease{10000};
  /// How often idle workers look for operations another process queued (a submit here wakes
  /// them at once), and for abandoned claims (every lease/2 at most).
  std::chrono::milliseconds poll{250};
};

/// Runs the operations of the store on a bounded pool of workers: each worker claims the next
/// operation that may start (store::OperationStore::ClaimNextOperation: the oldest queued one
/// whose environment is free; whichever process queued it), runs its work and records the
/// outcome. So the operations of one (stack, env) run one at a time in creation order, across
/// every process sharing the store, and different environments run in parallel. A keeper
/// thread renews this runner's claims and fails the claims of processes that stopped renewing
/// theirs (store::OperationStore::FailAbandonedOperations), handing them to the Abandoned
/// callback. Every step and end is told to the observers. Thread-safe.
class OperationRunner {
 public:
  /// `store` and `logger` must outlive the runner. Nothing runs before Start().
  OperationRunner(store::OperationStore& store,
                  core::Logger& logger,
                  OperationRunnerOptions options = {});
  /// Stop().
  ~OperationRunner();
  OperationRunner(const OperationRunner&) = delete;
  OperationRunner& operator=(const OperationRunner&) = delete;

  /// The work of an operation, chosen from its row alone (kind, stack, env, revision): any
  /// process holding the store can run any operation.
  using WorkOf = std::function<OperationWork(const store::Operation&)>;
  /// Told about operations failed because the process that claimed them is gone.
  using Abandoned = std::function<void(const std::vector<store::Operation>&)>;
  /// Starts the workers (running `work_of(op)` for each operation claimed) and the keeper
  /// (`abandoned` may be empty). Once; later calls do nothing.
  void Start(WorkOf work_of, Abandoned abandoned);

  /// What SubmitCreated calls to write operations: returns them as the store created them.
  using Creator = std::function<core::Result<std::vector<store::Operation>>()>;
  /// Calls `create` (which writes queued operations to the store, typically with the spec
  /// change they apply) and wakes the workers. kUnavailable when draining; `create`'s error as
  /// returned.
  core::Result<std::vector<store::Operation>> SubmitCreated(const Creator& create);

  /// Makes idle workers look for operations at once (another process queued or ended one).
  void Wake();

  /// Fails, with `error`, the running operations whose process is gone (see
  /// store::OperationStore::FailAbandonedOperations) and returns them. Before Start, the claims
  /// under this runner's owner are an earlier run's and fail too; after, they are running here.
  core::Result<std::vector<store::Operation>> FailAbandoned(const std::string& error);

  /// Stops claiming and waits until the operations running here have finished or `deadline`
  /// passes. Queued operations stay queued, for another process or the next start. True when
  /// nothing runs here any more.
  bool Drain(std::chrono::steady_clock::time_point deadline);

  /// Drain (no deadline), then ends the workers and the keeper: after it returns, no work and no
  /// Abandoned callback runs. Idempotent.
  void Stop();

  /// Blocks until nothing runs here and the workers found nothing to claim since the last
  /// submit or end, or `deadline` passes; keeps claiming (unlike Drain). True when idle in time.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  /// Operations running in this process now.
  int pending() const;
  /// This process's name in its claims.
  const std::string& owner() const { return options_.owner; }

  /// Tells `observer` about every step and end from now on; it must outlive the runner or be
  /// removed first.
  void AddObserver(OperationObserver& observer);
  /// Stops telling `observer`; returns once no call to it is running.
  void RemoveObserver(OperationObserver& observer);

 private:
  void WorkerLoop();
  void KeeperLoop();
  void Run(const store::Operation& claimed);

  store::OperationStore& store_;
  core::Logger& logger_;
  OperationRunnerOptions options_;
  WorkOf work_of_;
  Abandoned abandoned_;
  std::shared_mutex observers_mu_;  // shared while telling, exclusive to add or remove
  std::vector<OperationObserver*> observers_;
  mutable std::mutex mu_;
  std::condition_variable wake_cv_;  // something to claim may have appeared, or stopping
  std::condition_variable idle_cv_;  // an operation ended or a claim found nothing
  std::uint64_t generation_ = 1;     // bumped by every submit and every end
  std::uint64_t empty_seen_ = 0;     // the generation at which a claim last found nothing
  int running_ = 0;
  int claiming_ = 0;  // claims in flight
  bool started_ = false;
  bool draining_ = false;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace obsforge::control
