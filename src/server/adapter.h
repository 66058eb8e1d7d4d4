#pragma once

#include <cstddef>
#include <string>

#include "core/log.h"
#include "server/auth.h"
#include "server/metrics.h"
#include "server/router.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace obsforge::server {

/// Options of the ApiAdapter.
struct AdapterOptions {
  std::size_t body_limit = 16U << 20U;
  int write_timeout_ms = 30000;
};

/// The ONE place that turns an HTTP exchange into a handler call and back: request id, framing
/// (400 and close for Transfer-Encoding other than chunked, or with Content-Length), the URI
/// (400 when not UTF-8), routing (404; 405 for a method the path or the API does not serve),
/// auth (401/403), body limit (413), content type (415), body parsing (JSON bodies with the
/// spec reader's limits), exception and error mapping into the envelope, response writing with
/// its reason phrase, one JSON log line, metrics. A body left unread by an early answer is
/// drained (up to 1 MiB) so it is never read as the next request; beyond that, or when the
/// framing is unclear, the connection is closed after the answer (lingering briefly, so the
/// client reads the answer). Thread-safe; shared by all connection threads.
class ApiAdapter {
 public:
  /// All references must outlive the adapter.
  ApiAdapter(const Router& router,
             const TokenTable& tokens,
             Metrics& metrics,
             core::Logger& logger,
             AdapterOptions options);

  /// Serves one request. Never throws.
  void Handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

 private:
  const Router& router_;
  const TokenTable& tokens_;
  Metrics& metrics_;
  core::Logger& logger_;
  AdapterOptions options_;
};

/// A request id: the client's X-Request-ID when it is 1-128 characters of [A-Za-z0-9._:-],
/// else a fresh random 16-hex-digit id.
std::string RequestId(const std::string& client_value);

/// Lower-case media type of a Content-Type value without parameters ("application/json").
std::string MediaType(const std::string& content_type);

}  // namespace obsforge::server
