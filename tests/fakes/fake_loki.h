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

/// Where the ruler keeps rule groups.
enum class RulerStore {
  /// An object store (s3, gcs, ...): the ruler API reads and writes groups.
  kObject,
  /// `ruler.storage.type: local`: files under `<rules_directory>/<tenant>/<namespace>`, which
  /// the API can list but never write (POST and DELETE answer 500).
  kLocal,
};

/// How a FakeLoki behaves.
struct LokiOptions {
  /// 0 = any free port.
  std::uint16_t port = 0;
  /// true: API calls need X-Scope-OrgID (else 401 "no org id"); false: the tenant is "fake".
  bool auth_enabled = true;
  /// /ready answers 503 for this long after the start.
  std::chrono::milliseconds startup{0};
  /// Gates what the version does: instant queries of log selectors are refused from 3.2,
  /// /otlp/v1/logs exists from 3.0.
  std::string version = "2.9.9";
  RulerStore ruler_store = RulerStore::kObject;
  /// kLocal: the directory holding `<tenant>/<namespace>` rule files.
  std::string rules_directory;
};

/// One pushed log line.
struct LokiEntry {
  std::map<std::string, std::string> labels;
  std::int64_t timestamp_ns = 0;
  std::string line;
};

/// A Loki single binary on loopback that answers as Loki does (tests/fakes/loki.md lists each
/// behaviour with its upstream source): /ready with a startup period, push (JSON, gzip) and
/// query_range per tenant, instant queries, the ruler API (YAML, also under /api/prom/rules)
/// over an object or a read-only local store, /prometheus/api/v1/rules, buildinfo and /metrics;
/// writes counted per route. Thread-safe; stops in its destructor.
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
  /// The stored rule groups of `tenant` (object store): namespace -> group name -> group, as
  /// Loki keeps it (what a GET answers).
  std::map<std::string, std::map<std::string, YAML::Node>> RuleGroups(
      const std::string& tenant) const;
  /// Stores a rule group directly (no validation, no counters).
  void SeedRuleGroup(const std::string& tenant, const std::string& ns, const std::string& yaml);
  /// Makes the rule `rule` (alert or record name) of `tenant` report health "err" with
  /// `error` in /prometheus/api/v1/rules (an empty error: "ok" again).
  void SetRuleEvaluationError(const std::string& tenant,
                              const std::string& rule,
                              const std::string& error);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace obsforge::fakes
