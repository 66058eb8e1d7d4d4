#include "app/controller_factory.h"

namespace obsforge::app {

ControllerWiring::ControllerWiring(apply::ControllerOptions options, core::Logger& logger)
    : controller_(std::move(options), http_, clock_, logger) {
}

}  // namespace obsforge::app
