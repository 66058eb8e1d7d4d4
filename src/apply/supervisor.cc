#include "apply/supervisor.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <future>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::apply {

struct Supervisor::Command {
  enum class Kind { kStart, kStop };
  Kind kind = Kind::kStart;
  std::string name;
  std::optional<ProcessSpec> spec;                   // kStart: nullopt = the kept spec
  std::optional<std::chrono::milliseconds> timeout;  // kStop: nullopt = the process's own
  std::promise<core::Result<void>> done;
};

struct Supervisor::Entry {
  ProcessState state;
  std::optional<ProcessSpec> spec;
  std::unique_ptr<RotatingLog> log;
  int output_fd = -1;
  bool stop_requested = false;
  bool killed = false;
  int failures = 0;  // consecutive unexpected exits, for the backoff
  std::chrono::steady_clock::time_point started{};
  std::chrono::steady_clock::time_point next_start{};
  std::chrono::steady_clock::time_point kill_deadline{};
  std::vector<std::shared_ptr<Command>> stop_waiters;
};

const char* ProcessPhaseName(ProcessPhase phase) {
  switch (phase) {
    case ProcessPhase::kRunning:
      return "running";
    case ProcessPhase::kRestarting:
      return "restarting";
    case ProcessPhase::kStopping:
      return "stopping";
    case ProcessPhase::kStopped:
      return "stopped";
    case ProcessPhase::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

std::string ProcessState::Describe() const {
  if (phase == ProcessPhase::kUnavailable) {
    return std::string("unavailable: ") + reason;
  }
  return ProcessPhaseName(phase);
}

std::chrono::milliseconds BackoffDelay(int consecutive_failures, const SupervisorOptions& options) {
  auto delay = options.backoff_initial;
  for (int i = 1; i < consecutive_failures && delay < options.backoff_max; ++i) {
    delay *= 2;
  }
  return std::min(delay, options.backoff_max);
}

Supervisor::Supervisor(core::Clock& clock, SupervisorOptions options, core::Logger& logger)
    : clock_(clock), options_(options), logger_(logger) {
  std::array<int, 2> wake{-1, -1};
  if (::pipe2(wake.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("supervisor: pipe: " +
                             std::error_code(errno, std::generic_category()).message());
  }
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  thread_ = std::thread([this] { Loop(); });
}

Supervisor::~Supervisor() {
  StopAll();
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  Wake();
  thread_.join();
  ::close(wake_read_);
  ::close(wake_write_);
}

void Supervisor::Wake() const {
  char byte = 1;
  // A full pipe already guarantees a wake-up.
  [[maybe_unused]] auto n = ::write(wake_write_, &byte, 1);
}

core::Result<void> Supervisor::Submit(std::shared_ptr<Command> command) {
  auto future = command->done.get_future();
  {
    std::lock_guard lock(mu_);
    if (shutdown_) {
      return core::MakeError(core::ErrorCode::kUnavailable, "supervisor is shutting down");
    }
    commands_.push_back(std::move(command));
  }
  Wake();
  return future.get();
}

core::Result<void> Supervisor::Start(ProcessSpec spec) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::kStart;
  command->name = spec.name;
  command->spec = std::move(spec);
  return Submit(std::move(command));
}

core::Result<void> Supervisor::Stop(const std::string& name,
                                    std::optional<std::chrono::milliseconds> timeout) {
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::kStop;
  command->name = name;
  command->timeout = timeout;
  return Submit(std::move(command));
}

core::Result<void> Supervisor::Restart(const std::string& name) {
  if (auto stopped = Stop(name); !stopped.ok()) {
    return stopped;
  }
  auto command = std::make_shared<Command>();
  command->kind = Command::Kind::kStart;
  command->name = name;
  return Submit(std::move(command));
}

void Supervisor::StopAll() {
  std::vector<std::future<core::Result<void>>> pending;
  {
    std::lock_guard lock(mu_);
    if (shutdown_) {
      return;
    }
    for (const auto& [name, entry] : entries_) {
      auto command = std::make_shared<Command>();
      command->kind = Command::Kind::kStop;
      command->name = name;
      pending.push_back(command->done.get_future());
      commands_.push_back(std::move(command));
    }
  }
  Wake();
  for (auto& f : pending) {
    // Each stop either succeeds or reports a name that is gone; nothing to act on either way.
    [[maybe_unused]] auto result = f.get();
  }
}

void Supervisor::SetUnavailable(const std::string& name, std::string reason) {
  std::lock_guard lock(mu_);
  auto& slot = entries_[name];
  if (!slot) {
    slot = std::make_unique<Entry>();
    slot->state.name = name;
  }
  if (slot->state.pid != 0) {
    return;
  }
  slot->state.reason = std::move(reason);
  SetPhase(*slot, ProcessPhase::kUnavailable);
}

std::optional<ProcessState> Supervisor::State(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second->state;
}

std::vector<ProcessState> Supervisor::States() const {
  std::lock_guard lock(mu_);
  std::vector<ProcessState> states;
  states.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) {
    states.push_back(entry->state);
  }
  return states;
}

void Supervisor::SetPhase(Entry& entry, ProcessPhase phase) {
  entry.state.phase = phase;
  entry.state.since = clock_.Now();
}

void Supervisor::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    while (!commands_.empty()) {
      auto command = commands_.front();
      commands_.pop_front();
      HandleCommand(command);
    }
    for (auto& [name, entry] : entries_) {
      PumpOutput(*entry);
      CheckExit(*entry);
      CheckDeadlines(*entry);
    }
    if (shutdown_ && commands_.empty()) {
      break;
    }
    std::vector<pollfd> fds;
    fds.push_back(pollfd{.fd = wake_read_, .events = POLLIN, .revents = 0});
    for (auto& [name, entry] : entries_) {
      if (entry->output_fd >= 0) {
        fds.push_back(pollfd{.fd = entry->output_fd, .events = POLLIN, .revents = 0});
      }
    }
    lock.unlock();
    ::poll(fds.data(), fds.size(), static_cast<int>(options_.poll_interval.count()));
    std::array<char, 64> drain{};
    while (::read(wake_read_, drain.data(), drain.size()) > 0) {
    }
    lock.lock();
  }
  // StopAll() ran before shutdown; anything still alive here was started concurrently with it.
  for (auto& [name, entry] : entries_) {
    if (entry->state.pid != 0) {
      ::kill(-entry->state.pid, SIGKILL);
      int status = 0;
      while (::waitpid(entry->state.pid, &status, 0) < 0 && errno == EINTR) {
      }
      entry->state.pid = 0;
    }
    if (entry->output_fd >= 0) {
      ::close(entry->output_fd);
      entry->output_fd = -1;
    }
  }
}

void Supervisor::HandleCommand(const std::shared_ptr<Command>& pending) {
  Command& command = *pending;
  auto it = entries_.find(command.name);
  if (command.kind == Command::Kind::kStart) {
    if (it == entries_.end()) {
      if (!command.spec) {
        command.done.set_value(
            core::MakeError(core::ErrorCode::kNotFound, "no process named " + command.name));
        return;
      }
      it = entries_.emplace(command.name, std::make_unique<Entry>()).first;
      it->second->state.name = command.name;
    }
    Entry& entry = *it->second;
    if (command.spec) {
      entry.spec = std::move(command.spec);
    }
    if (!entry.spec) {
      command.done.set_value(
          core::MakeError(core::ErrorCode::kNotFound, "no process named " + command.name));
      return;
    }
    if (!entry.log || entry.log->path() != entry.spec->log_file) {
      entry.log = std::make_unique<RotatingLog>(entry.spec->log_file, entry.spec->log_max_bytes);
    }
    entry.state.log_file = entry.spec->log_file;
    switch (entry.state.phase) {
      case ProcessPhase::kRunning:
      case ProcessPhase::kRestarting:
        command.done.set_value(core::Result<void>());
        return;
      case ProcessPhase::kStopping:
        command.done.set_value(
            core::MakeError(core::ErrorCode::kConflict, command.name + " is stopping"));
        return;
      case ProcessPhase::kStopped:
      case ProcessPhase::kUnavailable:
        entry.failures = 0;
        DoStart(entry, &command);
        return;
    }
    return;
  }

  if (it == entries_.end()) {
    command.done.set_value(
        core::MakeError(core::ErrorCode::kNotFound, "no process named " + command.name));
    return;
  }
  Entry& entry = *it->second;
  // Some processes take long on SIGTERM by design (Tempo 2.2–2.4 sleep 30 s first): each spec
  // may carry its own wait.
  const auto timeout = command.timeout.value_or(
      entry.spec && entry.spec->stop_timeout ? *entry.spec->stop_timeout : options_.stop_timeout);
  switch (entry.state.phase) {
    case ProcessPhase::kRunning:
      BeginStop(entry, timeout);
      entry.stop_waiters.push_back(pending);
      return;
    case ProcessPhase::kStopping:
      entry.kill_deadline = std::min(entry.kill_deadline, clock_.Monotonic() + timeout);
      entry.stop_waiters.push_back(pending);
      return;
    case ProcessPhase::kRestarting:
      SetPhase(entry, ProcessPhase::kStopped);
      break;
    case ProcessPhase::kStopped:
    case ProcessPhase::kUnavailable:
      break;
  }
  command.done.set_value(core::Result<void>());
}

void Supervisor::DoStart(Entry& entry, Command* command) {
  auto spawned = SpawnProcess(*entry.spec);
  if (!spawned.ok()) {
    entry.state.reason = spawned.error().message;
    logger_.Warn("process failed to start",
                 {{"process", entry.state.name}, {"error", spawned.error().message}});
    if (command != nullptr) {
      SetPhase(entry, ProcessPhase::kStopped);
      command->done.set_value(spawned.error());
      return;
    }
    // An automatic restart that cannot spawn keeps retrying on the same backoff.
    ++entry.failures;
    entry.next_start = clock_.Monotonic() + BackoffDelay(entry.failures, options_);
    return;
  }
  entry.state.pid = spawned->pid;
  entry.output_fd = spawned->output_fd;
  entry.state.reason.clear();
  entry.stop_requested = false;
  entry.killed = false;
  entry.started = clock_.Monotonic();
  SetPhase(entry, ProcessPhase::kRunning);
  logger_.Info("process started",
               {{"process", entry.state.name}, {"pid", std::to_string(spawned->pid)}});
  if (command != nullptr) {
    command->done.set_value(core::Result<void>());
  }
}

void Supervisor::BeginStop(Entry& entry, std::chrono::milliseconds timeout) {
  entry.stop_requested = true;
  entry.kill_deadline = clock_.Monotonic() + timeout;
  ::kill(-entry.state.pid, SIGTERM);
  SetPhase(entry, ProcessPhase::kStopping);
}

void Supervisor::PumpOutput(Entry& entry) {
  std::array<char, 65536> buf{};
  // Bounded so one chatty process cannot starve the others; the rest is read next round.
  for (int round = 0; round < 64 && entry.output_fd >= 0; ++round) {
    ssize_t n = ::read(entry.output_fd, buf.data(), buf.size());
    if (n > 0) {
      if (entry.log) {
        auto written = entry.log->Write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        if (!written.ok()) {
          logger_.Warn("cannot write process log",
                       {{"process", entry.state.name}, {"error", written.error().message}});
        }
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    ::close(entry.output_fd);
    entry.output_fd = -1;
  }
}

void Supervisor::CheckExit(Entry& entry) {
  const pid_t pid = entry.state.pid;
  if (pid == 0) {
    return;
  }
  siginfo_t info{};
  // WNOWAIT leaves the zombie in place, so its pid (= its group id) cannot be reused while the
  // rest of the group is killed.
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid) {
    return;
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  PumpOutput(entry);
  if (entry.output_fd >= 0) {
    ::close(entry.output_fd);
    entry.output_fd = -1;
  }
  entry.state.pid = 0;
  entry.state.last_exit = DescribeWaitStatus(status);
  entry.state.last_exit_code =
      WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
  entry.state.last_exit_signal =
      WIFSIGNALED(status) ? std::optional<int>(WTERMSIG(status)) : std::nullopt;

  if (entry.stop_requested) {
    SetPhase(entry, ProcessPhase::kStopped);
    for (auto& waiter : entry.stop_waiters) {
      waiter->done.set_value(core::Result<void>());
    }
    entry.stop_waiters.clear();
    logger_.Info("process stopped",
                 {{"process", entry.state.name}, {"exit", entry.state.last_exit}});
    return;
  }
  const auto now = clock_.Monotonic();
  if (now - entry.started >= options_.stable_after) {
    entry.failures = 0;
  }
  ++entry.failures;
  ++entry.state.restarts;
  const auto delay = BackoffDelay(entry.failures, options_);
  entry.next_start = now + delay;
  SetPhase(entry, ProcessPhase::kRestarting);
  std::string note = "obsforge: " + entry.state.name + " " + entry.state.last_exit +
                     "; restarting in " + std::to_string(delay.count()) + "ms\n";
  if (entry.log) {
    [[maybe_unused]] auto ignored = entry.log->Write(note);
  }
  logger_.Warn("process exited unexpectedly", {{"process", entry.state.name},
                                               {"exit", entry.state.last_exit},
                                               {"restart_in_ms", std::to_string(delay.count())}});
}

void Supervisor::CheckDeadlines(Entry& entry) {
  const auto now = clock_.Monotonic();
  if (entry.state.phase == ProcessPhase::kStopping && !entry.killed && now >= entry.kill_deadline) {
    ::kill(-entry.state.pid, SIGKILL);
    entry.killed = true;
    logger_.Warn("process did not stop on SIGTERM; killed", {{"process", entry.state.name}});
  }
  if (entry.state.phase == ProcessPhase::kRestarting && now >= entry.next_start) {
    DoStart(entry, nullptr);
  }
}

}  // namespace obsforge::apply
