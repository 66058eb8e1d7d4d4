#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "apply/drivers.h"
#include "apply/local_runtime.h"

namespace obsforge::apply {

/// Options of a restart-based driver.
struct RestartDriverOptions {
  std::chrono::milliseconds ready_timeout{60000};   ///< Activate: restart, then ready within this
  std::chrono::milliseconds verify_timeout{10000};  ///< Verify: ready within this
};

/// A ComponentDriver for components that take a new configuration only by restarting (Loki,
/// Tempo, Grafana, the OTel collector) under a LocalRuntime. Activate() restarts the component
/// (the runtime reads its config through `current`, so the bundle is already in place) and waits
/// until it is ready; Verify() checks that it is ready. Errors are LocalRuntime's (e.g.
/// kUnavailable "loki not found on PATH", kTimeout "loki not ready after 60000ms: ...").
/// `runtime` must outlive the driver. Returns nullptr for prometheus/alertmanager (they reload)
/// and unknown components.
std::unique_ptr<ComponentDriver> MakeRestartDriver(LocalRuntime& runtime,
                                                   const std::string& component,
                                                   RestartDriverOptions options = {});

}  // namespace obsforge::apply
