#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.h"

namespace obsforge::apply {

/// Exclusive hold on one (stack, environment): an in-process mutex per (stack, env) plus
/// flock(2) on `<env-root>/lock`, so applies never overlap between threads or processes. The
/// kernel drops a flock when its holder dies, so a leftover lock file never blocks. Move-only;
/// released by the destructor.
class EnvLock {
 public:
  /// Blocks until the lock is held. Creates `env_root` when missing. kInternal (with the OS
  /// error) when the lock file cannot be opened or locked.
  static core::Result<EnvLock> Acquire(const std::string& stack,
                                       const std::string& env,
                                       const std::filesystem::path& env_root);

  EnvLock(EnvLock&& other) noexcept;
  EnvLock& operator=(EnvLock&& other) noexcept;
  EnvLock(const EnvLock&) = delete;
  EnvLock& operator=(const EnvLock&) = delete;
  ~EnvLock();

 private:
  EnvLock(std::unique_lock<std::mutex> guard, std::shared_ptr<std::mutex> mutex, int fd);
  void Release();

  std::unique_lock<std::mutex> guard_;
  std::shared_ptr<std::mutex> mutex_;  // keeps the registry entry alive while held
  int fd_ = -1;
};

}  // namespace obsforge::apply
