#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/stack_scope.h"
#include "core/error.h"

namespace obsforge::server {

/// The least role a route needs. kNone: open (no token), e.g. /healthz and /metrics.
enum class Role { kNone, kViewer, kEditor, kAdmin };

/// "none", "viewer", "editor", "admin".
const char* RoleName(Role role);

/// What a route accepts as its body; the adapter enforces the content type (415 otherwise).
enum class BodyKind {
  kNone,  ///< no body expected (any body is ignored)
  kSpec,  ///< a stack spec or {spec, files}: application/yaml or application/json
  kJson,  ///< a JSON object: application/json; parsed into ApiRequest::json
  kRaw,   ///< bytes taken as they are, whatever the content type (a secret's value)
};

/// One HTTP request as a handler sees it: routed, authenticated and with its body checked.
struct ApiRequest {
  std::string method;
  std::string path;   ///< without the query string
  std::string route;  ///< the matched route template, e.g. "/api/v1/stacks/{name}"
  std::map<std::string, std::string> params;   ///< path parameters by name
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string media_type;  ///< content type without parameters, lower-case ("" if none)
  nlohmann::json json;     ///< the parsed body of a BodyKind::kJson route
  std::string actor;       ///< name of the token used ("" on open routes or without tokens)
  /// The stacks the token may see and change (every stack on open routes or without tokens).
  /// Routes with a `{name}` under /api/v1/stacks/ are checked by the adapter; a handler that
  /// finds a stack name elsewhere (a body, an operation) answers StackNotFound() (errors.h).
  control::StackScope scope;
  std::string request_id;

  /// Path parameter `name` ("" when absent).
  const std::string& Param(const std::string& name) const;
  /// Header `lower_name` ("" when absent).
  const std::string& Header(const std::string& lower_name) const;
  /// Query parameter `name`, when present.
  std::optional<std::string> Query(const std::string& name) const;
};

/// Writes one piece of a streamed body and flushes it; false once the client is gone.
using StreamWrite = std::function<bool(const std::string&)>;
/// True once the client closed its side of the connection; never blocks.
using StreamGone = std::function<bool()>;
/// A body written while the connection stays open (Server-Sent Events): called once after the
/// headers are sent, on the connection's thread; returns when the stream ends.
using StreamBody = std::function<void(const StreamWrite& write, const StreamGone& gone)>;

/// What a handler answers: a JSON document, raw bytes or a stream, with a status and extra
/// headers.
struct Reply {
  int status = 200;
  nlohmann::json json;
  std::optional<std::string> raw;  ///< when set, sent as is with `content_type`
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  StreamBody stream;  ///< when set, the body: sent chunked with `content_type`, never cached

  /// A JSON reply.
  static Reply Json(int status, nlohmann::json body);
  /// A reply of raw bytes.
  static Reply Raw(int status, std::string content_type, std::string body);
  /// A streamed reply (200).
  static Reply Stream(std::string content_type, StreamBody body);
  /// Adds a header; returns *this for chaining.
  Reply& With(std::string name, std::string value);
};

/// An endpoint: runtime failures come back as core::Error (mapped by ErrorToStatus); bad input
/// throws core::InputError (400, or 422 for render errors). Everything else is the adapter's job.
using Handler = std::function<core::Result<Reply>(const ApiRequest&)>;

}  // namespace obsforge::server
