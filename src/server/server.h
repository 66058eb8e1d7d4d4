#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "console/event_bus.h"
#include "control/application.h"
#include "control/retention.h"
#include "control/trust.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "gitops/config.h"
#include "server/metrics.h"
#include "server/router.h"

namespace obsforge::server {

/// How `obsforge serve` listens and behaves (an aggregate; see config.h for the file format):
/// the transport's settings, then those of the application it serves (ApplicationOptionsFrom).
struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  ///< host:port; port 0 picks a free one
  std::filesystem::path data_dir = "./var";
  std::filesystem::path content_dir = ".";
  std::filesystem::path tokens_file;  ///< empty: no tokens (loopback only, unauthenticated)
  int max_threads = 64;               ///< connections served at once (keep-alive holds one)
  int max_queued = 256;               ///< accepted connections waiting for a thread
  /// A new connection gets 503 + Retry-After while the oldest waiting one has waited this long
  /// (AdmissionOptions::max_queue_wait).
  std::chrono::milliseconds max_queue_wait{5000};
  int max_keep_alive_requests = 100;    ///< requests on one connection before it is closed
  std::size_t body_limit = 16U << 20U;  ///< larger request bodies get 413
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{
      2000};                                       ///< an idle kept-alive connection holds a thread
  std::chrono::milliseconds drain_timeout{30000};  ///< Stop() waits this long for operations
  int operation_workers = 4;                       ///< operations running at once
  std::string version = "dev";                     ///< shown in /metrics and OpenAPI
  /// The `gitops:` sources (gitops::ParseSources); their caches go under data_dir/gitops.
  std::vector<gitops::SourceConfig> gitops;
  /// Resolves the gitops sources' secrets; empty: the process environment.
  core::EnvLookup secret_env;
  /// Told about every broken gitops commit (besides Slack, when the application has health).
  control::BrokenCommitHook gitops_broken_commit;
  /// How long health history, sent Slack messages and webhook delivery ids are kept.
  control::RetentionOptions retention;
  /// The live updates of GET /api/v1/events; the server feeds it every operation and closes it
  /// on Stop(). Null: the server keeps its own (with max_event_clients). Health transitions
  /// reach it only from a health::TransitionSink the caller wires (console::EventFeed).
  console::EventBus* events = nullptr;
  int max_event_clients = 16;  ///< event streams open at once (each holds a connection thread)
  std::chrono::milliseconds event_heartbeat{15000};  ///< comment line on an idle event stream
  /// What the specs the server receives may do (`external:`, `secrets:`); always enforced.
  control::TrustOptions trust;
};

/// The application settings of `options`: data and content directories, operation workers,
/// gitops sources and their secrets, retention, and the trust rules (always enforced: a server
/// holds every spec it receives to them).
control::ApplicationOptions ApplicationOptionsFrom(const ServerOptions& options);

/// The REST server, transport only: Poco HTTP server → Router → one adapter → thin handlers →
/// the application (control::Application), whose typed results become the JSON of the API.
/// It drives the application's lifecycle (started before listening, drained on stop) and
/// counts its operations in /metrics and publishes them as live events. It serves the web
/// console (console_routes.h); with a HealthRuntime in the application also the health routes. Not
/// copyable. Start() once, Stop() once (the destructor stops too).
class Server {
 public:
  /// `app` and `logger` must outlive the server.
  Server(ServerOptions options, control::Application& app, core::Logger& logger);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Loads the tokens, starts the application (Application::Start: recovery from a previous
  /// run, gitops sources, retention, health), then listens. Returns the bound port.
  /// Throws core::InputError for a bad tokens file. Errors: kPrecondition when there are no
  /// tokens and `listen` is not loopback; kInvalidSpec for a bad `listen`; kUnavailable when
  /// the address cannot be bound; kNotFound when a gitops secret cannot be resolved.
  core::Result<int> Start();

  /// Graceful stop: /readyz turns 503, no new connections, the application stops (new
  /// operations are refused, running ones may finish until drain_timeout), then connections are
  /// closed. Idempotent.
  void Stop();

  /// The bound port (0 before Start()).
  int port() const { return port_; }
  Metrics& metrics() { return *metrics_; }
  const Router& router() const { return *router_; }
  /// For more routes: add them before Start().
  Router& router() { return *router_; }

 private:
  class Impl;
  ServerOptions options_;
  control::Application& app_;
  core::Logger& logger_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
  int port_ = 0;
  std::string listen_host_;
};

/// Splits "host:port" ("[::1]:8080" for IPv6). kInvalidSpec when malformed.
core::Result<std::pair<std::string, int>> ParseListen(const std::string& listen);

/// True for an address in 127.0.0.0/8 (also IPv4-mapped), ::1, and "localhost"; decided on
/// the parsed address, so "127.0.0.1.example" is not loopback.
bool IsLoopback(const std::string& host);

}  // namespace obsforge::server
