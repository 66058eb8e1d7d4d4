#include "server/server.h"

#include <thread>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/ThreadPool.h>

#include "server/adapter.h"
#include "server/auth.h"
#include "server/gitops_service.h"
#include "server/operations.h"
#include "server/routes.h"
#include "server/service.h"

namespace obsforge::server {
namespace {

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(ApiAdapter& adapter) : adapter_(adapter) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    adapter_.Handle(request, response);
  }

 private:
  ApiAdapter& adapter_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(ApiAdapter& adapter) : adapter_(adapter) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& /*request*/) override {
    return new Handler(adapter_);
  }

 private:
  ApiAdapter& adapter_;
};

}  // namespace

class Server::Impl {
 public:
  TokenTable tokens;
  std::unique_ptr<OperationRunner> runner;
  std::unique_ptr<StackService> service;
  std::unique_ptr<GitOpsService> gitops;
  core::SystemClock clock;
  std::unique_ptr<Retention> retention;
  std::unique_ptr<ApiAdapter> adapter;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> http;
  bool stopped = false;
};

core::Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return core::MakeError(core::ErrorCode::kInvalidSpec,
                           "listen \"" + listen + "\" must be host:port");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  try {
    std::size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) {
      throw std::out_of_range("port");
    }
  } catch (const std::exception&) {
    return core::MakeError(core::ErrorCode::kInvalidSpec,
                           "listen \"" + listen + "\": port must be 0-65535");
  }
  return std::make_pair(host.empty() ? std::string("0.0.0.0") : host, port);
}

bool IsLoopback(const std::string& host) {
  if (Poco::icompare(host, "localhost") == 0) {
    return true;
  }
  // The parsed address, never a prefix of the text: "127.0.0.1.evil" is a host name.
  Poco::Net::IPAddress address;
  if (!Poco::Net::IPAddress::tryParse(host, address)) {
    return false;
  }
  if (address.family() == Poco::Net::AddressFamily::IPv6 && address.isIPv4Mapped()) {
    return address.toString().starts_with("::ffff:127.");
  }
  return address.isLoopback();
}

Server::Server(ServerOptions options,
               store::Store& store,
               EnvironmentBackend& backend,
               core::Logger& logger)
    : options_(std::move(options)),
      store_(store),
      backend_(backend),
      logger_(logger),
      metrics_(std::make_unique<Metrics>(options_.version)),
      router_(std::make_unique<Router>()),
      impl_(std::make_unique<Impl>()) {
}

Server::~Server() {
  Stop();
}

core::Result<int> Server::Start() {
  auto listen = ParseListen(options_.listen);
  if (!listen.ok()) {
    return listen.error();
  }
  const auto& [host, port] = *listen;
  listen_host_ = host;
  if (!options_.tokens_file.empty()) {
    impl_->tokens = TokenTable::Load(options_.tokens_file);
  }
  if (impl_->tokens.empty()) {
    if (!IsLoopback(host)) {
      return core::MakeError(core::ErrorCode::kPrecondition,
                             "no API tokens configured: refusing to listen on " + options_.listen +
                                 " (set tokens_file, or listen on 127.0.0.1)");
    }
    logger_.Warn("no API tokens configured: listening on loopback only, without authentication",
                 {{"listen", options_.listen}});
  }

  impl_->runner = std::make_unique<OperationRunner>(
      store_, *metrics_, logger_, OperationRunnerOptions{.workers = options_.operation_workers});
  impl_->service = std::make_unique<StackService>(
      ServiceOptions{.content_dir = options_.content_dir, .data_dir = options_.data_dir}, store_,
      backend_, *impl_->runner, logger_);
  metrics_->SetStacksSource([this] {
    auto stacks = store_.ListStacks();
    return stacks.ok() ? static_cast<double>(stacks->size()) : 0.0;
  });
  RegisterRoutes(*router_, RouteDeps{.service = *impl_->service,
                                     .backend = backend_,
                                     .store = store_,
                                     .metrics = *metrics_,
                                     .content_dir = options_.content_dir,
                                     .version = options_.version,
                                     .draining = [this] { return draining_.load(); }});

  impl_->gitops = std::make_unique<GitOpsService>(
      GitOpsOptions{.sources = options_.gitops,
                    .cache_dir = options_.data_dir / "gitops",
                    .env = options_.secret_env,
                    .on_broken_commit = options_.gitops_broken_commit},
      *impl_->service, store_, logger_);
  RegisterGitOpsRoutes(*router_, *impl_->gitops);

  auto recovered = impl_->service->Recover();
  if (!recovered.ok()) {
    logger_.Error("recovery after restart failed", {{"error", recovered.error().message}});
  } else if (*recovered > 0) {
    logger_.Info("re-applying local environments after restart",
                 {{"operations", std::to_string(*recovered)}});
  }

  impl_->adapter = std::make_unique<ApiAdapter>(
      *router_, impl_->tokens, *metrics_, logger_,
      AdapterOptions{.body_limit = options_.body_limit,
                     .write_timeout_ms = static_cast<int>(options_.write_timeout.count())});
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)),
                                   128);
    auto* params = new Poco::Net::HTTPServerParams;  // ref-counted; owned by the server
    params->setMaxThreads(options_.max_threads);
    params->setMaxQueued(options_.max_queued);
    params->setTimeout(Poco::Timespan(options_.read_timeout.count() * 1000LL));
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_timeout.count() * 1000LL));
    params->setServerName("obsforge");
    impl_->pool = std::make_unique<Poco::ThreadPool>("obsforge-http", 2, options_.max_threads + 1);
    impl_->http = std::make_unique<Poco::Net::HTTPServer>(new Factory(*impl_->adapter),
                                                          *impl_->pool, socket, params);
    impl_->http->start();
    port_ = socket.address().port();
  } catch (const Poco::Exception& e) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           "cannot listen on " + options_.listen + ": " + e.displayText());
  }
  // After recovery and once the API answers: a first sync queues behind re-applies.
  if (auto gitops = impl_->gitops->Start(); !gitops.ok()) {
    Stop();
    return gitops.error();
  }
  impl_->retention = std::make_unique<Retention>(options_.retention, store_, impl_->clock, logger_);
  impl_->retention->Start();
  logger_.Info("obsforge server listening",
               {{"listen", host + ":" + std::to_string(port_)},
                {"data_dir", options_.data_dir.string()},
                {"content_dir", options_.content_dir.string()},
                {"tokens", std::to_string(impl_->tokens.entries().size())}});
  return port_;
}

void Server::Stop() {
  if (impl_ == nullptr || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  draining_ = true;
  if (impl_->http) {
    // Poco's acceptor notices a stop only when its 250 ms poll ends or a connection arrives;
    // knocking on our own port ends the wait at once.
    std::atomic<bool> stopped{false};
    std::thread knocker([&] {
      const std::string host = IsLoopback(listen_host_) ? listen_host_ : "127.0.0.1";
      while (!stopped) {
        try {
          Poco::Net::StreamSocket knock;
          knock.connect(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port_)),
                        Poco::Timespan(0, 50000));
        } catch (const Poco::Exception&) {
          // Refused once the socket is closed; retried until stop() returns.
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    impl_->http->stop();  // no new connections
    stopped = true;
    knocker.join();
  }
  if (impl_->gitops) {
    impl_->gitops->Stop();  // no sync starts new operations while the runner drains
  }
  if (impl_->retention) {
    impl_->retention->Stop();
  }
  if (impl_->runner) {
    const bool finished =
        impl_->runner->Drain(std::chrono::steady_clock::now() + options_.drain_timeout);
    if (!finished) {
      logger_.Warn("drain deadline passed with operations still running");
    }
  }
  if (impl_->http) {
    impl_->http->stopAll(true);
    impl_->pool->joinAll();
    impl_->http.reset();
  }
  impl_->runner.reset();  // joins the workers (waits for running work)
  logger_.Info("obsforge server stopped");
}

}  // namespace obsforge::server
