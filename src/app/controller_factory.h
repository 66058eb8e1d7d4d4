#pragma once

#include <memory>

#include "apply/environment_controller.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/curl_http_client.h"

namespace obsforge::app {

/// The concrete objects a command needs to drive environments, wired once.
/// Precondition: an http::CurlGlobal lives for the whole process (Main creates it).
class ControllerWiring {
 public:
  ControllerWiring(apply::ControllerOptions options, core::Logger& logger);
  apply::EnvironmentController& controller() { return controller_; }
  http::HttpClient& http() { return http_; }
  core::Clock& clock() { return clock_; }

 private:
  core::SystemClock clock_;
  // Reloads are not retried: a 500 from /-/reload means the config was refused.
  http::CurlHttpClient http_;
  apply::EnvironmentController controller_;
};

}  // namespace obsforge::app
