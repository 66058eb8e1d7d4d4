#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace obsforge::notify {

/// Flap damping: at most one message per key (a check, an environment) per `window`, without
/// ever leaving the last message stale. Pure (time is passed in); not thread-safe.
///
/// Offer(key, state) says whether a message about `key` reporting `state` goes out now. Within
/// the window after the last message for `key`, it is held instead; when the window ends, Due()
/// returns the held state if it still differs from the one last sent (a flap that came back
/// within the window sends nothing more).
class FlapDamper {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// `window` <= 0 disables damping.
  explicit FlapDamper(std::chrono::milliseconds window) : window_(window) {}

  /// Uses `window` instead of the constructor's for `key` from now on (<= 0: no damping).
  void SetWindow(const std::string& key, std::chrono::milliseconds window);

  /// True: send the message now (it is recorded as sent). False: held.
  bool Offer(const std::string& key, const std::string& state, TimePoint now);
  /// The (key, state) pairs whose held message is due at `now`; each is recorded as sent.
  std::vector<std::pair<std::string, std::string>> Due(TimePoint now);

 private:
  struct Entry {
    std::string sent_state;
    TimePoint sent_at;
    std::optional<std::string> held;
  };
  std::chrono::milliseconds Window(const std::string& key) const;

  std::chrono::milliseconds window_;
  std::map<std::string, std::chrono::milliseconds> windows_;  // per-key overrides
  std::map<std::string, Entry> entries_;
};

}  // namespace obsforge::notify
