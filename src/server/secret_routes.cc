#include "server/secret_routes.h"

#include "core/clock.h"
#include "store/types.h"

namespace obsforge::server {
namespace {

using core::Result;

std::map<int, std::string> SecretResponses(std::map<int, std::string> responses) {
  responses.emplace(401, "no or bad token");
  responses.emplace(403, "token lacks the role");
  responses.emplace(404, "no such stack for this token");
  return responses;
}

}  // namespace

void RegisterSecretRoutes(Router& router, control::StackSecrets& secrets) {
  router.Add(
      {.method = "PUT",
       .path = "/api/v1/stacks/{name}/secrets/{key}",
       .role = Role::kEditor,
       .body = BodyKind::kRaw,
       .summary = "set a secret of the stack (the body is the value; write-only: it is "
                  "never returned), named {secret: KEY} in its spec",
       .responses = SecretResponses({{200, "replaced"},
                                     {201, "created"},
                                     {400, "bad stack or key name, empty or oversized value"},
                                     {413, "body too large"},
                                     {503, "stack secrets are off (no key configured)"}}),
       .handler = [&secrets](const ApiRequest& req) -> Result<Reply> {
         auto written = secrets.Put(req.Param("name"), req.Param("key"), core::Secret(req.body));
         if (!written.ok()) {
           return written.error();
         }
         return Reply::Json(
             written->created ? 201 : 200,
             {{"stack", written->stack},
              {"key", written->key},
              {"updated_at", core::FormatTime(store::FromTimeMs(written->updated_at))}});
       }});
  router.Add({.method = "DELETE",
              .path = "/api/v1/stacks/{name}/secrets/{key}",
              .role = Role::kEditor,
              .summary = "delete a secret of the stack",
              .responses = SecretResponses({{204, "deleted"}}),
              .handler = [&secrets](const ApiRequest& req) -> Result<Reply> {
                if (auto deleted = secrets.Delete(req.Param("name"), req.Param("key"));
                    !deleted.ok()) {
                  return deleted.error();
                }
                return Reply::Raw(204, "application/json", "");
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/secrets",
              .role = Role::kViewer,
              .summary = "the names of the stack's secrets and when each was set (never values)",
              .responses = SecretResponses({{200, "the names"}}),
              .handler = [&secrets](const ApiRequest& req) -> Result<Reply> {
                auto listed = secrets.List(req.Param("name"));
                if (!listed.ok()) {
                  return listed.error();
                }
                nlohmann::json items = nlohmann::json::array();
                for (const auto& info : *listed) {
                  items.push_back(
                      {{"key", info.key},
                       {"updated_at", core::FormatTime(store::FromTimeMs(info.updated_at))}});
                }
                return Reply::Json(200, {{"stack", req.Param("name")}, {"secrets", items}});
              }});
}

}  // namespace obsforge::server
