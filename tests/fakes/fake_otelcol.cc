#include "fakes/fake_otelcol.h"

#include <mutex>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>
#include <nlohmann/json.hpp>

namespace obsforge::fakes {

struct FakeOtelcol::State {
  mutable std::mutex mutex;
  bool healthy = true;
  std::map<std::string, int> received;
  Poco::Timestamp started;

  // The health_check extension's answer (internal/healthcheck/handler.go): both fields always
  // there; while not ready the zero time and an empty uptime.
  FakeResponse Health() const {
    std::lock_guard lock(mutex);
    if (!healthy) {
      return FakeResponse::Json(503, nlohmann::json{{"status", "Server not available"},
                                                    {"upSince", "0001-01-01T00:00:00Z"},
                                                    {"uptime", ""}});
    }
    const auto uptime_ms = (Poco::Timestamp() - started) / 1000;
    return FakeResponse::Json(
        200,
        nlohmann::json{{"status", "Server available"},
                       {"upSince", Poco::DateTimeFormatter::format(
                                       started, Poco::DateTimeFormat::ISO8601_FRAC_FORMAT)},
                       {"uptime", std::to_string(uptime_ms / 1000) + "." +
                                      std::to_string(1000 + uptime_ms % 1000).substr(1) + "s"}});
  }
};

FakeOtelcol::FakeOtelcol(OtelcolOptions options)
    : state_(std::make_unique<State>()),
      otlp_(options.otlp_http_port ? std::make_unique<FakeServer>(*options.otlp_http_port)
                                   : nullptr),
      health_(std::make_unique<FakeServer>(options.health_port)) {
  State& s = *state_;
  // An http.ServeMux with the one pattern `path`, any method: "/" matches every path.
  const std::string path = options.health_path;
  health_->SetNotFound([&s, path](FakeRequest& request) {
    if (path == "/" || request.path == path) {
      return s.Health();
    }
    return FakeResponse::Text(404, "404 page not found\n");
  });
  if (otlp_) {
    for (const char* signal : {"/v1/traces", "/v1/logs", "/v1/metrics"}) {
      otlp_->Route("POST", signal, [&s, signal = std::string(signal)](FakeRequest& request) {
        const std::string type = request.Header("Content-Type");
        if (type != "application/json" && type != "application/x-protobuf") {
          return PlainText(
              415,
              "415 unsupported media type, supported: [application/json, application/x-protobuf]");
        }
        std::lock_guard lock(s.mutex);
        ++s.received[signal];
        return FakeResponse::Json(200,
                                  nlohmann::json{{"partialSuccess", nlohmann::json::object()}});
      });
    }
    otlp_->Start();
  }
  health_->Start();
}

FakeOtelcol::~FakeOtelcol() {
  health_->Stop();
  if (otlp_) {
    otlp_->Stop();
  }
}

void FakeOtelcol::SetHealthy(bool healthy) {
  std::lock_guard lock(state_->mutex);
  state_->healthy = healthy;
}

int FakeOtelcol::Received(const std::string& path) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->received.find(path);
  return it == state_->received.end() ? 0 : it->second;
}

}  // namespace obsforge::fakes
