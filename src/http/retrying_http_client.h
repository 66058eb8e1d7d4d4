#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "http/http_client.h"

namespace obsforge::http {

/// Options of a RetryingHttpClient (an aggregate: build it with designated initializers).
struct RetryOptions {
  /// Sends at most this many times in all (1 disables retries).
  int max_attempts = 5;
  /// Backoff before retry n (n = 1, 2, ...) is uniform in [0, min(max_delay, base_delay *
  /// 2^(n-1))].
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{10000};
  /// No retry starts, and no wait begins, that would end later than this after the first send.
  std::chrono::milliseconds max_total{60000};
  /// Seed of the jitter generator; unset picks a random seed. Tests set it.
  std::optional<std::uint64_t> seed;
};

/// HttpClient decorator that retries what may succeed on a second try.
///
/// Retried: transport errors kTimeout and kUnavailable, status 5xx, and 429. Never retried: other
/// statuses (a 4xx will not change by itself) and other errors (e.g. kInternal, a bad URL). Note
/// that this includes non-idempotent methods: callers send requests that are safe to repeat.
///
/// Wait before a retry: the response's Retry-After (delta-seconds or an HTTP-date, read on 429 and
/// 503 only) when present, otherwise exponential backoff with full jitter; waits go through
/// Clock::SleepFor, so a FakeClock makes tests instant. A Retry-After longer than max_delay is
/// still honoured; a wait that would cross max_total ends the retries instead.
///
/// When it gives up, it returns the last outcome: the last response (status and body, with
/// Response::attempts set to the number of sends), or the last error with " (gave up after N
/// attempts)" appended to its message. Each retry is logged at warn level.
/// Thread-safe when the wrapped client is. Never throws (except std::bad_alloc).
class RetryingHttpClient final : public HttpClient {
 public:
  /// `inner`, `clock` and `logger` are not owned and must outlive this client.
  RetryingHttpClient(HttpClient& inner,
                     core::Clock& clock,
                     RetryOptions options = {},
                     core::Logger& logger = core::NullLogger());

  core::Result<Response> Send(const Request& request) override;

 private:
  // Jittered backoff before retry number `retry` (1-based).
  std::chrono::milliseconds Backoff(int retry);
  // How long to wait before attempt `attempt` + 1, or why not to retry at all.
  std::variant<std::chrono::milliseconds, std::string> NextWait(
      const core::Result<Response>& result,
      int attempt,
      std::chrono::steady_clock::time_point start);

  HttpClient& inner_;
  core::Clock& clock_;
  RetryOptions options_;
  core::Logger& logger_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

/// Parses a Retry-After value: delta-seconds ("120") or an IMF-fixdate HTTP-date ("Wed, 21 Oct
/// 2015 07:28:00 GMT"; RFC 850 and asctime forms are accepted too), relative to `now`. A date in
/// the past yields 0. Returns nullopt when `value` is neither. Never throws.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

/// Upstream bodies quoted in errors are cut to this many bytes.
inline constexpr size_t kMaxQuotedBody = 2048;

/// One line for an error or log that says what failed, for a request whose outcome the caller
/// does not accept:
///   response: "POST http://grafana:3000/api/dashboards/db: 412 {\"status\":\"version-mismatch\"}"
///             (URL through RedactUrl; body cut to kMaxQuotedBody bytes at a UTF-8 boundary, then
///             "... (N bytes)"; " (after N attempts)" appended when it was retried);
///   error:    its message, which already names method and URL.
/// Never throws.
std::string DescribeFailure(const Request& request, const core::Result<Response>& result);

/// A core::Error for a request whose outcome the caller does not accept: for a response,
/// kUpstream with DescribeFailure() as message and upstream_status / upstream_body (cut as above)
/// set; for an error, that error unchanged. Never throws.
core::Error UpstreamError(const Request& request, const core::Result<Response>& result);

}  // namespace obsforge::http
