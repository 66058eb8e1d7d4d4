#include "control/overview.h"

#include <algorithm>
#include <map>

#include "control/health_watcher.h"
#include "core/clock.h"

namespace obsforge::control {
namespace {

std::string Ms(std::int64_t ms) {
  return ms == 0 ? ""
                 : core::FormatTime(
                       std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// Runtime names a component "otel_collector"; health calls it "otelcol".
std::string HealthName(const std::string& component) {
  return component == "otel_collector" ? "otelcol" : component;
}

StatusEnvironment CollectEnvironment(EnvironmentBackend& backend,
                                     const health::HealthMonitor* monitor,
                                     const std::string& stack,
                                     const std::string& env,
                                     const std::vector<store::EnvironmentState>& states) {
  StatusEnvironment out{.name = env};
  for (const auto& s : states) {
    if (s.env == env) {
      out.state = s.state;
      out.message = s.message;
      out.applied_revision = s.applied_revision;
    }
  }
  std::map<std::string, std::string> component_health;
  if (const auto health = monitor != nullptr ? monitor->Status(stack, env) : std::nullopt) {
    out.health = health::StateName(health->state);
    out.health_since = core::FormatTime(health->since);
    for (const auto& component : health->components) {
      component_health[component.name] = health::StateName(component.state);
      for (const auto& check : component.checks) {
        if (check.state == health::State::kFailing) {
          out.failing.push_back(component.name + "/" + check.name + ": " + check.last_error);
        }
      }
    }
  }
  for (const RuntimeComponent& c : backend.Status(stack, env).components) {
    StatusComponent row{.name = c.name, .state = c.state, .url = c.url};
    if (auto it = component_health.find(HealthName(row.name)); it != component_health.end()) {
      row.health = it->second;
      component_health.erase(it);
    }
    out.components.push_back(std::move(row));
  }
  // Components health watches that the runtime does not list (an external runtime).
  for (const auto& [name, state] : component_health) {
    out.components.push_back(StatusComponent{.name = name, .health = state});
  }
  return out;
}

}  // namespace

core::Result<std::vector<StatusStack>> CollectStatus(store::Store& store,
                                                     EnvironmentBackend& backend,
                                                     const health::HealthMonitor* monitor) {
  auto stacks = store.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  std::vector<StatusStack> out;
  for (const auto& stored : *stacks) {
    StatusStack stack{.name = stored.name, .revision = stored.revision};
    auto states = store.ListEnvironments(stored.name);
    if (!states.ok()) {
      return states.error();
    }
    auto spec = StoredSpec(stored.name, stored.spec_json);
    std::vector<std::string> envs;
    if (spec.ok()) {
      envs = spec->environments;
      const auto labels = spec->document.value("metadata", nlohmann::json::object())
                              .value("labels", nlohmann::json::object());
      for (const auto& [key, value] : labels.items()) {
        if (value.is_string()) {
          stack.labels[key] = value.get<std::string>();
        }
      }
    }
    for (const auto& s : *states) {
      if (std::find(envs.begin(), envs.end(), s.env) == envs.end()) {
        envs.push_back(s.env);
      }
    }
    for (const auto& env : envs) {
      stack.environments.push_back(CollectEnvironment(backend, monitor, stored.name, env, *states));
    }
    auto ops = store.ListOperations({.stack = stored.name, .limit = kStatusOperations});
    if (!ops.ok()) {
      return ops.error();
    }
    for (const auto& op : *ops) {
      stack.operations.push_back(StatusOperation{.id = op.id,
                                                 .kind = store::Name(op.kind),
                                                 .env = op.env,
                                                 .state = store::Name(op.state),
                                                 .created_at = Ms(op.created_at),
                                                 .error = op.error});
    }
    out.push_back(std::move(stack));
  }
  return out;
}

}  // namespace obsforge::control
