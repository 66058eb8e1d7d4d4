#include "apply/local_commands.h"

#include <algorithm>

namespace obsforge::apply {
namespace {

std::string Port(const PortMap& ports, const std::string& name) {
  auto it = ports.find(name);
  return it == ports.end() ? std::string("0") : std::to_string(it->second);
}

}  // namespace

std::string OutputFolder(std::string_view component) {
  return component == "otel_collector" ? std::string("otel-collector") : std::string(component);
}

ComponentLayout LayoutFor(const std::filesystem::path& env_root, std::string_view component) {
  const auto dir = env_root / std::string(component);
  return ComponentLayout{
      .component_dir = dir,
      .data_dir = dir / "data",
      .log_file = dir / "logs" / (std::string(component) + ".log"),
      .config_dir = env_root / "current" / OutputFolder(component),
  };
}

std::vector<std::string> ComponentArgs(std::string_view component,
                                       const ComponentLayout& layout,
                                       const PortMap& ports,
                                       const CommandInputs& inputs) {
  const std::string cfg = layout.config_dir.string();
  const std::string data = layout.data_dir.string();
  if (component == "prometheus") {
    return {"--config.file=" + cfg + "/prometheus.yml", "--storage.tsdb.path=" + data,
            "--web.listen-address=127.0.0.1:" + Port(ports, "prometheus"), "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=" + inputs.metrics_retention};
  }
  if (component == "alertmanager") {
    return {"--config.file=" + cfg + "/alertmanager.yml", "--storage.path=" + data,
            "--web.listen-address=127.0.0.1:" + Port(ports, "alertmanager"),
            // Empty disables clustering: a local environment is a single instance.
            "--cluster.listen-address="};
  }
  if (component == "loki") {
    return {"-config.file=" + cfg + "/loki.yaml"};
  }
  if (component == "tempo") {
    return {"-config.file=" + cfg + "/tempo.yaml"};
  }
  if (component == "grafana") {
    std::vector<std::string> args;
    if (inputs.binary_name != "grafana-server") {
      args.emplace_back("server");
    }
    args.insert(args.end(),
                {"--homepath", inputs.grafana_homepath, "--config", cfg + "/grafana.ini"});
    return args;
  }
  if (component == "otel_collector") {
    return {"--config=" + cfg + "/config.yaml"};
  }
  return {};
}

std::string LoopbackBaseUrl(std::string_view component, const PortMap& ports) {
  auto name = MainPortName(component);
  if (name.empty()) {
    return "";
  }
  return "http://127.0.0.1:" + Port(ports, std::string(name));
}

std::string ReadyUrl(std::string_view component, const PortMap& ports) {
  const std::string base = LoopbackBaseUrl(component, ports);
  if (component == "prometheus" || component == "alertmanager") {
    return base + "/-/ready";
  }
  if (component == "loki" || component == "tempo") {
    return base + "/ready";
  }
  if (component == "grafana") {
    return base + "/api/health";
  }
  if (component == "otel_collector") {
    return base + "/";
  }
  return "";
}

std::vector<std::string> TempoReceivers(const nlohmann::json& tempo) {
  std::vector<std::string> out;
  const auto it = tempo.is_object() ? tempo.find("receivers") : tempo.end();
  if (!tempo.is_object() || it == tempo.end() || !it->is_array()) {
    return {"otlp_grpc", "otlp_http"};
  }
  for (const auto& r : *it) {
    if (r.is_string()) {
      out.push_back(r.get<std::string>());
    }
  }
  return out;
}

std::chrono::milliseconds StopTimeout(std::string_view component,
                                      std::chrono::milliseconds fallback) {
  if (component == "tempo") {
    return std::max(fallback, std::chrono::milliseconds(35000));
  }
  return fallback;
}

}  // namespace obsforge::apply
