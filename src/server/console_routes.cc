#include "server/console_routes.h"

#include <memory>

#include "console/assets.h"
#include "console/pages.h"
#include "core/clock.h"
#include "core/diagnostic.h"

namespace obsforge::server {

const char* const kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

using core::Result;

Reply Html(std::string body) {
  Reply reply = Reply::Raw(200, "text/html; charset=utf-8", std::move(body));
  reply.With("Content-Security-Policy", kConsoleCsp)
      .With("X-Content-Type-Options", "nosniff")
      .With("Referrer-Policy", "no-referrer")
      .With("Cache-Control", "no-store");
  return reply;
}

nlohmann::json OverviewJson(const std::vector<control::StatusStack>& stacks) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& stack : stacks) {
    nlohmann::json envs = nlohmann::json::array();
    for (const auto& env : stack.environments) {
      nlohmann::json components = nlohmann::json::array();
      for (const auto& c : env.components) {
        components.push_back(
            {{"name", c.name}, {"state", c.state}, {"url", c.url}, {"health", c.health}});
      }
      envs.push_back({{"name", env.name},
                      {"state", env.state},
                      {"health", env.health},
                      {"health_since", env.health_since},
                      {"applied_revision", env.applied_revision},
                      {"failing", env.failing},
                      {"message", env.message},
                      {"severity", console::Severity(env)},
                      {"components", std::move(components)}});
    }
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : stack.operations) {
      ops.push_back({{"id", op.id},
                     {"kind", op.kind},
                     {"env", op.env},
                     {"state", op.state},
                     {"created_at", op.created_at},
                     {"error", op.error}});
    }
    list.push_back({{"name", stack.name},
                    {"revision", stack.revision},
                    {"labels", stack.labels},
                    {"environments", std::move(envs)},
                    {"operations", std::move(ops)}});
  }
  return {{"stacks", std::move(list)}};
}

// One Server-Sent Event; `data` is one line of JSON.
std::string SseEvent(const console::Event& event) {
  return "id: " + std::to_string(event.id) + "\nevent: " + event.type + "\ndata: " + event.data +
         "\n\n";
}

}  // namespace

void RegisterConsoleRoutes(Router& router, const ConsoleDeps& deps) {
  control::Application& app = deps.app;
  const std::string version = deps.version;
  const bool tokens = deps.tokens;
  // A page: the shell with `content`, for everyone (the data comes with a token).
  auto page = [&app, version, tokens](console::PageKind kind, std::string title,
                                      std::map<std::string, std::string> data,
                                      std::string content) {
    return Html(console::RenderPage({.kind = kind,
                                     .title = std::move(title),
                                     .data = std::move(data),
                                     .version = version,
                                     .generated_at = core::FormatTime(app.clock().Now()),
                                     .tokens = tokens,
                                     .content = std::move(content)}));
  };
  const std::map<int, std::string> page_responses = {{200, "the page (HTML)"}};

  router.Add({.method = "GET",
              .path = "/",
              .role = Role::kNone,
              .summary = "the console's overview (HTML): every stack and environment, worst "
                         "first; rendered on the server when no tokens are configured",
              .responses = page_responses,
              .handler = [&app, page, tokens](const ApiRequest&) -> Result<Reply> {
                std::vector<control::StatusStack> stacks;
                if (!tokens) {
                  auto overview = app.Overview();
                  if (!overview.ok()) {
                    return overview.error();
                  }
                  stacks = std::move(*overview);
                }
                return page(console::PageKind::kOverview, "overview", {},
                            console::RenderOverviewContent(stacks, !tokens));
              }});
  router.Add({.method = "GET",
              .path = "/stacks/{name}",
              .role = Role::kNone,
              .summary = "the console's page of a stack (HTML): its environments and operations",
              .responses = page_responses,
              .handler = [page](const ApiRequest& req) -> Result<Reply> {
                const std::string& name = req.Param("name");
                return page(console::PageKind::kStack, name, {{"stack", name}},
                            console::RenderPlaceholder("Stack " + name));
              }});
  router.Add({.method = "GET",
              .path = "/stacks/{name}/environments/{env}",
              .role = Role::kNone,
              .summary = "the console's page of an environment (HTML): components, checks, health "
                         "timeline, canaries",
              .responses = page_responses,
              .handler = [page](const ApiRequest& req) -> Result<Reply> {
                const std::string& name = req.Param("name");
                const std::string& env = req.Param("env");
                return page(console::PageKind::kEnvironment, name + " " + env,
                            {{"stack", name}, {"env", env}},
                            console::RenderPlaceholder(name + " · " + env));
              }});
  router.Add({.method = "GET",
              .path = "/operations/{id}",
              .role = Role::kNone,
              .summary = "the console's page of an operation (HTML): steps, error, diff",
              .responses = page_responses,
              .handler = [page](const ApiRequest& req) -> Result<Reply> {
                const std::string& id = req.Param("id");
                return page(console::PageKind::kOperation, "operation " + id, {{"op", id}},
                            console::RenderPlaceholder("Operation " + id));
              }});
  router.Add({.method = "GET",
              .path = "/stacks/{name}/revisions",
              .role = Role::kNone,
              .summary = "the console's revisions of a stack (HTML): list, diff, rollback",
              .responses = page_responses,
              .handler = [page](const ApiRequest& req) -> Result<Reply> {
                const std::string& name = req.Param("name");
                return page(console::PageKind::kRevisions, name + " revisions", {{"stack", name}},
                            console::RenderPlaceholder("Revisions of " + name));
              }});
  router.Add({.method = "GET",
              .path = "/gitops",
              .role = Role::kNone,
              .summary = "the console's GitOps page (HTML): sources, commits, last syncs",
              .responses = page_responses,
              .handler = [page](const ApiRequest&) -> Result<Reply> {
                return page(console::PageKind::kGitOps, "gitops", {},
                            console::RenderPlaceholder("GitOps sources"));
              }});
  router.Add({.method = "GET",
              .path = "/console/{file}",
              .role = Role::kNone,
              .summary = "a file of the console (CSS, JavaScript), embedded in the binary",
              .responses = {{200, "the file"}, {304, "not modified"}, {404, "no such file"}},
              .handler = [](const ApiRequest& req) -> Result<Reply> {
                const console::Asset* asset = console::FindAsset(req.Param("file"));
                if (asset == nullptr) {
                  return core::MakeError(core::ErrorCode::kNotFound,
                                         "no console file " + req.Param("file"));
                }
                const std::string etag(asset->etag);
                const bool fresh = req.Header("if-none-match") == etag;
                Reply reply = Reply::Raw(fresh ? 304 : 200, std::string(asset->content_type),
                                         fresh ? std::string() : std::string(asset->body));
                reply.With("ETag", etag)
                    .With("Cache-Control", "no-cache")
                    .With("X-Content-Type-Options", "nosniff");
                return reply;
              }});
  router.Add(
      {.method = "GET",
       .path = "/api/v1/overview",
       .role = Role::kViewer,
       .summary = "every stack with its environments (state, health, since, live revision, "
                  "failing checks, components) and last operations",
       .query = {{"format", "html: the console's tiles as an HTML fragment, worst first"}},
       .responses = {{200, "the overview"},
                     {400, "unknown format"},
                     {401, "no or bad token"},
                     {403, "token lacks the role"}},
       .handler = [&app](const ApiRequest& req) -> Result<Reply> {
         const auto format = req.Query("format").value_or("json");
         if (format != "json" && format != "html") {
           throw core::InputError(core::InputError::Kind::kInvalidSpec,
                                  core::Diagnostic{.file = "query",
                                                   .path = "format",
                                                   .message = "must be json or html, got \"" +
                                                              format + "\""});
         }
         auto overview = app.Overview();
         if (!overview.ok()) {
           return overview.error();
         }
         if (format == "html") {
           return Reply::Raw(200, "text/html; charset=utf-8", console::RenderTiles(*overview))
               .With("Cache-Control", "no-store");
         }
         return Reply::Json(200, OverviewJson(*overview));
       }});
  router.Add(
      {.method = "GET",
       .path = "/api/v1/events",
       .role = Role::kViewer,
       .summary = "live updates as Server-Sent Events: `operation` (steps and ends) and `health` "
                  "(environment and component transitions); `resync` when events were dropped",
       .responses = {{200, "the event stream (text/event-stream)"},
                     {401, "no or bad token"},
                     {403, "token lacks the role"},
                     {503, "too many event streams open, or shutting down"}},
       .handler = [&bus = deps.events, heartbeat = deps.heartbeat](
                      const ApiRequest&) -> Result<Reply> {
         std::shared_ptr<console::EventBus::Subscription> sub = bus.Subscribe();
         if (sub == nullptr) {
           return core::MakeError(core::ErrorCode::kUnavailable,
                                  "too many event streams open (or shutting down); retry later");
         }
         return Reply::Stream("text/event-stream", [sub, heartbeat](const StreamWrite& write) {
           // `retry` tells EventSource how long to wait before reconnecting.
           if (!write("retry: 3000\n: connected\n\n")) {
             return;
           }
           while (true) {
             const console::EventBus::Batch batch = sub->Wait(heartbeat);
             if (batch.closed) {
               return;
             }
             std::string out;
             if (batch.overflowed) {
               out += "event: resync\ndata: {}\n\n";
             }
             for (const auto& event : batch.events) {
               out += SseEvent(event);
             }
             if (out.empty()) {
               out = ": heartbeat\n\n";
             }
             if (!write(out)) {
               return;  // the client is gone
             }
           }
         });
       }});
}

}  // namespace obsforge::server
