#include "apply/process.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace obsforge::apply {
namespace {

core::Error Internal(const std::string& what) {
  return core::MakeError(core::ErrorCode::kInternal,
                         what + ": " + std::error_code(errno, std::generic_category()).message());
}

// What the child reports through the exec-status pipe before _exit when it cannot exec.
struct ChildFailure {
  int stage;  // 1 = chdir, 2 = exec, 3 = setup
  int error;
};

void WriteFailure(int fd, int stage) {
  ChildFailure failure{stage, errno};
  // Best effort: the parent treats a short read as "exec failed" too.
  [[maybe_unused]] auto n = ::write(fd, &failure, sizeof(failure));
  ::_exit(127);
}

void MarkDescriptorsCloseOnExec() {
  // close_range(CLOSE_RANGE_CLOEXEC) keeps the exec-status pipe writable until exec succeeds.
  constexpr unsigned kCloseRangeCloexec = 1U << 2U;
  if (::close_range(3, ~0U, kCloseRangeCloexec) == 0) {
    return;
  }
  auto max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) {
    max_fd = 65536;
  }
  for (int fd = 3; fd < max_fd; ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

// Runs in the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void RunChild(pid_t parent,
                           int out_fd,
                           int status_fd,
                           const char* dir,
                           const char* binary,
                           char* const* argv,
                           char* const* envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) {
    ::_exit(127);  // the parent died before prctl took effect
  }
  sigset_t none;
  sigemptyset(&none);
  // Single-threaded here (after fork), so the process-wide call is the right one.
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // NOLINT(concurrency-mt-unsafe)
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::sigaction(sig, &dfl, nullptr);
    }
  }
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) {
    WriteFailure(status_fd, 3);
  }
  if (dir != nullptr && ::chdir(dir) != 0) {
    WriteFailure(status_fd, 1);
  }
  MarkDescriptorsCloseOnExec();
  ::execve(binary, argv, envp);
  WriteFailure(status_fd, 2);
  ::_exit(127);
}

std::vector<std::string> BuildEnvironment(const ProcessSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [key, value] : spec.env) {
      if (entry.size() > key.size() && entry.substr(0, key.size()) == key &&
          entry[key.size()] == '=') {
        overridden = true;
      }
    }
    if (!overridden) {
      env.emplace_back(entry);
    }
  }
  for (const auto& [key, value] : spec.env) {
    env.push_back(key);
    env.back().append("=").append(value);
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> ptrs;
  ptrs.reserve(strings.size() + 1);
  for (auto& s : strings) {
    ptrs.push_back(s.data());
  }
  ptrs.push_back(nullptr);
  return ptrs;
}

}  // namespace

RotatingLog::RotatingLog(std::filesystem::path path, std::size_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes == 0 ? 1 : max_bytes) {
}

RotatingLog::~RotatingLog() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

core::Result<void> RotatingLog::Open() {
  std::error_code ec;
  if (path_.has_parent_path()) {
    std::filesystem::create_directories(path_.parent_path(), ec);
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return Internal("open " + path_.string());
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Internal("stat " + path_.string());
  }
  size_ = static_cast<std::size_t>(st.st_size);
  return {};
}

core::Result<void> RotatingLog::Rotate() {
  ::close(fd_);
  fd_ = -1;
  auto old = path_;
  old += ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0 && errno != ENOENT) {
    return Internal("rename " + path_.string());
  }
  return Open();
}

core::Result<void> RotatingLog::Write(std::string_view data) {
  if (fd_ < 0) {
    if (auto opened = Open(); !opened.ok()) {
      return opened;
    }
  }
  while (!data.empty()) {
    if (size_ >= max_bytes_) {
      if (auto rotated = Rotate(); !rotated.ok()) {
        return rotated;
      }
    }
    std::size_t room = max_bytes_ - size_;
    std::string_view chunk = data.substr(0, room);
    ssize_t n = ::write(fd_, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Internal("write " + path_.string());
    }
    size_ += static_cast<std::size_t>(n);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

core::Result<SpawnedProcess> SpawnProcess(const ProcessSpec& spec) {
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<std::string> args;
  args.push_back(spec.binary.string());
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  auto argv = Pointers(args);
  auto env = BuildEnvironment(spec);
  auto envp = Pointers(env);
  std::string binary = spec.binary.string();
  std::string dir = spec.working_dir.string();

  std::array<int, 2> out{-1, -1};
  std::array<int, 2> status{-1, -1};
  if (::pipe2(out.data(), O_CLOEXEC) != 0) {
    return Internal("pipe");
  }
  if (::pipe2(status.data(), O_CLOEXEC) != 0) {
    auto err = Internal("pipe");
    ::close(out[0]);
    ::close(out[1]);
    return err;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    auto err = Internal("fork");
    for (int fd : {out[0], out[1], status[0], status[1]}) {
      ::close(fd);
    }
    return err;
  }
  if (pid == 0) {
    RunChild(parent, out[1], status[1], dir.empty() ? nullptr : dir.c_str(), binary.c_str(),
             argv.data(), envp.data());
  }
  // Also from this side, so a signal to the group right after return cannot miss it.
  ::setpgid(pid, pid);
  ::close(out[1]);
  ::close(status[1]);

  ChildFailure failure{};
  ssize_t n = 0;
  do {
    n = ::read(status[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n != 0) {
    ::close(out[0]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof(failure))) {
      return core::MakeError(core::ErrorCode::kUnavailable,
                             "cannot execute " + binary + ": child failed before exec");
    }
    std::string what = failure.stage == 1   ? "cannot enter " + dir
                       : failure.stage == 2 ? "cannot execute " + binary
                                            : "cannot set up the output of " + binary;
    return core::MakeError(
        core::ErrorCode::kUnavailable,
        what + ": " + std::error_code(failure.error, std::generic_category()).message());
  }
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  return SpawnedProcess{.pid = pid, .output_fd = out[0]};
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    // sigdescr_np, unlike strsignal, is thread-safe.
    const char* name = ::sigdescr_np(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  return "stopped with wait status " + std::to_string(status);
}

}  // namespace obsforge::apply
