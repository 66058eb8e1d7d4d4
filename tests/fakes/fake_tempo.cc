#include "fakes/fake_tempo.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <map>
#include <mutex>

namespace obsforge::fakes {
namespace {

using nlohmann::json;

// Tempo ids are hex, compared case-insensitively and left-padded to 128 bits.
std::optional<std::string> NormalizeId(std::string id) {
  if (id.empty() || id.size() > 32) {
    return std::nullopt;
  }
  for (auto& c : id) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return std::nullopt;
    }
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::string(32 - id.size(), '0') + id;
}

std::string ServiceName(const json& resource) {
  for (const auto& attr : resource.value("attributes", json::array())) {
    if (attr.value("key", "") == "service.name") {
      return attr.value("value", json::object()).value("stringValue", "");
    }
  }
  return "";
}

}  // namespace

struct FakeTempo::State {
  TempoOptions options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  mutable std::mutex mutex;
  std::optional<bool> forced_ready;
  // trace id -> resourceSpans entries holding only that trace's spans.
  std::map<std::string, std::vector<json>> traces;

  FakeResponse Ingest(FakeRequest& request) {
    if (!request.Header("Content-Type").starts_with("application/json")) {
      return FakeResponse::Text(415, "this fake only accepts OTLP/HTTP JSON (application/json)");
    }
    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return FakeResponse::Text(400, "unable to parse OTLP JSON");
    }
    std::map<std::string, std::vector<json>> parsed;
    for (const auto& rs : body.value("resourceSpans", json::array())) {
      const json resource = rs.value("resource", json::object());
      std::map<std::string, json> per_trace;  // trace id -> scopeSpans
      const json scopes = rs.contains("scopeSpans")
                              ? rs["scopeSpans"]
                              : rs.value("instrumentationLibrarySpans", json::array());
      for (const auto& ss : scopes) {
        std::map<std::string, json> spans_by_trace;
        for (const auto& span : ss.value("spans", json::array())) {
          auto id = NormalizeId(span.value("traceId", ""));
          if (!id) {
            return FakeResponse::Text(400, "invalid traceId \"" + span.value("traceId", "") + "\"");
          }
          spans_by_trace[*id].push_back(span);
        }
        for (auto& [id, spans] : spans_by_trace) {
          per_trace[id].push_back({{"scope", ss.value("scope", json::object())}, {"spans", spans}});
        }
      }
      for (auto& [id, scope_spans] : per_trace) {
        parsed[id].push_back({{"resource", resource}, {"scopeSpans", scope_spans}});
      }
    }
    std::lock_guard lock(mutex);
    for (auto& [id, entries] : parsed) {
      auto& stored = traces[id];
      stored.insert(stored.end(), entries.begin(), entries.end());
    }
    return FakeResponse::Json(200, json::object());
  }

  FakeResponse Trace(FakeRequest& request, bool v2) {
    auto id = NormalizeId(request.Param("id"));
    if (!id) {
      return FakeResponse::Text(400, "invalid trace id");
    }
    std::lock_guard lock(mutex);
    auto it = traces.find(*id);
    if (it == traces.end()) {
      return FakeResponse::Text(404, "trace not found");
    }
    json batches = it->second;
    return FakeResponse::Json(
        200, v2 ? json{{"trace", {{"resourceSpans", batches}}}} : json{{"batches", batches}});
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
              service = ServiceName(batch["resource"]);
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
};

FakeTempo::FakeTempo(TempoOptions options)
    : state_(std::make_unique<State>()),
      otlp_server_(options.separate_otlp ? std::make_unique<FakeServer>(options.otlp_port)
                                         : nullptr),
      server_(std::make_unique<FakeServer>(options.port)) {
  state_->options = std::move(options);
  State& s = *state_;
  server_->Route("GET", "/ready", [&s](FakeRequest&) {
    std::lock_guard lock(s.mutex);
    const bool ready =
        s.forced_ready.value_or(std::chrono::steady_clock::now() - s.started >= s.options.startup);
    return ready ? FakeResponse::Text(200, "ready")
                 : FakeResponse::Text(503, "Ingester not ready: waiting for 15s after being ready");
  });
  server_->Route("GET", "/api/echo", [](FakeRequest&) { return FakeResponse::Text(200, "echo"); });
  server_->Route("GET", "/api/status/buildinfo", [&s](FakeRequest&) {
    return FakeResponse::Json(200, json{{"version", s.options.version},
                                        {"revision", "fake"},
                                        {"branch", "HEAD"},
                                        {"buildDate", "2024-01-01T00:00:00Z"},
                                        {"buildUser", "obsforge"},
                                        {"goVersion", "go1.22.0"}});
  });
  server_->Route("GET", "/api/traces/{id}", [&s](FakeRequest& r) { return s.Trace(r, false); });
  server_->Route("GET", "/api/v2/traces/{id}", [&s](FakeRequest& r) { return s.Trace(r, true); });
  server_->Route("GET", "/api/search", [&s](FakeRequest& r) { return s.Search(r); });
  FakeServer& otlp = otlp_server_ ? *otlp_server_ : *server_;
  otlp.Route("POST", "/v1/traces", [&s](FakeRequest& r) { return s.Ingest(r); });
  if (otlp_server_) {
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
  return otlp_server_ ? otlp_server_->port() : server_->port();
}

std::string FakeTempo::otlp_url() const {
  return "http://127.0.0.1:" + std::to_string(otlp_port());
}

FaultPlan& FakeTempo::otlp_faults() {
  return otlp_server_ ? otlp_server_->faults() : server_->faults();
}

void FakeTempo::SetReady(std::optional<bool> ready) {
  std::lock_guard lock(state_->mutex);
  state_->forced_ready = ready;
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
  auto id = NormalizeId(trace_id);
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
