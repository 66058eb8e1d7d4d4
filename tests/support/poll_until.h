#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace obsforge::testing {

/// Polls `pred` every 10 ms until it holds or `timeout` passed; its last answer. For
/// outcomes that have no event to wait on. The timeout only ends a failing test, so it is
/// generous: a correct program on a loaded 2-core machine under AddressSanitizer must never hit
/// it (pass 60 s when the wait includes starting a process or an operation finishing).
inline bool PollUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace obsforge::testing
