#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/ThreadPool.h>

#include "http/http_client.h"

namespace obsforge::http::testing {

/// A loopback HTTP/1.1 server (127.0.0.1, port 0, keep-alive on) whose every request is answered
/// by one scripted handler, for testing CurlHttpClient. Stops (aborting open connections) and
/// joins its threads on destruction, so handlers must not block for long.
class TestServer {
 public:
  using Handler =
      std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

  explicit TestServer(Handler handler);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  TestServer(TestServer&&) = delete;
  TestServer& operator=(TestServer&&) = delete;

  /// "http://127.0.0.1:<port><path>".
  std::string Url(std::string_view path) const;
  std::uint16_t port() const { return port_; }
  /// TCP connections accepted so far (keep-alive reuse keeps this at 1).
  int TotalConnections() const;

 private:
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::uint16_t port_ = 0;
};

/// Sends `status`, `headers` and `body` (with Content-Length) as the response.
void Reply(Poco::Net::HTTPServerResponse& response,
           int status,
           const std::string& body = "",
           const Headers& headers = {});

/// Reads the whole request body.
std::string ReadBody(Poco::Net::HTTPServerRequest& request);

/// Counts the requests handlers serve at once, for tests of concurrency bounds. Thread-safe.
class Concurrency {
 public:
  /// Counts a request in; stays until a second one is in too (or 1 s passed: only requests sent
  /// together can meet, so the peak reaches a bound however slowly the sender starts them),
  /// then `linger` more; counts it out.
  void Meet(std::chrono::milliseconds linger = std::chrono::milliseconds(0));
  /// The most requests that were in at once.
  int peak() const { return peak_.load(); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> peak_{0};
};

/// A handler that answers 201 "<METHOD> <URI> <body>" (text/plain, X-Reply: yes) and echoes
/// what the client sent as X-Seen-Test (X-Test), X-Seen-Agent (User-Agent), X-Seen-Type
/// (Content-Type), X-Seen-Expect (Expect) and X-Seen-Encoding (Accept-Encoding); "<none>" for
/// an absent Content-Type, Expect or Accept-Encoding.
void EchoRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

}  // namespace obsforge::http::testing
