#include "apply/reload_http.h"

#include <algorithm>

#include "apply/prometheus_driver.h"

namespace obsforge::apply {

std::string JoinUrl(const std::string& base, std::string_view path) {
  std::string out = base;
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  if (path.empty() || path.front() != '/') {
    out += '/';
  }
  out += path;
  return out;
}

core::Result<http::Response> Call(http::HttpClient& client,
                                  const std::string& method,
                                  const std::string& url,
                                  std::chrono::milliseconds timeout) {
  http::Request request;
  request.method = method;
  request.url = url;
  request.timeout = timeout;
  request.connect_timeout = std::min(request.connect_timeout, timeout);
  return client.Send(request);
}

core::Result<void> PostReload(http::HttpClient& client,
                              const std::string& base_url,
                              std::chrono::milliseconds timeout) {
  const auto url = JoinUrl(base_url, "/-/reload");
  auto response = Call(client, "POST", url, timeout);
  if (!response) {
    return response.error();
  }
  if (response->status == 200) {
    return {};
  }
  auto message = TrimRight(response->body);
  if (message.empty()) {
    message = "POST " + url + " returned HTTP " + std::to_string(response->status);
  }
  return core::Error{.code = core::ErrorCode::kUpstream,
                     .message = std::move(message),
                     .upstream_status = response->status,
                     .upstream_body = response->body};
}

}  // namespace obsforge::apply
