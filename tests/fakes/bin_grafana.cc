// fake-grafana: stands in for `grafana server --homepath X --config <ini>` (or `grafana-server
// --homepath X --config <ini>`); serves FakeGrafana on [server] http_port with the admin user of
// [security] (GF_* environment variables override, as in Grafana).

#include <cstdlib>
#include <iostream>

#include "core/fs.h"
#include "fakes/fake_grafana.h"
#include "fakes/fake_main.h"

namespace {

std::string Setting(const std::string& ini,
                    const std::string& section,
                    const std::string& key,
                    const std::string& fallback) {
  std::string env = "GF_" + section + "_" + key;
  for (auto& c : env) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (const char* value = std::getenv(env.c_str()); value != nullptr) {
    return value;
  }
  auto value = obsforge::fakes::IniValue(ini, section, key);
  return value ? obsforge::fakes::ExpandGrafanaValue(*value) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace obsforge::fakes;
  BlockStopSignals();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "server") {
    args.erase(args.begin());
  }
  const auto config_file = FlagValue(args, "config");
  if (!config_file) {
    std::cerr << "fake-grafana: --config is required\n";
    return 1;
  }
  try {
    const std::string ini = obsforge::core::ReadFile(*config_file);
    GrafanaOptions options;
    options.port =
        static_cast<std::uint16_t>(std::stoi(Setting(ini, "server", "http_port", "3000")));
    options.user = Setting(ini, "security", "admin_user", "admin");
    options.password = Setting(ini, "security", "admin_password", "admin");
    if (const char* token = std::getenv("OBS_FAKE_GRAFANA_TOKEN"); token != nullptr) {
      options.token = token;
    }
    FakeGrafana grafana(options);
    std::cerr << "logger=server msg=\"fake grafana listening\" port=" << grafana.port()
              << std::endl;
    WaitForStopSignal();
  } catch (const std::exception& e) {
    std::cerr << "fake-grafana: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
