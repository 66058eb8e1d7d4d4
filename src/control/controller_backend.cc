#include "control/controller_backend.h"

#include <nlohmann/json.hpp>

namespace obsforge::control {
namespace {

std::optional<int> OptionalInt(const nlohmann::json& value) {
  if (value.is_number_integer()) {
    return value.get<int>();
  }
  return std::nullopt;
}

}  // namespace

RuntimeStatus ControllerBackend::Status(const std::string& stack, const std::string& env) {
  // The controller reports JSON; only the keys it writes are read, each checked for its type.
  const nlohmann::json report = controller_.Status(stack, env);
  RuntimeStatus status;
  if (!report.is_object()) {
    return status;
  }
  if (auto it = report.find("runtime"); it != report.end() && it->is_string()) {
    status.runtime = it->get<std::string>();
  }
  if (report.contains("revision") || report.contains("last_good")) {
    status.revisions = RuntimeStatus::Revisions{
        .current = OptionalInt(report.value("revision", nlohmann::json())),
        .last_good = OptionalInt(report.value("last_good", nlohmann::json()))};
  }
  for (const auto& c : report.value("components", nlohmann::json::array())) {
    if (!c.is_object()) {
      continue;
    }
    status.components.push_back(RuntimeComponent{.name = c.value("name", ""),
                                                 .state = c.value("state", ""),
                                                 .pid = c.value("pid", 0),
                                                 .restarts = c.value("restarts", 0),
                                                 .url = c.value("url", ""),
                                                 .last_exit = c.value("last_exit", "")});
  }
  return status;
}

}  // namespace obsforge::control
