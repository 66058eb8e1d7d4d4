// Replicas on one PostgreSQL (bench/README.md "Replicas"): operations per second and API
// throughput with 1 and with 3 `obsforge serve` processes sharing a store, and the failover time
// from killing the leader to the first health probe by the new one (median of 10).
//
//   build/release/bench/replicas_bench build/release [--stacks 30] [--applies 120]
//
// Starts its own PostgreSQL as the tests do (support/postgres_server.h; OBS_TEST_POSTGRES_URL
// uses a running one) and external-runtime stacks on an in-process FakeLoki.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/fake_loki.h"
#include "http/curl_http_client.h"

namespace {
std::string g_binary_dir;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}  // namespace
#define OBS_BINARY_DIR g_binary_dir
#include "support/obsforge_process.h"
#include "support/postgres_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using obsforge::testing::Obsforge;
using std::chrono::milliseconds;

struct Replica {
  std::unique_ptr<Obsforge> process;
  std::string base;
};

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

class Bench {
 public:
  Bench(obsforge::testing::PostgresServer& pg, int stacks, int applies)
      : pg_(pg), stacks_(stacks), applies_(applies) {
    std::string templ = "/tmp/obsforge-replicas-bench-XXXXXX";
    dir_ = ::mkdtemp(templ.data());
  }
  ~Bench() {
    replicas_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;
  Bench(Bench&&) = delete;
  Bench& operator=(Bench&&) = delete;

  void Fresh(int n) {
    replicas_.clear();
    url_ = *pg_.NewSchemaUrl("bench");
    for (int i = 0; i < n; ++i) {
      replicas_.push_back(Start("b" + std::to_string(next_++)));
    }
  }

  // Starts replica `id`; throws std::runtime_error (its stderr) when it does not serve.
  Replica Start(const std::string& id) {
    Replica r;
    r.process = std::make_unique<Obsforge>(
        std::vector<std::string>{"serve", "--store", url_, "--replicas", "3", "--listen",
                                 "127.0.0.1:0", "--data-dir", dir_ + "/var-" + id, "--content-dir",
                                 dir_},
        std::vector<std::string>{"OBSFORGE_REPLICA_ID=" + id});
    if (r.process->out().WaitFor("serving;", 0, std::chrono::seconds(60)) < 0) {
      throw std::runtime_error(r.process->err().All());
    }
    const std::string all = r.process->out().All();
    const auto at = all.find("http://");
    r.base = all.substr(at, all.find(' ', at) - at);
    return r;
  }

  std::string Spec(const std::string& name) const {
    return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + name +
           "}\nspec:\n  components:\n    loki: {enabled: true}\n  health:\n    interval: 1s\n"
           "  environments:\n    prod: {runtime: {type: external, loki: {url: \"" +
           loki_.url() + "\"}}}\n";
  }

  static obsforge::http::Response Call(const Replica& r,
                                       const std::string& method,
                                       const std::string& path,
                                       const std::string& body = "",
                                       const std::string& type = "application/yaml") {
    obsforge::http::Request request{
        .method = method, .url = r.base + path, .body = body, .timeout = std::chrono::seconds(60)};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", type);
    }
    auto response = obsforge::http::CurlHttpClient().Send(request);
    return response.ok() ? *response : obsforge::http::Response{};
  }

  // Waits until operation `id` ended (asked of replica `r`); the operation.
  static nlohmann::json WaitOperation(const Replica& r, const std::string& id) {
    while (true) {
      const auto got = Call(r, "GET", "/api/v1/operations/" + id);
      auto body = nlohmann::json::parse(got.body, nullptr, false);
      const std::string state = body.is_object() ? body.value("state", "") : "";
      if (got.status == 200 && state != "queued" && state != "running") {
        return body;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  // `count` requests from 8 clients, each to the replicas in turn; returns the ids `each`
  // returned (operations) and the elapsed time.
  template <class F>
  double Clients(int count, F each) {
    std::atomic<int> next{0};
    std::vector<std::thread> clients;
    clients.reserve(8);
    const auto started = Clock::now();
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&] {
        for (int i = next++; i < count; i = next++) {
          each(replicas_[static_cast<std::size_t>(i) % replicas_.size()], i);
        }
      });
    }
    for (auto& t : clients) {
      t.join();
    }
    return Seconds(Clock::now() - started);
  }

  void Throughput(int n) {
    Fresh(n);
    Clients(stacks_, [&](const Replica& r, int i) {
      const auto created = Call(r, "POST", "/api/v1/stacks", Spec("s" + std::to_string(i)));
      const auto body = nlohmann::json::parse(created.body, nullptr, false);
      WaitOperation(r, body["operations"][0]["id"].get<std::string>());
    });
    // Operations: applies submitted by 8 clients and waited for, end to end. Each apply's
    // outcome ("applied": the replica activated the bundle in full, "unchanged": its own last
    // good revision was the same bundle) and end-to-end time are kept apart, so that the cost
    // of replicas that never applied a stack shows.
    std::mutex mu;
    std::map<std::string, std::vector<double>> by_outcome;
    const double ops = Clients(applies_, [&](const Replica& r, int i) {
      const auto sent = Clock::now();
      const auto applied = Call(
          r, "POST", "/api/v1/stacks/s" + std::to_string(i % stacks_) + "/environments/prod/apply",
          "{}", "application/json");
      const auto body = nlohmann::json::parse(applied.body, nullptr, false);
      if (body.is_object() && body.contains("operation")) {
        const auto op = WaitOperation(r, body["operation"]["id"].get<std::string>());
        const auto result = op.value("result", nlohmann::json::object());
        const std::lock_guard lock(mu);
        by_outcome[result.is_object() ? result.value("outcome", "?") : "?"].push_back(
            Seconds(Clock::now() - sent));
      }
    });
    // API: GET stack for 3 s-worth of requests.
    const int gets = 3000;
    const double api = Clients(gets, [&](const Replica& r, int i) {
      (void)Call(r, "GET", "/api/v1/stacks/s" + std::to_string(i % stacks_));
    });
    std::printf(
        "%d replica(s): %d applies in %.2f s = %.1f ops/s; %d GET stack in %.2f s = %.0f "
        "req/s\n",
        n, applies_, ops, applies_ / ops, gets, api, gets / api);
    for (auto& [outcome, times] : by_outcome) {
      std::sort(times.begin(), times.end());
      std::printf("  %s: %zu applies, median %.1f ms end to end\n", outcome.c_str(), times.size(),
                  times[times.size() / 2] * 1000);
    }
  }

  int Leader() {
    while (true) {
      for (std::size_t i = 0; i < replicas_.size(); ++i) {
        const auto ready = Call(replicas_[i], "GET", "/readyz");
        const auto body = nlohmann::json::parse(ready.body, nullptr, false);
        if (body.is_object() && body.value("leading", false)) {
          return static_cast<int>(i);
        }
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  void Failover(int rounds) {
    Fresh(3);
    const auto created = Call(replicas_[0], "POST", "/api/v1/stacks", Spec("f"));
    const auto body = nlohmann::json::parse(created.body, nullptr, false);
    WaitOperation(replicas_[0], body["operations"][0]["id"].get<std::string>());
    std::vector<double> probe;
    std::vector<double> lead;
    probe.reserve(static_cast<std::size_t>(rounds));
    lead.reserve(static_cast<std::size_t>(rounds));
    for (int round = 0; round < rounds; ++round) {
      const int leader = Leader();
      // Probes reach the fake: the leader watches the stack.
      const int seen = loki_.server().TotalRequests();
      while (loki_.server().TotalRequests() == seen) {
        std::this_thread::sleep_for(milliseconds(5));
      }
      ::kill(replicas_[leader].process->pid(), SIGKILL);
      const auto killed = Clock::now();
      replicas_[leader].process->Wait();
      const int before = loki_.server().TotalRequests();  // the dead leader sends no more
      std::optional<double> led;
      while (loki_.server().TotalRequests() == before) {
        if (!led) {
          for (std::size_t i = 0; i < replicas_.size(); ++i) {
            if (static_cast<int>(i) == leader) {
              continue;
            }
            const auto ready = Call(replicas_[i], "GET", "/readyz");
            if (nlohmann::json::parse(ready.body, nullptr, false).value("leading", false)) {
              led = Seconds(Clock::now() - killed);
            }
          }
        }
        std::this_thread::sleep_for(milliseconds(2));
      }
      probe.push_back(Seconds(Clock::now() - killed));
      lead.push_back(led.value_or(probe.back()));
      replicas_[leader] = Start("b" + std::to_string(next_++));
    }
    const auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf(
        "failover (%d kills, takeover bound 10 s): kill -> new leader in /readyz median "
        "%.3f s (max %.3f); kill -> first probe by the new leader median %.3f s (max "
        "%.3f)\n",
        rounds, median(lead), *std::max_element(lead.begin(), lead.end()), median(probe),
        *std::max_element(probe.begin(), probe.end()));
  }

 private:
  obsforge::testing::PostgresServer& pg_;
  const int stacks_;
  const int applies_;
  std::string dir_;
  std::string url_;
  int next_ = 0;
  obsforge::fakes::FakeLoki loki_;
  std::vector<Replica> replicas_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: replicas_bench BUILD_DIR [--stacks N] [--applies N]\n";
    return 2;
  }
  g_binary_dir = argv[1];
  int stacks = 30;
  int applies = 120;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    (flag == "--stacks" ? stacks : applies) = std::atoi(argv[i + 1]);
  }
  std::string error;
  auto pg = obsforge::testing::PostgresServer::Start(error);
  if (!pg) {
    std::cerr << "cannot start PostgreSQL: " << error << '\n';
    return 1;
  }
  try {
    Bench bench(*pg, stacks, applies);
    bench.Throughput(1);
    bench.Throughput(3);
    bench.Failover(10);
  } catch (const std::runtime_error& e) {
    std::cerr << e.what();  // a replica that did not start: its stderr
    return 1;
  }
  return 0;
}
