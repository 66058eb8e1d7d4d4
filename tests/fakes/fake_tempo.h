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
  /// true: an OTLP/HTTP receiver listens on its own port `otlp_port` (0 = any free port), as
  /// `distributor.receivers.otlp.protocols.http` starts it; false: Tempo has no OTLP/HTTP
  /// endpoint at all. The API port never takes OTLP.
  bool otlp_http = true;
  std::uint16_t otlp_port = 0;
  /// /ready answers 503 for this long after the start.
  std::chrono::milliseconds startup{0};
  /// Gates what the version has: /api/status/buildinfo from 2.3, /api/v2/traces from 2.6.
  std::string version = "2.2.4";
};

/// A Tempo 2 single binary on loopback that answers as Tempo does (tests/fakes/tempo.md lists
/// each behaviour with its upstream source): /ready with a startup period, /api/echo,
/// /status/version, /metrics (build info and the distributor's ingestion counters), traces by id
/// in protobuf JSON (base64 ids), a minimal /api/search, buildinfo and the v2 trace API only from
/// the versions that have them, and OTLP/HTTP JSON ingest (/v1/traces) only on the receiver's
/// port. Thread-safe; stops in its destructor.
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
  /// The OTLP/HTTP receiver's port; 0 without one.
  std::uint16_t otlp_port() const;
  /// "http://127.0.0.1:<otlp_port>"; "" without a receiver.
  std::string otlp_url() const;
  /// Faults of the API server.
  FaultPlan& faults() { return server_->faults(); }
  /// Faults of the OTLP receiver. Requires options.otlp_http.
  FaultPlan& otlp_faults();
  FakeServer& server() { return *server_; }

  /// Overrides readiness: true/false forces /ready, nullopt goes back to the startup period.
  void SetReady(std::optional<bool> ready);
  /// true: the ingesters refuse every push (the receiver answers 500 and counts the spans as
  /// refused and the appends as failed), as when no ingester is healthy.
  void SetIngesterFailing(bool failing);
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
