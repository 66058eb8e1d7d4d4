#include "console/event_bus.h"

#include <algorithm>

#include "core/clock.h"
#include "health/state.h"

namespace obsforge::console {

EventBus::EventBus(EventBusOptions options) : options_(options) {
}

EventBus::Subscription::~Subscription() {
  {
    std::lock_guard lock(bus_.mu_);
    std::erase(bus_.subs_, this);
  }
  bus_.cv_.notify_all();  // WaitClients
}

EventBus::Batch EventBus::Subscription::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(bus_.mu_);
  bus_.cv_.wait_for(lock, timeout,
                    [this] { return bus_.closed_ || overflowed_ || !queue_.empty(); });
  Batch batch;
  batch.closed = bus_.closed_;
  batch.overflowed = overflowed_;
  overflowed_ = false;
  batch.events.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  return batch;
}

std::unique_ptr<EventBus::Subscription> EventBus::Subscribe() {
  std::lock_guard lock(mu_);
  if (closed_ || subs_.size() >= options_.max_clients) {
    return nullptr;
  }
  std::unique_ptr<Subscription> sub(new Subscription(*this));
  subs_.push_back(sub.get());
  return sub;
}

void EventBus::Publish(const std::string& type, const nlohmann::json& data) {
  const std::string text = data.dump();
  const std::string stack =
      data.is_object() && data.contains("stack") && data["stack"].is_string() ? data["stack"] : "";
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      return;
    }
    const std::uint64_t id = next_id_++;
    for (Subscription* sub : subs_) {
      if (sub->overflowed_) {
        continue;  // it refetches everything anyway
      }
      if (sub->queue_.size() >= options_.queue_limit) {
        // A slow client must not make the server hold an ever longer queue for it.
        sub->queue_.clear();
        sub->overflowed_ = true;
        continue;
      }
      sub->queue_.push_back(Event{.id = id, .type = type, .data = text, .stack = stack});
    }
  }
  cv_.notify_all();
}

void EventBus::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::size_t EventBus::clients() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

bool EventBus::WaitClients(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return subs_.size() <= count; });
}

std::uint64_t EventBus::last_id() const {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

namespace {

nlohmann::json OperationData(const store::Operation& op, const std::string& state) {
  return {{"id", op.id},   {"kind", store::Name(op.kind)}, {"stack", op.stack},
          {"env", op.env}, {"revision", op.revision},      {"state", state}};
}

}  // namespace

void EventFeed::OnStep(const store::Operation& op, const apply::Step& step) {
  nlohmann::json data = OperationData(op, "running");
  data["step"] = {{"name", step.name},
                  {"component", step.component},
                  {"state", apply::StepStateName(step.state)}};
  bus_.Publish("operation", data);
}

void EventFeed::OnFinished(const store::Operation& op,
                           const control::OperationOutcome& outcome,
                           double /*seconds*/) {
  bus_.Publish("operation", OperationData(op, store::Name(outcome.state)));
}

void EventFeed::OnTransitions(const std::vector<health::Transition>& transitions) {
  for (const health::Transition& t : transitions) {
    // Check transitions are summed up by their component's; pages refetch the details.
    if (t.scope == health::Transition::Scope::kCheck) {
      continue;
    }
    bus_.Publish("health", {{"stack", t.stack},
                            {"env", t.env},
                            {"component", t.component},
                            {"from", health::StateName(t.from)},
                            {"to", health::StateName(t.to)},
                            {"at", core::FormatTime(t.at)},
                            {"message", t.message}});
  }
}

}  // namespace obsforge::console
