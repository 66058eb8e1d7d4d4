#include "notify/damper.h"

namespace obsforge::notify {

void FlapDamper::SetWindow(const std::string& key, std::chrono::milliseconds window) {
  windows_[key] = window;
}

std::chrono::milliseconds FlapDamper::Window(const std::string& key) const {
  const auto it = windows_.find(key);
  return it == windows_.end() ? window_ : it->second;
}

bool FlapDamper::Offer(const std::string& key, const std::string& state, TimePoint now) {
  const auto it = entries_.find(key);
  const auto window = Window(key);
  if (it == entries_.end() || window.count() <= 0 || now - it->second.sent_at >= window) {
    entries_[key] = Entry{.sent_state = state, .sent_at = now};
    return true;
  }
  Entry& entry = it->second;
  if (state == entry.sent_state) {
    entry.held.reset();  // flapped back to what Slack already shows
  } else {
    entry.held = state;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> FlapDamper::Due(TimePoint now) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, entry] : entries_) {
    if (entry.held && now - entry.sent_at >= Window(key)) {
      out.emplace_back(key, *entry.held);
      entry.sent_state = *entry.held;
      entry.sent_at = now;
      entry.held.reset();
    }
  }
  return out;
}

}  // namespace obsforge::notify
