#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// Port name -> TCP port, with the names of the templates' `env.ports`.
using PortMap = std::map<std::string, int>;

/// Every name in `env.ports` (docs/templates.md): prometheus, alertmanager,
/// alertmanager_cluster, loki, loki_grpc, tempo, tempo_grpc, otlp_grpc, otlp_http, grafana,
/// otel_collector_health, otel_collector_metrics, otel_otlp_grpc, otel_otlp_http.
const std::vector<std::string>& PortNames();

/// The port name that `runtime.<component>.port` sets: the component's own name, except
/// otel_collector whose port is its health-check port ("otel_collector_health"). "" for an unknown
/// component.
std::string_view MainPortName(std::string_view component);

/// The fixed ports an environment's runtime asks for (`runtime.<component>.port`), by port name.
PortMap FixedPorts(const spec::Runtime& runtime);

/// The ports of the environment whose working directory is `env_root`. Fixed ports win; every
/// other name gets the port persisted in `<env_root>/ports.json`, or, the first time (or when the
/// persisted one now collides with a fixed port), a free loopback port (bind 127.0.0.1:0), which is
/// then persisted so that every later start reuses it. All returned ports are distinct. Safe across
/// processes (an flock on `<env_root>/ports.json.lock`). Returns kInternal when the directory or
/// file cannot be read or written, or ports.json is not a JSON object of name -> port.
core::Result<PortMap> LoadOrAllocatePorts(const std::filesystem::path& env_root,
                                          const PortMap& fixed);

}  // namespace obsforge::apply
