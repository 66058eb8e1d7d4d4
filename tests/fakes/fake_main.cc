#include "fakes/fake_main.h"

#include <csignal>
#include <cstdlib>
#include <stdexcept>

#include "core/fs.h"
#include <pthread.h>

namespace obsforge::fakes {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return "";
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string Env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value == nullptr ? "" : value;
}

}  // namespace

void BlockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  const sigset_t set = StopSignals();
  while (true) {
    int signal = 0;
    if (sigwait(&set, &signal) == 0 && signal != SIGHUP) {
      return signal;
    }
  }
}

std::optional<std::string> FlagValue(const std::vector<std::string>& args, std::string_view name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("-")) {
      continue;
    }
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
      return std::string(arg.substr(name.size() + 1));
    }
    if (arg == name && i + 1 < args.size()) {
      return args[i + 1];
    }
  }
  return std::nullopt;
}

bool HasFlag(const std::vector<std::string>& args, std::string_view name) {
  for (std::string_view arg : args) {
    if (!arg.starts_with("-")) {
      continue;
    }
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    if (arg == name || (arg.starts_with(name) && arg.substr(name.size()) == "=true")) {
      return true;
    }
  }
  return false;
}

std::uint16_t EndpointPort(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon + 1 == endpoint.size()) {
    throw std::invalid_argument("no port in endpoint \"" + endpoint + "\"");
  }
  const int port = std::stoi(endpoint.substr(colon + 1));
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("bad port in endpoint \"" + endpoint + "\"");
  }
  return static_cast<std::uint16_t>(port);
}

std::optional<std::string> IniValue(const std::string& text,
                                    std::string_view section,
                                    std::string_view key) {
  std::string current;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::string line = Trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == ';' || line[0] == '#') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      current = Trim(std::string_view(line).substr(1, line.size() - 2));
      continue;
    }
    const auto eq = line.find('=');
    if (eq != std::string::npos && current == section && Trim(line.substr(0, eq)) == key) {
      return Trim(line.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string ExpandGrafanaValue(const std::string& value) {
  if (value.starts_with("$__file{") && value.ends_with("}")) {
    const std::string path = value.substr(8, value.size() - 9);
    std::string text = core::ReadFile(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    return text;
  }
  if (value.starts_with("$__env{") && value.ends_with("}")) {
    return Env(value.substr(7, value.size() - 8));
  }
  if (value.starts_with("${") && value.ends_with("}")) {
    return Env(value.substr(2, value.size() - 3));
  }
  if (value.starts_with("$") && value.size() > 1) {
    return Env(value.substr(1));
  }
  return value;
}

YAML::Node YamlAt(const YAML::Node& root, std::initializer_list<const char*> path) {
  // Recursion, not `node = node[key]`: assigning yaml-cpp nodes rewrites the tree they share.
  const auto walk = [](const auto& self, const YAML::Node& node, const char* const* it,
                       const char* const* end) -> YAML::Node {
    if (it == end) {
      return node;
    }
    if (!node.IsMap() || !node[*it]) {
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return self(self, node[*it], it + 1, end);
  };
  return walk(walk, root, path.begin(), path.end());
}

int StartupMillis() {
  const std::string value = Env("OBS_FAKE_STARTUP_MS");
  return value.empty() ? 0 : std::stoi(value);
}

int StopDelayMillis() {
  const std::string value = Env("OBS_FAKE_STOP_DELAY_MS");
  return value.empty() ? 0 : std::stoi(value);
}

std::string EnvOr(const std::string& name, const std::string& fallback) {
  const std::string value = Env(name);
  return value.empty() ? fallback : value;
}

}  // namespace obsforge::fakes
