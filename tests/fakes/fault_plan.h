#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "http/http_client.h"

namespace obsforge::fakes {

/// One injected misbehaviour, used for one request instead of the real answer.
struct Fault {
  /// kStatus answers `status`/`headers`/`body`; kReset closes the connection without a response.
  enum class Kind { kStatus, kReset };
  Kind kind = Kind::kStatus;
  int status = 503;
  http::Headers headers;
  std::string body;
  /// Only requests whose path starts with this consume the fault ("" = any request).
  std::string path_prefix;
};

/// Faults a fake server injects on demand: queued one-shot faults (bursts of 5xx, 429 with
/// Retry-After, connection resets) and a latency added to every request. Thread-safe.
class FaultPlan {
 public:
  /// The next `count` matching requests answer `status` with `body` (text/plain).
  void FailNext(int count,
                int status = 503,
                std::string body = "injected failure",
                std::string path_prefix = "");
  /// The next `count` matching requests answer 429 with `Retry-After: <seconds>`.
  void RateLimitNext(int count,
                     int retry_after_seconds,
                     std::string body = "rate limited",
                     std::string path_prefix = "");
  /// The next `count` matching requests get their connection closed (RST) without a response.
  void ResetNext(int count, std::string path_prefix = "");
  /// Appends any fault `count` times.
  void Add(const Fault& fault, int count);
  /// Every request sleeps this long before it is answered (0 = none).
  void SetLatency(std::chrono::milliseconds latency);
  /// Drops queued faults and latency.
  void Clear();

  /// Removes and returns the first queued fault that applies to `path`, if any.
  std::optional<Fault> Take(const std::string& path);
  /// The configured latency.
  std::chrono::milliseconds latency() const;
  /// How many faults were delivered so far.
  int delivered() const;
  /// How many faults are still queued.
  int pending() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Fault> queue_;
  std::chrono::milliseconds latency_{0};
  int delivered_ = 0;
};

}  // namespace obsforge::fakes
