#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/fault_plan.h"
#include "http/http_client.h"

namespace obsforge::fakes {

/// A request as the fakes' handlers see it: decoded path and query, the body already
/// gunzipped when it came with `Content-Encoding: gzip`.
struct FakeRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;
  std::string body;
  /// Values of the `{name}` segments of the matched route.
  std::map<std::string, std::string> params;
  /// The matched route template, e.g. "/api/dashboards/uid/{uid}".
  std::string route;

  /// The first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  /// True when the header is present.
  bool HasHeader(std::string_view name) const;
  /// The first query parameter `name`, or "".
  std::string Query(std::string_view name) const;
  /// Every value of the query parameter `name`, in order.
  std::vector<std::string> QueryAll(std::string_view name) const;
  /// True when the query parameter is present.
  bool HasQuery(std::string_view name) const;
  /// The route parameter `name`, or "".
  std::string Param(const std::string& name) const;
};

/// A response a handler returns.
struct FakeResponse {
  int status = 200;
  http::Headers headers;
  std::string body;

  /// `status` with `body` serialized, Content-Type application/json.
  static FakeResponse Json(int status, const nlohmann::json& body);
  /// `status` with `body`, Content-Type text/plain; charset=utf-8.
  static FakeResponse Text(int status, std::string body);
  /// What Go's http.Error(w, message, status) writes (Loki, Tempo): `message` and a newline,
  /// text/plain; charset=utf-8 and X-Content-Type-Options: nosniff.
  static FakeResponse GoError(int status, const std::string& message);
};

/// `status` with `body` and Content-Type "text/plain" (no charset), as the OpenTelemetry
/// collector's OTLP/HTTP receiver writes its 405 and 415 answers.
FakeResponse PlainText(int status, std::string body);

/// The non-empty segments of a URL path ("/a//b/" -> {"a", "b"}).
std::vector<std::string> SplitPath(std::string_view path);

/// True when `version` ("2.9.9", "v3.1.0", "2.2") is `major.minor` or newer; a version that
/// does not start with a number (a development build) counts as the newest.
bool VersionAtLeast(const std::string& version, int major, int minor);

/// The loopback HTTP server under every fake: a Poco::Net::HTTPServer on 127.0.0.1 (port 0 =
/// any free port) with a small router of "{name}" path templates, the FaultPlan applied before
/// routing, and a write counter keyed "METHOD /route/template" (counts every non-GET/HEAD request
/// that reached its handler). Routes and the guard are set before Start(); everything else is
/// thread-safe. Stop() (also run by the destructor) aborts open connections and joins threads.
class FakeServer {
 public:
  using Handler = std::function<FakeResponse(FakeRequest&)>;
  /// Runs after routing, before the handler; a response returned here is sent instead.
  using Guard = std::function<std::optional<FakeResponse>(const FakeRequest&)>;
  /// Sees each request the fake answered (routed or not) with its answer, on a server thread;
  /// injected faults are not shown.
  using Observer = std::function<void(const FakeRequest&, const FakeResponse&)>;

  /// Binds 127.0.0.1:`port` (0 = any free port). Throws Poco::Exception when the bind fails.
  explicit FakeServer(std::uint16_t port = 0);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;
  FakeServer(FakeServer&&) = delete;
  FakeServer& operator=(FakeServer&&) = delete;

  /// Adds a route; `pattern` segments "{name}" match one path segment. First match wins.
  void Route(std::string method, std::string pattern, Handler handler);
  /// Sets the guard (e.g. authentication).
  void SetGuard(Guard guard);
  /// Sets the answer for unrouted requests (default: 404 "404 page not found").
  void SetNotFound(Handler handler);
  /// Sets the observer (contract tests).
  void SetObserver(Observer observer);
  /// Starts serving. Call once.
  void Start();
  /// Stops serving; idempotent.
  void Stop();

  /// The bound port.
  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string url() const;
  /// The fault plan applied to every request.
  FaultPlan& faults() { return faults_; }

  /// Writes seen on "METHOD /route/template".
  int Writes(const std::string& key) const;
  /// All write counters.
  std::map<std::string, int> WriteCounts() const;
  /// Sum of all write counters.
  int TotalWrites() const;
  /// Every request that reached a handler (reads too).
  int TotalRequests() const;
  /// Sets all counters to zero.
  void ResetCounters();

  /// Dispatches one request (used by the Poco handler; public for reuse by composed fakes).
  FakeResponse Dispatch(FakeRequest& request);

 private:
  struct RouteEntry {
    std::string method;
    std::vector<std::string> segments;
    std::string pattern;
    Handler handler;
  };
  class Impl;

  std::vector<RouteEntry> routes_;
  Guard guard_;
  Handler not_found_;
  Observer observer_;
  FaultPlan faults_;
  mutable std::mutex counters_mutex_;
  std::map<std::string, int> writes_;
  int requests_ = 0;
  std::uint16_t port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obsforge::fakes
