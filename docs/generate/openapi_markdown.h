#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace obsforge::docs {

/// docs/api.md from the OpenAPI document obsforge serves (GET /api/v1/openapi.json): an
/// introduction (authentication and roles from `x-obsforge-role` and `security`, the error
/// envelope from `components.schemas.Error`), a table of every route, then one section per route
/// with its summary, role, parameters, request body media types and responses. Paths are sorted,
/// methods in the order GET, POST, PUT, PATCH, DELETE. `info.version` is left out so the text does
/// not change with every build. Deterministic; throws nlohmann::json::exception when `openapi` is
/// not shaped like an OpenAPI 3 document.
std::string OpenApiMarkdown(const nlohmann::json& openapi);

}  // namespace obsforge::docs
