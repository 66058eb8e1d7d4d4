#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// How an imported configuration is split between the templates and the passthrough, and how a
// rendered file is compared with its original.
namespace obsforge::importer {

/// Places (JSON pointers) the passthrough leaves alone.
struct Exclusions {
  std::set<std::string> lifted;  ///< rendered from spec fields
  std::set<std::string> owned;   ///< obsforge's value stands
  /// Owned places kept even where the original lacks them (else the template's key is removed
  /// along with what holds it).
  std::set<std::string> owned_kept;
};

/// A component's passthrough: `merge` (spec `passthrough`) and `remove` (spec
/// `passthrough_remove`, JSON pointers).
struct Passthrough {
  nlohmann::ordered_json merge = nlohmann::ordered_json::object();
  std::vector<std::string> remove;
};

/// The passthrough that turns `rendered` (what the templates give without one) into
/// `original`: every value of the original (null included), except at excluded places (lists
/// whole), and the removal of every key the templates add that the original lacks. Applied by
/// render::MergePassthrough it gives `original` at every place not excluded, whatever the
/// environment's directories or ports are.
Passthrough ComputePassthrough(const nlohmann::ordered_json& rendered,
                               const nlohmann::ordered_json& original,
                               const Exclusions& exclusions);

/// `rendered` (a main file read back) in the form of the spec: `KEY_file: F` becomes
/// `KEY: {secret: NAME}` and "${NAME}", "${file:F}", "$__file{F}" become `{secret: NAME}`,
/// where `files` maps each secret file to its NAME and `names` lists the names.
nlohmann::ordered_json Unsecret(nlohmann::ordered_json rendered,
                                const std::map<std::string, std::string>& files,
                                const std::set<std::string>& names);

/// Where `a` and `b` differ as data (key order ignored; a key holding null is not an absent
/// key), leaving out `ignored` places; JSON pointers, at most `limit` of them.
std::vector<std::string> DiffAsData(nlohmann::ordered_json a,
                                    nlohmann::ordered_json b,
                                    const std::vector<std::string>& ignored,
                                    std::size_t limit = 20);

}  // namespace obsforge::importer
