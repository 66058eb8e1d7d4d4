#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "importer/import.h"
#include "importer/report.h"
#include "importer/secrets.h"

// The pieces Import() assembles: one per configuration file, one for Grafana. Internal to the
// importer module.
namespace obsforge::importer {

/// A part of the original configuration that a spec field models: when rendering the spec
/// gives back exactly the original at `pointers`, the field stays in the spec and those places
/// stay out of the passthrough; otherwise the lift is dropped and the passthrough carries them.
struct Lift {
  std::vector<std::string> pointers;  ///< in the component's main file
  /// Spec fields, by path under `spec` ({"components", "prometheus", "external_labels"}).
  std::vector<std::pair<std::vector<std::string>, nlohmann::ordered_json>> fields;
  std::string what;  ///< for the report: "external labels"
};

/// One imported configuration file.
struct ComponentPart {
  std::string component;            ///< "prometheus", "alertmanager", "loki", "tempo"
  std::string origin;               ///< where the file was read from
  std::string config_dir;           ///< its absolute directory ("" when the path is relative)
  nlohmann::ordered_json original;  ///< as parsed, secrets replaced by references
  std::vector<Lift> lifts;
  std::vector<OwnedPath> owned;
  std::set<std::string> owned_kept;  ///< owned pointers kept even where the original lacks them
  /// Fixed fields of spec.components.<component> (e.g. alertmanager templates).
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  std::vector<nlohmann::ordered_json> alerts;  ///< spec.alerts entries
  std::map<std::string, std::string> files;    ///< written files, relative to the output
  std::string loki_tenant;                     ///< Loki: the tenant its rules were found under
  std::vector<std::string> did;
  std::vector<std::string> review;
};

/// Reads the files a configuration names (relative to the configuration's directory).
class ReferencedFiles {
 public:
  ReferencedFiles(const spec::ContentSource* source, std::string config_path)
      : source_(source), config_path_(std::move(config_path)) {}
  /// The files matching `pattern` (a glob as written in the configuration), as lookup keys.
  std::vector<std::string> Glob(const std::string& pattern) const;
  /// The files the globs of `config[member]` (a list) match, each once in the order found, as
  /// the component loads them (Prometheus `rule_files`, Alertmanager `templates`); a glob that
  /// matches nothing is a line in `review`.
  std::vector<std::string> Follow(const nlohmann::ordered_json& config,
                                  const std::string& member,
                                  std::vector<std::string>& review) const;
  /// The content of a key Glob returned.
  std::optional<std::string> Read(const std::string& key) const;
  /// `pattern` resolved (absolute form, for messages).
  std::string Resolve(const std::string& pattern) const;

 private:
  const spec::ContentSource* source_;
  std::string config_path_;
};

/// Parses a configuration file (YAML) into a map. Throws core::InputError naming the file.
nlohmann::ordered_json ParseConfig(const ConfigFile& file, const std::string& what);

ComponentPart ImportPrometheus(const ConfigFile& file,
                               const spec::ContentSource* files,
                               const std::string& stack,
                               SecretLifter& secrets);
ComponentPart ImportAlertmanager(const ConfigFile& file,
                                 const spec::ContentSource* files,
                                 const std::string& stack,
                                 SecretLifter& secrets);
ComponentPart ImportLoki(const ConfigFile& file,
                         const spec::ContentSource* files,
                         const std::string& stack,
                         SecretLifter& secrets);
ComponentPart ImportTempo(const ConfigFile& file,
                          const spec::ContentSource* files,
                          const std::string& stack,
                          SecretLifter& secrets);

/// The imported Grafana.
struct GrafanaPart {
  nlohmann::ordered_json component = nlohmann::ordered_json::object();  ///< components.grafana
  nlohmann::ordered_json runtime = nlohmann::ordered_json::object();    ///< runtime.grafana
  nlohmann::ordered_json folders = nlohmann::ordered_json::array();     ///< spec.folders
  std::vector<nlohmann::ordered_json> dashboards;                       ///< spec.dashboards
  std::vector<nlohmann::ordered_json> alerts;                           ///< spec.alerts
  std::map<std::string, std::string> files;
  std::vector<std::string> did;
  std::vector<std::string> review;
  std::vector<std::string> adopted;
};

GrafanaPart ImportGrafana(const GrafanaSnapshot& snapshot,
                          const std::string& stack,
                          bool adopt,
                          SecretLifter& secrets);

// --- helpers shared by the parts -----------------------------------------------------------

/// The letters and digits of `text` in `upper` or lower case, every other run of characters
/// one `separator`, none at either end ("Team A!" -> "team-a" or "TEAM_A").
std::string Words(const std::string& text, char separator, bool upper);
/// A lower-case name of letters, digits and '-' for files and folders ("Team A" -> "team-a"),
/// at most 80 characters; from `fallback` when nothing is left.
std::string Slug(const std::string& text, const std::string& fallback);
/// `stem`, or `stem-2`, `stem-3`, ... : the first not in `taken`, which then holds it too.
std::string UniqueIn(std::set<std::string>& taken, const std::string& stem);
/// "/a/b/0" -> "a.b[0]" (messages).
std::string PointerToPath(const std::string& pointer);

}  // namespace obsforge::importer
