#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace obsforge::importer {

/// A secret value found while importing and replaced by `{secret: name}`: the variable to set
/// before applying, and every place its value was taken from. The value itself is never kept.
struct LiftedSecret {
  std::string name;
  /// Human-readable origins: "prometheus.yml (/etc/prometheus/prometheus.yml):
  /// remote_write[0].basic_auth.password", "grafana datasource \"Prometheus\" (uid P1):
  /// secureJsonData.basicAuthPassword (Grafana never returns it)".
  std::vector<std::string> from;
  /// For configuration files: the component ("prometheus", ...) and JSON pointers of the places
  /// in its main file (so a rendered file can be compared with the original without them).
  std::string component;
  std::vector<std::string> pointers;
};

/// A place in a rendered main file whose value obsforge decides (it differs from the original
/// on purpose), e.g. Prometheus `rule_files`: the imported rules are rendered to rules/*.yaml.
struct OwnedPath {
  std::string component;
  std::string file;     ///< "prometheus.yml"
  std::string pointer;  ///< JSON pointer, "/rule_files"
  std::string why;
};

/// What an import did and what is left for a person.
struct Report {
  std::string stack;
  std::string env;
  std::string spec_path;            ///< "stacks/<name>.yaml", relative to the output folder
  std::vector<std::string> did;     ///< one line per thing imported
  std::vector<std::string> review;  ///< needs a human: one line each
  std::vector<LiftedSecret> secrets;
  std::vector<OwnedPath> owned;
  /// Grafana objects the spec adopts ("dashboard \"uid\""), when --adopt was given.
  std::vector<std::string> adopted;
  /// Files written, relative to the output folder (the spec included).
  std::vector<std::string> files;

  /// {stack, env, spec, did, review, secrets: [{name, from, component, pointers}],
  ///  owned_paths: [{component, file, pointer, why}], adopted, files}.
  nlohmann::json ToJson() const;
  /// The short report printed by `obsforge import`.
  std::string ToText() const;
};

}  // namespace obsforge::importer
