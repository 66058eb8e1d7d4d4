#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/address_filter.h"
#include "http/http_client.h"

namespace obsforge::http {

/// RAII for libcurl's process-wide state: curl_global_init in the constructor,
/// curl_global_cleanup in the destructor. Create exactly one, in main() (or in a test
/// ::testing::Environment), before any thread starts and before any CurlHttpClient exists;
/// destroy it after the last CurlHttpClient. Throws std::runtime_error if initialisation fails.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
  CurlGlobal(CurlGlobal&&) = delete;
  CurlGlobal& operator=(CurlGlobal&&) = delete;
};

/// Options of a CurlHttpClient (an aggregate: build it with designated initializers).
struct CurlOptions {
  /// Used when a Request's connect_timeout is zero.
  std::chrono::milliseconds connect_timeout{3000};
  /// Used when a Request's (total) timeout is zero.
  std::chrono::milliseconds timeout{15000};
  /// At most this many requests are in flight to one scheme://host:port at a time; further
  /// callers block until a slot frees up (or their request's timeout passes: kTimeout). >= 1.
  int max_per_host = 8;
  /// Sent as User-Agent unless the request sets its own.
  std::string user_agent = DefaultUserAgent();
  /// The addresses connections may be opened to (checked after DNS, on each address tried);
  /// null: any. A refused address fails the request with kInvalidSpec naming it.
  std::shared_ptr<const AddressFilter> filter;

  /// "obsforge/<project version>".
  static std::string DefaultUserAgent();
};

/// HttpClient over libcurl's easy interface. Thread-safe: any number of threads may call Send().
///
/// - Keep-alive: each origin (scheme://host:port) has a pool of easy handles; a handle is
///   returned to its pool after use and so keeps its open connection for the next request.
/// - Redirects are never followed: a 3xx is returned as the response (with its Location).
/// - Response headers are those of the final response (interim 1xx responses are dropped);
///   names keep the case the server sent; use Response::Header() for lookups.
/// - The body is sent as is; no Content-Type is added unless the request sets one, and
///   "Expect: 100-continue" is never sent.
/// - Only http:// and https:// URLs are allowed.
///
/// Errors (no response arrived), with message "<METHOD> <RedactUrl(url)>: <curl's text>":
///   kTimeout      the connect or total timeout passed, or no per-host slot freed in time;
///   kUnavailable  connection refused or reset, DNS failure, TLS failure, truncated response;
///   kInternal     malformed URL or unsupported scheme (a bug or bad configuration upstream);
///   kInvalidSpec  the options' address filter refused every address the host resolved to.
/// Never throws (except std::bad_alloc).
class CurlHttpClient final : public HttpClient {
 public:
  /// A CurlGlobal must exist for the client's whole lifetime.
  explicit CurlHttpClient(CurlOptions options = {});
  /// Precondition: no Send() is running.
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  CurlHttpClient(CurlHttpClient&&) = delete;
  CurlHttpClient& operator=(CurlHttpClient&&) = delete;

  core::Result<Response> Send(const Request& request) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obsforge::http
