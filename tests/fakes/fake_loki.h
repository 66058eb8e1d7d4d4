#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "fakes/fake_server.h"

namespace obsforge::fakes {

/// How a FakeLoki behaves.
struct LokiOptions {
  /// 0 = any free port.
  std::uint16_t port = 0;
  /// true: API calls need X-Scope-OrgID (else 401 "no org id"); false: the tenant is "fake".
  bool auth_enabled = true;
  /// /ready answers 503 for this long after the start.
  std::chrono::milliseconds startup{0};
  std::string version = "3.1.0";
};

/// One pushed log line.
struct LokiEntry {
  std::map<std::string, std::string> labels;
  std::int64_t timestamp_ns = 0;
  std::string line;
};

/// A Loki 3 single binary on loopback, following docs/upstream-apis.md §4: /ready with a startup
/// period, push (JSON, gzip) and query_range per tenant, instant query rejecting log queries, the
/// ruler API (YAML, also under /api/prom/rules), buildinfo; writes counted per route.
/// Thread-safe; stops in its destructor.
class FakeLoki {
 public:
  /// Starts serving. Throws Poco::Exception when the port cannot be bound.
  explicit FakeLoki(LokiOptions options = {});
  ~FakeLoki();
  FakeLoki(const FakeLoki&) = delete;
  FakeLoki& operator=(const FakeLoki&) = delete;
  FakeLoki(FakeLoki&&) = delete;
  FakeLoki& operator=(FakeLoki&&) = delete;

  std::uint16_t port() const { return server_->port(); }
  /// "http://127.0.0.1:<port>".
  std::string url() const { return server_->url(); }
  FaultPlan& faults() { return server_->faults(); }
  /// Write counters ("POST /loki/api/v1/rules/{namespace}", …).
  FakeServer& server() { return *server_; }
  int Writes(const std::string& key) const { return server_->Writes(key); }
  int TotalWrites() const { return server_->TotalWrites(); }

  /// Overrides readiness: true/false forces /ready, nullopt goes back to the startup period.
  void SetReady(std::optional<bool> ready);
  /// The lines pushed for `tenant`, in push order.
  std::vector<LokiEntry> Entries(const std::string& tenant) const;
  /// The stored rule groups of `tenant`: namespace -> group name -> group (as posted).
  std::map<std::string, std::map<std::string, YAML::Node>> RuleGroups(
      const std::string& tenant) const;
  /// Stores a rule group directly (no validation, no counters).
  void SeedRuleGroup(const std::string& tenant, const std::string& ns, const std::string& yaml);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace obsforge::fakes
