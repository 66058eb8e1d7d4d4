#pragma once

#include <nlohmann/json.hpp>

#include "apply/runtime.h"

namespace obsforge::server {

/// The `runtime` member of an environment in GET /api/v1/stacks/{name}:
/// {"runtime": "local"|"external"|null (no runtime open for it in this server), "revision",
/// "last_good" (numbers or null; both absent when the environment has no revisions),
/// "components": [{"name", "state" ("running", "unavailable: <why>", "external", ...), "url",
/// and for processes obsforge runs "pid", "restarts", "last_exit" (when it exited)}]}.
nlohmann::json RuntimeStatusJson(const apply::RuntimeStatus& status);

}  // namespace obsforge::server
