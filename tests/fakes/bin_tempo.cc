// fake-tempo: stands in for `tempo -config.file=<path>`; serves FakeTempo's API on
// server.http_listen_port and OTLP/HTTP only when distributor.receivers.otlp.protocols.http is
// configured, on its endpoint (as Tempo: a Tempo with only the gRPC receiver has no HTTP one).
// OBS_FAKE_TEMPO_VERSION sets the version it reports; OBS_FAKE_STOP_DELAY_MS how long it takes to
// exit after SIGTERM (Tempo 2.2–2.4 sleep 30 s in the receiver shim first).

#include <iostream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "fakes/fake_main.h"
#include "fakes/fake_tempo.h"

int main(int argc, char** argv) {
  using namespace obsforge::fakes;
  BlockStopSignals();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto config_file = FlagValue(args, "config.file");
  if (!config_file) {
    std::cerr << "fake-tempo: -config.file is required\n";
    return 1;
  }
  try {
    const YAML::Node config = YAML::LoadFile(*config_file);
    TempoOptions options;
    options.port =
        static_cast<std::uint16_t>(YamlAt(config, {"server", "http_listen_port"}).as<int>(3200));
    const YAML::Node http =
        YamlAt(config, {"distributor", "receivers", "otlp", "protocols", "http"});
    options.otlp_http = static_cast<bool>(http);
    if (http) {
      // The receiver's default endpoint is 0.0.0.0:4318 (2.2), localhost:4318 from 2.7.
      options.otlp_port =
          http.IsMap() ? EndpointPort(http["endpoint"].as<std::string>("localhost:4318")) : 4318;
    }
    options.startup = std::chrono::milliseconds(StartupMillis());
    options.version = EnvOr("OBS_FAKE_TEMPO_VERSION", options.version);
    FakeTempo tempo(options);
    std::cerr << "level=info msg=\"fake tempo listening\" port=" << tempo.port()
              << " otlp_http_port=" << tempo.otlp_port() << std::endl;
    WaitForStopSignal();
    std::cerr << "level=info msg=\"fake tempo stopping\"" << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(StopDelayMillis()));
  } catch (const std::exception& e) {
    std::cerr << "fake-tempo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
