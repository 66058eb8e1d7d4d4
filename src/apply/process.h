#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include <sys/types.h>

namespace obsforge::apply {

/// Default bound of a component's log file: rotated at 10 MiB, one `.1` kept.
inline constexpr std::size_t kDefaultLogMaxBytes = std::size_t{10} * 1024 * 1024;

/// What to run and where its output goes.
struct ProcessSpec {
  std::string name;                   ///< supervisor key, e.g. "prometheus"
  std::filesystem::path binary;       ///< executable (absolute, or relative to the caller's cwd)
  std::vector<std::string> args;      ///< argv[1...]
  std::filesystem::path working_dir;  ///< the child's cwd ("" = inherit)
  std::filesystem::path log_file;     ///< stdout+stderr go here (via RotatingLog)
  std::size_t log_max_bytes = kDefaultLogMaxBytes;
  /// Added to (or replacing in) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  /// Supervisor: SIGTERM -> SIGKILL for this process; nullopt: SupervisorOptions::stop_timeout.
  std::optional<std::chrono::milliseconds> stop_timeout;
};

/// An append-only log file bounded in size: a write that would take the file over `max_bytes`
/// first renames it to `<path>.1` (replacing an older `.1`) and starts a new file, so the disk
/// used is at most 2 × max_bytes. Not thread-safe.
class RotatingLog {
 public:
  /// Opens (creating parent directories) `path` for appending. Errors are reported by Write().
  RotatingLog(std::filesystem::path path, std::size_t max_bytes);
  ~RotatingLog();
  RotatingLog(const RotatingLog&) = delete;
  RotatingLog& operator=(const RotatingLog&) = delete;
  RotatingLog(RotatingLog&&) = delete;
  RotatingLog& operator=(RotatingLog&&) = delete;

  /// Appends `data`, rotating as needed; returns kInternal (with the path and errno text) when the
  /// file cannot be opened, written or rotated.
  core::Result<void> Write(std::string_view data);
  const std::filesystem::path& path() const { return path_; }

 private:
  core::Result<void> Open();
  core::Result<void> Rotate();

  std::filesystem::path path_;
  std::size_t max_bytes_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

/// A child started by SpawnProcess().
struct SpawnedProcess {
  pid_t pid = 0;       ///< also its process-group id
  int output_fd = -1;  ///< read end of its stdout+stderr pipe: non-blocking, close-on-exec; owned
                       ///< by the caller
};

/// fork + exec of `spec` (log_file is not touched: the caller pumps output_fd into it). The child
/// gets its own process group, stdin from /dev/null, stdout and stderr into one pipe, default
/// signal dispositions and mask, no other inherited descriptors, and PR_SET_PDEATHSIG(SIGTERM)
/// (checked against a parent that died before prctl), so it never outlives the thread that spawned
/// it. PR_SET_PDEATHSIG fires when that *thread* ends: spawn from a long-lived thread. Returns
/// kUnavailable "cannot execute <binary>: <errno text>" (or "cannot enter <dir>: ...") when exec or
/// chdir fails in the child (the child is reaped), kInternal when fork/pipe fail.
core::Result<SpawnedProcess> SpawnProcess(const ProcessSpec& spec);

/// "exited with status 3" / "killed by signal 9 (Killed)" for a waitpid() status.
std::string DescribeWaitStatus(int status);

}  // namespace obsforge::apply
