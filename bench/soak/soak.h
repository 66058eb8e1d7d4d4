#pragma once

// The soak: `obsforge serve` holding many stacks (external runtimes pointing at loopback fakes of
// Loki and Tempo) under many concurrent clients for a while, measured from outside. Used by
// bench/soak/soak_main.cc (the measured 5-minute run) and by the test suite's short run, which
// checks only correctness.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"

namespace obsforge::soak {

/// What to run.
struct SoakOptions {
  std::filesystem::path obsforge;  ///< the obsforge binary
  std::filesystem::path work_dir;  ///< empty folder for the server's data
  int stacks = 100;
  int clients = 200;
  std::chrono::seconds duration{300};
  unsigned seed = 1;
  /// How long a client waits for an answer before it counts the request as unanswered.
  std::chrono::milliseconds request_timeout{15000};
  std::ostream* progress = nullptr;  ///< one line per phase and every 10 s, when set
};

/// Latencies and answers of one route.
struct RouteStats {
  std::size_t requests = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  std::map<int, std::size_t> statuses;  ///< HTTP status -> count (0: no answer)
};

/// A sample of the server process.
struct ProcessSample {
  int second = 0;  ///< since the clients started
  std::int64_t rss_kb = 0;
  int threads = 0;
  int fds = 0;
};

/// What a soak measured.
struct SoakReport {
  std::map<std::string, RouteStats> routes;  ///< "GET stack", "PUT", ...
  std::size_t requests = 0;
  std::size_t server_errors = 0;  ///< 5xx, except the overload answers counted in `overloaded`
  std::size_t unexpected = 0;     ///< non-2xx other than 409/412/overload, and no answer at all
  /// 503 with Retry-After (the server's admission control: overloaded, retry later). Answered
  /// and expected under overload, so neither a server error nor unexpected; the client waits
  /// Retry-After seconds before its next request.
  std::size_t overloaded = 0;
  std::size_t operations = 0;  ///< accepted (202) operations
  std::size_t lost = 0;        ///< of those, not in a final state once the server settled
  std::map<std::string, std::size_t> operation_states;
  std::vector<ProcessSample> samples;          ///< at the start, every 10 s and at the end
  double seconds = 0;                          ///< of client load
  std::vector<std::string> server_log_errors;  ///< the first error lines the server logged
  /// The first failed requests (5xx, no answer) and failed operations, with their errors.
  std::vector<std::string> failures;
};

/// Starts the fakes and the server, creates the stacks, runs the clients for the duration,
/// waits for every accepted operation to end, stops the server. kUnavailable when the server
/// does not start, kInternal when the stacks cannot be created.
core::Result<SoakReport> RunSoak(const SoakOptions& options);

/// The report as Markdown tables (bench/README.md's format).
std::string ReportMarkdown(const SoakReport& report);

}  // namespace obsforge::soak
