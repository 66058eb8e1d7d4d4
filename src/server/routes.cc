#include "server/routes.h"

#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "core/diagnostic.h"
#include "server/errors.h"
#include "server/json_views.h"
#include "server/openapi.h"
#include "server/tar.h"

namespace obsforge::server {
namespace {

using core::ErrorCode;
using core::MakeError;
using core::Result;

// Statuses every authenticated route can answer besides its own.
std::map<int, std::string> WithAuth(std::map<int, std::string> responses) {
  responses.emplace(401, "no or bad token");
  responses.emplace(403, "token lacks the role");
  return responses;
}

std::map<int, std::string> WithSpecBody(std::map<int, std::string> responses) {
  responses.emplace(400, "invalid spec: every error with path, line and column");
  responses.emplace(413, "body too large");
  responses.emplace(415, "unsupported content type");
  return WithAuth(std::move(responses));
}

// Every JSON endpoint ends here: the application's error as is, or its typed result as JSON
// with `status` (and a Location header when `location` is set).
template <class T>
Result<Reply> JsonReply(int status, const Result<T>& result, const std::string& location = "") {
  if (!result.ok()) {
    return result.error();
  }
  Reply reply = Reply::Json(status, ToJson(*result));
  if (!location.empty()) {
    reply.With("Location", location);
  }
  return reply;
}

// GET /api/v1/stacks/{name} is the hottest route. The application hands out one immutable
// StackDetail per change, so its JSON is written once per change, not once per request.
class StackJsonCache {
 public:
  std::string Json(const std::shared_ptr<const control::StackDetail>& detail) {
    const std::string& name = detail->stack.name;
    {
      std::lock_guard lock(mu_);
      if (auto it = entries_.find(name); it != entries_.end() && it->second.detail == detail) {
        return it->second.json;
      }
    }
    std::string json = StackJson(*detail);
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries && !entries_.contains(name)) {
      entries_.clear();  // names of deleted stacks must not pile up
    }
    entries_[name] = Entry{.detail = detail, .json = json};
    return json;
  }
  void Forget(const std::string& name) {
    std::lock_guard lock(mu_);
    entries_.erase(name);
  }

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  struct Entry {
    std::shared_ptr<const control::StackDetail> detail;
    std::string json;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

std::optional<std::vector<std::string>> SplitList(const std::optional<std::string>& value) {
  if (!value) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::stringstream in(*value);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// If-Match: "3", W/"3", 3 or *. nullopt: no precondition.
Result<std::optional<std::int64_t>> ParseIfMatch(const std::string& header) {
  std::string v = header;
  if (v.empty() || v == "*") {
    return std::optional<std::int64_t>();
  }
  if (v.rfind("W/", 0) == 0) {
    v = v.substr(2);
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  try {
    std::size_t used = 0;
    const std::int64_t n = std::stoll(v, &used);
    if (used == v.size()) {
      return std::optional<std::int64_t>(n);
    }
  } catch (const std::exception&) {
  }
  return MakeError(ErrorCode::kPrecondition, "If-Match " + header + " is not a revision");
}

std::string Location(const std::string& name) {
  return "/api/v1/stacks/" + name;
}

Reply BundleReply(const ApiRequest& req,
                  const render::Bundle& bundle,
                  const nlohmann::json& extra) {
  if (req.Header("accept").find("application/x-tar") != std::string::npos) {
    return Reply::Raw(200, "application/x-tar", WriteUstar(bundle.files()));
  }
  nlohmann::json body = BundleJson(bundle);
  body.update(extra);
  return Reply::Json(200, body);
}

}  // namespace

void RegisterRoutes(Router& router, const RouteDeps& deps) {
  control::Application& app = deps.app;
  control::StackService& service = app.stacks();

  router.Add({.method = "GET",
              .path = "/healthz",
              .role = Role::kNone,
              .summary = "obsforge's own liveness",
              .responses = {{200, "alive"}},
              .handler = [](const ApiRequest&) -> Result<Reply> {
                return Reply::Json(200, {{"status", "ok"}});
              }});
  router.Add({.method = "GET",
              .path = "/readyz",
              .role = Role::kNone,
              .summary = "obsforge's own readiness: the store answers and no shutdown began",
              .responses = {{200, "ready"}, {503, "not ready"}},
              .handler = [&app, draining = deps.draining](const ApiRequest&) -> Result<Reply> {
                if (draining && draining()) {
                  return MakeError(ErrorCode::kUnavailable, "shutting down");
                }
                if (auto ready = app.Ready(); !ready.ok()) {
                  return ready.error();
                }
                // Which replica runs the loops that must run once ("" while none is known).
                const store::Leadership& leadership = app.leadership();
                return Reply::Json(200, {{"status", "ready"},
                                         {"replica", app.replica_id()},
                                         {"leader", leadership.Leader()},
                                         {"leading", leadership.IsLeader()}});
              }});
  router.Add({.method = "GET",
              .path = "/metrics",
              .role = Role::kNone,
              .summary = "Prometheus text exposition of obsforge itself",
              .responses = {{200, "metrics in the text format 0.0.4"}},
              .handler = [&metrics = deps.metrics](const ApiRequest&) -> Result<Reply> {
                return Reply::Raw(200, "text/plain; version=0.0.4; charset=utf-8",
                                  metrics.Render());
              }});
  // Built on first use, once every route is registered.
  auto openapi = std::make_shared<std::pair<std::once_flag, std::string>>();
  router.Add(
      {.method = "GET",
       .path = "/api/v1/openapi.json",
       .role = Role::kNone,
       .summary = "OpenAPI 3 document of this API",
       .responses = {{200, "the document"}},
       .handler = [&router, openapi, version = deps.version](const ApiRequest&) -> Result<Reply> {
         std::call_once(openapi->first,
                        [&] { openapi->second = BuildOpenApi(router, version).dump(); });
         return Reply::Raw(200, "application/json", openapi->second);
       }});

  router.Add({.method = "POST",
              .path = "/api/v1/stacks",
              .role = Role::kEditor,
              .body = BodyKind::kSpec,
              .summary = "create a stack from a spec and bring up its environments",
              .query = {{"environments", "comma-separated environments to bring up (default all)"}},
              .responses = WithSpecBody(
                  {{202, "created; one operation per environment"}, {409, "the stack exists"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                const control::SpecInput input = service.ParseSpec(req.body, "body");
                if (!req.scope.Allows(input.stack.name)) {
                  return StackNotFound(input.stack.name);
                }
                return JsonReply(
                    202, service.Create(input, SplitList(req.Query("environments")), req.actor),
                    Location(input.stack.name));
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks",
              .role = Role::kViewer,
              .summary = "list stacks",
              .responses = WithAuth({{200, "the stacks"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                auto list = service.List();
                if (list.ok()) {
                  std::erase_if(list->stacks, [&req](const store::Stack& stack) {
                    return !req.scope.Allows(stack.name);
                  });
                }
                return JsonReply(200, list);
              }});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}",
              .role = Role::kViewer,
              .summary = "one stack: spec (secrets as references), revision, environments",
              .responses = WithAuth({{200, "the stack; ETag = revision"}, {404, "no such stack"}}),
              .handler = [&service, cache = std::make_shared<StackJsonCache>()](
                             const ApiRequest& req) -> Result<Reply> {
                auto stack = service.Get(req.Param("name"));
                if (!stack.ok()) {
                  cache->Forget(req.Param("name"));
                  return stack.error();
                }
                return Reply::Raw(200, "application/json", cache->Json(*stack))
                    .With("ETag", "\"" + std::to_string((*stack)->stack.revision) + "\"");
              }});
  router.Add({.method = "PUT",
              .path = "/api/v1/stacks/{name}",
              .role = Role::kEditor,
              .body = BodyKind::kSpec,
              .summary = "replace the spec (If-Match honoured) and apply it to every environment",
              .responses = WithSpecBody({{202, "updated; one operation per environment"},
                                         {404, "no such stack"},
                                         {409, "the stack is being deleted"},
                                         {412, "If-Match is not the current revision"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                auto if_match = ParseIfMatch(req.Header("if-match"));
                if (!if_match.ok()) {
                  return if_match.error();
                }
                const control::SpecInput input = service.ParseSpec(req.body, "body");
                return JsonReply(202,
                                 service.Update(req.Param("name"), input, *if_match, req.actor),
                                 Location(req.Param("name")));
              }});
  router.Add({.method = "DELETE",
              .path = "/api/v1/stacks/{name}",
              .role = Role::kAdmin,
              .summary = "tear the stack down and remove it",
              .responses = WithAuth({{202, "teardown queued"},
                                     {404, "no such stack"},
                                     {409, "the stack is already being deleted"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                return JsonReply(202, service.Delete(req.Param("name"), req.actor));
              }});
  router.Add(
      {.method = "POST",
       .path = "/api/v1/stacks/{name}/environments/{env}/plan",
       .role = Role::kEditor,
       .summary = "the diff an apply would make; changes nothing",
       .query = {{"full", "true: every line of each file's diff (default: cut after 1000 lines)"}},
       .responses = WithAuth(
           {{200, "the plan"}, {404, "no such stack or environment"}, {422, "render error"}}),
       .handler = [&service](const ApiRequest& req) -> Result<Reply> {
         auto plan = service.Plan(req.Param("name"), req.Param("env"));
         if (!plan.ok()) {
           return plan.error();
         }
         return Reply::Json(200, ToJson(*plan, apply::DiffLimitFromQuery(req.Query("full"))));
       }});
  router.Add({.method = "POST",
              .path = "/api/v1/stacks/{name}/environments/{env}/apply",
              .role = Role::kEditor,
              .summary = "apply the current spec to the environment",
              .responses = WithAuth({{202, "apply queued"},
                                     {404, "no such stack or environment"},
                                     {409, "the stack is being deleted"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                return JsonReply(202,
                                 service.Apply(req.Param("name"), req.Param("env"), req.actor));
              }});
  router.Add(
      {.method = "GET",
       .path = "/api/v1/stacks/{name}/environments/{env}/rendered",
       .role = Role::kViewer,
       .summary = "the rendered bundle as JSON {files: {path: {sha256, content}}} or a tar "
                  "(Accept: application/x-tar)",
       .responses = WithAuth(
           {{200, "the bundle"}, {404, "no such stack or environment"}, {422, "render error"}}),
       .handler = [&service](const ApiRequest& req) -> Result<Reply> {
         auto bundle = service.Rendered(req.Param("name"), req.Param("env"));
         if (!bundle.ok()) {
           return bundle.error();
         }
         return BundleReply(req, *bundle,
                            {{"stack", req.Param("name")}, {"env", req.Param("env")}});
       }});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/revisions",
              .role = Role::kViewer,
              .summary = "spec revisions: number, hashes, source, who, when, outcome",
              .responses = WithAuth({{200, "the revisions, newest first"}, {404, "no such stack"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                return JsonReply(200, service.Revisions(req.Param("name")));
              }});
  router.Add(
      {.method = "POST",
       .path = "/api/v1/stacks/{name}/environments/{env}/rollback",
       .role = Role::kAdmin,
       .body = BodyKind::kJson,
       .summary = "apply a former spec revision {revision: N} to the environment",
       .responses = WithAuth({{202, "rollback queued"},
                              {400, "no revision in the body"},
                              {404, "no such stack, environment or revision"},
                              {409, "the stack is being deleted"},
                              {415, "unsupported content type"}}),
       .handler = [&service](const ApiRequest& req) -> Result<Reply> {
         if (!req.json.is_object() || !req.json.contains("revision") ||
             !req.json["revision"].is_number_integer()) {
           throw core::InputError(
               core::InputError::Kind::kInvalidSpec,
               core::Diagnostic{.file = "body", .path = "revision", .message = "required integer"});
         }
         return JsonReply(202,
                          service.Rollback(req.Param("name"), req.Param("env"),
                                           req.json["revision"].get<std::int64_t>(), req.actor));
       }});
  router.Add({.method = "GET",
              .path = "/api/v1/operations/{id}",
              .role = Role::kViewer,
              .summary = "an operation with its steps and progress",
              .responses = WithAuth({{200,
                                      "the operation; state queued, running, succeeded, failed, "
                                      "rolled_back or superseded (a queued apply that a later "
                                      "change of the same environment made pointless: it never "
                                      "ran)"},
                                     {404, "no such operation"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                auto op = service.Operation(req.Param("id"));
                if (op.ok() && !req.scope.Allows(op->stack)) {
                  // As if it did not exist: an operation names its stack.
                  return MakeError(ErrorCode::kNotFound,
                                   "operation " + req.Param("id") + " not found");
                }
                return JsonReply(200, op);
              }});
  router.Add({.method = "POST",
              .path = "/api/v1/import",
              .role = Role::kEditor,
              .body = BodyKind::kJson,
              .summary = "import a hand-built stack: configuration files (and a Grafana to read) "
                         "in; {spec, files} ready for POST /api/v1/stacks, and a report, out",
              .responses = WithAuth({{200, "the spec, its files and the report"},
                                     {400, "invalid input, naming the member or file"},
                                     {413, "body too large"},
                                     {415, "unsupported content type"},
                                     {502, "Grafana refused or failed"},
                                     {503, "Grafana unreachable"},
                                     {504, "Grafana timed out"}}),
              .handler = [&app](const ApiRequest& req) -> Result<Reply> {
                const control::ImportService& importer = app.importer();
                return JsonReply(200, importer.Import(importer.ParseBody(req.json)));
              }});
  router.Add({.method = "POST",
              .path = "/api/v1/render",
              .role = Role::kEditor,
              .body = BodyKind::kSpec,
              .summary = "stateless render: spec (or {spec, files}) in, rendered bundle out",
              .query = {{"env", "environment to render (default: the first)"}},
              .responses = WithSpecBody({{200, "the bundle"}, {422, "render error"}}),
              .handler = [&service](const ApiRequest& req) -> Result<Reply> {
                const control::SpecInput input = service.ParseSpec(req.body, "body");
                const std::string env = req.Query("env").value_or(input.stack.environments.front());
                return BundleReply(req, service.Render(input, env),
                                   {{"stack", input.stack.name}, {"env", env}});
              }});
}

}  // namespace obsforge::server
