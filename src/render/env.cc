#include "render/env.h"

#include "core/hash.h"

namespace obsforge::render {
namespace {

using nlohmann::json;

struct PortDefault {
  const char* key;
  int port;
};

// Grafana rejects uids over 40 characters; long stack names keep a hash so uids stay unique.
std::string DatasourceUid(const std::string& stack, const std::string& component) {
  std::string uid = stack + "-" + component;
  if (uid.size() <= 40) {
    return uid;
  }
  const std::string hash = core::Sha256Hex(stack).substr(0, 8);
  const std::size_t keep = 40 - component.size() - hash.size() - 2;
  return stack.substr(0, keep) + "-" + hash + "-" + component;
}

std::string Host(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find_first_of(":/", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void AddSecretFiles(json& value, const std::string& secrets_dir) {
  if (value.is_object()) {
    if (value.size() == 1 && (value.contains("secret") || value.contains("secret_file"))) {
      const bool env = value.contains("secret");
      const auto& name = env ? value["secret"] : value["secret_file"];
      if (name.is_string()) {
        const core::SecretRef ref{
            .kind = env ? core::SecretRef::Kind::kEnv : core::SecretRef::Kind::kFile,
            .name = name.get<std::string>()};
        value["file"] = SecretFilePath(ref, secrets_dir);
        return;
      }
    }
    for (auto& [key, child] : value.items()) {
      AddSecretFiles(child, secrets_dir);
    }
  } else if (value.is_array()) {
    for (auto& child : value) {
      AddSecretFiles(child, secrets_dir);
    }
  }
}

std::string StackDir(const spec::EnvironmentSpec& spec, const RenderOptions& options) {
  return (options.data_root / "stacks" / spec.stack / spec.env).lexically_normal().generic_string();
}

}  // namespace

std::string SecretFilePath(const core::SecretRef& ref, const std::string& secrets_dir) {
  std::string name;
  if (ref.kind == core::SecretRef::Kind::kEnv) {
    for (const char c : ref.name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.';
      name += ok ? c : '_';
    }
    if (name.empty() || name[0] == '.') {
      name = "env-" + core::Sha256Hex(ref.name).substr(0, 16);
    }
  } else {
    name = "file-" + core::Sha256Hex(ref.name).substr(0, 16);
  }
  return secrets_dir + "/" + name;
}

std::string SecretsDir(const spec::EnvironmentSpec& spec, const RenderOptions& options) {
  return StackDir(spec, options) + "/secrets";
}

json PrepareStack(const json& merged, const std::string& secrets_dir) {
  json stack = merged;
  AddSecretFiles(stack, secrets_dir);
  if (!stack.is_object()) {
    stack = json::object();
  }
  auto& spec = stack["spec"];
  if (!spec.is_object()) {
    spec = json::object();
  }
  auto& components = spec["components"];
  if (!components.is_object()) {
    components = json::object();
  }
  for (const auto& name : spec::ComponentNames()) {
    auto& c = components[name];
    if (!c.is_object()) {
      c = json{{"enabled", false}};
      continue;
    }
    const auto it = c.find("enabled");
    c["enabled"] = it == c.end() || !it->is_boolean() || it->get<bool>();
  }
  return stack;
}

bool ComponentEnabled(const json& stack, const std::string& component) {
  const auto& c = stack["spec"]["components"][component];
  return c.is_object() && c.value("enabled", false);
}

json BuildEnv(const spec::EnvironmentSpec& spec, const json& stack, const RenderOptions& options) {
  const bool external = spec.runtime.type == spec::Runtime::Type::kExternal;
  auto enabled = [&](const char* c) { return ComponentEnabled(stack, c); };
  auto runtime = [&](const std::string& c) -> const spec::ComponentRuntime* {
    const auto it = spec.runtime.components.find(c);
    return it == spec.runtime.components.end() ? nullptr : &it->second;
  };

  const bool tempo = enabled("tempo");
  const PortDefault defaults[] = {
      {"prometheus", 9090},
      {"alertmanager", 9093},
      {"alertmanager_cluster", 9094},
      {"loki", 3100},
      {"loki_grpc", 9095},
      {"tempo", 3200},
      {"tempo_grpc", 9097},
      {"otlp_grpc", 4317},
      {"otlp_http", 4318},
      {"grafana", 3000},
      {"otel_collector_health", 13133},
      {"otel_collector_metrics", 8888},
      {"otel_otlp_grpc", tempo ? 4319 : 4317},
      {"otel_otlp_http", tempo ? 4320 : 4318},
  };
  json ports = json::object();
  for (const auto& d : defaults) {
    ports[d.key] = d.port;
  }
  for (const auto& name : spec::ComponentNames()) {
    const auto* rt = runtime(name);
    const std::string key = name == "otel_collector" ? "otel_collector_health" : name;
    if (rt != nullptr && rt->port) {
      ports[key] = *rt->port;
    }
  }
  for (const auto& [key, port] : options.ports) {
    ports[key] = port;
  }

  auto url_of = [&](const std::string& component, const std::string& port_key) {
    const auto* rt = runtime(component);
    if (rt != nullptr && !rt->url.empty()) {
      std::string url = rt->url;
      while (url.ends_with('/')) {
        url.pop_back();
      }
      return url;
    }
    return "http://127.0.0.1:" + std::to_string(ports[port_key].get<int>());
  };
  json urls = {
      {"prometheus", url_of("prometheus", "prometheus")},
      {"alertmanager", url_of("alertmanager", "alertmanager")},
      {"loki", url_of("loki", "loki")},
      {"tempo", url_of("tempo", "tempo")},
      {"grafana", url_of("grafana", "grafana")},
      {"otel_collector", url_of("otel_collector", "otel_collector_health")},
  };
  // Tempo's receivers have ports of their own: an external Tempo names them, a local one
  // listens on the allocated ports.
  const std::string tempo_host = Host(urls["tempo"].get<std::string>());
  auto otlp_url = [&](const std::string& port_key, std::string given) {
    while (given.ends_with('/')) {
      given.pop_back();
    }
    return !given.empty()
               ? given
               : "http://" + tempo_host + ":" + std::to_string(ports[port_key].get<int>());
  };
  const auto* tempo_rt = runtime("tempo");
  urls["otlp_http"] = otlp_url("otlp_http", tempo_rt != nullptr ? tempo_rt->otlp_http_url : "");
  urls["otlp_grpc"] = otlp_url("otlp_grpc", tempo_rt != nullptr ? tempo_rt->otlp_grpc_url : "");

  const std::string base =
      (options.data_root / "stacks" / spec.stack / spec.env).lexically_normal().generic_string();
  json config_dirs = json::object();
  json data_dirs = json::object();
  for (const auto& name : spec::ComponentNames()) {
    const auto* rt = runtime(name);
    config_dirs[name] = external && rt != nullptr && !rt->config_dir.empty()
                            ? rt->config_dir
                            : base + "/current/" + OutputFolder(name);
    data_dirs[name] = base + "/" + name + "/data";
  }

  const std::string tenant = spec::LokiTenant(spec);

  json datasources = json::object();
  const std::pair<const char*, const char*> kinds[] = {{"prometheus", "Prometheus"},
                                                       {"loki", "Loki"},
                                                       {"tempo", "Tempo"},
                                                       {"alertmanager", "Alertmanager"}};
  for (const auto& [type, name] : kinds) {
    if (enabled(type)) {
      datasources[type] = {{"uid", DatasourceUid(spec.stack, type)},
                           {"name", name},
                           {"type", type},
                           {"url", urls[type]}};
    }
  }

  return {
      {"name", spec.env},
      {"stack", spec.stack},
      {"runtime", external ? "external" : "local"},
      {"listen", external ? "0.0.0.0" : "127.0.0.1"},
      {"tenant", tenant},
      {"ports", ports},
      {"urls", urls},
      {"dirs", {{"config", config_dirs}, {"data", data_dirs}, {"secrets", base + "/secrets"}}},
      {"datasources", datasources},
  };
}

}  // namespace obsforge::render
