// fake-tempo: stands in for `tempo -config.file=<path>`; serves FakeTempo on
// server.http_listen_port and OTLP/HTTP on distributor.receivers.otlp.protocols.http.endpoint.

#include <iostream>

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
    if (http) {
      options.separate_otlp = true;
      options.otlp_port = EndpointPort(http["endpoint"].as<std::string>("localhost:4318"));
    }
    options.startup = std::chrono::milliseconds(StartupMillis());
    FakeTempo tempo(options);
    std::cerr << "level=info msg=\"fake tempo listening\" port=" << tempo.port()
              << " otlp_http_port=" << tempo.otlp_port() << std::endl;
    WaitForStopSignal();
  } catch (const std::exception& e) {
    std::cerr << "fake-tempo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
