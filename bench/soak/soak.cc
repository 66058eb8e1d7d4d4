#include "soak/soak.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "apply/process.h"
#include "fakes/fake_loki.h"
#include "fakes/fake_tempo.h"
#include "http/curl_http_client.h"
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::soak {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Reads /proc/<pid>: resident memory, threads and open descriptors.
ProcessSample Sample(pid_t pid, int second) {
  ProcessSample s{.second = second};
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_kb = std::stol(line.substr(6));
    } else if (line.rfind("Threads:", 0) == 0) {
      s.threads = std::stoi(line.substr(8));
    }
  }
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++s.fds;
  }
  return s;
}

// `obsforge serve` as a child, its output drained (and its first line parsed for the URL) by a
// thread for as long as it runs.
class Server {
 public:
  explicit Server(const SoakOptions& o) {
    auto spawned = apply::SpawnProcess(
        {.name = "obsforge",
         .binary = o.obsforge,
         .args = {"serve", "--listen", "127.0.0.1:0", "--data-dir", (o.work_dir / "var").string(),
                  "--content-dir", o.work_dir.string()}});
    if (!spawned.ok()) {
      error_ = spawned.error().message;
      return;
    }
    child_ = *spawned;
    pump_ = std::thread([this] { Pump(); });
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [this] { return !base_.empty() || ended_; });
    if (base_.empty()) {
      error_ = "obsforge serve did not start: " + tail_;
    }
  }
  ~Server() {
    if (child_.pid > 0) {
      ::kill(child_.pid, SIGTERM);
      int status = 0;
      ::waitpid(child_.pid, &status, 0);
    }
    if (pump_.joinable()) {
      pump_.join();
    }
    if (child_.output_fd >= 0) {
      ::close(child_.output_fd);
    }
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& error() const { return error_; }
  /// The first error lines the server logged (errors and 5xx answers), at most 20. A line split
  /// across two reads is missed: this is a diagnostic.
  std::vector<std::string> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  const std::string& base() const { return base_; }
  pid_t pid() const { return child_.pid; }

 private:
  using Chunk = std::array<char, 65536>;

  void Pump() {
    std::string partial;
    Chunk buf{};
    for (ssize_t n = 0; (n = ReadChunk(buf)) != 0;) {
      if (n < 0) {
        continue;
      }
      const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
      std::lock_guard lock(mu_);
      if (base_.empty()) {
        FindBase(chunk, partial);
      }
      CollectErrors(chunk);
      tail_.append(chunk);
      if (tail_.size() > 8192) {
        tail_.erase(0, tail_.size() - 4096);
      }
    }
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  // One read of the server's output: the bytes read, 0 at its end, -1 when to try again.
  ssize_t ReadChunk(Chunk& buf) const {
    pollfd p{.fd = child_.output_fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, -1) < 0) {
      return -1;
    }
    const ssize_t n = ::read(child_.output_fd, buf.data(), buf.size());
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return 0;
    }
    return n < 0 ? -1 : n;
  }

  // The base URL from the server's first line, once all of it came (mu_ held).
  void FindBase(std::string_view chunk, std::string& partial) {
    partial.append(chunk);
    if (const auto at = partial.find("obsforge: http://"); at != std::string::npos) {
      const auto end = partial.find_first_of(" \n", at + 10);
      if (end != std::string::npos) {
        base_ = partial.substr(at + 10, end - at - 10);
        cv_.notify_all();
      }
    }
  }

  // Keeps the first error lines of `chunk` (mu_ held).
  void CollectErrors(std::string_view chunk) {
    for (std::size_t at = 0, nl = 0; (nl = chunk.find('\n', at)) != std::string_view::npos;
         at = nl + 1) {
      const std::string_view line = chunk.substr(at, nl - at);
      if (errors_.size() < 20 && (line.find(R"("level":"error")") != std::string_view::npos ||
                                  line.find(R"("status":"5)") != std::string_view::npos)) {
        errors_.emplace_back(line);
      }
    }
  }

  apply::SpawnedProcess child_;
  std::thread pump_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string base_;
  std::string tail_;
  std::vector<std::string> errors_;
  bool ended_ = false;
  std::string error_;
};

std::string StackName(int i) {
  const std::string n = std::to_string(i);
  return "soak-" + std::string(n.size() < 3 ? 3 - n.size() : 0, '0') + n;
}

std::string Spec(const std::string& name,
                 int tier,
                 const std::string& loki,
                 const std::string& tempo) {
  std::string envs;
  for (const char* env : {"dev", "prod"}) {
    envs.append("    ").append(env).append(":\n");
    envs.append("      runtime:\n        type: external\n        loki: {url: \"").append(loki);
    envs.append("\"}\n        tempo: {url: \"").append(tempo).append("\"}\n");
  }
  return "apiVersion: obsforge/v1\n"
         "kind: Stack\n"
         "metadata: {name: " +
         name + "}\nspec:\n  values: {tier: " + std::to_string(tier) +
         "}\n  components:\n    loki: {enabled: true}\n    tempo: {enabled: true}\n"
         "  environments:\n" +
         envs;
}

// Operation ids in a 202 answer ({"operation": {...}} or {"operations": [...]}).
void CollectOperations(const std::string& body, std::vector<std::string>& ids) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return;
  }
  if (j.contains("operation") && j["operation"].is_object()) {
    ids.push_back(j["operation"].value("id", ""));
  }
  for (const auto& op : j.value("operations", nlohmann::json::array())) {
    if (op.is_object()) {
      ids.push_back(op.value("id", ""));
    }
  }
}

struct Recorder {
  std::map<std::string, std::vector<double>> latencies;
  std::map<std::string, std::map<int, std::size_t>> statuses;
  std::vector<std::string> operations;
  std::vector<std::string> failures;  // the first answers that were 5xx or none
};

// The status under which an overload answer (503 with Retry-After) is recorded.
constexpr int kOverloaded = -503;

// Calls `request`, waiting up to `o.request_timeout` for its answer, recording its latency and
// status under `route`; the response (status 0 when none came). An overload answer makes this
// client wait its Retry-After, as a client should.
http::Response Timed(const SoakOptions& o,
                     http::HttpClient& client,
                     http::Request request,
                     const std::string& route,
                     Recorder& rec) {
  request.timeout = o.request_timeout;
  const auto start = Clock::now();
  auto r = client.Send(request);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  rec.latencies[route].push_back(ms);
  int status = r.ok() ? r->status : 0;
  if (status == 503 && !r->Header("Retry-After").empty()) {
    status = kOverloaded;
    ++rec.statuses[route][status];
    std::this_thread::sleep_for(std::chrono::seconds(std::clamp(
        std::atoi(r->Header("Retry-After").c_str()), 1, 60)));  // the server asked for it
    return *r;
  }
  if ((status == 0 || status >= 500) && rec.failures.size() < 5) {
    rec.failures.push_back(route + ": " +
                           (r.ok() ? std::to_string(status) + " " + r->body : r.error().message));
  }
  ++rec.statuses[route][status];
  return r.ok() ? *r : http::Response{};
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) {
    return 0;
  }
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// How an operation ended: its final state ("lost" when none was seen by the deadline or the
// operation could not be read) and, when it failed, a line saying so with its error.
struct OperationEnd {
  std::string state = "lost";
  std::string failure;
};

OperationEnd AwaitOperation(http::HttpClient& client,
                            const std::string& base,
                            const std::string& id,
                            Clock::time_point deadline) {
  OperationEnd end;
  const std::string url = base + "/api/v1/operations/" + id;
  while (Clock::now() < deadline) {
    auto r = client.Send({.url = url});
    if (!r.ok() || r->status != 200) {
      return end;
    }
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    const std::string s = j.is_object() ? j.value("state", "") : "";
    if (s != "queued" && s != "running") {
      end.state = s;
      if (s == "failed" && j["error"].is_string()) {
        end.failure = id + " (" + j.value("kind", "") + " " + j.value("stack", "") + "/" +
                      j.value("env", "") + "): " + j["error"].get<std::string>();
      }
      return end;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return end;
}

// Waits for every operation in `ids` to be final; fills the report's operation counts.
void AwaitOperations(const std::string& base,
                     const std::vector<std::string>& ids,
                     SoakReport& out) {
  constexpr int kPollers = 16;
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  std::vector<std::thread> pollers;
  pollers.reserve(kPollers);
  for (int t = 0; t < kPollers; ++t) {
    pollers.emplace_back([&] {
      http::CurlHttpClient client;
      for (std::size_t i = next++; i < ids.size(); i = next++) {
        const OperationEnd end = AwaitOperation(client, base, ids[i], deadline);
        std::lock_guard lock(mu);
        if (!end.failure.empty() && out.failures.size() < 10) {
          out.failures.push_back(end.failure);
        }
        ++out.operation_states[end.state];
        out.lost += end.state == "lost" ? 1 : 0;
      }
    });
  }
  for (auto& t : pollers) {
    t.join();
  }
  out.operations = ids.size();
}

// What the stacks and the clients need: the server's URL and the fakes' URLs.
struct Target {
  std::string base;
  std::string loki;
  std::string tempo;
};

// Creates the stacks, eight at a time, and waits until each is applied; an error message, empty
// when every stack was created and applied.
std::string CreateStacks(const SoakOptions& o, const Target& target) {
  constexpr int kCreators = 8;
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::string> ids;
  std::mutex mu;
  std::vector<std::thread> creators;
  creators.reserve(kCreators);
  for (int t = 0; t < kCreators; ++t) {
    creators.emplace_back([&] {
      http::CurlHttpClient client;
      for (int i = next++; i < o.stacks; i = next++) {
        auto r = client.Send({.method = "POST",
                              .url = target.base + "/api/v1/stacks",
                              .headers = {{"Content-Type", "application/yaml"}},
                              .body = Spec(StackName(i), 0, target.loki, target.tempo)});
        if (!r.ok() || r->status != 202) {
          ++failed;
          continue;
        }
        std::lock_guard lock(mu);
        CollectOperations(r->body, ids);
      }
    });
  }
  for (auto& t : creators) {
    t.join();
  }
  if (failed > 0) {
    return std::to_string(failed.load()) + " stacks could not be created";
  }
  SoakReport created;
  AwaitOperations(target.base, ids, created);
  if (created.operation_states["succeeded"] != ids.size()) {
    return "creating the stacks: " + nlohmann::json(created.operation_states).dump();
  }
  return "";
}

// One request of the mix, to a stack and environment picked at random.
// `etags` holds the revision this client last saw of each stack.
void Request(const SoakOptions& o,
             const Target& target,
             std::mt19937& rng,
             http::HttpClient& client,
             std::map<std::string, std::string>& etags,
             Recorder& rec) {
  const std::string name = StackName(static_cast<int>(rng() % static_cast<unsigned>(o.stacks)));
  const std::string env = rng() % 2 == 0 ? "dev" : "prod";
  const std::string stack = target.base + "/api/v1/stacks/" + name;
  const unsigned pick = rng() % 100;
  if (pick < 35) {
    auto r = Timed(o, client, {.url = stack}, "GET stack", rec);
    if (r.status == 200) {
      etags[name] = r.Header("ETag");
    }
  } else if (pick < 50) {
    Timed(o, client, {.url = stack + "/environments/" + env + "/health"}, "GET health", rec);
  } else if (pick < 65) {
    Timed(o, client, {.url = stack + "/revisions"}, "GET revisions", rec);
  } else if (pick < 80) {
    Timed(o, client, {.method = "POST", .url = stack + "/environments/" + env + "/plan"}, "plan",
          rec);
  } else if (pick < 90) {
    // If-Match with what this client saw last: another client's update in between is a 412, as
    // it should be.
    http::Request put{
        .method = "PUT",
        .url = stack,
        .headers = {{"Content-Type", "application/yaml"}},
        .body = Spec(name, static_cast<int>(rng() % 1000), target.loki, target.tempo)};
    if (auto it = etags.find(name); it != etags.end() && !it->second.empty()) {
      put.headers.emplace_back("If-Match", it->second);
    }
    auto r = Timed(o, client, std::move(put), "PUT", rec);
    if (r.status == 202) {
      CollectOperations(r.body, rec.operations);
    }
  } else {
    auto r = Timed(o, client, {.method = "POST", .url = stack + "/environments/" + env + "/apply"},
                   "apply", rec);
    if (r.status == 202) {
      CollectOperations(r.body, rec.operations);
    }
  }
}

// Runs `o.clients` clients from `start` for `o.duration`, each recording into its recorder.
std::vector<Recorder> RunClients(const SoakOptions& o,
                                 const Target& target,
                                 Clock::time_point start) {
  std::vector<Recorder> recorders(static_cast<std::size_t>(o.clients));
  std::vector<std::thread> clients;
  clients.reserve(recorders.size());
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      Recorder& rec = recorders[static_cast<std::size_t>(c)];
      std::mt19937 rng(o.seed * 7919U + static_cast<unsigned>(c));
      http::CurlHttpClient client;
      std::map<std::string, std::string> etags;
      while (Clock::now() - start < o.duration) {
        Request(o, target, rng, client, etags, rec);
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  return recorders;
}

// Adds one client's counts to the report (and its operations to `ids`, its latencies to
// `latencies`).
void Tally(const Recorder& rec,
           SoakReport& report,
           std::vector<std::string>& ids,
           std::map<std::string, std::vector<double>>& latencies) {
  ids.insert(ids.end(), rec.operations.begin(), rec.operations.end());
  for (const std::string& f : rec.failures) {
    if (report.failures.size() < 10) {
      report.failures.push_back(f);
    }
  }
  for (const auto& [route, v] : rec.latencies) {
    latencies[route].insert(latencies[route].end(), v.begin(), v.end());
  }
  for (const auto& [route, statuses] : rec.statuses) {
    for (const auto& [status, n] : statuses) {
      report.routes[route].statuses[status] += n;
      report.requests += n;
      report.server_errors += status >= 500 ? n : 0;
      report.overloaded += status == kOverloaded ? n : 0;
      const bool expected = (status >= 200 && status < 300) || status == 409 || status == 412 ||
                            status == kOverloaded;
      report.unexpected += expected ? 0 : n;
    }
  }
}

// The clients' counts and latencies in the report; the operations they started.
std::vector<std::string> Summarize(const std::vector<Recorder>& recorders, SoakReport& report) {
  std::vector<std::string> ids;
  std::map<std::string, std::vector<double>> latencies;
  for (const Recorder& rec : recorders) {
    Tally(rec, report, ids, latencies);
  }
  for (auto& [route, v] : latencies) {
    RouteStats& s = report.routes[route];
    s.requests = v.size();
    s.max_ms = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    s.p99_ms = Percentile(v, 0.99);
    s.p50_ms = Percentile(v, 0.50);
  }
  return ids;
}

}  // namespace

core::Result<SoakReport> RunSoak(const SoakOptions& o) {
  auto say = [&](const std::string& line) {
    if (o.progress != nullptr) {
      *o.progress << line << std::endl;
    }
  };
  fakes::FakeLoki loki;
  fakes::FakeTempo tempo;
  fs::create_directories(o.work_dir / "var");
  Server server(o);
  if (!server.error().empty()) {
    return core::MakeError(core::ErrorCode::kUnavailable, server.error());
  }
  const Target target{.base = server.base(), .loki = loki.url(), .tempo = tempo.url()};
  say("server " + target.base + " pid " + std::to_string(server.pid()));

  // The stacks, each created and applied before the load starts.
  if (std::string error = CreateStacks(o, target); !error.empty()) {
    return core::MakeError(core::ErrorCode::kInternal, error);
  }
  say(std::to_string(o.stacks) + " stacks created and applied");

  SoakReport report;
  report.samples.push_back(Sample(server.pid(), 0));
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  std::thread sampler([&] {
    for (int second = 1; !stop.load(); ++second) {
      std::this_thread::sleep_until(start + std::chrono::seconds(second));
      if (!stop.load() && second % 10 == 0) {
        report.samples.push_back(Sample(server.pid(), second));
        say("t=" + std::to_string(second) + "s rss " +
            std::to_string(report.samples.back().rss_kb) + " kB");
      }
    }
  });
  const std::vector<Recorder> recorders = RunClients(o, target, start);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  sampler.join();
  report.samples.push_back(Sample(server.pid(), static_cast<int>(report.seconds)));
  say("load ended after " + std::to_string(report.seconds) + " s; waiting for the operations");

  const std::vector<std::string> ids = Summarize(recorders, report);
  AwaitOperations(target.base, ids, report);
  report.server_log_errors = server.errors();
  report.samples.push_back(Sample(server.pid(), static_cast<int>(report.seconds) + 1));
  return report;
}

std::string ReportMarkdown(const SoakReport& r) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "| route | requests | p50 ms | p99 ms | max ms | statuses |\n|---|---|---|---|---|---|\n";
  for (const auto& [route, s] : r.routes) {
    out << "| " << route << " | " << s.requests << " | " << s.p50_ms << " | " << s.p99_ms << " | "
        << s.max_ms << " | ";
    const char* sep = "";
    for (const auto& [status, n] : s.statuses) {
      out << sep
          << (status == 0             ? std::string("none")
              : status == kOverloaded ? std::string("503 Retry-After")
                                      : std::to_string(status))
          << ": " << n;
      sep = ", ";
    }
    out << " |\n";
  }
  out << "\n"
      << r.requests << " requests in " << r.seconds << " s ("
      << static_cast<double>(r.requests) / std::max(r.seconds, 1.0)
      << "/s); 5xx: " << r.server_errors << "; overloaded (503 with Retry-After): " << r.overloaded
      << "; unexpected (non-2xx other than 409/412/overload, or no answer): " << r.unexpected
      << "\n\n"
      << r.operations << " operations accepted, " << r.lost << " lost; final states:";
  for (const auto& [state, n] : r.operation_states) {
    out << " " << state << " " << n;
  }
  for (const std::string& line : r.failures) {
    out << "\n    " << line;
  }
  for (const std::string& line : r.server_log_errors) {
    out << "\n    " << line;
  }
  out << "\n\n| second | RSS MiB | threads | fds |\n|---|---|---|---|\n";
  for (const ProcessSample& s : r.samples) {
    out << "| " << s.second << " | " << static_cast<double>(s.rss_kb) / 1024.0 << " | " << s.threads
        << " | " << s.fds << " |\n";
  }
  return out.str();
}

}  // namespace obsforge::soak
