// Health prober benchmark: N HTTP checks per interval against a loopback static HTTP server,
// side by side with Debian's prometheus-blackbox-exporter probing the same targets.
//
//   health_bench [--checks 10000] [--interval-s 15] [--warmup-s 15] [--measure-s 30]
//                [--blackbox /usr/bin/prometheus-blackbox-exporter | --no-blackbox]
//
// Processes: this one runs only obsforge's Prober (its CPU is getrusage(RUSAGE_SELF)); a child
// serves the targets (Poco HTTPServer); another child drives the blackbox exporter with the same
// number of /probe requests per interval (its own Prober), and the exporter's CPU is read from
// /proc/<pid>/stat. Each figure is CPU seconds over the measurement window after the warm-up.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include "health/checks.h"
#include "health/prober.h"
#include "http/curl_http_client.h"
#include "http/curl_multi_http_client.h"
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace obsforge;  // NOLINT(google-build-using-namespace): a standalone tool
using std::chrono::milliseconds;
using std::chrono::seconds;

class Ok final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& /*request*/,
                     Poco::Net::HTTPServerResponse& response) override {
    response.setContentType("text/plain");
    response.setContentLength(3);
    response.send() << "ok\n";
  }
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& /*request*/) override {
    return new Ok;  // NOLINT(cppcoreguidelines-owning-memory): Poco takes ownership
  }
};

// Serves "ok" on 127.0.0.1:<port> until killed.
[[noreturn]] void ServeTargets(Poco::Net::ServerSocket socket) {
  auto* params = new Poco::Net::HTTPServerParams;  // NOLINT: Poco refcounts it
  params->setMaxThreads(64);
  params->setMaxQueued(1024);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  Poco::Net::HTTPServer server(new Factory, socket, params);  // NOLINT: Poco takes ownership
  server.start();
  while (true) {
    ::pause();
  }
}

double SelfCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double ProcCpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  std::istringstream fields(content.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) {
      utime = std::stod(field);
    } else if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Counters {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
};

// A Prober and the curl multi client it runs on.
struct RunningProber {
  std::unique_ptr<http::CurlMultiHttpClient> http;
  std::unique_ptr<health::Prober> prober;
  health::Prober* operator->() const { return prober.get(); }
};

// Registers `checks` checks of `url_of(i)` on a new Prober and starts it.
RunningProber StartProber(int checks,
                          milliseconds interval,
                          const std::function<std::string(int)>& url_of,
                          Counters& counters,
                          core::Clock& clock) {
  RunningProber running;
  running.http = std::make_unique<http::CurlMultiHttpClient>(
      http::CurlMultiOptions{.max_host_connections = 16});
  running.prober = std::make_unique<health::Prober>(
      health::ProberOptions{.max_in_flight = 1024},
      [&counters](const health::CheckResult& r) { ++(r.ok ? counters.ok : counters.failed); },
      clock, *running.http);
  running.prober->Start();
  for (int i = 0; i < checks; ++i) {
    http::Request request{.url = url_of(i)};
    request.timeout = milliseconds(10000);
    running.prober->Add({.id = std::to_string(i),
                         .request = request,
                         .parser = health::ExpectStatus200,
                         .interval = interval});
  }
  return running;
}

int FreePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

}  // namespace

int main(int argc, char** argv) {
  int checks = 10000;
  int interval_s = 15;
  int warmup_s = 15;
  int measure_s = 30;
  std::string blackbox = "/usr/bin/prometheus-blackbox-exporter";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--checks") {
      checks = std::stoi(next());
    } else if (arg == "--interval-s") {
      interval_s = std::stoi(next());
    } else if (arg == "--warmup-s") {
      warmup_s = std::stoi(next());
    } else if (arg == "--measure-s") {
      measure_s = std::stoi(next());
    } else if (arg == "--blackbox") {
      blackbox = next();
    } else if (arg == "--no-blackbox") {
      blackbox.clear();
    } else {
      std::cerr << "unknown argument " << arg << "\n";
      return 2;
    }
  }

  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 1024);
  const int target_port = socket.address().port();
  const pid_t server = ::fork();
  if (server == 0) {
    ServeTargets(std::move(socket));
  }
  socket.close();
  const auto target = [target_port](int i) {
    return "http://127.0.0.1:" + std::to_string(target_port) + "/target/" + std::to_string(i);
  };

  pid_t exporter = -1;
  pid_t driver = -1;
  const std::string config =
      "/tmp/obs-health-bench-blackbox-" + std::to_string(::getpid()) + ".yml";
  if (!blackbox.empty()) {
    std::ofstream(config) << "modules:\n  http_2xx:\n    prober: http\n    timeout: 10s\n"
                             "    http: {preferred_ip_protocol: ip4}\n";
    const int exporter_port = FreePort();
    exporter = ::fork();
    if (exporter == 0) {
      const std::string config_flag = "--config.file=" + config;
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port);
      ::freopen("/dev/null", "w", stderr);
      ::execl(blackbox.c_str(), blackbox.c_str(), config_flag.c_str(), listen.c_str(),
              "--log.level=error", nullptr);
      ::_exit(127);
    }
    std::this_thread::sleep_for(milliseconds(500));
    driver = ::fork();
    if (driver == 0) {
      http::CurlGlobal global;
      core::SystemClock clock;
      Counters counters;
      auto prober = StartProber(
          checks, seconds(interval_s),
          [&](int i) {
            return "http://127.0.0.1:" + std::to_string(exporter_port) +
                   "/probe?module=http_2xx&target=" + target(i);
          },
          counters, clock);
      std::this_thread::sleep_for(seconds(warmup_s + measure_s + 5));
      std::cerr << "blackbox driver: " << counters.ok << " probes ok, " << counters.failed
                << " failed\n";
      std::_Exit(0);
    }
  }

  http::CurlGlobal global;
  core::SystemClock clock;
  Counters counters;
  auto prober = StartProber(checks, seconds(interval_s), target, counters, clock);
  std::this_thread::sleep_for(seconds(warmup_s));
  const double self_start = SelfCpuSeconds();
  const double exporter_start = exporter > 0 ? ProcCpuSeconds(exporter) : 0;
  const auto runs_start = prober->Stats().runs_finished;
  std::this_thread::sleep_for(seconds(measure_s));
  const double self_cpu = SelfCpuSeconds() - self_start;
  const double exporter_cpu = exporter > 0 ? ProcCpuSeconds(exporter) - exporter_start : 0;
  const auto runs = prober->Stats().runs_finished - runs_start;
  const double probes_per_window =
      static_cast<double>(checks) * measure_s / static_cast<double>(interval_s);
  prober->Stop();

  std::printf("checks=%d interval=%ds window=%ds\n", checks, interval_s, measure_s);
  std::printf(
      "obsforge prober: %llu runs (%llu ok, %llu failed in total), %.3f CPU s = %.1f%% "
      "of one core, %.1f us CPU per probe\n",
      static_cast<unsigned long long>(runs), static_cast<unsigned long long>(counters.ok),
      static_cast<unsigned long long>(counters.failed), self_cpu, 100.0 * self_cpu / measure_s,
      1e6 * self_cpu / static_cast<double>(runs));
  if (exporter > 0) {
    std::printf(
        "blackbox exporter: ~%.0f probes, %.3f CPU s = %.1f%% of one core, %.1f us CPU "
        "per probe\n",
        probes_per_window, exporter_cpu, 100.0 * exporter_cpu / measure_s,
        1e6 * exporter_cpu / probes_per_window);
  }
  std::fflush(stdout);
  for (pid_t pid : {driver, exporter, server}) {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  std::remove(config.c_str());
  return 0;
}
