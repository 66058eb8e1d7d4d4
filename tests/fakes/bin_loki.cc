// fake-loki: stands in for `loki -config.file=<path>`; serves FakeLoki on server.http_listen_port
// with the ruler store its config names. OBS_FAKE_LOKI_VERSION sets the version it reports.

#include <iostream>

#include <yaml-cpp/yaml.h>

#include "fakes/fake_loki.h"
#include "fakes/fake_main.h"

int main(int argc, char** argv) {
  using namespace obsforge::fakes;
  BlockStopSignals();
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto config_file = FlagValue(args, "config.file");
  if (!config_file) {
    std::cerr << "fake-loki: -config.file is required\n";
    return 1;
  }
  try {
    const YAML::Node config = YAML::LoadFile(*config_file);
    if (HasFlag(args, "verify-config")) {
      std::cerr << "level=info msg=\"config is valid\"\n";
      return 0;
    }
    LokiOptions options;
    options.port =
        static_cast<std::uint16_t>(YamlAt(config, {"server", "http_listen_port"}).as<int>(3100));
    options.auth_enabled = config["auth_enabled"].as<bool>(true);
    // ruler.storage.type: local, or common.storage.filesystem.rules_directory (which selects
    // the local store), makes the ruler API read-only, as in Loki.
    const YAML::Node storage = YamlAt(config, {"ruler", "storage"});
    const YAML::Node common_rules =
        YamlAt(config, {"common", "storage", "filesystem", "rules_directory"});
    if (storage && storage["type"].as<std::string>("") == "local") {
      options.ruler_store = RulerStore::kLocal;
      options.rules_directory = YamlAt(storage, {"local", "directory"}).as<std::string>("");
    } else if (!storage && common_rules) {
      options.ruler_store = RulerStore::kLocal;
      options.rules_directory = common_rules.as<std::string>();
    }
    options.version = EnvOr("OBS_FAKE_LOKI_VERSION", options.version);
    options.startup = std::chrono::milliseconds(StartupMillis());
    FakeLoki loki(options);
    std::cerr << "level=info msg=\"fake loki listening\" port=" << loki.port() << std::endl;
    WaitForStopSignal();
    std::cerr << "level=info msg=\"fake loki stopping\"" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "fake-loki: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
