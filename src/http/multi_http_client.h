#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "core/error.h"
#include "http/http_client.h"

namespace obsforge::http {

/// Sends many HTTP requests at once from one thread: an event loop. The thread that owns the
/// loop starts requests with Start() and calls Poll() again and again; Poll() does the I/O of
/// every request in flight and calls the completion of each one that finished. Nothing blocks
/// on one request, so one thread can keep thousands of them going (the health prober's model).
///
/// Threads: Start(), Poll() and InFlight() belong to the loop thread (completions run on it and
/// may call Start()); Wakeup() may be called from any thread. Answers follow HttpClient::Send:
/// a response of any status, or an Error when no response arrived, its message naming the
/// method and the (redacted) URL.
class MultiHttpClient {
 public:
  /// Receives the answer of one request, on the loop thread, from Poll().
  using Completion = std::function<void(core::Result<Response>)>;

  MultiHttpClient() = default;
  virtual ~MultiHttpClient() = default;
  MultiHttpClient(const MultiHttpClient&) = delete;
  MultiHttpClient& operator=(const MultiHttpClient&) = delete;
  MultiHttpClient(MultiHttpClient&&) = delete;
  MultiHttpClient& operator=(MultiHttpClient&&) = delete;

  /// Starts sending `request`. `done` is called exactly once, from a later Poll(), unless the
  /// client is destroyed first (requests in flight are then abandoned without a call).
  virtual void Start(Request request, Completion done) = 0;

  /// Waits at most `max_wait` for I/O (0: does not wait; returns early on Wakeup()), then
  /// advances every request in flight and calls the completions of those that finished.
  virtual void Poll(std::chrono::milliseconds max_wait) = 0;

  /// Makes the current or next Poll() stop waiting. Thread-safe.
  virtual void Wakeup() = 0;

  /// Requests started whose completion has not been called yet.
  virtual std::size_t InFlight() const = 0;
};

}  // namespace obsforge::http
