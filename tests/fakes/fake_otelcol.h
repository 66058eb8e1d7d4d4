#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fakes/fake_server.h"

namespace obsforge::fakes {

/// Where a FakeOtelcol listens.
struct OtelcolOptions {
  /// The health_check extension's port (0 = any free port) and path.
  std::uint16_t health_port = 0;
  std::string health_path = "/";
  /// When set, an OTLP/HTTP receiver on this port (0 = any) accepts /v1/traces, /v1/logs and
  /// /v1/metrics (answering 200 {"partialSuccess":{}}) and counts them.
  std::optional<std::uint16_t> otlp_http_port;
};

/// The parts of an OpenTelemetry Collector obsforge talks to (tests/fakes/otelcol.md lists each
/// behaviour with its upstream source): the health_check extension (200 {"status":"Server
/// available",…}, or 503 {"status":"Server not available",…} on demand; with the path "/" every
/// path and method answers) and an optional OTLP/HTTP receiver. Thread-safe; stops in its
/// destructor.
class FakeOtelcol {
 public:
  /// Starts serving. Throws Poco::Exception when a port cannot be bound.
  explicit FakeOtelcol(OtelcolOptions options = {});
  ~FakeOtelcol();
  FakeOtelcol(const FakeOtelcol&) = delete;
  FakeOtelcol& operator=(const FakeOtelcol&) = delete;
  FakeOtelcol(FakeOtelcol&&) = delete;
  FakeOtelcol& operator=(FakeOtelcol&&) = delete;

  /// The health check port and "http://127.0.0.1:<port>".
  std::uint16_t port() const { return health_->port(); }
  std::string url() const { return health_->url(); }
  /// The OTLP/HTTP receiver port, 0 when there is none.
  std::uint16_t otlp_port() const { return otlp_ ? otlp_->port() : 0; }
  FaultPlan& faults() { return health_->faults(); }
  /// false: the health check answers 503.
  void SetHealthy(bool healthy);
  /// Requests received on "/v1/traces", "/v1/logs" or "/v1/metrics".
  int Received(const std::string& path) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<FakeServer> otlp_;
  std::unique_ptr<FakeServer> health_;
};

}  // namespace obsforge::fakes
