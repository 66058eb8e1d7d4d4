#include "apply/local_drivers.h"

namespace obsforge::apply {
namespace {

class RestartDriver final : public ComponentDriver {
 public:
  RestartDriver(LocalRuntime& runtime, std::string component, RestartDriverOptions options)
      : runtime_(runtime), component_(std::move(component)), options_(options) {}

  std::string Component() const override { return component_; }

  core::Result<void> Activate(const render::Bundle& /*bundle*/) override {
    if (auto restarted = runtime_.Restart(component_); !restarted.ok()) {
      return restarted;
    }
    return runtime_.WaitReady(component_, options_.ready_timeout);
  }

  core::Result<void> Verify(const render::Bundle& /*bundle*/) override {
    return runtime_.WaitReady(component_, options_.verify_timeout);
  }

 private:
  LocalRuntime& runtime_;
  std::string component_;
  RestartDriverOptions options_;
};

}  // namespace

std::unique_ptr<ComponentDriver> MakeRestartDriver(LocalRuntime& runtime,
                                                   const std::string& component,
                                                   RestartDriverOptions options) {
  if (component != "loki" && component != "tempo" && component != "grafana" &&
      component != "otel_collector") {
    return nullptr;
  }
  return std::make_unique<RestartDriver>(runtime, component, options);
}

}  // namespace obsforge::apply
