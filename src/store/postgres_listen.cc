// Store::Subscribe on PostgreSQL: LISTEN on a connection of its own, NOTIFY in the writers'
// transactions (so other processes hear a change once it is committed, never before).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/postgres_db.h"
#include "store/postgres_store.h"
#include <poll.h>

namespace obsforge::store {

void NotifyChange(PgConnection& c, const std::string& stack) {
  // Channels are shared by the database's schemas: the payload names the schema, and a listener
  // keeps its own.
  c.Exec("SELECT pg_notify($1, current_schema() || $2)", PostgresStore::kChangesChannel,
         stack.empty() ? std::string("\tops\t") : "\tenv\t" + stack);
}

class PostgresStore::Listener {
 public:
  Listener(const PgConnectParams& params, std::function<void(const StoreChange&)> on_change)
      : params_(params), on_change_(std::move(on_change)), thread_([this] { Loop(); }) {}
  ~Listener() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  void Loop() {
    bool missed = false;  // a connection was lost: changes may have gone unheard
    while (!Stopping()) {
      try {
        PgConnection conn(params_, std::chrono::milliseconds(5000));
        conn.Exec(std::string("LISTEN ") + kChangesChannel);
        const std::string schema = conn.Exec("SELECT current_schema() AS s").Text(0, "s");
        if (missed) {
          on_change_({.kind = StoreChange::Kind::kOperations});
          on_change_({.kind = StoreChange::Kind::kEnvironment});
        }
        missed = true;
        Listen(conn, schema);
      } catch (const std::exception&) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      }
    }
  }

  // Hands on every notification of `schema` until stopping; throws PgError when the connection
  // breaks.
  void Listen(PgConnection& conn, const std::string& schema) {
    PGconn* native = conn.native();
    while (!Stopping()) {
      pollfd ready{.fd = PQsocket(native), .events = POLLIN, .revents = 0};
      if (::poll(&ready, 1, 200) < 0 || PQconsumeInput(native) == 0 ||
          PQstatus(native) != CONNECTION_OK) {
        throw PgError(PgError::Kind::kConnectionLost, "", "listen connection lost");
      }
      while (PGnotify* n = PQnotifies(native)) {
        const std::string payload = n->extra != nullptr ? n->extra : "";
        PQfreemem(n);
        const auto tab = payload.find('\t');
        const auto tab2 = tab == std::string::npos ? tab : payload.find('\t', tab + 1);
        if (tab2 == std::string::npos || payload.substr(0, tab) != schema) {
          continue;
        }
        const std::string kind = payload.substr(tab + 1, tab2 - tab - 1);
        on_change_({.kind = kind == "ops" ? StoreChange::Kind::kOperations
                                          : StoreChange::Kind::kEnvironment,
                    .stack = payload.substr(tab2 + 1)});
      }
    }
  }

  const PgConnectParams params_;
  const std::function<void(const StoreChange&)> on_change_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Here, where Listener is complete.
PostgresStore::PostgresStore(std::unique_ptr<PgPool> pool, core::Clock& clock)
    : pool_(std::move(pool)), clock_(clock) {
}

PostgresStore::~PostgresStore() = default;

void PostgresStore::Subscribe(std::function<void(const StoreChange&)> on_change) {
  listener_.reset();  // joins: no call to the earlier callback runs after this
  if (on_change) {
    listener_ = std::make_unique<Listener>(pool_->params(), std::move(on_change));
  }
}

}  // namespace obsforge::store
