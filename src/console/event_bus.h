#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/operations.h"
#include "health/monitor.h"

namespace obsforge::console {

/// One change worth telling a live page: `type` is "operation" or "health"; `data` is a JSON
/// object (never a secret: names, states, times and messages only).
struct Event {
  std::uint64_t id = 0;  ///< 1, 2, ... in publication order
  std::string type;
  std::string data;   ///< compact JSON
  std::string stack;  ///< the stack it is about (data's "stack"), so streams can be scoped
};

/// Limits of an EventBus (an aggregate).
struct EventBusOptions {
  std::size_t max_clients = 16;   ///< subscriptions at once; more are refused
  std::size_t queue_limit = 256;  ///< events waiting per subscription before it overflows
};

/// An in-process publish/subscribe hub for live updates (GET /api/v1/events). Publishing never
/// blocks on a subscriber: each one has a bounded queue, and one that falls behind loses its
/// queue and is told to resynchronise instead. The number of subscriptions is bounded too.
/// Close() wakes every subscriber for good (shutdown). Thread-safe.
class EventBus {
 public:
  /// What one Wait() returned.
  struct Batch {
    std::vector<Event> events;
    bool overflowed = false;  ///< events were dropped: the client must refetch everything
    bool closed = false;      ///< the bus closed: end the stream
  };

  /// One subscriber's queue. Unsubscribes when destroyed. Used by one thread at a time.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    /// Blocks until events arrive, the bus closes or `timeout` passes (an empty batch: time for a
    /// heartbeat). Never throws except std::bad_alloc.
    Batch Wait(std::chrono::milliseconds timeout);

   private:
    friend class EventBus;
    explicit Subscription(EventBus& bus) : bus_(bus) {}
    EventBus& bus_;
    std::deque<Event> queue_;  // guarded by bus_.mu_
    bool overflowed_ = false;  // guarded by bus_.mu_
  };

  explicit EventBus(EventBusOptions options = {});
  ~EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  /// A new subscription; nullptr when max_clients are subscribed or the bus is closed.
  std::unique_ptr<Subscription> Subscribe();
  /// Hands `data` as an event of `type` to every subscriber. No-op once closed.
  void Publish(const std::string& type, const nlohmann::json& data);
  /// Ends every subscription's waiting and refuses new ones. Idempotent.
  void Close();
  /// Subscriptions now.
  std::size_t clients() const;
  /// Blocks until at most `count` subscriptions are left (one ends when its stream's client is
  /// gone) or `timeout` passes; whether they are.
  bool WaitClients(std::size_t count, std::chrono::milliseconds timeout);
  /// The id the last published event got (0 before any).
  std::uint64_t last_id() const;

 private:
  EventBusOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Subscription*> subs_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
};

/// Feeds an EventBus from the application: every operation step and end ("operation": id, kind,
/// stack, env, revision, state, and the step's name and state) and every environment or component
/// health transition ("health": stack, env, component, from, to, at, message). Register it with
/// OperationRunner::AddObserver and as a health::TransitionSink. Quick and never throws.
class EventFeed final : public control::OperationObserver, public health::TransitionSink {
 public:
  /// `bus` must outlive the feed.
  explicit EventFeed(EventBus& bus) : bus_(bus) {}
  void OnStep(const store::Operation& op, const apply::Step& step) override;
  void OnFinished(const store::Operation& op,
                  const control::OperationOutcome& outcome,
                  double seconds) override;
  void OnTransitions(const std::vector<health::Transition>& transitions) override;

 private:
  EventBus& bus_;
};

}  // namespace obsforge::console
