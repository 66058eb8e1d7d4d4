// Dashboards: read and written `max_parallel` at once (there may be hundreds), compared as the
// normalised model plus the folder, with a fast path for the common case that nothing changed.
#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "provision/dashboard_peek.h"
#include "provision/grafana_reconcilers.h"
#include "provision/normalize.h"

namespace obsforge::provision::detail {
namespace {

using nlohmann::json;

bool DashboardOwned(const json& dashboard, const Owner& owner) {
  const auto it = dashboard.find("tags");
  return it != dashboard.end() && it->is_array() &&
         std::find(it->begin(), it->end(), owner.DashboardTag()) != it->end();
}

// Grafana's slug of a title: lower case, runs of anything but letters and digits made one "-".
std::string Slug(const std::string& title) {
  std::string out;
  for (const char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out;
}

// meta.folderUid of a GET /api/dashboards/uid answer, "" when absent or odd (never throws: this
// runs on a ParallelFor worker).
std::string FolderOf(const json& answer) {
  if (const auto meta = answer.find("meta"); meta != answer.end() && meta->is_object()) {
    if (const auto f = meta->find("folderUid"); f != meta->end() && f->is_string()) {
      return f->get<std::string>();
    }
  }
  return "";
}

class Dashboards final : public Reconciler {
 public:
  Dashboards(Session& session, const std::vector<DesiredObject>& desired)
      : Reconciler(ObjectKind::kDashboard, session, desired, session.options().max_parallel),
        message_("obsforge " + session.owner().Id() +
                 (session.options().revision.empty() ? std::string()
                                                     : " revision " + session.options().revision)) {
  }

  // Owned ones that left the spec: recorded in the ledger or tagged for this owner.
  core::Result<void> Prune(std::vector<Item>& deletions) override {
    GrafanaClient& client = session_.client();
    auto tagged = client.SearchDashboardsByTag(session_.owner().DashboardTag());
    if (!tagged.ok()) {
      return tagged.error();
    }
    std::vector<std::string> marked;
    for (const auto& hit : *tagged) {
      marked.push_back(hit.value("uid", std::string()));
    }
    session_.dashboards_to_delete = Unwanted(marked);
    return AddDeletions(
        session_.dashboards_to_delete,
        [&](const Item& item) -> core::Result<bool> {
          auto remote = client.GetDashboard(item.uid);
          if (!remote.ok()) {
            return remote.error();
          }
          return remote->has_value();
        },
        deletions);
  }

  core::Result<void> Delete(const Item& item) override {
    return session_.client().DeleteDashboard(item.uid);
  }

 protected:
  core::Result<Verdict> Examine(const DesiredObject& d, Item& item) override {
    auto text = session_.client().GetDashboardText(d.uid);
    if (!text.ok()) {
      return text.error();
    }
    if (!text->has_value()) {
      auto same = SameTitle(d);
      if (!same.ok()) {
        return same.error();
      }
      if (!same->empty()) {
        return Verdict{.found = Found::kForeign,
                       .why = "dashboard " + Quoted(*same) +
                              " in the same folder has the same title (Grafana up to 11.2 "
                              "would save this one over it)"};
      }
      return Verdict{.found = Found::kAbsent};
    }
    if (Unchanged(d, item, **text)) {
      return Verdict{};
    }
    json r = json::parse(**text, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) {
      return core::MakeError(core::ErrorCode::kUpstream,
                             "dashboard " + Quoted(d.uid) +
                                 ": Grafana answered with a body that is not a JSON object");
    }
    // Moved out, not copied: dashboards can be hundreds of kilobytes.
    json dashboard = r.contains("dashboard") ? std::move(r["dashboard"]) : json::object();
    if (!dashboard.is_object()) {
      return core::MakeError(core::ErrorCode::kUpstream,
                             "dashboard " + Quoted(d.uid) +
                                 ": Grafana answered with a dashboard that is not a JSON object");
    }
    if (!session_.InLedger(d.kind, d.uid) && !DashboardOwned(dashboard, session_.owner()) &&
        !d.adopt) {
      return Verdict{.found = Found::kForeign, .why = "a dashboard with this uid exists"};
    }
    item.remote_version = IntegerMember(dashboard, "version");
    item.remote_id = IntegerMember(dashboard, "id");
    // The desired model has id null and no version/iteration (LoadDesiredGrafana).
    dashboard = NormalizeDashboard(std::move(dashboard));
    dashboard["id"] = nullptr;
    item.diffs = DiffJson(dashboard, d.body);
    if (const std::string folder = FolderOf(r); folder != d.folder_uid) {
      item.diffs.push_back({.path = "/meta/folderUid", .before = folder, .after = d.folder_uid});
    }
    return Verdict{};
  }

  core::Result<void> Write(Item& item) override {
    auto saved = session_.client().SaveDashboard(item.Body(), item.folder_uid, message_);
    if (!saved.ok()) {
      return saved.error();
    }
    item.remote_version = saved->version;
    item.remote_id = saved->id;
    return {};
  }

 private:
  // Up to 11.2 Grafana keeps titles unique per folder, and a save with `overwrite` (which
  // obsforge sends) whose title another dashboard of the folder has takes that one over, uid and
  // all: the new uid never exists and the other dashboard is lost. So a dashboard to create
  // whose title is taken in its folder is a conflict. The uid holding it, or "" when free; each
  // folder is searched once per apply.
  core::Result<std::string> SameTitle(const DesiredObject& d) {
    std::lock_guard lock(titles_mutex_);
    auto it = titles_.find(d.folder_uid);
    if (it == titles_.end()) {
      // The root is "general" in search filters.
      auto hits = session_.client().SearchDashboardsInFolder(
          d.folder_uid.empty() ? std::string("general") : d.folder_uid);
      if (!hits.ok()) {
        return hits.error();
      }
      std::map<std::string, std::string> slugs;
      for (const auto& hit : *hits) {
        if (hit.is_object() && hit.value("folderUid", std::string()) == d.folder_uid) {
          slugs.emplace(Slug(hit.value("title", std::string())), hit.value("uid", std::string()));
        }
      }
      it = titles_.emplace(d.folder_uid, std::move(slugs)).first;
    }
    const auto title = d.body.find("title");
    const auto taken = it->second.find(
        Slug(title != d.body.end() && title->is_string() ? title->get<std::string>() : ""));
    return taken == it->second.end() || taken->second == d.uid ? std::string() : taken->second;
  }

  // The fast path: what we wrote last is still what we want (hash), and it is still the same
  // dashboard (id: a dashboard deleted and recreated starts again at version 1) that nobody
  // saved since (Grafana bumps the version on every save, moves included): nothing to compare.
  bool Unchanged(const DesiredObject& d, Item& item, const std::string& text) const {
    const OwnedObject* known = session_.Recorded(d.kind, d.uid);
    if (known == nullptr || known->remote_version <= 0 || known->remote_id <= 0 ||
        known->content_hash != item.hash) {
      return false;
    }
    const auto peek = PeekDashboard(text);
    if (!peek || peek->version != known->remote_version || peek->id != known->remote_id ||
        peek->folder_uid != d.folder_uid) {
      return false;
    }
    item.remote_version = known->remote_version;
    item.remote_id = known->remote_id;
    return true;
  }

  std::string message_;  // the version message of every save
  std::mutex titles_mutex_;
  std::map<std::string, std::map<std::string, std::string>> titles_;  // folder -> slug -> uid
};

}  // namespace

std::unique_ptr<Reconciler> MakeDashboards(Session& s, const std::vector<DesiredObject>& d) {
  return std::make_unique<Dashboards>(s, d);
}

}  // namespace obsforge::provision::detail
