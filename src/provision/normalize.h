#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace obsforge::provision {

/// One field that differs between what is in the upstream ("before") and what obsforge wants
/// ("after"). A side where the field is absent is null and flagged.
struct FieldDiff {
  std::string path;  ///< JSON pointer (RFC 6901), e.g. "/panels/3/title"; "" = the whole value
  nlohmann::json before;
  nlohmann::json after;
  bool before_absent = false;
  bool after_absent = false;

  /// "path: before -> after" with values as compact JSON ("(absent)" for a missing side),
  /// each value cut to 120 characters. Never throws (except std::bad_alloc).
  std::string ToString() const;
};

/// Field-level differences between `before` and `after`: object members compared by name (key
/// order never matters), arrays by index, every other value by equality. Never throws.
std::vector<FieldDiff> DiffJson(const nlohmann::json& before, const nlohmann::json& after);

/// Like DiffJson, but only the members present in `desired` are looked at, at every depth of
/// objects (array elements are compared the same way, index by index; an array length
/// difference is a diff). Used where the server adds defaults obsforge never sent (alert rules,
/// contact points, datasources). Never throws.
std::vector<FieldDiff> DiffDesiredFields(const nlohmann::json& remote,
                                         const nlohmann::json& desired);

/// Members every Grafana object may carry that the server manages: id, version, iteration,
/// created, updated, slug, provenance, orgId, orgID (implied by the org header), readOnly,
/// secureJsonFields, hasAcl, canSave... (not `url`: a datasource's url is
/// its configuration; a dashboard's or folder's url is never compared) Removed from the top level
/// of `object` (and of each alert rule when `object` is a rule group). Never throws.
nlohmann::json StripServerFields(nlohmann::json object);

/// A dashboard as compared: the dashboard model without id, version and iteration (which
/// Grafana changes on every save). Never throws.
nlohmann::json NormalizeDashboard(nlohmann::json dashboard);

/// Escapes one JSON-pointer reference token ("~" -> "~0", "/" -> "~1").
std::string EscapePointerToken(const std::string& token);

/// `value[key]` when `value` is an object and that member an integer, else 0. Never throws.
std::int64_t IntegerMember(const nlohmann::json& value, const char* key);

/// The canonical serialisation of `value`: sorted keys, no spaces, invalid UTF-8 replaced.
std::string CanonicalText(const nlohmann::json& value);
/// sha256 (hex) of CanonicalText(value).
std::string CanonicalHash(const nlohmann::json& value);

}  // namespace obsforge::provision
