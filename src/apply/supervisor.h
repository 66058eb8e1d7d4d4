#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apply/process.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include <sys/types.h>

namespace obsforge::apply {

/// Where a supervised process is.
enum class ProcessPhase {
  kRunning,      ///< a process is alive
  kRestarting,   ///< it died unexpectedly; waiting out the backoff before the next start
  kStopping,     ///< SIGTERM sent, waiting for it to exit
  kStopped,      ///< not running and not wanted (never started, stopped, or failed to start)
  kUnavailable,  ///< cannot run at all (e.g. its binary is missing); see `reason`
};

/// "running", "restarting", "stopping", "stopped", "unavailable".
const char* ProcessPhaseName(ProcessPhase phase);

/// A snapshot of one supervised process, for health and the API.
struct ProcessState {
  std::string name;
  ProcessPhase phase = ProcessPhase::kStopped;
  std::string reason;  ///< why unavailable, or why the last start failed ("" if none)
  pid_t pid = 0;       ///< the live process (0 when none)
  int restarts = 0;    ///< automatic restarts after unexpected exits
  std::optional<int> last_exit_code;    ///< exit code of the last exit, when it exited
  std::optional<int> last_exit_signal;  ///< signal that ended the last run, when killed
  std::string last_exit;                ///< "exited with status 1" / "killed by signal 9 (Killed)"
  std::chrono::system_clock::time_point since{};  ///< when `phase` was entered (Clock::Now)
  std::filesystem::path log_file;

  /// "running", "restarting", ..., or "unavailable: <reason>".
  std::string Describe() const;
};

/// Timing of a Supervisor. Durations are measured on the injected Clock except `poll_interval`.
struct SupervisorOptions {
  std::chrono::milliseconds stop_timeout{10000};    ///< SIGTERM -> SIGKILL (unless the spec says)
  std::chrono::milliseconds backoff_initial{1000};  ///< delay before the first restart
  std::chrono::milliseconds backoff_max{30000};     ///< cap of the doubling delay
  std::chrono::milliseconds stable_after{60000};    ///< a run this long resets the backoff
  std::chrono::milliseconds poll_interval{50};      ///< real time between checks of the thread
};

/// The delay before restart number `consecutive_failures` (1-based): backoff_initial doubled for
/// each earlier failure, at most backoff_max (1s, 2s, 4s, ... 30s with the defaults).
std::chrono::milliseconds BackoffDelay(int consecutive_failures, const SupervisorOptions& options);

/// Runs processes and keeps them running. One thread owns every child: it forks them (so
/// PR_SET_PDEATHSIG binds them to a thread that lives as long as the Supervisor), pumps their
/// output into size-bounded logs, reaps them (waitpid on their own pids only, never -1, so other
/// code's children are left alone), kills what is left of their process group, and restarts a
/// process that exits without being asked to, after BackoffDelay(). All methods are thread-safe.
/// The destructor stops everything (StopAll) and joins the thread.
class Supervisor {
 public:
  /// `clock` and `logger` must outlive the Supervisor. Throws std::runtime_error when the OS
  /// refuses a pipe or thread (descriptor exhaustion).
  explicit Supervisor(core::Clock& clock,
                      SupervisorOptions options = {},
                      core::Logger& logger = core::NullLogger());
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  Supervisor(Supervisor&&) = delete;
  Supervisor& operator=(Supervisor&&) = delete;

  /// Starts `spec` under `spec.name` and returns once it is spawned (exec done). The spec is kept
  /// for automatic restarts and Restart(). A no-op returning ok when that name already runs or is
  /// restarting (the new spec then applies from its next start). Returns the SpawnProcess() error
  /// when it cannot start (state kStopped with `reason` set; no automatic retry).
  core::Result<void> Start(ProcessSpec spec);

  /// Stops `name`: SIGTERM to its process group, SIGKILL after `timeout` (default: its spec's
  /// stop_timeout, else options.stop_timeout), and returns once it has been reaped. Ok when it is
  /// not running; kNotFound when the name was never started.
  core::Result<void> Stop(const std::string& name,
                          std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// Stop() then Start() with the kept spec. Does not count as an automatic restart and resets the
  /// backoff. kNotFound when the name was never started.
  core::Result<void> Restart(const std::string& name);

  /// Stops every process (in parallel, each with its own stop timeout) and returns when all are
  /// reaped.
  void StopAll();

  /// Records that `name` cannot run (state kUnavailable with `reason`), so it is reported rather
  /// than silently missing. Ignored while a process of that name is alive.
  void SetUnavailable(const std::string& name, std::string reason);

  /// The state of `name`, or nullopt when it is unknown.
  std::optional<ProcessState> State(const std::string& name) const;
  /// Every known process, sorted by name.
  std::vector<ProcessState> States() const;

 private:
  struct Entry;
  struct Command;

  core::Result<void> Submit(std::shared_ptr<Command> command);
  void Loop();
  void HandleCommand(const std::shared_ptr<Command>& pending);
  void DoStart(Entry& entry, Command* command);
  void BeginStop(Entry& entry, std::chrono::milliseconds timeout);
  void PumpOutput(Entry& entry);
  void CheckExit(Entry& entry);
  void CheckDeadlines(Entry& entry);
  void SetPhase(Entry& entry, ProcessPhase phase);
  void Wake() const;

  core::Clock& clock_;
  SupervisorOptions options_;
  core::Logger& logger_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
  std::deque<std::shared_ptr<Command>> commands_;
  bool shutdown_ = false;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::thread thread_;
};

}  // namespace obsforge::apply
