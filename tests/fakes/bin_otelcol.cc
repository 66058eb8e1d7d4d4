// fake-otelcol: stands in for `otelcol-contrib --config=<path>` (and `validate --config=<path>`);
// serves the health_check extension on extensions.health_check.endpoint and an OTLP/HTTP receiver
// on receivers.otlp.protocols.http.endpoint when configured.

#include <iostream>

#include <yaml-cpp/yaml.h>

#include "fakes/fake_main.h"
#include "fakes/fake_otelcol.h"

int main(int argc, char** argv) {
  using namespace obsforge::fakes;
  BlockStopSignals();
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool validate = !args.empty() && args.front() == "validate";
  const auto config_file = FlagValue(args, "config");
  if (!config_file) {
    std::cerr << "fake-otelcol: --config is required\n";
    return 1;
  }
  try {
    const YAML::Node config = YAML::LoadFile(*config_file);
    if (validate) {
      return 0;
    }
    OtelcolOptions options;
    const YAML::Node health = YamlAt(config, {"extensions", "health_check"});
    options.health_port = EndpointPort(health["endpoint"].as<std::string>("localhost:13133"));
    options.health_path = health["path"].as<std::string>("/");
    const YAML::Node http = YamlAt(config, {"receivers", "otlp", "protocols", "http"});
    if (http) {
      options.otlp_http_port = EndpointPort(http["endpoint"].as<std::string>("localhost:4318"));
    }
    FakeOtelcol otelcol(options);
    std::cerr << "info fake otelcol health check listening port=" << otelcol.port() << std::endl;
    WaitForStopSignal();
  } catch (const std::exception& e) {
    std::cerr << "fake-otelcol: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
