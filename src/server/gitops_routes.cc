#include "server/gitops_routes.h"

#include <algorithm>
#include <cctype>

#include "server/errors.h"
#include "server/json_views.h"

namespace obsforge::server {

void RegisterGitOpsRoutes(Router& router, control::GitOpsService& gitops) {
  router.Add({.method = "POST",
              .path = "/api/v1/gitops/webhook",
              .role = Role::kNone,
              .summary = "push notification from a git host, verified by X-Hub-Signature-256 "
                         "(HMAC-SHA256 of the body) or X-Gitlab-Token; triggers a sync at once",
              .responses = {{202, "a sync was triggered"},
                            {200, "ignored: a repeated delivery, a ping, or another branch"},
                            {401, "no source's secret verifies the request; nothing started"},
                            {413, "body too large"}},
              .handler = [&gitops](const ApiRequest& req) -> core::Result<Reply> {
                const gitops::WebhookRequest request{
                    .header =
                        [&req](const std::string& name) {
                          std::string lower = name;
                          std::transform(
                              lower.begin(), lower.end(), lower.begin(),
                              [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                          return req.Header(lower);
                        },
                    .body = req.body};
                const gitops::WebhookResponse response = gitops.HandleWebhook(request);
                if (response.status == 401) {
                  return Reply::Json(401, ErrorBody("unauthorized", response.message));
                }
                return Reply::Json(response.status, {{"outcome", response.outcome},
                                                     {"message", response.message},
                                                     {"sources", response.sources}});
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/gitops",
              .role = Role::kViewer,
              .summary = "gitops sources: last seen and last good commit, last sync",
              .responses = {{200, "the sources"}, {401, "no or bad token"}},
              .handler = [&gitops](const ApiRequest&) -> core::Result<Reply> {
                return Reply::Json(200, ToJson(gitops.Status()));
              }});
}

}  // namespace obsforge::server
