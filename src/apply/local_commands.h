#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "apply/ports.h"

namespace obsforge::apply {

/// Where one component of a local environment lives, under its env root
/// (`<data-dir>/stacks/<stack>/<env>/`).
struct ComponentLayout {
  std::filesystem::path component_dir;  ///< `<env-root>/<component>/`: the process's cwd
  std::filesystem::path data_dir;       ///< `<component_dir>/data`: its storage
  std::filesystem::path log_file;       ///< `<component_dir>/logs/<component>.log` (+ `.1`)
  std::filesystem::path config_dir;     ///< `<env-root>/current/<output folder>`
};

/// The bundle folder of `component`'s rendered files: its own name, except otel_collector ->
/// "otel-collector".
std::string OutputFolder(std::string_view component);

/// The layout of `component` under `env_root`. Pure.
ComponentLayout LayoutFor(const std::filesystem::path& env_root, std::string_view component);

/// Inputs of a component's command line besides its layout and ports.
struct CommandInputs {
  std::string binary_name;                ///< which candidate was found ("grafana-server")
  std::string metrics_retention = "15d";  ///< values.retention.metrics
  std::string grafana_homepath = "/usr/share/grafana";
};

/// argv[1...] that runs `component` with its config from `layout.config_dir`, its storage in
/// `layout.data_dir`, listening on 127.0.0.1 at its ports (Prometheus and Alertmanager take
/// them as flags; Loki, Tempo, Grafana and the collector from their rendered config). Pure.
/// Empty for an unknown component.
std::vector<std::string> ComponentArgs(std::string_view component,
                                       const ComponentLayout& layout,
                                       const PortMap& ports,
                                       const CommandInputs& inputs);

/// The readiness URL of `component` on loopback: Prometheus and Alertmanager `/-/ready`, Loki and
/// Tempo `/ready`, Grafana `/api/health`, the collector its health_check extension (`/` on
/// otel_collector_health). Pure. "" for an unknown component.
std::string ReadyUrl(std::string_view component, const PortMap& ports);

/// `http://127.0.0.1:<port>` of `component`'s main port (see MainPortName). "" if unknown.
std::string LoopbackBaseUrl(std::string_view component, const PortMap& ports);

/// The receivers a Tempo spec (`components.tempo`) turns on: its `receivers` list, or the
/// template's default (otlp_grpc and otlp_http) when it has none. Pure.
std::vector<std::string> TempoReceivers(const nlohmann::json& tempo);

/// How long the supervisor waits between SIGTERM and SIGKILL for `component`: `fallback`, except
/// Tempo, which gets at least 35 s because Tempo 2.2 to 2.4 sleep 30 s in their receiver shim
/// before they shut down (a shorter wait always ends in SIGKILL). Pure.
std::chrono::milliseconds StopTimeout(std::string_view component,
                                      std::chrono::milliseconds fallback);

}  // namespace obsforge::apply
