#include "server/errors.h"

namespace obsforge::server {

int ErrorToStatus(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::kInvalidSpec:
      return 400;
    case core::ErrorCode::kRender:
      return 422;
    case core::ErrorCode::kNotFound:
      return 404;
    case core::ErrorCode::kConflict:
      return 409;
    case core::ErrorCode::kPrecondition:
      return 412;
    case core::ErrorCode::kUpstream:
      return 502;
    case core::ErrorCode::kTimeout:
      return 504;
    case core::ErrorCode::kUnavailable:
      return 503;
    case core::ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

nlohmann::json ErrorBody(const std::string& code,
                         const std::string& message,
                         nlohmann::json details) {
  return {{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}};
}

nlohmann::json ErrorBody(const core::Error& error) {
  nlohmann::json details = nlohmann::json::array();
  if (error.upstream_status != 0) {
    details.push_back(
        {{"upstream_status", error.upstream_status}, {"upstream_body", error.upstream_body}});
  }
  return ErrorBody(core::ErrorCodeName(error.code), error.message, std::move(details));
}

nlohmann::json ErrorBody(const core::InputError& error) {
  nlohmann::json details = nlohmann::json::array();
  for (const core::Diagnostic& d : error.diagnostics()) {
    details.push_back({{"file", d.file},
                       {"path", d.path},
                       {"line", d.line},
                       {"column", d.column},
                       {"message", d.message}});
  }
  const bool render = error.kind() == core::InputError::Kind::kRender;
  std::string message = render ? "render failed" : "invalid spec";
  const auto& diags = error.diagnostics();
  if (!diags.empty()) {
    message += ": " + diags.front().ToString();
    if (diags.size() > 1) {
      message += " (and " + std::to_string(diags.size() - 1) + " more)";
    }
  }
  return ErrorBody(render ? "render_error" : "invalid_spec", message, std::move(details));
}

core::Error StackNotFound(const std::string& stack) {
  return core::MakeError(core::ErrorCode::kNotFound, "stack " + stack + " not found");
}

int InputErrorStatus(const core::InputError& error) {
  return error.kind() == core::InputError::Kind::kRender ? 422 : 400;
}

}  // namespace obsforge::server
