#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "server/backend.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/service.h"
#include "store/store.h"

namespace obsforge::server {

/// What the endpoints need. Everything referenced must outlive the router.
struct RouteDeps {
  StackService& service;
  EnvironmentBackend& backend;  ///< for the stateless POST /api/v1/render
  store::Store& store;          ///< for /readyz
  Metrics& metrics;
  std::filesystem::path content_dir;
  std::string version;
  std::function<bool()> draining;  ///< true once shutdown began (/readyz answers 503)
};

/// Registers every endpoint of docs/api.md except the GitOps webhook and the status page.
/// Handlers are thin: they read parameters, call the service and shape the reply.
void RegisterRoutes(Router& router, const RouteDeps& deps);

}  // namespace obsforge::server
