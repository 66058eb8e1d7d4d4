#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.h"

namespace obsforge::store {

/// What a Leadership tells its user. Both run on the leadership's own thread and must return
/// quickly (hand the work to another thread).
struct LeadershipEvents {
  std::function<void()> elected;  ///< this process became the leader
  std::function<void()> lost;     ///< it stopped being the leader while running (not on Stop)
};

/// Which one of the processes sharing a store runs the loops that must run once (health probes,
/// GitOps pollers, the Slack sender, retention). At most one process is the leader at a time as
/// far as the database knows; see each implementation for how fast a gone leader is replaced.
/// Thread-safe.
class Leadership {
 public:
  virtual ~Leadership() = default;
  /// Starts taking part. Once; later calls do nothing.
  virtual void Start(LeadershipEvents events) = 0;
  /// Stops taking part, giving the leadership up when held (without `lost`). Idempotent.
  virtual void Stop() = 0;
  /// Whether this process leads now.
  virtual bool IsLeader() const = 0;
  /// The leader's name (its replica id) as last seen, this process's own when it leads; "" when
  /// none is known.
  virtual std::string Leader() const = 0;
  /// How many times this process became or stopped being the leader.
  virtual std::uint64_t Changes() const = 0;
};

/// The leadership of a store that one process opens (SQLite): that process leads from Start()
/// on, `elected` being called within Start() itself.
class SoleLeadership final : public Leadership {
 public:
  explicit SoleLeadership(std::string name) : name_(std::move(name)) {}
  void Start(LeadershipEvents events) override;
  void Stop() override;
  bool IsLeader() const override { return leading_.load(); }
  std::string Leader() const override { return leading_.load() ? name_ : ""; }
  std::uint64_t Changes() const override { return changes_.load(); }

 private:
  const std::string name_;
  std::atomic<bool> started_{false};
  std::atomic<bool> leading_{false};
  std::atomic<std::uint64_t> changes_{0};
};

/// Options of PostgresLeadership.
struct PostgresLeadershipOptions {
  std::string url;   ///< the store's URL (PostgresStoreOptions::url)
  std::string name;  ///< this process's replica id (at most 50 bytes are shown to others)
  /// Bound on the time from a leader's end (killed, host gone, connection lost) to another
  /// process leading. Other timings derive from it: a try and a heartbeat every takeover/10, a
  /// leader steps down when no heartbeat succeeded for takeover*4/10, the server ends a leader's
  /// silent session after takeover*6/10.
  std::chrono::milliseconds takeover{10000};
};

/// Leadership on PostgreSQL: a session advisory lock (PostgresStore::kLeaderLockClass,
/// hashtext(current_schema())) held on a connection of its own. Every takeover/10 the thread
/// either tries the lock (pg_try_advisory_lock: never waits) or, holding it, runs a heartbeat
/// query. The session carries idle_session_timeout (PostgreSQL 14+) and TCP timeouts, so a
/// leader whose process, host or network died loses the lock on the server's side within
/// takeover*6/10, and a leader that cannot reach the server steps down (`lost`) before that.
/// A killed leader's connection closes at once: the next try of another process takes over.
/// Followers learn the leader's name from the lock holder's application_name.
class PostgresLeadership final : public Leadership {
 public:
  /// kInvalidSpec when options.url is malformed. Connects lazily (on Start). Never throws.
  static core::Result<std::unique_ptr<PostgresLeadership>> Create(
      PostgresLeadershipOptions options);
  ~PostgresLeadership() override;
  PostgresLeadership(const PostgresLeadership&) = delete;
  PostgresLeadership& operator=(const PostgresLeadership&) = delete;

  void Start(LeadershipEvents events) override;
  void Stop() override;
  bool IsLeader() const override;
  std::string Leader() const override;
  std::uint64_t Changes() const override;

 private:
  class Impl;
  explicit PostgresLeadership(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace obsforge::store
