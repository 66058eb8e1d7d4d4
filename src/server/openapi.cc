#include "server/openapi.h"

#include <algorithm>
#include <cctype>

namespace obsforge::server {
namespace {

std::string OperationId(const Route& route) {
  std::string id;
  std::string lower = route.method;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  id = lower;
  bool upper = true;
  for (char c : route.path) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return id;
}

}  // namespace

nlohmann::json BuildOpenApi(const Router& router, const std::string& version) {
  nlohmann::json paths = nlohmann::json::object();
  for (const Route& route : router.routes()) {
    nlohmann::json op;
    op["operationId"] = OperationId(route);
    op["summary"] = route.summary;
    nlohmann::json params = nlohmann::json::array();
    for (const std::string& segment : SplitPath(route.path)) {
      if (segment.size() > 2 && segment.front() == '{') {
        params.push_back({{"name", segment.substr(1, segment.size() - 2)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    for (const QueryParamDoc& q : route.query) {
      params.push_back({{"name", q.name},
                        {"in", "query"},
                        {"required", false},
                        {"description", q.description},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) {
      op["parameters"] = params;
    }
    if (route.role == Role::kNone) {
      op["security"] = nlohmann::json::array();
    } else {
      op["x-obsforge-role"] = RoleName(route.role);
    }
    if (route.body == BodyKind::kSpec) {
      op["requestBody"] = {{"required", true},
                           {"content",
                            {{"application/yaml", {{"schema", {{"type", "string"}}}}},
                             {"application/json", {{"schema", {{"type", "object"}}}}}}}};
    } else if (route.body == BodyKind::kJson) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    } else if (route.body == BodyKind::kRaw) {
      op["requestBody"] = {
          {"required", true},
          {"content", {{"application/octet-stream", {{"schema", {{"type", "string"}}}}}}}};
    }
    nlohmann::json responses = nlohmann::json::object();
    for (const auto& [status, description] : route.responses) {
      nlohmann::json response = {{"description", description}};
      if (status >= 400) {
        response["content"] = {
            {"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}};
      }
      responses[std::to_string(status)] = response;
    }
    op["responses"] = responses;
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    paths[route.path][method] = op;
  }
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "obsforge"},
        {"version", version},
        {"description", "Render, apply and health-check observability stacks."}}},
      {"paths", paths},
      {"security", nlohmann::json::array({{{"bearer", nlohmann::json::array()}}})},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"required", {"code", "message", "details"}},
                {"properties",
                 {{"code", {{"type", "string"}}},
                  {"message", {{"type", "string"}}},
                  {"details", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}}}}}}}}}}};
}

}  // namespace obsforge::server
