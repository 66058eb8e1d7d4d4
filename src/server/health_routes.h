#pragma once

#include <optional>
#include <string>

#include "control/backend.h"
#include "core/clock.h"
#include "health/monitor.h"
#include "server/router.h"
#include "server/status_page.h"
#include "store/store.h"

namespace obsforge::server {

/// What the health endpoints and the status page read. Everything must outlive the router.
struct HealthRouteDeps {
  const health::HealthMonitor& monitor;
  store::Store& store;
  EnvironmentBackend& backend;  ///< runtime status of components for the status page
  core::Clock& clock;
  std::string version;
};

/// Registers (viewer role, like every GET of the API):
///   GET /api/v1/stacks/{name}/environments/{env}/health — health::ToJson of the current
///     status plus `watched` (an environment not watched answers state "unknown", no components);
///   GET /api/v1/stacks/{name}/environments/{env}/health/history?since=&limit= — {stack, env,
///     events: [...]} newest first (HealthEventJson); `since` is RFC 3339 or Unix milliseconds;
///   GET / — the HTML status page.
/// 404 for an unknown stack or environment; 400 for a malformed `since` or `limit`.
void RegisterHealthRoutes(Router& router, const HealthRouteDeps& deps);

/// Gathers the status page from the store (stacks, environment states, last 5 operations per
/// stack), the backend (components) and the monitor (health). Store errors are returned.
core::Result<StatusPage> CollectStatusPage(const HealthRouteDeps& deps);

/// "2026-11-22T03:01:29Z", "2026-11-22T03:01:29.123Z", "...+02:00" or Unix milliseconds → Unix
/// milliseconds; nullopt when malformed.
std::optional<std::int64_t> ParseTimeMs(const std::string& text);

}  // namespace obsforge::server
