#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "health/monitor.h"
#include "support/poll_until.h"

namespace obsforge::testing {

/// Waits until every check of (stack, env) has a run recorded after `after`, and the monitor has
/// handled those runs: the monitor's loop thread handles one finished run at a time and counts
/// a run before handling it, so once one more run is counted every run recorded before was fully
/// handled (its transitions taken, its Slack message, if any, enqueued). False on timeout.
inline bool WaitRunsHandledAfter(const health::HealthMonitor& monitor,
                                 const std::string& stack,
                                 const std::string& env,
                                 std::chrono::system_clock::time_point after,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const bool ran = PollUntil(
      [&] {
        const auto status = monitor.Status(stack, env);
        return status &&
               std::all_of(status->components.begin(), status->components.end(),
                           [&](const health::ComponentStatus& component) {
                             return std::all_of(component.checks.begin(), component.checks.end(),
                                                [&](const health::CheckStatus& check) {
                                                  return check.last_run > after;
                                                });
                           });
      },
      timeout);
  if (!ran) {
    return false;
  }
  const std::uint64_t seen = monitor.Stats().runs_finished;
  return PollUntil([&] { return monitor.Stats().runs_finished > seen; }, timeout);
}

}  // namespace obsforge::testing
