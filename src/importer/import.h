#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "importer/report.h"
#include "provision/grafana_client.h"
#include "render/bundle.h"
#include "spec/stack.h"

// `obsforge import`: a running, hand-built stack (configuration files and a Grafana) turned into
// a stack spec plus the files it refers to, so that rendering the spec gives back configurations
// equal as data to the originals (docs/import.md).
namespace obsforge::importer {

/// One configuration file to import.
struct ConfigFile {
  /// Where it was read from: an absolute path on the command line (its directory is where the
  /// files it names are looked up, and becomes the runtime's config_dir), a key of the posted
  /// files over the API.
  std::string path;
  std::string text;
};

/// A Grafana organisation as read over its HTTP API (ReadGrafana), everything import uses.
struct GrafanaSnapshot {
  std::string url;      ///< as given
  std::string version;  ///< from /api/health ("" when hidden)
  /// How it was read, so the spec references the same credential: "token" (GRAFANA_TOKEN) or
  /// "basic" (`user`, GRAFANA_PASSWORD).
  std::string auth = "basic";
  std::string user = "admin";
  nlohmann::ordered_json datasources = nlohmann::ordered_json::array();  ///< full objects
  /// [{uid, title, parentUid?}], parents before children.
  nlohmann::ordered_json folders = nlohmann::ordered_json::array();
  /// [{dashboard, meta}] as GET /api/dashboards/uid/{uid} answers (key order kept).
  nlohmann::ordered_json dashboards = nlohmann::ordered_json::array();
  /// Rule groups as GET .../folder/{uid}/rule-groups/{group} answers.
  nlohmann::ordered_json rule_groups = nlohmann::ordered_json::array();
  nlohmann::ordered_json contact_points = nlohmann::ordered_json::array();
  nlohmann::ordered_json policies;  ///< the notification policy tree (null when unreadable)
  std::size_t mute_timings = 0;
  std::size_t templates = 0;
};

/// What to import.
struct ImportRequest {
  std::string name;          ///< the stack's name
  std::string env = "prod";  ///< the environment the spec describes (external runtime)
  std::optional<ConfigFile> prometheus;
  std::optional<ConfigFile> alertmanager;
  std::optional<ConfigFile> loki;
  std::optional<ConfigFile> tempo;
  /// Where the files the configurations name (rule files, notification templates, the Loki
  /// ruler's directory) are read: a path is resolved against its configuration's directory
  /// when relative, then looked up without its leading '/'. Required with any configuration.
  const spec::ContentSource* files = nullptr;
  std::optional<GrafanaSnapshot> grafana;
  /// Runtime URLs by component ("prometheus" -> "http://prom:9090"): obsforge reloads and
  /// checks a component only when it has one.
  std::map<std::string, std::string> urls;
  /// Take over the Grafana objects found (components.grafana.adopt); never implied.
  bool adopt = false;
};

/// What an import produced.
struct ImportResult {
  std::string spec_path;  ///< "stacks/<name>.yaml"
  std::string spec_yaml;  ///< the spec as written
  nlohmann::ordered_json spec;
  /// Every other file, by path relative to the output folder (dashboards/<name>/…,
  /// alerts/<name>/…). No secret value is in any of them.
  std::map<std::string, std::string> files;
  /// The spec rendered for `env` (what `obsforge render` gives), for checks by the caller;
  /// empty when it could not be rendered (the reason is in report.review).
  render::Bundle rendered;
  Report report;
};

/// Imports the configurations and the Grafana snapshot of `request`. Pure: reads only
/// `request.files`, writes nothing.
/// Throws core::InputError (kInvalidSpec) for an invalid name or environment, nothing to
/// import, or a configuration that is not YAML or not a map (naming the file, line, column).
ImportResult Import(const ImportRequest& request);

/// Bounds on what ReadGrafana takes in (an aggregate).
struct GrafanaReadLimits {
  std::size_t max_dashboards = 10000;
  std::size_t max_bytes = 256U << 20U;  ///< of the dashboards' JSON, all together
};

/// Reads what Import needs from Grafana: health (version), datasources, the folder tree,
/// dashboards, Grafana-managed rule groups, contact points, the policy tree, and how many mute
/// timings and notification templates there are. `url`, `auth` and `user` are recorded as
/// given. Errors: the first failed request (kUpstream, kNotFound, a transport error), naming it;
/// kUpstream when Grafana holds more dashboards (or dashboard bytes) than `limits` allow.
core::Result<GrafanaSnapshot> ReadGrafana(provision::GrafanaClient& client,
                                          const std::string& url,
                                          const std::string& auth,
                                          const std::string& user,
                                          const GrafanaReadLimits& limits = {});

}  // namespace obsforge::importer
