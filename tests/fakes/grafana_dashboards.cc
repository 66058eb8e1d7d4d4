// Folder, dashboard and search endpoints of FakeGrafana.

#include <algorithm>
#include <cctype>
#include <set>

#include "fakes/grafana_state.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

std::string FolderUrl(const GrafanaFolder& f) {
  return "/dashboards/f/" + f.uid + "/" + Slugify(f.title);
}

std::string DashboardUrl(const GrafanaDashboard& d) {
  return "/d/" + d.uid + "/" + Slugify(d.model.value("title", ""));
}

// The ancestors of `uid` (root first), `uid` included.
std::vector<const GrafanaFolder*> Chain(const GrafanaOrg& org, const std::string& uid) {
  std::vector<const GrafanaFolder*> chain;
  std::string current = uid;
  while (!current.empty() && chain.size() < 64) {
    auto it = org.folders.find(current);
    if (it == org.folders.end()) {
      break;
    }
    chain.insert(chain.begin(), &it->second);
    current = it->second.parent_uid;
  }
  return chain;
}

bool HasRules(const GrafanaOrg& org, const std::string& folder_uid) {
  return std::any_of(org.rules.begin(), org.rules.end(), [&](const auto& entry) {
    return entry.second.value("folderUID", "") == folder_uid;
  });
}

void CollectSubtree(const GrafanaOrg& org, const std::string& uid, std::vector<std::string>& out) {
  out.push_back(uid);
  for (const auto& [child, f] : org.folders) {
    if (f.parent_uid == uid) {
      CollectSubtree(org, child, out);
    }
  }
}

// Dashboards say "The dashboard has been changed by someone else"
// (pkg/services/dashboards/errors.go), folders "the folder has been changed by someone else"
// (pkg/api/apierrors/folder.go).
FakeResponse VersionMismatch(const std::string& what) {
  return FakeResponse::Json(412, json{{"status", "version-mismatch"},
                                      {"message", (what == "folder" ? "the " : "The ") + what +
                                                      " has been changed by someone else"}});
}

FakeResponse CreateFolder(GrafanaState& state, FakeRequest& request, GrafanaOrg& org) {
  auto body = JsonBody(request);
  if (!body || !body->is_object()) {
    return GrafanaError(400, "bad request data");
  }
  const std::string title = body->value("title", "");
  std::string uid = body->value("uid", "");
  const std::string parent = body->value("parentUid", "");
  if (title.empty()) {
    return GrafanaError(400, "folder title cannot be empty");
  }
  if (auto bad = CheckUid(uid); !bad.empty()) {
    return GrafanaError(400, bad);
  }
  if (!uid.empty() && org.folders.contains(uid)) {
    return GrafanaError(409, "a folder with the same uid already exists");
  }
  if (!parent.empty()) {
    if (!org.folders.contains(parent)) {
      return GrafanaError(400, "parent folder not found");
    }
    if (static_cast<int>(Chain(org, parent).size()) >= state.options.max_folder_depth) {
      return GrafanaError(400, "Maximum nested folder depth reached");
    }
  }
  if (uid.empty()) {
    uid = state.NewUid();
  }
  GrafanaFolder folder{.id = state.next_id++, .uid = uid, .title = title, .parent_uid = parent};
  org.folders[uid] = folder;
  return FakeResponse::Json(200, FolderJson(org, folder));
}

FakeResponse UpdateFolder(FakeRequest& request, GrafanaOrg& org) {
  auto it = org.folders.find(request.Param("uid"));
  if (it == org.folders.end()) {
    return FakeResponse::Json(404, json{{"status", "not-found"}, {"message", "folder not found"}});
  }
  auto body = JsonBody(request);
  if (!body || !body->is_object()) {
    return GrafanaError(400, "bad request data");
  }
  GrafanaFolder& folder = it->second;
  if (!body->value("overwrite", false) && body->value("version", -1) != folder.version) {
    return VersionMismatch("folder");
  }
  const std::string title = body->value("title", "");
  if (title.empty()) {
    return GrafanaError(400, "folder title cannot be empty");
  }
  folder.title = title;
  folder.version += 1;
  return FakeResponse::Json(200, FolderJson(org, folder));
}

FakeResponse DeleteFolder(FakeRequest& request, GrafanaOrg& org) {
  const std::string uid = request.Param("uid");
  auto it = org.folders.find(uid);
  if (it == org.folders.end()) {
    return FakeResponse::Json(404, json{{"status", "not-found"}, {"message", "folder not found"}});
  }
  std::vector<std::string> subtree;
  CollectSubtree(org, uid, subtree);
  const bool force = request.Query("forceDeleteRules") == "true";
  for (const auto& f : subtree) {
    if (!force && HasRules(org, f)) {
      return GrafanaError(400, "folder cannot be deleted: folder contains alert rules");
    }
  }
  const json reply{{"title", it->second.title},
                   {"message", "Folder " + it->second.title + " deleted"},
                   {"id", it->second.id},
                   {"uid", uid}};
  for (const auto& f : subtree) {
    std::erase_if(org.dashboards, [&](const auto& e) { return e.second.folder_uid == f; });
    std::erase_if(org.rules, [&](const auto& e) { return e.second.value("folderUID", "") == f; });
    std::erase_if(org.group_intervals, [&](const auto& e) { return e.first.first == f; });
    org.folders.erase(f);
  }
  return FakeResponse::Json(200, reply);
}

FakeResponse ListFolders(FakeRequest& request, GrafanaOrg& org) {
  const std::string parent = request.Query("parentUid");
  const int limit = request.HasQuery("limit") ? std::stoi(request.Query("limit")) : 1000;
  const int page = request.HasQuery("page") ? std::max(1, std::stoi(request.Query("page"))) : 1;
  std::vector<const GrafanaFolder*> matches;
  for (const auto& [uid, f] : org.folders) {
    if (f.parent_uid == parent) {
      matches.push_back(&f);
    }
  }
  std::sort(matches.begin(), matches.end(),
            [](const auto* a, const auto* b) { return a->title < b->title; });
  json out = json::array();
  const std::size_t start = static_cast<std::size_t>((page - 1) * limit);
  for (std::size_t i = start; i < matches.size() && i < start + static_cast<std::size_t>(limit);
       ++i) {
    json entry{{"id", matches[i]->id}, {"uid", matches[i]->uid}, {"title", matches[i]->title}};
    if (!matches[i]->parent_uid.empty()) {
      entry["parentUid"] = matches[i]->parent_uid;
    }
    out.push_back(entry);
  }
  return FakeResponse::Json(200, out);
}

bool IdIsNull(const json& dashboard) {
  return !dashboard.contains("id") || dashboard["id"].is_null();
}

// `body` is the request parsed before the state lock was taken (parsing is the slow part).
FakeResponse SaveDashboard(GrafanaState& state, std::optional<json>& body, GrafanaOrg& org) {
  if (!body || !body->is_object() || !body->contains("dashboard") ||
      !(*body)["dashboard"].is_object()) {
    return GrafanaError(400, "bad request data");
  }
  json model = std::move((*body)["dashboard"]);
  const std::string title = model.contains("title") && model["title"].is_string()
                                ? model["title"].get<std::string>()
                                : "";
  if (title.empty()) {
    return FakeResponse::Json(
        400, json{{"status", "empty-name"}, {"message", "Dashboard title cannot be empty"}});
  }
  const std::string message = body->value("message", "");
  if (message.size() > 500) {
    return GrafanaError(400, "Dashboard message too long, max 500 characters");
  }
  std::string uid =
      model.contains("uid") && model["uid"].is_string() ? model["uid"].get<std::string>() : "";
  if (auto bad = CheckUid(uid); !bad.empty()) {
    return GrafanaError(400, bad);
  }
  // Strict on purpose: obsforge must always send id null; any id is treated as unknown.
  if (!IdIsNull(model)) {
    return FakeResponse::Json(404,
                              json{{"status", "not-found"}, {"message", "Dashboard not found"}});
  }
  const std::string folder_uid = body->value("folderUid", "");
  if (!folder_uid.empty() && !org.folders.contains(folder_uid)) {
    return GrafanaError(400, "folder not found");
  }
  const bool overwrite = body->value("overwrite", false);
  auto existing = uid.empty() ? org.dashboards.end() : org.dashboards.find(uid);
  if (existing != org.dashboards.end()) {
    if (existing->second.provisioned) {
      return GrafanaError(400, "Cannot save provisioned dashboard");
    }
    const json& sent = model.contains("version") ? model["version"] : json();
    if (!overwrite && (!sent.is_number_integer() || sent.get<int>() != existing->second.version)) {
      return VersionMismatch("dashboard");
    }
  }
  const std::string slug = Slugify(title);
  // Up to 11.2 a title (its slug) is unique in a folder: another dashboard with it is refused
  // without `overwrite`, and with `overwrite` taken over: saved under ITS uid, id and version,
  // the posted uid left unused (getExistingDashboardByTitleAndFolder). From 11.3 titles need
  // not be unique.
  const bool unique_titles = !VersionAtLeast(state.options.version, 11, 3);
  for (auto& [other_uid, other] : org.dashboards) {
    if (!unique_titles || other_uid == uid || other.folder_uid != folder_uid) {
      continue;
    }
    if (other.slug.empty()) {
      other.slug = Slugify(other.model.value("title", ""));
    }
    if (other.slug == slug) {
      if (!overwrite) {
        return FakeResponse::Json(
            412, json{{"status", "name-exists"},
                      {"message", "A dashboard with the same name in the folder already exists"}});
      }
      if (other.provisioned) {
        return GrafanaError(400, "Cannot save provisioned dashboard");
      }
      uid = other_uid;
      break;
    }
  }
  if (uid.empty()) {
    uid = state.NewUid();
  }
  GrafanaDashboard& d = org.dashboards[uid];
  if (d.id == 0) {
    d.id = state.next_id++;
    d.uid = uid;
    d.version = 1;
  } else {
    d.version += 1;
  }
  model["id"] = d.id;
  model["uid"] = uid;
  model["version"] = d.version;
  d.model = std::move(model);
  d.model_text = d.model.dump(-1, ' ', false, json::error_handler_t::replace);
  d.slug = slug;
  d.folder_uid = folder_uid;  // Left out means the root, even for an update.
  d.message = message;
  return FakeResponse::Json(200, json{{"id", d.id},
                                      {"uid", uid},
                                      {"url", DashboardUrl(d)},
                                      {"status", "success"},
                                      {"version", d.version},
                                      {"slug", Slugify(title)},
                                      {"folderUid", folder_uid}});
}

FakeResponse GetDashboard(FakeRequest& request, GrafanaOrg& org) {
  auto it = org.dashboards.find(request.Param("uid"));
  if (it == org.dashboards.end()) {
    return FakeResponse::Json(404,
                              json{{"status", "not-found"}, {"message", "Dashboard not found"}});
  }
  const GrafanaDashboard& d = it->second;
  std::string folder_title = "General";
  std::string folder_url;
  int folder_id = 0;
  if (auto f = org.folders.find(d.folder_uid); f != org.folders.end()) {
    folder_title = f->second.title;
    folder_url = FolderUrl(f->second);
    folder_id = f->second.id;
  }
  json meta{{"type", "db"},
            {"slug", Slugify(d.model.value("title", ""))},
            {"url", DashboardUrl(d)},
            {"folderId", folder_id},
            {"folderUid", d.folder_uid},
            {"folderTitle", folder_title},
            {"folderUrl", folder_url},
            {"provisioned", d.provisioned},
            {"version", d.version},
            {"canSave", true},
            {"canEdit", true}};
  GrafanaDashboard& cached = it->second;
  if (cached.model_text.empty()) {
    cached.model_text = d.model.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  FakeResponse response = FakeResponse::Json(200, json::object());
  response.body = "{\"dashboard\":" + cached.model_text + ",\"meta\":" + meta.dump() + "}";
  return response;
}

FakeResponse DeleteDashboard(FakeRequest& request, GrafanaOrg& org) {
  auto it = org.dashboards.find(request.Param("uid"));
  if (it == org.dashboards.end()) {
    return FakeResponse::Json(404,
                              json{{"status", "not-found"}, {"message", "Dashboard not found"}});
  }
  if (it->second.provisioned) {
    return GrafanaError(400, "provisioned dashboard cannot be deleted");
  }
  const std::string title = it->second.model.value("title", "");
  const json reply{{"title", title},
                   {"message", "Dashboard " + title + " deleted"},
                   {"id", it->second.id},
                   {"uid", it->second.uid}};
  org.dashboards.erase(it);
  return FakeResponse::Json(200, reply);
}

bool ContainsIgnoreCase(const std::string& haystack, const std::string& needle) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

std::set<std::string> SplitValues(const std::vector<std::string>& values) {
  std::set<std::string> out;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      auto comma = value.find(',', start);
      if (comma == std::string::npos) {
        comma = value.size();
      }
      if (comma > start) {
        out.insert(value.substr(start, comma - start));
      }
      start = comma + 1;
    }
  }
  return out;
}

FakeResponse Search(FakeRequest& request, GrafanaOrg& org) {
  const std::string type = request.Query("type");
  const std::string query = request.Query("query");
  const auto folder_uids = SplitValues(request.QueryAll("folderUIDs"));
  const auto dashboard_uids = SplitValues(request.QueryAll("dashboardUIDs"));
  const auto tags = request.QueryAll("tag");
  const int limit =
      std::min(5000, request.HasQuery("limit") ? std::stoi(request.Query("limit")) : 1000);
  const int page = request.HasQuery("page") ? std::max(1, std::stoi(request.Query("page"))) : 1;
  std::vector<std::pair<std::string, json>> hits;
  auto folder_selected = [&](const std::string& parent) {
    return folder_uids.empty() || folder_uids.contains(parent.empty() ? "general" : parent) ||
           (parent.empty() && folder_uids.contains(""));
  };
  if ((type.empty() || type == "dash-folder") && dashboard_uids.empty() && tags.empty()) {
    for (const auto& [uid, f] : org.folders) {
      if (!folder_selected(f.parent_uid) ||
          (!query.empty() && !ContainsIgnoreCase(f.title, query))) {
        continue;
      }
      hits.emplace_back("0" + f.title, json{{"id", f.id},
                                            {"uid", f.uid},
                                            {"title", f.title},
                                            {"url", FolderUrl(f)},
                                            {"type", "dash-folder"},
                                            {"tags", json::array()},
                                            {"isStarred", false}});
    }
  }
  if (type.empty() || type == "dash-db") {
    for (const auto& [uid, d] : org.dashboards) {
      const std::string title = d.model.value("title", "");
      if (!folder_selected(d.folder_uid) || (!query.empty() && !ContainsIgnoreCase(title, query)) ||
          (!dashboard_uids.empty() && !dashboard_uids.contains(uid))) {
        continue;
      }
      const json dash_tags =
          d.model.contains("tags") && d.model["tags"].is_array() ? d.model["tags"] : json::array();
      const bool tagged = std::all_of(tags.begin(), tags.end(), [&](const std::string& t) {
        return std::find(dash_tags.begin(), dash_tags.end(), json(t)) != dash_tags.end();
      });
      if (!tagged) {
        continue;
      }
      json hit{
          {"id", d.id},        {"uid", uid},        {"title", title},    {"url", DashboardUrl(d)},
          {"type", "dash-db"}, {"tags", dash_tags}, {"isStarred", false}};
      if (auto f = org.folders.find(d.folder_uid); f != org.folders.end()) {
        hit["folderId"] = f->second.id;
        hit["folderUid"] = f->second.uid;
        hit["folderTitle"] = f->second.title;
        hit["folderUrl"] = FolderUrl(f->second);
      }
      hits.emplace_back("1" + title, hit);
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  json out = json::array();
  const std::size_t start = static_cast<std::size_t>((page - 1) * limit);
  for (std::size_t i = start; i < hits.size() && i < start + static_cast<std::size_t>(limit); ++i) {
    out.push_back(hits[i].second);
  }
  return FakeResponse::Json(200, out);
}

}  // namespace

json FolderJson(const GrafanaOrg& org, const GrafanaFolder& folder) {
  json out{{"id", folder.id},          {"uid", folder.uid},         {"title", folder.title},
           {"url", FolderUrl(folder)}, {"version", folder.version}, {"hasAcl", false},
           {"canSave", true}};
  if (!folder.parent_uid.empty()) {
    out["parentUid"] = folder.parent_uid;
    json parents = json::array();
    for (const auto* p : Chain(org, folder.parent_uid)) {
      parents.push_back({{"uid", p->uid}, {"title", p->title}, {"url", FolderUrl(*p)}});
    }
    out["parents"] = parents;
  }
  return out;
}

void AddFolderDashboardRoutes(FakeServer& server, GrafanaState& state) {
  server.Route("GET", "/api/folders", Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 return ListFolders(r, org);
               }));
  server.Route("POST", "/api/folders",
               Locked(state, [&state](FakeRequest& r, GrafanaOrg& org, int) {
                 return CreateFolder(state, r, org);
               }));
  server.Route("GET", "/api/folders/{uid}", Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 auto it = org.folders.find(r.Param("uid"));
                 if (it == org.folders.end()) {
                   return FakeResponse::Json(
                       404, json{{"status", "not-found"}, {"message", "folder not found"}});
                 }
                 return FakeResponse::Json(200, FolderJson(org, it->second));
               }));
  server.Route("PUT", "/api/folders/{uid}", Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) {
                 return UpdateFolder(r, org);
               }));
  server.Route(
      "DELETE", "/api/folders/{uid}",
      Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) { return DeleteFolder(r, org); }));
  server.Route("POST", "/api/dashboards/db", [&state](FakeRequest& request) {
    std::optional<json> body = JsonBody(request);  // outside the lock, as Grafana would
    return Locked(state, [&](FakeRequest&, GrafanaOrg& org, int) {
      return SaveDashboard(state, body, org);
    })(request);
  });
  server.Route(
      "GET", "/api/dashboards/uid/{uid}",
      Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) { return GetDashboard(r, org); }));
  server.Route(
      "DELETE", "/api/dashboards/uid/{uid}",
      Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) { return DeleteDashboard(r, org); }));
  server.Route("GET", "/api/search",
               Locked(state, [](FakeRequest& r, GrafanaOrg& org, int) { return Search(r, org); }));
}

}  // namespace obsforge::fakes
