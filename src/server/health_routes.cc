#include "server/health_routes.h"

#include <ctime>
#include <regex>

#include "control/health_store_adapters.h"
#include "control/health_watcher.h"
#include "core/diagnostic.h"

namespace obsforge::server {
namespace {

using core::Result;
using nlohmann::json;

constexpr int kStatusPageOperations = 5;
constexpr int kMaxHistory = 1000;

std::map<int, std::string> ViewerResponses(std::map<int, std::string> responses) {
  responses.emplace(401, "no or bad token");
  responses.emplace(403, "token lacks the role");
  return responses;
}

std::string Ms(std::int64_t ms) {
  return ms == 0 ? ""
                 : core::FormatTime(
                       std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

[[noreturn]] void BadQuery(const std::string& param, const std::string& message) {
  throw core::InputError(core::InputError::Kind::kInvalidSpec,
                         core::Diagnostic{.file = "query", .path = param, .message = message});
}

// The stack's stored spec, and a 404 unless `env` is one of its environments.
Result<spec::StackSpec> StackWithEnv(store::Store& store,
                                     const std::string& name,
                                     const std::string& env) {
  auto stored = store.GetStack(name);
  if (!stored.ok()) {
    return stored.error();
  }
  auto stack = StoredSpec(stored->name, stored->spec_json);
  if (!stack.ok()) {
    return stack.error();
  }
  if (std::find(stack->environments.begin(), stack->environments.end(), env) ==
      stack->environments.end()) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "stack " + name + " has no environment " + env);
  }
  return stack;
}

// Runtime names a component "otel_collector"; health calls it "otelcol".
std::string HealthName(const std::string& component) {
  return component == "otel_collector" ? "otelcol" : component;
}

StatusEnvironment CollectEnvironment(const HealthRouteDeps& deps,
                                     const std::string& stack,
                                     const std::string& env,
                                     const std::vector<store::EnvironmentState>& states) {
  StatusEnvironment out{.name = env};
  for (const auto& s : states) {
    if (s.env == env) {
      out.state = s.state;
      out.message = s.message;
    }
  }
  const auto health = deps.monitor.Status(stack, env);
  std::map<std::string, std::string> component_health;
  if (health) {
    out.health = health::StateName(health->state);
    out.health_since = core::FormatTime(health->since);
    for (const auto& component : health->components) {
      component_health[component.name] = health::StateName(component.state);
      for (const auto& check : component.checks) {
        if (check.state == health::State::kFailing) {
          out.failing.push_back(component.name + "/" + check.name + ": " + check.last_error);
        }
      }
    }
  }
  const json runtime = deps.backend.Status(stack, env);
  const json components =
      runtime.is_object() ? runtime.value("components", json::array()) : json::array();
  for (const auto& c : components) {
    if (!c.is_object()) {
      continue;
    }
    StatusComponent row{.name = c.value("name", "")};
    if (auto it = c.find("state"); it != c.end() && it->is_string()) {
      row.state = it->get<std::string>();
    }
    if (auto it = c.find("url"); it != c.end() && it->is_string()) {
      row.url = it->get<std::string>();
    }
    if (auto it = component_health.find(HealthName(row.name)); it != component_health.end()) {
      row.health = it->second;
      component_health.erase(it);
    }
    out.components.push_back(std::move(row));
  }
  // Components health watches that the runtime does not list (an external runtime).
  for (const auto& [name, state] : component_health) {
    out.components.push_back(StatusComponent{.name = name, .health = state});
  }
  return out;
}

}  // namespace

std::optional<std::int64_t> ParseTimeMs(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    if (text.size() > 15) {
      return std::nullopt;
    }
    return std::stoll(text);
  }
  static const std::regex kRfc3339(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.(\d{1,9}))?([Zz]|([+-])(\d{2}):(\d{2}))$)");
  std::smatch m;
  if (!std::regex_match(text, m, kRfc3339)) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
  if (m[8].matched) {
    std::string frac = m[8].str();
    frac.resize(3, '0');
    ms += std::stoll(frac);
  }
  if (m[10].matched) {
    const std::int64_t offset = (std::stoll(m[11]) * 60 + std::stoll(m[12])) * 60'000;
    ms += m[10] == "+" ? -offset : offset;
  }
  return ms;
}

Result<StatusPage> CollectStatusPage(const HealthRouteDeps& deps) {
  StatusPage page{.version = deps.version, .generated_at = core::FormatTime(deps.clock.Now())};
  auto stacks = deps.store.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  for (const auto& stored : *stacks) {
    StatusStack stack{.name = stored.name, .revision = stored.revision};
    auto states = deps.store.ListEnvironments(stored.name);
    if (!states.ok()) {
      return states.error();
    }
    auto spec = StoredSpec(stored.name, stored.spec_json);
    std::vector<std::string> envs;
    if (spec.ok()) {
      envs = spec->environments;
    }
    for (const auto& s : *states) {
      if (std::find(envs.begin(), envs.end(), s.env) == envs.end()) {
        envs.push_back(s.env);
      }
    }
    for (const auto& env : envs) {
      stack.environments.push_back(CollectEnvironment(deps, stored.name, env, *states));
    }
    auto ops = deps.store.ListOperations({.stack = stored.name, .limit = kStatusPageOperations});
    if (!ops.ok()) {
      return ops.error();
    }
    for (const auto& op : *ops) {
      stack.operations.push_back(StatusOperation{.id = op.id,
                                                 .kind = store::Name(op.kind),
                                                 .env = op.env,
                                                 .state = store::Name(op.state),
                                                 .created_at = Ms(op.created_at),
                                                 .error = op.error});
    }
    page.stacks.push_back(std::move(stack));
  }
  return page;
}

void RegisterHealthRoutes(Router& router, const HealthRouteDeps& deps) {
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/environments/{env}/health",
              .role = Role::kViewer,
              .summary = "current health: per component, per check, since when, last error",
              .responses = ViewerResponses(
                  {{200, "the health of the environment"}, {404, "no such stack or environment"}}),
              .handler = [deps](const ApiRequest& req) -> Result<Reply> {
                const std::string name = req.Param("name");
                const std::string env = req.Param("env");
                if (auto stack = StackWithEnv(deps.store, name, env); !stack.ok()) {
                  return stack.error();
                }
                const auto status = deps.monitor.Status(name, env);
                json body;
                if (status) {
                  body = health::ToJson(*status);
                  body["watched"] = true;
                } else {
                  body = {{"stack", name},
                          {"env", env},
                          {"state", "unknown"},
                          {"watched", false},
                          {"components", json::array()}};
                }
                return Reply::Json(200, std::move(body));
              }});
  router.Add(
      {.method = "GET",
       .path = "/api/v1/stacks/{name}/environments/{env}/health/history",
       .role = Role::kViewer,
       .summary = "health state changes of the environment, newest first",
       .query = {{"since", "only changes at or after this time (RFC 3339 or Unix milliseconds)"},
                 {"limit", "at most this many changes (default 100, at most 1000)"}},
       .responses = ViewerResponses({{200, "the state changes"},
                                     {400, "malformed since or limit"},
                                     {404, "no such stack or environment"}}),
       .handler = [deps](const ApiRequest& req) -> Result<Reply> {
         const std::string name = req.Param("name");
         const std::string env = req.Param("env");
         store::HealthEventQuery query{.stack = name, .env = env};
         if (const auto since = req.Query("since")) {
           const auto ms = ParseTimeMs(*since);
           if (!ms) {
             BadQuery("since",
                      "must be an RFC 3339 time or Unix milliseconds, got \"" + *since + "\"");
           }
           query.since = *ms;
         }
         if (const auto limit = req.Query("limit")) {
           const auto n = ParseTimeMs(*limit);  // a plain non-negative integer
           if (!n || *n < 1 || *n > kMaxHistory ||
               limit->find_first_not_of("0123456789") != std::string::npos) {
             BadQuery("limit", "must be an integer from 1 to " + std::to_string(kMaxHistory));
           }
           query.limit = static_cast<int>(*n);
         }
         if (auto stack = StackWithEnv(deps.store, name, env); !stack.ok()) {
           return stack.error();
         }
         auto events = deps.store.ListHealthEvents(query);
         if (!events.ok()) {
           return events.error();
         }
         json list = json::array();
         for (const auto& event : *events) {
           list.push_back(HealthEventJson(event));
         }
         return Reply::Json(200, {{"stack", name}, {"env", env}, {"events", std::move(list)}});
       }});
  router.Add({.method = "GET",
              .path = "/",
              .role = Role::kViewer,
              .summary = "the status page (HTML): stacks, environments, components, health, last "
                         "operations",
              .responses = ViewerResponses({{200, "the page"}}),
              .handler = [deps](const ApiRequest&) -> Result<Reply> {
                auto page = CollectStatusPage(deps);
                if (!page.ok()) {
                  return page.error();
                }
                return Reply::Raw(200, "text/html; charset=utf-8", RenderStatusPage(*page));
              }});
}

}  // namespace obsforge::server
