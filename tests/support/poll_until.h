#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace obsforge::testing {

/// Polls `pred` every 10 ms until it holds or `timeout` passed; its last answer. For outcomes
/// that have no event to wait on; the timeout only bounds a failing test.
inline bool PollUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
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
