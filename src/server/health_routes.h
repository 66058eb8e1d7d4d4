#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "control/application.h"
#include "server/router.h"

namespace obsforge::server {

/// Registers (viewer role, like every GET of the API):
///   GET /api/v1/stacks/{name}/environments/{env}/health — health::ToJson of the current
///     status plus `watched` (an environment not watched answers state "unknown", no components);
///   GET /api/v1/stacks/{name}/environments/{env}/health/history?since=&limit= — {stack, env,
///     events: [...]} newest first; `since` is RFC 3339 or Unix milliseconds.
/// 404 for an unknown stack or environment; 400 for a malformed `since` or `limit`.
/// Precondition: `app` has a HealthRuntime. `app` must outlive the router.
void RegisterHealthRoutes(Router& router, control::Application& app);

/// "2026-11-22T03:01:29Z", "2026-11-22T03:01:29.123Z", "...+02:00" or Unix milliseconds → Unix
/// milliseconds; nullopt when malformed.
std::optional<std::int64_t> ParseTimeMs(const std::string& text);

}  // namespace obsforge::server
