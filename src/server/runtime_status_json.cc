#include "server/runtime_status_json.h"

namespace obsforge::server {

nlohmann::json RuntimeStatusJson(const apply::RuntimeStatus& status) {
  using nlohmann::json;
  json out = {{"components", json::array()},
              {"runtime", status.runtime.empty() ? json(nullptr) : json(status.runtime)}};
  if (status.has_revisions) {
    out["revision"] = status.revision ? json(*status.revision) : json(nullptr);
    out["last_good"] = status.last_good ? json(*status.last_good) : json(nullptr);
  }
  for (const auto& component : status.components) {
    json c = {{"name", component.name}, {"state", component.Describe()}, {"url", component.url}};
    if (component.process) {
      c["pid"] = component.process->pid;
      c["restarts"] = component.process->restarts;
      if (!component.process->last_exit.empty()) {
        c["last_exit"] = component.process->last_exit;
      }
    }
    out["components"].push_back(std::move(c));
  }
  return out;
}

}  // namespace obsforge::server
