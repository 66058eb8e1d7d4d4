#include "apply/lock.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

std::shared_ptr<std::mutex> MutexFor(const std::string& key) {
  static std::mutex registry_mu;
  static std::map<std::string, std::shared_ptr<std::mutex>> registry;
  std::lock_guard lock(registry_mu);
  auto& slot = registry[key];
  if (!slot) {
    slot = std::make_shared<std::mutex>();
  }
  return slot;
}

}  // namespace

EnvLock::EnvLock(std::unique_lock<std::mutex> guard, std::shared_ptr<std::mutex> mutex, int fd)
    : guard_(std::move(guard)), mutex_(std::move(mutex)), fd_(fd) {
}

EnvLock::EnvLock(EnvLock&& other) noexcept
    : guard_(std::move(other.guard_)),
      mutex_(std::move(other.mutex_)),
      fd_(std::exchange(other.fd_, -1)) {
}

EnvLock& EnvLock::operator=(EnvLock&& other) noexcept {
  if (this != &other) {
    Release();
    guard_ = std::move(other.guard_);
    mutex_ = std::move(other.mutex_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

EnvLock::~EnvLock() {
  Release();
}

void EnvLock::Release() {
  if (fd_ >= 0) {
    // Closing the descriptor drops the flock; the mutex goes after, so another thread of this
    // process only ever wakes up to an unlocked file.
    ::close(fd_);
    fd_ = -1;
  }
  if (guard_.owns_lock()) {
    guard_.unlock();
  }
}

core::Result<EnvLock> EnvLock::Acquire(const std::string& stack,
                                       const std::string& env,
                                       const std::filesystem::path& env_root) {
  auto mutex = MutexFor(stack + '\0' + env);
  std::unique_lock guard(*mutex);
  std::error_code ec;
  std::filesystem::create_directories(env_root, ec);
  const auto path = env_root / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // NOLINT
  if (fd < 0) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  int rc = 0;
  do {
    rc = ::flock(fd, LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return core::MakeError(core::ErrorCode::kInternal, "cannot lock " + path.string() + ": " + why);
  }
  return EnvLock(std::move(guard), std::move(mutex), fd);
}

}  // namespace obsforge::apply
