// Crash safety of the whole server: `obsforge serve` is killed with SIGKILL at random points
// while it creates, updates, applies, rolls back and deletes a stack, and started again on the
// same data directory. After every restart, once its operations have ended:
//  - no operation is queued or running and no step is left open;
//  - the revisions are numbered 1..head without gaps;
//  - every environment of the spec is ready on the revision its newest operation applied (the
//    recovery's re-apply of its last good revision after an interruption), never pending;
//  - the store and the files on disk agree (the revision `current` points at holds the
//    bundle hash the store records);
//  - every component process any server started is either supervised by the running server
//    or gone;
//  - a deleted stack left no state, files or processes behind.
//
// The stack has a `local` environment (fake Loki processes the server supervises) and an
// `external` one (a FakeLoki in this process). A kill point is the request plus a random
// number (0-3) of further server log lines, which this test makes the server write by asking
// it something, or the log lines saying the request's operations finished: events, not time,
// so a kill lands anywhere from "right after the 202" to "after the operation ended" without
// any timing window. The assertions hold for every point.
//
// OBS_CRASH_SEED replays a run; OBS_CRASH_TRIALS sets the number of kill points (50: each is a
// kill, a restart and a re-apply of both environments, about 0.6 s on an idle machine).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "fakes/fake_loki.h"
#include "http/curl_http_client.h"
#include "store/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/obsforge_process.h"
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace obsforge::control {
namespace {

namespace fs = std::filesystem;
using obsforge::testing::Obsforge;
using std::chrono::seconds;

// Upper bound on waiting for a server event: only a failing test waits this long.
constexpr seconds kBound{90};

unsigned EnvNumber(const char* name, unsigned fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? static_cast<unsigned>(std::strtoul(v, nullptr, 10))
                                    : fallback;
}

// A process that exists and is not a zombie.
bool Alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return false;
  }
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

// Waits for `pid` to end (or `deadline`): a pidfd becomes readable when the process exits, so
// this waits on the event rather than polling. True when it has ended.
bool WaitUntilGone(int pid, std::chrono::steady_clock::time_point deadline) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    return !Alive(pid);  // ESRCH: already gone
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
  (void)::poll(&ready, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
  ::close(fd);
  return !Alive(pid);
}

class ServeCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/obsforge-crash-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    fs::create_directories(dir_ / "bin");
    fs::create_symlink(fs::path(OBS_FAKES_BIN_DIR) / "fake-loki", dir_ / "bin" / "loki");
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path Var() const { return dir_ / "var"; }

  void Start() {
    const char* path = std::getenv("PATH");
    server_ = std::make_unique<Obsforge>(
        std::vector<std::string>{"serve", "--listen", "127.0.0.1:0", "--data-dir", Var().string(),
                                 "--content-dir", dir_.string()},
        std::vector<std::string>{"PATH=" + (dir_ / "bin").string() + ":" +
                                 (path != nullptr ? path : "/usr/bin:/bin")});
    ASSERT_GE(server_->out().WaitFor("serving; SIGTERM or Ctrl-C stops it", 0, kBound), 0)
        << server_->out().All() << server_->err().All();
    const std::string all = server_->out().All();
    const auto at = all.find("http://");
    base_ = all.substr(at, all.find(' ', at) - at);
  }

  // Kills the server as a crash would, and remembers every component process it started.
  void Kill() {
    ASSERT_EQ(::kill(server_->pid(), SIGKILL), 0);
    // Every line it wrote: the pipe ends once the process is gone (nothing else holds it).
    (void)server_->err().WaitFor("\n", 0, kBound);
    std::istringstream lines(server_->err().All());
    server_->Wait();
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == "process started") {
        started_.insert(std::stoi(j.value("pid", "0")));
      }
    }
  }

  http::Response Call(const std::string& method,
                      const std::string& path,
                      const std::string& body = "",
                      const std::string& type = "application/yaml") {
    http::Request request{.method = method, .url = base_ + path, .body = body, .timeout = kBound};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", type);
    }
    auto r = client_.Send(request);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }

  std::string Spec(int tier) const {
    return "apiVersion: obsforge/v1\n"
           "kind: Stack\n"
           "metadata: {name: crash}\n"
           "spec:\n"
           "  values: {tier: " +
           std::to_string(tier) +
           "}\n"
           "  components:\n"
           "    loki: {enabled: true}\n"
           "  environments:\n"
           "    dev: {runtime: {type: local}}\n"
           "    prod: {runtime: {type: external, loki: {url: \"" +
           loki_.url() + "\"}}}\n";
  }

  std::unique_ptr<store::SqliteStore> OpenStore() {
    auto store = store::SqliteStore::Open({.path = (Var() / "obsforge.db").string()}, clock_);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Waits until the restarted server has ended every operation (its recovery's included: they
  // are queued before it says "serving"). The server logs a line starting "operation ..." after
  // it records each operation's end (finished, superseded, not started), so the store is read
  // again after each such line, never on a timer; only a failing test waits out kBound.
  void Settle(store::Store& store) {
    std::size_t from = 0;
    while (true) {
      auto unfinished = store.ListUnfinishedOperations();
      ASSERT_TRUE(unfinished.ok()) << unfinished.error().message;
      if (unfinished->empty()) {
        return;
      }
      const int at = server_->err().WaitFor("\"operation ", from, kBound);
      ASSERT_GE(at, 0) << unfinished->size() << " operations unfinished after the restart, "
                       << "first " << unfinished->front().id;
      from = static_cast<std::size_t>(at) + 1;
    }
  }

  // The component processes the running server supervises now.
  std::set<int> Supervised() {
    std::set<int> pids;
    const auto r = Call("GET", "/api/v1/stacks/crash");
    if (r.status != 200) {
      return pids;
    }
    const auto stack = nlohmann::json::parse(r.body);
    for (const auto& [env, view] : stack["environments"].items()) {
      for (const auto& c : view["runtime"].value("components", nlohmann::json::array())) {
        if (c.contains("pid") && c["pid"].is_number_integer() && c["pid"].get<int>() > 0) {
          pids.insert(c["pid"].get<int>());
        }
      }
    }
    return pids;
  }

  // See the file comment. Sets `exists` to whether the stack exists.
  void ExpectInvariants(store::Store& store, const std::string& trace, bool& exists) {
    SCOPED_TRACE(trace);
    auto ops = store.ListOperations({.stack = "crash", .limit = 0});
    EXPECT_TRUE(ops.ok());
    for (const store::Operation& op : *ops) {
      EXPECT_TRUE(store::IsTerminal(op.state)) << op.id;
      auto full = store.GetOperation(op.id);
      ASSERT_TRUE(full.ok()) << op.id;
      for (const store::OperationStep& step : full->steps) {
        EXPECT_TRUE(store::IsTerminal(step.state)) << op.id << " step " << step.name;
      }
    }
    auto stack = store.GetStack("crash");
    exists = stack.ok();
    if (!stack.ok()) {
      EXPECT_TRUE(store.ListEnvironments("crash")->empty());
      EXPECT_FALSE(fs::exists(Var() / "content" / "crash"));
    } else {
      auto revisions = store.ListRevisions("crash", 0);
      EXPECT_EQ(static_cast<std::int64_t>(revisions->size()), stack->revision);
      for (std::size_t i = 0; i < revisions->size(); ++i) {
        EXPECT_EQ((*revisions)[i].number, stack->revision - static_cast<std::int64_t>(i));
      }
      for (const std::string env : {"dev", "prod"}) {
        const store::Operation* last = nullptr;
        for (const store::Operation& op : *ops) {
          if (op.env == env && store::AppliesSpec(op.kind) &&
              op.state != store::OperationState::kSuperseded) {
            last = &op;
            break;
          }
        }
        auto state = store.GetEnvironment("crash", env);
        EXPECT_TRUE(state.ok()) << env;
        if (last == nullptr || !state.ok()) {
          ADD_FAILURE() << env << ": no operation or no state";
          continue;
        }
        EXPECT_EQ(last->state, store::OperationState::kSucceeded)
            << env << " " << last->id << " " << last->error;
        EXPECT_EQ(state->state, "ready") << env << " " << state->message;
        EXPECT_EQ(state->applied_revision, last->revision) << env;
        // What is on disk is what the store says is applied.
        const fs::path root = Var() / "stacks" / "crash" / env;
        std::error_code ec;
        const fs::path current = fs::read_symlink(root / "current", ec);
        if (env == std::string("dev") || !ec) {
          ASSERT_FALSE(ec) << root / "current";
          EXPECT_EQ(core::ReadFile(root / current / "COMPLETE"), state->bundle_hash) << env;
        }
      }
    }
    // No component process is left running unsupervised: the old servers' ones end (their
    // parent died; PR_SET_PDEATHSIG stops them), only the running server's remain.
    const std::set<int> supervised = Supervised();
    for (int pid : supervised) {
      EXPECT_TRUE(Alive(pid)) << "supervised pid " << pid;
    }
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    for (int pid : started_) {
      EXPECT_TRUE(supervised.contains(pid) || WaitUntilGone(pid, deadline))
          << "pid " << pid << " unsupervised";
    }
    exists = stack.ok();
  }

  fs::path dir_;
  fakes::FakeLoki loki_;
  obsforge::testing::FakeClock clock_;
  http::CurlGlobal curl_;
  http::CurlHttpClient client_;
  std::unique_ptr<Obsforge> server_;
  std::string base_;
  std::set<int> started_;
};

TEST_F(ServeCrash, SigkillAtRandomPointsThenRestartReconcilesEveryEnvironment) {
  const unsigned seed = EnvNumber("OBS_CRASH_SEED", 20261205U);
  const unsigned trials = EnvNumber("OBS_CRASH_TRIALS", 50U);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("OBS_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  ASSERT_NO_FATAL_FAILURE(Start());
  bool exists = false;
  std::int64_t head = 0;
  int tier = 0;
  std::map<std::string, int> kills;
  for (unsigned trial = 0; trial < trials; ++trial) {
    std::string action;
    http::Response r;
    if (!exists) {
      action = "create";
      r = Call("POST", "/api/v1/stacks", Spec(++tier));
    } else {
      const std::string env = rng() % 2 == 0 ? "dev" : "prod";
      switch (rng() % 8) {
        case 0:
        case 1:
        case 2:
          action = "put";
          r = Call("PUT", "/api/v1/stacks/crash", Spec(++tier));
          break;
        case 3:
        case 4:
          action = "apply";
          r = Call("POST", "/api/v1/stacks/crash/environments/" + env + "/apply");
          break;
        case 5:
        case 6:
          action = "rollback";
          r = Call("POST", "/api/v1/stacks/crash/environments/" + env + "/rollback",
                   nlohmann::json{{"revision", 1 + static_cast<std::int64_t>(
                                                       rng() % static_cast<unsigned>(head))}}
                       .dump(),
                   "application/json");
          break;
        default:
          action = "delete";
          r = Call("DELETE", "/api/v1/stacks/crash");
          break;
      }
    }
    ASSERT_EQ(r.status, 202) << action << ": " << r.body;
    ++kills[action];
    // The kill point: 0-3 further log lines (each question below logs one), or, one time in
    // four, once the request's operations have all finished.
    const std::size_t lines = server_->err().size();
    const unsigned point = rng() % 16;
    std::string where;
    if (point < 12) {
      const unsigned more = point % 4;
      where = std::to_string(more) + " lines after the 202";
      for (unsigned i = 0; i < more; ++i) {
        (void)Call("GET", "/api/v1/stacks/crash");
        ASSERT_GE(server_->err().WaitFor("", lines + i, kBound), 0);
      }
    } else {
      const auto reply = nlohmann::json::parse(r.body);
      const std::size_t ops =
          reply.contains("operations") ? reply["operations"].size() : std::size_t{1};
      where = "after its " + std::to_string(ops) + " operations";
      int from = static_cast<int>(lines);
      for (std::size_t i = 0; i < ops; ++i) {
        from = server_->err().WaitFor("\"operation finished\"", static_cast<std::size_t>(from),
                                      kBound);
        ASSERT_GE(from, 0) << server_->err().All();
        ++from;
      }
    }
    ASSERT_NO_FATAL_FAILURE(Kill());
    ASSERT_NO_FATAL_FAILURE(Start());
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_NO_FATAL_FAILURE(Settle(*store));
    ExpectInvariants(*store,
                     "trial " + std::to_string(trial) + " (" + action + ", killed " + where + ")",
                     exists);
    if (exists) {
      head = store->GetStack("crash")->revision;
    }
    if (HasFailure()) {
      FAIL() << "server log of the restart:\n" << server_->err().All();
    }
  }
  for (const auto& [action, n] : kills) {
    std::cout << action << ": " << n << " kills\n";
  }
}

}  // namespace
}  // namespace obsforge::control
