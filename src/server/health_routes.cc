#include "server/health_routes.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <regex>

#include "core/clock.h"
#include "core/diagnostic.h"
#include "health/state.h"
#include "server/json_views.h"

namespace obsforge::server {
namespace {

using core::Result;
using nlohmann::json;

constexpr int kMaxHistory = 1000;

std::map<int, std::string> ViewerResponses(std::map<int, std::string> responses) {
  responses.emplace(401, "no or bad token");
  responses.emplace(403, "token lacks the role");
  return responses;
}

[[noreturn]] void BadQuery(const std::string& param, const std::string& message) {
  throw core::InputError(core::InputError::Kind::kInvalidSpec,
                         core::Diagnostic{.file = "query", .path = param, .message = message});
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

void RegisterHealthRoutes(Router& router, control::Application& app) {
  control::HealthRuntime& health = *app.health();
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/environments/{env}/health",
              .role = Role::kViewer,
              .summary = "current health: per component, per check, since when, last error "
                         "(on a replica that does not probe it: as the store last recorded it)",
              .responses = ViewerResponses(
                  {{200, "the health of the environment"}, {404, "no such stack or environment"}}),
              .handler = [&health, &app](const ApiRequest& req) -> Result<Reply> {
                const std::string name = req.Param("name");
                const std::string env = req.Param("env");
                auto status = health.Current(name, env);
                if (!status.ok()) {
                  return status.error();
                }
                json body;
                if (*status) {
                  body = health::ToJson(**status);
                  body["watched"] = true;
                } else if (auto recorded = health.Recorded(name, env); !recorded.ok()) {
                  return recorded.error();
                } else if (*recorded) {
                  // Probed by the leader, which records every change in the store.
                  body = health::ToJson(**recorded);
                  body["watched"] = false;
                  body["recorded"] = true;
                  body["leader"] = app.leadership().Leader();
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
       .handler = [&health](const ApiRequest& req) -> Result<Reply> {
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
         auto events = health.History(query);
         if (!events.ok()) {
           return events.error();
         }
         json list = json::array();
         for (const auto& event : *events) {
           list.push_back(ToJson(event));
         }
         return Reply::Json(200, {{"stack", name}, {"env", env}, {"events", std::move(list)}});
       }});
}

}  // namespace obsforge::server
