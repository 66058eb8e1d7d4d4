#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "render/bundle.h"

namespace obsforge::provision::testing {

/// A bundle holding grafana/objects.json for `objects` plus one file per dashboard and rule
/// group named in it (models from `dashboards`/`groups`, keyed by uid / title).
inline render::Bundle MakeBundle(const nlohmann::json& objects,
                                 const nlohmann::json& dashboards = nlohmann::json::object(),
                                 const nlohmann::json& groups = nlohmann::json::object()) {
  render::Bundle bundle;
  bundle.Add("grafana/objects.json", objects.dump(2));
  for (const auto& d : objects.value("dashboards", nlohmann::json::array())) {
    bundle.Add(d["file"].get<std::string>(), dashboards[d["uid"].get<std::string>()].dump(2));
  }
  for (const auto& g : objects.value("rule_groups", nlohmann::json::array())) {
    bundle.Add(g["file"].get<std::string>(), groups[g["title"].get<std::string>()].dump(2));
  }
  return bundle;
}

/// objects.json entry for a dashboard in `folder`.
inline nlohmann::json DashboardEntry(const std::string& uid, const std::string& folder) {
  return {{"uid", uid},
          {"folderUid", folder},
          {"file", "grafana/dashboards/" + folder + "/" + uid + ".json"}};
}

}  // namespace obsforge::provision::testing
