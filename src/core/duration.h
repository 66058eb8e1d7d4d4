#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace obsforge::core {

/// Parses a duration in Prometheus's grammar (model.ParseDuration), the one grammar of every
/// duration obsforge reads (stack specs, rule files, obsforge.yaml, environment variables):
/// one or more `<digits><unit>` with units y (365d), w (7d), d, h, m, s, ms in that order,
/// each at most once ("1h30m", "500ms", "2d", "1w", "0s"), or a bare "0".
/// Returns nullopt for anything else: "", signs, spaces, fractions, a bare number other than 0,
/// unknown or repeated units, units out of order ("1m1h"), and values beyond Prometheus's
/// range (int64 nanoseconds, about 292 years). Never throws.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// Formats `d` as Prometheus does (model.Duration.String()): "0s", "1h30m", "500ms", "90d";
/// years and weeks only when they divide the rest exactly ("2w", "12d" rather than "1w5d").
/// ParseDuration(FormatDuration(d)) == d for every d in range. Negative values format as
/// "-" followed by the magnitude. Never throws.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace obsforge::core
