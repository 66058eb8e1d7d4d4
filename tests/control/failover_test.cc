// Three `obsforge serve` replicas on one real PostgreSQL (support/postgres_server.h), with
// external-runtime stacks on an in-process FakeLoki and Slack messages to a FakeSlack. A client
// creates, updates and applies stacks through all three while the leader is killed with SIGKILL
// at three points: right after requests were accepted (their operations queued or running),
// right after the leader finished an operation, and while idle. Each time:
//  - another replica leads within the takeover bound (OBSFORGE_LEADER_TAKEOVER), as /readyz says;
//  - the new leader probes the stacks' health (a check of its own health answer has run);
//  - the killed replica is started again and joins as a follower.
// At the end, once every operation has ended:
//  - no operation is queued or running, and each was finished by at most one replica (one
//    "operation finished" line over every replica's log): no operation ran twice;
//  - every environment is ready on the newest revision applied to it;
//  - every Slack message queued was delivered (none pending or dropped) and reached the fake.
// Every wait is on an event (a log line, an answer of /readyz or of the health API, a store
// row); only a failing test waits for kBound.
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_loki.h"
#include "fakes/fake_slack.h"
#include "http/curl_http_client.h"
#include "store/postgres_store.h"
#include "support/fake_clock.h"
#include "support/obsforge_process.h"
#include "support/postgres_server.h"

namespace obsforge::control {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::Obsforge;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr seconds kBound{90};
// The takeover bound the replicas run with, and what the test holds them to.
constexpr milliseconds kTakeover{3000};
constexpr const char* kSecretsKey =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct Replica {
  std::string id;
  std::unique_ptr<Obsforge> process;
  std::string base;
};

class Failover : public ::testing::Test {
 protected:
  void SetUp() override {
    obsforge::testing::RequirePostgres(pg_);
    if (pg_ == nullptr) {
      return;
    }
    auto url = pg_->NewSchemaUrl("failover");
    ASSERT_TRUE(url.has_value());
    url_ = *url;
    char templ[] = "/tmp/obsforge-failover-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    for (int i = 0; i < 3; ++i) {
      Start(i, "r" + std::to_string(i));
    }
  }
  void TearDown() override {
    replicas_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Start(int slot, const std::string& id) {
    replicas_.resize(3);
    Replica& r = replicas_[slot];
    r.id = id;
    r.process = std::make_unique<Obsforge>(
        std::vector<std::string>{"serve", "--store", url_, "--replicas", "3", "--listen",
                                 "127.0.0.1:0", "--data-dir", (dir_ / ("var-" + id)).string(),
                                 "--content-dir", dir_.string()},
        std::vector<std::string>{
            "OBSFORGE_REPLICA_ID=" + id,
            "OBSFORGE_LEADER_TAKEOVER=" + std::to_string(kTakeover.count()) + "ms",
            "OBSFORGE_OPERATION_LEASE=2s", std::string("OBSFORGE_SECRETS_KEY=") + kSecretsKey});
    ASSERT_GE(r.process->out().WaitFor("serving; SIGTERM or Ctrl-C stops it", 0, kBound), 0)
        << r.process->out().All() << r.process->err().All();
    const std::string all = r.process->out().All();
    const auto at = all.find("http://");
    r.base = all.substr(at, all.find(' ', at) - at);
  }

  http::Response Call(const Replica& r,
                      const std::string& method,
                      const std::string& path,
                      const std::string& body = "",
                      const std::string& type = "application/yaml") {
    http::Request request{.method = method, .url = r.base + path, .body = body, .timeout = kBound};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", type);
    }
    auto response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    return response.ok() ? *response : http::Response{};
  }

  std::string Spec(const std::string& name, int tier) const {
    return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + name +
           "}\nspec:\n  values: {tier: " + std::to_string(tier) +
           "}\n  components:\n    loki: {enabled: true}\n  health:\n    interval: 1s\n"
           "    slack:\n      webhook: {secret: SLACK_WEBHOOK_URL}\n  environments:\n"
           "    prod: {runtime: {type: external, loki: {url: \"" +
           loki_.url() + "\"}}}\n";
  }

  // Creates stack `name` through `r` (its webhook secret first).
  void Create(const Replica& r, const std::string& name) {
    ASSERT_EQ(Call(r, "PUT", "/api/v1/stacks/" + name + "/secrets/SLACK_WEBHOOK_URL",
                   slack_.WebhookUrl(), "text/plain")
                      .status /
                  100,
              2);
    const auto created = Call(r, "POST", "/api/v1/stacks", Spec(name, 1));
    ASSERT_EQ(created.status, 202) << created.body;
    stacks_.push_back(name);
  }

  void Update(const Replica& r, const std::string& name, int tier) {
    const auto updated = Call(r, "PUT", "/api/v1/stacks/" + name, Spec(name, tier));
    ASSERT_EQ(updated.status, 202) << updated.body;
  }

  void Apply(const Replica& r, const std::string& name) {
    const auto applied = Call(r, "POST", "/api/v1/stacks/" + name + "/environments/prod/apply",
                              "{}", "application/json");
    ASSERT_EQ(applied.status, 202) << applied.body;
  }

  // The slot of the replica /readyz names as leading, once one does; -1 after kBound.
  int WaitLeader(int except = -1) {
    const auto deadline = Clock::now() + kBound;
    while (Clock::now() < deadline) {
      for (int i = 0; i < 3; ++i) {
        if (i == except || !replicas_[i].process) {
          continue;
        }
        const auto ready = Call(replicas_[i], "GET", "/readyz");
        const auto body = nlohmann::json::parse(ready.body, nullptr, false);
        if (ready.status == 200 && body.value("leading", false)) {
          EXPECT_EQ(body.value("leader", ""), replicas_[i].id);
          return i;
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return -1;
  }

  // Kills the replica in `slot` as a crash would, keeping every line it wrote.
  void Kill(int slot) {
    Replica& r = replicas_[slot];
    ASSERT_EQ(::kill(r.process->pid(), SIGKILL), 0);
    (void)r.process->err().WaitFor("\x01 end of file", 0, kBound);  // the pipe closes
    logs_ += r.process->err().All();
    r.process->Wait();
    r.process.reset();
  }

  // Waits until `leader` has probed a check of `stack` itself.
  void ExpectProbedBy(const Replica& leader, const std::string& stack) {
    const auto deadline = Clock::now() + kBound;
    while (Clock::now() < deadline) {
      const auto health =
          Call(leader, "GET", "/api/v1/stacks/" + stack + "/environments/prod/health");
      const auto body = nlohmann::json::parse(health.body, nullptr, false);
      for (const auto& c : body.value("components", nlohmann::json::array())) {
        for (const auto& check : c.value("checks", nlohmann::json::array())) {
          if (check.contains("last_run")) {
            return;
          }
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << leader.id << " never probed " << stack;
  }

  // Kills the leader, checks the takeover, starts the killed one again as `new_id`.
  void KillLeader(int leader, const std::string& new_id) {
    const auto killed = Clock::now();
    Kill(leader);
    const int next = WaitLeader(leader);
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
    ASSERT_GE(next, 0) << "no new leader";
    EXPECT_LE(took, kTakeover) << replicas_[next].id << " took over after " << took.count()
                               << " ms";
    takeovers_ += (takeovers_.empty() ? "" : ", ") + std::to_string(took.count()) + " ms";
    if (!stacks_.empty()) {
      ExpectProbedBy(replicas_[next], stacks_.front());
    }
    Start(leader, new_id);
  }

  obsforge::testing::PostgresServer* pg_ = nullptr;
  std::string url_;
  fs::path dir_;
  fakes::FakeLoki loki_;
  fakes::FakeSlack slack_;
  http::CurlHttpClient client_;
  std::vector<Replica> replicas_;
  std::vector<std::string> stacks_;
  std::string logs_;       // of the killed replicas
  std::string takeovers_;  // how long each took
  obsforge::testing::FakeClock clock_;
};

TEST_F(Failover, AKilledLeaderIsReplacedInTimeAndNoOperationRunsTwiceOrIsLost) {
  if (pg_ == nullptr) {
    return;
  }
  int leader = WaitLeader();
  ASSERT_GE(leader, 0);
  // Point 1: right after requests were accepted through every replica.
  for (int i = 0; i < 3; ++i) {
    Create(replicas_[i], "s" + std::to_string(i));
  }
  KillLeader(leader, "r3");
  leader = WaitLeader();
  ASSERT_GE(leader, 0);

  // Point 2: right after the leader finished an operation it claimed.
  const std::size_t from = replicas_[leader].process->err().size();
  for (int i = 0; i < 3; ++i) {
    Update(replicas_[i], "s" + std::to_string(i), 2);
    Apply(replicas_[(i + 1) % 3], "s" + std::to_string(i));
  }
  Create(replicas_[leader], "s3");
  ASSERT_GE(replicas_[leader].process->err().WaitFor("operation finished", from, kBound), 0);
  KillLeader(leader, "r4");
  leader = WaitLeader();
  ASSERT_GE(leader, 0);

  // Point 3: idle, once every operation has ended.
  auto opened = store::PostgresStore::Open({.url = url_, .max_connections = 2}, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::PostgresStore& db = **opened;
  const auto settle = [&] {
    const auto deadline = Clock::now() + kBound;
    while (Clock::now() < deadline) {
      auto unfinished = db.ListUnfinishedOperations();
      ASSERT_TRUE(unfinished.ok());
      if (unfinished->empty()) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "operations still unfinished";
  };
  settle();
  KillLeader(leader, "r5");
  for (int i = 0; i < 3; ++i) {
    Update(replicas_[i], "s" + std::to_string(i), 3);
  }
  settle();

  // Each operation ended once, by at most one replica.
  for (const Replica& r : replicas_) {
    (void)r.process->err().size();
    logs_ += r.process->err().All();
  }
  std::map<std::string, int> finished;
  std::istringstream lines(logs_);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "operation finished") {
      ++finished[j.value("op", "")];
    }
  }
  auto ops = db.ListOperations({.limit = 0});
  ASSERT_TRUE(ops.ok());
  ASSERT_FALSE(ops->empty());
  for (const store::Operation& op : *ops) {
    EXPECT_TRUE(store::IsTerminal(op.state)) << op.id;
    EXPECT_LE(finished[op.id], 1) << op.id << " finished by more than one replica";
    if (op.state != store::OperationState::kSuperseded &&
        op.error.find("interrupted") == std::string::npos) {
      EXPECT_EQ(finished[op.id], 1) << op.id << " " << store::Name(op.state) << " " << op.error;
    }
  }
  // Every environment converged on the newest revision applied to it.
  for (const std::string& name : stacks_) {
    auto env = db.GetEnvironment(name, "prod");
    ASSERT_TRUE(env.ok()) << name;
    EXPECT_EQ(env->state, "ready") << name << ": " << env->message;
    auto stack = db.GetStack(name);
    ASSERT_TRUE(stack.ok());
    EXPECT_EQ(env->applied_revision, stack->revision) << name;
  }
  // No Slack message lost: the outbox empties, and each message reached the fake.
  const auto deadline = Clock::now() + kBound;
  while (Clock::now() < deadline && !db.ListPendingOutbox(0)->empty()) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(db.ListPendingOutbox(0)->empty());
  std::int64_t delivered = 0;
  for (std::int64_t id = 1;; ++id) {
    auto m = db.GetOutbox(id);
    if (!m.ok()) {
      break;
    }
    EXPECT_EQ(m->dropped_at, 0) << m->dropped_reason;
    EXPECT_GT(m->delivered_at, 0) << id;
    ++delivered;
  }
  EXPECT_GE(delivered, static_cast<std::int64_t>(stacks_.size()));  // each create announced
  int interrupted = 0;
  for (const store::Operation& op : *ops) {
    interrupted += op.error.find("interrupted") != std::string::npos ? 1 : 0;
  }
  std::cerr << "[failover] " << ops->size() << " operations (" << interrupted
            << " interrupted and re-applied), " << delivered
            << " Slack messages, takeovers: " << takeovers_ << "\n";
  EXPECT_GE(static_cast<std::int64_t>(slack_.Messages().size()), delivered);
}

}  // namespace
}  // namespace obsforge::control
