#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/http_client.h"

namespace obsforge::apply {

/// `base` + `path` with exactly one '/' between them.
std::string JoinUrl(const std::string& base, std::string_view path);

/// Sends one request with `timeout` (connect timeout capped by it). Transport errors come back
/// as the client's Error.
core::Result<http::Response> Call(http::HttpClient& client,
                                  const std::string& method,
                                  const std::string& url,
                                  std::chrono::milliseconds timeout);

/// POSTs `<base>/-/reload`. 200 is success; any other status is kUpstream whose message is the
/// body verbatim with trailing whitespace trimmed (or "<url> returned HTTP <status>" when the
/// body is empty), carrying upstream_status/upstream_body.
core::Result<void> PostReload(http::HttpClient& client,
                              const std::string& base_url,
                              std::chrono::milliseconds timeout);

}  // namespace obsforge::apply
