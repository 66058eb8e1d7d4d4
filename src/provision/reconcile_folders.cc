// Folders (parents first): compared on title and parent. An existing folder obsforge does not
// own is used as it is, since dashboards only need it to exist.
#include <algorithm>

#include "provision/grafana_reconcilers.h"

namespace obsforge::provision::detail {
namespace {

using nlohmann::json;

class Folders final : public Reconciler {
 public:
  using Reconciler::Reconciler;

  // Children before parents; a folder that holds dashboards obsforge does not own is kept,
  // since deleting a folder deletes what is inside.
  core::Result<void> Prune(std::vector<Item>& deletions) override {
    auto folders = session_.OwnedNotWanted(kind_, wanted_);
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
      auto remote = session_.client().GetFolder(*it);
      if (!remote.ok()) {
        return remote.error();
      }
      Item item = Deletion(kind_, *it);
      if (!remote->has_value()) {
        item.action.reset();
        deletions.push_back(std::move(item));
        continue;
      }
      auto inside = session_.client().SearchDashboardsInFolder(*it);
      if (!inside.ok()) {
        return inside.error();
      }
      const bool foreign = std::any_of(inside->begin(), inside->end(), [&](const json& hit) {
        return session_.dashboards_to_delete.count(hit.value("uid", std::string())) == 0;
      });
      if (foreign) {
        session_.plan().notes.push_back(
            "folder " + Quoted(*it) +
            " left the spec but holds dashboards obsforge does not own: kept");
        continue;
      }
      deletions.push_back(std::move(item));
    }
    return {};
  }

  core::Result<void> Delete(const Item& item) override {
    return session_.client().DeleteFolder(item.uid);
  }

 protected:
  core::Result<Verdict> Examine(const DesiredObject& d, Item& item) override {
    auto remote = session_.client().GetFolder(d.uid);
    if (!remote.ok()) {
      return remote.error();
    }
    if (!remote->has_value()) {
      return Verdict{.found = Found::kAbsent};
    }
    if (!session_.InLedger(d.kind, d.uid) && !d.adopt) {
      return Verdict{
          .found = Found::kUsedAsIs,
          .why = "folder " + Quoted(d.uid) + " exists and is not owned by obsforge: used as is"};
    }
    const json& r = **remote;
    const std::string title = r.value("title", std::string());
    const std::string parent = r.contains("parentUid") && r["parentUid"].is_string()
                                   ? r["parentUid"].get<std::string>()
                                   : std::string();
    if (title != d.title) {
      item.title_changed = true;
      item.diffs.push_back({.path = "/title", .before = title, .after = d.title});
    }
    if (parent != d.parent_uid) {
      item.parent_changed = true;
      item.diffs.push_back({.path = "/parentUid", .before = parent, .after = d.parent_uid});
    }
    return Verdict{};
  }

  core::Result<void> Write(Item& item) override {
    GrafanaClient& client = session_.client();
    if (item.action == ChangeAction::kCreate) {
      return client.CreateFolder(item.Body());
    }
    if (item.title_changed) {
      if (auto updated = client.UpdateFolder(item.uid, item.desired->title); !updated.ok()) {
        return updated;
      }
    }
    if (item.parent_changed) {
      return client.MoveFolder(item.uid, item.desired->parent_uid);
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<Reconciler> MakeFolders(Session& s, const std::vector<DesiredObject>& d) {
  return std::make_unique<Folders>(ObjectKind::kFolder, s, d, 1);
}

}  // namespace obsforge::provision::detail
