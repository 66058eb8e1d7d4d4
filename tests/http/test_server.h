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
#include "support/meeting.h"

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
  /// Counts a request in; the first stays until a second one is in too (every later one passes
  /// through), so the peak reaches 2 whatever the load; counts it out. Woken by the arrival, never
  /// by time: the 60 s limit only ends a failing test.
  void Meet();
  /// The most requests that were in at once.
  int peak() const { return peak_.load(); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> peak_{0};
  obsforge::testing::Meeting meeting_{2};
};

/// A handler that answers 201 "<METHOD> <URI> <body>" (text/plain, X-Reply: yes) and echoes
/// what the client sent as X-Seen-Test (X-Test), X-Seen-Agent (User-Agent), X-Seen-Type
/// (Content-Type), X-Seen-Expect (Expect) and X-Seen-Encoding (Accept-Encoding); "<none>" for
/// an absent Content-Type, Expect or Accept-Encoding.
void EchoRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

}  // namespace obsforge::http::testing
