#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace obsforge::server {

/// The limits of the HTTP server's connection queue (docs/operations.md, "Overload").
struct AdmissionOptions {
  /// Accepted connections waiting for a connection thread; a new one beyond is refused.
  std::size_t max_queued = 256;
  /// A new connection is refused while the oldest waiting one has waited this long: in a FIFO
  /// queue a newcomer would wait about as long, so this is how long a client may wait before
  /// its request even starts.
  std::chrono::milliseconds max_queue_wait{5000};
};

/// Why a connection was refused; the `reason` label of obsforge_http_rejected_total.
enum class Refusal {
  kNone,       ///< admitted
  kQueueFull,  ///< "queue_full": max_queued connections wait already
  kQueueWait,  ///< "queue_wait": the oldest waiting connection has waited max_queue_wait
  kBacklog,    ///< "backlog": refused, and even the refusals are behind: closed without answer
};

/// The label of `refusal` ("queue_full", ...; "" for kNone).
std::string_view RefusalName(Refusal refusal);

/// What happens to a new connection.
struct Verdict {
  Refusal refusal = Refusal::kNone;
  int retry_after_seconds = 0;  ///< for a refusal: when a retry may find room (1-60)
  std::size_t queued = 0;       ///< connections waiting when it came
  std::chrono::milliseconds oldest_wait{0};
  bool admitted() const { return refusal == Refusal::kNone; }
};

/// The bookkeeping of admission control for a thread-per-connection HTTP server: which new
/// connection is queued and which is refused (and told when to retry), and when a kept-alive
/// connection must give its thread up because others wait. The server reports the events of
/// its queue: OnAccept() for every new connection (in the accepting thread, before it is
/// queued), OnDequeue() when a connection thread takes the oldest queued one. Thread-safe.
class Admission {
 public:
  /// `clock` must outlive the object.
  Admission(AdmissionOptions options, core::Clock& clock);

  /// A new connection: admitted (counted as queued from now) or refused. A connection is refused
  /// when max_queued wait already (kQueueFull) or when the oldest waiting one has waited
  /// max_queue_wait (kQueueWait); Retry-After is that wait in whole seconds (at least 1, at most
  /// 60).
  Verdict OnAccept();

  /// A connection thread took the oldest queued connection.
  void OnDequeue();

  /// Whether an answer may keep its connection open: false while another connection waits for a
  /// thread (that answer then closes its connection, and the client's next request queues
  /// behind the waiting ones). Counts the connections so ended.
  bool KeepAlive();

  /// A refused connection that was closed without an answer (Refusal::kBacklog).
  void CountUnanswered();

  /// Connections waiting for a thread now, and how long the oldest of them has waited.
  std::size_t queued() const;
  std::chrono::milliseconds oldest_wait() const;

  /// Metric families in the Prometheus text format: obsforge_http_rejected_total{reason},
  /// obsforge_http_keepalive_ended_total, obsforge_http_queued_connections,
  /// obsforge_http_queue_wait_seconds.
  std::string MetricsText() const;

 private:
  std::chrono::milliseconds OldestWaitLocked() const;

  AdmissionOptions options_;
  core::Clock& clock_;
  mutable std::mutex mu_;
  std::deque<std::chrono::steady_clock::time_point> queued_;  // when each waiting one came
  std::uint64_t queue_full_ = 0;
  std::uint64_t queue_wait_ = 0;
  std::uint64_t backlog_ = 0;
  std::uint64_t keepalive_ended_ = 0;
};

/// The complete HTTP/1.1 answer to a refused request: `503 Service Unavailable` with
/// Retry-After, X-Request-ID (`request_id`), `Connection: close` and the API's error envelope
/// (code "unavailable", a message saying how many connections wait and for how long); without
/// the body (but with its Content-Length) when `head` (the request was HEAD).
std::string RefusalResponse(const Verdict& verdict, const std::string& request_id, bool head);

}  // namespace obsforge::server
