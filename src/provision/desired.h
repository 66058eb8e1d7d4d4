#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"
#include "provision/ownership.h"
#include "render/bundle.h"

namespace obsforge::provision {

/// A secret reference found inside an object body, and where.
struct SecretSlot {
  std::string pointer;  ///< JSON pointer of the value to fill in, e.g. "/settings/url"
  core::SecretRef ref;
};

/// One Grafana object as obsforge wants it, with ownership markers already added and secrets
/// still as references.
struct DesiredObject {
  ObjectKind kind = ObjectKind::kDashboard;
  /// See OwnedObject::uid.
  std::string uid;
  /// Human name for messages (title or name).
  std::string title;
  /// Dashboards and rule groups: the folder they go to ("" = General).
  std::string folder_uid;
  /// Folders: the parent folder uid ("" = top level).
  std::string parent_uid;
  /// Body sent to the API: datasource and contact-point objects, {uid,title,parentUid} for
  /// folders, the dashboard model for dashboards, the rule-group body, the policy route.
  nlohmann::json body;
  std::vector<SecretSlot> secrets;
  /// Bundle file it came from.
  std::string source;
  /// Listed under objects.json `adopt` (components.grafana.adopt): when it exists in Grafana
  /// and obsforge does not own it, it is taken over (compared, updated, recorded) instead of
  /// being a conflict.
  bool adopt = false;
};

/// Everything grafana/objects.json (and the files it names) asks for.
struct DesiredGrafana {
  std::vector<DesiredObject> datasources;
  std::vector<DesiredObject> folders;  ///< parents before children
  std::vector<DesiredObject> dashboards;
  std::vector<DesiredObject> rule_groups;
  std::vector<DesiredObject> contact_points;
  /// The stack's notification-policy subtree: one route whose object_matchers select
  /// kOwnerLabel = owner.Id(); nullopt when the stack routes nothing.
  std::optional<DesiredObject> policy;

  /// Number of objects (policy included).
  std::size_t size() const;
};

/// Reads grafana/objects.json and the dashboard and rule-group files it names from `bundle`
/// and adds the ownership markers of `owner`:
///   datasources  jsonData.obsforgeOwner = "<stack>/<env>"
///   dashboards   tag "obsforge:<stack>/<env>"; id null; version and iteration dropped
///   rule groups  label obsforge_owner = "<stack>/<env>" on every rule (the policy route
///                matches it)
///   policy       route {receiver, group_by, ..., object_matchers [[obsforge_owner, =, id]]}
/// Folders and contact points carry no marker Grafana keeps; they are owned through the ledger.
/// `adopt` ({datasources, folders, dashboards, rule_groups ("<folderUid>/<title>"),
/// contact_points}: lists of uids) sets DesiredObject::adopt on the objects it names.
/// Secret references ({secret: NAME} or {secret_file: PATH}, with the renderer's `file`) are
/// recorded as SecretSlots, never resolved here. A bundle without grafana/objects.json yields
/// an empty state.
/// Throws core::InputError (kRender) naming the bundle file and JSON path when objects.json or a
/// file it names is missing, is not JSON, or lacks a uid/title.
DesiredGrafana LoadDesiredGrafana(const render::Bundle& bundle, const Owner& owner);

/// `object.body` with every secret slot filled in with its value. A secret that cannot be
/// resolved is kNotFound naming the object and the reference (never a value).
core::Result<nlohmann::json> ResolveBody(const DesiredObject& object, const core::EnvLookup& env);

}  // namespace obsforge::provision
