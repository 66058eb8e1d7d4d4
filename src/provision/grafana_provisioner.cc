#include "provision/grafana_provisioner.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "provision/dashboard_peek.h"
#include "provision/parallel.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;

constexpr const char* kSecretShown = "<secret>";

struct Item {
  const DesiredObject* desired = nullptr;  // null for deletions
  ObjectKind kind = ObjectKind::kDashboard;
  std::string uid;
  std::string title;
  std::string folder_uid;
  // The body with its secret values, for objects that have secrets: only ever sent, never shown.
  // Others send the desired body itself (dashboards can be hundreds of kilobytes: no copy).
  std::optional<json> with_secrets;
  std::string hash;
  std::optional<ChangeAction> action;
  std::vector<FieldDiff> diffs;
  bool conflict = false;
  bool owned_unrecorded = false;       // ledger lacks or has a stale hash although Grafana matches
  std::int64_t remote_version = 0;     // dashboards: Grafana's version, as last read or written
  std::int64_t remote_id = 0;          // dashboards: Grafana's id, likewise
  bool title_changed = false;          // folders
  bool parent_changed = false;         // folders
  std::vector<std::string> rule_uids;  // rule groups to delete

  // What a create or update sends.
  const json& Body() const { return with_secrets ? *with_secrets : desired->body; }
};

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// The body as shown in diffs and compared with Grafana: secret slots erased (Grafana redacts or
// omits them), and for datasources the whole secureJsonData (never echoed).
json Comparable(const DesiredObject& object) {
  json body = object.body;
  for (const auto& slot : object.secrets) {
    const json::json_pointer ptr(slot.pointer);
    if (ptr.empty()) {
      continue;
    }
    json& parent = body[ptr.parent_pointer()];
    if (parent.is_object()) {
      parent.erase(ptr.back());
    } else if (parent.is_array()) {
      body[ptr] = kSecretShown;
    }
  }
  body.erase("secureJsonData");
  return StripServerFields(std::move(body));
}

bool HasSecrets(const DesiredObject& object) {
  return !object.secrets.empty() || object.body.contains("secureJsonData");
}

bool DashboardOwned(const json& dashboard, const Owner& owner) {
  const auto it = dashboard.find("tags");
  return it != dashboard.end() && it->is_array() &&
         std::find(it->begin(), it->end(), owner.DashboardTag()) != it->end();
}

bool DatasourceOwned(const json& datasource, const Owner& owner) {
  const auto it = datasource.find("jsonData");
  return it != datasource.end() && it->is_object() &&
         it->value(kDatasourceMarker, std::string()) == owner.Id();
}

bool RuleOwned(const json& rule, const Owner& owner) {
  const auto it = rule.find("labels");
  return it != rule.end() && it->is_object() && it->value(kOwnerLabel, std::string()) == owner.Id();
}

bool RouteOwned(const json& route, const Owner& owner) {
  const auto it = route.find("object_matchers");
  if (it == route.end() || !it->is_array()) {
    return false;
  }
  const json marker = json::array({kOwnerLabel, "=", owner.Id()});
  return std::find(it->begin(), it->end(), marker) != it->end();
}

std::string Describe(ObjectKind kind, const std::string& uid) {
  return std::string(KindName(kind)) + " " + Quoted(uid);
}

// Collects the first failure of a phase (by index, so the message is deterministic) and counts
// the others.
class Failures {
 public:
  void Add(std::size_t index, core::Error error) {
    std::lock_guard lock(mu_);
    ++count_;
    if (!first_ || index < first_index_) {
      first_ = std::move(error);
      first_index_ = index;
    }
  }
  core::Result<void> Take() {
    std::lock_guard lock(mu_);
    if (!first_) {
      return {};
    }
    core::Error error = std::move(*first_);
    if (count_ > 1) {
      error.message += " (and " + std::to_string(count_ - 1) + " more)";
    }
    first_.reset();
    count_ = 0;
    return error;
  }

 private:
  std::mutex mu_;
  std::optional<core::Error> first_;
  std::size_t first_index_ = 0;
  int count_ = 0;
};

}  // namespace

struct GrafanaProvisioner::Work {
  std::vector<Item> datasources;
  std::vector<Item> folders;
  std::vector<Item> dashboards;
  std::vector<Item> rule_groups;
  std::vector<Item> contact_points;
  std::optional<Item> policy;  // set when the tree must be written
  json policy_tree;            // the merged tree to PUT
  std::vector<Item> deletions;
  std::map<std::pair<ObjectKind, std::string>, OwnedObject> ledger;
  GrafanaPlan plan;
};

const char* ActionName(ChangeAction action) {
  switch (action) {
    case ChangeAction::kCreate:
      return "create";
    case ChangeAction::kUpdate:
      return "update";
    case ChangeAction::kDelete:
      return "delete";
  }
  return "unknown";
}

std::string ObjectChange::Summary() const {
  std::string out = std::string(ActionName(action)) + " " + KindName(kind) + " " + Quoted(uid);
  if (!title.empty() && title != uid) {
    out += " (" + title + ")";
  }
  if (action == ChangeAction::kUpdate) {
    out += ": " + std::to_string(diffs.size()) + (diffs.size() == 1 ? " field" : " fields");
  }
  return out;
}

GrafanaProvisioner::GrafanaProvisioner(ProvisionerOptions options,
                                       GrafanaClient& client,
                                       OwnershipLedger& ledger,
                                       core::EnvLookup env,
                                       core::Logger& logger)
    : options_(std::move(options)),
      client_(client),
      ledger_(ledger),
      env_(std::move(env)),
      logger_(logger) {
}

core::Result<void> GrafanaProvisioner::Compute(const DesiredGrafana& desired, Work& work) {
  const Owner& owner = options_.owner;
  auto records = ledger_.List(std::nullopt);
  if (!records.ok()) {
    return records.error();
  }
  for (const auto& r : *records) {
    work.ledger[{r.kind, r.uid}] = r;
  }
  auto in_ledger = [&](ObjectKind kind, const std::string& uid) {
    return work.ledger.count({kind, uid}) != 0;
  };
  auto ledger_hash = [&](ObjectKind kind, const std::string& uid) {
    const auto it = work.ledger.find({kind, uid});
    return it == work.ledger.end() ? std::string() : it->second.content_hash;
  };
  auto conflict = [&](Item& item, const std::string& why) {
    item.conflict = true;
    item.action.reset();
    work.plan.conflicts.push_back({.kind = item.kind,
                                   .uid = item.uid,
                                   .message = Describe(item.kind, item.uid) + ": " + why +
                                              "; not owned by obsforge (" + owner.Id() +
                                              "), left untouched"});
  };
  // Secret changes are invisible in Grafana: the ledger's hash is the only witness.
  auto secret_diff = [&](Item& item) {
    if (HasSecrets(*item.desired) && ledger_hash(item.kind, item.uid) != item.hash) {
      item.diffs.push_back(
          {.path = "/secrets", .before = "(unknown or changed)", .after = kSecretShown});
    }
  };
  auto make_item = [&](const DesiredObject& d) -> core::Result<Item> {
    Item item{
        .desired = &d, .kind = d.kind, .uid = d.uid, .title = d.title, .folder_uid = d.folder_uid};
    if (!d.secrets.empty()) {
      auto resolved = ResolveBody(d, env_);
      if (!resolved.ok()) {
        return resolved.error();
      }
      item.with_secrets = std::move(*resolved);
    }
    // Dashboards also hash their folder: a move is a change. The text is that of
    // CanonicalHash([body, folder]), built without copying the body into an array.
    item.hash = d.kind == ObjectKind::kDashboard
                    ? core::Sha256Hex("[" + CanonicalText(item.Body()) + "," +
                                      CanonicalText(json(d.folder_uid)) + "]")
                    : CanonicalHash(item.Body());
    return item;
  };
  auto ledger_record = [&](ObjectKind kind, const std::string& uid) -> const OwnedObject* {
    const auto it = work.ledger.find({kind, uid});
    return it == work.ledger.end() ? nullptr : &it->second;
  };
  auto finish = [&](Item& item) {
    const OwnedObject* known = ledger_record(item.kind, item.uid);
    if (!item.conflict && !item.action &&
        (known == nullptr || known->content_hash != item.hash ||
         known->remote_version != item.remote_version || known->remote_id != item.remote_id)) {
      item.owned_unrecorded = true;
    }
  };

  // Datasources.
  std::set<std::string> wanted_datasources;
  for (const auto& d : desired.datasources) {
    auto item = make_item(d);
    if (!item.ok()) {
      return item.error();
    }
    wanted_datasources.insert(d.uid);
    auto remote = client_.GetDatasource(d.uid);
    if (!remote.ok()) {
      return remote.error();
    }
    if (!remote->has_value()) {
      item->action = ChangeAction::kCreate;
    } else if (!in_ledger(d.kind, d.uid) && !DatasourceOwned(**remote, owner) && !d.adopt) {
      conflict(*item, "a datasource with this uid exists");
    } else {
      item->diffs = DiffDesiredFields(StripServerFields(**remote), Comparable(d));
      const json& fields =
          (*remote)->contains("secureJsonFields") ? (**remote)["secureJsonFields"] : json::object();
      if (d.body.contains("secureJsonData")) {
        for (const auto& [key, value] : d.body["secureJsonData"].items()) {
          if (!fields.is_object() || !fields.value(key, false)) {
            item->diffs.push_back({.path = "/secureJsonData/" + EscapePointerToken(key),
                                   .before = nullptr,
                                   .after = kSecretShown,
                                   .before_absent = true});
          }
        }
      }
      if (item->diffs.empty()) {
        secret_diff(*item);
      }
      if (!item->diffs.empty()) {
        item->action = ChangeAction::kUpdate;
      }
    }
    finish(*item);
    work.datasources.push_back(std::move(*item));
  }

  // Folders (already parents first).
  std::set<std::string> wanted_folders;
  for (const auto& d : desired.folders) {
    auto item = make_item(d);
    if (!item.ok()) {
      return item.error();
    }
    wanted_folders.insert(d.uid);
    auto remote = client_.GetFolder(d.uid);
    if (!remote.ok()) {
      return remote.error();
    }
    if (!remote->has_value()) {
      item->action = ChangeAction::kCreate;
    } else if (!in_ledger(d.kind, d.uid) && !d.adopt) {
      work.plan.notes.push_back("folder " + Quoted(d.uid) +
                                " exists and is not owned by obsforge: used as is");
      work.folders.push_back(std::move(*item));
      continue;
    } else {
      const json& r = **remote;
      const std::string title = r.value("title", std::string());
      const std::string parent = r.contains("parentUid") && r["parentUid"].is_string()
                                     ? r["parentUid"].get<std::string>()
                                     : std::string();
      if (title != d.title) {
        item->title_changed = true;
        item->diffs.push_back({.path = "/title", .before = title, .after = d.title});
      }
      if (parent != d.parent_uid) {
        item->parent_changed = true;
        item->diffs.push_back({.path = "/parentUid", .before = parent, .after = d.parent_uid});
      }
      if (!item->diffs.empty()) {
        item->action = ChangeAction::kUpdate;
      }
    }
    finish(*item);
    work.folders.push_back(std::move(*item));
  }

  // Dashboards: the GETs in parallel, since there may be hundreds.
  std::set<std::string> wanted_dashboards;
  work.dashboards.resize(desired.dashboards.size());
  Failures failures;
  ParallelFor(desired.dashboards.size(), options_.max_parallel, [&](std::size_t i) {
    const DesiredObject& d = desired.dashboards[i];
    auto item = make_item(d);
    if (!item.ok()) {
      failures.Add(i, item.error());
      return;
    }
    auto text = client_.GetDashboardText(d.uid);
    if (!text.ok()) {
      failures.Add(i, text.error());
      return;
    }
    if (!text->has_value()) {
      item->action = ChangeAction::kCreate;
      work.dashboards[i] = std::move(*item);
      return;
    }
    // Fast path: what we wrote last is still what we want (hash), and it is still the same
    // dashboard (id: a dashboard deleted and recreated starts again at version 1) that nobody
    // saved since (Grafana bumps the version on every save, moves included): nothing to compare.
    const OwnedObject* known = ledger_record(d.kind, d.uid);
    if (known != nullptr && known->remote_version > 0 && known->remote_id > 0 &&
        known->content_hash == item->hash) {
      const auto peek = PeekDashboard(**text);
      if (peek && peek->version == known->remote_version && peek->id == known->remote_id &&
          peek->folder_uid == d.folder_uid) {
        item->remote_version = known->remote_version;
        item->remote_id = known->remote_id;
        work.dashboards[i] = std::move(*item);
        return;
      }
    }
    json r = json::parse(**text, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) {
      failures.Add(i, core::MakeError(core::ErrorCode::kUpstream,
                                      "dashboard " + Quoted(d.uid) +
                                          ": Grafana answered with a body that is not a JSON "
                                          "object"));
      return;
    }
    {
      // Moved out, not copied: dashboards can be hundreds of kilobytes.
      json dashboard = r.contains("dashboard") ? std::move(r["dashboard"]) : json::object();
      if (!in_ledger(d.kind, d.uid) && !DashboardOwned(dashboard, owner) && !d.adopt) {
        item->conflict = true;
      } else {
        item->remote_version = IntegerMember(dashboard, "version");
        item->remote_id = IntegerMember(dashboard, "id");
        // The desired model has id null and no version/iteration (LoadDesiredGrafana).
        dashboard = NormalizeDashboard(std::move(dashboard));
        dashboard["id"] = nullptr;
        item->diffs = DiffJson(dashboard, d.body);
        // Never throws on an odd answer: this runs on a ParallelFor worker.
        std::string folder;
        if (const auto meta = r.find("meta"); meta != r.end() && meta->is_object()) {
          if (const auto f = meta->find("folderUid"); f != meta->end() && f->is_string()) {
            folder = f->get<std::string>();
          }
        }
        if (folder != d.folder_uid) {
          item->diffs.push_back(
              {.path = "/meta/folderUid", .before = folder, .after = d.folder_uid});
        }
        if (!item->diffs.empty()) {
          item->action = ChangeAction::kUpdate;
        }
      }
    }
    work.dashboards[i] = std::move(*item);
  });
  if (auto failed = failures.Take(); !failed.ok()) {
    return failed.error();
  }
  for (auto& item : work.dashboards) {
    wanted_dashboards.insert(item.uid);
    if (item.conflict) {
      conflict(item, "a dashboard with this uid exists");
    }
    finish(item);
  }

  // Rule groups.
  std::set<std::string> wanted_groups;
  for (const auto& d : desired.rule_groups) {
    auto item = make_item(d);
    if (!item.ok()) {
      return item.error();
    }
    wanted_groups.insert(d.uid);
    auto remote = client_.GetRuleGroup(d.folder_uid, d.title);
    if (!remote.ok()) {
      return remote.error();
    }
    const json rules =
        remote->has_value() ? (**remote).value("rules", json::array()) : json::array();
    if (rules.empty()) {
      item->action = ChangeAction::kCreate;
    } else if (!in_ledger(d.kind, d.uid) && !d.adopt &&
               std::none_of(rules.begin(), rules.end(),
                            [&](const json& rule) { return RuleOwned(rule, owner); })) {
      conflict(*item, "a rule group with this name exists in folder " + Quoted(d.folder_uid));
    } else {
      item->diffs = DiffDesiredFields(StripServerFields(**remote), Comparable(d));
      if (!item->diffs.empty()) {
        item->action = ChangeAction::kUpdate;
      }
    }
    finish(*item);
    work.rule_groups.push_back(std::move(*item));
  }

  // Contact points: one list for all.
  std::map<std::string, json> remote_points;
  const bool need_points = !desired.contact_points.empty() ||
                           std::any_of(work.ledger.begin(), work.ledger.end(), [](const auto& e) {
                             return e.first.first == ObjectKind::kContactPoint;
                           });
  if (need_points) {
    auto list = client_.ListContactPoints();
    if (!list.ok()) {
      return list.error();
    }
    if (list->is_array()) {
      for (const auto& point : *list) {
        if (point.is_object() && point.contains("uid") && point["uid"].is_string()) {
          remote_points[point["uid"].get<std::string>()] = point;
        }
      }
    }
  }
  std::set<std::string> wanted_points;
  for (const auto& d : desired.contact_points) {
    auto item = make_item(d);
    if (!item.ok()) {
      return item.error();
    }
    wanted_points.insert(d.uid);
    const auto it = remote_points.find(d.uid);
    if (it == remote_points.end()) {
      item->action = ChangeAction::kCreate;
    } else if (!in_ledger(d.kind, d.uid) && !d.adopt) {
      conflict(*item, "a contact point with this uid exists");
    } else {
      item->diffs = DiffDesiredFields(StripServerFields(it->second), Comparable(d));
      if (item->diffs.empty()) {
        secret_diff(*item);
      }
      if (!item->diffs.empty()) {
        item->action = ChangeAction::kUpdate;
      }
    }
    finish(*item);
    work.contact_points.push_back(std::move(*item));
  }

  // Notification policy: the stack's route inside the shared tree.
  if (desired.policy || in_ledger(ObjectKind::kPolicy, "policy")) {
    auto tree = client_.GetPolicyTree();
    if (!tree.ok()) {
      return tree.error();
    }
    json merged = StripServerFields(*tree);
    json routes =
        merged.contains("routes") && merged["routes"].is_array() ? merged["routes"] : json::array();
    json kept = json::array();
    std::vector<json> ours;
    std::optional<std::size_t> position;
    for (auto& route : routes) {
      if (RouteOwned(route, owner)) {
        if (!position) {
          position = kept.size();
        }
        ours.push_back(route);
      } else {
        kept.push_back(route);
      }
    }
    if (desired.policy) {
      auto item = make_item(*desired.policy);
      if (!item.ok()) {
        return item.error();
      }
      if (ours.empty()) {
        item->action = ChangeAction::kCreate;
      } else {
        item->diffs = DiffDesiredFields(ours.front(), Comparable(*desired.policy));
        for (std::size_t i = 1; i < ours.size(); ++i) {
          item->diffs.push_back({.path = "/routes/" + std::to_string(i),
                                 .before = ours[i],
                                 .after = nullptr,
                                 .after_absent = true});
        }
        if (!item->diffs.empty()) {
          item->action = ChangeAction::kUpdate;
        }
      }
      // Ours goes first: Grafana matches top-level routes in order, and the owner matcher only
      // catches this stack's alerts.
      kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(position.value_or(0)), item->Body());
      finish(*item);
      if (item->action || item->owned_unrecorded) {
        work.policy = std::move(*item);
      }
    } else if (!ours.empty() && options_.prune) {
      work.policy = Item{.kind = ObjectKind::kPolicy,
                         .uid = "policy",
                         .title = "notification policy of " + owner.Id(),
                         .action = ChangeAction::kDelete};
    } else if (ours.empty()) {
      work.deletions.push_back(Item{.kind = ObjectKind::kPolicy, .uid = "policy"});
    }
    merged["routes"] = std::move(kept);
    work.policy_tree = std::move(merged);
  }

  // Prune: owned (ledger or marker) objects that left the spec.
  if (options_.prune) {
    auto owned_not_wanted = [&](ObjectKind kind, const std::set<std::string>& wanted) {
      std::vector<std::string> out;
      for (const auto& [key, hash] : work.ledger) {
        if (key.first == kind && wanted.count(key.second) == 0) {
          out.push_back(key.second);
        }
      }
      return out;
    };
    auto deletion = [&](ObjectKind kind, const std::string& uid) {
      return Item{.kind = kind, .uid = uid, .title = uid, .action = ChangeAction::kDelete};
    };
    for (const auto& uid : owned_not_wanted(ObjectKind::kRuleGroup, wanted_groups)) {
      const auto slash = uid.find('/');
      const std::string folder = uid.substr(0, slash);
      const std::string group = slash == std::string::npos ? std::string() : uid.substr(slash + 1);
      auto remote = client_.GetRuleGroup(folder, group);
      if (!remote.ok()) {
        return remote.error();
      }
      Item item = deletion(ObjectKind::kRuleGroup, uid);
      if (remote->has_value()) {
        for (const auto& rule : (**remote).value("rules", json::array())) {
          if (RuleOwned(rule, owner) && rule.contains("uid") && rule["uid"].is_string()) {
            item.rule_uids.push_back(rule["uid"].get<std::string>());
          }
        }
      }
      if (item.rule_uids.empty()) {
        item.action.reset();  // nothing of ours left: only the ledger entry goes
      }
      work.deletions.push_back(std::move(item));
    }
    std::set<std::string> dashboards_to_delete;
    for (const auto& uid : owned_not_wanted(ObjectKind::kDashboard, wanted_dashboards)) {
      dashboards_to_delete.insert(uid);
    }
    auto tagged = client_.SearchDashboardsByTag(owner.DashboardTag());
    if (!tagged.ok()) {
      return tagged.error();
    }
    for (const auto& hit : *tagged) {
      const std::string uid = hit.value("uid", std::string());
      if (!uid.empty() && wanted_dashboards.count(uid) == 0) {
        dashboards_to_delete.insert(uid);
      }
    }
    for (const auto& uid : dashboards_to_delete) {
      auto remote = client_.GetDashboard(uid);
      if (!remote.ok()) {
        return remote.error();
      }
      Item item = deletion(ObjectKind::kDashboard, uid);
      if (!remote->has_value()) {
        item.action.reset();
      }
      work.deletions.push_back(std::move(item));
    }
    for (const auto& uid : owned_not_wanted(ObjectKind::kContactPoint, wanted_points)) {
      Item item = deletion(ObjectKind::kContactPoint, uid);
      if (remote_points.count(uid) == 0) {
        item.action.reset();
      }
      work.deletions.push_back(std::move(item));
    }
    auto folders = owned_not_wanted(ObjectKind::kFolder, wanted_folders);
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
      auto remote = client_.GetFolder(*it);
      if (!remote.ok()) {
        return remote.error();
      }
      Item item = deletion(ObjectKind::kFolder, *it);
      if (!remote->has_value()) {
        item.action.reset();
        work.deletions.push_back(std::move(item));
        continue;
      }
      // Deleting a folder deletes what is inside: keep it while it holds anything not ours.
      auto inside = client_.SearchDashboardsInFolder(*it);
      if (!inside.ok()) {
        return inside.error();
      }
      const bool foreign = std::any_of(inside->begin(), inside->end(), [&](const json& hit) {
        return dashboards_to_delete.count(hit.value("uid", std::string())) == 0;
      });
      if (foreign) {
        work.plan.notes.push_back(
            "folder " + Quoted(*it) +
            " left the spec but holds dashboards obsforge does not own: kept");
        continue;
      }
      work.deletions.push_back(std::move(item));
    }
    std::set<std::string> datasources_to_delete;
    for (const auto& uid : owned_not_wanted(ObjectKind::kDatasource, wanted_datasources)) {
      datasources_to_delete.insert(uid);
    }
    auto all = client_.ListDatasources();
    if (!all.ok()) {
      return all.error();
    }
    std::set<std::string> existing;
    for (const auto& ds : *all) {
      const std::string uid = ds.value("uid", std::string());
      existing.insert(uid);
      if (!uid.empty() && wanted_datasources.count(uid) == 0 && DatasourceOwned(ds, owner)) {
        datasources_to_delete.insert(uid);
      }
    }
    for (const auto& uid : datasources_to_delete) {
      Item item = deletion(ObjectKind::kDatasource, uid);
      if (existing.count(uid) == 0) {
        item.action.reset();
      }
      work.deletions.push_back(std::move(item));
    }
  }

  // The plan, in apply order.
  auto add = [&](const Item& item) {
    if (item.action) {
      work.plan.changes.push_back({.kind = item.kind,
                                   .uid = item.uid,
                                   .title = item.title,
                                   .action = *item.action,
                                   .diffs = item.diffs});
    }
  };
  for (const auto* list : {&work.datasources, &work.folders, &work.dashboards, &work.rule_groups,
                           &work.contact_points}) {
    for (const auto& item : *list) {
      add(item);
    }
  }
  if (work.policy) {
    add(*work.policy);
  }
  for (const auto& item : work.deletions) {
    add(item);
  }
  return {};
}

core::Result<GrafanaPlan> GrafanaProvisioner::Plan(const DesiredGrafana& desired) {
  Work work;
  if (auto computed = Compute(desired, work); !computed.ok()) {
    return computed.error();
  }
  return std::move(work.plan);
}

core::Result<ApplyReport> GrafanaProvisioner::Apply(const DesiredGrafana& desired) {
  Work work;
  if (auto computed = Compute(desired, work); !computed.ok()) {
    return computed.error();
  }
  const int writes_before = client_.writes();
  ApplyReport report;
  auto record = [&](const Item& item) -> core::Result<void> {
    return ledger_.Record({.kind = item.kind,
                           .uid = item.uid,
                           .content_hash = item.hash,
                           .remote_version = item.remote_version,
                           .remote_id = item.remote_id});
  };
  // Runs `write` for every item that needs it, recording each success in the ledger.
  auto phase = [&](std::vector<Item>& items, int parallel,
                   const std::function<core::Result<void>(Item&)>& write) -> core::Result<void> {
    Failures failures;
    ParallelFor(items.size(), parallel, [&](std::size_t i) {
      Item& item = items[i];
      if (item.conflict) {
        return;
      }
      if (item.action) {
        if (auto written = write(item); !written.ok()) {
          failures.Add(i, written.error());
          return;
        }
        logger_.Info("grafana object written", {{"kind", KindName(item.kind)},
                                                {"uid", item.uid},
                                                {"action", ActionName(*item.action)}});
      }
      if (item.action || item.owned_unrecorded) {
        if (auto recorded = record(item); !recorded.ok()) {
          failures.Add(i, recorded.error());
        }
      }
    });
    return failures.Take();
  };

  if (auto r = phase(work.datasources, 1,
                     [&](Item& item) {
                       return item.action == ChangeAction::kCreate
                                  ? client_.CreateDatasource(item.Body())
                                  : client_.UpdateDatasource(item.uid, item.Body());
                     });
      !r.ok()) {
    return r.error();
  }
  if (options_.check_health) {
    for (const auto& item : work.datasources) {
      if (item.conflict) {
        continue;
      }
      auto health = client_.CheckDatasourceHealth(item.uid);
      if (health.ok()) {
        report.health.push_back(*health);
      } else {
        report.health.push_back({.uid = item.uid, .ok = false, .message = health.error().message});
      }
      if (!report.health.back().ok) {
        logger_.Warn("datasource unhealthy",
                     {{"uid", item.uid}, {"message", report.health.back().message}});
      }
    }
  }
  if (auto r = phase(work.folders, 1,
                     [&](Item& item) -> core::Result<void> {
                       if (item.action == ChangeAction::kCreate) {
                         return client_.CreateFolder(item.Body());
                       }
                       if (item.title_changed) {
                         if (auto u = client_.UpdateFolder(item.uid, item.desired->title);
                             !u.ok()) {
                           return u;
                         }
                       }
                       if (item.parent_changed) {
                         return client_.MoveFolder(item.uid, item.desired->parent_uid);
                       }
                       return {};
                     });
      !r.ok()) {
    return r.error();
  }
  const std::string message =
      "obsforge " + options_.owner.Id() +
      (options_.revision.empty() ? std::string() : " revision " + options_.revision);
  if (auto r = phase(work.dashboards, options_.max_parallel,
                     [&](Item& item) -> core::Result<void> {
                       auto saved = client_.SaveDashboard(item.Body(), item.folder_uid, message);
                       if (!saved.ok()) {
                         return saved.error();
                       }
                       item.remote_version = saved->version;
                       item.remote_id = saved->id;
                       return {};
                     });
      !r.ok()) {
    return r.error();
  }
  if (auto r = phase(work.rule_groups, 1,
                     [&](Item& item) {
                       return client_.PutRuleGroup(item.folder_uid, item.desired->title,
                                                   item.Body());
                     });
      !r.ok()) {
    return r.error();
  }
  if (auto r = phase(work.contact_points, 1,
                     [&](Item& item) {
                       return item.action == ChangeAction::kCreate
                                  ? client_.CreateContactPoint(item.Body())
                                  : client_.UpdateContactPoint(item.uid, item.Body());
                     });
      !r.ok()) {
    return r.error();
  }
  if (work.policy) {
    Item& item = *work.policy;
    if (item.action) {
      if (auto put = client_.PutPolicyTree(work.policy_tree); !put.ok()) {
        return put.error();
      }
    }
    auto ledgered =
        item.action == ChangeAction::kDelete ? ledger_.Forget(item.kind, item.uid) : record(item);
    if (!ledgered.ok()) {
      return ledgered.error();
    }
  }
  for (auto& item : work.deletions) {
    core::Result<void> deleted;
    if (item.action) {
      switch (item.kind) {
        case ObjectKind::kRuleGroup:
          for (const auto& rule : item.rule_uids) {
            deleted = client_.DeleteAlertRule(rule);
            if (!deleted.ok()) {
              break;
            }
          }
          break;
        case ObjectKind::kDashboard:
          deleted = client_.DeleteDashboard(item.uid);
          break;
        case ObjectKind::kContactPoint:
          deleted = client_.DeleteContactPoint(item.uid);
          break;
        case ObjectKind::kFolder:
          deleted = client_.DeleteFolder(item.uid);
          break;
        case ObjectKind::kDatasource:
          deleted = client_.DeleteDatasource(item.uid);
          break;
        default:
          break;
      }
    }
    if (!deleted.ok()) {
      return deleted.error();
    }
    if (auto forgot = ledger_.Forget(item.kind, item.uid); !forgot.ok()) {
      return forgot.error();
    }
  }
  report.writes = client_.writes() - writes_before;
  report.plan = std::move(work.plan);
  if (!report.plan.conflicts.empty()) {
    std::string text;
    for (const auto& c : report.plan.conflicts) {
      text += (text.empty() ? "" : "; ") + c.message;
    }
    core::Error error = core::MakeError(core::ErrorCode::kConflict, text);
    return error;
  }
  return report;
}

}  // namespace obsforge::provision
