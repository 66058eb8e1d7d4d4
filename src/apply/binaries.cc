#include "apply/binaries.h"

#include <cstdlib>
#include <map>

#include <unistd.h>

namespace obsforge::apply {
namespace {

bool IsExecutableFile(const std::filesystem::path& p) {
  std::error_code ec;
  // access(X_OK) alone accepts directories; a directory is never a usable binary.
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

const std::vector<std::string>& BinaryCandidates(std::string_view component) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> kCandidates = {
      {"prometheus", {"prometheus"}},
      {"alertmanager", {"prometheus-alertmanager", "alertmanager"}},
      {"loki", {"loki"}},
      {"tempo", {"tempo"}},
      {"grafana", {"grafana", "grafana-server"}},
      {"otel_collector", {"otelcol-contrib", "otelcol"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kCandidates.find(component);
  return it == kCandidates.end() ? kNone : it->second;
}

std::optional<std::filesystem::path> FindBinary(const std::vector<std::string>& candidates,
                                                std::string_view path_env) {
  std::vector<std::filesystem::path> dirs;
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string_view::npos) {
      end = path_env.size();
    }
    std::string_view dir = path_env.substr(start, end - start);
    dirs.emplace_back(dir.empty() ? std::filesystem::path(".") : std::filesystem::path(dir));
    start = end + 1;
  }
  for (const auto& name : candidates) {
    if (name.empty()) {
      continue;
    }
    if (name.find('/') != std::string::npos) {
      if (IsExecutableFile(name)) {
        return std::filesystem::path(name);
      }
      continue;
    }
    if (path_env.empty()) {
      continue;
    }
    for (const auto& dir : dirs) {
      auto candidate = dir / name;
      if (IsExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return std::nullopt;
}

core::Result<ResolvedBinary> ResolveComponentBinary(std::string_view component,
                                                    std::string_view path_env) {
  const auto& candidates = BinaryCandidates(component);
  if (candidates.empty()) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "unknown component '" + std::string(component) + "'");
  }
  for (const auto& name : candidates) {
    if (auto path = FindBinary({name}, path_env)) {
      return ResolvedBinary{.name = name, .path = *path};
    }
  }
  std::string names;
  for (const auto& name : candidates) {
    names += names.empty() ? name : " or " + name;
  }
  return core::MakeError(core::ErrorCode::kUnavailable, names + " not found on PATH");
}

std::string ProcessPath() {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nothing sets env
  return path == nullptr ? std::string() : std::string(path);
}

}  // namespace obsforge::apply
