#include "store/leadership.h"

#include <condition_variable>
#include <optional>
#include <thread>

#include "store/postgres_db.h"
#include "store/postgres_store.h"

namespace obsforge::store {

void SoleLeadership::Start(LeadershipEvents events) {
  if (started_.exchange(true)) {
    return;
  }
  leading_ = true;
  ++changes_;
  if (events.elected) {
    events.elected();
  }
}

void SoleLeadership::Stop() {
  if (leading_.exchange(false)) {
    ++changes_;
  }
}

class PostgresLeadership::Impl {
 public:
  Impl(PostgresLeadershipOptions options, PgConnectParams params)
      : options_(std::move(options)), params_(std::move(params)) {
    const auto tenth = std::max(options_.takeover / 10, std::chrono::milliseconds(10));
    tick_ = tenth;
    step_down_ = tenth * 4;
    idle_timeout_ = tenth * 6;
  }
  ~Impl() { Stop(); }

  void Start(LeadershipEvents events) {
    std::lock_guard lock(mu_);
    if (thread_.joinable() || stopping_) {
      return;
    }
    events_ = std::move(events);
    thread_ = std::thread([this] { Loop(); });
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  bool IsLeader() const {
    std::lock_guard lock(mu_);
    return leading_;
  }
  std::string Leader() const {
    std::lock_guard lock(mu_);
    return leader_;
  }
  std::uint64_t Changes() const {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void Loop() {
    std::unique_ptr<PgConnection> conn;
    Clock::time_point last_ok = Clock::now();
    std::unique_lock lock(mu_);
    while (!stopping_) {
      const bool leading = leading_;
      lock.unlock();
      std::optional<std::string> seen;  // the leader's name, when this tick learned it
      bool elected = false;
      bool lost = false;
      try {
        if (!conn) {
          conn = Connect();
        }
        if (leading) {
          conn->Exec("SELECT 1");
          last_ok = Clock::now();
        } else if (conn->Exec("SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS got",
                              PostgresStore::kLeaderLockClass)
                       .Text(0, "got") == "t") {
          elected = true;
          last_ok = Clock::now();
        } else {
          seen = HolderName(*conn);
        }
      } catch (const std::exception&) {
        // The server or the network failed: a new connection next tick. A leader's lock went
        // with the old one, or goes when the server notices (idle_session_timeout), so a
        // leader steps down at once.
        conn.reset();
        seen = std::string();
        lost = leading;
      }
      if (leading && !lost && Clock::now() - last_ok >= step_down_) {
        conn.reset();  // gives the lock up if the server can still hear it
        lost = true;
      }
      lock.lock();
      if (elected) {
        leading_ = true;
        leader_ = options_.name;
        ++changes_;
      } else if (lost) {
        leading_ = false;
        leader_.clear();
        ++changes_;
      } else if (seen) {
        leader_ = *seen;
      }
      if (elected || lost) {
        const auto& event = elected ? events_.elected : events_.lost;
        if (event) {
          lock.unlock();
          event();
          lock.lock();
        }
      }
      cv_.wait_for(lock, tick_, [this] { return stopping_; });
    }
    leading_ = false;
    leader_.clear();
    lock.unlock();
    if (conn) {
      try {
        conn->Exec("SELECT pg_advisory_unlock_all()");
      } catch (const std::exception&) {
        // Closing the connection releases it as well.
      }
    }
  }

  std::unique_ptr<PgConnection> Connect() {
    PgConnectParams params = params_;
    const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()); };
    const auto s = [](std::chrono::milliseconds d) {
      return std::to_string(std::max<std::int64_t>(1, d.count() / 1000));
    };
    // A leader whose network fails must learn it before the server gives its lock away:
    // unacknowledged data fails the socket after step_down_/2, a silent peer after a few
    // keepalives.
    params.insert(params.begin(), {{"tcp_user_timeout", ms(step_down_ / 2)},
                                   {"keepalives_idle", s(tick_ * 2)},
                                   {"keepalives_interval", s(tick_)},
                                   {"keepalives_count", "2"},
                                   {"connect_timeout", s(step_down_)}});
    auto conn = std::make_unique<PgConnection>(params, tick_ * 3);
    conn->Exec("SELECT set_config('application_name', $1, false)",
               "obsforge " + options_.name.substr(0, 50));
    try {
      // The server ends a session silent for this long (14+), releasing a vanished leader's
      // lock; older servers rely on the TCP keepalives.
      conn->Exec("SELECT set_config('idle_session_timeout', $1, false)", ms(idle_timeout_));
    } catch (const PgError& e) {
      if (e.kind() != PgError::Kind::kStatement) {
        throw;
      }
    }
    return conn;
  }

  // The name of the session holding the leader lock ("" when none).
  static std::string HolderName(PgConnection& conn) {
    const PgResult r = conn.Exec(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND "
        "l.objid = (hashtext(current_schema())::bigint & 4294967295)::oid AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        PostgresStore::kLeaderLockClass);
    if (r.rows() == 0) {
      return "";
    }
    const std::string name = r.Text(0, "application_name");
    return name.starts_with("obsforge ") ? name.substr(9) : name;
  }

  const PostgresLeadershipOptions options_;
  const PgConnectParams params_;
  std::chrono::milliseconds tick_{};
  std::chrono::milliseconds step_down_{};
  std::chrono::milliseconds idle_timeout_{};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  LeadershipEvents events_;
  bool stopping_ = false;
  bool leading_ = false;
  std::string leader_;
  std::uint64_t changes_ = 0;
  std::thread thread_;
};

core::Result<std::unique_ptr<PostgresLeadership>> PostgresLeadership::Create(
    PostgresLeadershipOptions options) {
  if (auto server = PostgresStore::ServerOf(options.url); !server.ok()) {
    return server.error();
  }
  PgConnectParams params = {{"client_encoding", "UTF8"}, {"dbname", options.url}};
  return std::unique_ptr<PostgresLeadership>(
      new PostgresLeadership(std::make_unique<Impl>(std::move(options), std::move(params))));
}

PostgresLeadership::PostgresLeadership(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}
PostgresLeadership::~PostgresLeadership() = default;
void PostgresLeadership::Start(LeadershipEvents events) {
  impl_->Start(std::move(events));
}
void PostgresLeadership::Stop() {
  impl_->Stop();
}
bool PostgresLeadership::IsLeader() const {
  return impl_->IsLeader();
}
std::string PostgresLeadership::Leader() const {
  return impl_->Leader();
}
std::uint64_t PostgresLeadership::Changes() const {
  return impl_->Changes();
}

}  // namespace obsforge::store
