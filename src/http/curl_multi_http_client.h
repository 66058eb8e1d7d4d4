#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "http/address_filter.h"
#include "http/multi_http_client.h"

namespace obsforge::http {

/// Options of a CurlMultiHttpClient (an aggregate: build it with designated initializers).
struct CurlMultiOptions {
  /// Used when a Request's connect_timeout is zero.
  std::chrono::milliseconds connect_timeout{3000};
  /// Used when a Request's (total) timeout is zero.
  std::chrono::milliseconds timeout{15000};
  /// Open connections per host:port (CURLMOPT_MAX_HOST_CONNECTIONS); requests beyond it queue
  /// inside curl and reuse the kept-alive connections.
  int max_host_connections = 8;
  /// Size of the connection cache (kept-alive connections across all hosts).
  int max_cached_connections = 1024;
  /// Responses larger than this fail with kUpstream "<METHOD> <url>: response larger than N
  /// bytes".
  std::size_t max_body_bytes = 8U << 20U;
  /// Sent as User-Agent unless the request sets its own.
  std::string user_agent = "obsforge-health";
  /// The addresses connections may be opened to (checked after DNS, on each address tried);
  /// null: any. A refused address fails the request with kInvalidSpec naming it.
  std::shared_ptr<const AddressFilter> filter;
};

/// MultiHttpClient over libcurl's multi interface: every request in flight shares one multi
/// handle, connections are kept alive and reused across requests, easy handles are recycled.
/// Requests are shaped exactly as CurlHttpClient shapes them (same headers, methods, timeouts,
/// no redirects, http and https only), except that no Accept-Encoding is sent (probes read
/// small bodies; decompressing them costs more than it saves on loopback). Response headers
/// are those of the final response, as CurlHttpClient reports them.
///
/// Errors as CurlHttpClient's (kTimeout, kUnavailable, kInternal, kInvalidSpec), plus kUpstream for
/// a body over max_body_bytes; a header that could inject another header fails at once (kInternal,
/// delivered by the next Poll()). Requires a live CurlGlobal. The constructor throws
/// std::runtime_error when curl cannot create its multi handle; otherwise never throws except
/// std::bad_alloc.
class CurlMultiHttpClient final : public MultiHttpClient {
 public:
  explicit CurlMultiHttpClient(CurlMultiOptions options = {});
  /// Abandons the requests in flight (their completions are not called).
  ~CurlMultiHttpClient() override;
  CurlMultiHttpClient(const CurlMultiHttpClient&) = delete;
  CurlMultiHttpClient& operator=(const CurlMultiHttpClient&) = delete;
  CurlMultiHttpClient(CurlMultiHttpClient&&) = delete;
  CurlMultiHttpClient& operator=(CurlMultiHttpClient&&) = delete;

  void Start(Request request, Completion done) override;
  void Poll(std::chrono::milliseconds max_wait) override;
  void Wakeup() override;
  std::size_t InFlight() const override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obsforge::http
