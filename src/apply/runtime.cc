#include "apply/runtime.h"

#include <string_view>

#include "apply/external_runtime.h"
#include "apply/local_runtime.h"

namespace obsforge::apply {

const char* ComponentStateName(ComponentState state) {
  switch (state) {
    case ComponentState::kRunning:
      return "running";
    case ComponentState::kRestarting:
      return "restarting";
    case ComponentState::kStopping:
      return "stopping";
    case ComponentState::kStopped:
      return "stopped";
    case ComponentState::kUnavailable:
      return "unavailable";
    case ComponentState::kExternal:
      return "external";
  }
  return "unknown";
}

std::string ComponentStatus::Describe() const {
  if (state == ComponentState::kUnavailable) {
    return std::string("unavailable: ") + reason;
  }
  return ComponentStateName(state);
}

// With MakeRuntime, the one place that looks at the spec's runtime type.
RuntimeKind KindOf(const spec::EnvironmentSpec& env) {
  switch (env.runtime.type) {
    case spec::Runtime::Type::kLocal:
      return LocalRuntime::kKind;
    case spec::Runtime::Type::kExternal:
      return ExternalRuntime::kKind;
  }
  return ExternalRuntime::kKind;
}

core::Result<std::unique_ptr<Runtime>> MakeRuntime(const spec::EnvironmentSpec& env,
                                                   const RuntimeContext& context) {
  switch (env.runtime.type) {
    case spec::Runtime::Type::kLocal: {
      auto local = LocalRuntime::Open(env,
                                      LocalRuntimeOptions{.data_dir = context.data_dir,
                                                          .path_env = context.path_env,
                                                          .ready_timeout = context.ready_timeout,
                                                          .supervisor = context.supervisor},
                                      context.http, context.clock, context.logger);
      if (!local.ok()) {
        return local.error();
      }
      return std::unique_ptr<Runtime>(std::move(local.value()));
    }
    case spec::Runtime::Type::kExternal:
      return std::unique_ptr<Runtime>(
          std::make_unique<ExternalRuntime>(env, context.data_dir, context.http, context.clock));
  }
  return core::MakeError(core::ErrorCode::kInvalidSpec, "unknown runtime type");
}

bool Fits(const Runtime& runtime, const spec::EnvironmentSpec& env) {
  return std::string_view(runtime.Kind().name) == KindOf(env).name;
}

}  // namespace obsforge::apply
