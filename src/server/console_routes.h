#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "console/event_bus.h"
#include "control/application.h"
#include "server/auth.h"
#include "server/router.h"

namespace obsforge::server {

/// What the console's routes need (an aggregate). Everything referenced must outlive the router.
struct ConsoleDeps {
  control::Application& app;
  console::EventBus& events;
  std::string version;
  /// The tokens; none: pages are rendered with their data, else they are shells without data
  /// until the script has a token.
  const TokenTable& tokens;
  /// How often an idle event stream gets a comment line (keeps proxies and clients sure it lives).
  std::chrono::milliseconds heartbeat{15000};
};

/// The Content-Security-Policy of every console page: scripts, styles and data only from the
/// server itself; no inline script, no frames, no forms posting elsewhere.
extern const char* const kConsoleCsp;

/// The web console: the pages (GET /, /stacks/{name}, /stacks/{name}/environments/{env},
/// /operations/{id}, /stacks/{name}/revisions, /gitops), its embedded files
/// (GET /console/{file}), the overview as data (GET /api/v1/overview, JSON or the tiles as HTML)
/// and the live updates (GET /api/v1/events, Server-Sent Events from `events`); what the
/// revisions page diffs (GET /api/v1/stacks/{name}/revisions/{number}, its spec, and
/// …/revisions/{number}/environments/{env}/rendered, its bundle); and who the caller is
/// (GET /api/v1/whoami: token name and role, so the script shows only buttons it may use).
/// Pages need no
/// token (a browser cannot send one when it navigates): without tokens configured the overview is
/// rendered on the server; with tokens, pages carry no data and the script fetches everything
/// through the REST API with the token it is given.
void RegisterConsoleRoutes(Router& router, const ConsoleDeps& deps);

}  // namespace obsforge::server
