// Three `obsforge serve` replicas on one real PostgreSQL (support/postgres_server.h), with
// external-runtime stacks on an in-process FakeLoki and Slack messages to a FakeSlack. A client
// creates, updates and applies stacks through all three while the leader is killed with SIGKILL
// at three points: right after requests were accepted (their operations queued or running),
// right after the leader finished an operation, and while idle. Each time:
//  - another replica leads within the takeover bound (OBSFORGE_LEADER_TAKEOVER), as /readyz says;
//  - the new leader probes the stacks' health (a check of its own health answer has run);
//  - the killed replica is started again and joins as a follower.
// A GitOps source (a local bare repository) is watched throughout: a commit pushed after the
// second kill is synced and applied by the new leader.
// At the end, once every operation has ended:
//  - no operation is queued or running, and each was finished by at most one replica (one
//    "operation finished" line over every replica's log): no operation ran twice;
//  - every environment is ready on the newest revision applied to it;
//  - every Slack message queued was delivered (none pending or dropped) and reached the fake;
//  - a follower answers live health from the store: the state the leader recorded, who leads.
// Every wait is on an event (a log line of a replica: "leadership acquired", "environment health
// changed", "gitops sync", "operation finished", "slack message delivered"), after which the
// store or the API is read once; only a failing test waits for kBound.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_loki.h"
#include "fakes/fake_slack.h"
#include "gitops/test_repo.h"
#include "http/curl_http_client.h"
#include "store/postgres_store.h"
#include "support/fake_clock.h"
#include "support/obsforge_process.h"
#include "support/postgres_server.h"

namespace obsforge::control {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::Lines;
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
    std::string templ = "/tmp/obsforge-failover-XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    repo_ = std::make_unique<gitops::testing::TestRepo>(dir_ / "remote.git");
    // Every replica watches the source; only the leader polls it.
    std::ofstream(dir_ / "obsforge.yaml") << "gitops:\n  - {repo: '" << repo_->Url()
                                          << "', path: stacks, poll: 200ms, auto_apply: [prod]}\n";
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
        std::vector<std::string>{"serve", "--config", (dir_ / "obsforge.yaml").string(), "--store",
                                 url_, "--replicas", "3", "--listen", "127.0.0.1:0", "--data-dir",
                                 (dir_ / ("var-" + id)).string(), "--content-dir", dir_.string()},
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

  // The stack the GitOps source holds (no Slack: its messages are the API stacks').
  std::string GitSpec(int tier) const {
    return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: g}\nspec:\n  values: {tier: " +
           std::to_string(tier) +
           "}\n  components:\n    loki: {enabled: true}\n  environments:\n"
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

  // Every running replica's stderr but slot `except`'s, from where it is now (or from its
  // first line).
  std::vector<std::pair<Lines*, std::size_t>> LogsFromNow(bool from_start = false,
                                                          int except = -1) {
    std::vector<std::pair<Lines*, std::size_t>> sources;
    for (int i = 0; i < static_cast<int>(replicas_.size()); ++i) {
      Replica& r = replicas_[i];
      if (r.process && i != except) {
        sources.emplace_back(&r.process->err(), from_start ? 0 : r.process->err().size());
      }
    }
    return sources;
  }

  // The slot of the replica that logged "leadership acquired" in `logs` (as LogsFromNow() gave
  // them); /readyz of that replica must then say it leads. -1 when none did within kBound.
  int WaitLeader(const std::vector<std::pair<Lines*, std::size_t>>& logs) {
    const auto seen = obsforge::testing::WaitForAny(logs, {"\"leadership acquired\""}, kBound);
    if (!seen) {
      return -1;
    }
    for (int i = 0; i < 3; ++i) {
      if (replicas_[i].process && &replicas_[i].process->err() == logs[seen->source].first) {
        const auto ready =
            nlohmann::json::parse(Call(replicas_[i], "GET", "/readyz").body, nullptr, false);
        EXPECT_TRUE(ready.value("leading", false)) << ready.dump();
        EXPECT_EQ(ready.value("leader", ""), replicas_[i].id);
        leader_from_ = static_cast<std::size_t>(seen->line);
        return i;
      }
    }
    return -1;
  }

  // Whether a worker ran `op` to its end, and so logged "operation finished": not a GitOps sync
  // (recorded as ended by the leader that synced), not superseded before it ran, not failed
  // because the replica running it died.
  static bool EndedByAWorker(const store::Operation& op) {
    return op.kind != store::OperationKind::kSync &&
           op.state != store::OperationState::kSuperseded &&
           op.error.find("interrupted") == std::string::npos;
  }

  // Whether a line of `logs` contains every one of `texts`.
  static bool HasLine(const std::string& logs, const std::vector<std::string>& texts) {
    std::istringstream lines(logs);
    for (std::string line; std::getline(lines, line);) {
      if (std::all_of(texts.begin(), texts.end(), [&](const std::string& text) {
            return line.find(text) != std::string::npos;
          })) {
        return true;
      }
    }
    return false;
  }

  // Kills the replica in `slot` as a crash would, keeping every line it wrote.
  void Kill(int slot) {
    Replica& r = replicas_[slot];
    ASSERT_EQ(::kill(r.process->pid(), SIGKILL), 0);
    killed_.insert(r.id);
    (void)r.process->err().WaitFor("\x01 end of file", 0, kBound);  // the pipe closes
    logs_ += r.process->err().All();
    r.process->Wait();
    r.process.reset();
  }

  // Waits until `leader` (leading since its line leader_from_) has probed `stack`: only a probe
  // moves an environment out of "unknown", and the leader logs it.
  void ExpectProbedBy(int leader, const std::string& stack) {
    EXPECT_GE(replicas_[leader].process->err().WaitForAll(
                  {"\"environment health changed\"", "\"stack\":\"" + stack + "\"",
                   "\"from\":\"unknown\""},
                  leader_from_, kBound),
              0)
        << replicas_[leader].id << " never probed " << stack;
  }

  // Kills the leader, checks the takeover, starts the killed one again as `new_id`; the new
  // leader's slot.
  int KillLeader(int leader, const std::string& new_id) {
    // The survivors' logs from before the kill: one of them may take over before Kill returns
    // (it waits for the killed one's pipe to close), and its line must not be missed.
    const auto survivors = LogsFromNow(/*from_start=*/false, /*except=*/leader);
    const auto killed = Clock::now();
    Kill(leader);
    const int next = WaitLeader(survivors);  // every survivor was a follower until now
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
    EXPECT_GE(next, 0) << "no new leader";
    if (next < 0) {
      return next;
    }
    EXPECT_LE(took, kTakeover) << replicas_[next].id << " took over after " << took.count()
                               << " ms";
    takeovers_ += (takeovers_.empty() ? "" : ", ") + std::to_string(took.count()) + " ms";
    if (!stacks_.empty()) {
      ExpectProbedBy(next, stacks_.front());
    }
    Start(leader, new_id);
    return next;
  }

  // Waits until no operation is queued or running: the store is read again after each line of
  // any replica about an operation's end ("operation finished", "abandoned operation failed").
  void Settle(store::Store& db) {
    while (true) {
      const auto logs = LogsFromNow();  // before the read: no end is missed
      auto unfinished = db.ListUnfinishedOperations();
      ASSERT_TRUE(unfinished.ok());
      if (unfinished->empty()) {
        return;
      }
      ASSERT_TRUE(obsforge::testing::WaitForAny(logs, {"operation "}, kBound))
          << unfinished->size() << " operations unfinished, first " << unfinished->front().id;
    }
  }

  // Waits until the Slack outbox is empty: read again after each "slack message delivered" of
  // `leader` (only the leader sends).
  void DrainOutbox(store::Store& db, int leader) {
    Lines& log = replicas_[leader].process->err();
    while (true) {
      const std::size_t from = log.size();
      auto pending = db.ListPendingOutbox(0);
      ASSERT_TRUE(pending.ok());
      if (pending->empty()) {
        return;
      }
      ASSERT_GE(log.WaitFor("\"slack message delivered\"", from, kBound), 0)
          << pending->size() << " Slack messages pending";
    }
  }

  obsforge::testing::PostgresServer* pg_ = nullptr;
  std::string url_;
  fs::path dir_;
  fakes::FakeLoki loki_;
  fakes::FakeSlack slack_;
  http::CurlHttpClient client_;
  std::vector<Replica> replicas_;
  std::vector<std::string> stacks_;
  std::unique_ptr<gitops::testing::TestRepo> repo_;
  std::string logs_;              // of the killed replicas
  std::set<std::string> killed_;  // their ids
  std::string takeovers_;         // how long each took
  std::size_t leader_from_ = 0;   // the line where the last leader found said it leads
  obsforge::testing::FakeClock clock_;
};

TEST_F(Failover, AKilledLeaderIsReplacedInTimeAndNoOperationRunsTwiceOrIsLost) {
  if (pg_ == nullptr) {
    return;
  }
  int leader = WaitLeader(LogsFromNow(/*from_start=*/true));
  ASSERT_GE(leader, 0);
  const std::string first_sha = repo_->Commit({{"stacks/g.yaml", GitSpec(1)}}, "g, tier 1");
  ASSERT_GE(replicas_[leader].process->err().WaitForAll({"\"gitops sync\"", first_sha},
                                                        leader_from_, kBound),
            0);
  // Point 1: right after requests were accepted through every replica.
  for (int i = 0; i < 3; ++i) {
    Create(replicas_[i], "s" + std::to_string(i));
  }
  leader = KillLeader(leader, "r3");
  ASSERT_GE(leader, 0);

  // Point 2: right after the leader finished an operation it claimed. Whichever replica
  // received an operation, any replica may claim it, so the leader may run none of these: one
  // more apply is sent after each operation's end until the leader has finished one (a third of
  // them go to it, on average).
  const std::size_t from = replicas_[leader].process->err().size();
  for (int i = 0; i < 3; ++i) {
    Update(replicas_[i], "s" + std::to_string(i), 2);
    Apply(replicas_[(i + 1) % 3], "s" + std::to_string(i));
  }
  Create(replicas_[leader], "s3");
  for (int sent = 0; replicas_[leader].process->err().Find({"\"operation finished\""}, from) < 0;
       ++sent) {
    ASSERT_LT(sent, 40) << replicas_[leader].id << " ran none of 40 more operations";
    const auto logs = LogsFromNow();
    Apply(replicas_[leader], "s3");
    ASSERT_TRUE(obsforge::testing::WaitForAny(logs, {"\"operation finished\""}, kBound));
  }
  leader = KillLeader(leader, "r4");
  ASSERT_GE(leader, 0);
  // GitOps goes on: a commit pushed after the kill is synced by the new leader.
  const std::string second_sha = repo_->Commit({{"stacks/g.yaml", GitSpec(2)}}, "g, tier 2");
  ASSERT_GE(replicas_[leader].process->err().WaitForAll({"\"gitops sync\"", second_sha},
                                                        leader_from_, kBound),
            0)
      << replicas_[leader].id << " did not sync " << second_sha;

  // Point 3: idle, once every operation has ended.
  auto opened = store::PostgresStore::Open({.url = url_, .max_connections = 2}, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::PostgresStore& db = **opened;
  Settle(db);
  leader = KillLeader(leader, "r5");
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 3; ++i) {
    Update(replicas_[i], "s" + std::to_string(i), 3);
  }
  Settle(db);

  // The GitOps stack runs the commit pushed after the kill.
  auto g = db.GetStack("g");
  ASSERT_TRUE(g.ok()) << g.error().message;
  auto g_revision = db.GetRevision("g", g->revision);
  ASSERT_TRUE(g_revision.ok());
  EXPECT_EQ(g_revision->commit_sha, second_sha);
  auto g_env = db.GetEnvironment("g", "prod");
  ASSERT_TRUE(g_env.ok());
  EXPECT_EQ(g_env->state, "ready") << g_env->message;
  EXPECT_EQ(g_env->applied_revision, g->revision);

  auto ops = db.ListOperations({.limit = 0});
  ASSERT_TRUE(ops.ok());
  ASSERT_FALSE(ops->empty());
  // A replica records an operation's end in the store, then logs "operation finished": Settle,
  // which reads the store, can return between the two. Each such line is waited for, in the
  // logs of the killed replicas (complete) or else of the live ones.
  // A replica killed between recording an operation's end and logging it never logs it: such
  // an operation, claimed by a killed replica, may have no line (and still at most one).
  const auto unlogged_by_the_killed = [&](const store::Operation& op) {
    return killed_.contains(op.owner) && !HasLine(logs_, {"\"operation finished\"", op.id});
  };
  for (const store::Operation& op : *ops) {
    if (EndedByAWorker(op) && !unlogged_by_the_killed(op) &&
        !HasLine(logs_, {"\"operation finished\"", op.id})) {
      EXPECT_TRUE(obsforge::testing::WaitForAny(LogsFromNow(/*from_start=*/true),
                                                {"\"operation finished\"", op.id}, kBound))
          << op.id << " ended in the store but no replica logged it";
    }
  }
  // Each operation ended once, by at most one replica.
  for (const Replica& r : replicas_) {
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
  for (const store::Operation& op : *ops) {
    EXPECT_TRUE(store::IsTerminal(op.state)) << op.id;
    EXPECT_LE(finished[op.id], 1) << op.id << " finished by more than one replica";
    if (EndedByAWorker(op) && !unlogged_by_the_killed(op)) {
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
  DrainOutbox(db, leader);
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
  // A follower answers live health from the store: the state of the newest change the leader
  // recorded (read again while changes keep coming: a re-watch after an apply records two).
  const int follower = (leader + 1) % 3;
  bool compared = false;
  for (int tries = 0; tries < 10 && !compared; ++tries) {
    auto before = db.ListHealthEvents({.stack = "s0", .env = "prod", .limit = 1});
    const auto health = nlohmann::json::parse(
        Call(replicas_[follower], "GET", "/api/v1/stacks/s0/environments/prod/health").body,
        nullptr, false);
    auto after = db.ListHealthEvents({.stack = "s0", .env = "prod", .limit = 1});
    ASSERT_TRUE(before.ok() && after.ok());
    ASSERT_FALSE(after->empty()) << "no health recorded";
    if (before->empty() || before->front().id != after->front().id) {
      continue;  // a change was recorded meanwhile
    }
    EXPECT_EQ(health.value("watched", true), false) << health.dump();
    EXPECT_EQ(health.value("recorded", false), true) << health.dump();
    EXPECT_EQ(health.value("leader", ""), replicas_[leader].id) << health.dump();
    auto envs = db.ListHealthEvents({.stack = "s0", .env = "prod", .limit = 1000});
    ASSERT_TRUE(envs.ok());
    std::string env_state = "unknown";
    for (const store::HealthEvent& e : *envs) {
      if (e.component.empty()) {
        env_state = e.to_state;
        break;
      }
    }
    EXPECT_EQ(health.value("state", ""), env_state) << health.dump();
    ASSERT_FALSE(health["components"].empty()) << health.dump();
    EXPECT_EQ(health["components"][0].value("name", ""), "loki");
    EXPECT_FALSE(health["components"][0]["checks"].empty()) << health.dump();
    compared = true;
  }
  EXPECT_TRUE(compared) << "the health of s0 kept changing";

  std::cerr << "[failover] " << ops->size() << " operations (" << interrupted
            << " interrupted and re-applied), " << delivered
            << " Slack messages, takeovers: " << takeovers_ << "\n";
  EXPECT_GE(static_cast<std::int64_t>(slack_.Messages().size()), delivered);
}

// Each replica keeps the revisions it applied in its own data_dir. r0 applies revision 1, r1
// then applies revision 2, and a rollback to revision 1 through r0 must not be taken as
// "unchanged" because r0's own last good revision is revision 1's bundle: the store says r1's
// is live, so r0 applies in full. (Only one replica runs at each step, so the test knows which
// one applies.)
TEST_F(Failover, AReplicaWhoseRevisionsAreBehindTheStoreAppliesInFull) {
  if (pg_ == nullptr) {
    return;
  }
  const auto finished = [&](int slot, std::size_t from) {
    return replicas_[slot].process->err().WaitForAll(
        {"\"operation finished\"", R"("stack":"s")", R"("state":"succeeded")"}, from, kBound);
  };
  replicas_[1].process.reset();  // stopped (SIGTERM): r0 runs alone
  replicas_[2].process.reset();
  Create(replicas_[0], "s");
  ASSERT_GE(finished(0, 0), 0);

  Start(1, "r1");  // r1 alone applies revision 2
  replicas_[0].process.reset();
  Update(replicas_[1], "s", 2);
  ASSERT_GE(finished(1, 0), 0);

  Start(0, "r0");  // r0 again, its data_dir as it left it
  replicas_[1].process.reset();
  const auto rolled = Call(replicas_[0], "POST", "/api/v1/stacks/s/environments/prod/rollback",
                           R"({"revision": 1})", "application/json");
  ASSERT_EQ(rolled.status, 202) << rolled.body;
  const std::string id = nlohmann::json::parse(rolled.body)
                             .value("operation", nlohmann::json::object())
                             .value("id", "");
  ASSERT_GE(replicas_[0].process->err().WaitForAll(
                {"\"operation finished\"", "\"op\":\"" + id + "\""}, 0, kBound),
            0);
  EXPECT_GE(replicas_[0].process->err().Find(
                {"environment applied by another replica since", "\"stack\":\"s\""}, 0),
            0)
      << replicas_[0].process->err().All();
  auto opened = store::PostgresStore::Open({.url = url_, .max_connections = 1}, clock_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto op = (*opened)->GetOperation(id);
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->state, store::OperationState::kSucceeded) << op->error;
  const auto result = nlohmann::json::parse(op->result_json, nullptr, false);
  EXPECT_EQ(result.value("outcome", ""), "applied") << op->result_json;
  auto env = (*opened)->GetEnvironment("s", "prod");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->applied_revision, 1);
}

}  // namespace
}  // namespace obsforge::control
