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
  std::string up_since =
      Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FORMAT);
};

FakeOtelcol::FakeOtelcol(OtelcolOptions options)
    : state_(std::make_unique<State>()),
      otlp_(options.otlp_http_port ? std::make_unique<FakeServer>(*options.otlp_http_port)
                                   : nullptr),
      health_(std::make_unique<FakeServer>(options.health_port)) {
  State& s = *state_;
  health_->Route("GET", options.health_path, [&s](FakeRequest&) {
    std::lock_guard lock(s.mutex);
    if (!s.healthy) {
      return FakeResponse::Json(
          503, nlohmann::json{{"status", "Server not available"}, {"upSince", s.up_since}});
    }
    return FakeResponse::Json(
        200,
        nlohmann::json{{"status", "Server available"}, {"upSince", s.up_since}, {"uptime", "1s"}});
  });
  if (otlp_) {
    for (const char* path : {"/v1/traces", "/v1/logs", "/v1/metrics"}) {
      otlp_->Route("POST", path, [&s, path = std::string(path)](FakeRequest&) {
        std::lock_guard lock(s.mutex);
        ++s.received[path];
        return FakeResponse::Json(200, nlohmann::json::object());
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
