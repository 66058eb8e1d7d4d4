#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "render/bundle.h"

namespace obsforge::app {

/// Output of a finished external program.
struct ToolRun {
  int exit_code = -1;  ///< -1 when it could not be started or was killed
  std::string output;  ///< stdout and stderr interleaved
};

/// Runs `argv` (argv[0] looked up on PATH) to completion, capturing its output.
ToolRun RunTool(const std::vector<std::string>& argv);

/// The full path of `name` on PATH, if there.
std::optional<std::string> FindOnPath(const std::string& name);

/// Checks a rendered bundle with the upstream tools when they are on PATH: `promtool check config`
/// on prometheus/prometheus.yml, `promtool check rules` on each prometheus/rules/*.yaml and
/// `amtool check-config` on alertmanager/alertmanager.yml and on the Alertmanager templates
/// (alertmanager/templates/*.tmpl, parsed as Alertmanager loads them; findings under
/// "alertmanager/templates/*.tmpl"). LogQL rule files are never given to
/// promtool. Each finding is reported under the bundle file concerned, prefixed by `label`
/// (e.g. "stacks/tokpulse.yaml[prod]"). Returns no findings when the tools accept everything or
/// are not installed; `missing_tools` lists the tools that were not found.
std::vector<core::Diagnostic> CheckWithUpstreamTools(const render::Bundle& bundle,
                                                     const std::string& label,
                                                     std::vector<std::string>* missing_tools);

}  // namespace obsforge::app
