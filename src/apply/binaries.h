#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace obsforge::apply {

/// The executable names that can run `component` (a name from spec::ComponentNames()), in order of
/// preference: prometheus -> {prometheus}; alertmanager -> {prometheus-alertmanager (Debian),
/// alertmanager}; loki -> {loki}; tempo -> {tempo}; grafana -> {grafana, grafana-server};
/// otel_collector -> {otelcol-contrib, otelcol}. Empty for an unknown component.
const std::vector<std::string>& BinaryCandidates(std::string_view component);

/// The first of `candidates` found as an executable regular file in a directory of `path_env`
/// (a PATH value, ':'-separated; an empty entry means the current directory). Candidates are tried
/// in order, each across the whole PATH, so preference beats PATH order. nullopt when none is
/// found. A candidate containing '/' is taken as a path and checked as it is. Never throws.
std::optional<std::filesystem::path> FindBinary(const std::vector<std::string>& candidates,
                                                std::string_view path_env);

/// A component's executable, resolved on PATH.
struct ResolvedBinary {
  std::string name;            ///< the candidate that was found, e.g. "prometheus-alertmanager"
  std::filesystem::path path;  ///< its absolute (or PATH-relative) location
};

/// Resolves `component`'s executable on `path_env`. When none of its candidates is there, returns
/// kUnavailable with the message "<binary> not found on PATH", where <binary> is the candidates
/// joined with " or " (e.g. "loki not found on PATH", "grafana or grafana-server not found on
/// PATH"). An unknown component is kInternal.
core::Result<ResolvedBinary> ResolveComponentBinary(std::string_view component,
                                                    std::string_view path_env);

/// The PATH of this process ("" when unset).
std::string ProcessPath();

}  // namespace obsforge::apply
