#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace obsforge::testing {

/// Polls `pred` every `interval` until it holds or `timeout` passed; its last answer. For
/// outcomes that have no event to wait on. The timeout only ends a failing test, so it is
/// generous: a correct program on a loaded 2-core machine under AddressSanitizer must never hit
/// it (pass 60 s when the wait includes starting a process or an operation finishing).
/// `interval` is for predicates that cost something to ask (an HTTP request, a SQL query).
inline bool PollUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(interval);
  }
  return pred();
}

}  // namespace obsforge::testing
