#include "server/console_routes.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "console/assets.h"
#include "console/pages.h"
#include "core/clock.h"
#include "core/diagnostic.h"
#include "server/json_views.h"

namespace obsforge::server {

const char* const kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

using core::Result;

// Statuses of a route that needs a viewer's token, besides its own.
std::map<int, std::string> ForViewers(std::map<int, std::string> responses) {
  responses.emplace(401, "no or bad token");
  responses.emplace(403, "token lacks the role");
  return responses;
}

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

// A revision number from the path: 1 to 10^15; anything else is a 400 naming the parameter.
std::int64_t RevisionNumber(const std::string& text) {
  if (text.empty() || text.size() > 15 ||
      text.find_first_not_of("0123456789") != std::string::npos || text == "0" ||
      text.front() == '0') {
    throw core::InputError(core::InputError::Kind::kInvalidSpec,
                           core::Diagnostic{.file = "path",
                                            .path = "number",
                                            .message = "must be a revision number (1, 2, ...), "
                                                       "got \"" +
                                                       text.substr(0, 40) + "\""});
  }
  return std::stoll(text);
}

}  // namespace

void RegisterConsoleRoutes(Router& router, const ConsoleDeps& deps) {
  control::Application& app = deps.app;
  const std::string version = deps.version;
  const bool tokens = !deps.tokens.empty();
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
  router.Add({.method = "GET",
              .path = "/api/v1/overview",
              .role = Role::kViewer,
              .summary = "every stack with its environments (state, health, since, live revision, "
                         "failing checks, components) and last operations",
              .query = {{"format", "html: the console's tiles as an HTML fragment, worst first"}},
              .responses = ForViewers({{200, "the overview"}, {400, "unknown format"}}),
              .handler = [&app](const ApiRequest& req) -> Result<Reply> {
                const auto format = req.Query("format").value_or("json");
                if (format != "json" && format != "html") {
                  throw core::InputError(
                      core::InputError::Kind::kInvalidSpec,
                      core::Diagnostic{.file = "query",
                                       .path = "format",
                                       .message = "must be json or html, got \"" + format + "\""});
                }
                auto overview = app.Overview();
                if (!overview.ok()) {
                  return overview.error();
                }
                // A token limited to some stacks sees only those (the others do not exist).
                std::erase_if(*overview, [&req](const control::StatusStack& stack) {
                  return !req.scope.Allows(stack.name);
                });
                if (format == "html") {
                  return Reply::Raw(200, "text/html; charset=utf-8",
                                    console::RenderTiles(*overview))
                      .With("Cache-Control", "no-store");
                }
                return Reply::Json(200, OverviewJson(*overview));
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/whoami",
              .role = Role::kViewer,
              .summary = "the caller: token name and role (admin for everyone without tokens)",
              .responses = {{200, "{actor, role}"}, {401, "no or bad token"}},
              .handler = [&table = deps.tokens](const ApiRequest& req) -> Result<Reply> {
                Role role = Role::kAdmin;  // no tokens: everything is allowed
                for (const TokenEntry& entry : table.entries()) {
                  if (entry.name == req.actor) {
                    role = entry.role;
                  }
                }
                return Reply::Json(200, {{"actor", req.actor}, {"role", RoleName(role)}});
              }});
  control::StackService& service = app.stacks();
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/revisions/{number}",
              .role = Role::kViewer,
              .summary = "one spec revision with its spec (secrets as references)",
              .responses = ForViewers({{200, "the revision"},
                                       {400, "the number is not a revision number"},
                                       {404, "no such stack or revision"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                auto rev = service.Revision(req.Param("name"), RevisionNumber(req.Param("number")));
                if (!rev.ok()) {
                  return rev.error();
                }
                nlohmann::json head = {{"stack", rev->stack},
                                       {"number", rev->number},
                                       {"spec_hash", rev->spec_hash},
                                       {"source", store::Name(rev->source)},
                                       {"actor", rev->actor}};
                std::string out = head.dump();
                out.pop_back();  // the stored spec is spliced in as GET /api/v1/stacks/{name} does
                out.append(",\"spec\":").append(rev->spec_json).push_back('}');
                return Reply::Raw(200, "application/json", std::move(out));
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/revisions/{number}/environments/{env}/rendered",
              .role = Role::kViewer,
              .summary = "the bundle a spec revision renders to for an environment, as JSON "
                         "{files: {path: {sha256, content}}}",
              .responses = ForViewers({{200, "the bundle"},
                                       {400, "the number is not a revision number"},
                                       {404, "no such stack, revision or environment"},
                                       {422, "render error"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                const std::int64_t number = RevisionNumber(req.Param("number"));
                auto bundle = service.RenderedRevision(req.Param("name"), req.Param("env"), number);
                if (!bundle.ok()) {
                  return bundle.error();
                }
                nlohmann::json body = BundleJson(*bundle);
                body["stack"] = req.Param("name");
                body["env"] = req.Param("env");
                body["revision"] = number;
                return Reply::Json(200, std::move(body));
              }});
  router.Add(
      {.method = "GET",
       .path = "/api/v1/events",
       .role = Role::kViewer,
       .summary = "live updates as Server-Sent Events: `operation` (steps and ends) and `health` "
                  "(environment and component transitions); `resync` when events were dropped",
       .responses = ForViewers({{200, "the event stream (text/event-stream)"},
                                {503, "too many event streams open, or shutting down"}}),
       .handler = [&bus = deps.events,
                   heartbeat = deps.heartbeat](const ApiRequest& req) -> Result<Reply> {
         std::shared_ptr<console::EventBus::Subscription> sub = bus.Subscribe();
         if (sub == nullptr) {
           return core::MakeError(core::ErrorCode::kUnavailable,
                                  "too many event streams open (or shutting down); retry later");
         }
         return Reply::Stream(
             "text/event-stream",
             [sub, heartbeat, scope = req.scope](const StreamWrite& write, const StreamGone& gone) {
               // `retry` tells EventSource how long to wait before reconnecting.
               if (!write("retry: 3000\n: connected\n\n")) {
                 return;
               }
               // Woken at least once a second, so that a client that left frees its stream (one
               // of the bounded few) at once, not at the next heartbeat.
               const auto slice = std::min(heartbeat, std::chrono::milliseconds(1000));
               auto last_write = std::chrono::steady_clock::now();
               while (true) {
                 const console::EventBus::Batch batch = sub->Wait(slice);
                 if (batch.closed) {
                   return;
                 }
                 std::string out;
                 if (batch.overflowed) {
                   out += "event: resync\ndata: {}\n\n";
                 }
                 for (const auto& event : batch.events) {
                   // Events of stacks outside the token's scope are not sent: they do not exist.
                   if (scope.Allows(event.stack)) {
                     out += SseEvent(event);
                   }
                 }
                 if (out.empty()) {
                   if (gone()) {
                     return;
                   }
                   if (std::chrono::steady_clock::now() - last_write < heartbeat) {
                     continue;
                   }
                   out = ": heartbeat\n\n";
                 }
                 if (!write(out)) {
                   return;  // the client is gone
                 }
                 last_write = std::chrono::steady_clock::now();
               }
             });
       }});
}

}  // namespace obsforge::server
