#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace obsforge::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request to an upstream.
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  /// Limit on establishing the connection; 0 = the client's default.
  std::chrono::milliseconds connect_timeout{3000};
  /// Limit on one whole exchange (connect, send, receive); 0 = the client's default. A
  /// RetryingHttpClient applies it to each attempt and bounds the sum with its own max_total.
  std::chrono::milliseconds timeout{15000};
};

/// An HTTP response; any status, including 4xx/5xx, is a response, not an error.
struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  /// How many times the request was sent to get this response: 1, or more when a
  /// RetryingHttpClient retried (DescribeFailure mentions it).
  int attempts = 1;

  /// The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

/// Sends HTTP requests. Implementations are thread-safe.
class HttpClient {
 public:
  HttpClient() = default;
  virtual ~HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) = delete;
  HttpClient& operator=(HttpClient&&) = delete;
  /// Sends `request`. Returns the response whatever its status; returns an Error only when no
  /// response arrived (kTimeout, or kUnavailable for connection refused/reset/DNS), with a
  /// message naming the method and URL.
  virtual core::Result<Response> Send(const Request& request) = 0;
};

}  // namespace obsforge::http
