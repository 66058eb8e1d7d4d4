#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "gitops/config.h"
#include "server/backend.h"
#include "server/gitops_service.h"
#include "server/metrics.h"
#include "server/retention.h"
#include "server/router.h"
#include "store/store.h"

namespace obsforge::server {

/// How the server listens and behaves (an aggregate; see config.h for the file format).
struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  ///< host:port; port 0 picks a free one
  std::filesystem::path data_dir = "./var";
  std::filesystem::path content_dir = ".";
  std::filesystem::path tokens_file;    ///< empty: no tokens (loopback only, unauthenticated)
  int max_threads = 64;                 ///< connections served at once (keep-alive holds one)
  int max_queued = 256;                 ///< accepted connections waiting for a thread
  std::size_t body_limit = 16U << 20U;  ///< larger request bodies get 413
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{10000};
  std::chrono::milliseconds drain_timeout{30000};  ///< Stop() waits this long for operations
  int operation_workers = 4;                       ///< operations running at once
  std::string version = "dev";                     ///< shown in /metrics and OpenAPI
  /// The `gitops:` sources (gitops::ParseSources); their caches go under data_dir/gitops.
  std::vector<gitops::SourceConfig> gitops;
  /// Resolves the gitops sources' secrets; empty: the process environment.
  core::EnvLookup secret_env;
  /// Told about every broken gitops commit (serve: Slack through HealthRuntime).
  BrokenCommitHook gitops_broken_commit;
  /// How long health history, sent Slack messages and webhook delivery ids are kept.
  RetentionOptions retention;
};

/// The REST server: Poco HTTP server → Router → one adapter → thin handlers → StackService.
/// Not copyable. Start() once, Stop() once (the destructor stops too).
class Server {
 public:
  /// `store`, `backend` and `logger` must outlive the server.
  Server(ServerOptions options,
         store::Store& store,
         EnvironmentBackend& backend,
         core::Logger& logger);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Loads the tokens, recovers from a previous run (unfinished operations → failed; local
  /// environments re-applied), starts the gitops sources, then listens. Returns the bound port.
  /// Throws core::InputError for a bad tokens file. Errors: kPrecondition when there are no
  /// tokens and `listen` is not loopback; kInvalidSpec for a bad `listen`; kUnavailable when
  /// the address cannot be bound; kNotFound when a gitops secret cannot be resolved.
  core::Result<int> Start();

  /// Graceful stop: /readyz turns 503, new operations are refused, running ones may finish until
  /// drain_timeout, then connections are closed. Idempotent.
  void Stop();

  /// The bound port (0 before Start()).
  int port() const { return port_; }
  Metrics& metrics() { return *metrics_; }
  const Router& router() const { return *router_; }
  /// For routes served outside RegisterRoutes (health, status page): add them before Start().
  Router& router() { return *router_; }

 private:
  class Impl;
  ServerOptions options_;
  store::Store& store_;
  EnvironmentBackend& backend_;
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
