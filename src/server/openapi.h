#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "server/router.h"

namespace obsforge::server {

/// The OpenAPI 3.0 document of every route of `router`: one operation per route with its
/// summary, path and query parameters, bearer security (unless open), request body media types
/// and responses (each response described with the error envelope for statuses >= 400).
nlohmann::json BuildOpenApi(const Router& router, const std::string& version);

}  // namespace obsforge::server
