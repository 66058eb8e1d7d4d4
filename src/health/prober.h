#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/http_client.h"
#include "http/multi_http_client.h"

namespace obsforge::health {

struct FollowUp;

/// What one run of a check concluded.
struct ProbeOutcome {
  bool ok = false;
  /// Why the check failed (empty when ok). Never contains a secret: parsers build it from
  /// upstream bodies, which carry none, and from URLs passed through http::RedactUrl.
  std::string error;
  /// A number the check measured (e.g. the share of targets up); nullopt when none.
  std::optional<double> value;
  /// When set, the run is not finished: this request is sent next (after its delay) and its
  /// parser decides. The chain's total time is the result's duration (canaries use it).
  std::shared_ptr<FollowUp> next;

  /// A passing outcome.
  static ProbeOutcome Ok(std::optional<double> value = std::nullopt) {
    return ProbeOutcome{.ok = true, .value = value};
  }
  /// A failing outcome with `error`.
  static ProbeOutcome Fail(std::string error, std::optional<double> value = std::nullopt) {
    return ProbeOutcome{.ok = false, .error = std::move(error), .value = value};
  }
};

/// Turns the answer to a probe request (a response of any status, or the transport error when
/// none arrived) into an outcome. Runs on the prober's loop thread: must be quick and not block.
using ResponseParser = std::function<ProbeOutcome(const core::Result<http::Response>&)>;

/// A further request of a multi-step check (push a canary, then read it back).
struct FollowUp {
  http::Request request;
  ResponseParser parser;
  /// Sent this long after the previous step finished.
  std::chrono::milliseconds delay{0};
};

/// One periodic HTTP check.
struct CheckDefinition {
  /// Unique key; adding a definition with an existing id replaces it.
  std::string id;
  /// The request sent on every run (method, url, headers, body, connect_timeout, timeout).
  http::Request request;
  /// When set, called on the loop thread before every run to build the request instead (a canary
  /// needs a fresh unique label each time).
  std::function<http::Request()> make_request;
  /// Interpretation of the answer. Required.
  ResponseParser parser;
  /// Time between runs (start to start), before jitter. Must be > 0.
  std::chrono::milliseconds interval{15000};
};

/// The outcome of one finished run, delivered to the Prober's callback.
struct CheckResult {
  std::string id;
  bool ok = false;
  std::string error;
  std::optional<double> value;
  /// Wall-clock start of the run (from the injected Clock).
  std::chrono::system_clock::time_point started_at;
  /// From sending the first request to the last step's answer.
  std::chrono::microseconds duration{0};
};

/// Options of a Prober (an aggregate: use designated initializers).
struct ProberOptions {
  /// At most this many requests in flight; further due runs wait their turn.
  int max_in_flight = 512;
  /// Each interval is stretched or shrunk by a uniformly random fraction in [-jitter, +jitter].
  double jitter = 0.1;
  /// true: a new check's first run happens at a random point of its first interval, so checks
  /// added together do not all fire together; false: immediately.
  bool spread_first_run = true;
  /// Seed of the jitter generator (0: from the random device).
  std::uint64_t seed = 0;
};

/// Counters of a Prober, for /metrics and the benchmark.
struct ProberStats {
  std::uint64_t runs_finished = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t failures = 0;
  std::size_t checks = 0;
  std::size_t in_flight = 0;
};

/// Runs every registered HTTP check of every stack on ONE thread, over an
/// http::MultiHttpClient: many requests in flight at once (connections kept alive and reused
/// across checks by the client), runs scheduled by interval with jitter on the injected Clock's
/// monotonic time. Results go to the callback, on the loop thread, one per finished run (a run
/// whose check was removed or replaced meanwhile is dropped).
///
/// The loop runs on its own thread after Start(), or on the caller's thread, one turn per
/// Step() (tests drive it so, on a fake clock). Add/Remove/RunNow are thread-safe and may be
/// called from the callback. A run that gets no response fails with the transport error's
/// message ("GET http://…/-/ready: Connection refused"). Never throws except std::bad_alloc.
class Prober {
 public:
  using Callback = std::function<void(const CheckResult&)>;

  /// `clock` schedules the runs (Monotonic), stamps CheckResult::started_at (Now) and measures
  /// durations. `http` carries every request; it must outlive the prober and be polled by
  /// nobody else.
  Prober(ProberOptions options, Callback callback, core::Clock& clock, http::MultiHttpClient& http);
  /// Stops the loop (see Stop()).
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;
  Prober(Prober&&) = delete;
  Prober& operator=(Prober&&) = delete;

  /// Starts the loop thread. Call once.
  void Start();
  /// Stops the loop and joins it; in-flight runs are abandoned without a result. Idempotent.
  void Stop();

  /// Registers (or replaces) a check. Throws std::invalid_argument when id is empty, parser is
  /// unset or interval <= 0.
  void Add(CheckDefinition check);
  /// Unregisters the check `id` (no-op when unknown).
  void Remove(const std::string& id);
  /// Unregisters every check whose id starts with `prefix`.
  void RemovePrefix(const std::string& prefix);
  /// Runs `id` as soon as possible (unless a run is in flight), then on its interval again.
  void RunNow(const std::string& id);

  /// One turn of the loop on the caller's thread: waits for I/O at most `max_wait` (less when a
  /// run falls due sooner, not at all right after starting requests), delivers the answers that
  /// arrived (parsers, follow-ups, the callback), then starts every run that is due. Only for a
  /// prober that was not Start()ed.
  void Step(std::chrono::milliseconds max_wait);

  /// Current counters.
  ProberStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace obsforge::health
