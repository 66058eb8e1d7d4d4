#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace obsforge::notify {

/// How the messages about one key (an environment) are damped (an aggregate).
struct DampingPolicy {
  /// After a message, a change to another failing state within this long is held until the
  /// window ends (<= 0: never held).
  std::chrono::milliseconds flap_window{std::chrono::minutes(5)};
  /// A recovery is held this long, whatever the flap window, and sent only if the key is still
  /// recovered then (<= 0: sent at once, the default).
  std::chrono::milliseconds recovery_hold{0};
};

/// Flap damping without ever leaving the last message stale. Pure (time is passed in); not
/// thread-safe.
///
/// Offer(key, state, recovery) says whether a message about `key` reporting `state` goes out
/// now. A failure within the flap window after the last message is held until the window ends;
/// a recovery is held for the recovery hold. When the hold ends, Due() returns the held state if
/// it still differs from the one last sent: a flap that came back meanwhile sends nothing more.
class FlapDamper {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// `defaults` applies to every key without a policy of its own.
  explicit FlapDamper(DampingPolicy defaults) : defaults_(defaults) {}

  /// Uses `policy` for `key` from now on.
  void SetPolicy(const std::string& key, DampingPolicy policy);

  /// True: send the message now (it is recorded as sent). False: held, or nothing to say (the
  /// state is the one last sent).
  bool Offer(const std::string& key, const std::string& state, bool recovery, TimePoint now);
  /// The (key, state) pairs whose held message is due at `now`; each is recorded as sent.
  std::vector<std::pair<std::string, std::string>> Due(TimePoint now);

 private:
  struct Entry {
    std::optional<std::string> sent_state;
    TimePoint sent_at;
    std::optional<std::string> held;
    TimePoint due;
  };
  DampingPolicy Policy(const std::string& key) const;

  DampingPolicy defaults_;
  std::map<std::string, DampingPolicy> policies_;  // per-key overrides
  std::map<std::string, Entry> entries_;
};

}  // namespace obsforge::notify
