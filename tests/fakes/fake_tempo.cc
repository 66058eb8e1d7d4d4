#include "fakes/fake_tempo.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <mutex>

#include "core/hash.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

constexpr char kTenant[] = "single-tenant";  // multitenancy_enabled defaults to false

// The API's trace id: hex of at most 128 bits, any case, left-padded (pkg/util/traceid.go).
// Returns the 32-digit lower-case id, or the 400 text Tempo answers.
std::pair<std::optional<std::string>, std::string> ParseTraceId(std::string id) {
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (std::isxdigit(static_cast<unsigned char>(id[i])) == 0) {
      return {std::nullopt, "trace IDs can only contain hex characters: invalid character '" +
                                std::string(1, id[i]) + "' at position " + std::to_string(i + 1)};
    }
    id[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(id[i])));
  }
  if (id.size() > 32) {
    return {std::nullopt, "trace IDs can't be larger than 128 bits"};
  }
  return {std::string(32 - id.size(), '0') + id, ""};
}

// A member in camelCase or snake_case (the collector's JSON decoder takes both).
const json* Member(const json& object, const char* camel, const char* snake) {
  for (const char* key : {camel, snake}) {
    if (const auto it = object.find(key); it != object.end()) {
      return &*it;
    }
  }
  return nullptr;
}

// An OTLP id in JSON: hex of exactly `bytes` bytes, or empty. Returns the raw bytes.
std::optional<std::string> OtlpId(const json* value, std::size_t bytes, std::string& error) {
  if (value == nullptr || (value->is_string() && value->get<std::string>().empty())) {
    return std::string();
  }
  if (!value->is_string()) {
    error = "ReadString: expects \" or n";
    return std::nullopt;
  }
  const auto raw = core::FromHex(value->get<std::string>());
  if (!raw) {
    error = "cannot unmarshal ID from string '" + value->get<std::string>() + "'";
    return std::nullopt;
  }
  if (raw->size() != bytes) {
    error = "invalid length for ID";
    return std::nullopt;
  }
  return raw;
}

const char* KindName(int kind) {
  static constexpr const char* kNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                           "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                           "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  return kind >= 0 && kind < 6 ? kNames[kind] : "SPAN_KIND_UNSPECIFIED";
}

std::string ServiceName(const json& resource) {
  for (const auto& attr : resource.value("attributes", json::array())) {
    if (attr.value("key", "") == "service.name") {
      return attr.value("value", json::object()).value("stringValue", "");
    }
  }
  return "";
}

// A google.rpc.Status in JSON, as the OTLP receiver answers errors.
FakeResponse RpcStatus(int http_status, int code, const std::string& message) {
  return FakeResponse::Json(http_status, json{{"code", code}, {"message", message}});
}

}  // namespace

struct FakeTempo::State {
  TempoOptions options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  mutable std::mutex mutex;
  std::optional<bool> forced_ready;
  bool ingester_failing = false;
  // trace id (32 hex) -> batches (protobuf JSON: base64 ids, kind names) holding its spans.
  std::map<std::string, std::vector<json>> traces;
  // Distributor and receiver counters for /metrics.
  double spans_received = 0;
  double bytes_received = 0;
  double accepted = 0;
  double refused = 0;
  double append_failures = 0;

  // One span as Tempo gives it back (golang/protobuf jsonpb): ids in base64, the kind by name,
  // times as strings.
  static std::optional<json> StoredSpan(const json& span,
                                        std::string& trace_hex,
                                        std::string& error) {
    if (!span.is_object()) {
      error = "ReadObject: expect { or n";
      return std::nullopt;
    }
    const auto trace = OtlpId(Member(span, "traceId", "trace_id"), 16, error);
    const auto span_id = trace ? OtlpId(Member(span, "spanId", "span_id"), 8, error) : std::nullopt;
    const auto parent =
        span_id ? OtlpId(Member(span, "parentSpanId", "parent_span_id"), 8, error) : std::nullopt;
    if (!trace || !span_id || !parent) {
      return std::nullopt;
    }
    trace_hex = core::ToHex(*trace);
    json out = span;
    for (const char* key :
         {"trace_id", "span_id", "parent_span_id", "start_time_unix_nano", "end_time_unix_nano"}) {
      out.erase(key);
    }
    out.erase("traceId");
    out.erase("spanId");
    out.erase("parentSpanId");
    if (!trace->empty()) {
      out["traceId"] = core::Base64Encode(*trace);
    }
    if (!span_id->empty()) {
      out["spanId"] = core::Base64Encode(*span_id);
    }
    if (!parent->empty()) {
      out["parentSpanId"] = core::Base64Encode(*parent);
    }
    if (const json* kind = Member(span, "kind", "kind"); kind != nullptr && kind->is_number()) {
      const int k = kind->get<int>();
      if (k == 0) {
        out.erase("kind");  // the default is left out
      } else {
        out["kind"] = KindName(k);
      }
    }
    for (const auto& [camel, snake] : {std::pair{"startTimeUnixNano", "start_time_unix_nano"},
                                       std::pair{"endTimeUnixNano", "end_time_unix_nano"}}) {
      if (const json* t = Member(span, camel, snake); t != nullptr) {
        out[camel] = t->is_string() ? t->get<std::string>() : t->dump();
      }
    }
    return out;
  }

  FakeResponse Ingest(FakeRequest& request) {
    const std::string type = request.Header("Content-Type");
    if (type == "application/x-protobuf") {
      return RpcStatus(400, 3, "this fake decodes OTLP/HTTP JSON only");
    }
    if (type != "application/json") {
      return PlainText(
          415, "415 unsupported media type, supported: [application/json, application/x-protobuf]");
    }
    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return RpcStatus(400, 3, "ReadObjectCB: expect { or n, but found something else");
    }
    std::map<std::string, std::vector<json>> parsed;
    int spans = 0;
    std::string error;
    const json* resource_spans = Member(body, "resourceSpans", "resource_spans");
    for (const auto& rs : resource_spans != nullptr && resource_spans->is_array() ? *resource_spans
                                                                                  : json::array()) {
      const json* resource = Member(rs, "resource", "resource");
      std::map<std::string, json> per_trace;  // trace id -> scopeSpans
      // Only scopeSpans is read: the legacy instrumentationLibrarySpans is ignored.
      const json* scopes = Member(rs, "scopeSpans", "scope_spans");
      for (const auto& ss : scopes != nullptr && scopes->is_array() ? *scopes : json::array()) {
        std::map<std::string, json> spans_by_trace;
        const json* list = Member(ss, "spans", "spans");
        for (const auto& span : list != nullptr && list->is_array() ? *list : json::array()) {
          std::string trace_hex;
          auto stored = StoredSpan(span, trace_hex, error);
          if (!stored) {
            return RpcStatus(400, 3, error);
          }
          spans_by_trace[trace_hex].push_back(*stored);
          ++spans;
        }
        for (auto& [id, list_of_trace] : spans_by_trace) {
          json scope_spans{{"spans", list_of_trace}};
          if (const json* scope = Member(ss, "scope", "scope"); scope != nullptr) {
            scope_spans["scope"] = *scope;
          }
          per_trace[id].push_back(std::move(scope_spans));
        }
      }
      for (auto& [id, scope_spans] : per_trace) {
        json batch{{"scopeSpans", scope_spans}};
        if (resource != nullptr) {
          batch["resource"] = *resource;
        }
        parsed[id].push_back(std::move(batch));
      }
    }
    std::lock_guard lock(mutex);
    if (ingester_failing) {
      refused += spans;
      append_failures += 1;
      return RpcStatus(500, 13,
                       "rpc error: code = Unavailable desc = at least 1 live replicas required, "
                       "could only find 0");
    }
    spans_received += spans;
    accepted += spans;
    bytes_received += static_cast<double>(request.body.size());
    for (auto& [id, entries] : parsed) {
      auto& stored = traces[id];
      stored.insert(stored.end(), entries.begin(), entries.end());
    }
    return FakeResponse::Json(200, json{{"partialSuccess", json::object()}});
  }

  FakeResponse Trace(FakeRequest& request, bool v2) {
    const auto [id, error] = ParseTraceId(request.Param("id"));
    if (!id) {
      return FakeResponse{.status = 400, .body = error};
    }
    std::lock_guard lock(mutex);
    auto it = traces.find(*id);
    if (it == traces.end()) {
      return FakeResponse::Text(404, "trace not found");
    }
    json batches = it->second;
    return FakeResponse::Json(
        200, v2 ? json{{"trace", {{"resourceSpans", batches}}}, {"metrics", json::object()}}
                : json{{"batches", batches}});
  }

  FakeResponse Search(FakeRequest& request) {
    const std::size_t limit = request.HasQuery("limit") ? std::stoul(request.Query("limit")) : 20;
    json out = json::array();
    std::lock_guard lock(mutex);
    for (const auto& [id, batches] : traces) {
      if (out.size() >= limit) {
        break;
      }
      std::string service;
      std::string name;
      unsigned long long start = ULLONG_MAX;
      unsigned long long end = 0;
      for (const auto& batch : batches) {
        for (const auto& ss : batch["scopeSpans"]) {
          for (const auto& span : ss["spans"]) {
            const auto s = std::stoull(span.value("startTimeUnixNano", "0"));
            const auto e = std::stoull(span.value("endTimeUnixNano", "0"));
            if (s < start) {
              start = s;
              service = ServiceName(batch.value("resource", json::object()));
              name = span.value("name", "");
            }
            end = std::max(end, e);
          }
        }
      }
      out.push_back({{"traceID", id},
                     {"rootServiceName", service},
                     {"rootTraceName", name},
                     {"startTimeUnixNano", std::to_string(start)},
                     {"durationMs", end > start ? (end - start) / 1000000 : 0}});
    }
    return FakeResponse::Json(
        200, json{{"traces", out}, {"metrics", {{"inspectedTraces", traces.size()}}}});
  }

  FakeResponse Metrics() const {
    std::lock_guard lock(mutex);
    std::string out =
        "# HELP tempo_build_info A metric with a constant '1' value labeled by version, "
        "revision, branch, and goversion from which tempo was built.\n"
        "# TYPE tempo_build_info gauge\n"
        "tempo_build_info{branch=\"HEAD\",goversion=\"go1.20.6\",revision=\"fake\",version=\"" +
        options.version + "\"} 1\n";
    // Counter vectors show a sample only once a label set was seen.
    auto counter = [&out](const std::string& name, const std::string& labels, double value) {
      if (value > 0) {
        out += "# TYPE " + name + " counter\n" + name + "{" + labels + "} " +
               std::to_string(static_cast<long long>(value)) + "\n";
      }
    };
    const std::string tenant = std::string("tenant=\"") + kTenant + "\"";
    const std::string receiver = "receiver=\"otlp/otlp_receiver\",transport=\"http\"";
    counter("tempo_distributor_spans_received_total", tenant, spans_received);
    counter("tempo_distributor_bytes_received_total", tenant, bytes_received);
    counter("tempo_receiver_accepted_spans", receiver, accepted);
    counter("tempo_receiver_refused_spans", receiver, refused);
    counter("tempo_distributor_ingester_append_failures_total", "ingester=\"127.0.0.1:9095\"",
            append_failures);
    return FakeResponse{.status = 200,
                        .headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
                        .body = out};
  }
};

FakeTempo::FakeTempo(TempoOptions options)
    : state_(std::make_unique<State>()),
      otlp_server_(options.otlp_http ? std::make_unique<FakeServer>(options.otlp_port) : nullptr),
      server_(std::make_unique<FakeServer>(options.port)) {
  state_->options = std::move(options);
  State& s = *state_;
  const std::string& version = s.options.version;
  server_->Route("GET", "/ready", [&s](FakeRequest&) {
    std::lock_guard lock(s.mutex);
    const bool ready =
        s.forced_ready.value_or(std::chrono::steady_clock::now() - s.started >= s.options.startup);
    return ready ? FakeResponse::GoError(200, "ready")
                 : FakeResponse::GoError(503,
                                         "Ingester not ready: waiting for 15s after being ready");
  });
  server_->Route("GET", "/api/echo",
                 [](FakeRequest&) { return FakeResponse::GoError(200, "echo"); });
  server_->Route("GET", "/status/version", [&s](FakeRequest&) {
    return FakeResponse::Text(200, "GET /status/version\ntempo, version " + s.options.version +
                                       " (branch: HEAD, revision: fake)\n  build user:       "
                                       "obsforge\n  build date:       2024-01-01T00:00:00Z\n"
                                       "  go version:       go1.20.6\n  platform:         "
                                       "linux/amd64\n\n");
  });
  server_->Route("GET", "/metrics", [&s](FakeRequest&) { return s.Metrics(); });
  if (VersionAtLeast(version, 2, 3)) {
    server_->Route("GET", "/api/status/buildinfo", [&s](FakeRequest&) {
      return FakeResponse::Json(200, json{{"version", s.options.version},
                                          {"revision", "fake"},
                                          {"branch", "HEAD"},
                                          {"buildDate", "2024-01-01T00:00:00Z"},
                                          {"buildUser", "obsforge"},
                                          {"goVersion", "go1.20.6"}});
    });
  }
  server_->Route("GET", "/api/traces/{id}", [&s](FakeRequest& r) { return s.Trace(r, false); });
  if (VersionAtLeast(version, 2, 6)) {
    server_->Route("GET", "/api/v2/traces/{id}", [&s](FakeRequest& r) { return s.Trace(r, true); });
  }
  server_->Route("GET", "/api/search", [&s](FakeRequest& r) { return s.Search(r); });
  if (otlp_server_) {
    otlp_server_->Route("POST", "/v1/traces", [&s](FakeRequest& r) { return s.Ingest(r); });
    for (const char* method : {"GET", "PUT", "DELETE", "PATCH", "HEAD"}) {
      otlp_server_->Route(method, "/v1/traces", [](FakeRequest&) {
        return PlainText(405, "405 method not allowed, supported: [POST]");
      });
    }
    otlp_server_->Start();
  }
  server_->Start();
}

FakeTempo::~FakeTempo() {
  server_->Stop();
  if (otlp_server_) {
    otlp_server_->Stop();
  }
}

std::uint16_t FakeTempo::otlp_port() const {
  return otlp_server_ ? otlp_server_->port() : 0;
}

std::string FakeTempo::otlp_url() const {
  return otlp_server_ ? otlp_server_->url() : "";
}

FaultPlan& FakeTempo::otlp_faults() {
  return otlp_server_->faults();
}

void FakeTempo::SetReady(std::optional<bool> ready) {
  std::lock_guard lock(state_->mutex);
  state_->forced_ready = ready;
}

void FakeTempo::SetIngesterFailing(bool failing) {
  std::lock_guard lock(state_->mutex);
  state_->ingester_failing = failing;
}

std::vector<std::string> FakeTempo::TraceIds() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto& entry : state_->traces) {
    out.push_back(entry.first);
  }
  return out;
}

int FakeTempo::SpanCount(const std::string& trace_id) const {
  const auto id = ParseTraceId(trace_id).first;
  std::lock_guard lock(state_->mutex);
  if (!id || !state_->traces.contains(*id)) {
    return 0;
  }
  int count = 0;
  for (const auto& batch : state_->traces.at(*id)) {
    for (const auto& ss : batch["scopeSpans"]) {
      count += static_cast<int>(ss["spans"].size());
    }
  }
  return count;
}

}  // namespace obsforge::fakes
