#pragma once

#include <functional>
#include <string>

#include "control/application.h"
#include "server/metrics.h"
#include "server/router.h"

namespace obsforge::server {

/// What the endpoints need. Everything referenced must outlive the router.
struct RouteDeps {
  control::Application& app;
  Metrics& metrics;
  std::string version;
  std::function<bool()> draining;  ///< true once shutdown began (/readyz answers 503)
};

/// Registers every endpoint of docs/api.md except the GitOps and health routes and the status
/// page. Handlers are thin: they read parameters, call the application and turn its typed
/// result into JSON.
void RegisterRoutes(Router& router, const RouteDeps& deps);

}  // namespace obsforge::server
