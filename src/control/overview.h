#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "control/backend.h"
#include "core/error.h"
#include "health/monitor.h"
#include "store/store.h"

namespace obsforge::control {

/// One component of an environment: what runs it and how healthy it is.
struct StatusComponent {
  std::string name;
  std::string state;   ///< runtime state ("running", "external", ...); "" when unknown
  std::string url;     ///< as the runtime reports it (any scheme)
  std::string health;  ///< "ok", "degraded", "down", "unknown"; "" when not watched
};

/// One environment of a stack.
struct StatusEnvironment {
  std::string name;
  std::string state;  ///< as the operations left it ("ready", "failed", ...); "" when never applied
  std::string health;                ///< "ok", "degraded", "down", "unknown"; "" when not watched
  std::string health_since;          ///< RFC 3339
  std::vector<std::string> failing;  ///< "component/check: last error"
  std::vector<StatusComponent> components;
  std::string message;                ///< the last error of its operations
  std::int64_t applied_revision = 0;  ///< the spec revision live there; 0 when none
};

/// One recent operation.
struct StatusOperation {
  std::string id;
  std::string kind;
  std::string env;
  std::string state;
  std::string created_at;  ///< RFC 3339
  std::string error;
};

/// One stack: its environments and last operations.
struct StatusStack {
  std::string name;
  std::int64_t revision = 0;
  std::map<std::string, std::string> labels;  ///< the spec's metadata.labels
  std::vector<StatusEnvironment> environments;
  std::vector<StatusOperation> operations;  ///< newest first
};

/// How many recent operations CollectStatus shows per stack.
inline constexpr int kStatusOperations = 5;

/// Every stored stack as the console's overview shows it: the environments of its spec and those
/// with a stored state (state and last error from the store, components from `backend`, health from
/// `monitor` when not null) and its last kStatusOperations operations. Store errors are returned.
core::Result<std::vector<StatusStack>> CollectStatus(store::Store& store,
                                                     EnvironmentBackend& backend,
                                                     const health::HealthMonitor* monitor);

}  // namespace obsforge::control
