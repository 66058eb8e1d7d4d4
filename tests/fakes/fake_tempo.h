#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/fake_server.h"

namespace obsforge::fakes {

/// How a FakeTempo listens.
struct TempoOptions {
  /// HTTP API port (0 = any free port).
  std::uint16_t port = 0;
  /// true: OTLP HTTP (/v1/traces) is served on a second server at `otlp_port`; false: on the
  /// API server.
  bool separate_otlp = false;
  std::uint16_t otlp_port = 0;
  /// /ready answers 503 for this long after the start.
  std::chrono::milliseconds startup{0};
  std::string version = "2.6.0";
};

/// A Tempo 2 single binary on loopback, following docs/upstream-apis.md §5: /ready with a startup
/// period, /api/echo, OTLP/HTTP JSON ingest (/v1/traces, gzip accepted), traces by id (v1
/// {"batches"} and v2 {"trace":{"resourceSpans"}}; 404 when unknown), a minimal /api/search and
/// buildinfo. Thread-safe; stops in its destructor.
class FakeTempo {
 public:
  /// Starts serving. Throws Poco::Exception when a port cannot be bound.
  explicit FakeTempo(TempoOptions options = {});
  ~FakeTempo();
  FakeTempo(const FakeTempo&) = delete;
  FakeTempo& operator=(const FakeTempo&) = delete;
  FakeTempo(FakeTempo&&) = delete;
  FakeTempo& operator=(FakeTempo&&) = delete;

  std::uint16_t port() const { return server_->port(); }
  /// "http://127.0.0.1:<port>" of the API.
  std::string url() const { return server_->url(); }
  /// The port serving /v1/traces (the API port unless separate_otlp).
  std::uint16_t otlp_port() const;
  /// "http://127.0.0.1:<otlp_port>".
  std::string otlp_url() const;
  /// Faults of the API server (the OTLP server has its own: otlp_faults()).
  FaultPlan& faults() { return server_->faults(); }
  FaultPlan& otlp_faults();
  FakeServer& server() { return *server_; }

  /// Overrides readiness: true/false forces /ready, nullopt goes back to the startup period.
  void SetReady(std::optional<bool> ready);
  /// Lower-case 32-hex trace ids received so far, sorted.
  std::vector<std::string> TraceIds() const;
  /// The number of spans stored for `trace_id` (any case, leading zeros optional).
  int SpanCount(const std::string& trace_id) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<FakeServer> otlp_server_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace obsforge::fakes
