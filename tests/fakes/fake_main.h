#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace obsforge::fakes {

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in every thread started after
/// it); call first in main(), before any server starts.
void BlockStopSignals();
/// Waits until SIGTERM or SIGINT arrives (SIGHUP is ignored); returns the signal number.
int WaitForStopSignal();
/// The value of `name` given as `-name=v`, `--name=v`, `-name v` or `--name v` (name without
/// dashes), or nullopt.
std::optional<std::string> FlagValue(const std::vector<std::string>& args, std::string_view name);
/// True when `-name` or `--name` (or `-name=true`) is present.
bool HasFlag(const std::vector<std::string>& args, std::string_view name);
/// The port of "host:port" or ":port". Throws std::invalid_argument when there is none.
std::uint16_t EndpointPort(const std::string& endpoint);
/// The value of `key` in `[section]` of INI `text` (section "" = before any header), trimmed.
std::optional<std::string> IniValue(const std::string& text,
                                    std::string_view section,
                                    std::string_view key);
/// Grafana's value expansion: $__file{path} (file content, trailing newline dropped),
/// $__env{VAR}, $VAR and ${VAR}. Throws std::runtime_error when a file cannot be read.
std::string ExpandGrafanaValue(const std::string& value);
/// The node at `path` under `root`, or an undefined node when any step is missing.
YAML::Node YamlAt(const YAML::Node& root, std::initializer_list<const char*> path);
/// Milliseconds of simulated startup (/ready 503) for the fake executables, from the environment
/// variable OBS_FAKE_STARTUP_MS (default 0).
int StartupMillis();
/// Milliseconds a fake executable waits after SIGTERM before it exits, from
/// OBS_FAKE_STOP_DELAY_MS (default 0; Tempo 2.2–2.4 really wait 30 s).
int StopDelayMillis();
/// The environment variable `name`, or `fallback` when it is unset or empty.
std::string EnvOr(const std::string& name, const std::string& fallback);

}  // namespace obsforge::fakes
