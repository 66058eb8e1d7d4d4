#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include <Poco/Net/StreamSocket.h>

#include "server/admission.h"

namespace obsforge::server {

/// Answers the connections Admission refused, on a thread of its own, so that a refusal never
/// waits for a connection thread: reads the request head (at most 16 KiB, for at most 1 s in
/// all), writes RefusalResponse (503 with Retry-After), closes its sending side and reads what
/// the client still sends (at most 1 MiB, for at most 1 s), so that the client reads the answer
/// instead of a reset.
/// At most `backlog` connections wait for their answer. Thread-safe.
class Refuser {
 public:
  explicit Refuser(std::size_t backlog = 256);
  ~Refuser();
  Refuser(const Refuser&) = delete;
  Refuser& operator=(const Refuser&) = delete;

  /// Queues `socket` for its answer. False when `backlog` connections wait already or after
  /// Stop(): the caller closes it unanswered.
  bool Offer(const Poco::Net::StreamSocket& socket, const Verdict& verdict);

  /// Ends the thread; connections not answered yet are closed. Idempotent.
  void Stop();

 private:
  void Run();

  std::size_t backlog_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<Poco::Net::StreamSocket, Verdict>> pending_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace obsforge::server
