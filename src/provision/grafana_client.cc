#include "provision/grafana_client.h"

#include <string>
#include <string_view>
#include <utility>

#include "core/hash.h"
#include "http/retrying_http_client.h"
#include "http/url.h"
#include "provision/normalize.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;

core::ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 404:
      return core::ErrorCode::kNotFound;
    case 409:
    case 412:
      return core::ErrorCode::kConflict;
    default:
      return core::ErrorCode::kUpstream;
  }
}

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}
std::string Seg(const std::string& s) {
  return http::EncodePathSegment(s);
}

core::Result<json> ParseBody(const http::Response& response, const std::string& what) {
  try {
    return json::parse(response.body);
  } catch (const json::parse_error&) {
    return core::MakeError(core::ErrorCode::kUpstream, what + ": Grafana answered " +
                                                           std::to_string(response.status) +
                                                           " with a body that is not JSON");
  }
}

}  // namespace

GrafanaClient::GrafanaClient(GrafanaOptions options, http::HttpClient& http)
    : options_(std::move(options)), http_(http) {
}

core::Result<http::Response> GrafanaClient::Call(const std::string& method,
                                                 const std::string& path,
                                                 const json* body,
                                                 const std::string& what,
                                                 std::initializer_list<int> accept,
                                                 bool provisioning_write) {
  return CallRaw(
      method, path,
      body == nullptr ? std::string() : body->dump(-1, ' ', false, json::error_handler_t::replace),
      what, accept, provisioning_write);
}

core::Result<http::Response> GrafanaClient::CallRaw(const std::string& method,
                                                    const std::string& path,
                                                    std::string body,
                                                    const std::string& what,
                                                    std::initializer_list<int> accept,
                                                    bool provisioning_write) {
  http::Request request{
      .method = method, .url = http::JoinUrl(options_.base_url, path), .timeout = options_.timeout};
  request.headers.emplace_back("Accept", "application/json");
  if (options_.token) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.token->Reveal());
  } else if (!options_.basic_user.empty()) {
    request.headers.emplace_back("Authorization",
                                 "Basic " + core::Base64Encode(options_.basic_user + ":" +
                                                               options_.basic_password.Reveal()));
  }
  if (options_.org_id > 0) {
    request.headers.emplace_back("X-Grafana-Org-Id", std::to_string(options_.org_id));
  }
  if (provisioning_write && options_.disable_provenance) {
    request.headers.emplace_back("X-Disable-Provenance", "true");
  }
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(body);
  }
  if (method != "GET" && method != "HEAD") {
    ++writes_;
  }
  auto result = http_.Send(request);
  if (result.ok()) {
    for (const int status : accept) {
      if (result->status == status) {
        return result;
      }
    }
  }
  core::Error error = http::UpstreamError(request, result);
  error.message = what + ": " + error.message;
  if (result.ok()) {
    error.code = CodeForStatus(result->status);
  }
  return error;
}

core::Result<std::optional<json>> GrafanaClient::GetOptional(const std::string& path,
                                                             const std::string& what) {
  auto response = Call("GET", path, nullptr, what, {200, 404});
  if (!response.ok()) {
    return response.error();
  }
  if (response->status == 404) {
    return std::optional<json>();
  }
  auto parsed = ParseBody(*response, what);
  if (!parsed.ok()) {
    return parsed.error();
  }
  return std::optional<json>(std::move(*parsed));
}

core::Result<void> GrafanaClient::Write(const std::string& method,
                                        const std::string& path,
                                        const json* body,
                                        const std::string& what,
                                        bool provisioning_write,
                                        bool missing_ok) {
  auto response =
      missing_ok ? Call(method, path, body, what, {200, 201, 202, 204, 404}, provisioning_write)
                 : Call(method, path, body, what, {200, 201, 202, 204}, provisioning_write);
  if (!response.ok()) {
    return response.error();
  }
  return {};
}

core::Result<std::optional<json>> GrafanaClient::GetDatasource(const std::string& uid) {
  return GetOptional("/api/datasources/uid/" + Seg(uid), "datasource " + Quoted(uid));
}

core::Result<json> GrafanaClient::ListDatasources() {
  auto response = Call("GET", "/api/datasources", nullptr, "datasources", {200});
  if (!response.ok()) {
    return response.error();
  }
  return ParseBody(*response, "datasources");
}

core::Result<void> GrafanaClient::CreateDatasource(const json& body) {
  return Write("POST", "/api/datasources", &body,
               "datasource " + Quoted(body.value("uid", std::string())));
}

core::Result<void> GrafanaClient::UpdateDatasource(const std::string& uid, const json& body) {
  return Write("PUT", "/api/datasources/uid/" + Seg(uid), &body, "datasource " + Quoted(uid));
}

core::Result<void> GrafanaClient::DeleteDatasource(const std::string& uid) {
  return Write("DELETE", "/api/datasources/uid/" + Seg(uid), nullptr, "datasource " + Quoted(uid),
               false, true);
}

core::Result<DatasourceHealth> GrafanaClient::CheckDatasourceHealth(const std::string& uid) {
  const std::string what = "health of datasource " + Quoted(uid);
  auto response =
      Call("GET", "/api/datasources/uid/" + Seg(uid) + "/health", nullptr, what, {200, 400});
  if (!response.ok()) {
    return response.error();
  }
  auto parsed = ParseBody(*response, what);
  if (!parsed.ok()) {
    return parsed.error();
  }
  const json& body = *parsed;
  DatasourceHealth health{.uid = uid};
  health.ok = response->status == 200 && body.value("status", std::string()) == "OK";
  health.message = body.is_object() ? body.value("message", std::string()) : std::string();
  return health;
}

core::Result<std::optional<json>> GrafanaClient::GetFolder(const std::string& uid) {
  return GetOptional("/api/folders/" + Seg(uid), "folder " + Quoted(uid));
}

core::Result<void> GrafanaClient::CreateFolder(const json& body) {
  return Write("POST", "/api/folders", &body, "folder " + Quoted(body.value("uid", std::string())));
}

core::Result<void> GrafanaClient::UpdateFolder(const std::string& uid, const std::string& title) {
  const json body = {{"title", title}, {"overwrite", true}};
  return Write("PUT", "/api/folders/" + Seg(uid), &body, "folder " + Quoted(uid));
}

core::Result<void> GrafanaClient::MoveFolder(const std::string& uid,
                                             const std::string& parent_uid) {
  const json body = {{"parentUid", parent_uid.empty() ? json(nullptr) : json(parent_uid)}};
  return Write("POST", "/api/folders/" + Seg(uid) + "/move", &body, "folder " + Quoted(uid));
}

core::Result<void> GrafanaClient::DeleteFolder(const std::string& uid) {
  return Write("DELETE", "/api/folders/" + Seg(uid) + "?forceDeleteRules=false", nullptr,
               "folder " + Quoted(uid), false, true);
}

core::Result<std::optional<json>> GrafanaClient::GetDashboard(const std::string& uid) {
  return GetOptional("/api/dashboards/uid/" + Seg(uid), "dashboard " + Quoted(uid));
}

core::Result<std::optional<std::string>> GrafanaClient::GetDashboardText(const std::string& uid) {
  auto response = Call("GET", "/api/dashboards/uid/" + Seg(uid), nullptr,
                       "dashboard " + Quoted(uid), {200, 404});
  if (!response.ok()) {
    return response.error();
  }
  if (response->status == 404) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(response->body));
}

core::Result<json> GrafanaClient::Search(
    const std::vector<std::pair<std::string, std::string>>& query, const std::string& what) {
  constexpr int kLimit = 5000;
  // A Grafana that keeps answering full pages is not followed for ever.
  constexpr int kMaxPages = 200;
  json all = json::array();
  for (int page = 1;; ++page) {
    if (page > kMaxPages) {
      return core::MakeError(
          core::ErrorCode::kUpstream,
          what + ": more than " + std::to_string(kLimit * kMaxPages) + " search results");
    }
    auto params = query;
    params.emplace_back("limit", std::to_string(kLimit));
    params.emplace_back("page", std::to_string(page));
    auto response = Call("GET", "/api/search?" + http::BuildQuery(params), nullptr, what, {200});
    if (!response.ok()) {
      return response.error();
    }
    auto parsed = ParseBody(*response, what);
    if (!parsed.ok()) {
      return parsed.error();
    }
    if (!parsed->is_array()) {
      return core::MakeError(core::ErrorCode::kUpstream, what + ": search did not return an array");
    }
    for (auto& hit : *parsed) {
      all.push_back(std::move(hit));
    }
    if (parsed->size() < static_cast<std::size_t>(kLimit)) {
      return all;
    }
  }
}

core::Result<json> GrafanaClient::SearchDashboardsByTag(const std::string& tag) {
  return Search({{"type", "dash-db"}, {"tag", tag}}, "dashboards tagged " + Quoted(tag));
}

core::Result<json> GrafanaClient::SearchDashboardsInFolder(const std::string& folder_uid) {
  return Search({{"type", "dash-db"}, {"folderUIDs", folder_uid}},
                "dashboards in folder " + Quoted(folder_uid));
}

core::Result<SavedDashboard> GrafanaClient::SaveDashboard(const json& dashboard,
                                                          const std::string& folder_uid,
                                                          const std::string& message) {
  const std::string uid = dashboard.value("uid", std::string());
  const std::string what = "dashboard " + Quoted(uid) + " in folder " +
                           Quoted(folder_uid.empty() ? std::string("General") : folder_uid);
  // Serialised around the model: copying a large dashboard into a wrapper object costs more
  // than the request itself.
  const json envelope = {{"folderUid", folder_uid}, {"overwrite", true}, {"message", message}};
  std::string text = envelope.dump(-1, ' ', false, json::error_handler_t::replace);
  text.pop_back();  // the closing brace
  text += ",\"dashboard\":" + dashboard.dump(-1, ' ', false, json::error_handler_t::replace) + "}";
  auto response =
      CallRaw("POST", "/api/dashboards/db", std::move(text), what, {200, 201, 202, 204}, false);
  if (!response.ok()) {
    return response.error();
  }
  // Id and version only speed up the next resync: an answer without them is not an error.
  const json answer = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  return SavedDashboard{.id = IntegerMember(answer, "id"),
                        .version = IntegerMember(answer, "version")};
}

core::Result<void> GrafanaClient::DeleteDashboard(const std::string& uid) {
  return Write("DELETE", "/api/dashboards/uid/" + Seg(uid), nullptr, "dashboard " + Quoted(uid),
               false, true);
}

core::Result<std::optional<json>> GrafanaClient::GetRuleGroup(const std::string& folder_uid,
                                                              const std::string& group) {
  return GetOptional(
      "/api/v1/provisioning/folder/" + Seg(folder_uid) + "/rule-groups/" + Seg(group),
      "rule group " + Quoted(group) + " in folder " + Quoted(folder_uid));
}

core::Result<void> GrafanaClient::PutRuleGroup(const std::string& folder_uid,
                                               const std::string& group,
                                               const json& body) {
  return Write("PUT",
               "/api/v1/provisioning/folder/" + Seg(folder_uid) + "/rule-groups/" + Seg(group),
               &body, "rule group " + Quoted(group) + " in folder " + Quoted(folder_uid), true);
}

core::Result<void> GrafanaClient::DeleteAlertRule(const std::string& uid) {
  return Write("DELETE", "/api/v1/provisioning/alert-rules/" + Seg(uid), nullptr,
               "alert rule " + Quoted(uid), true, true);
}

core::Result<json> GrafanaClient::ListContactPoints() {
  auto response =
      Call("GET", "/api/v1/provisioning/contact-points", nullptr, "contact points", {200});
  if (!response.ok()) {
    return response.error();
  }
  return ParseBody(*response, "contact points");
}

core::Result<void> GrafanaClient::CreateContactPoint(const json& body) {
  return Write("POST", "/api/v1/provisioning/contact-points", &body,
               "contact point " + Quoted(body.value("uid", std::string())), true);
}

core::Result<void> GrafanaClient::UpdateContactPoint(const std::string& uid, const json& body) {
  return Write("PUT", "/api/v1/provisioning/contact-points/" + Seg(uid), &body,
               "contact point " + Quoted(uid), true);
}

core::Result<void> GrafanaClient::DeleteContactPoint(const std::string& uid) {
  return Write("DELETE", "/api/v1/provisioning/contact-points/" + Seg(uid), nullptr,
               "contact point " + Quoted(uid), true, true);
}

core::Result<json> GrafanaClient::GetPolicyTree() {
  auto response =
      Call("GET", "/api/v1/provisioning/policies", nullptr, "notification policy tree", {200});
  if (!response.ok()) {
    return response.error();
  }
  return ParseBody(*response, "notification policy tree");
}

core::Result<void> GrafanaClient::PutPolicyTree(const json& tree) {
  return Write("PUT", "/api/v1/provisioning/policies", &tree, "notification policy tree", true);
}

core::Result<json> GrafanaClient::GetJson(const std::string& path, const std::string& what) {
  auto response = Call("GET", path, nullptr, what, {200});
  if (!response.ok()) {
    return response.error();
  }
  return ParseBody(*response, what);
}

core::Result<json> GrafanaClient::GetHealth() {
  return GetJson("/api/health", "health");
}

core::Result<json> GrafanaClient::ListFolders(const std::string& parent_uid) {
  constexpr int kLimit = 1000;
  constexpr int kMaxPages = 100;
  const std::string what =
      parent_uid.empty() ? std::string("folders") : "folders in " + Quoted(parent_uid);
  json all = json::array();
  for (int page = 1;; ++page) {
    if (page > kMaxPages) {
      return core::MakeError(core::ErrorCode::kUpstream,
                             what + ": more than " + std::to_string(kLimit * kMaxPages));
    }
    std::vector<std::pair<std::string, std::string>> params;
    if (!parent_uid.empty()) {
      params.emplace_back("parentUid", parent_uid);
    }
    params.emplace_back("limit", std::to_string(kLimit));
    params.emplace_back("page", std::to_string(page));
    auto parsed = GetJson("/api/folders?" + http::BuildQuery(params), what);
    if (!parsed.ok()) {
      return parsed.error();
    }
    if (!parsed->is_array()) {
      return core::MakeError(core::ErrorCode::kUpstream, what + ": not a JSON array");
    }
    for (auto& folder : *parsed) {
      all.push_back(std::move(folder));
    }
    if (parsed->size() < static_cast<std::size_t>(kLimit)) {
      return all;
    }
  }
}

core::Result<json> GrafanaClient::SearchDashboards() {
  return Search({{"type", "dash-db"}}, "dashboards");
}

core::Result<json> GrafanaClient::ListAlertRules() {
  return GetJson("/api/v1/provisioning/alert-rules", "alert rules");
}

core::Result<json> GrafanaClient::ListMuteTimings() {
  return GetJson("/api/v1/provisioning/mute-timings", "mute timings");
}

core::Result<json> GrafanaClient::ListTemplates() {
  return GetJson("/api/v1/provisioning/templates", "notification templates");
}

}  // namespace obsforge::provision
