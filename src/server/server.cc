#include "server/server.h"

#include <thread>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnectionFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/String.h>
#include <Poco/ThreadPool.h>

#include "core/exposition.h"
#include "http/address_filter.h"
#include "server/adapter.h"
#include "server/admission.h"
#include "server/auth.h"
#include "server/console_routes.h"
#include "server/gitops_routes.h"
#include "server/health_routes.h"
#include "server/refuser.h"
#include "server/routes.h"
#include "server/secret_routes.h"

namespace obsforge::server {
namespace {

class Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(ApiAdapter& adapter, Admission& admission) : adapter_(adapter), admission_(admission) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    // A connection holds its thread for as long as it is kept alive: while others wait for a
    // thread, the answer closes it and the client's next request queues behind them.
    if (!admission_.KeepAlive()) {
      response.setKeepAlive(false);
    }
    adapter_.Handle(request, response);
  }

 private:
  ApiAdapter& adapter_;
  Admission& admission_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(ApiAdapter& adapter, Admission& admission) : adapter_(adapter), admission_(admission) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& /*request*/) override {
    return new Handler(adapter_, admission_);
  }
  // What Poco's HTTPServer::stopAll(true) tells the connections: end now.
  void StopConnections() {
    const bool abort = true;
    serverStopped(this, abort);
  }

 private:
  ApiAdapter& adapter_;
  Admission& admission_;
};

// HTTP connections, telling the admission control when a connection thread takes one from the
// queue (Poco creates the connection in the thread that dequeued it).
class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  ConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                    Admission& admission)
      : http_(std::move(params), std::move(handlers)), admission_(admission) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    admission_.OnDequeue();
    return http_.createConnection(socket);
  }

 private:
  Poco::Net::HTTPServerConnectionFactory http_;
  Admission& admission_;
};

// Runs in the accepting thread before a connection is queued: a refused one goes to the
// Refuser for its 503 (or is closed when even the refusals are behind).
class AdmissionFilter final : public Poco::Net::TCPServerConnectionFilter {
 public:
  AdmissionFilter(Admission& admission, Refuser& refuser)
      : admission_(admission), refuser_(refuser) {}
  bool accept(const Poco::Net::StreamSocket& socket) override {
    const Verdict verdict = admission_.OnAccept();
    if (verdict.admitted()) {
      return true;
    }
    if (!refuser_.Offer(socket, verdict)) {
      admission_.CountUnanswered();
    }
    return false;
  }

 private:
  Admission& admission_;
  Refuser& refuser_;
};

// Operations in /metrics: obsforge_operations_total, and obsforge_apply_duration_seconds for
// the kinds a user starts an apply with.
class OperationMetrics final : public control::OperationObserver {
 public:
  explicit OperationMetrics(Metrics& metrics) : metrics_(metrics) {}
  void OnStep(const store::Operation& /*op*/, const apply::Step& /*step*/) override {}
  void OnFinished(const store::Operation& op,
                  const control::OperationOutcome& outcome,
                  double seconds) override {
    metrics_.ObserveOperation(store::Name(op.kind), store::Name(outcome.state));
    if (op.kind == store::OperationKind::kCreate || op.kind == store::OperationKind::kUpdate ||
        op.kind == store::OperationKind::kApply || op.kind == store::OperationKind::kRollback) {
      metrics_.ObserveApply(seconds);
    }
  }

 private:
  Metrics& metrics_;
};

}  // namespace

control::ApplicationOptions ApplicationOptionsFrom(const ServerOptions& options) {
  return control::ApplicationOptions{.data_dir = options.data_dir,
                                     .content_dir = options.content_dir,
                                     .operation_workers = options.operation_workers,
                                     .gitops = options.gitops,
                                     .secret_env = options.secret_env,
                                     .gitops_broken_commit = options.gitops_broken_commit,
                                     .retention = options.retention,
                                     .trust = options.trust};
}

class Server::Impl {
 public:
  Impl(Metrics& metrics, const ServerOptions& options)
      : operation_metrics(metrics),
        own_events(options.events != nullptr
                       ? nullptr
                       : std::make_unique<console::EventBus>(console::EventBusOptions{
                             .max_clients = static_cast<std::size_t>(options.max_event_clients)})),
        events(options.events != nullptr ? *options.events : *own_events),
        event_feed(events),
        admission(AdmissionOptions{.max_queued = static_cast<std::size_t>(options.max_queued),
                                   .max_queue_wait = options.max_queue_wait},
                  clock) {}
  TokenTable tokens;
  OperationMetrics operation_metrics;
  std::unique_ptr<console::EventBus> own_events;
  console::EventBus& events;
  console::EventFeed event_feed;  // operations → events
  bool observing = false;
  core::SystemClock clock;
  Admission admission;
  Refuser refuser;
  std::unique_ptr<ApiAdapter> adapter;
  Poco::SharedPtr<Factory> handlers;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::TCPServer> http;
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
  // The parsed address, never a prefix of the text: "127.0.0.1.evil" is a host name. The
  // ranges hold IPv4 as mapped IPv6, so ::ffff:127.0.0.1 is loopback too.
  static const http::AddressFilter kLoopback(
      {http::IpRange::Parse("127.0.0.0/8").value(), http::IpRange::Parse("::1").value()}, {});
  return kLoopback.Allows(host);
}

Server::Server(ServerOptions options, control::Application& app, core::Logger& logger)
    : options_(std::move(options)),
      app_(app),
      logger_(logger),
      metrics_(std::make_unique<Metrics>(options_.version)),
      router_(std::make_unique<Router>()),
      impl_(std::make_unique<Impl>(*metrics_, options_)) {
}

Server::~Server() {
  Stop();
  if (impl_->observing) {
    app_.operations().RemoveObserver(impl_->operation_metrics);
    app_.operations().RemoveObserver(impl_->event_feed);
  }
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

  metrics_->SetStacksSource([this] {
    auto count = app_.StackCount();
    return count.ok() ? static_cast<double>(*count) : 0.0;
  });
  app_.operations().AddObserver(impl_->operation_metrics);
  app_.operations().AddObserver(impl_->event_feed);
  impl_->observing = true;
  RegisterRoutes(*router_, RouteDeps{.app = app_,
                                     .metrics = *metrics_,
                                     .version = options_.version,
                                     .draining = [this] { return draining_.load(); }});
  RegisterGitOpsRoutes(*router_, app_.gitops());
  RegisterConsoleRoutes(*router_, ConsoleDeps{.app = app_,
                                              .events = impl_->events,
                                              .version = options_.version,
                                              .tokens = impl_->tokens,
                                              .heartbeat = options_.event_heartbeat});
  if (control::StackSecrets* secrets = app_.secrets(); secrets != nullptr) {
    RegisterSecretRoutes(*router_, *secrets);
  }
  metrics_->AddCollector([&leadership = app_.leadership()] {
    core::ExpositionWriter out;
    out.Family("obsforge_leader", "gauge",
               "1 on the replica that runs the loops that must run once, 0 elsewhere.");
    out.Sample("obsforge_leader", {}, std::uint64_t{leadership.IsLeader() ? 1U : 0U});
    out.Family("obsforge_leader_changes_total", "counter",
               "Times this replica became or stopped being the leader.");
    out.Sample("obsforge_leader_changes_total", {}, leadership.Changes());
    return out.Take();
  });
  metrics_->AddCollector([&admission = impl_->admission] { return admission.MetricsText(); });
  if (control::HealthRuntime* health = app_.health(); health != nullptr) {
    RegisterHealthRoutes(*router_, app_);
    metrics_->AddCollector([health] { return health->monitor().MetricsText(); });
  }

  if (auto started = app_.Start(); !started.ok()) {
    return started.error();
  }

  impl_->adapter = std::make_unique<ApiAdapter>(
      *router_, impl_->tokens, *metrics_, logger_,
      AdapterOptions{.body_limit = options_.body_limit,
                     .write_timeout_ms = static_cast<int>(options_.write_timeout.count())});
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)),
                                   128);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.max_threads);
    // The admission control refuses beyond max_queued itself (with a 503); Poco's own limit,
    // which closes connections unanswered, is never reached.
    params->setMaxQueued(options_.max_queued + 1);
    params->setTimeout(Poco::Timespan(options_.read_timeout.count() * 1000LL));
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(options_.max_keep_alive_requests);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keep_alive_timeout.count() * 1000LL));
    params->setServerName("obsforge");
    impl_->pool = std::make_unique<Poco::ThreadPool>("obsforge-http", 2, options_.max_threads + 1);
    impl_->handlers = new Factory(*impl_->adapter, impl_->admission);
    impl_->http = std::make_unique<Poco::Net::TCPServer>(
        new ConnectionFactory(params, impl_->handlers, impl_->admission), *impl_->pool, socket,
        params);
    impl_->http->setConnectionFilter(new AdmissionFilter(impl_->admission, impl_->refuser));
    impl_->http->start();
    port_ = socket.address().port();
  } catch (const Poco::Exception& e) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           "cannot listen on " + options_.listen + ": " + e.displayText());
  }
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
  impl_->events.Close();  // event streams end, their connection threads come free
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
  impl_->refuser.Stop();
  app_.Stop(std::chrono::steady_clock::now() + options_.drain_timeout);
  if (impl_->http) {
    impl_->http->stop();
    impl_->handlers->StopConnections();
    impl_->pool->joinAll();
    impl_->http.reset();
  }
  logger_.Info("obsforge server stopped");
}

}  // namespace obsforge::server
