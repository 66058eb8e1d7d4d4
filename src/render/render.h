#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "render/bundle.h"
#include "spec/stack.h"

namespace obsforge::render {

/// How to render: where templates come from and what depends on the machine.
struct RenderOptions {
  /// Default templates on disk; empty = the templates embedded in the binary.
  std::filesystem::path templates_dir;
  /// Root of config, data and secret directories (docs/templates.md "env").
  std::filesystem::path data_root = "/var/lib/obsforge";
  /// Port overrides by env.ports key ("prometheus", "loki_grpc", ...); the local runtime assigns
  /// them. They win over the spec's runtime ports and the defaults.
  std::map<std::string, int> ports;
  /// Extra absolute Jsonnet import roots, searched last.
  std::vector<std::filesystem::path> jsonnet_paths;
};

/// Renders one environment with ONE Jsonnet evaluation: every enabled component's
/// templates/<component>/main.jsonnet, Jsonnet dashboards and mixins; then C++ adds rule files,
/// dashboards (datasource references rewritten), Grafana rule groups, grafana/objects.json and
/// MANIFEST.json (docs/stack-spec.md "What rendering produces"), and runs the structural checks
/// of render/check.h.
/// The result depends only on the inputs: rendering twice gives identical bytes. No secret value
/// is read.
/// Throws core::InputError (kRender) on a template error (file:line:col of the template), a
/// content file that does not parse or fails its checks, or a glob that matches nothing.
Bundle RenderEnvironment(const spec::EnvironmentSpec& spec,
                         const spec::ContentSource& content,
                         const RenderOptions& options);

/// Output folder of a component ("otel_collector" -> "otel-collector").
std::string OutputFolder(const std::string& component);

}  // namespace obsforge::render
