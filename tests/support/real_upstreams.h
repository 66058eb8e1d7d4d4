#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/fs.h"
#include "http/http_client.h"
#include "support/poll_until.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::testing {

/// The full path of `name` on PATH, or nullopt.
inline std::optional<std::filesystem::path> FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto colon = dirs.find(':', start);
    const auto dir =
        dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) {
      break;
    }
    start = colon + 1;
  }
  return std::nullopt;
}

/// A loopback TCP port that was free a moment ago (bound to port 0, then closed).
inline int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Forks and runs `binary` with `args` (argv[0] is the binary's path), its stdout and stderr
/// to `log_file`; the child's pid.
inline pid_t SpawnLogged(const std::filesystem::path& binary,
                         const std::vector<std::string>& args,
                         const std::filesystem::path& log_file) {
  std::vector<std::string> storage{binary.string()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (auto& arg : storage) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);  // NOLINT
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

/// A real upstream process (Prometheus, Alertmanager) for tests: started with `args`, output to
/// `<dir>/log`, killed (SIGTERM, then SIGKILL) and reaped on destruction.
class UpstreamProcess {
 public:
  UpstreamProcess(const std::filesystem::path& binary,
                  const std::vector<std::string>& args,
                  const std::filesystem::path& log_file)
      : pid_(SpawnLogged(binary, args, log_file)) {}
  ~UpstreamProcess() { Stop(); }
  UpstreamProcess(const UpstreamProcess&) = delete;
  UpstreamProcess& operator=(const UpstreamProcess&) = delete;

  void Stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    if (!PollUntil([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; },
                   std::chrono::seconds(30))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

/// Polls `GET url` until it answers 200 or `timeout` passes. True when it did. The default
/// bound is for a process that was just started.
inline bool WaitUntilReady(http::HttpClient& client,
                           const std::string& url,
                           std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return PollUntil(
      [&] {
        http::Request request{.url = url};
        request.timeout = std::chrono::milliseconds(1000);
        auto response = client.Send(request);
        return response && response->status == 200;
      },
      timeout);
}

/// Skips the test when `binary` is not on PATH, or fails it when the environment variable CI is
/// set (CI must run the real-upstream tests). Use as: `REQUIRE_BINARY(path, "prometheus");`.
#define REQUIRE_BINARY(var, name)                                         \
  const auto var = ::obsforge::testing::FindOnPath(name);                 \
  if (!(var)) {                                                           \
    if (std::getenv("CI") != nullptr) {                                   \
      FAIL() << (name) << " not found on PATH (required when CI is set)"; \
    }                                                                     \
    GTEST_SKIP() << (name) << " not found on PATH";                       \
  }

}  // namespace obsforge::testing
