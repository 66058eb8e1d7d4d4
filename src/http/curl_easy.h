#pragma once

// Internal to src/http: what CurlHttpClient and CurlMultiHttpClient share to turn a Request into
// a configured curl easy handle and its answer into a Response, so both clients send the same
// bytes and read headers the same way. Includes curl; never include it outside src/http.

#include <array>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "core/error.h"
#include "http/address_filter.h"
#include "http/http_client.h"

namespace obsforge::http::detail {

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

/// How an easy handle is set up besides the request itself.
struct EasyConfig {
  std::chrono::milliseconds connect_timeout{3000};  ///< when the request's is 0
  std::chrono::milliseconds timeout{15000};         ///< when the request's is 0
  std::string user_agent;                           ///< unless the request sets one
  bool accept_encoding = true;  ///< advertise (and decode) every encoding curl supports
  std::size_t max_body_bytes = std::numeric_limits<std::size_t>::max();
  /// The addresses connections may be opened to; null: any.
  const AddressFilter* filter = nullptr;
};

/// One exchange on an easy handle: what curl writes while the transfer runs. Must stay at the
/// same address until the transfer is done (curl holds pointers into it).
struct Exchange {
  Response response;
  Slist headers;  ///< the request header list curl reads
  std::size_t max_body_bytes = std::numeric_limits<std::size_t>::max();
  bool too_big = false;
  const AddressFilter* filter = nullptr;
  std::string refused;  ///< the address the filter refused, when it refused one
  std::array<char, CURL_ERROR_SIZE> error{};
};

/// "<METHOD> <RedactUrl(url)>: ".
std::string Prefix(const Request& request);

/// The error for a header that could smuggle another header or request (an empty name, or a
/// CR, LF, ':' or blank in the name, or a CR or LF in the value); nullopt when all are fine.
std::optional<core::Error> CheckHeaders(const Request& request);

/// Adds one header line as curl delivers it to `headers`: a status line ("HTTP/...") clears
/// what came before (an interim 1xx response's), a line starting with a blank continues the
/// previous value (obsolete folding), "Name: value" is appended trimmed, anything else ignored.
void AddHeaderLine(Headers& headers, std::string_view line);

/// Configures `curl` (fresh or curl_easy_reset) for `request`, writing into `exchange`:
/// URL (http and https only), method and body, headers (no "Expect: 100-continue", no
/// Content-Type unless the request sets one), timeouts, user agent, no redirects, no signals,
/// and the address filter, checked on every address a connection is opened to.
void Configure(CURL* curl, const Request& request, const EasyConfig& config, Exchange& exchange);

/// The answer of a finished transfer: the response (status read from `easy`) when `code` is
/// CURLE_OK; otherwise the error, "<prefix>response larger than N bytes" (kUpstream) when the
/// body limit was hit, "<prefix>the server may not connect to ADDRESS ..." (kInvalidSpec) when
/// the address filter refused the address, else curl's text with ErrorCodeFor(code).
core::Result<Response> Finish(CURL* easy,
                              CURLcode code,
                              const Request& request,
                              Exchange& exchange);

/// kTimeout for timeouts, kInternal for a malformed URL or unsupported scheme or option,
/// kUnavailable for everything else (refused, reset, DNS, TLS, truncated).
core::ErrorCode ErrorCodeFor(CURLcode code);

}  // namespace obsforge::http::detail
