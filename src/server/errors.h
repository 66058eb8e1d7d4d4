#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "core/error.h"

namespace obsforge::server {

/// THE mapping from a runtime error code to an HTTP status (400 invalid_spec, 422 render,
/// 404, 409, 412, 502 upstream, 504 timeout, 503 unavailable, 500 internal).
int ErrorToStatus(core::ErrorCode code);

/// The error envelope: {"error": {"code", "message", "details"}}.
nlohmann::json ErrorBody(const std::string& code,
                         const std::string& message,
                         nlohmann::json details = nlohmann::json::array());

/// Envelope of a runtime error (code = core::ErrorCodeName).
nlohmann::json ErrorBody(const core::Error& error);

/// Envelope of bad input: details = [{file, path, line, column, message}] for every finding;
/// code "invalid_spec" or "render_error"; message = the first finding's text and a count.
nlohmann::json ErrorBody(const core::InputError& error);

/// Status of bad input: 400 for invalid specs, 422 for render errors.
int InputErrorStatus(const core::InputError& error);

/// The error for a stack outside the caller's token scope: the very 404 and message of a stack
/// that does not exist (the store's "stack NAME not found"), so that names do not leak.
core::Error StackNotFound(const std::string& stack);

}  // namespace obsforge::server
