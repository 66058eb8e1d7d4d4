#include "notify/damper.h"

namespace obsforge::notify {

void FlapDamper::SetPolicy(const std::string& key, DampingPolicy policy) {
  policies_[key] = policy;
}

DampingPolicy FlapDamper::Policy(const std::string& key) const {
  const auto it = policies_.find(key);
  return it == policies_.end() ? defaults_ : it->second;
}

bool FlapDamper::Offer(const std::string& key,
                       const std::string& state,
                       bool recovery,
                       TimePoint now) {
  Entry& entry = entries_[key];
  if (entry.sent_state == state) {
    entry.held.reset();  // back to what Slack already shows
    return false;
  }
  const DampingPolicy policy = Policy(key);
  auto send = [&] {
    entry.sent_state = state;
    entry.sent_at = now;
    entry.held.reset();
    return true;
  };
  if (recovery) {
    // A recovery waits its own hold, not the flap window: it is the message people wait for.
    if (policy.recovery_hold.count() <= 0) {
      return send();
    }
    entry.held = state;
    entry.due = now + policy.recovery_hold;
    return false;
  }
  if (!entry.sent_state || policy.flap_window.count() <= 0 ||
      now - entry.sent_at >= policy.flap_window) {
    return send();
  }
  entry.held = state;
  entry.due = entry.sent_at + policy.flap_window;
  return false;
}

std::vector<std::pair<std::string, std::string>> FlapDamper::Due(TimePoint now) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, entry] : entries_) {
    if (entry.held && now >= entry.due) {
      out.emplace_back(key, *entry.held);
      entry.sent_state = *entry.held;
      entry.sent_at = now;
      entry.held.reset();
    }
  }
  return out;
}

}  // namespace obsforge::notify
